/* `hull spec [--rootless]`: the default config.json, the same content runc
 * writes (busybox-friendly: sh on a terminal, a few safe capabilities, the
 * usual /proc and /sys masking), generated with yajl_gen. */
#include "base/spec.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

static void str(yajl_gen g, const char *s) {
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void key_str(yajl_gen g, const char *k, const char *v) { str(g, k); str(g, v); }
static void key_int(yajl_gen g, const char *k, long long v) { str(g, k); yajl_gen_integer(g, v); }
static void key_bool(yajl_gen g, const char *k, bool v) { str(g, k); yajl_gen_bool(g, v); }

/* "key": [ "a", "b", ... ] from a NULL-terminated list */
static void key_strv(yajl_gen g, const char *k, const char *const *v) {
    str(g, k);
    yajl_gen_array_open(g);
    for (; *v; v++) str(g, *v);
    yajl_gen_array_close(g);
}

static void mount(yajl_gen g, const char *dest, const char *type, const char *src,
                  const char *const *opts) {
    yajl_gen_map_open(g);
    key_str(g, "destination", dest);
    key_str(g, "type", type);
    key_str(g, "source", src);
    if (opts) key_strv(g, "options", opts);
    yajl_gen_map_close(g);
}

static void idmap(yajl_gen g, const char *k, unsigned host) {
    str(g, k);
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    key_int(g, "containerID", 0);
    key_int(g, "hostID", host);
    key_int(g, "size", 1);
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
}

static void process(yajl_gen g) {
    static const char *const args[] = { "sh", NULL };
    static const char *const env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL };
    static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };

    str(g, "process");
    yajl_gen_map_open(g);
    key_bool(g, "terminal", true);
    str(g, "user");
    yajl_gen_map_open(g);
    key_int(g, "uid", 0);
    key_int(g, "gid", 0);
    yajl_gen_map_close(g);
    key_strv(g, "args", args);
    key_strv(g, "env", env);
    key_str(g, "cwd", "/");
    str(g, "capabilities");
    yajl_gen_map_open(g);
    key_strv(g, "bounding", caps);
    key_strv(g, "effective", caps);
    key_strv(g, "permitted", caps);
    yajl_gen_map_close(g);
    str(g, "rlimits");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    key_str(g, "type", "RLIMIT_NOFILE");
    key_int(g, "hard", 1024);
    key_int(g, "soft", 1024);
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
    key_bool(g, "noNewPrivileges", true);
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

    str(g, "mounts");
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

    str(g, "linux");
    yajl_gen_map_open(g);
    if (rootless) {
        idmap(g, "uidMappings", (unsigned)geteuid());
        idmap(g, "gidMappings", (unsigned)getegid());
    } else {
        /* Deny every device by default; the runtime adds the standard ones. */
        str(g, "resources");
        yajl_gen_map_open(g);
        str(g, "devices");
        yajl_gen_array_open(g);
        yajl_gen_map_open(g);
        key_bool(g, "allow", false);
        key_str(g, "access", "rwm");
        yajl_gen_map_close(g);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
    }
    str(g, "namespaces");
    yajl_gen_array_open(g);
    for (const char *const *n = rootless ? ns_rootless : ns_root; *n; n++) {
        yajl_gen_map_open(g);
        key_str(g, "type", *n);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    key_strv(g, "maskedPaths", masked);
    key_strv(g, "readonlyPaths", ro);
    yajl_gen_map_close(g);
}

char *hull_spec_default_json(bool rootless) {
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return NULL;
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_config(g, yajl_gen_indent_string, "\t");

    yajl_gen_map_open(g);
    key_str(g, "ociVersion", "1.2.0");
    process(g);
    str(g, "root");
    yajl_gen_map_open(g);
    key_str(g, "path", "rootfs");
    key_bool(g, "readonly", true);
    yajl_gen_map_close(g);
    key_str(g, "hostname", "hull");
    mounts(g, rootless);
    linux_section(g, rootless);
    yajl_gen_map_close(g);

    const unsigned char *buf;
    size_t len;
    char *out = NULL;
    /* Any generator misuse above would surface here as a non-ok status. */
    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok && (out = malloc(len + 2))) {
        memcpy(out, buf, len);
        out[len] = '\n';               /* a text file ends with a newline */
        out[len + 1] = '\0';
    }
    yajl_gen_free(g);
    return out;
}
