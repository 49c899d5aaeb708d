/* Rootfs block images for the guest: a busybox tree to erofs (checked by
 * extracting it back with fsck.erofs) and to ext4 (checked with debugfs and
 * e2fsck), ownership/modes/symlinks kept, the cache, the writable upper image. */
#include "tap.h"
#include "vm/guest/rootfs_image.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64], src[128];
static struct hull_err err;

static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *run(const char *fmt, ...) {
    static char out[65536];
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    if (p) pclose(p);
    return out;
}

static bool have(const char *tool) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "PATH=$PATH:/usr/sbin:/sbin command -v %s >/dev/null", tool);
    return system(cmd) == 0;
}

/* A busybox rootfs like tests/lib/fixtures.sh makes, plus files that test
 * ownership, modes, symlinks and mtimes. */
static void make_rootfs(void) {
    snprintf(src, sizeof src, "%s/rootfs", tmp);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "set -e; R='%s'; mkdir -p $R/bin $R/etc $R/tmp $R/home/user $R/empty $R/proc $R/dev; chmod 1777 $R/tmp; "
             "cp /bin/busybox $R/bin/busybox; for a in sh echo cat id ls; do ln -s busybox $R/bin/$a; done; "
             "echo 'root:x:0:0:root:/root:/bin/sh' > $R/etc/passwd; printf 'hello image\\n' > $R/etc/hello; "
             "printf secret > $R/home/user/secret; chown -R 1000:1000 $R/home/user; chmod 0640 $R/home/user/secret; "
             "touch -d '2001-02-03 04:05:06 UTC' $R/etc/hello; ln -s /etc/hello $R/link; "
             "dd if=/dev/urandom of=$R/big bs=1M count=3 status=none",
             src);
    if (system(cmd) != 0) abort();
}

static void check_erofs(void) {
    if (!have("mkfs.erofs") || !have("fsck.erofs")) {
        skip("erofs-utils not installed (apt-get install erofs-utils)");
        return;
    }
    char img[128], out[128];
    snprintf(img, sizeof img, "%s/root.erofs", tmp);
    snprintf(out, sizeof out, "%s/extracted", tmp);
    is_int(hull_rootfs_image_build(src, HULL_ROOTFS_EROFS, img, &err), 0, "erofs image: %s", err.msg);
    struct stat st;
    ok(stat(img, &st) == 0 && st.st_size > 3 * 1024 * 1024, "erofs image written (%lld bytes)", (long long)st.st_size);
    like(run("dump.erofs -s '%s' 2>&1", img), "Filesystem magic number", "dump.erofs reads the superblock");
    is_str(run("fsck.erofs --extract='%s' '%s' >/dev/null 2>&1 && echo ok", out, img), "ok\n",
           "fsck.erofs checks and extracts it");
    is_str(run("diff -r --no-dereference '%s' '%s' 2>&1 && echo same", src, out), "same\n",
           "the extracted tree equals the source");
    is_str(run("stat -c '%%u:%%g %%a' '%s/home/user/secret'", out), "1000:1000 640\n", "owner and mode kept");
    is_str(run("readlink '%s/link'", out), "/etc/hello\n", "symlink kept, not followed");
    is_str(run("stat -c %%Y '%s/etc/hello'", out), "981173106\n", "mtime kept");
    is_str(run("stat -c %%a '%s/tmp'", out), "1777\n", "sticky bit kept");
}

static void check_ext4(void) {
    if (!have("mkfs.ext4") || !have("debugfs")) {
        skip("e2fsprogs not installed");
        return;
    }
    char img[128];
    snprintf(img, sizeof img, "%s/root.ext4", tmp);
    is_int(hull_rootfs_image_build(src, HULL_ROOTFS_EXT4, img, &err), 0, "ext4 image: %s", err.msg);
    like(run("PATH=$PATH:/sbin:/usr/sbin debugfs -R 'ls -l /bin' '%s' 2>/dev/null", img), "busybox",
         "debugfs lists /bin/busybox");
    is_str(run("PATH=$PATH:/sbin:/usr/sbin debugfs -R 'cat /etc/hello' '%s' 2>/dev/null", img), "hello image\n",
           "debugfs reads /etc/hello");
    const char *s = run("PATH=$PATH:/sbin:/usr/sbin debugfs -R 'stat /home/user/secret' '%s' 2>/dev/null", img);
    like(s, "User:  1000", "owner kept");
    like(s, "Mode:  0640", "mode kept");
    is_str(run("PATH=$PATH:/sbin:/usr/sbin debugfs -R 'dump /big /dev/stdout' '%s' 2>/dev/null | md5sum", img),
           run("md5sum < '%s/big'", src), "a 3 MiB file reads back identical");
    is_str(run("PATH=$PATH:/sbin:/usr/sbin e2fsck -fn '%s' >/dev/null 2>&1 && echo clean", img), "clean\n",
           "e2fsck -fn: clean");
    like(run("PATH=$PATH:/sbin:/usr/sbin dumpe2fs -h '%s' 2>/dev/null | grep -i features", img), "extent",
         "an ext4 (extents)");
}

static void check_cache_and_errors(void) {
    char cache[128], p1[4096], p2[4096], p3[4096];
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    enum hull_rootfs_fs fs;
    bool built;
    is_int(hull_rootfs_image_get(src, HULL_ROOTFS_AUTO, cache, "sha256:aaaa", p1, sizeof p1, &fs, &built, &err), 0,
           "cached build: %s", err.msg);
    ok(built, "built on a miss (%s)", hull_rootfs_fs_name(fs));
    ok(fs == (have("mkfs.erofs") ? HULL_ROOTFS_EROFS : HULL_ROOTFS_EXT4), "auto prefers erofs when installed");
    is_int(hull_rootfs_image_get(src, HULL_ROOTFS_AUTO, cache, "sha256:aaaa", p2, sizeof p2, &fs, &built, &err), 0,
           "second get");
    ok(!built && !strcmp(p1, p2), "hit: same file, not rebuilt");
    is_int(hull_rootfs_image_get(src, HULL_ROOTFS_EXT4, cache, "sha256:bbbb", p3, sizeof p3, &fs, &built, &err), 0,
           "another key");
    ok(built && strcmp(p1, p3) && strstr(p3, ".ext4"), "its own file, format in the name");
    is_str(run("ls -A '%s' | grep -c '^\\.rootfs-' || true", cache), "0\n", "no temp files left");
    ok(hull_rootfs_image_get(src, HULL_ROOTFS_AUTO, cache, "", p1, sizeof p1, &fs, &built, &err) == -EINVAL,
       "an empty cache key is refused");

    char img[128];
    snprintf(img, sizeof img, "%s/x.img", tmp);
    ok(hull_rootfs_image_build("/nonexistent-rootfs", HULL_ROOTFS_EXT4, img, &err) < 0 &&
       strstr(err.msg, "/nonexistent-rootfs"), "a missing rootfs dir: %s", err.msg);
    ok(hull_rootfs_image_build("/etc/passwd", HULL_ROOTFS_EXT4, img, &err) == -ENOTDIR, "a file is not a rootfs");

    char upper[128];
    snprintf(upper, sizeof upper, "%s/upper.ext4", tmp);
    is_int(hull_rootfs_upper_create(upper, 64u << 20, &err), 0, "upper image: %s", err.msg);
    struct stat st;
    ok(stat(upper, &st) == 0 && st.st_size == 64 << 20 && (long long)st.st_blocks * 512 < st.st_size / 2,
       "64 MiB, sparse (%lld bytes allocated)", (long long)st.st_blocks * 512);
    like(run("PATH=$PATH:/sbin:/usr/sbin dumpe2fs -h '%s' 2>/dev/null | grep -i features", upper), "has_journal",
         "the upper has a journal");
    is_str(run("PATH=$PATH:/sbin:/usr/sbin e2fsck -fn '%s' >/dev/null 2>&1 && echo clean", upper), "clean\n",
           "the upper is a clean ext4");
}

/* hull run IMAGE --vm: the per-image cache under <data>/vm/images and its sweep by hull rmi */
static void check_image_cache(void) {
    char data[128], p1[4096], p2[4096];
    snprintf(data, sizeof data, "%s/data", tmp);
    char *dirs[] = {"/d/layers/sha256/aa11", "/d/layers/sha256/bb22"};
    char *diffids[] = {"sha256:aa11", "sha256:bb22"};
    char *k1 = hull_rootfs_image_layers_key(dirs, 2), *k2 = hull_rootfs_image_layers_key(diffids, 2);
    char *k3 = hull_rootfs_image_layers_key(diffids, 1);
    ok(k1 && k2 && !strcmp(k1, k2), "the key from layer directories = the key from the config's diffids");
    ok(k3 && strcmp(k1, k3), "another layer list, another key");
    bool built;
    is_int(hull_rootfs_image_for_layers(data, dirs, 2, src, p1, sizeof p1, &built, &err), 0, "image root: %s", err.msg);
    ok(built && !strncmp(p1, data, strlen(data)) && strstr(p1, "/vm/images/rootfs-"), "built into <data>/vm/images (%s)",
       p1 + strlen(data));
    is_int(hull_rootfs_image_for_layers(data, dirs, 2, "/nonexistent", p2, sizeof p2, &built, &err), 0, "again");
    ok(!built && !strcmp(p1, p2), "a hit: the same file, the rootfs dir not even read");
    ok(hull_rootfs_image_for_layers(data, dirs, 0, src, p2, sizeof p2, &built, &err) == -EINVAL, "no layers: refused");
    is_int(hull_rootfs_image_for_layers(data, diffids, 1, src, p2, sizeof p2, &built, &err), 0, "a second image");
    run("touch '%s/vm/images/.rootfs-inprogress'", data);
    char *keep[] = {k3};
    is_int(hull_rootfs_image_cache_sweep(data, keep, 1, &err), 0, "sweep, keeping the second image: %s", err.msg);
    ok(access(p1, F_OK) < 0 && access(p2, F_OK) == 0, "the first image's root is gone, the second's kept");
    is_str(run("ls -A '%s/vm/images' | grep -c '^\\.rootfs-' || true", data), "1\n", "a build in progress is left alone");
    is_int(hull_rootfs_image_cache_sweep(data, NULL, 0, &err), 0, "sweep, keeping nothing");
    ok(access(p2, F_OK) < 0, "everything cached is gone");
    is_int(hull_rootfs_image_cache_sweep("/nonexistent-data-root", NULL, 0, &err), 0, "no cache dir: nothing to do");
    free(k1);
    free(k2);
    free(k3);
}

int main(void) {
    if (getuid() != 0) plan_skip_all("needs root (chown in the test rootfs)");
    if (access("/bin/busybox", X_OK) < 0) plan_skip_all("needs busybox-static");
    snprintf(tmp, sizeof tmp, "/tmp/hull-rootfs-img.XXXXXX");
    if (!mkdtemp(tmp)) bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    make_rootfs();
    check_erofs();
    check_ext4();
    check_cache_and_errors();
    check_image_cache();
    run("rm -rf '%s'", tmp);
    return done_testing();
}
