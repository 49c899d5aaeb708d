/* What the rootfs tests share (test_rootfs.c: the full and hostile layouts;
 * test_rootfs_ns.c: namespace variants and error paths): child-side
 * reporting, fixture builders, and the host fixtures both files start from.
 * Each scenario runs in a forked child that unshares a mount + UTS
 * namespace and reports its results over a pipe (tap.h: cok = tap_child_ok,
 * cskip = tap_child_skip, collected once each by run()). */
#ifndef HULL_TESTS_UNIT_ROOTFS_HELPERS_H
#define HULL_TESTS_UNIT_ROOTFS_HELPERS_H

#pragma GCC diagnostic ignored "-Wunused-function"   /* each test file uses a subset */
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

#include "linux/rootfs.h"
#include "tap.h"

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

static char base[128], host[256];
static bool kcore_on_host;
static long host_cgroup_type;   /* statfs f_type of the host's /sys/fs/cgroup */
static int res_fd = -1;

/* ---- child-side reporting --------------------------------------------- */

/* tap.h's child protocol on res_fd: one line per result, one TAP line each. */
#define cok(cond, ...) tap_child_ok(res_fd, !!(cond), __VA_ARGS__)
#define cskip(...) tap_child_skip(res_fd, __VA_ARGS__)

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

static char full_root[256], data_dir[300], file_src[300];
static char hostile_root[256];
static char simple_root[256];

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
    must(f != NULL, "fdopen");
    tap_child_collect(f, name);
    fclose(f);
    int st;
    waitpid(pid, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: child exited cleanly (status %d)", name, st);
}

/* Root check, namespace probe, and every fixture (host dir, data dir, the
 * full, hostile and simple rootfs) under fresh temp dirs. */
static void rootfs_fixtures_setup(void) {
    if (geteuid() != 0) plan_skip_all("needs root (mount namespaces, mknod)");
    kcore_on_host = access("/proc/kcore", F_OK) == 0;
    host_cgroup_type = fs_type("/sys/fs/cgroup");
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
}

/* The host side after all scenarios: nothing leaked out of the namespaces;
 * then the fixtures go. */
static void rootfs_fixtures_finish(void) {
    char p[1024], cmd[2600];
    /* the host side after all scenarios: nothing leaked out of the namespaces */
    struct stat sb;
    ok(stat(in(host, "evilnode", p, sizeof p), &sb) != 0, "host: no evilnode created");
    ok(stat(in(host, "devdir/null", p, sizeof p), &sb) != 0, "host: no /dev/null created in host devdir");
    snprintf(cmd, sizeof cmd, "grep -q '%s' /proc/self/mountinfo", base);
    ok(system(cmd) != 0, "host: no mount under the fixture dir is visible from the host");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", base, host);
    if (system(cmd) != 0) diag("cleanup of %s failed", base);
}

#endif
