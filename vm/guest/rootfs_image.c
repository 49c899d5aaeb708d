/* Rootfs directory -> erofs/ext4 image through mkfs.erofs / mkfs.ext4 (see
 * rootfs_image.h for why the tools and not our own writer). */
#include "vm/guest/rootfs_image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fsutil.h"

extern char **environ;

static int key_hex(const char *key, char hex[65]) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    if (EVP_Digest(key, strlen(key), d, &dl, EVP_sha256(), NULL) != 1 || dl < 32) return -1;
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return 0;
}

const char *hull_rootfs_fs_name(enum hull_rootfs_fs fs) {
    switch (fs) {
    case HULL_ROOTFS_EROFS: return "erofs";
    case HULL_ROOTFS_EXT4: return "ext4";
    default: return "auto";
    }
}

/* The tool in PATH or the sbin directories (root's PATH is not always set up). */
static bool find_tool(const char *name, char *out, size_t n) {
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin", path ? path : "");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if ((size_t)snprintf(out, n, "%s/%s", d, name) >= n) continue;
        if (access(out, X_OK) == 0) return true;
    }
    return false;
}

int hull_rootfs_fs_pick(enum hull_rootfs_fs want, enum hull_rootfs_fs *out, struct hull_err *err) {
    char p[4096];
    if ((want == HULL_ROOTFS_AUTO || want == HULL_ROOTFS_EROFS) && find_tool("mkfs.erofs", p, sizeof p)) {
        *out = HULL_ROOTFS_EROFS;
        return 0;
    }
    if ((want == HULL_ROOTFS_AUTO || want == HULL_ROOTFS_EXT4) && find_tool("mkfs.ext4", p, sizeof p)) {
        *out = HULL_ROOTFS_EXT4;
        return 0;
    }
    if (want == HULL_ROOTFS_EROFS)
        return hull_err_set(err, ENOENT, "rootfs image: mkfs.erofs not found (apt-get install erofs-utils)");
    if (want == HULL_ROOTFS_EXT4)
        return hull_err_set(err, ENOENT, "rootfs image: mkfs.ext4 not found (apt-get install e2fsprogs)");
    return hull_err_set(err, ENOENT, "rootfs image: neither mkfs.erofs (erofs-utils) nor mkfs.ext4 (e2fsprogs) "
                        "is installed");
}

/* Runs argv[0] (looked up) with stdin from /dev/null; on failure the error
 * carries the tail of what it printed. */
static int run_tool(char *const argv[], struct hull_err *err) {
    char exe[4096];
    if (!find_tool(argv[0], exe, sizeof exe))
        return hull_err_set(err, ENOENT, "rootfs image: %s not found", argv[0]);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) return hull_err_sys(err, "rootfs image: pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        errno = rc;
        return hull_err_sys(err, "rootfs image: run %s", exe);
    }
    char out[2048];
    size_t len = 0;
    for (;;) {
        char buf[4096];
        ssize_t r = read(pfd[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        /* keep the last sizeof(out)-1 bytes: the error is usually at the end */
        for (ssize_t i = 0; i < r; i++) {
            if (len == sizeof out - 1) {
                memmove(out, out + 1, len - 1);
                len--;
            }
            out[len++] = buf[i];
        }
    }
    close(pfd[0]);
    out[len] = '\0';
    while (len && (out[len - 1] == '\n' || out[len - 1] == ' ')) out[--len] = '\0';
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return hull_err_sys(err, "rootfs image: wait for %s", argv[0]);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
    for (char *p = out; *p; p++)
        if (*p == '\n') *p = ' ';
    if (WIFSIGNALED(st))
        return hull_err_set(err, EIO, "rootfs image: %s killed by signal %d: %s", argv[0], WTERMSIG(st), out);
    return hull_err_set(err, EIO, "rootfs image: %s failed (exit %d): %s", argv[0], WEXITSTATUS(st), out);
}

/* Space and inodes of a tree, for sizing an ext4 image (nftw keeps no state of ours). */
static uint64_t walk_bytes, walk_inodes;
static int walk_cb(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)p; (void)flag; (void)f;
    walk_inodes++;
    uint64_t sz = S_ISREG(st->st_mode) || S_ISLNK(st->st_mode) ? (uint64_t)st->st_size : 0;
    walk_bytes += (sz + 4095) / 4096 * 4096 + (S_ISDIR(st->st_mode) ? 4096 : 0);
    return 0;
}

static int build_ext4(const char *dir, const char *out, struct hull_err *err) {
    walk_bytes = walk_inodes = 0;
    if (nftw(dir, walk_cb, 64, FTW_PHYS | FTW_MOUNT) != 0) return hull_err_sys(err, "rootfs image: walk %s", dir);
    uint64_t bytes = walk_bytes + walk_bytes / 4 + walk_inodes * 256 + (16u << 20);
    char size[32], inodes[32];
    snprintf(size, sizeof size, "%lluk", (unsigned long long)((bytes + 1023) / 1024));
    snprintf(inodes, sizeof inodes, "%llu", (unsigned long long)(walk_inodes + 1024));
    char *argv[] = {"mkfs.ext4", "-q", "-F", "-b", "4096", "-N", inodes, "-L", "hull-root", "-O", "^has_journal",
                    "-E", "lazy_itable_init=0,nodiscard", "-d", (char *)dir, (char *)out, size, NULL};
    return run_tool(argv, err);
}

static int build_erofs(const char *dir, const char *out, struct hull_err *err) {
    /* Uncompressed (the guest reads it at memory speed; decompression would run in
     * the guest kernel), per-file mtimes kept, xattrs (file capabilities) kept. */
    char *argv[] = {"mkfs.erofs", "--quiet", "--preserve-mtime", (char *)out, (char *)dir, NULL};
    return run_tool(argv, err);
}

int hull_rootfs_image_build(const char *rootfs_dir, enum hull_rootfs_fs fs, const char *out_path,
                            struct hull_err *err) {
    struct stat st;
    if (stat(rootfs_dir, &st) < 0) return hull_err_sys(err, "rootfs image: %s", rootfs_dir);
    if (!S_ISDIR(st.st_mode)) return hull_err_set(err, ENOTDIR, "rootfs image: %s is not a directory", rootfs_dir);
    int rc = hull_rootfs_fs_pick(fs, &fs, err);
    if (rc < 0) return rc;
    if (unlink(out_path) < 0 && errno != ENOENT) return hull_err_sys(err, "rootfs image: replace %s", out_path);
    rc = fs == HULL_ROOTFS_EROFS ? build_erofs(rootfs_dir, out_path, err) : build_ext4(rootfs_dir, out_path, err);
    if (rc < 0) unlink(out_path);
    return rc;
}

struct build_ctx { const char *dir; enum hull_rootfs_fs fs; };
static int build_by_path(int fd, const char *tmp, void *ctx, struct hull_err *err) {
    (void)fd;   /* the mkfs tools write by path */
    const struct build_ctx *c = ctx;
    return hull_rootfs_image_build(c->dir, c->fs, tmp, err);
}

int hull_rootfs_image_get(const char *rootfs_dir, enum hull_rootfs_fs fs, const char *cache_dir,
                          const char *cache_key, char *path, size_t n, enum hull_rootfs_fs *fs_out, bool *built,
                          struct hull_err *err) {
    if (built) *built = false;
    if (!cache_key || !*cache_key) return hull_err_set(err, EINVAL, "rootfs image: a cache key is required");
    int rc = hull_rootfs_fs_pick(fs, &fs, err);
    if (rc < 0) return rc;
    if (fs_out) *fs_out = fs;
    char hex[65];
    if (key_hex(cache_key, hex) < 0) return hull_err_set(err, EIO, "rootfs image: sha256 failed");
    if ((size_t)snprintf(path, n, "%s/rootfs-%s.%s", cache_dir, hex, hull_rootfs_fs_name(fs)) >= n)
        return hull_err_set(err, ENAMETOOLONG, "rootfs image: cache path too long");
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) return 0;
    if (mkdir(cache_dir, 0700) < 0 && errno != EEXIST) return hull_err_sys(err, "rootfs image: create %s", cache_dir);
    struct build_ctx c = {.dir = rootfs_dir, .fs = fs};
    if ((rc = hull_cache_publish(path, "rootfs image", build_by_path, &c, err)) < 0) return rc;
    if (built) *built = true;
    return 0;
}

char *hull_rootfs_image_layers_key(char *const *layers, size_t n) {
    size_t cap = 32, len;
    for (size_t i = 0; i < n; i++) cap += strlen(layers[i]) + 1;
    char *key = malloc(cap);
    if (!key) return NULL;
    len = (size_t)snprintf(key, cap, "hull-image-root-v1");
    for (size_t i = 0; i < n; i++) {
        const char *b = strrchr(layers[i], '/');
        if (!b) b = strrchr(layers[i], ':');
        len += (size_t)snprintf(key + len, cap - len, "\n%s", b ? b + 1 : layers[i]);
    }
    return key;
}

int hull_rootfs_image_cache_sweep(const char *data_root, char *const *keep_keys, size_t n, struct hull_err *err) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/vm/images", data_root);
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : hull_err_sys(err, "rootfs image cache: open %s", dir);
    char (*keep)[65] = calloc(n ? n : 1, sizeof *keep);
    int rc = keep ? 0 : hull_err_set(err, ENOMEM, "rootfs image cache: out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (key_hex(keep_keys[i], keep[i]) < 0) rc = hull_err_set(err, EIO, "rootfs image cache: sha256 failed");
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        /* rootfs-<64 hex>.<fs>; temp files (.rootfs-*) belong to builds in progress */
        if (strncmp(e->d_name, "rootfs-", 7) != 0 || strlen(e->d_name) < 7 + 64 + 2 || e->d_name[7 + 64] != '.') continue;
        bool kept = false;
        for (size_t i = 0; i < n && !kept; i++) kept = strncmp(e->d_name + 7, keep[i], 64) == 0;
        if (!kept && unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT)
            rc = hull_err_sys(err, "rootfs image cache: remove %s/%s", dir, e->d_name);
    }
    free(keep);
    closedir(d);
    return rc;
}

int hull_rootfs_image_for_layers(const char *data_root, char *const *layer_dirs, size_t n, const char *rootfs_dir,
                                 char *path, size_t pn, bool *built, struct hull_err *err) {
    if (n == 0) return hull_err_set(err, EINVAL, "rootfs image: an image without layers");
    char *key = hull_rootfs_image_layers_key(layer_dirs, n);
    if (!key) return hull_err_set(err, ENOMEM, "rootfs image: out of memory");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/vm", data_root);
    int rc = hull_mkdir_p(dir, 0700) < 0 ? hull_err_sys(err, "rootfs image: create %s", dir) : 0;
    if (rc == 0) {
        snprintf(dir, sizeof dir, "%s/vm/images", data_root);
        rc = hull_rootfs_image_get(rootfs_dir, HULL_ROOTFS_AUTO, dir, key, path, pn, NULL, built, err);
    }
    free(key);
    return rc;
}

int hull_rootfs_upper_create(const char *path, uint64_t bytes, struct hull_err *err) {
    if (bytes < (8u << 20)) bytes = 8u << 20;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return hull_err_sys(err, "rootfs upper: create %s", path);
    int rc = ftruncate(fd, (off_t)bytes) < 0 ? hull_err_sys(err, "rootfs upper: size %s", path) : 0;
    close(fd);
    if (rc == 0) {
        /* With a journal: this one is mounted read-write and must survive a VM killed mid-write. */
        char *argv[] = {"mkfs.ext4", "-q", "-F", "-b", "4096", "-L", "hull-upper", "-E", "nodiscard",
                        (char *)path, NULL};
        rc = run_tool(argv, err);
    }
    if (rc < 0) unlink(path);
    return rc;
}
