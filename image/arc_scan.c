/* The table of one streaming pass over an image archive (struct arc_scan):
 * member paths normalised, appended, looked up through symlinks, freed.
 * import.c fills it, import.c and import_docker.c read it. */
#include "image/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a/./b//c" -> "a/b/c"; ".." pops (never above the root: then NULL). The
 * names only index the scan table, nothing is created from them. */
char *arc_norm(const char *dir, const char *p) {
    size_t cap = (dir ? strlen(dir) : 0) + strlen(p) + 2;
    char *in = malloc(cap), *out = malloc(cap);
    if (!in || !out) { free(in); free(out); return NULL; }
    snprintf(in, cap, "%s%s%s", dir && *dir && p[0] != '/' ? dir : "",
             dir && *dir && p[0] != '/' ? "/" : "", p);
    size_t o = 0;
    char *save = NULL;
    for (char *c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0) continue;
        if (strcmp(c, "..") == 0) {
            if (o == 0) { free(in); free(out); return NULL; }
            while (o > 0 && out[o - 1] != '/') o--;
            if (o > 0) o--;
            continue;
        }
        if (o) out[o++] = '/';
        memcpy(out + o, c, strlen(c));
        o += strlen(c);
    }
    out[o] = '\0';
    free(in);
    return out;
}

const struct arc_file *arc_find(const struct arc_scan *sc, const char *path) {
    char *p = arc_norm(NULL, path);
    const struct arc_file *f = NULL;
    for (int hops = 0; p && hops < 16; hops++) {
        f = NULL;
        for (size_t i = 0; i < sc->n; i++)
            if (strcmp(sc->files[i].path, p) == 0) f = &sc->files[i];
        if (!f || !f->link) break;
        free(p);
        p = strdup(f->link);
    }
    free(p);
    return f && !f->link ? f : NULL;
}

void arc_scan_free(struct arc_scan *sc) {
    for (size_t i = 0; i < sc->n; i++) { free(sc->files[i].path); free(sc->files[i].link); }
    free(sc->files);
    free(sc->index_json); free(sc->oci_layout); free(sc->manifest_json);
    dset_free(&sc->created);
}

struct arc_file *arc_push(struct arc_scan *sc) {
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 32;
        void *v = realloc(sc->files, cap * sizeof *sc->files);
        if (!v) return NULL;
        sc->files = v;
        sc->cap = cap;
    }
    struct arc_file *f = &sc->files[sc->n++];
    memset(f, 0, sizeof *f);
    return f;
}
