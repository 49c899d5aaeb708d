/* The VMM as a whole (vmm_run): configuration errors, the honest refusal,
 * and — on this machine's real /dev/kvm, with the override — whole runs of
 * tiny PVH guests (tests/guests): the guest's own fate, the deadline, a
 * stop request, several vCPUs, and no fd or thread left behind after many
 * runs in one process. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vm/vmm/vmm.h"

static char tmp[] = "/tmp/hull-vmm-XXXXXX";
static char pvh[600], spin[600];

static int count_dir(const char *path) {
    DIR *d = opendir(path);
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static long ms_since(const struct timespec *a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static struct vmm_config base(const char *kernel, int serial_fd) {
    return (struct vmm_config){ .mem_bytes = 16u << 20, .vcpus = 1, .kernel = kernel, .cmdline = "",
                                .serial_fd = serial_fd, .stop_fd = -1, .allow_slow_kvm = true };
}

static void test_config_errors(void) {
    struct hull_err err = {0};
    struct vmm_config c = base("/nonexistent/kernel", -1);
    c.vcpus = 0;
    is_int(vmm_run(&c, &err), -EINVAL, "0 vCPUs refused");
    like(err.msg, "vCPUs", "says what");
    c = base("/nonexistent/kernel", -1);
    c.mem_bytes = 1u << 20;
    is_int(vmm_run(&c, &err), -EINVAL, "1 MiB of RAM refused");
    c = base(NULL, -1);
    is_int(vmm_run(&c, &err), -EINVAL, "no kernel refused");
    c = base("/nonexistent/kernel", -1);
    c.nports = 1;
    c.port[0] = (struct vmm_port){ NULL, -1, -1 };
    is_int(vmm_run(&c, &err), -EINVAL, "a port without a name refused");
    c = base("/nonexistent/kernel", -1);
    c.allow_slow_kvm = false;
    if (access("/sys/module/kvm_pvm", F_OK) == 0) {
        is_int(vmm_run(&c, &err), -ENOTSUP, "this host's kvm_pvm: refused without the override");
        like(err.msg, "kvm_pvm", "the message names the backend");
    } else {
        skip("not a kvm_pvm host");
        skip("not a kvm_pvm host");
    }
}

static void test_build_errors(void) {
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        skip("/dev/kvm not accessible");
        return;
    }
    struct hull_err err = {0};
    int fds = count_dir("/proc/self/fd");
    struct vmm_config c = base("/nonexistent/kernel", -1);
    int rc = vmm_run(&c, &err);
    ok(rc < 0 && strstr(err.msg, "/nonexistent/kernel"), "missing kernel: error names it (%s)", err.msg);
    c = base(pvh, -1);
    c.ndisks = 1;
    c.disk[0] = (struct vmm_disk){ "/nonexistent/disk.img", true };
    rc = vmm_run(&c, &err);
    ok(rc < 0 && strstr(err.msg, "/nonexistent/disk.img"), "missing disk: error names it (%s)", err.msg);
    is_int(count_dir("/proc/self/fd"), fds, "failed builds leave no fd behind");
}

/* Runs one VM with the serial output captured; returns the fate. */
static int run(struct vmm_config *c, char *out, size_t n, long *ms, struct hull_err *err) {
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    c->serial_fd = p[1];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = vmm_run(c, err);
    *ms = ms_since(&t0);
    ssize_t r = read(p[0], out, n - 1);
    out[r > 0 ? r : 0] = '\0';
    close(p[0]);
    close(p[1]);
    return rc;
}

static void *write_later(void *arg) {
    usleep(200 * 1000);
    if (write(*(int *)arg, "x", 1) != 1)
        perror("write");
    return NULL;
}

static void test_runs(void) {
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        skip("tier 2: /dev/kvm not accessible");
        return;
    }
    struct hull_err err = {0};
    char out[256];
    long ms;

    /* The PVH check guest wants exactly 4 MiB (the VMM's minimum is 16):
     * it reports the memory map it got and ends through pvpanic. */
    struct vmm_config c = base(pvh, -1);
    int rc = run(&c, out, sizeof(out), &ms, &err);
    is_int(rc, VM_FATE_PANIC, "PVH guest booted by vmm_run, ended by its own pvpanic (%ld ms)%s%s", ms,
           rc < 0 ? ": " : "", rc < 0 ? err.msg : "");
    is_str(out, "PVH FAIL C\n", "its serial output: the memory map differs from its 4 MiB expectation, as it should");
    is_int(vmm_fate_exit_code(VM_FATE_PANIC), 84, "panic exits 84");

    c = base(spin, -1);
    c.timeout_ms = 300;
    rc = run(&c, out, sizeof(out), &ms, &err);
    is_int(rc, VM_FATE_TIMEOUT, "spinning guest: the deadline ends it");
    ok(ms >= 290 && ms < 3000, "after about 300 ms (%ld ms)", ms);
    is_str(out, "SPIN\n", "the guest ran before that");

    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    c = base(spin, -1);
    c.stop_fd = p[0];
    c.timeout_ms = 10000;
    pthread_t t;
    pthread_create(&t, NULL, write_later, &p[1]);
    rc = run(&c, out, sizeof(out), &ms, &err);
    pthread_join(t, NULL);
    is_int(rc, VM_FATE_KILLED, "stop fd readable: the VM is stopped by the host (%ld ms)", ms);
    ok(ms < 5000, "promptly");
    close(p[0]);
    close(p[1]);

    c = base(spin, -1);
    c.vcpus = 4;
    c.timeout_ms = 300;
    rc = run(&c, out, sizeof(out), &ms, &err);
    is_int(rc, VM_FATE_TIMEOUT, "4 vCPUs (3 waiting for SIPI in the kernel): every thread stopped (%ld ms)", ms);

    int fds = count_dir("/proc/self/fd"), threads = count_dir("/proc/self/task");
    int bad = 0;
    for (int i = 0; i < 20; i++) {
        c = base(i % 2 ? spin : pvh, -1);
        c.vcpus = 1 + i % 3;
        c.timeout_ms = 50;
        if (run(&c, out, sizeof(out), &ms, &err) <= 0)
            bad++;
    }
    is_int(bad, 0, "20 more runs, each ended with a fate");
    is_int(count_dir("/proc/self/fd"), fds, "no fd left behind");
    is_int(count_dir("/proc/self/task"), threads, "no thread left behind");
}

int main(void) {
    if (!mkdtemp(tmp))
        bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    const char *src = getenv("HULL_SRC") ? getenv("HULL_SRC") : ".";
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "sh %s/tests/guests/build.sh %s/guests >/dev/null 2>&1", src, tmp);
    snprintf(pvh, sizeof(pvh), "%s/guests/pvh32.elf", tmp);
    snprintf(spin, sizeof(spin), "%s/guests/spin32.elf", tmp);
    bool guests = system(cmd) == 0 && access(spin, R_OK) == 0;
    test_config_errors();
    if (guests) {
        test_build_errors();
        test_runs();
    } else {
        skip("tier 2: cannot build tests/guests (binutils missing? run from the source tree or set HULL_SRC)");
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    if (system(cmd) != 0)
        diag("could not remove %s", tmp);
    return done_testing();
}
