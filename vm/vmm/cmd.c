/* The VMM command line, shared by `hull vmm` (after it resolved the default
 * kernel) and the small hull-vmm binary that runs a VM in its own lean
 * process: parses the options, runs vmm_run, exits with the guest's fate:
 * 0 power-off, 81 reset, 82 triple fault, 83 VMM crash, 84 guest panic,
 * 85 timeout, 86 stopped by a signal. Self-contained (no cli/main.c), so
 * hull-vmm links only the VMM and none of hull's image/crypto libraries. */
#include <fcntl.h>
#include <stdarg.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vm/vmm/cmd.h"
#include "vm/vmm/link.h"
#include "vm/vmm/vmm.h"

void vmm_cmd_usage(FILE *f) {
    fprintf(f, "usage: hull vmm [options]\n"
               "  --kernel PATH          bzImage or ELF vmlinux (hull vmm: default the newest\n"
               "                         /boot/vmlinuz-*, booted through PVH from its cached vmlinux)\n"
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
               "  --allow-slow-kvm       run even on a /dev/kvm without hardware virtualisation\n"
               "  --link FD              a microVM container's VMM (vm/vmm/link.h; PATH may be fd:N)\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("hull: vmm: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

static bool parse_uint(const char *s, unsigned max, unsigned *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return false;
    *out = (unsigned)v;
    return true;
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
    if (strncmp(p, "fd:", 3) == 0) {   /* an inherited fd (the microVM executor's channels) */
        unsigned fd;
        if (!parse_uint(p + 3, 65535, &fd) || fd < 3) {
            errno = EBADF;
            return -1;
        }
        return fcntl((int)fd, F_DUPFD_CLOEXEC, 3);
    }
    return out ? open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : open(p, O_RDONLY | O_CLOEXEC);
}

/* NAME[,in=PATH][,out=PATH] */
static int parse_port(char *spec, struct vmm_port *p) {
    char *save = NULL;
    p->name = strtok_r(spec, ",", &save);
    p->in_fd = p->out_fd = -1;
    if (!p->name || !*p->name)
        return usage_error("--port: a name is needed");
    for (char *kv = strtok_r(NULL, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        bool in = strncmp(kv, "in=", 3) == 0, out = strncmp(kv, "out=", 4) == 0;
        if (!in && !out)
            return usage_error("--port %s: unknown option \"%s\" (in=PATH, out=PATH)", p->name, kv);
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

enum { O_KERNEL = 256, O_INITRD, O_CMDLINE, O_MEM, O_CPUS, O_DISK, O_PORT, O_RNG, O_SERIAL, O_TIMEOUT, O_HUGE, O_SLOW,
       O_LINK, O_TESTAGENT };

int vmm_cmd(int argc, char **argv) {
    static const struct option opts[] = {
        {"kernel", required_argument, NULL, O_KERNEL}, {"initrd", required_argument, NULL, O_INITRD},
        {"cmdline", required_argument, NULL, O_CMDLINE}, {"mem", required_argument, NULL, O_MEM},
        {"cpus", required_argument, NULL, O_CPUS}, {"disk", required_argument, NULL, O_DISK},
        {"port", required_argument, NULL, O_PORT}, {"rng", no_argument, NULL, O_RNG},
        {"serial", no_argument, NULL, O_SERIAL}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"hugepages", no_argument, NULL, O_HUGE}, {"allow-slow-kvm", no_argument, NULL, O_SLOW},
        {"link", required_argument, NULL, O_LINK}, {"test-agent", required_argument, NULL, O_TESTAGENT},
        {"help", no_argument, NULL, 'h'}, {0},
    };
    struct vmm_config c = { .mem_bytes = 256ull << 20, .vcpus = 1, .serial_fd = -1, .stop_fd = -1, .cmdline = "" };
    int rc = 1, opt, link_fd = -1;
    const char *test_agent = NULL;
    unsigned n;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (opt) {
        case O_KERNEL: c.kernel = optarg; break;
        case O_INITRD: c.initrd = optarg; break;
        case O_CMDLINE: c.cmdline = optarg; break;
        case O_MEM:
            if (!parse_size(optarg, &c.mem_bytes))
                return usage_error("--mem %s: not a size (e.g. 256M)", optarg);
            break;
        case O_CPUS:
            if (!parse_uint(optarg, 1024, &n) || n < 1)
                return usage_error("--cpus %s: not a positive number", optarg);
            c.vcpus = n;
            break;
        case O_DISK: {
            if (c.ndisks == VMM_MAX_DISKS)
                return usage_error("--disk: at most %d", VMM_MAX_DISKS);
            char *comma = strchr(optarg, ',');
            if (comma && strcmp(comma, ",ro") != 0)
                return usage_error("--disk %s: the only option is \",ro\"", optarg);
            if (comma)
                *comma = '\0';
            c.disk[c.ndisks++] = (struct vmm_disk){ optarg, comma != NULL };
            break;
        }
        case O_PORT:
            if (c.nports == VMM_MAX_PORTS)
                return usage_error("--port: at most %d", VMM_MAX_PORTS);
            if (parse_port(optarg, &c.port[c.nports++]))
                goto out;
            break;
        case O_RNG: c.rng = true; break;
        case O_SERIAL: c.serial_fd = STDERR_FILENO; break;
        case O_TIMEOUT:
            if (!parse_uint(optarg, 86400, &n) || n < 1)
                return usage_error("--timeout %s: seconds between 1 and 86400", optarg);
            c.timeout_ms = n * 1000;
            break;
        case O_HUGE: c.hugepages = true; break;
        case O_SLOW: c.allow_slow_kvm = true; break;
        case O_LINK:
            if (!parse_uint(optarg, 65535, &n) || n < 3)
                return usage_error("--link %s: an inherited fd", optarg);
            link_fd = (int)n;
            break;
        case O_TESTAGENT: test_agent = optarg; break;
        case 'h': vmm_cmd_usage(stdout); return 0;
        default: vmm_cmd_usage(stderr); return 2;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument \"%s\"", argv[optind]);

    struct hull_err err = {0};
    if (!c.kernel && !test_agent)
        return usage_error("--kernel is needed");
    if (test_agent && link_fd < 0)
        return usage_error("--test-agent goes with --link");
    /* SIGPIPE: console output to a reader that left is dropped, the guest
     * goes on. SIGTERM/SIGINT/SIGHUP stop the VM through the stop fd. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    if (link_fd >= 0) {
        int lr = vmm_link_start(link_fd, &c.stop_fd);
        if (lr < 0) {
            fprintf(stderr, "hull: vmm: --link: %s\n", strerror(-lr));
            goto out;
        }
    } else {
        sigprocmask(SIG_BLOCK, &stop, NULL);
        c.stop_fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    }
    if (c.stop_fd < 0) {
        fprintf(stderr, "hull: vmm: signalfd: %s\n", strerror(errno));
        goto out;
    }
    int fate = test_agent ? vmm_link_run_agent(test_agent, &c) : vmm_run(&c, &err);
    if (fate < 0) {
        fprintf(stderr, "hull: %s\n", err.msg);
        goto out;
    }
    if (fate != VM_FATE_POWEROFF) {
        if (fate == VM_FATE_CRASH && err.msg[0])
            fprintf(stderr, "hull: vmm: the VM crashed: %s\n", err.msg);
        else
            fprintf(stderr, "hull: vmm: the VM ended with %s\n", vm_fate_name((enum vm_fate)fate));
    }
    rc = vmm_fate_exit_code((enum vm_fate)fate);
    if (link_fd >= 0)
        rc = vmm_link_finish(rc);   /* the container's status, when the monitor sent it */
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
