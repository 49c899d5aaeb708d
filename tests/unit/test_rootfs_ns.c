/* The container filesystem under namespace variants (no pivot_root, rshared
 * propagation, cgroup namespace, user namespace) and its error paths (bad
 * mounts, bad sysctls), each checked from inside a forked child. */
#include "rootfs_helpers.h"

static void scenario_no_pivot(void) {
    struct hull_mount mounts[] = {
        MNT("/proc", "proc", "proc", NOOPT),
        MNT("/dev", "tmpfs", "tmpfs", "nosuid", "mode=755"),
    };
    struct hull_spec spec = {0};
    spec.mounts = mounts;
    spec.n_mounts = 2;
    spec.linux.rootfs_propagation = "rslave";
    struct hull_rootfs_opts o = {.rootfs = simple_root, .bundle = base, .no_pivot = true};
    CHECK_RC(hull_rootfs_prepare(&spec, &o, E), "prepare");
    CHECK_RC(hull_rootfs_pivot(&spec, &o, E), "MS_MOVE + chroot");
    CHECK_RC(hull_rootfs_finalize(&spec, &o, E), "finalize");
    struct stat a, b;
    cok(stat("/", &a) == 0 && stat("/..", &b) == 0 && a.st_ino == b.st_ino, "/.. is / in the chroot");
    cok(access("/bin/busybox", X_OK) == 0, "chroot sees the rootfs");
    cok(is_chr("/dev/null", 1, 3), "/dev/null is there");
    cok(is_chr("/dev/pts/ptmx", 5, 2), "/dev/pts mounted by default (ptmx 5:2)");
    cok(fs_type("/dev/shm") == TMPFS_MAGIC, "/dev/shm mounted by default");
    char *argv[] = {"/bin/sh", "-c", "test -c /dev/null", NULL};
    cok(run_in_container(argv) == 0, "busybox sh runs in the chroot");
}

static void scenario_shared(void) {
    struct hull_mount mounts[] = {MNT("/proc", "proc", "proc", NOOPT)};
    struct hull_spec spec = {0};
    spec.mounts = mounts;
    spec.n_mounts = 1;
    spec.linux.rootfs_propagation = "rshared";
    struct hull_rootfs_opts o = {.rootfs = simple_root, .bundle = base};
    CHECK_RC(hull_rootfs_prepare(&spec, &o, E), "prepare (rshared)");
    CHECK_RC(hull_rootfs_pivot(&spec, &o, E), "pivot (rshared)");
    CHECK_RC(hull_rootfs_finalize(&spec, &o, E), "finalize (rshared)");
    char opts[2048];
    mount_opts_of("/", opts, sizeof opts);
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[4096];
    bool shared = false;
    while (f && fgets(line, sizeof line, f)) {
        char m[PATH_MAX];
        if (sscanf(line, "%*s %*s %*s %*s %4095s", m) == 1 && !strcmp(m, "/") && strstr(line, " shared:"))
            shared = true;
    }
    if (f) fclose(f);
    cok(shared, "/ is shared after finalize with rootfsPropagation rshared");
}

/* ---- scenario: cgroup namespace: hierarchies mounted directly ---------- */

static void scenario_cgroupns(void) {
    if (unshare(CLONE_NEWCGROUP) < 0) {
        cskip("no cgroup namespaces here (unshare(CLONE_NEWCGROUP): %s)", strerror(errno));
        return;
    }
    struct hull_mount mounts[] = {
        MNT("/proc", "proc", "proc", NOOPT),
        MNT("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
        MNT("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "rw"),
    };
    struct hull_namespace nss[] = {{.type = HULL_NS_CGROUP}, {.type = HULL_NS_MOUNT}};
    struct hull_spec spec = {0};
    spec.mounts = mounts;
    spec.n_mounts = 3;
    spec.linux.namespaces = nss;
    spec.linux.n_namespaces = 2;
    struct hull_rootfs_opts o = {.rootfs = simple_root, .bundle = base};
    /* what the host has decides what the container must get */
    bool v2_host = fs_type("/sys/fs/cgroup") == CGROUP2_SUPER_MAGIC;
    CHECK_RC(hull_rootfs_prepare(&spec, &o, E), "prepare with a cgroup namespace");
    CHECK_RC(hull_rootfs_pivot(&spec, &o, E), "pivot");
    long t = fs_type("/sys/fs/cgroup");
    if (v2_host) {
        cok(t == CGROUP2_SUPER_MAGIC, "cgroup2 host: /sys/fs/cgroup is cgroup2 (type 0x%lx)", t);
        /* the namespace root is our own cgroup: we are in its cgroup.procs */
        char procs[4096], me[32];
        snprintf(me, sizeof me, "%d", (int)getpid());
        bool found = false;
        if (read_file("/sys/fs/cgroup/cgroup.procs", procs, sizeof procs) > 0)
            for (char *l = strtok(procs, "\n"); l; l = strtok(NULL, "\n"))
                if (!strcmp(l, me)) found = true;
        cok(found, "cgroup2 mounted at the namespace root (pid %s in its cgroup.procs)", me);
        return;
    }
    char opts[2048];
    mount_opts_of("/sys/fs/cgroup/memory", opts, sizeof opts);
    cok(strstr(opts, "cgroup cgroup") != NULL, "memory hierarchy mounted directly (%s)", opts);
    cok(!strncmp(opts, "rw,", 3), "\"rw\" keeps the cgroup mounts writable (%s)", opts);
    mount_opts_of("/sys/fs/cgroup/systemd", opts, sizeof opts);
    cok(strstr(opts, "name=systemd") != NULL || access("/sys/fs/cgroup/systemd", F_OK) != 0,
        "named hierarchy mounted (%s)", opts);
}

/* ---- scenario: inside a user namespace -------------------------------- */

static void scenario_userns_body(void) {
    struct hull_mount mounts[] = {
        MNT("/proc", "proc", "proc", NOOPT),
        MNT("/dev", "tmpfs", "tmpfs", "nosuid", "mode=755"),
        MNT("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
        MNT("/data", "bind", data_dir, "rbind", "ro"),
    };
    char *masked[] = {"/masked-file", "/mask-dir"};
    struct hull_spec spec = {0};
    spec.mounts = mounts;
    spec.n_mounts = 4;
    spec.linux.masked_paths = masked;
    spec.linux.n_masked_paths = 2;
    spec.root_readonly = true;
    struct hull_rootfs_opts o = {.rootfs = full_root, .bundle = base, .in_userns = true};
    CHECK_RC(hull_rootfs_prepare(&spec, &o, E), "prepare in a user namespace");
    CHECK_RC(hull_rootfs_pivot(&spec, &o, E), "pivot in a user namespace");
    CHECK_RC(hull_rootfs_finalize(&spec, &o, E), "finalize in a user namespace");
    cok(is_chr("/dev/null", 1, 3), "/dev/null bound from the host is char 1:3");
    cok(is_chr("/dev/tty", 5, 0), "/dev/tty bound from the host");
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    cok(fd >= 0 && write(fd, "x", 1) == 1, "/dev/null is usable");
    if (fd >= 0) close(fd);
    cok(fs_type("/sys") == SYSFS_MAGIC, "/sys is sysfs (rbind fallback without a netns)");
    char opts[2048], buf[64];
    mount_opts_of("/sys", opts, sizeof opts);
    cok(!strncmp(opts, "ro,", 3), "/sys is read-only (%s)", opts);
    cok(errno_of_create("/data/x") == EROFS, "ro bind works in a user namespace");
    cok(read_file("/masked-file", buf, sizeof buf) == 0, "masked file reads empty");
    cok(errno_of_create("/mask-dir/x") == EROFS, "masked dir is a read-only tmpfs");
    cok(errno_of_create("/newfile") == EROFS, "readonly root");
}

static int write_map(pid_t pid, const char *file) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, file);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    const char *map = "0 0 4294967295";
    int ok = fd >= 0 && write(fd, map, strlen(map)) == (ssize_t)strlen(map);
    if (fd >= 0) close(fd);
    return ok ? 0 : -1;
}

static void scenario_userns(void) {
    /* a full identity map is written by us (the parent namespace) for the
     * child, which then builds its namespaces and runs the body in a new pid
     * namespace (proc needs one owned by the user namespace) */
    int ready[2], go[2];
    if (pipe(ready) < 0 || pipe(go) < 0) { cok(0, "pipe"); return; }
    pid_t pid = fork();
    if (pid == 0) {
        char c = 0;
        close(ready[0]);
        close(go[1]);
        if (unshare(CLONE_NEWUSER) < 0) {
            cskip("user namespaces unavailable here (unshare(CLONE_NEWUSER): %s)", strerror(errno));
            _exit(0);
        }
        if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1 || c != 'g') _exit(0);
        if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID) < 0) {
            cok(0, "unshare mount/uts/pid in the user namespace: %s", strerror(errno));
            _exit(1);
        }
        pid_t body = fork();
        if (body == 0) {
            scenario_userns_body();
            _exit(0);
        }
        int st;
        _exit(body > 0 && waitpid(body, &st, 0) == body && WIFEXITED(st) ? WEXITSTATUS(st) : 1);
    }
    close(ready[1]);
    close(go[0]);
    char c;
    if (read(ready[0], &c, 1) == 1) {
        bool mapped = write_map(pid, "uid_map") == 0 && write_map(pid, "gid_map") == 0;
        cok(mapped, "write the user namespace id maps");
        if (write(go[1], mapped ? "g" : "n", 1) != 1) cok(0, "release the userns child");
    }
    close(ready[0]);
    close(go[1]);
    int st;
    cok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
        "user namespace child exited cleanly");
}

/* ---- scenario: errors are reported, nothing crashes ------------------- */

static void expect_err(const struct hull_spec *spec, const struct hull_rootfs_opts *o,
                       const char *needle, const char *what) {
    /* each case in its own copy of the (untouched) namespace */
    pid_t pid = fork();
    if (pid == 0) {
        struct hull_err e = {0};
        if (unshare(CLONE_NEWNS) < 0) _exit(2);
        int rc = hull_rootfs_prepare(spec, o, &e);
        cok(rc < 0 && strstr(e.msg, needle), "%s: \"%s\"", what, e.msg);
        _exit(0);
    }
    int st;
    cok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
        "%s: case exited cleanly", what);
}

static void scenario_errors(void) {
    struct hull_rootfs_opts o = {.rootfs = simple_root, .bundle = base};
    struct hull_spec spec = {0};
    struct hull_mount m1[] = {MNT("/", "tmpfs", "tmpfs", NOOPT)};
    spec.mounts = m1, spec.n_mounts = 1;
    expect_err(&spec, &o, "container root", "tmpfs on / refused");
    struct hull_mount m1b[] = {MNT("/../..", "tmpfs", "tmpfs", NOOPT)};
    spec.mounts = m1b;
    expect_err(&spec, &o, "container root", "tmpfs on /../.. refused");
    struct hull_mount m2[] = {MNT("/x", "bind", "/nonexistent-hull-src", "rbind")};
    spec.mounts = m2;
    expect_err(&spec, &o, "/nonexistent-hull-src", "missing bind source named");
    struct hull_mount m3[] = {MNT("/x", NULL, "foo", "ro")};
    spec.mounts = m3;
    expect_err(&spec, &o, "no type", "no type and no bind refused");
    struct hull_mount m4[] = {MNT("/x", "tmpfs", "tmpfs", "tmpcopyup")};
    spec.mounts = m4;
    expect_err(&spec, &o, "tmpcopyup", "tmpcopyup refused");
    struct hull_mount m5[] = {MNT("/x", "nosuchfs", "foo", NOOPT)};
    spec.mounts = m5;
    expect_err(&spec, &o, "mount nosuchfs on /x", "unknown fs type: clear error");
    struct hull_mount m6[] = {MNT("/bin/busybox", "bind", data_dir, "rbind")};
    spec.mounts = m6;
    expect_err(&spec, &o, "/bin/busybox", "dir bind onto a file refused");
    struct hull_mount m7[] = {{.destination = "", .type = "tmpfs"}};
    spec.mounts = m7;
    expect_err(&spec, &o, "empty destination", "empty destination refused");
    spec.n_mounts = 0;
    spec.linux.rootfs_propagation = "sideways";
    expect_err(&spec, &o, "sideways", "unknown rootfsPropagation refused");
    spec.linux.rootfs_propagation = NULL;
    struct hull_device d1[] = {{.path = "/dev/bad", .type = 'x', .major = 1, .minor = 3}};
    spec.linux.devices = d1, spec.linux.n_devices = 1;
    expect_err(&spec, &o, "unknown type", "device type 'x' refused");
    struct hull_device d2[] = {{.path = "/dev/passwd", .type = 'c', .major = 1, .minor = 3}};
    spec.linux.devices = d2;
    o.in_userns = true;
    struct hull_device d3[] = {{.path = "/etc/passwd", .type = 'c', .major = 1, .minor = 3}};
    spec.linux.devices = d3;
    expect_err(&spec, &o, "not device", "userns device bind refuses a host file that is not the device");
    o.in_userns = false;
    struct hull_device d4[] = {{.path = "/dev/huge", .type = 'c', .major = 1LL << 40, .minor = 3}};
    spec.linux.devices = d4;
    expect_err(&spec, &o, "out of range", "huge major refused");
    struct hull_device d5[] = {{.path = "relative", .type = 'c', .major = 1, .minor = 3}};
    spec.linux.devices = d5;
    expect_err(&spec, &o, "absolute", "relative device path refused");
    spec.linux.n_devices = 0;
    struct hull_rootfs_opts bad = {.rootfs = "/nonexistent-hull-rootfs"};
    expect_err(&spec, &bad, "/nonexistent-hull-rootfs", "missing rootfs named");
}

static void scenario_sysctl_errors(void) {
    struct hull_mount mounts[] = {MNT("/proc", "proc", "proc", NOOPT)};
    struct hull_spec spec = {0};
    spec.mounts = mounts;
    spec.n_mounts = 1;
    struct hull_rootfs_opts o = {.rootfs = simple_root, .bundle = base};
    CHECK_RC(hull_rootfs_prepare(&spec, &o, E), "prepare");
    CHECK_RC(hull_rootfs_pivot(&spec, &o, E), "pivot");
    struct hull_kv bad1[] = {{"../../../etc/passwd", "x"}};
    spec.linux.sysctl = bad1, spec.linux.n_sysctl = 1;
    struct hull_err e = {0};
    cok(hull_rootfs_finalize(&spec, &o, &e) < 0 && strstr(e.msg, "not a valid key"), "sysctl ../ key refused: %s", e.msg);
    struct hull_kv bad2[] = {{"kernel.no_such_key_hull", "1"}};
    spec.linux.sysctl = bad2;
    cok(hull_rootfs_finalize(&spec, &o, &e) < 0 && strstr(e.msg, "kernel.no_such_key_hull"), "unknown sysctl named: %s", e.msg);
    struct hull_kv bad3[] = {{"kernel.hostname/../../../etc", "1"}};
    spec.linux.sysctl = bad3;
    cok(hull_rootfs_finalize(&spec, &o, &e) < 0, "sysctl key with a slash-dot escape refused: %s", e.msg);
    /* masked /dev/null missing: no /dev mount, rootfs without /dev/null -> clear error */
}

/* ---- driver ----------------------------------------------------------- */

int main(void) {
    rootfs_fixtures_setup();
    run("no-pivot", scenario_no_pivot);
    run("rshared", scenario_shared);
    run("cgroupns", scenario_cgroupns);
    run("userns", scenario_userns);
    run("errors", scenario_errors);
    run("sysctl-errors", scenario_sysctl_errors);
    rootfs_fixtures_finish();
    return done_testing();
}
