/* modules.dep / modules.builtin / modules.softdep / modules.alias -> the
 * ordered list of module files the guest agent loads (see modules_dep.h).
 * The files come from the host's /lib/modules, but they are still parsed as
 * untrusted text: bounded sizes, relative paths without "..", clear errors. */
#include "vm/guest/modules_dep.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (64u << 20)
#define NAME_MAX_LEN 64

const char *const hull_guest_modules[] = {
    "virtio_pci", "virtio_blk", "virtio_console", "?virtio_rng", "ext4", "erofs", "overlay",
};
const size_t hull_guest_modules_count = sizeof hull_guest_modules / sizeof *hull_guest_modules;

struct mod {
    char *name;
    char *path;
    char **deps;          /* names */
    size_t n_deps;
    char **soft;          /* softdep "pre:" targets (names or aliases) */
    size_t n_soft;
    int state;            /* 0 new, 1 visiting, 2 placed */
    size_t out_idx;
};

struct db {
    const char *dir;
    struct mod *mods;
    size_t n_mods;
    char **builtin;
    size_t n_builtin;
    char *alias_text;     /* modules.alias, read on first need */
    bool alias_read;
    struct hull_kmod_list *out;
    const char *stack[256];
    size_t depth;
};

static void normalise(char *s) {
    for (; *s; s++)
        if (*s == '-') *s = '_';
}

bool hull_kmod_name_from_path(const char *path, char *out, size_t len) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    static const char *const suffixes[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz"};
    size_t bl = strlen(base);
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t sl = strlen(suffixes[i]);
        if (bl > sl && !strcmp(base + bl - sl, suffixes[i]) && bl - sl < len) {
            memcpy(out, base, bl - sl);
            out[bl - sl] = '\0';
            normalise(out);
            return true;
        }
    }
    return false;
}

/* Reads a whole (small) text file; missing optional files give "". */
static int read_text(const char *dir, const char *file, bool optional, char **out, struct hull_err *err) {
    char path[4096];
    *out = NULL;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
        return hull_err_set(err, ENAMETOOLONG, "modules: path too long: %s/%s", dir, file);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && optional) {
            *out = strdup("");
            return *out ? 0 : hull_err_set(err, ENOMEM, "modules: out of memory");
        }
        return hull_err_sys(err, "modules: open %s", path);
    }
    size_t cap = 65536, len = 0;
    _cleanup_free_ char *buf = malloc(cap + 1);
    if (!buf) return hull_err_set(err, ENOMEM, "modules: out of memory");
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_FILE) return hull_err_set(err, EFBIG, "modules: %s is larger than %u bytes", path, MAX_FILE);
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) return hull_err_set(err, ENOMEM, "modules: out of memory");
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return hull_err_sys(err, "modules: read %s", path);
        if (r == 0) break;
        len += (size_t)r;
    }
    if (memchr(buf, '\0', len)) return hull_err_set(err, EINVAL, "modules: %s contains a NUL byte", path);
    buf[len] = '\0';
    *out = TAKE_PTR(buf);
    return 0;
}

/* A module path must stay inside the modules dir. */
static bool path_ok(const char *p) {
    if (!*p || *p == '/') return false;
    for (const char *s = p; *s;) {
        const char *e = strchrnul(s, '/');
        if (e - s == 2 && s[0] == '.' && s[1] == '.') return false;
        s = *e ? e + 1 : e;
    }
    return true;
}

static int cmp_mod(const void *a, const void *b) {
    return strcmp(((const struct mod *)a)->name, ((const struct mod *)b)->name);
}
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static struct mod *find_mod(struct db *db, const char *name) {
    struct mod key = {.name = (char *)name};
    return db->n_mods ? bsearch(&key, db->mods, db->n_mods, sizeof key, cmp_mod) : NULL;
}
static bool is_builtin(struct db *db, const char *name) {
    return db->n_builtin && bsearch(&name, db->builtin, db->n_builtin, sizeof(char *), cmp_str);
}

static int push(char ***v, size_t *n, const char *s, struct hull_err *err) {
    char **nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv) return hull_err_set(err, ENOMEM, "modules: out of memory");
    *v = nv;
    if (!(nv[*n] = strdup(s))) return hull_err_set(err, ENOMEM, "modules: out of memory");
    (*n)++;
    return 0;
}

static int parse_dep(struct db *db, char *text, struct hull_err *err) {
    size_t line = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        if (!*l || *l == '#') continue;
        char *colon = strchr(l, ':');
        if (!colon) return hull_err_set(err, EINVAL, "modules: %s/modules.dep:%zu: no ':'", db->dir, line);
        *colon = '\0';
        char name[NAME_MAX_LEN];
        if (!path_ok(l) || !hull_kmod_name_from_path(l, name, sizeof name))
            return hull_err_set(err, EINVAL, "modules: %s/modules.dep:%zu: bad module path \"%.200s\"", db->dir, line, l);
        struct mod *nm = realloc(db->mods, (db->n_mods + 1) * sizeof *nm);
        if (!nm) return hull_err_set(err, ENOMEM, "modules: out of memory");
        db->mods = nm;
        struct mod *m = &db->mods[db->n_mods++];
        memset(m, 0, sizeof *m);
        m->name = strdup(name);
        m->path = strdup(l);
        if (!m->name || !m->path) return hull_err_set(err, ENOMEM, "modules: out of memory");
        for (char *s2 = NULL, *d = strtok_r(colon + 1, " \t", &s2); d; d = strtok_r(NULL, " \t", &s2)) {
            char dn[NAME_MAX_LEN];
            if (!path_ok(d) || !hull_kmod_name_from_path(d, dn, sizeof dn))
                return hull_err_set(err, EINVAL, "modules: %s/modules.dep:%zu: bad dependency \"%.200s\"", db->dir,
                                    line, d);
            int rc = push(&m->deps, &m->n_deps, dn, err);
            if (rc < 0) return rc;
        }
    }
    if (db->n_mods) qsort(db->mods, db->n_mods, sizeof *db->mods, cmp_mod);
    for (size_t i = 1; i < db->n_mods; i++)
        if (!strcmp(db->mods[i - 1].name, db->mods[i].name))
            return hull_err_set(err, EINVAL, "modules: %s/modules.dep: module %s listed twice", db->dir,
                                db->mods[i].name);
    return 0;
}

static int parse_builtin(struct db *db, char *text, struct hull_err *err) {
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char name[NAME_MAX_LEN];
        if (!hull_kmod_name_from_path(l, name, sizeof name)) continue;
        int rc = push(&db->builtin, &db->n_builtin, name, err);
        if (rc < 0) return rc;
    }
    if (db->n_builtin) qsort(db->builtin, db->n_builtin, sizeof *db->builtin, cmp_str);
    return 0;
}

/* "softdep MOD pre: a b post: c": keeps the pre: targets. */
static int parse_softdep(struct db *db, char *text, struct hull_err *err) {
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *s2 = NULL, *w = strtok_r(l, " \t", &s2);
        if (!w || strcmp(w, "softdep")) continue;
        char *modname = strtok_r(NULL, " \t", &s2);
        if (!modname || strlen(modname) >= NAME_MAX_LEN) continue;
        normalise(modname);
        struct mod *m = find_mod(db, modname);
        bool pre = false;
        for (w = strtok_r(NULL, " \t", &s2); w; w = strtok_r(NULL, " \t", &s2)) {
            if (!strcmp(w, "pre:")) pre = true;
            else if (!strcmp(w, "post:")) pre = false;
            else if (pre && m && strlen(w) < NAME_MAX_LEN) {
                int rc = push(&m->soft, &m->n_soft, w, err);
                if (rc < 0) return rc;
            }
        }
    }
    return 0;
}

static int place(struct db *db, struct mod *m, bool optional, struct hull_err *err);

/* Softdep target -> modules: a module name, else every provider of the alias. */
static int place_soft(struct db *db, const char *target, struct hull_err *err) {
    char norm[NAME_MAX_LEN];
    snprintf(norm, sizeof norm, "%s", target);
    normalise(norm);
    struct mod *m = find_mod(db, norm);
    if (m) return m->state == 1 ? 0 : place(db, m, true, err);   /* soft cycles are harmless */
    if (is_builtin(db, norm)) return 0;
    if (!db->alias_read) {
        int rc = read_text(db->dir, "modules.alias", true, &db->alias_text, err);
        if (rc < 0) return rc;
        db->alias_read = true;
    }
    size_t tl = strlen(target);
    for (const char *l = db->alias_text; *l;) {
        const char *e = strchrnul(l, '\n');
        /* "alias TARGET MODULE" */
        if (!strncmp(l, "alias ", 6) && (size_t)(e - l) > 6 + tl + 1 && !strncmp(l + 6, target, tl) &&
            l[6 + tl] == ' ') {
            char mod[NAME_MAX_LEN];
            size_t ml = (size_t)(e - (l + 7 + tl));
            if (ml > 0 && ml < sizeof mod) {
                memcpy(mod, l + 7 + tl, ml);
                mod[ml] = '\0';
                normalise(mod);
                struct mod *p = find_mod(db, mod);
                if (p && p->state != 1) {
                    int rc = place(db, p, true, err);
                    if (rc < 0) return rc;
                }
            }
        }
        l = *e ? e + 1 : e;
    }
    return 0;
}

/* A module placed as optional that turns out to be required: so are its deps. */
static void make_required(struct db *db, struct mod *m) {
    if (!db->out->v[m->out_idx].optional) return;
    db->out->v[m->out_idx].optional = false;
    for (size_t i = 0; i < m->n_deps; i++) {
        struct mod *d = find_mod(db, m->deps[i]);
        if (d && d->state == 2) make_required(db, d);
    }
}

static int place(struct db *db, struct mod *m, bool optional, struct hull_err *err) {
    if (m->state == 2) {
        if (!optional) make_required(db, m);
        return 0;
    }
    if (m->state == 1) {
        char chain[1024] = "";
        size_t off = 0;
        for (size_t i = 0; i < db->depth && off < sizeof chain; i++)
            off += (size_t)snprintf(chain + off, sizeof chain - off, "%s -> ", db->stack[i]);
        return hull_err_set(err, ELOOP, "modules: %s/modules.dep: dependency cycle: %s%s", db->dir, chain, m->name);
    }
    if (db->depth >= sizeof db->stack / sizeof *db->stack)
        return hull_err_set(err, ELOOP, "modules: dependencies nested too deeply at %s", m->name);
    m->state = 1;
    db->stack[db->depth++] = m->name;
    int rc = 0;
    for (size_t i = 0; i < m->n_soft && rc == 0; i++) rc = place_soft(db, m->soft[i], err);
    for (size_t i = 0; i < m->n_deps && rc == 0; i++) {
        struct mod *d = find_mod(db, m->deps[i]);
        if (!d) {
            if (is_builtin(db, m->deps[i])) continue;
            rc = hull_err_set(err, ENOENT, "modules: %s/modules.dep: %s depends on %s, which has no entry", db->dir,
                              m->name, m->deps[i]);
            break;
        }
        rc = place(db, d, optional, err);
    }
    db->depth--;
    if (rc < 0) return rc;
    m->state = 2;
    struct hull_kmod_list *o = db->out;
    struct hull_kmod *nv = realloc(o->v, (o->n + 1) * sizeof *nv);
    if (!nv) return hull_err_set(err, ENOMEM, "modules: out of memory");
    o->v = nv;
    nv[o->n] = (struct hull_kmod){.name = strdup(m->name), .path = strdup(m->path), .optional = optional};
    if (!nv[o->n].name || !nv[o->n].path) {
        free(nv[o->n].name);
        free(nv[o->n].path);
        return hull_err_set(err, ENOMEM, "modules: out of memory");
    }
    m->out_idx = o->n++;
    return 0;
}

static void db_free(struct db *db) {
    for (size_t i = 0; i < db->n_mods; i++) {
        struct mod *m = &db->mods[i];
        free(m->name);
        free(m->path);
        for (size_t k = 0; k < m->n_deps; k++) free(m->deps[k]);
        for (size_t k = 0; k < m->n_soft; k++) free(m->soft[k]);
        free(m->deps);
        free(m->soft);
    }
    free(db->mods);
    for (size_t i = 0; i < db->n_builtin; i++) free(db->builtin[i]);
    free(db->builtin);
    free(db->alias_text);
}

void hull_kmod_list_free(struct hull_kmod_list *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].path);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int hull_modules_resolve(const char *moddir, const char *const *names, size_t n, struct hull_kmod_list *out,
                         struct hull_err *err) {
    struct db db = {.dir = moddir, .out = out};
    out->v = NULL;
    out->n = 0;
    char *dep = NULL, *builtin = NULL, *soft = NULL;
    int rc = read_text(moddir, "modules.dep", false, &dep, err);
    if (rc == 0) rc = read_text(moddir, "modules.builtin", true, &builtin, err);
    if (rc == 0) rc = read_text(moddir, "modules.softdep", true, &soft, err);
    if (rc == 0) rc = parse_dep(&db, dep, err);
    if (rc == 0) rc = parse_builtin(&db, builtin, err);
    if (rc == 0) rc = parse_softdep(&db, soft, err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *want = names[i];
        bool if_present = want[0] == '?';
        char norm[NAME_MAX_LEN];
        if ((size_t)snprintf(norm, sizeof norm, "%s", want + if_present) >= sizeof norm || !norm[0]) {
            rc = hull_err_set(err, EINVAL, "modules: bad module name \"%.100s\"", want);
            break;
        }
        normalise(norm);
        struct mod *m = find_mod(&db, norm);
        if (m) rc = place(&db, m, false, err);
        else if (is_builtin(&db, norm) || if_present) continue;
        else rc = hull_err_set(err, ENOENT, "modules: the kernel in %s has no module %s (neither in modules.dep "
                               "nor built in): the guest cannot use it", moddir, norm);
    }
    free(dep);
    free(builtin);
    free(soft);
    db_free(&db);
    if (rc < 0) hull_kmod_list_free(out);
    return rc;
}
