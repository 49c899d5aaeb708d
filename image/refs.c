/* Reference names and the reference index (repositories.json).
 *
 * The index maps name:tag to a manifest digest and the platform it was picked
 * for. It is rewritten whole (write-temp + rename, so a reader or a crash
 * sees the old or the new file) while refs.lock is held exclusively, so two
 * concurrent imports never lose each other's entry. */
#include "image/internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/fsutil.h"

#define REFS_FILE "repositories.json"

static bool path_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Registry host[:port] (first component when it has a '.' or ':' or is
 * localhost) may hold upper case; path components are lower case. */
static bool name_valid(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len > 255) return false;
    const char *slash = strchr(name, '/');
    const char *p = name;
    if (slash) {
        size_t hl = (size_t)(slash - name);
        bool host = memchr(name, '.', hl) || memchr(name, ':', hl) ||
                    (hl == 9 && strncmp(name, "localhost", 9) == 0);
        if (host) {
            for (size_t i = 0; i < hl; i++) {
                char c = name[i];
                if (!(path_char(c) || (c >= 'A' && c <= 'Z') || c == ':')) return false;
            }
            if (hl == 0) return false;
            p = slash + 1;
        }
    }
    /* components: non-empty, start and end alphanumeric */
    for (;;) {
        const char *end = strchr(p, '/');
        size_t cl = end ? (size_t)(end - p) : strlen(p);
        if (cl == 0) return false;
        for (size_t i = 0; i < cl; i++)
            if (!path_char(p[i])) return false;
        if (!path_char(p[0]) || p[0] == '.' || p[0] == '_' || p[0] == '-') return false;
        char last = p[cl - 1];
        if (last == '.' || last == '_' || last == '-') return false;
        if (!end) break;
        p = end + 1;
    }
    return true;
}

static bool tag_valid(const char *t) {
    size_t len = strlen(t);
    if (len == 0 || len > 128) return false;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || (i > 0 && (c == '.' || c == '-'));
        if (!ok) return false;
    }
    return true;
}

int ref_split(const char *ref, struct ref_entry *e, struct hull_err *err) {
    memset(e, 0, sizeof *e);
    if (!ref || !*ref) return hull_err_set(err, EINVAL, "image reference: empty");
    if (strchr(ref, '@'))
        return hull_err_set(err, EINVAL, "image reference \"%.200s\": digest references are not supported", ref);
    const char *slash = strrchr(ref, '/');
    const char *colon = strrchr(ref, ':');
    size_t nlen = strlen(ref);
    const char *tag = "latest";
    if (colon && (!slash || colon > slash)) {
        nlen = (size_t)(colon - ref);
        tag = colon + 1;
    }
    if (nlen >= sizeof e->name || strlen(tag) >= sizeof e->tag)
        return hull_err_set(err, EINVAL, "image reference \"%.200s\": too long", ref);
    /* Docker Hub's official images have three spellings; the store keeps the
     * short one so "busybox" finds an image imported as
     * docker.io/library/busybox (and the other way round). */
    static const char *const hub[] = {"docker.io/library/", "index.docker.io/library/", "library/"};
    for (size_t i = 0; i < sizeof hub / sizeof *hub; i++) {
        size_t hl = strlen(hub[i]);
        if (nlen > hl && strncmp(ref, hub[i], hl) == 0 && !memchr(ref + hl, '/', nlen - hl)) {
            ref += hl;
            nlen -= hl;
            break;
        }
    }
    memcpy(e->name, ref, nlen);
    e->name[nlen] = '\0';
    snprintf(e->tag, sizeof e->tag, "%s", tag);
    if (!name_valid(e->name))
        return hull_err_set(err, EINVAL, "image reference \"%.200s\": invalid repository name \"%s\"", ref, e->name);
    if (!tag_valid(e->tag))
        return hull_err_set(err, EINVAL, "image reference \"%.200s\": invalid tag \"%s\"", ref, e->tag);
    return 0;
}

int hull_image_ref_normalize(const char *in, char *name, size_t name_len, char *tag,
                             size_t tag_len, struct hull_err *err) {
    struct ref_entry e;
    int rc = ref_split(in, &e, err);
    if (rc < 0) return rc;
    if (name) snprintf(name, name_len, "%s", e.name);
    if (tag) snprintf(tag, tag_len, "%s", e.tag);
    return 0;
}

int refs_load(struct hull_image_store *s, struct ref_entry **out, size_t *n, struct hull_err *err) {
    *out = NULL;
    *n = 0;
    char *text = hull_read_file_at(s->root_fd, REFS_FILE, JSON_MAX, NULL);
    if (!text) {
        if (errno == ENOENT) return 0;
        return hull_err_sys(err, "image store %s: read %s", s->root, REFS_FILE);
    }
    char what[4200];
    snprintf(what, sizeof what, "%s/%s", s->root, REFS_FILE);
    yajl_val root = ij_parse(text, what, err);
    free(text);
    if (!root) return -err->code;
    yajl_val arr = ij_get(root, "images");
    size_t len = arr && YAJL_IS_ARRAY(arr) ? arr->u.array.len : 0;
    struct ref_entry *v = calloc(len ? len : 1, sizeof *v);
    if (!v) { yajl_tree_free(root); return hull_err_set(err, ENOMEM, "%s: out of memory", what); }
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        yajl_val o = arr->u.array.values[i];
        const char *nm = ij_str(o, "name"), *tg = ij_str(o, "tag"), *dg = ij_str(o, "digest");
        const char *pf = ij_str(o, "platform");
        if (!nm || !tg || !dg || digest_check(dg, what, NULL) < 0) continue;   /* skip damaged rows */
        snprintf(v[k].name, sizeof v[k].name, "%s", nm);
        snprintf(v[k].tag, sizeof v[k].tag, "%s", tg);
        snprintf(v[k].digest, sizeof v[k].digest, "%s", dg);
        snprintf(v[k].platform, sizeof v[k].platform, "%s", pf ? pf : "");
        k++;
    }
    yajl_tree_free(root);
    *out = v;
    *n = k;
    return 0;
}

static int ref_cmp(const void *a, const void *b) {
    const struct ref_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->tag, y->tag);
}

int refs_save(struct hull_image_store *s, const struct ref_entry *v, size_t n, struct hull_err *err) {
    struct ref_entry *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted) return hull_err_set(err, ENOMEM, "image store: out of memory");
    if (n) memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, ref_cmp);
    yajl_gen g = ij_gen_new();
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_map_open(g);
    jg_kint(g, "version", 1);
    jg_str(g, "images");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        yajl_gen_map_open(g);
        jg_kstr(g, "name", sorted[i].name);
        jg_kstr(g, "tag", sorted[i].tag);
        jg_kstr(g, "digest", sorted[i].digest);
        jg_kstr(g, "platform", sorted[i].platform);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    free(sorted);
    size_t len;
    char *text = jg_take(g, false, &len);
    if (!text) return hull_err_set(err, ENOMEM, "image store: out of memory");
    int rc = hull_write_file_atomic(s->root_fd, REFS_FILE, text, len, 0600);
    free(text);
    if (rc < 0) return hull_err_sys(err, "image store %s: write %s", s->root, REFS_FILE);
    fsync(s->root_fd);
    return 0;
}

int refs_set(struct hull_image_store *s, const struct ref_entry *e, struct hull_err *err) {
    int rc = store_lock(s->refs_lock_fd, LOCK_EX, "refs", err);
    if (rc < 0) return rc;
    struct ref_entry *v;
    size_t n;
    if ((rc = refs_load(s, &v, &n, err)) < 0) goto out;
    size_t i = 0;
    for (; i < n; i++)
        if (strcmp(v[i].name, e->name) == 0 && strcmp(v[i].tag, e->tag) == 0) break;
    if (i == n) {
        struct ref_entry *nv = realloc(v, (n + 1) * sizeof *v);
        if (!nv) { free(v); rc = hull_err_set(err, ENOMEM, "image store: out of memory"); goto out; }
        v = nv;
        n++;
    }
    v[i] = *e;
    rc = refs_save(s, v, n, err);
    free(v);
out:
    store_unlock(s->refs_lock_fd);
    return rc;
}

int refs_lookup(struct hull_image_store *s, const char *ref, struct ref_entry *out,
                struct hull_err *err) {
    struct ref_entry want;
    int rc = ref_split(ref, &want, err);
    if (rc < 0) return rc;
    struct ref_entry *v;
    size_t n;
    if ((rc = store_lock(s->refs_lock_fd, LOCK_SH, "refs", err)) < 0) return rc;
    rc = refs_load(s, &v, &n, err);
    store_unlock(s->refs_lock_fd);
    if (rc < 0) return rc;
    rc = hull_err_set(err, ENOENT, "image %s:%s: not found", want.name, want.tag);
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, want.name) == 0 && strcmp(v[i].tag, want.tag) == 0) {
            *out = v[i];
            hull_err_clear(err);
            rc = 0;
            break;
        }
    free(v);
    return rc;
}
