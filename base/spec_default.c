/* `hull spec [--rootless]`: the default config.json, the same content runc
 * writes (busybox-friendly: sh on a terminal, a few safe capabilities, the
 * usual /proc and /sys masking), generated with yajl_gen. */
#include "base/spec.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "base/json_gen.h"

static void mount(yajl_gen g, const char *dest, const char *type, const char *src,
                  const char *const *opts) {
    yajl_gen_map_open(g);
    jg_kstr(g, "destination", dest);
    jg_kstr(g, "type", type);
    jg_kstr(g, "source", src);
    if (opts) jg_kstrv(g, "options", opts);
    yajl_gen_map_close(g);
}

static void idmap(yajl_gen g, const char *k, unsigned host) {
    jg_str(g, k);
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    jg_kint(g, "containerID", 0);
    jg_kint(g, "hostID", host);
    jg_kint(g, "size", 1);
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
}

static void process(yajl_gen g) {
    static const char *const args[] = { "sh", NULL };
    static const char *const env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL };
    static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };

    jg_str(g, "process");
    yajl_gen_map_open(g);
    jg_kbool(g, "terminal", true);
    jg_str(g, "user");
    yajl_gen_map_open(g);
    jg_kint(g, "uid", 0);
    jg_kint(g, "gid", 0);
    yajl_gen_map_close(g);
    jg_kstrv(g, "args", args);
    jg_kstrv(g, "env", env);
    jg_kstr(g, "cwd", "/");
    jg_str(g, "capabilities");
    yajl_gen_map_open(g);
    jg_kstrv(g, "bounding", caps);
    jg_kstrv(g, "effective", caps);
    jg_kstrv(g, "permitted", caps);
    yajl_gen_map_close(g);
    jg_str(g, "rlimits");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    jg_kstr(g, "type", "RLIMIT_NOFILE");
    jg_kint(g, "hard", 1024);
    jg_kint(g, "soft", 1024);
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
    jg_kbool(g, "noNewPrivileges", true);
    yajl_gen_map_close(g);
}

static void mounts(yajl_gen g, bool rootless) {
    static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
    static const char *const pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                                       "gid=5", NULL };
    /* Rootless: gid 5 is usually not mapped into the user namespace. */
    static const char *const pts_rootless[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                                "mode=0620", NULL };
    static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
    static const char *const mq[] = { "nosuid", "noexec", "nodev", NULL };
    static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
    /* Rootless: a new sysfs cannot be mounted without owning the netns, so bind the host's. */
    static const char *const sys_rootless[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
    static const char *const cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };

    jg_str(g, "mounts");
    yajl_gen_array_open(g);
    mount(g, "/proc", "proc", "proc", NULL);
    mount(g, "/dev", "tmpfs", "tmpfs", dev);
    mount(g, "/dev/pts", "devpts", "devpts", rootless ? pts_rootless : pts);
    mount(g, "/dev/shm", "tmpfs", "shm", shm);
    mount(g, "/dev/mqueue", "mqueue", "mqueue", mq);
    if (rootless) mount(g, "/sys", "none", "/sys", sys_rootless);
    else {
        mount(g, "/sys", "sysfs", "sysfs", sys);
        mount(g, "/sys/fs/cgroup", "cgroup", "cgroup", cg);
    }
    yajl_gen_array_close(g);
}

static void linux_section(yajl_gen g, bool rootless) {
    static const char *const masked[] = {
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
        "/proc/scsi", "/sys/devices/virtual/powercap", NULL };
    static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger", NULL };
    static const char *const ns_root[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };
    static const char *const ns_rootless[] = { "pid", "ipc", "uts", "mount", "cgroup", "user", NULL };

    jg_str(g, "linux");
    yajl_gen_map_open(g);
    if (rootless) {
        idmap(g, "uidMappings", (unsigned)geteuid());
        idmap(g, "gidMappings", (unsigned)getegid());
    } else {
        /* Deny every device by default; the runtime adds the standard ones. */
        jg_str(g, "resources");
        yajl_gen_map_open(g);
        jg_str(g, "devices");
        yajl_gen_array_open(g);
        yajl_gen_map_open(g);
        jg_kbool(g, "allow", false);
        jg_kstr(g, "access", "rwm");
        yajl_gen_map_close(g);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
    }
    jg_str(g, "namespaces");
    yajl_gen_array_open(g);
    for (const char *const *n = rootless ? ns_rootless : ns_root; *n; n++) {
        yajl_gen_map_open(g);
        jg_kstr(g, "type", *n);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    jg_kstrv(g, "maskedPaths", masked);
    jg_kstrv(g, "readonlyPaths", ro);
    yajl_gen_map_close(g);
}

char *hull_spec_default_json(bool rootless) {
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return NULL;
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_config(g, yajl_gen_indent_string, "\t");

    yajl_gen_map_open(g);
    jg_kstr(g, "ociVersion", HULL_OCI_VERSION);
    process(g);
    jg_str(g, "root");
    yajl_gen_map_open(g);
    jg_kstr(g, "path", "rootfs");
    jg_kbool(g, "readonly", true);
    yajl_gen_map_close(g);
    jg_kstr(g, "hostname", "hull");
    mounts(g, rootless);
    linux_section(g, rootless);
    yajl_gen_map_close(g);

    return jg_take(g, true, NULL);   /* a text file ends with a newline */
}
