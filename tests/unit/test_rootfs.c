/* The container filesystem, for real: each scenario runs in a forked child
 * that unshares a mount + UTS namespace, builds the rootfs with
 * hull_rootfs_prepare/pivot/finalize from a hand-built spec, then checks what
 * it sees and reports "1<TAB>msg" / "0<TAB>msg" lines over a pipe; the parent
 * prints the TAP. Includes hostile rootfs layouts (symlinks out of the root). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "namespaces/rootfs.h"
#include "tap.h"

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

static char base[128], host[256];
static bool kcore_on_host;
static int res_fd = -1;

/* ---- child-side reporting --------------------------------------------- */

static void cok(int cond, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' ';
    dprintf(res_fd, "%d\t%s\n", cond ? 1 : 0, msg);
}

#define CHECK_RC(call, what) do { struct hull_err _e = {0}; int _rc = (call); \
    cok(_rc == 0, "%s%s%s", what, _rc ? ": " : "", _rc ? _e.msg : ""); if (_rc) return; } while (0)
#define E (&_e)

static bool is_chr(const char *p, unsigned maj, unsigned min) {
    struct stat st;
    return lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(maj, min);
}

static long fs_type(const char *p) {
    struct statfs sf;
    return statfs(p, &sf) == 0 ? (long)sf.f_type : -1;
}

static int errno_of_create(const char *p) {
    int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0) { close(fd); return 0; }
    return errno;
}

static ssize_t read_file(const char *p, char *buf, size_t len) {
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n >= 0) buf[n] = '\0';
    return n < 0 ? -errno : n;
}

static bool link_is(const char *p, const char *want) {
    char buf[PATH_MAX];
    ssize_t n = readlink(p, buf, sizeof buf - 1);
    if (n < 0) return false;
    buf[n] = '\0';
    return !strcmp(buf, want);
}

/* The options field of the mountinfo line for mount point mp ("" if none). */
static void mount_opts_of(const char *mp, char *out, size_t len) {
    out[0] = '\0';
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char m[PATH_MAX], o[1024];
        if (sscanf(line, "%*s %*s %*s %*s %4095s %1023s", m, o) == 2 && !strcmp(m, mp))
            snprintf(out, len, "%s|%s", o, strstr(line, " - ") ? strstr(line, " - ") : "");
    }
    fclose(f);
}

static int count_entries_fd(int dfd) {
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static bool is_mount_root(int dfd, const char *name) {
    struct statx sx;
    if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0) return false;
    return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int run_in_container(char *const argv[]) {
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- fixtures --------------------------------------------------------- */

static void must(int cond, const char *what) {
    if (!cond) {
        printf("Bail out! fixture: %s\n", what);
        exit(1);
    }
}

static void write_file(const char *p, const char *content) {
    FILE *f = fopen(p, "we");
    must(f != NULL, p);
    fputs(content, f);
    fclose(f);
}

static char *make_rootfs(const char *name, char *out, size_t len) {
    snprintf(out, len, "%s/%s", base, name);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/bin %s/etc && cp /bin/busybox %s/bin/busybox && "
             "ln -s busybox %s/bin/sh && ln -s busybox %s/bin/true", out, out, out, out, out);
    must(system(cmd) == 0, cmd);
    return out;
}

static char *in(const char *root, const char *rel, char *out, size_t len) {
    snprintf(out, len, "%s/%s", root, rel);
    return out;
}

#define MNT(dst, typ, src, ...) { .destination = (dst), .type = (typ), .source = (src), \
    .options = (char *[]){__VA_ARGS__}, .n_options = sizeof((char *[]){__VA_ARGS__}) / sizeof(char *) }
#define NOOPT NULL

/* ---- scenario: a full, typical container ------------------------------ */

static char full_root[256], data_dir[300], file_src[300];

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
    if (cgt == CGROUP2_SUPER_MAGIC) {
        cok(1, "cgroup2 host: /sys/fs/cgroup is cgroup2");
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

static char hostile_root[256];

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

static char simple_root[256];

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
    cok(shared, "/ is shared after pivot with rootfsPropagation rshared");
}

/* ---- scenario: cgroup namespace: hierarchies mounted directly ---------- */

static void scenario_cgroupns(void) {
    if (unshare(CLONE_NEWCGROUP) < 0) {
        cok(1, "no cgroup namespaces here (%s): skipped", strerror(errno));
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
    CHECK_RC(hull_rootfs_prepare(&spec, &o, E), "prepare with a cgroup namespace");
    CHECK_RC(hull_rootfs_pivot(&spec, &o, E), "pivot");
    long t = fs_type("/sys/fs/cgroup");
    if (t == CGROUP2_SUPER_MAGIC) {
        cok(1, "cgroup2 host: mounted cgroup2");
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
            cok(1, "user namespaces unavailable here (%s): skipped", strerror(errno));
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

static void run(const char *name, void (*fn)(void)) {
    int p[2];
    must(pipe(p) == 0, "pipe");
    fflush(stdout);
    pid_t pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
        close(p[0]);
        res_fd = p[1];
        if (unshare(CLONE_NEWNS | CLONE_NEWUTS) < 0) {
            cok(0, "unshare(CLONE_NEWNS|CLONE_NEWUTS): %s", strerror(errno));
            _exit(1);
        }
        fn();
        _exit(0);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        ok(line[0] == '1', "%s: %s", name, tab + 1);
    }
    fclose(f);
    int st;
    waitpid(pid, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: child exited cleanly (status %d)", name, st);
}

int main(void) {
    if (geteuid() != 0) plan_skip_all("needs root (mount namespaces, mknod)");
    kcore_on_host = access("/proc/kcore", F_OK) == 0;
    if (access("/bin/busybox", X_OK) != 0) plan_skip_all("needs busybox-static (/bin/busybox)");
    pid_t probe = fork();
    if (probe == 0) _exit(unshare(CLONE_NEWNS | CLONE_NEWUTS) == 0 ? 0 : 1);
    int st;
    waitpid(probe, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) plan_skip_all("cannot unshare a mount namespace here");

    char t1[] = "/tmp/hull-rootfs-XXXXXX", t2[] = "/tmp/hull-hostdir-XXXXXX";
    must(mkdtemp(t1) && mkdtemp(t2), "mkdtemp");
    snprintf(base, sizeof base, "%s", t1);
    snprintf(host, sizeof host, "%s", t2);
    char p[1024], q[1024], cmd[2600];
    write_file(in(host, "hostfile", p, sizeof p), "host secret");
    write_file(in(host, "hostfile2", p, sizeof p), "host secret 2");
    must(mkdir(in(host, "devdir", p, sizeof p), 0755) == 0, "host devdir");
    must(mkdir(in(host, "mntdir", p, sizeof p), 0755) == 0, "host mntdir");
    must(mkdir(in(host, "procdir", p, sizeof p), 0755) == 0, "host procdir");
    snprintf(data_dir, sizeof data_dir, "%s/data", base);
    must(mkdir(data_dir, 0755) == 0 && mkdir(in(data_dir, "sub", p, sizeof p), 0755) == 0, "data dir");
    write_file(in(data_dir, "hello", p, sizeof p), "data");
    /* a submount inside the bind source, for rro */
    snprintf(file_src, sizeof file_src, "%s/file.txt", base);
    write_file(file_src, "file-bind");

    make_rootfs("full", full_root, sizeof full_root);
    must(mkdir(in(full_root, "ro-dir", p, sizeof p), 0755) == 0, "ro-dir");
    must(mkdir(in(full_root, "mask-dir", p, sizeof p), 0755) == 0, "mask-dir");
    write_file(in(full_root, "mask-dir/inner", p, sizeof p), "hidden");
    write_file(in(full_root, "masked-file", p, sizeof p), "secret");

    make_rootfs("hostile", hostile_root, sizeof hostile_root);
    snprintf(q, sizeof q, "%s/procdir", host);
    must(symlink(q, in(hostile_root, "proc", p, sizeof p)) == 0, "proc -> host/procdir");
    snprintf(q, sizeof q, "%s/devdir", host);
    must(symlink(q, in(hostile_root, "dev", p, sizeof p)) == 0, "dev -> host/devdir");
    must(mkdir(in(hostile_root, "mnt", p, sizeof p), 0755) == 0, "mnt");
    snprintf(q, sizeof q, "../../../../../../../..%s/mntdir", host);
    must(symlink(q, in(hostile_root, "mnt/x", p, sizeof p)) == 0, "mnt/x -> ../../host/mntdir");
    snprintf(q, sizeof q, "%s/hostfile", host);
    must(symlink(q, in(hostile_root, "etc/resolv.conf", p, sizeof p)) == 0, "resolv.conf -> host file");
    snprintf(q, sizeof q, "%s/hostfile2", host);
    must(symlink(q, in(hostile_root, "masked", p, sizeof p)) == 0, "masked -> host file");
    /* the in-root twin of the host file, which the mask must hit instead */
    snprintf(cmd, sizeof cmd, "mkdir -p %s%s && echo inroot > %s%s/hostfile2", hostile_root, host,
             hostile_root, host);
    must(system(cmd) == 0, cmd);
    snprintf(q, sizeof q, "/../../../..%s/hostfile2", host);
    must(symlink(q, in(hostile_root, "masked2", p, sizeof p)) == 0, "masked2 -> ../host file");
    snprintf(q, sizeof q, "../../../../../../..%s", host);
    must(symlink(q, in(hostile_root, "rolink", p, sizeof p)) == 0, "rolink -> ../../host");
    must(mkdir(in(hostile_root, "devx", p, sizeof p), 0755) == 0, "devx");
    snprintf(q, sizeof q, "%s/evilnode", host);
    must(symlink(q, in(hostile_root, "devx/evilnode", p, sizeof p)) == 0, "devx/evilnode -> host");

    make_rootfs("simple", simple_root, sizeof simple_root);

    run("full", scenario_full);
    run("hostile", scenario_hostile);
    run("no-pivot", scenario_no_pivot);
    run("rshared", scenario_shared);
    run("cgroupns", scenario_cgroupns);
    run("userns", scenario_userns);
    run("errors", scenario_errors);
    run("sysctl-errors", scenario_sysctl_errors);

    /* the host side after all scenarios: nothing leaked out of the namespaces */
    struct stat sb;
    ok(stat(in(host, "evilnode", p, sizeof p), &sb) != 0, "host: no evilnode created");
    ok(stat(in(host, "devdir/null", p, sizeof p), &sb) != 0, "host: no /dev/null created in host devdir");
    snprintf(cmd, sizeof cmd, "grep -q '%s' /proc/self/mountinfo", base);
    ok(system(cmd) != 0, "host: no mount under the fixture dir is visible from the host");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", base, host);
    if (system(cmd) != 0) diag("cleanup of %s failed", base);
    return done_testing();
}
