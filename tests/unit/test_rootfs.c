/* The container filesystem, for real: a full, typical container and hostile
 * rootfs layouts (symlinks out of the root), built by hull_rootfs_prepare/
 * pivot/finalize from hand-built specs and checked from inside. Namespace
 * variants and error paths: test_rootfs_ns.c. */
#include "rootfs_helpers.h"

/* ---- scenario: a full, typical container ------------------------------ */


static void scenario_full(void) {
    struct hull_mount mounts[] = {
        MNT("/proc", "proc", "proc", NOOPT),
        MNT("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
        MNT("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"),
        MNT("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
        MNT("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
        MNT("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
        MNT("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro"),
        MNT("/data", "bind", data_dir, "rbind", "ro", "nosuid"),
        MNT("/etc/hostfile", NULL, file_src, "bind", "ro"),
        MNT("/rec", "bind", data_dir, "rbind", "rro", "rprivate"),
        MNT("/run", "tmpfs", "tmpfs", "rnoexec", "mode=700"),
    };
    struct hull_device devs[] = {
        {.path = "/dev/sub/mydev", .type = 'c', .major = 1, .minor = 7,
         .file_mode = {true, 0640}, .uid = {true, 1000}, .gid = {true, 1000}},
        {.path = "/dev/myfifo", .type = 'p', .file_mode = {true, 0600}},
    };
    struct hull_kv sysctl[] = {{"kernel.domainname", "sysctl-domain"}};
    char *ro[] = {"/proc/sys", "/ro-dir", "/nonexistent"};
    char *masked[] = {"/proc/kcore", "/mask-dir", "/masked-file", "/proc/nonexistent"};
    struct hull_spec spec = {0};
    spec.mounts = mounts;
    spec.n_mounts = sizeof mounts / sizeof mounts[0];
    spec.hostname = "hull-test";
    spec.root_readonly = true;
    spec.linux.devices = devs;
    spec.linux.n_devices = 2;
    spec.linux.sysctl = sysctl;
    spec.linux.n_sysctl = 1;
    spec.linux.readonly_paths = ro;
    spec.linux.n_readonly_paths = 3;
    spec.linux.masked_paths = masked;
    spec.linux.n_masked_paths = 4;
    struct hull_rootfs_opts o = {.rootfs = full_root, .bundle = base};

    /* a submount in the bind source (in this namespace only), for rbind vs rro */
    char sub[400];
    snprintf(sub, sizeof sub, "%s/sub", data_dir);
    cok(mount("tmpfs", sub, "tmpfs", 0, NULL) == 0, "fixture: tmpfs submount in the bind source");
    CHECK_RC(hull_rootfs_prepare(&spec, &o, E), "prepare");
    CHECK_RC(hull_set_hostname(&spec, E), "set hostname");
    CHECK_RC(hull_rootfs_pivot(&spec, &o, E), "pivot");
    CHECK_RC(hull_rootfs_finalize(&spec, &o, E), "finalize");

    struct stat a, b;
    cok(stat("/", &a) == 0 && stat("/..", &b) == 0 && a.st_ino == b.st_ino, "/.. is / after pivot");
    cok(access("/bin/busybox", X_OK) == 0, "/bin/busybox is there");
    cok(access(full_root, F_OK) != 0, "the host path of the rootfs is gone");
    cok(is_chr("/dev/null", 1, 3), "/dev/null is char 1:3");
    cok(is_chr("/dev/zero", 1, 5), "/dev/zero is char 1:5");
    cok(is_chr("/dev/full", 1, 7), "/dev/full is char 1:7");
    cok(is_chr("/dev/random", 1, 8), "/dev/random is char 1:8");
    cok(is_chr("/dev/urandom", 1, 9), "/dev/urandom is char 1:9");
    cok(is_chr("/dev/tty", 5, 0), "/dev/tty is char 5:0");
    struct stat st;
    cok(lstat("/dev/null", &st) == 0 && (st.st_mode & 07777) == 0666, "/dev/null mode 0666");
    cok(link_is("/dev/ptmx", "pts/ptmx"), "/dev/ptmx -> pts/ptmx");
    cok(link_is("/dev/fd", "/proc/self/fd"), "/dev/fd -> /proc/self/fd");
    cok(link_is("/dev/stdin", "/proc/self/fd/0") && link_is("/dev/stdout", "/proc/self/fd/1") &&
        link_is("/dev/stderr", "/proc/self/fd/2"), "/dev/std{in,out,err} symlinks");
    cok(is_chr("/dev/sub/mydev", 1, 7), "linux.devices: /dev/sub/mydev is char 1:7");
    cok(lstat("/dev/sub/mydev", &st) == 0 && (st.st_mode & 07777) == 0640 && st.st_uid == 1000 &&
        st.st_gid == 1000, "linux.devices: mode 0640, owner 1000:1000");
    cok(lstat("/dev/myfifo", &st) == 0 && S_ISFIFO(st.st_mode), "linux.devices: fifo");
    cok(fs_type("/proc") == PROC_SUPER_MAGIC, "/proc is procfs");
    cok(fs_type("/dev") == TMPFS_MAGIC, "/dev is tmpfs");
    cok(fs_type("/dev/pts") == DEVPTS_SUPER_MAGIC, "/dev/pts is devpts");
    cok(fs_type("/dev/shm") == TMPFS_MAGIC, "/dev/shm is tmpfs");
    cok(fs_type("/dev/mqueue") == MQUEUE_MAGIC, "/dev/mqueue is mqueue");
    cok(fs_type("/sys") == SYSFS_MAGIC, "/sys is sysfs");
    cok(errno_of_create("/dev/shm/x") == 0, "/dev/shm is writable");

    char opts[2048];
    mount_opts_of("/sys", opts, sizeof opts);
    cok(!strncmp(opts, "ro,", 3) && strstr(opts, "nosuid") && strstr(opts, "noexec"), "/sys ro,nosuid,noexec (%s)", opts);
    mount_opts_of("/data", opts, sizeof opts);
    cok(!strncmp(opts, "ro,", 3) && strstr(opts, "nosuid"), "/data bind is ro,nosuid (%s)", opts);
    char buf[256];
    cok(read_file("/data/hello", buf, sizeof buf) > 0 && !strcmp(buf, "data"), "/data/hello readable");
    cok(errno_of_create("/data/new") == EROFS, "/data: create gives EROFS");
    cok(read_file("/etc/hostfile", buf, sizeof buf) > 0 && !strcmp(buf, "file-bind"), "file bind /etc/hostfile");
    cok(errno_of_create("/etc/hostfile") == EROFS, "file bind is read-only");
    cok(errno_of_create("/data/sub/x") == 0, "plain ro on an rbind leaves the submount writable");
    cok(errno_of_create("/rec/sub/x") == EROFS, "rro: a submount of the rbind is read-only too");
    mount_opts_of("/run", opts, sizeof opts);
    cok(strstr(opts, "noexec") != NULL, "rnoexec on /run (%s)", opts);

    /* cgroups: hybrid v1 host */
    long cgt = fs_type("/sys/fs/cgroup");
    if (host_cgroup_type == CGROUP2_SUPER_MAGIC) {
        cok(cgt == CGROUP2_SUPER_MAGIC, "cgroup2 host: /sys/fs/cgroup is cgroup2 (type 0x%lx)", cgt);
        cok(mkdir("/sys/fs/cgroup/hull-x", 0755) < 0 && errno == EROFS, "cgroup2 mount is read-only");
    } else {
        cok(cgt == TMPFS_MAGIC, "/sys/fs/cgroup is a tmpfs on a v1 host");
        cok(fs_type("/sys/fs/cgroup/memory") == CGROUP_SUPER_MAGIC, "/sys/fs/cgroup/memory is cgroup");
        cok(mkdir("/sys/fs/cgroup/memory/hull-x", 0755) < 0 && errno == EROFS, "cgroup mounts are read-only");
        cok(mkdir("/sys/fs/cgroup/newdir", 0755) < 0 && errno == EROFS, "cgroup tmpfs is read-only");
        if (access("/sys/fs/cgroup/unified", F_OK) == 0)
            cok(fs_type("/sys/fs/cgroup/unified") == CGROUP2_SUPER_MAGIC, "hybrid: unified is cgroup2");
    }

    struct utsname u;
    uname(&u);
    cok(!strcmp(u.nodename, "hull-test"), "hostname is hull-test (%s)", u.nodename);
    cok(!strcmp(u.domainname, "sysctl-domain"), "sysctl kernel.domainname applied (%s)", u.domainname);
    int fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
    cok(fd < 0 && errno == EROFS, "readonly path /proc/sys: write gives EROFS");
    if (fd >= 0) close(fd);
    cok(errno_of_create("/ro-dir/x") == EROFS, "readonly path /ro-dir: EROFS");
    if (access("/proc/kcore", F_OK) == 0 || !kcore_on_host)
        cok(!kcore_on_host || read_file("/proc/kcore", buf, sizeof buf) == 0,
            "masked /proc/kcore reads empty%s", kcore_on_host ? "" : " (kernel has no /proc/kcore)");
    cok(read_file("/masked-file", buf, sizeof buf) == 0, "masked file reads empty");
    cok(errno_of_create("/masked-file") == EACCES || errno_of_create("/masked-file") == 0 ||
        errno_of_create("/masked-file") == EROFS, "masked file: writes go to /dev/null");
    DIR *d = opendir("/mask-dir");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    cok(d && n == 0, "masked dir is empty (%d entries)", n);
    cok(errno_of_create("/mask-dir/x") == EROFS, "masked dir is read-only");
    cok(errno_of_create("/newfile") == EROFS, "readonly root: create in / gives EROFS");
    mount_opts_of("/", opts, sizeof opts);
    cok(!strncmp(opts, "ro", 2), "/ is ro in mountinfo (%s)", opts);
    char *argv[] = {"/bin/true", NULL};
    cok(run_in_container(argv) == 0, "exec /bin/true inside the new root");
}

/* ---- scenario: hostile rootfs ----------------------------------------- */


static void scenario_hostile(void) {
    char mnt_escape[512], dest_escape[512], hostfile[512], p[512];
    snprintf(mnt_escape, sizeof mnt_escape, "/../../../../../../..%s/evil2", host);
    snprintf(dest_escape, sizeof dest_escape, "%s", mnt_escape);
    snprintf(hostfile, sizeof hostfile, "%s/hostfile", host);
    struct hull_mount mounts[] = {
        MNT("/proc", "proc", "proc", NOOPT),            /* /proc -> host dir */
        MNT("/mnt/x", "tmpfs", "tmpfs", NOOPT),         /* ../../..host/mntdir */
        MNT(dest_escape, "tmpfs", "tmpfs", NOOPT),      /* literal ../../ in the destination */
        MNT("/etc/resolv.conf", "bind", file_src, "bind", "ro"), /* -> host/hostfile */
    };
    struct hull_device devs[] = {
        {.path = "/devx/evilnode", .type = 'c', .major = 1, .minor = 3},   /* -> host/evilnode */
    };
    char *masked[] = {"/masked", "/masked2"};
    char *ro[] = {"/rolink"};
    struct hull_spec spec = {0};
    spec.mounts = mounts;
    spec.n_mounts = 4;
    spec.linux.devices = devs;
    spec.linux.n_devices = 1;
    spec.linux.masked_paths = masked;
    spec.linux.n_masked_paths = 2;
    spec.linux.readonly_paths = ro;
    spec.linux.n_readonly_paths = 1;
    struct hull_rootfs_opts o = {.rootfs = hostile_root, .bundle = base};

    int tmp_fd = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int host_fd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
    char devdir[300];
    snprintf(devdir, sizeof devdir, "%s/devdir", host);
    int dev_fd = open(devdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    const char *host_base = strrchr(host, '/') + 1;
    int before = count_entries_fd(host_fd);

    CHECK_RC(hull_rootfs_prepare(&spec, &o, E), "prepare with hostile symlinks");
    CHECK_RC(hull_rootfs_pivot(&spec, &o, E), "pivot");
    CHECK_RC(hull_rootfs_finalize(&spec, &o, E), "finalize with hostile masked/readonly paths");

    cok(count_entries_fd(host_fd) == before, "host dir: no new entries (%d, was %d)",
        count_entries_fd(host_fd), before);
    cok(count_entries_fd(dev_fd) == 0, "host devdir: no device nodes created there");
    cok(!is_mount_root(tmp_fd, host_base), "host dir is not a mount point");
    cok(!is_mount_root(host_fd, "procdir"), "host procdir is not a mount point (proc did not land there)");
    cok(!is_mount_root(host_fd, "mntdir"), "host mntdir is not a mount point");
    cok(!is_mount_root(host_fd, "hostfile"), "host file is not a mount point");
    cok(!is_mount_root(host_fd, "hostfile2"), "host file behind the masked symlink is not a mount point");
    cok(!is_mount_root(host_fd, "devdir"), "host devdir is not a mount point");
    int hf = openat(host_fd, "hostfile", O_RDONLY | O_CLOEXEC);
    char buf[256] = "";
    ssize_t n = hf >= 0 ? read(hf, buf, sizeof buf - 1) : -1;
    if (n >= 0) buf[n] = '\0';
    if (hf >= 0) close(hf);
    cok(!strcmp(buf, "host secret"), "host file content unchanged");
    hf = openat(host_fd, "hostfile2", O_RDONLY | O_CLOEXEC);
    n = hf >= 0 ? read(hf, buf, sizeof buf - 1) : -1;
    buf[n > 0 ? n : 0] = '\0';
    if (hf >= 0) close(hf);
    cok(!strcmp(buf, "host secret 2"), "host file behind the masked symlink unchanged");

    cok(fs_type("/proc") == PROC_SUPER_MAGIC, "inside: /proc (a symlink) leads to the proc mount in the root");
    snprintf(p, sizeof p, "%s/procdir", host);
    cok(fs_type(p) == PROC_SUPER_MAGIC, "inside: proc landed on <root>%s/procdir", host);
    cok(is_chr("/dev/null", 1, 3), "inside: /dev (symlink to a host path) got /dev/null inside the root");
    cok(is_chr("/devx/evilnode", 1, 3), "inside: the planted symlink was replaced by the device node");
    cok(fs_type("/mnt/x") == TMPFS_MAGIC, "inside: /mnt/x (../../ symlink) is the tmpfs");
    snprintf(p, sizeof p, "%s/evil2", host);
    cok(fs_type(p) == TMPFS_MAGIC, "inside: destination with ../../ was clamped to <root>%s/evil2", host);
    n = read_file("/etc/resolv.conf", buf, sizeof buf);
    cok(n > 0 && !strcmp(buf, "file-bind"),
        "inside: file bind through a dangling symlink landed inside (%zd \"%s\")", n, n >= 0 ? buf : "");
    cok(read_file("/masked", buf, sizeof buf) == 0, "inside: masked symlink to a host file masks the in-root file");
    cok(read_file("/masked2", buf, sizeof buf) == 0, "inside: masked ../ symlink masks the in-root file");
    cok(errno_of_create("/rolink/x") == EROFS, "inside: readonly path through a ../ symlink is read-only");
}

/* ---- scenario: --no-pivot and shared propagation ---------------------- */

int main(void) {
    rootfs_fixtures_setup();
    run("full", scenario_full);
    run("hostile", scenario_hostile);
    rootfs_fixtures_finish();
    return done_testing();
}
