/* Tier 2 of the x86 boot: tiny freestanding guests (tests/guests/pvh32.S,
 * bz64.S) loaded by hull's own loader (boot_load) and started by
 * boot_setup_bsp on the real /dev/kvm. Each guest checks its hand-off
 * (start_info or zero page, memory map, initrd, cmdline, CPU mode) and
 * reports on COM1; it ends the VM with an i8042 reset when every check
 * passed and with pvpanic when one failed. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vm/boot/boot.h"
#include "vm/devices/legacy/i8042.h"
#include "vm/core/kvm.h"
#include "vm/devices/legacy/uart8250.h"
#include "vm/devices/legacy/pm.h"

static char tmp[] = "/tmp/hull-vmboot2-XXXXXX";

struct run_result {
    int fate;
    char out[128];
    long us;
    struct boot_entry entry;
};

static int run(const struct boot_config *bc, struct run_result *res, struct hull_err *err) {
    struct vm_mem mem;
    struct kvm_vm vm;
    struct uart8250 uart;
    struct i8042 kbd;
    struct vm_pm pm;
    int pipefd[2], rc;
    vm_mem_init(&mem);
    memset(&vm, 0, sizeof(vm));
    vm.kvm_fd = vm.vm_fd = -1;
    if (pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) < 0)
        return hull_err_sys(err, "pipe");
    uart8250_init(&uart, pipefd[1], NULL, NULL, UART_COM1_IRQ);
    if ((rc = vm_mem_add(&mem, 0, 4u << 20, 0, err)) < 0 || (rc = boot_load(&mem, bc, &res->entry, err)) < 0 ||
        (rc = kvm_vm_create(&vm, err)) < 0)
        goto out;
    kbd.sink = (struct vm_fate_sink){ kvm_vm_request_fate, &vm };
    pm.sink = kbd.sink;
    struct kvm_vcpu *c;
    if ((rc = kvm_vm_set_memory(&vm, &mem, err)) < 0 ||
        (rc = vm_bus_add(&vm.pio, UART_COM1_BASE, 8, uart8250_io, &uart, err)) < 0 ||
        (rc = vm_bus_add(&vm.pio, I8042_DATA_PORT, 1, i8042_data_io, &kbd, err)) < 0 ||
        (rc = vm_bus_add(&vm.pio, I8042_CMD_PORT, 1, i8042_cmd_io, &kbd, err)) < 0 ||
        (rc = vm_bus_add(&vm.pio, VM_PVPANIC_PORT, 1, vm_pm_pvpanic_io, &pm, err)) < 0 ||
        (rc = kvm_vcpu_create(&vm, &c, err)) < 0 || (rc = boot_setup_bsp(c, &res->entry, err)) < 0)
        goto out;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = kvm_vcpu_run(c, err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    res->us = (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000;
    res->fate = rc;
    ssize_t n = read(pipefd[0], res->out, sizeof(res->out) - 1);
    res->out[n > 0 ? n : 0] = '\0';
    rc = rc < 0 ? rc : 0;
out:
    kvm_vm_destroy(&vm);
    uart8250_destroy(&uart);
    vm_mem_free(&mem);
    close(pipefd[0]);
    close(pipefd[1]);
    return rc;
}

static void guest(const char *name, const char *kernel, const char *initrd, const char *cmdline,
                  const char *want_out) {
    struct boot_config bc = { .kernel = kernel, .initrd = initrd, .cmdline = cmdline, .nvcpus = 1 };
    struct run_result r = {0};
    struct hull_err err = {0};
    alarm(30);   /* a guest that hangs fails the test instead of blocking prove */
    int rc = run(&bc, &r, &err);
    alarm(0);
    if (rc < 0) {
        ok(0, "%s: %s", name, err.msg);
        skip("no output");
        return;
    }
    is_int(r.fate, VM_FATE_RESET, "%s: guest checked its hand-off and reset (%s, %ld us in KVM_RUN)", name,
           vm_fate_name((enum vm_fate)r.fate), r.us);
    is_str(r.out, want_out, "%s: serial output", name);
}

/* A wrong cmdline must make the guest fail (the checks can fail). */
static void negative(const char *kernel, const char *initrd) {
    struct boot_config bc = { .kernel = kernel, .initrd = initrd, .cmdline = "console=ttyS0 hull.test=pvX",
                              .nvcpus = 1 };
    struct run_result r = {0};
    struct hull_err err = {0};
    alarm(30);
    int rc = run(&bc, &r, &err);
    alarm(0);
    r.out[strcspn(r.out, "\n")] = '\0';
    ok(rc == 0 && r.fate == VM_FATE_PANIC && strcmp(r.out, "PVH FAIL E") == 0,
       "PVH guest with a wrong cmdline reports check E failed and panics (fate %s, \"%s\")",
       rc == 0 ? vm_fate_name((enum vm_fate)r.fate) : err.msg, r.out);
}

static uint32_t lvt(struct kvm_vcpu *c, unsigned reg) {
    struct kvm_lapic_state l;
    uint32_t v = 0xdeadbeef;
    if (ioctl(c->fd, KVM_GET_LAPIC, &l) == 0)
        memcpy(&v, &l.regs[reg], 4);
    return v;
}

/* The state boot_setup_bsp/ap leave in KVM, read back through the API. */
static void cpu_state(const char *kernel, bool lm) {
    struct vm_mem mem;
    struct kvm_vm vm;
    struct hull_err err = {0};
    struct boot_config bc = { .kernel = kernel, .nvcpus = 2 };
    struct boot_entry e;
    struct kvm_vcpu *bsp = NULL, *ap = NULL;
    const char *what = lm ? "64-bit" : "PVH";
    vm_mem_init(&mem);
    int rc = vm_mem_add(&mem, 0, 4u << 20, 0, &err);
    if (rc == 0)
        rc = boot_load(&mem, &bc, &e, &err);
    if (rc == 0)
        rc = kvm_vm_create(&vm, &err);
    if (rc < 0) {
        ok(0, "%s cpu state: %s", what, err.msg);
        vm_mem_free(&mem);
        return;
    }
    if ((rc = kvm_vm_set_memory(&vm, &mem, &err)) == 0 && (rc = kvm_vcpu_create(&vm, &bsp, &err)) == 0 &&
        (rc = kvm_vcpu_create(&vm, &ap, &err)) == 0 && (rc = boot_setup_bsp(bsp, &e, &err)) == 0)
        rc = boot_setup_ap(ap, &err);
    ok(rc == 0, "%s: boot_setup_bsp and boot_setup_ap accepted by KVM%s%s", what, rc ? ": " : "", rc ? err.msg : "");
    if (rc == 0) {
        struct kvm_sregs sr;
        struct kvm_regs r;
        struct kvm_fpu fpu;
        ioctl(bsp->fd, KVM_GET_SREGS, &sr);
        ioctl(bsp->fd, KVM_GET_REGS, &r);
        ioctl(bsp->fd, KVM_GET_FPU, &fpu);
        if (lm) {
            ok((sr.efer & 0x500) == 0x500 && (sr.cr0 & 0x80000001) == 0x80000001 && (sr.cr4 & 0x20) &&
               sr.cr3 == BOOT_PML4_ADDR, "64-bit: EFER.LME|LMA, CR0.PG|PE, CR4.PAE, CR3 = page tables");
            ok(sr.cs.selector == BOOT_SEL_CS && sr.cs.l == 1 && sr.cs.db == 0 && sr.ds.selector == BOOT_SEL_DS &&
               sr.ss.selector == BOOT_SEL_DS, "64-bit: CS = __BOOT_CS (L=1), DS = SS = __BOOT_DS");
            ok(r.rsi == e.info && r.rip == e.entry, "64-bit: RIP = load + 0x200, RSI = zero page");
        } else {
            ok(sr.efer == 0 && (sr.cr0 & 0x80000001) == 1 && sr.cr4 == 0, "PVH: protected mode, paging off, CR4 0");
            ok(sr.cs.db == 1 && sr.cs.l == 0 && sr.cs.base == 0 && sr.cs.limit == 0xffffffff && sr.ds.limit == 0xffffffff &&
               sr.tr.limit == 0x67 && sr.tr.type == 11, "PVH: flat 32-bit CS/DS, busy TSS of 0x67 bytes");
            ok(r.rbx == e.info && r.rip == e.entry, "PVH: RIP = note entry, EBX = start_info");
        }
        ok(!(r.rflags & 0x200) && sr.gdt.base == BOOT_GDT_ADDR && sr.gdt.limit == 47, "%s: IF clear, boot GDT", what);
        is_int(fpu.fcw, 0x37f, "%s: FPU control word", what);
        /* KVM_GET_FPU does not report MXCSR; the XSAVE legacy area does (offset 24). */
        struct kvm_xsave xs;
        uint32_t mxcsr = 0;
        if (ioctl(bsp->fd, KVM_GET_XSAVE, &xs) == 0)
            mxcsr = xs.region[6];
        is_int(mxcsr, 0x1f80, "%s: MXCSR (from KVM_GET_XSAVE)", what);
        struct { struct kvm_msrs h; struct kvm_msr_entry e[2]; } m = { .h.nmsrs = 2, .e = { { .index = 0x1a0 }, { .index = 0x2ff } } };
        ok(ioctl(ap->fd, KVM_GET_MSRS, &m) == 2 && (m.e[0].data & 1) && m.e[1].data == 0x806,
           "%s: AP MSRs: fast strings, MTRRs on with write-back default", what);
        if (vm.irqchip) {
            is_int(lvt(bsp, 0x350), 0x700, "%s: BSP LINT0 = ExtINT, unmasked", what);
            is_int(lvt(ap, 0x350), 0x10700, "%s: AP LINT0 = ExtINT, masked", what);
            ok(lvt(bsp, 0x360) == 0x400 && lvt(ap, 0x360) == 0x400, "%s: LINT1 = NMI on both", what);
            struct kvm_mp_state mp;
            ok(ioctl(ap->fd, KVM_GET_MP_STATE, &mp) == 0 && mp.mp_state == KVM_MP_STATE_UNINITIALIZED,
               "%s: the AP waits for INIT/SIPI", what);
        } else {
            skip("no in-kernel irqchip: LAPIC not checked");
        }
    }
    kvm_vm_destroy(&vm);
    vm_mem_free(&mem);
}

int main(void) {
    if (!mkdtemp(tmp))
        bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        skip("tier 2: /dev/kvm not accessible");
        goto done;
    }
    const char *src = getenv("HULL_SRC") ? getenv("HULL_SRC") : ".";
    char cmd[1024], pvh[512], bz[512], rd[512];
    snprintf(cmd, sizeof(cmd), "sh %s/tests/guests/build.sh %s/guests >/dev/null 2>&1", src, tmp);
    snprintf(pvh, sizeof(pvh), "%s/guests/pvh32.elf", tmp);
    snprintf(bz, sizeof(bz), "%s/guests/bz64.bin", tmp);
    snprintf(rd, sizeof(rd), "%s/initrd", tmp);
    if (system(cmd) != 0 || access(pvh, R_OK) || access(bz, R_OK)) {
        skip("tier 2: cannot build tests/guests (binutils missing? run from the source tree or set HULL_SRC)");
        goto done;
    }
    uint8_t page[4096] = "INRD";
    FILE *f = fopen(rd, "wb");
    if (!f || fwrite(page, 1, sizeof(page), f) != sizeof(page) || fclose(f) != 0)
        bail_out("fixture: cannot write the test initrd %s: %s", rd, strerror(errno));

    guest("PVH (32-bit entry, ELF note)", pvh, rd, "console=ttyS0 hull.test=pvh", "PVH OK\n");
    guest("bzImage (64-bit boot protocol)", bz, rd, "console=ttyS0 hull.test=linux64", "LINUX64 OK\n");
    negative(pvh, rd);
    cpu_state(bz, true);
    cpu_state(pvh, false);
done:
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    if (system(cmd) != 0)
        diag("could not remove %s", tmp);
    return done_testing();
}
