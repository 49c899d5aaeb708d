/* Fixture builders for the image tests: tars written with libarchive in
 * memory, sha256 with libcrypto, and images laid out as an OCI layout
 * directory, an OCI archive or a docker-archive. Everything is made at run
 * time under a temp dir the test removes (also on failure, via atexit). */
#ifndef HULL_TESTS_UNIT_TEST_IMAGE_LIB_H
#define HULL_TESTS_UNIT_TEST_IMAGE_LIB_H

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "tap.h"

struct buf { unsigned char *p; size_t n, cap; };

static inline void buf_add(struct buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 4096;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static inline void buf_free(struct buf *b) { free(b->p); memset(b, 0, sizeof *b); }

static inline void sha256_of(const void *d, size_t n, char out[72]) {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(d, n, md, &len, EVP_sha256(), NULL);
    strcpy(out, "sha256:");
    for (int i = 0; i < 32; i++) sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static inline la_ssize_t buf_write_cb(struct archive *a, void *ctx, const void *d, size_t n) {
    (void)a;
    buf_add(ctx, d, n);
    return (la_ssize_t)n;
}

/* ---- tar builder ---- */
struct tb { struct archive *a; struct buf out; };

static inline void tb_open(struct tb *t) {
    memset(t, 0, sizeof *t);
    t->a = archive_write_new();
    archive_write_set_format_pax_restricted(t->a);
    archive_write_set_bytes_in_last_block(t->a, 1);
    archive_write_open(t->a, &t->out, NULL, buf_write_cb, NULL);
}

static inline struct archive_entry *tb_entry(const char *path, mode_t type, mode_t perm) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_mtime(e, 1600000000, 0);
    return e;
}

static inline void tb_put(struct tb *t, struct archive_entry *e, const void *data, size_t n) {
    if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e)) archive_entry_set_size(e, (la_int64_t)n);
    if (archive_write_header(t->a, e) != ARCHIVE_OK) diag("tar header %s: %s", archive_entry_pathname(e), archive_error_string(t->a));
    if (n) archive_write_data(t->a, data, n);
    archive_entry_free(e);
}

static inline void tb_file(struct tb *t, const char *path, const char *content, mode_t perm) {
    tb_put(t, tb_entry(path, AE_IFREG, perm), content, strlen(content));
}
static inline void tb_dir(struct tb *t, const char *path, mode_t perm) { tb_put(t, tb_entry(path, AE_IFDIR, perm), NULL, 0); }
static inline void tb_symlink(struct tb *t, const char *path, const char *target) {
    struct archive_entry *e = tb_entry(path, AE_IFLNK, 0777);
    archive_entry_set_symlink(e, target);
    tb_put(t, e, NULL, 0);
}
static inline void tb_hardlink(struct tb *t, const char *path, const char *target) {
    struct archive_entry *e = tb_entry(path, AE_IFREG, 0644);
    archive_entry_set_hardlink(e, target);
    archive_entry_set_size(e, 0);
    tb_put(t, e, NULL, 0);
}
static inline void tb_dev(struct tb *t, const char *path, mode_t type, unsigned maj, unsigned min) {
    struct archive_entry *e = tb_entry(path, type, 0600);
    archive_entry_set_rdevmajor(e, maj);
    archive_entry_set_rdevminor(e, min);
    tb_put(t, e, NULL, 0);
}
static inline struct buf tb_close(struct tb *t) {
    archive_write_close(t->a);
    archive_write_free(t->a);
    return t->out;
}

/* Compresses bytes with libarchive's raw format: "gzip", "zstd" or NULL (copy). */
static inline struct buf compress_buf(const struct buf *in, const char *filter) {
    struct buf out = {0};
    if (!filter) { buf_add(&out, in->p, in->n); return out; }
    struct archive *a = archive_write_new();
    archive_write_set_format_raw(a);
    if (strcmp(filter, "gzip") == 0) archive_write_add_filter_gzip(a);
    else archive_write_add_filter_zstd(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(a, &out, NULL, buf_write_cb, NULL);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "data");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, (la_int64_t)in->n);
    archive_write_header(a, e);
    archive_write_data(a, in->p, in->n);
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

/* ---- images ---- */
struct flayer {
    struct buf tar, blob;           /* uncompressed, as stored */
    char diff_id[72], digest[72];
    const char *media_type;
};

static inline void flayer_make(struct flayer *l, struct buf tar, const char *filter) {
    l->tar = tar;
    l->blob = compress_buf(&tar, filter);
    sha256_of(tar.p, tar.n, l->diff_id);
    sha256_of(l->blob.p, l->blob.n, l->digest);
    l->media_type = !filter ? "application/vnd.oci.image.layer.v1.tar"
                    : strcmp(filter, "gzip") == 0 ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                                  : "application/vnd.oci.image.layer.v1.tar+zstd";
}

struct fimage {
    struct flayer *layers[4];
    size_t n;
    struct buf config, manifest;
    char config_digest[72], manifest_digest[72];
    long long size_override[4];     /* >0: lie about layer i's size in the manifest */
};

static inline void fimage_build(struct fimage *im, const char *created) {
    char tmp[8192];
    int o = snprintf(tmp, sizeof tmp,
        "{\"created\":\"%s\",\"architecture\":\"amd64\",\"os\":\"linux\","
        "\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],\"Env\":[\"PATH=/usr/bin:/bin\",\"A=1\"],"
        "\"WorkingDir\":\"/work\",\"User\":\"1000:1000\",\"Labels\":{\"org.example\":\"yes\"},"
        "\"ExposedPorts\":{\"80/tcp\":{}}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[", created);
    for (size_t i = 0; i < im->n; i++) o += snprintf(tmp + o, sizeof tmp - o, "%s\"%s\"", i ? "," : "", im->layers[i]->diff_id);
    snprintf(tmp + o, sizeof tmp - o, "]},\"history\":[]}");
    buf_free(&im->config);
    buf_add(&im->config, tmp, strlen(tmp));
    sha256_of(im->config.p, im->config.n, im->config_digest);
    o = snprintf(tmp, sizeof tmp, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                 "\"layers\":[", im->config_digest, im->config.n);
    for (size_t i = 0; i < im->n; i++)
        o += snprintf(tmp + o, sizeof tmp - o, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}", i ? "," : "",
                      im->layers[i]->media_type, im->layers[i]->digest,
                      im->size_override[i] > 0 ? im->size_override[i] : (long long)im->layers[i]->blob.n);
    snprintf(tmp + o, sizeof tmp - o, "]}");
    buf_free(&im->manifest);
    buf_add(&im->manifest, tmp, strlen(tmp));
    sha256_of(im->manifest.p, im->manifest.n, im->manifest_digest);
}

static inline void write_bytes(const char *path, const void *d, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || hull_write_all(fd, d, n) < 0) diag("write %s failed", path);
    if (fd >= 0) close(fd);
}

static inline char *index_json(const struct fimage *im, const char *name, const char *tag) {
    static char tmp[2048];
    snprintf(tmp, sizeof tmp,
             "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
             "\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},"
             "\"annotations\":{%s%s%s\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
             im->manifest_digest, im->manifest.n, name ? "\"io.containerd.image.name\":\"" : "",
             name ? name : "", name ? "\"," : "", tag);
    return tmp;
}

/* OCI layout directory. name NULL: only the tag annotation (like umoci). */
static inline void write_layout(const char *dir, const struct fimage *im, const char *name, const char *tag) {
    char p[4096];
    snprintf(p, sizeof p, "%s/blobs/sha256", dir);
    hull_mkdir_p(p, 0755);
    snprintf(p, sizeof p, "%s/oci-layout", dir);
    write_bytes(p, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
    snprintf(p, sizeof p, "%s/index.json", dir);
    const char *idx = index_json(im, name, tag);
    write_bytes(p, idx, strlen(idx));
    snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, im->manifest_digest + 7);
    write_bytes(p, im->manifest.p, im->manifest.n);
    snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, im->config_digest + 7);
    write_bytes(p, im->config.p, im->config.n);
    for (size_t i = 0; i < im->n; i++) {
        snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, im->layers[i]->digest + 7);
        write_bytes(p, im->layers[i]->blob.p, im->layers[i]->blob.n);
    }
}

static inline void tar_mem(struct tb *t, const char *path, const void *d, size_t n) {
    tb_put(t, tb_entry(path, AE_IFREG, 0644), d, n);
}

static inline struct buf oci_archive(const struct fimage *im, const char *name, const char *tag) {
    struct tb t;
    char p[256];
    tb_open(&t);
    tar_mem(&t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
    const char *idx = index_json(im, name, tag);
    tar_mem(&t, "index.json", idx, strlen(idx));
    tb_dir(&t, "blobs/", 0755);
    tb_dir(&t, "blobs/sha256/", 0755);
    for (size_t i = 0; i < im->n; i++) {
        snprintf(p, sizeof p, "blobs/sha256/%s", im->layers[i]->digest + 7);
        tar_mem(&t, p, im->layers[i]->blob.p, im->layers[i]->blob.n);
    }
    snprintf(p, sizeof p, "blobs/sha256/%s", im->config_digest + 7);
    tar_mem(&t, p, im->config.p, im->config.n);
    snprintf(p, sizeof p, "blobs/sha256/%s", im->manifest_digest + 7);
    tar_mem(&t, p, im->manifest.p, im->manifest.n);
    return tb_close(&t);
}

/* docker save layout: <id>/layer.tar (uncompressed), <hex>.json config,
 * manifest.json, plus the legacy per-layer VERSION/json files. */
static inline struct buf docker_archive(const struct fimage *im, const char *repotag) {
    struct tb t;
    char p[256], m[4096];
    tb_open(&t);
    int o = snprintf(m, sizeof m, "[{\"Config\":\"%s.json\",\"RepoTags\":[\"%s\"],\"Layers\":[", im->config_digest + 7, repotag);
    for (size_t i = 0; i < im->n; i++) {
        snprintf(p, sizeof p, "%.64s/", im->layers[i]->diff_id + 7);
        tb_dir(&t, p, 0755);
        snprintf(p, sizeof p, "%.64s/VERSION", im->layers[i]->diff_id + 7);
        tar_mem(&t, p, "1.0", 3);
        snprintf(p, sizeof p, "%.64s/layer.tar", im->layers[i]->diff_id + 7);
        tar_mem(&t, p, im->layers[i]->tar.p, im->layers[i]->tar.n);
        o += snprintf(m + o, sizeof m - o, "%s\"%s\"", i ? "," : "", p);
    }
    snprintf(m + o, sizeof m - o, "]}]");
    snprintf(p, sizeof p, "%s.json", im->config_digest + 7);
    tar_mem(&t, p, im->config.p, im->config.n);
    tar_mem(&t, "manifest.json", m, strlen(m));
    return tb_close(&t);
}

/* The three layers the tests share: L1 gzip (base tree), L2 zstd (whiteout,
 * opaque dir, implicit parent, hardlink to a lower file), L3 plain tar. */
static inline void std_layers(struct flayer l[3]) {
    struct tb t;
    tb_open(&t);
    tb_dir(&t, "etc/", 0755);
    tb_file(&t, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
    tb_dir(&t, "tmp/", 01777);
    tb_dir(&t, "data/", 0755);
    tb_file(&t, "data/a", "a1", 0644);
    tb_file(&t, "data/b", "b1", 0644);
    tb_dir(&t, "opq/", 0755);
    tb_file(&t, "opq/x", "x", 0644);
    tb_dir(&t, "opq/sub/", 0700);
    tb_file(&t, "opq/sub/y", "y", 0644);
    tb_dir(&t, "usr/", 0755);
    tb_dir(&t, "usr/bin/", 0755);
    struct archive_entry *e = tb_entry("usr/bin/tool", AE_IFREG, 04755);
    archive_entry_set_uid(e, 1000);
    archive_entry_set_gid(e, 1001);
    archive_entry_set_mtime(e, 1000000, 0);
    archive_entry_xattr_add_entry(e, "user.test", "hello", 5);
    archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/etc", 4);   /* must be dropped */
    tb_put(&t, e, "#!/bin/sh\necho tool\n", 20);
    tb_hardlink(&t, "usr/bin/tool2", "usr/bin/tool");
    tb_symlink(&t, "bin", "usr/bin");
    tb_dev(&t, "run/fifo", AE_IFIFO, 0, 0);
    tb_file(&t, "shared.txt", "shared", 0640);
    flayer_make(&l[0], tb_close(&t), "gzip");

    tb_open(&t);
    tb_file(&t, "data/.wh.a", "", 0644);
    tb_file(&t, "opq/.wh..wh..opq", "", 0644);
    tb_file(&t, "opq/new", "new", 0644);
    tb_file(&t, "tmp/inl2", "t", 0644);
    tb_hardlink(&t, "link-to-lower", "shared.txt");
    flayer_make(&l[1], tb_close(&t), "zstd");

    tb_open(&t);
    tb_file(&t, "etc/passwd", "root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home:/bin/sh\n", 0644);
    tb_file(&t, ".wh.bin", "", 0644);
    tb_file(&t, "data/c", "c", 0644);
    flayer_make(&l[2], tb_close(&t), NULL);
}

/* ---- temp dirs removed on exit, whatever happens ---- */
static char test_tmp[256];
static inline void test_tmp_cleanup(void) { if (test_tmp[0]) hull_rm_rf(test_tmp); }
static inline const char *test_tmp_make(const char *tag) {
    snprintf(test_tmp, sizeof test_tmp, "/tmp/hull-%s-XXXXXX", tag);
    if (!mkdtemp(test_tmp)) bail_out("mkdtemp %s: %s", test_tmp, strerror(errno));
    atexit(test_tmp_cleanup);
    return test_tmp;
}

static inline int count_dir(const char *path) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' 2>/dev/null | wc -l", path);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f) { if (fscanf(f, "%d", &n) != 1) n = -1; pclose(f); }
    return n;
}

#endif
