/* The image's users and groups, and small host files; see image_user.h. */
#include "lifecycle/image_user.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ETC_FILE_MAX (16u << 20)         /* /etc/passwd, /etc/group of an image */
#define USER_FILE_MAX (4u << 20)         /* --env-file, seccomp profile */

/* ---- file reading ----------------------------------------------------------- */

/* Whole fd until EOF, at most max bytes; NULL with errno (EFBIG when larger). */
static char *read_fd(int fd, size_t max, size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= max) { free(buf); errno = EFBIG; return NULL; }
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) break;
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { int e = errno; free(buf); errno = e; return NULL; }
        if (r == 0) { buf[n] = '\0'; if (len) *len = n; return buf; }
        n += (size_t)r;
    }
    free(buf);
    errno = ENOMEM;
    return NULL;
}

/* A file the user named on the command line (may be a pipe: --env-file <(...)). */
char *hull_read_small_file(const char *path, const char *what, size_t *len, struct hull_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { hull_err_sys(err, "%s %s", what, path); return NULL; }
    char *buf = read_fd(fd, USER_FILE_MAX, len);
    if (!buf) hull_err_sys(err, "%s %s: read", what, path);
    close(fd);
    return buf;
}

/* rel (e.g. "etc/passwd") inside root_fd, every symlink resolved as if
 * root_fd were "/" (an image cannot point us at a host file). *out = NULL
 * when the file does not exist. Only regular files: a fifo would block us and
 * a device could feed us forever. */
static int read_in_root(int root_fd, const char *rel, char **out, struct hull_err *err) {
    *out = NULL;
    if (root_fd < 0) return 0;
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    int fd;
    do fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
    while (fd < 0 && errno == EAGAIN);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return 0;
        return hull_err_sys(err, "rootfs /%s", rel);
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0) rc = hull_err_sys(err, "rootfs /%s: stat", rel);
    else if (!S_ISREG(st.st_mode)) rc = hull_err_set(err, EINVAL, "rootfs /%s: not a regular file", rel);
    else if (!(*out = read_fd(fd, ETC_FILE_MAX, NULL))) rc = hull_err_sys(err, "rootfs /%s: read", rel);
    close(fd);
    return rc;
}

/* ---- user resolution (runc's GetExecUser rules) ----------------------------- */

/* Decimal id in 0..UINT32_MAX-1 (-1 is the kernel's "no change"). */
static bool parse_id(const char *s, uint32_t *out) {
    if (!*s || strlen(s) > 10) return false;
    unsigned long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v >= UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

/* Splits a line of a colon-separated file in place; returns the field count. */
static size_t split_colon(char *line, char **f, size_t max) {
    size_t n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ':') { *p = '\0'; f[n++] = p + 1; }
    return n;
}

/* Calls fn(fields, n, ctx) for each line until it returns true. buf is modified. */
static bool each_line(char *buf, size_t min_fields, bool (*fn)(char **, void *), void *ctx) {
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *f[8];
        if (line[0] == '#' || split_colon(line, f, 8) < min_fields) continue;
        if (fn(f, ctx)) return true;
    }
    return false;
}

struct pw_match { const char *arg; bool numeric; uint32_t id; char *name; uint32_t uid, gid; };

static bool pw_fn(char **f, void *ctx) {
    struct pw_match *m = ctx;
    uint32_t uid, gid;
    if (!parse_id(f[2], &uid) || !parse_id(f[3], &gid)) return false;
    if (strcmp(f[0], m->arg) != 0 && !(m->numeric && uid == m->id)) return false;
    m->name = strdup(f[0]);
    m->uid = uid;
    m->gid = gid;
    return m->name != NULL;
}

struct gr_match { const char *arg; bool numeric; uint32_t id; bool found; uint32_t gid; };

static bool gr_fn(char **f, void *ctx) {
    struct gr_match *m = ctx;
    uint32_t gid;
    if (!parse_id(f[2], &gid)) return false;
    if (strcmp(f[0], m->arg) != 0 && !(m->numeric && gid == m->id)) return false;
    m->found = true;
    m->gid = gid;
    return true;
}

struct member_ctx { const char *user; uint32_t *gids; size_t n; bool oom; };

static bool member_fn(char **f, void *ctx) {
    struct member_ctx *m = ctx;
    uint32_t gid;
    if (!parse_id(f[2], &gid)) return false;
    for (char *tok, *save = NULL, *s = f[3]; (tok = strtok_r(s, ",", &save)); s = NULL) {
        if (strcmp(tok, m->user) != 0) continue;
        for (size_t i = 0; i < m->n; i++)
            if (m->gids[i] == gid) return false;
        uint32_t *g = realloc(m->gids, (m->n + 1) * sizeof *g);
        if (!g) { m->oom = true; return true; }
        m->gids = g;
        m->gids[m->n++] = gid;
        return false;
    }
    return false;
}


/* spec "USER[:GROUP]" (empty: root). A user found in passwd (by name or uid)
 * takes its primary gid and, when no group was given, the groups that list it
 * as a member; a numeric user not in passwd runs as uid:0. */
int hull_resolve_user(int root_fd, const char *spec, struct hull_ids *out, struct hull_err *err) {
    memset(out, 0, sizeof *out);
    char *dup = strdup(spec && *spec ? spec : "0");
    if (!dup) return hull_err_set(err, ENOMEM, "out of memory");
    char *group = strchr(dup, ':');
    if (group) *group++ = '\0';
    const char *user = *dup ? dup : "0";
    char *passwd = NULL, *grp = NULL;
    int rc;
    struct pw_match pw = { .arg = user };
    pw.numeric = parse_id(user, &pw.id);
    if ((rc = read_in_root(root_fd, "etc/passwd", &passwd, err)) < 0) goto out;
    if (passwd) each_line(passwd, 4, pw_fn, &pw);
    if (!pw.name) {
        if (!pw.numeric) {
            rc = hull_err_set(err, ENOENT, "user \"%.100s\": no matching entry in the image's /etc/passwd%s",
                              user, passwd ? "" : " (the image has none)");
            goto out;
        }
        out->uid = pw.id;
        out->gid = 0;
    } else {
        out->uid = pw.uid;
        out->gid = pw.gid;
    }
    if (!group && !pw.name) { rc = 0; goto out; }
    if ((rc = read_in_root(root_fd, "etc/group", &grp, err)) < 0) goto out;
    if (group) {
        struct gr_match gm = { .arg = group };
        gm.numeric = parse_id(group, &gm.id);
        if (!*group) {
            rc = hull_err_set(err, EINVAL, "user \"%.100s\": empty group after ':'", spec);
            goto out;
        }
        if (grp) each_line(grp, 3, gr_fn, &gm);
        if (!gm.found && !gm.numeric) {
            rc = hull_err_set(err, ENOENT, "group \"%.100s\": no matching entry in the image's /etc/group%s",
                              group, grp ? "" : " (the image has none)");
            goto out;
        }
        out->gid = gm.found ? gm.gid : gm.id;
    } else if (grp) {
        struct member_ctx mc = { .user = pw.name };
        each_line(grp, 4, member_fn, &mc);
        if (mc.oom) { free(mc.gids); rc = hull_err_set(err, ENOMEM, "out of memory"); goto out; }
        out->sgids = mc.gids;
        out->n_sgids = mc.n;
    }
    rc = 0;
out:
    free(pw.name);
    free(passwd);
    free(grp);
    free(dup);
    return rc;
}

