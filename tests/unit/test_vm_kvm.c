/* KVM plumbing: the honest refusal (with fixtures and on this host), then
 * tier 2: a freestanding real-mode guest (tests/guests/hello16.S) on the
 * real /dev/kvm, printing on COM1 and ending the VM four different ways. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vm/devices/legacy/i8042.h"
#include "vm/core/kvm.h"
#include "tests/lib/kvm_testlib.h"
#include "vm/devices/legacy/uart8250.h"
#include "vm/devices/legacy/pm.h"

static char tmp[] = "/tmp/hull-vmkvm-XXXXXX";

static const char *fixture(const char *name, const char *content) {
    static char path[4][256];
    static int n;
    char *p = path[n++ % 4];
    snprintf(p, 256, "%s/%s", tmp, name);
    FILE *f = fopen(p, "w");
    fputs(content, f);
    fclose(f);
    return p;
}

static void test_refusal(void) {
    struct hull_err err;
    char nosys[300];
    snprintf(nosys, sizeof(nosys), "%s/nosys", tmp);
    struct kvm_host_paths hw = { fixture("cpu-vmx", "processor : 0\nflags : fpu vme vmx sse\n"),
                                 fixture("mod-none", "kvm_intel 1 0 - Live 0x0\nkvm 2 1 kvm_intel, Live 0x0\n"), nosys };
    is_int(kvm_check_host(&hw, false, &err), 0, "vmx and no kvm_pvm: accepted");
    struct kvm_host_paths novirt = { fixture("cpu-none", "flags : fpu vme sse vmxx\n"), hw.modules, nosys };
    is_int(kvm_check_host(&novirt, false, &err), -ENOTSUP, "no vmx/svm (vmxx is not vmx): refused");
    like(err.msg, "neither vmx nor svm", "says why");
    struct kvm_host_paths pvm = { hw.cpuinfo, fixture("mod-pvm", "kvm_pvm 1 0 - Live 0x0\n"), nosys };
    is_int(kvm_check_host(&pvm, false, &err), -ENOTSUP, "kvm_pvm module: refused even with vmx listed");
    like(err.msg, "kvm_pvm", "names the backend");
    is_int(kvm_check_host(&pvm, true, &err), 0, "override: allowed");

    int rc = kvm_check_host(NULL, false, &err);
    bool pvm_here = access("/sys/module/kvm_pvm", F_OK) == 0;
    if (pvm_here)
        ok(rc == -ENOTSUP && strstr(err.msg, "kvm_pvm"), "this host (kvm_pvm) is refused honestly");
    else
        diag("this host: %s", rc ? err.msg : "accepted");
}

struct run_result {
    int fate;
    char out[128];
    long us;
};

static int run_guest(const uint8_t *code, size_t len, uint8_t mode, struct run_result *res, struct hull_err *err) {
    struct vm_mem mem;
    struct kvm_vm vm;
    struct uart8250 uart;
    struct i8042 kbd;
    struct vm_pm pm;
    int pipefd[2];
    int rc;
    vm_mem_init(&mem);
    if (pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) < 0)
        return hull_err_sys(err, "pipe");
    if ((rc = vm_mem_add(&mem, 0, 0x10000, 0, err)) < 0)
        goto out_pipe;
    vm_mem_write(&mem, 0x1000, code, len);
    vm_mem_write(&mem, 0x0ff0, &mode, 1);
    if ((rc = kvm_vm_create(&vm, err)) < 0)
        goto out_mem;
    uart8250_init(&uart, pipefd[1], kvm_vm_irq_line, &vm, UART_COM1_IRQ);
    kbd.sink = (struct vm_fate_sink){ kvm_vm_request_fate, &vm };
    pm.sink = kbd.sink;
    struct kvm_vcpu *c;
    if ((rc = kvm_vm_set_memory(&vm, &mem, err)) < 0 ||
        (rc = vm_bus_add(&vm.pio, UART_COM1_BASE, 8, uart8250_io, &uart, err)) < 0 ||
        (rc = vm_bus_add(&vm.pio, I8042_DATA_PORT, 1, i8042_data_io, &kbd, err)) < 0 ||
        (rc = vm_bus_add(&vm.pio, I8042_CMD_PORT, 1, i8042_cmd_io, &kbd, err)) < 0 ||
        (rc = vm_bus_add(&vm.pio, VM_PVPANIC_PORT, 1, vm_pm_pvpanic_io, &pm, err)) < 0 ||
        (rc = vm_bus_add(&vm.pio, VM_PM_CNT_PORT, 2, vm_pm_cnt_io, &pm, err)) < 0 ||
        (rc = kvm_vcpu_create(&vm, &c, err)) < 0 || (rc = kvm_vcpu_set_real_mode(c, 0, 0x1000, err)) < 0)
        goto out_vm;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = kvm_vcpu_run(c, err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    res->us = (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000;
    res->fate = rc;
    ssize_t n = read(pipefd[0], res->out, sizeof(res->out) - 1);
    res->out[n > 0 ? n : 0] = '\0';
    rc = rc < 0 ? rc : 0;
out_vm:
    kvm_vm_destroy(&vm);
    uart8250_destroy(&uart);
out_mem:
    vm_mem_free(&mem);
out_pipe:
    close(pipefd[0]);
    close(pipefd[1]);
    return rc;
}

static void test_guest(void) {
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        skip("tier 2: /dev/kvm not accessible");
        return;
    }
    const char *src = getenv("HULL_SRC") ? getenv("HULL_SRC") : ".";
    char cmd[1024], bin[512];
    snprintf(cmd, sizeof(cmd), "sh %s/tests/guests/build.sh %s/guests >/dev/null 2>&1", src, tmp);
    snprintf(bin, sizeof(bin), "%s/guests/hello16.bin", tmp);
    uint8_t code[4096];
    FILE *f = system(cmd) == 0 ? fopen(bin, "rb") : NULL;
    if (!f) {
        skip("tier 2: cannot build tests/guests (binutils missing? run from the source tree or set HULL_SRC)");
        return;
    }
    size_t len = fread(code, 1, sizeof(code), f);
    fclose(f);

    static const struct { uint8_t mode; int fate; const char *name; } cases[] = {
        { 0, VM_FATE_RESET, "i8042 reset" },
        { 1, VM_FATE_PANIC, "pvpanic" },
        { 2, VM_FATE_POWEROFF, "PM1a S5 power-off" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run_result r = {0};
        struct hull_err err;
        int rc = run_guest(code, len, cases[i].mode, &r, &err);
        if (rc < 0) {
            ok(0, "tier 2 (%s): %s", cases[i].name, err.msg);
            continue;
        }
        is_int(r.fate, cases[i].fate, "tier 2: guest ends with %s -> %s (%ld us)", cases[i].name,
               vm_fate_name((enum vm_fate)cases[i].fate), r.us);
        is_str(r.out, "hello from the hull test guest\n", "tier 2: serial output intact (%s)", cases[i].name);
    }
}

int main(void) {
    if (!mkdtemp(tmp))
        bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    test_refusal();
    test_guest();
    char rm[1100];
    snprintf(rm, sizeof(rm), "rm -rf %s", tmp);
    if (system(rm) != 0)
        diag("could not remove %s", tmp);
    return done_testing();
}
