/* hull vmm: boot a kernel in a microVM by hand — the engine without the
 * container around it (what firecracker --no-api is to its users). Used by
 * the nested-VM tests and for debugging guests; exits with the guest's fate:
 * 0 power-off, 81 reset, 82 triple fault, 83 VMM crash, 84 guest panic,
 * 85 timeout, 86 stopped by a signal. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cli.h"
#include "vm-shim/boot.h"
#include "vm-shim/vmm.h"

static void usage(FILE *f) {
    fprintf(f, "usage: hull vmm [options]\n"
               "  --kernel PATH          bzImage or ELF vmlinux (default: newest /boot/vmlinuz-*, booted\n"
               "                         through PVH from its extracted, cached vmlinux)\n"
               "  --initrd PATH          initramfs\n"
               "  --cmdline STRING       kernel command line\n"
               "  --mem SIZE             guest RAM, e.g. 256M, 1G (default 256M)\n"
               "  --cpus N               vCPUs (default 1)\n"
               "  --disk PATH[,ro]       a virtio-blk disk (repeatable)\n"
               "  --port NAME[,in=PATH][,out=PATH]  a named virtio-console port; PATH '-' is stdin/stdout\n"
               "  --rng                  a virtio-rng device\n"
               "  --serial               kernel console (COM1 and hvc0) on stderr\n"
               "  --timeout SECONDS      stop the VM after this long (exit 85)\n"
               "  --hugepages            back RAM with 2 MiB pages\n"
               "  --allow-slow-kvm       run even on a /dev/kvm without hardware virtualisation\n");
}

static bool parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return false;
    unsigned sh = 0;
    switch (*end) {
    case 'k': case 'K': sh = 10; end++; break;
    case 'm': case 'M': sh = 20; end++; break;
    case 'g': case 'G': sh = 30; end++; break;
    case '\0': break;
    default: return false;
    }
    if (*end || v > (UINT64_MAX >> sh))
        return false;
    *out = (uint64_t)v << sh;
    return true;
}

static int open_path(const char *p, bool out) {
    if (strcmp(p, "-") == 0)
        return dup(out ? STDOUT_FILENO : STDIN_FILENO);
    return out ? open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : open(p, O_RDONLY | O_CLOEXEC);
}

/* NAME[,in=PATH][,out=PATH] */
static int parse_port(char *spec, struct vmm_port *p) {
    char *save = NULL;
    p->name = strtok_r(spec, ",", &save);
    p->in_fd = p->out_fd = -1;
    if (!p->name || !*p->name)
        return cli_usage_error("vmm", "--port: a name is needed");
    for (char *kv = strtok_r(NULL, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        bool in = strncmp(kv, "in=", 3) == 0, out = strncmp(kv, "out=", 4) == 0;
        if (!in && !out)
            return cli_usage_error("vmm", "--port %s: unknown option \"%s\" (in=PATH, out=PATH)", p->name, kv);
        int *fd = in ? &p->in_fd : &p->out_fd;
        const char *path = kv + (in ? 3 : 4);
        if (*fd >= 0)
            close(*fd);
        if ((*fd = open_path(path, out)) < 0) {
            fprintf(stderr, "hull: vmm: --port %s: %s: %s\n", p->name, path, strerror(errno));
            return 1;
        }
    }
    return 0;
}

enum { O_KERNEL = 256, O_INITRD, O_CMDLINE, O_MEM, O_CPUS, O_DISK, O_PORT, O_RNG, O_SERIAL, O_TIMEOUT, O_HUGE, O_SLOW };

int verb_vmm(int argc, char **argv) {
    static const struct option opts[] = {
        {"kernel", required_argument, NULL, O_KERNEL}, {"initrd", required_argument, NULL, O_INITRD},
        {"cmdline", required_argument, NULL, O_CMDLINE}, {"mem", required_argument, NULL, O_MEM},
        {"cpus", required_argument, NULL, O_CPUS}, {"disk", required_argument, NULL, O_DISK},
        {"port", required_argument, NULL, O_PORT}, {"rng", no_argument, NULL, O_RNG},
        {"serial", no_argument, NULL, O_SERIAL}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"hugepages", no_argument, NULL, O_HUGE}, {"allow-slow-kvm", no_argument, NULL, O_SLOW},
        {"help", no_argument, NULL, 'h'}, {0},
    };
    struct vmm_config c = { .mem_bytes = 256ull << 20, .vcpus = 1, .serial_fd = -1, .stop_fd = -1, .cmdline = "" };
    int rc = 1, opt, n;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (opt) {
        case O_KERNEL: c.kernel = optarg; break;
        case O_INITRD: c.initrd = optarg; break;
        case O_CMDLINE: c.cmdline = optarg; break;
        case O_MEM:
            if (!parse_size(optarg, &c.mem_bytes))
                return cli_usage_error("vmm", "--mem %s: not a size (e.g. 256M)", optarg);
            break;
        case O_CPUS:
            if (!cli_parse_int(optarg, &n) || n < 1)
                return cli_usage_error("vmm", "--cpus %s: not a positive number", optarg);
            c.vcpus = (unsigned)n;
            break;
        case O_DISK: {
            if (c.ndisks == VMM_MAX_DISKS)
                return cli_usage_error("vmm", "--disk: at most %d", VMM_MAX_DISKS);
            char *comma = strchr(optarg, ',');
            if (comma && strcmp(comma, ",ro") != 0)
                return cli_usage_error("vmm", "--disk %s: the only option is \",ro\"", optarg);
            if (comma)
                *comma = '\0';
            c.disk[c.ndisks++] = (struct vmm_disk){ optarg, comma != NULL };
            break;
        }
        case O_PORT:
            if (c.nports == VMM_MAX_PORTS)
                return cli_usage_error("vmm", "--port: at most %d", VMM_MAX_PORTS);
            if (parse_port(optarg, &c.port[c.nports++]))
                goto out;
            break;
        case O_RNG: c.rng = true; break;
        case O_SERIAL: c.serial_fd = STDERR_FILENO; break;
        case O_TIMEOUT:
            if (!cli_parse_int(optarg, &n) || n < 1 || n > 86400)
                return cli_usage_error("vmm", "--timeout %s: seconds between 1 and 86400", optarg);
            c.timeout_ms = (unsigned)n * 1000;
            break;
        case O_HUGE: c.hugepages = true; break;
        case O_SLOW: c.allow_slow_kvm = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc)
        return cli_usage_error("vmm", "unexpected argument \"%s\"", argv[optind]);

    struct hull_err err = {0};
    char kernel[4096];
    if (!c.kernel) {
        char bz[4096], cache[4096];
        snprintf(cache, sizeof(cache), "%s/vm/kernels", cli_data_root());
        if (kernel_default_path(bz, sizeof(bz), &err) < 0 ||
            kernel_cache_vmlinux(bz, cache, kernel, sizeof(kernel), &err) < 0) {
            rc = cli_fail(&err);
            goto out;
        }
        c.kernel = kernel;
    }
    /* SIGPIPE: console output to a reader that left is dropped, the guest
     * goes on. SIGTERM/SIGINT/SIGHUP stop the VM through the stop fd. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    c.stop_fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    if (c.stop_fd < 0) {
        err.code = errno;
        snprintf(err.msg, sizeof(err.msg), "vmm: signalfd: %s", strerror(errno));
        rc = cli_fail(&err);
        goto out;
    }
    int fate = vmm_run(&c, &err);
    if (fate < 0) {
        rc = cli_fail(&err);
        goto out;
    }
    if (fate != VM_FATE_POWEROFF) {
        if (fate == VM_FATE_CRASH && err.msg[0])
            fprintf(stderr, "hull: vmm: the VM crashed: %s\n", err.msg);
        else
            fprintf(stderr, "hull: vmm: the VM ended with %s\n", vm_fate_name((enum vm_fate)fate));
    }
    rc = vmm_fate_exit_code((enum vm_fate)fate);
out:
    for (unsigned i = 0; i < c.nports; i++) {
        if (c.port[i].in_fd >= 0)
            close(c.port[i].in_fd);
        if (c.port[i].out_fd >= 0)
            close(c.port[i].out_fd);
    }
    if (c.stop_fd >= 0)
        close(c.stop_fd);
    return rc;
}
