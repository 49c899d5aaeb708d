/* What only the real guest init does: the early mounts, loading the kernel
 * modules the initramfs carries, finding the named console ports, mounting the
 * container rootfs from the block device, and powering off. Messages go to
 * /dev/kmsg (the kernel console: <state>/vm.log when HULL_VM_CONSOLE=1). */
#include "vm/agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define LOWER "/run/hull/lower"
#define RW    "/run/hull/rw"

static int mount_at(const char *src, const char *dst, const char *type, unsigned long flags, const char *data,
                    struct hull_err *err) {
    if (mkdir(dst, 0755) < 0 && errno != EEXIST) return hull_err_sys(err, "mkdir %s", dst);
    if (mount(src, dst, type, flags, data) < 0) return hull_err_sys(err, "mount %s on %s", type ? type : src, dst);
    return 0;
}

int guest_early_init(struct hull_err *err) {
    const unsigned long nosx = MS_NOSUID | MS_NOEXEC | MS_NODEV;
    int rc;
    if ((rc = mount_at("proc", "/proc", "proc", nosx, NULL, err)) < 0) return rc;
    if ((rc = mount_at("sysfs", "/sys", "sysfs", nosx, NULL, err)) < 0) return rc;
    if ((rc = mount_at("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755", err)) < 0) return rc;
    if ((rc = mount_at("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", err)) < 0) return rc;
    if ((rc = mount_at("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", err)) < 0) return rc;
    /* For the container's own devpts/cgroup mounts, linux/ looks at the
     * "host" (here: the guest) view; a failure is not fatal for a guest without them. */
    struct hull_err ignore;
    mount_at("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620", &ignore);
    mount_at("cgroup2", "/sys/fs/cgroup", "cgroup2", nosx, NULL, &ignore);
    if (mkdir("/run/hull", 0700) < 0 && errno != EEXIST) return hull_err_sys(err, "mkdir /run/hull");
    return 0;
}

int guest_load_modules(const char *list, const char *dir, struct hull_err *err) {
    FILE *f = fopen(list, "re");
    if (!f) {
        if (errno == ENOENT) return 0;   /* a kernel with everything built in */
        return hull_err_sys(err, "module list %s", list);
    }
    char line[256];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        bool optional = line[0] == '?';
        const char *name = line + optional;
        if (strchr(name, '/')) {
            rc = hull_err_set(err, EINVAL, "module list: bad entry \"%s\"", name);
            break;
        }
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (!optional) rc = hull_err_sys(err, "module %s", path);
            continue;
        }
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST && !optional)
            rc = hull_err_sys(err, "load module %s", name);
        close(fd);
    }
    fclose(f);
    return rc;
}

/* /sys/class/virtio-ports/vportNpM/name -> /dev/vportNpM, opened O_RDWR. */
static int open_port(const char *want, struct hull_err *err) {
    DIR *d = opendir("/sys/class/virtio-ports");
    if (!d) return -ENOENT;
    int fd = -ENOENT;
    for (struct dirent *e; fd == -ENOENT && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char p[300], name[128] = "";
        snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
        int nf = open(p, O_RDONLY | O_CLOEXEC);
        if (nf < 0) continue;
        ssize_t n = read(nf, name, sizeof name - 1);
        close(nf);
        if (n <= 0) continue;
        name[n] = '\0';
        name[strcspn(name, "\n")] = '\0';
        if (strcmp(name, want)) continue;
        snprintf(p, sizeof p, "/dev/%s", e->d_name);
        fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            fd = errno == ENOENT ? -ENOENT : hull_err_sys(err, "open %s (%s)", p, want);
        }
    }
    closedir(d);
    return fd;
}

static void sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

int guest_find_ports(struct agent *a, int timeout_ms, struct hull_err *err) {
    static const char *const stdio[3] = {HULL_AGENT_PORT_STDIN, HULL_AGENT_PORT_STDOUT, HULL_AGENT_PORT_STDERR};
    long long end = agent_now_ms() + timeout_ms, ctl_seen = 0;
    for (;;) {
        if (a->ctl_fd < 0) {
            int fd = open_port(HULL_AGENT_PORT_CTL, err);
            if (fd >= 0) {
                a->ctl_fd = fd;
                ctl_seen = agent_now_ms();
            } else if (fd != -ENOENT) {
                return fd;
            }
        }
        bool all = true;
        for (int i = 0; i < 3; i++) {
            if (a->port_fd[i] < 0) {
                int fd = open_port(stdio[i], err);
                if (fd >= 0) a->port_fd[i] = fd;
            }
            all = all && a->port_fd[i] >= 0;
        }
        /* The host names every port in one go; stdio ports are optional (MUX
         * mode), so once the control port is there give the others 50 ms. */
        if (a->ctl_fd >= 0 && (all || agent_now_ms() - ctl_seen > 50)) return 0;
        if (agent_now_ms() > end)
            return hull_err_set(err, ETIMEDOUT, "no virtio console port named \"%s\" after %d ms (is virtio_console "
                                "loaded and the port named by the VMM?)", HULL_AGENT_PORT_CTL, timeout_ms);
        sleep_ms(2);
    }
}

/* A device node appears when its driver probes it; give it a moment. */
static int wait_dev(const char *dev, struct hull_err *err) {
    for (long long end = agent_now_ms() + 5000;;) {
        struct stat st;
        if (stat(dev, &st) == 0 && S_ISBLK(st.st_mode)) return 0;
        if (agent_now_ms() > end) return hull_err_set(err, ENODEV, "rootfs: block device %s did not appear", dev);
        sleep_ms(2);
    }
}

static const char *fs_name(uint8_t fs) {
    return fs == HULL_AGENT_FS_EXT4 ? "ext4" : fs == HULL_AGENT_FS_EROFS ? "erofs" : NULL;
}

int guest_mount_rootfs(struct agent *a, const struct hull_agent_start *s, struct hull_err *err) {
    int rc;
    if (s->root_kind == HULL_AGENT_ROOT_DIR) {
        if (!realpath(s->root_source, a->rootfs)) return hull_err_sys(err, "rootfs %s", s->root_source);
        return 0;
    }
    const char *fs = fs_name(s->root_fs);
    if (!fs) return hull_err_set(err, EINVAL, "rootfs: unknown filesystem");
    if ((rc = wait_dev(s->root_source, err)) < 0) return rc;
    if (s->upper_kind == HULL_AGENT_UPPER_NONE) {
        /* The image itself is the root: read-write only for ext4 when asked. */
        bool rw = (s->flags & HULL_AGENT_START_ROOT_RW) && s->root_fs == HULL_AGENT_FS_EXT4;
        if ((rc = mount_at(s->root_source, "/rootfs", fs, rw ? 0 : MS_RDONLY, NULL, err)) < 0) return rc;
    } else {
        if ((rc = mount_at(s->root_source, LOWER, fs, MS_RDONLY, NULL, err)) < 0) return rc;
        if (s->upper_kind == HULL_AGENT_UPPER_TMPFS) {
            rc = mount_at("tmpfs", RW, "tmpfs", 0, "mode=0755", err);
        } else {
            const char *ufs = fs_name(s->upper_fs);
            if (!ufs || s->upper_fs != HULL_AGENT_FS_EXT4)
                return hull_err_set(err, EINVAL, "rootfs: the writable layer must be ext4");
            if ((rc = wait_dev(s->upper_source, err)) < 0) return rc;
            rc = mount_at(s->upper_source, RW, ufs, 0, NULL, err);
        }
        if (rc < 0) return rc;
        /* upper/ and work/ on the writable fs: after the VM stops, upper/ holds
         * exactly the container's changes (overlayfs whiteouts included). */
        if ((mkdir(RW "/upper", 0755) < 0 && errno != EEXIST) || (mkdir(RW "/work", 0755) < 0 && errno != EEXIST))
            return hull_err_sys(err, "rootfs: create the overlay upper/work dirs");
        if ((rc = mount_at("overlay", "/rootfs", "overlay", 0,
                           "lowerdir=" LOWER ",upperdir=" RW "/upper,workdir=" RW "/work", err)) < 0)
            return rc;
    }
    snprintf(a->rootfs, sizeof a->rootfs, "/rootfs");
    return 0;
}

/* hull.poweroff=reboot on the kernel command line: end with a reset instead
 * (for VMMs whose power-off path is a reset, e.g. reboot=k). */
static bool want_reboot(void) {
    char buf[4096];
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    return strstr(buf, "hull.poweroff=reboot") != NULL;
}

void guest_poweroff(struct agent *a) {
    (void)a;
    /* Everything is dead already (agent_run kills what is left); make the
     * writable layer consistent for the host before the power goes. */
    sync();
    umount2("/rootfs", 0);
    if (umount2(RW, 0) < 0) mount(NULL, RW, NULL, MS_REMOUNT | MS_RDONLY, NULL);
    sync();
    reboot(want_reboot() ? RB_AUTOBOOT : RB_POWER_OFF);
    reboot(RB_AUTOBOOT);
    /* Still here: PID 1 exiting panics the kernel, which the VMM reports. */
    guest_log("power-off failed: %s", strerror(errno));
    _exit(1);
}
