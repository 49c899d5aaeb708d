/* Unprivileged parts of the rootfs code: in-root path resolution against
 * hostile symlinks, mount option parsing, sysctl key conversion. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/rootfs_internal.h"
#include "tap.h"

static char root[256], host[256];

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static bool in_root(int fd) {
    /* the fd's real path must be under root */
    char p[64], real[PATH_MAX];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, real, sizeof real - 1);
    if (n < 0) return false;
    real[n] = '\0';
    return strncmp(real, root, strlen(root)) == 0;
}

static void test_safe_paths(void) {
    char tmpl[] = "/tmp/hull-paths-XXXXXX", htmpl[] = "/tmp/hull-host-XXXXXX";
    if (!mkdtemp(tmpl) || !mkdtemp(htmpl)) bail_out("mkdtemp: %s", strerror(errno));
    snprintf(root, sizeof root, "%s", tmpl);
    snprintf(host, sizeof host, "%s", htmpl);
    int rfd = open(root, O_PATH | O_DIRECTORY);
    struct hull_err err = {0};
    char path[PATH_MAX * 2];

    /* an absolute symlink to a host dir, a relative one climbing out */
    snprintf(path, sizeof path, "%s/abs", root);
    ok(symlink(host, path) == 0, "fixture: abs -> host dir");
    snprintf(path, sizeof path, "%s/rel", root);
    char rel[512];
    snprintf(rel, sizeof rel, "../../../../../../..%s", host);
    ok(symlink(rel, path) == 0, "fixture: rel -> ../../..host dir");
    snprintf(path, sizeof path, "%s/hostfile", host);
    int f = open(path, O_CREAT | O_WRONLY, 0644);
    close(f);

    int fd = hull_open_in_root(rfd, "/abs/hostfile", O_RDONLY, 0, &err);
    is_int(fd, -ENOENT, "open_in_root: absolute symlink to a host file does not reach the host");
    like(err.msg, "/abs/hostfile", "open_in_root: error names the path");
    fd = hull_open_in_root(rfd, "../../../../etc/passwd", O_RDONLY, 0, &err);
    is_int(fd, -ENOENT, "open_in_root: ../../etc/passwd is clamped to the root");
    fd = hull_open_in_root(rfd, "/proc/self/root/etc/passwd", O_RDONLY, 0, &err);
    ok(fd < 0, "open_in_root: /proc magic link path does not resolve");

    hull_err_clear(&err);
    fd = hull_mkdirs_in_root(rfd, "/abs/sub/dir", 0755, &err);
    ok(fd >= 0 && in_root(fd), "mkdirs through an absolute dangling symlink stays in the root: %s", err.msg);
    if (fd >= 0) close(fd);
    snprintf(path, sizeof path, "%s%s/sub/dir", root, host);
    struct stat st;
    ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "the directory was made at root%s/sub/dir", host);
    is_int(count_entries(host), 1, "the host dir was not touched");

    hull_err_clear(&err);
    fd = hull_mkdirs_in_root(rfd, "/rel/x", 0755, &err);
    ok(fd >= 0 && in_root(fd), "mkdirs through a ../../ symlink stays in the root: %s", err.msg);
    if (fd >= 0) close(fd);
    is_int(count_entries(host), 1, "the host dir was still not touched");

    fd = hull_mkdirs_in_root(rfd, "a/b/../c//d/", 0755, &err);
    ok(fd >= 0 && in_root(fd), "mkdirs with .. and // inside");
    if (fd >= 0) close(fd);
    snprintf(path, sizeof path, "%s/a/c/d", root);
    ok(stat(path, &st) == 0, "a/c/d exists");

    /* a loop of symlinks */
    snprintf(path, sizeof path, "%s/loop1", root);
    ok(symlink("loop2", path) == 0, "fixture: loop1 -> loop2");
    snprintf(path, sizeof path, "%s/loop2", root);
    ok(symlink("loop1", path) == 0, "fixture: loop2 -> loop1");
    fd = hull_mkdirs_in_root(rfd, "/loop1/x", 0755, &err);
    ok(fd < 0, "mkdirs through a symlink loop fails: %s", err.msg);

    /* a regular file where a directory is needed */
    snprintf(path, sizeof path, "%s/file", root);
    f = open(path, O_CREAT | O_WRONLY, 0644);
    close(f);
    fd = hull_mkdirs_in_root(rfd, "/file/x", 0755, &err);
    is_int(fd, -ENOTDIR, "mkdirs under a regular file: ENOTDIR");
    like(err.msg, "/file", "error names the path");

    /* file targets: a dangling absolute symlink as the last component */
    snprintf(path, sizeof path, "%s/etc", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/etc/resolv.conf", root);
    char tgt[512];
    snprintf(tgt, sizeof tgt, "%s/newfile", host);
    ok(symlink(tgt, path) == 0, "fixture: etc/resolv.conf -> host/newfile");
    hull_err_clear(&err);
    fd = hull_mkfile_in_root(rfd, "/etc/resolv.conf", 0644, &err);
    ok(fd >= 0 && in_root(fd), "mkfile through a dangling symlink stays in the root: %s", err.msg);
    if (fd >= 0) close(fd);
    ok(access(tgt, F_OK) != 0, "no file created on the host");
    snprintf(path, sizeof path, "%s%s/newfile", root, host);
    ok(access(path, F_OK) == 0, "the file was created inside the root");

    char base[NAME_MAX + 1];
    fd = hull_parent_in_root(rfd, "/", base, sizeof base, &err);
    ok(fd < 0, "parent_in_root refuses /");
    fd = hull_parent_in_root(rfd, "/x/..", base, sizeof base, &err);
    ok(fd < 0, "parent_in_root refuses a trailing ..");
    char longname[600];
    memset(longname, 'a', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = '\0';
    fd = hull_parent_in_root(rfd, longname, base, sizeof base, &err);
    is_int(fd, -ENAMETOOLONG, "parent_in_root: a 600-byte name is refused");

    close(rfd);
    char cmd[PATH_MAX * 3];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", root, host);
    if (system(cmd) != 0) diag("cleanup failed");
}

static void test_opts(void) {
    struct hull_err err = {0};
    struct hull_mount_opts mo;
    char *o1[] = {"rbind", "ro", "nosuid", "nodev", "rslave", "mode=755", "size=1m", "", "x-foo"};
    is_int(hull_mount_opts_parse(o1, 9, &mo, &err), 0, "parse a typical option list");
    ok((mo.flags & (MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV)) ==
           (MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV), "flags set");
    is_int(mo.n_propagation, 1, "one propagation option");
    ok(mo.propagation[0] == (MS_SLAVE | MS_REC), "rslave is MS_SLAVE|MS_REC");
    is_str(mo.data, "mode=755,size=1m", "unknown options go to data, x- hints dropped");
    hull_mount_opts_free(&mo);

    char *o2[] = {"ro", "rw", "suid", "noatime", "strictatime"};
    hull_mount_opts_parse(o2, 5, &mo, &err);
    ok(!(mo.flags & MS_RDONLY) && (mo.clear & MS_RDONLY) && mo.has_rw, "rw after ro wins and is remembered");
    ok(mo.clear & MS_NOSUID, "suid clears nosuid");
    ok((mo.flags & MS_STRICTATIME) && !(mo.flags & MS_NOATIME) && mo.atime_given, "last atime option wins");
    ok(mo.data == NULL, "no data");
    hull_mount_opts_free(&mo);

    char *o3[] = {"rro", "rnosuid", "rnoatime", "rrelatime", "rrw"};
    hull_mount_opts_parse(o3, 5, &mo, &err);
    ok(!(mo.rec_set & MOUNT_ATTR_RDONLY) && (mo.rec_clr & MOUNT_ATTR_RDONLY), "rrw after rro clears ro");
    ok(mo.rec_set & MOUNT_ATTR_NOSUID, "rnosuid");
    ok((mo.rec_clr & MOUNT_ATTR__ATIME) == MOUNT_ATTR__ATIME &&
           (mo.rec_set & MOUNT_ATTR__ATIME) == MOUNT_ATTR_RELATIME, "rrelatime replaces rnoatime");
    hull_mount_opts_free(&mo);

    char *o4[] = {"ro", "tmpcopyup"};
    ok(hull_mount_opts_parse(o4, 2, &mo, &err) < 0, "tmpcopyup refused");
    like(err.msg, "tmpcopyup", "error names the option");
    char *o5[] = {"idmap"};
    ok(hull_mount_opts_parse(o5, 1, &mo, &err) < 0, "idmap refused");
    like(err.msg, "idmap", "error names idmap");
    char *o6[] = {"private", "shared", "slave", "unbindable", "rprivate", "rshared", "rslave",
                  "runbindable", "private"};
    ok(hull_mount_opts_parse(o6, 9, &mo, &err) < 0, "too many propagation options refused");
    ok(hull_mount_opts_parse(NULL, 0, &mo, &err) == 0 && mo.flags == 0, "no options is fine");

    /* a huge option list does not overflow the data string */
    enum { N = 2000 };
    char **big = calloc(N, sizeof *big);
    for (int i = 0; i < N; i++) big[i] = "size=123456789012345";
    ok(hull_mount_opts_parse(big, N, &mo, &err) == 0 && mo.data &&
           strlen(mo.data) == (size_t)N * 21 - 1, "2000 data options joined correctly");
    hull_mount_opts_free(&mo);
    free(big);
}

static void test_sysctl_keys(void) {
    struct hull_err err = {0};
    char out[256];
    ok(hull_sysctl_key_to_path("net.ipv4.ip_forward", out, sizeof out, &err) == 0, "dotted key");
    is_str(out, "net/ipv4/ip_forward", "dots become slashes");
    hull_sysctl_key_to_path("net.ipv4.conf.eth0/100.forwarding", out, sizeof out, &err);
    is_str(out, "net/ipv4/conf/eth0.100/forwarding", "a slash in a dotted key is a literal dot");
    hull_sysctl_key_to_path("kernel/hostname", out, sizeof out, &err);
    is_str(out, "kernel/hostname", "slashed key kept");
    ok(hull_sysctl_key_to_path("..", out, sizeof out, &err) < 0, "\"..\" refused");
    ok(hull_sysctl_key_to_path("../../etc/passwd", out, sizeof out, &err) < 0, "../../etc/passwd refused");
    ok(hull_sysctl_key_to_path("kernel..hostname", out, sizeof out, &err) < 0, "empty component refused");
    ok(hull_sysctl_key_to_path("/kernel/hostname", out, sizeof out, &err) < 0, "leading slash refused");
    ok(hull_sysctl_key_to_path("", out, sizeof out, &err) < 0, "empty key refused");
    ok(hull_sysctl_key_to_path("net.", out, sizeof out, &err) < 0, "trailing dot refused");
    char long_key[300];
    memset(long_key, 'a', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    ok(hull_sysctl_key_to_path(long_key, out, sizeof out, &err) == -ENAMETOOLONG, "over-long key refused");
}

int main(void) {
    test_safe_paths();
    test_opts();
    test_sysctl_keys();
    return done_testing();
}
