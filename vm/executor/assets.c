/* What a microVM container needs from the host before anything is started:
 * the settings, a /dev/kvm that can run a kernel, the guest kernel and its
 * initramfs, and the helper binaries (hull-vmm, hull-agent). Every failure is
 * a message that says what is missing and how to get it. */
#include "vm/executor/container.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "base/fsutil.h"
#include "vm/boot/boot.h"
#include "vm/guest/initramfs.h"
#include "vm/core/kvm.h"

static bool env_on(const char *name) {
    const char *v = vm_setting(name);
    return v && *v && strcmp(v, "0") != 0;
}

static int parse_bytes(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return -1;
    unsigned sh = 0;
    switch (*end) {
    case 'k': case 'K': sh = 10; end++; break;
    case 'm': case 'M': sh = 20; end++; break;
    case 'g': case 'G': sh = 30; end++; break;
    }
    if (*end || v > (UINT64_MAX >> sh)) return -1;
    *out = (uint64_t)v << sh;
    return 0;
}

int vm_opts_load(struct vm_opts *o, struct hull_err *err) {
    memset(o, 0, sizeof *o);
    if (vm_settings_load(err) < 0) return -err->code;
    snprintf(o->data_root, sizeof o->data_root, "%s", hull_image_default_root());
    o->boot_timeout_ms = 60000;
    o->upper_bytes = 1ull << 30;
    o->allow_slow = env_on("HULL_VM_ALLOW_SLOW_KVM");
    o->console = env_on("HULL_VM_CONSOLE");
    o->test_agent = env_on("HULL_VM_TEST_AGENT");
    const char *v = vm_setting("HULL_VM_BOOT_TIMEOUT");
    if (v && *v) {
        char *end;
        unsigned long s = strtoul(v, &end, 10);
        if (end == v || *end || s < 1 || s > 3600)
            return hull_err_set(err, EINVAL, "HULL_VM_BOOT_TIMEOUT=%s: seconds between 1 and 3600", v);
        o->boot_timeout_ms = (unsigned)s * 1000;
    }
    if ((v = vm_setting("HULL_VM_UPPER_SIZE")) && *v) {
        if (parse_bytes(v, &o->upper_bytes) < 0 || o->upper_bytes < (16u << 20))
            return hull_err_set(err, EINVAL, "HULL_VM_UPPER_SIZE=%s: a size of at least 16M (e.g. 1G)", v);
    }
    if ((v = vm_setting("HULL_VM_CMDLINE")) && *v) {
        if (strlen(v) >= sizeof o->cmdline_extra) return hull_err_set(err, EINVAL, "HULL_VM_CMDLINE: too long");
        snprintf(o->cmdline_extra, sizeof o->cmdline_extra, "%s", v);
    }
    return 0;
}

static bool usable_dir(const char *d) {
    struct stat st;
    return d && d[0] == '/' && strcmp(d, "/") != 0 && stat(d, &st) == 0 && S_ISDIR(st.st_mode);
}

int vm_locate(const char *name, const char *env, char *out, size_t n, struct hull_err *err) {
    const char *v = env ? vm_setting(env) : NULL;
    if (v && *v) {
        if (access(v, X_OK) < 0) return hull_err_sys(err, "%s=%s", env, v);
        if ((size_t)snprintf(out, n, "%s", v) >= n) return hull_err_set(err, ENAMETOOLONG, "%s: path too long", env);
        return 0;
    }
    /* A sealed re-exec runs from a memfd or a detached mount, whose
     * /proc/self/exe says nothing about where hull was installed. */
    char dirs[2][PATH_MAX] = {"", ""};
    const char *self = getenv("HULL_SELF_DIR");
    if (usable_dir(self)) snprintf(dirs[0], sizeof dirs[0], "%s", self);
    char exe[PATH_MAX];
    ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (l > 0) {
        exe[l] = '\0';
        char *d = dirname(exe);
        if (usable_dir(d)) snprintf(dirs[1], sizeof dirs[1], "%s", d);
    }
    static const char *const rel[] = {"", "../lib/hull/"};
    for (int i = 0; i < 2; i++) {
        if (!dirs[i][0]) continue;
        for (size_t k = 0; k < sizeof rel / sizeof *rel; k++) {
            if ((size_t)snprintf(out, n, "%s/%s%s", dirs[i], rel[k], name) >= n) continue;
            if (access(out, X_OK) == 0) return 0;
        }
    }
    return hull_err_set(err, ENOENT, "%s not found next to hull nor in its ../lib/hull (make; make install; or set %s)",
                        name, env ? env : "its path");
}

int vm_check_kvm(bool allow_slow, struct hull_err *err) {
    struct stat st;
    if (stat("/dev/kvm", &st) < 0) {
        if (errno == ENOENT)
            return hull_err_set(err, ENODEV, "no /dev/kvm: this host cannot run microVMs (load kvm_intel or kvm_amd; "
                                             "inside a VM, enable nested virtualisation)");
        return hull_err_sys(err, "/dev/kvm");
    }
    if (!S_ISCHR(st.st_mode)) return hull_err_set(err, ENODEV, "/dev/kvm is not a character device");
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "open /dev/kvm");
    close(fd);
    return kvm_check_host(NULL, allow_slow, err);
}

static int mkdir_cache(const char *dir, struct hull_err *err) {
    if (hull_mkdir_p(dir, 0700) < 0) return hull_err_sys(err, "create %s", dir);
    return 0;
}

static bool is_elf(const char *path) {
    unsigned char m[4] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, m, 4);
    close(fd);
    return n == 4 && m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F';
}

int vm_boot_assets(struct vm_opts *o, struct hull_err *err) {
    char src[PATH_MAX], dir[PATH_MAX + 32];
    const char *v = vm_setting("HULL_VM_KERNEL");
    if (v && *v) {
        if (access(v, R_OK) < 0) return hull_err_sys(err, "no guest kernel: HULL_VM_KERNEL=%s", v);
        snprintf(src, sizeof src, "%s", v);
    } else if (kernel_default_path(src, sizeof src, err) < 0) {
        return hull_err_prefix(err, "no guest kernel for microVM containers: ");
    }
    bool elf = is_elf(src);
    const char *initrd = vm_setting("HULL_VM_INITRD");
    if (initrd && *initrd) {
        if (access(initrd, R_OK) < 0) return hull_err_sys(err, "HULL_VM_INITRD=%s", initrd);
        snprintf(o->initrd, sizeof o->initrd, "%s", initrd);
    } else {
        if (elf)
            return hull_err_set(err, EINVAL, "guest kernel %s is an ELF vmlinux: its release (and so its modules) "
                                             "is unknown; give its bzImage, or an initramfs in HULL_VM_INITRD", src);
        char rel[256];
        if (hull_kernel_release(src, rel, sizeof rel, err) < 0) return hull_err_prefix(err, "guest kernel: ");
        if (vm_locate("hull-agent", "HULL_AGENT", o->agent, sizeof o->agent, err) < 0)
            return hull_err_prefix(err, "guest agent: ");
        struct hull_initramfs_opts io = {.agent_path = o->agent, .kernel_release = rel};
        snprintf(dir, sizeof dir, "%s/vm/initramfs", o->data_root);
        if (mkdir_cache(dir, err) < 0) return -err->code;
        if (hull_initramfs_get(&io, dir, o->initrd, sizeof o->initrd, NULL, err) < 0)
            return hull_err_prefix(err, "guest initramfs for kernel %s (its modules come from /lib/modules/%s): ",
                                   rel, rel);
    }
    if (elf) {
        snprintf(o->kernel, sizeof o->kernel, "%s", src);
        return 0;
    }
    /* PVH entry of the ELF vmlinux: no decompressor running in the guest. */
    snprintf(dir, sizeof dir, "%s/vm/kernels", o->data_root);
    if (mkdir_cache(dir, err) < 0) return -err->code;
    if (kernel_cache_vmlinux(src, dir, o->kernel, sizeof o->kernel, err) < 0)
        return hull_err_prefix(err, "guest kernel %s: ", src);
    return 0;
}
