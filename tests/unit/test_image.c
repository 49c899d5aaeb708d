/* Image store: import of OCI layouts, OCI archives and docker-archives made
 * here at run time, the store's content (verified blobs, shared blobs stored
 * once), list/inspect/remove/GC, hostile imports leaving nothing behind, and
 * export round trips (checked with skopeo and umoci when installed). */
#include "image/image.h"
#include "test_image_lib.h"

static struct hull_image_store *st;
static char root[512], blobs[600];

static int import(const char *path, const char *ref, struct hull_image_summary *out, struct hull_err *err) {
    hull_err_clear(err);
    return hull_image_import(st, path, ref, NULL, NULL, NULL, out, err);
}

static int nrefs(void) {
    struct hull_image_summary *v;
    size_t n;
    struct hull_err err;
    if (hull_image_list(st, &v, &n, &err) < 0) return -1;
    free(v);
    return (int)n;
}

static uint64_t progress_last, progress_calls;
static void progress(void *ctx, const char *what, uint64_t done, uint64_t total) {
    (void)ctx; (void)what; (void)total;
    progress_last = done;
    progress_calls++;
}

static void test_imports(const char *tmp, struct flayer *L, struct fimage *A) {
    struct hull_err err;
    struct hull_image_summary s;
    char p[1024];

    snprintf(p, sizeof p, "%s/layout", tmp);
    write_layout(p, A, "example.com:5000/team/app:v1", "v1");
    hull_err_clear(&err);
    int rc = hull_image_import(st, p, NULL, NULL, progress, NULL, &s, &err);
    is_int(rc, 0, "import OCI layout dir (%s)", err.msg);
    is_str(s.name, "example.com:5000/team/app", "name from io.containerd.image.name keeps registry:port/path");
    is_str(s.tag, "v1", "tag");
    is_str(s.digest, A->manifest_digest, "manifest digest is the layout's");
    is_str(s.platform, "linux/amd64", "platform from the config");
    ok(progress_calls > 0 && progress_last > 0, "progress reported (%llu calls)", (unsigned long long)progress_calls);
    is_int(count_dir(blobs), 5, "store holds manifest + config + 3 layers");
    uint64_t want = A->config.n + L[0].blob.n + L[1].blob.n + L[2].blob.n;
    is_int((long long)s.size, (long long)want, "size = config + layer blobs");
    is_str(s.created, "2024-05-01T10:00:00Z", "created from the config");

    char bp[1200];
    snprintf(bp, sizeof bp, "%s/%s", blobs, L[1].digest + 7);
    struct stat sb;
    ok(stat(bp, &sb) == 0 && (size_t)sb.st_size == L[1].blob.n, "zstd layer stored under its compressed digest");

    /* OCI archive of the same image: every blob already there, stored once */
    struct buf arc = oci_archive(A, NULL, "latest");
    snprintf(p, sizeof p, "%s/a.oci.tar", tmp);
    write_bytes(p, arc.p, arc.n);
    buf_free(&arc);
    rc = import(p, "busybox", &s, &err);
    is_int(rc, 0, "import OCI archive with a name (%s)", err.msg);
    is_str(s.name, "busybox", "busybox keeps its name");
    is_str(s.tag, "latest", "busybox -> busybox:latest");
    is_int(count_dir(blobs), 5, "shared blobs stored once");

    /* docker-archive: uncompressed layers, an OCI manifest written for it */
    struct buf dock = docker_archive(A, "dock/img:1.0");
    snprintf(p, sizeof p, "%s/a.docker.tar", tmp);
    write_bytes(p, dock.p, dock.n);
    buf_free(&dock);
    rc = import(p, NULL, &s, &err);
    is_int(rc, 0, "import docker-archive (%s)", err.msg);
    is_str(s.name, "dock/img", "name from RepoTags");
    is_str(s.tag, "1.0", "tag from RepoTags");
    /* L3 is a plain tar in both forms (same bytes, one blob); L1/L2 arrive
     * uncompressed; the config is shared; the VERSION members are dropped */
    is_int(count_dir(blobs), 8, "docker-archive added 2 plain layers + a manifest, nothing else");

    struct hull_image_config *c = NULL;
    rc = hull_image_inspect(st, "dock/img:1.0", &c, &err);
    is_int(rc, 0, "inspect (%s)", err.msg);
    if (c) {
        is_str(c->config_digest, A->config_digest, "config blob kept as is");
        is_int((long long)c->n_layers, 3, "3 layers");
        is_str(c->diff_ids[0], L[0].diff_id, "diff_id 0");
        is_str(c->layer_digests[2], L[2].digest, "plain layer digest = its diff_id");
        is_str(c->layer_digests[0], L[0].diff_id, "docker layer.tar stored uncompressed: digest = diff_id");
        is_str(c->layer_media_types[0], "application/vnd.oci.image.layer.v1.tar", "plain tar media type");
        ok(c->n_entrypoint == 2 && strcmp(c->entrypoint[0], "/bin/sh") == 0, "Entrypoint");
        ok(c->n_cmd == 1 && strcmp(c->cmd[0], "echo hi") == 0, "Cmd");
        ok(c->n_env == 2 && strcmp(c->env[1], "A=1") == 0, "Env");
        is_str(c->working_dir, "/work", "WorkingDir");
        is_str(c->user, "1000:1000", "User");
        ok(c->n_labels == 1 && strcmp(c->labels[0].key, "org.example") == 0 && strcmp(c->labels[0].value, "yes") == 0, "Labels");
        ok(c->n_exposed_ports == 1 && strcmp(c->exposed_ports[0], "80/tcp") == 0, "ExposedPorts");
        hull_image_config_free(c);
    }
    rc = hull_image_inspect(st, "nope", &c, &err);
    ok(rc == -ENOENT && strstr(err.msg, "nope:latest"), "inspect of a missing image: %s", err.msg);

    struct hull_image_summary *v;
    size_t n;
    rc = hull_image_list(st, &v, &n, &err);
    ok(rc == 0 && n == 3, "three references listed");
    if (rc == 0 && n == 3) {
        is_str(v[0].name, "busybox", "sorted by name");
        is_str(v[2].name, "example.com:5000/team/app", "sorted by name (last)");
        free(v);
    }
}

/* Each hostile import fails with a message and leaves the store as it was. */
static void hostile_import(const char *tmp, const char *label, const char *path, const char *ref, const char *needle) {
    struct hull_err err;
    int before = count_dir(blobs), refs = nrefs();
    int rc = import(path, ref, NULL, &err);
    ok(rc < 0 && strstr(err.msg, needle), "%s rejected: %s", label, err.msg);
    is_int(count_dir(blobs), before, "%s: no blob left in the store", label);
    is_int(nrefs(), refs, "%s: no reference added", label);
    char t[600];
    snprintf(t, sizeof t, "%s/tmp", root);
    is_int(count_dir(t), 0, "%s: no temp file left", label);
    (void)tmp;
}

static void test_hostile_imports(const char *tmp, struct flayer *L) {
    char p[1024];
    struct tb t;
    /* a fresh layer (not yet in the store) whose blob is tampered with */
    tb_open(&t);
    tb_file(&t, "evil", "payload", 0644);
    struct flayer bad;
    flayer_make(&bad, tb_close(&t), "gzip");
    struct fimage B = { .layers = { &L[0], &bad }, .n = 2 };
    fimage_build(&B, "2024-01-01T00:00:00Z");
    snprintf(p, sizeof p, "%s/bad-digest", tmp);
    bad.blob.p[bad.blob.n / 2] ^= 0xff;
    write_layout(p, &B, "bad:1", "1");
    bad.blob.p[bad.blob.n / 2] ^= 0xff;
    hostile_import(tmp, "layer digest mismatch", p, NULL, "digest mismatch");

    B.size_override[1] = (long long)bad.blob.n + 10;
    fimage_build(&B, "2024-01-01T00:00:00Z");
    snprintf(p, sizeof p, "%s/bad-size", tmp);
    write_layout(p, &B, "bad:2", "2");
    hostile_import(tmp, "layer size mismatch", p, NULL, "size mismatch");
    B.size_override[1] = 0;
    fimage_build(&B, "2024-01-01T00:00:00Z");

    struct buf arc = oci_archive(&B, "bad:3", "3");
    snprintf(p, sizeof p, "%s/trunc.tar", tmp);
    write_bytes(p, arc.p, arc.n / 2 + 100);
    hostile_import(tmp, "truncated OCI archive", p, NULL, "");
    /* a member named blobs/sha256/<x> whose bytes hash to something else */
    size_t off = 0;
    for (size_t i = 0; i + bad.blob.n <= arc.n; i++)
        if (memcmp(arc.p + i, bad.blob.p, bad.blob.n) == 0) { off = i; break; }
    ok(off > 0, "found the layer inside the archive");
    arc.p[off + bad.blob.n / 2] ^= 0xff;
    snprintf(p, sizeof p, "%s/badblob.tar", tmp);
    write_bytes(p, arc.p, arc.n);
    hostile_import(tmp, "OCI archive member not matching its name", p, NULL, "digest mismatch");
    buf_free(&arc);

    /* docker-archive whose config names a different diff_id */
    struct fimage D = { .layers = { &bad }, .n = 1 };
    fimage_build(&D, "x");
    struct flayer fake = bad;
    strcpy(fake.diff_id, L[2].diff_id);     /* config claims another layer */
    D.layers[0] = &fake;
    fimage_build(&D, "x");
    D.layers[0] = &bad;
    struct buf dock = docker_archive(&D, "bad:4");
    snprintf(p, sizeof p, "%s/bad-docker.tar", tmp);
    write_bytes(p, dock.p, dock.n);
    buf_free(&dock);
    hostile_import(tmp, "docker-archive diff_id mismatch", p, NULL, "digest mismatch");

    snprintf(p, sizeof p, "%s/noname", tmp);
    write_layout(p, &B, NULL, "latest");
    hostile_import(tmp, "layout naming only a tag", p, NULL, "--name");
    hostile_import(tmp, "invalid reference", p, "Bad/Name", "invalid repository name");
    snprintf(p, sizeof p, "%s/missing", tmp);
    hostile_import(tmp, "missing path", p, "x", "No such file");
    buf_free(&bad.tar);
    buf_free(&bad.blob);
    buf_free(&B.config); buf_free(&B.manifest);
    buf_free(&D.config); buf_free(&D.manifest);
}

static int run(const char *cmd) {
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static void test_export(const char *tmp, struct fimage *A) {
    struct hull_err err;
    char out[1024], cmd[4096];
    snprintf(out, sizeof out, "%s/export.tar", tmp);
    hull_err_clear(&err);
    int rc = hull_image_export(st, "dock/img:1.0", out, NULL, NULL, &err);
    is_int(rc, 0, "export (%s)", err.msg);
    struct hull_image_summary before, after;
    struct hull_image_summary *v;
    size_t n;
    hull_image_list(st, &v, &n, &err);
    for (size_t i = 0; i < n; i++) if (strcmp(v[i].name, "dock/img") == 0) before = v[i];
    free(v);
    rc = hull_image_remove(st, "dock/img:1.0", &err);
    is_int(rc, 0, "rmi dock/img:1.0 (%s)", err.msg);
    is_int(count_dir(blobs), 5, "GC dropped the docker-only blobs, kept the shared ones");
    rc = import(out, NULL, &after, &err);
    is_int(rc, 0, "re-import the export (%s)", err.msg);
    is_str(after.digest, before.digest, "round trip keeps the manifest digest");
    is_str(after.name, "dock/img", "round trip keeps the name");
    is_str(after.tag, "1.0", "round trip keeps the tag");

    if (access("/usr/bin/skopeo", X_OK) != 0) {
        skip("skopeo not installed (apt-get install skopeo)");
    } else {
        snprintf(cmd, sizeof cmd, "skopeo inspect oci-archive:%s > %s/skopeo.json 2>&1", out, tmp);
        int r = run(cmd);
        snprintf(cmd, sizeof cmd, "grep -q '%s' %s/skopeo.json", before.digest, tmp);
        ok(r == 0 && run(cmd) == 0, "skopeo inspect oci-archive: accepts the export");
        if (r != 0) { snprintf(cmd, sizeof cmd, "sed 's/^/# /' %s/skopeo.json", tmp); run(cmd); }
    }
    if (access("/usr/bin/umoci", X_OK) != 0) {
        skip("umoci not installed (apt-get install umoci)");
    } else {
        snprintf(cmd, sizeof cmd, "mkdir -p %s/ul && tar -xf %s -C %s/ul && umoci unpack --image %s/ul:1.0 %s/bundle > %s/umoci.log 2>&1",
                 tmp, out, tmp, tmp, tmp, tmp);
        int r = run(cmd);
        snprintf(cmd, sizeof cmd, "%s/bundle/rootfs/etc/passwd", tmp);
        ok(r == 0 && access(cmd, F_OK) == 0, "umoci unpack accepts the export");
        if (r != 0) { snprintf(cmd, sizeof cmd, "sed 's/^/# /' %s/umoci.log", tmp); run(cmd); }
    }
    (void)A;
}

int main(void) {
    if (geteuid() != 0) plan_skip_all("needs root (chown, whiteout device nodes, trusted xattrs)");
    const char *tmp = test_tmp_make("image");
    snprintf(root, sizeof root, "%s/store", tmp);
    snprintf(blobs, sizeof blobs, "%s/blobs/sha256", root);
    struct hull_err err;
    if (hull_image_store_open(root, &st, &err) < 0) { diag("%s", err.msg); return 1; }

    char n[256], t[128];
    ok(hull_image_ref_normalize("busybox", n, sizeof n, t, sizeof t, &err) == 0 &&
       strcmp(n, "busybox") == 0 && strcmp(t, "latest") == 0, "busybox -> busybox:latest");
    ok(hull_image_ref_normalize("localhost:5000/a/b", n, sizeof n, t, sizeof t, &err) == 0 &&
       strcmp(n, "localhost:5000/a/b") == 0 && strcmp(t, "latest") == 0, "registry port is not a tag");
    ok(hull_image_ref_normalize("a@sha256:00", n, sizeof n, t, sizeof t, &err) < 0, "digest refs refused");

    struct flayer L[3];
    std_layers(L);
    struct fimage A = { .layers = { &L[0], &L[1], &L[2] }, .n = 3 };
    fimage_build(&A, "2024-05-01T10:00:00Z");

    test_imports(tmp, L, &A);
    test_hostile_imports(tmp, L);

    /* removing one of two names sharing every blob keeps the blobs */
    is_int(hull_image_remove(st, "busybox", &err), 0, "rmi busybox");
    is_int(count_dir(blobs), 8, "blobs still used by another name are kept");
    ok(hull_image_remove(st, "busybox", &err) == -ENOENT, "rmi of a missing name: %s", err.msg);

    test_export(tmp, &A);

    is_int(hull_image_remove(st, "example.com:5000/team/app:v1", &err), 0, "rmi the layout image");
    is_int(hull_image_remove(st, "dock/img:1.0", &err), 0, "rmi the re-imported image");
    is_int(count_dir(blobs), 0, "store empty after the last rmi");
    is_int(nrefs(), 0, "no references left");

    hull_image_store_close(st);
    for (int i = 0; i < 3; i++) { buf_free(&L[i].tar); buf_free(&L[i].blob); }
    buf_free(&A.config);
    buf_free(&A.manifest);
    return done_testing();
}
