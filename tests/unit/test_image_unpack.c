/* Safe layer unpack: three layers applied into per-layer directories in
 * overlayfs form (whiteouts, opaque dirs, hardlinks across layers, owners,
 * modes, mtimes, xattrs), checked file by file and, when the kernel lets us,
 * through a real overlay mount; then hostile layers, each of which must be
 * rejected with nothing written outside and no partial output left. */
#include "image/internal.h"     /* store_put: hostile blobs go straight into the store */
#include "test_image_lib.h"

#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static struct hull_image_store *st;
static char tmpd[512], sentinel[600], destp[600];

static bool is_wh(const char *p) {
    struct stat s;
    return lstat(p, &s) == 0 && S_ISCHR(s.st_mode) && s.st_rdev == makedev(0, 0);
}

static char *slurp(const char *p) {
    static char b[256];
    int fd = open(p, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, b, sizeof b - 1) : -1;
    if (fd >= 0) close(fd);
    b[n > 0 ? n : 0] = '\0';
    return n >= 0 ? b : NULL;
}

static void check_layers(char **d) {
    char p[1024], v[16];
    struct stat s1, s2;
    /* layer 1: the base tree */
    snprintf(p, sizeof p, "%s/usr/bin/tool", d[0]);
    ok(stat(p, &s1) == 0 && (s1.st_mode & 07777) == 04755 && s1.st_uid == 1000 && s1.st_gid == 1001,
       "owner and set-uid mode kept (mode %o uid %u)", s1.st_mode & 07777, s1.st_uid);
    is_int(s1.st_mtime, 1000000, "mtime kept");
    ssize_t n = getxattr(p, "user.test", v, sizeof v);
    ok(n == 5 && memcmp(v, "hello", 5) == 0, "user.* xattr kept");
    ok(getxattr(p, "trusted.overlay.redirect", v, sizeof v) < 0, "trusted.overlay.* xattr from the tar dropped");
    snprintf(p, sizeof p, "%s/usr/bin/tool2", d[0]);
    ok(stat(p, &s2) == 0 && s2.st_ino == s1.st_ino, "hardlink within a layer shares the inode");
    snprintf(p, sizeof p, "%s/bin", d[0]);
    ok(lstat(p, &s1) == 0 && S_ISLNK(s1.st_mode), "symlink");
    snprintf(p, sizeof p, "%s/run/fifo", d[0]);
    ok(lstat(p, &s1) == 0 && S_ISFIFO(s1.st_mode), "fifo");
    snprintf(p, sizeof p, "%s/run", d[0]);
    ok(stat(p, &s1) == 0 && (s1.st_mode & 07777) == 0755, "implicit parent with no lower: 0755");
    snprintf(p, sizeof p, "%s/tmp", d[0]);
    ok(stat(p, &s1) == 0 && (s1.st_mode & 07777) == 01777, "tmp is 1777");
    snprintf(p, sizeof p, "%s/opq/sub", d[0]);
    ok(stat(p, &s1) == 0 && (s1.st_mode & 07777) == 0700 && s1.st_mtime == 1600000000, "dir mode and mtime applied after its children");

    /* layer 2: whiteout, opaque dir, implicit parent, hardlink to a lower file */
    snprintf(p, sizeof p, "%s/data/a", d[1]);
    ok(is_wh(p), "whiteout .wh.a -> char device 0:0");
    snprintf(p, sizeof p, "%s/data/.wh.a", d[1]);
    ok(access(p, F_OK) != 0, "no .wh. file left");
    snprintf(p, sizeof p, "%s/opq", d[1]);
    n = getxattr(p, "trusted.overlay.opaque", v, sizeof v);
    ok(n == 1 && v[0] == 'y', "opaque dir -> trusted.overlay.opaque=y");
    snprintf(p, sizeof p, "%s/opq/.wh..wh..opq", d[1]);
    ok(access(p, F_OK) != 0, "no opaque marker file left");
    snprintf(p, sizeof p, "%s/tmp", d[1]);
    ok(stat(p, &s1) == 0 && (s1.st_mode & 07777) == 01777, "implicit parent takes the lower's mode (1777)");
    snprintf(p, sizeof p, "%s/link-to-lower", d[1]);
    const char *c = slurp(p);
    ok(c && strcmp(c, "shared") == 0 && stat(p, &s1) == 0 && s1.st_nlink == 2 && (s1.st_mode & 0777) == 0640,
       "hardlink to a lower layer's file: copied up and linked");
    /* layer 3 */
    snprintf(p, sizeof p, "%s/bin", d[2]);
    ok(is_wh(p), "whiteout of a lower symlink");
    snprintf(p, sizeof p, "%s/etc", d[2]);
    ok(stat(p, &s1) == 0 && (s1.st_mode & 07777) == 0755, "implicit etc/ from the lower");
}

static void check_overlay(char **d) {
    char opts[4096], mnt[700], p[1024];
    snprintf(mnt, sizeof mnt, "%s/merged", tmpd);
    mkdir(mnt, 0755);
    snprintf(opts, sizeof opts, "lowerdir=%s:%s:%s", d[2], d[1], d[0]);
    if (mount("overlay", mnt, "overlay", 0, opts) < 0) {
        skip("overlayfs mount not permitted here");
        return;
    }
    snprintf(p, sizeof p, "%s/data/a", mnt);
    int a_gone = access(p, F_OK) != 0;
    snprintf(p, sizeof p, "%s/data/b", mnt);
    int b_there = access(p, F_OK) == 0;
    snprintf(p, sizeof p, "%s/opq/x", mnt);
    int x_gone = access(p, F_OK) != 0;
    snprintf(p, sizeof p, "%s/opq/new", mnt);
    int new_there = access(p, F_OK) == 0;
    snprintf(p, sizeof p, "%s/bin", mnt);
    int bin_gone = access(p, F_OK) != 0;
    snprintf(p, sizeof p, "%s/etc/passwd", mnt);
    const char *pw = slurp(p);
    ok(a_gone && b_there && x_gone && new_there && bin_gone && pw && strstr(pw, "user:x:1000"),
       "overlay view: whiteouts remove, opaque dir hides lower content, upper files win");
    umount2(mnt, MNT_DETACH);
}

/* Puts a tar into the store and unpacks it to destp; checks the outcome. */
static int unpack_tar(struct buf tar, const char *filter, const struct hull_unpack_opts *o, struct hull_err *err) {
    struct buf blob = compress_buf(&tar, filter);
    char dg[HULL_DIGEST_LEN];
    bool created;
    store_put(st, blob.p, blob.n, dg, &created, err);
    buf_free(&blob);
    buf_free(&tar);
    hull_rm_rf(destp);
    hull_err_clear(err);
    return hull_layer_unpack(st, dg, destp, o, NULL, err);
}

static void hostile(const char *label, struct buf tar, const struct hull_unpack_opts *o, const char *needle) {
    struct hull_err err;
    int rc = unpack_tar(tar, NULL, o, &err);
    ok(rc < 0 && strstr(err.msg, needle), "%s: rejected: %s", label, err.msg);
    is_int(count_dir(sentinel), 1, "%s: nothing written outside (sentinel dir unchanged)", label);
    char parent[700];
    snprintf(parent, sizeof parent, "%s/out", tmpd);
    is_int(count_dir(parent), 0, "%s: partial output removed", label);
}

static struct tb t;
#define TAR(...) (tb_open(&t), __VA_ARGS__, tb_close(&t))

static void test_hostile(void) {
    char abs[700], rel_out[64] = "../../sentinel/pwned";
    snprintf(abs, sizeof abs, "%s/pwned", sentinel);
    static const struct hull_unpack_opts none;
    hostile("../ path", TAR(tb_file(&t, "ok", "x", 0644), tb_file(&t, rel_out, "x", 0644)), &none, "\"..\"");
    hostile("absolute path with \"..\"", TAR(tb_file(&t, "/../sentinel/pwned", "x", 0644)), &none, "\"..\"");
    hostile("symlink then write through it",
            TAR(tb_symlink(&t, "lnk", "../../sentinel"), tb_file(&t, "lnk/pwned", "x", 0644)), &none, "symlink");
    hostile("absolute symlink then write through it",
            TAR(tb_symlink(&t, "lnk", sentinel), tb_dir(&t, "lnk/sub/", 0755)), &none, "symlink");
    hostile("symlink dir then hardlink into it",
            TAR(tb_file(&t, "ok", "x", 0644), tb_symlink(&t, "lnk", sentinel), tb_hardlink(&t, "lnk/h", "ok")),
            &none, "\"lnk\" is a symlink");
    hostile("hardlink to a path outside", TAR(tb_hardlink(&t, "h", "../../sentinel/keep")), &none, "\"..\"");
    hostile("hardlink through a symlink",
            TAR(tb_symlink(&t, "s", "../../sentinel"), tb_hardlink(&t, "h", "s/keep")), &none, "through a symlink");
    hostile("device node not allowed", TAR(tb_dev(&t, "null", AE_IFCHR, 1, 3)), &none, "device node 1:3: not allowed");

    struct hull_err err;
    /* A leading "/" names the layer root (umoci writes "/" and "./" entries; containerd and
     * podman apply such names relative to the root): the entries land inside the layer. */
    {
        char p1[800], p2[800], p3[1400];
        struct stat s1, s2, s3;
        int r = unpack_tar(TAR(tb_dir(&t, "/", 0755), tb_dir(&t, "./etc/", 0755), tb_file(&t, "/etc/a", "A", 0644),
                               tb_hardlink(&t, "/etc/h", "/etc/a"), tb_file(&t, abs, "x", 0644)),
                           NULL, &none, &err);
        is_int(r, 0, "entries named /, ./etc/, /etc/a, a hardlink to /etc/a, %s: unpacked (%s)", abs, err.msg);
        snprintf(p1, sizeof p1, "%s/etc/a", destp);
        snprintf(p2, sizeof p2, "%s/etc/h", destp);
        snprintf(p3, sizeof p3, "%s%s", destp, abs);
        const char *a = slurp(p1);   /* a static buffer */
        is_str(a ? a : "(none)", "A", "... /etc/a is the layer's etc/a");
        ok(stat(p1, &s1) == 0 && stat(p2, &s2) == 0 && s1.st_ino == s2.st_ino,
           "... the hardlink to /etc/a links the layer's etc/a");
        ok(lstat(p3, &s3) == 0 && S_ISREG(s3.st_mode), "... the absolute name lands below the layer root");
        is_int(count_dir(sentinel), 1, "... nothing written outside (sentinel dir unchanged)");
    }
    struct hull_unpack_opts dev = { .allow_devices = true };
    int rc = unpack_tar(TAR(tb_dev(&t, "null", AE_IFCHR, 1, 3)), NULL, &dev, &err);
    char p[800];
    struct stat s;
    snprintf(p, sizeof p, "%s/null", destp);
    ok(rc == 0 && lstat(p, &s) == 0 && S_ISCHR(s.st_mode) && s.st_rdev == makedev(1, 3), "device node when allowed");
    rc = unpack_tar(TAR(tb_symlink(&t, "lnk", sentinel), tb_file(&t, "lnk", "now a file", 0644)), NULL, &none, &err);
    snprintf(p, sizeof p, "%s/lnk", destp);
    ok(rc == 0 && lstat(p, &s) == 0 && S_ISREG(s.st_mode) && count_dir(sentinel) == 1,
       "a later entry replaces a symlink instead of writing through it");

    /* a symlink planted by one layer, written through by the next */
    char l1[700], l2[700];
    snprintf(l1, sizeof l1, "%s/out/l1", tmpd);
    snprintf(l2, sizeof l2, "%s/out/l2", tmpd);
    struct buf b1 = TAR(tb_symlink(&t, "etc", sentinel));
    char d1[HULL_DIGEST_LEN], d2[HULL_DIGEST_LEN];
    bool cr;
    store_put(st, b1.p, b1.n, d1, &cr, &err);
    buf_free(&b1);
    struct buf b2 = TAR(tb_file(&t, "etc/pwned", "x", 0644));
    store_put(st, b2.p, b2.n, d2, &cr, &err);
    buf_free(&b2);
    hull_rm_rf(destp);
    rc = hull_layer_unpack(st, d1, l1, NULL, NULL, &err);
    is_int(rc, 0, "layer planting a symlink unpacks (%s)", err.msg);
    const char *lowers[] = { l1 };
    struct hull_unpack_opts lo = { .lowers = lowers, .n_lowers = 1 };
    rc = hull_layer_unpack(st, d2, l2, &lo, NULL, &err);
    ok(rc < 0 && strstr(err.msg, "symlink in a lower layer"), "later layer writing through it: rejected: %s", err.msg);
    ok(access(l2, F_OK) != 0 && count_dir(sentinel) == 1, "later layer: nothing written, nothing left");
    rc = hull_layer_unpack(st, d2, l2, NULL, NULL, &err);
    snprintf(p, sizeof p, "%s/etc", l2);
    ok(rc == 0 && lstat(p, &s) == 0 && S_ISDIR(s.st_mode) && count_dir(sentinel) == 1,
       "without lowers the upper gets a real directory (the overlay hides the symlink)");
    hull_rm_rf(l1);
    hull_rm_rf(l2);

    /* truncated tar */
    struct buf full = TAR(tb_file(&t, "big", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0644));
    full.n = 512 * 3 + 100;     /* pax header + ustar header + part of the data */
    hostile("truncated tar", full, &none, "runcated");

    /* tar bomb: a header declaring 68 GB followed by a few bytes */
    struct buf bomb = {0};
    unsigned char h[512] = {0};
    strcpy((char *)h, "bomb");
    memcpy(h + 100, "0000644", 8);
    memcpy(h + 108, "0000000", 8);
    memcpy(h + 116, "0000000", 8);
    memcpy(h + 124, "77777777777", 12);
    memcpy(h + 136, "00000000000", 12);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    buf_add(&bomb, h, 512);
    char junk[4096];
    memset(junk, 'A', sizeof junk);
    buf_add(&bomb, junk, sizeof junk);
    struct buf bomb2 = {0};
    buf_add(&bomb2, bomb.p, bomb.n);
    hostile("huge declared size, short data", bomb, &none, "runcated");
    struct hull_unpack_opts lim = { .max_bytes = 1 << 20 };
    hostile("huge declared size with a byte limit", bomb2, &lim, "exceeds the limit");
    static char two_mb[2 << 20];
    memset(two_mb, 'z', sizeof two_mb - 1);
    hostile("more data than the byte limit", TAR(tb_file(&t, "a", two_mb, 0644)), &lim, "limit");

    struct hull_unpack_opts wrong = { .diff_id = "sha256:0000000000000000000000000000000000000000000000000000000000000000" };
    hostile("diffID mismatch", TAR(tb_file(&t, "a", "a", 0644)), &wrong, "diffID mismatch");
}

int main(void) {
    if (geteuid() != 0) plan_skip_all("needs root (chown, whiteout device nodes, trusted xattrs)");
    snprintf(tmpd, sizeof tmpd, "%s", test_tmp_make("unpack"));
    snprintf(sentinel, sizeof sentinel, "%s/sentinel", tmpd);
    snprintf(destp, sizeof destp, "%s/out/layer", tmpd);
    mkdir(sentinel, 0755);
    char p[800];
    snprintf(p, sizeof p, "%s/keep", sentinel);
    write_bytes(p, "keep", 4);
    snprintf(p, sizeof p, "%s/out", tmpd);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/store", tmpd);
    struct hull_err err;
    if (hull_image_store_open(p, &st, &err) < 0) { diag("%s", err.msg); return 1; }

    struct flayer L[3];
    std_layers(L);
    struct fimage A = { .layers = { &L[0], &L[1], &L[2] }, .n = 3 };
    fimage_build(&A, "2024-05-01T10:00:00Z");
    snprintf(p, sizeof p, "%s/layout", tmpd);
    write_layout(p, &A, "img:1", "1");
    int rc = hull_image_import(st, p, NULL, NULL, NULL, NULL, NULL, &err);
    is_int(rc, 0, "import (%s)", err.msg);

    char **d = NULL;
    size_t n = 0;
    rc = hull_image_rootfs_layers(st, "img:1", NULL, &d, &n, &err);
    is_int(rc, 0, "rootfs layers unpacked (%s)", err.msg);
    if (rc == 0 && n == 3) {
        char want[800];
        snprintf(want, sizeof want, "%s/store/layers/sha256/%s", tmpd, L[1].diff_id + 7);
        is_str(d[1], want, "layer dir keyed by diffID");
        check_layers(d);
        check_overlay(d);
        char **d2 = NULL;
        size_t n2 = 0;
        struct stat s1, s2;
        stat(d[0], &s1);
        rc = hull_image_rootfs_layers(st, "img:1", NULL, &d2, &n2, &err);
        stat(d2 ? d2[0] : "/", &s2);
        ok(rc == 0 && n2 == 3 && s1.st_ino == s2.st_ino, "second call reuses the unpacked layers");
        hull_image_strv_free(d2, n2);
        is_int(hull_image_remove(st, "img:1", &err), 0, "rmi");
        ok(access(d[0], F_OK) != 0, "rmi removed the unpacked layers");
    } else {
        ok(0, "three unpacked layer dirs to check (rc %d, %zu dirs)", rc, n);
    }
    hull_image_strv_free(d, n);

    char dg[HULL_DIGEST_LEN];
    hull_err_clear(&err);
    bool cr;
    store_put(st, L[1].blob.p, L[1].blob.n, dg, &cr, &err);
    char out[HULL_DIGEST_LEN] = "";
    rc = hull_layer_unpack(st, dg, destp, NULL, out, &err);
    ok(rc < 0 && strstr(err.msg, "\"shared.txt\" not found"), "hardlink to a lower file without the lowers: %s", err.msg);
    store_put(st, L[0].blob.p, L[0].blob.n, dg, &cr, &err);
    rc = hull_layer_unpack(st, dg, destp, NULL, out, &err);
    ok(rc == 0 && strcmp(out, L[0].diff_id) == 0, "standalone unpack of a gzip layer computes its diffID (%s)", err.msg);
    rc = hull_layer_unpack(st, dg, destp, NULL, out, &err);
    ok(rc == -EEXIST, "unpack into an existing directory refused: %s", err.msg);

    test_hostile();

    hull_image_store_close(st);
    for (int i = 0; i < 3; i++) { buf_free(&L[i].tar); buf_free(&L[i].blob); }
    buf_free(&A.config);
    buf_free(&A.manifest);
    return done_testing();
}
