#include "base/state.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "base/fsutil.h"

static const char *const status_names[] = {
    [HULL_CREATING] = "creating", [HULL_CREATED] = "created", [HULL_RUNNING] = "running",
    [HULL_PAUSED] = "paused", [HULL_STOPPED] = "stopped",
};

const char *hull_status_name(enum hull_status s) { return status_names[s]; }

static int status_from_name(const char *s) {
    for (size_t i = 0; i < sizeof status_names / sizeof *status_names; i++)
        if (strcmp(s, status_names[i]) == 0) return (int)i;
    return -1;
}

int hull_id_validate(const char *id, struct hull_err *err) {
    size_t n = id ? strlen(id) : 0;
    if (n == 0) return hull_err_set(err, EINVAL, "container id must not be empty");
    if (n >= HULL_ID_MAX) return hull_err_set(err, EINVAL, "container id is longer than %d bytes", HULL_ID_MAX - 1);
    if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return hull_err_set(err, EINVAL, "invalid container id \"%s\"", id);
    for (const char *p = id; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.' || *p == '+' || *p == ':' ||
              *p == '@'))
            return hull_err_set(err, EINVAL, "invalid container id \"%s\": only [A-Za-z0-9_.+:@-] allowed", id);
    return 0;
}

static int lock_dir(int fd, const char *what, struct hull_err *err) {
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR) return hull_err_sys(err, "lock %s", what);
    return 0;
}

int hull_state_create_dir(const char *root, const char *id, int *dir_fd, struct hull_err *err) {
    int r = hull_id_validate(id, err);
    if (r < 0) return r;
    if (hull_mkdir_p(root, 0700) < 0) return hull_err_sys(err, "create state root %s", root);
    _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return hull_err_sys(err, "open state root %s", root);
    if (mkdirat(rootfd, id, 0711) < 0) {
        if (errno == EEXIST) return hull_err_set(err, EEXIST, "container \"%s\" already exists", id);
        return hull_err_sys(err, "create state directory %s/%s", root, id);
    }
    int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return hull_err_sys(err, "open state directory %s/%s", root, id);
    r = lock_dir(fd, id, err);
    if (r < 0) { close(fd); return r; }
    *dir_fd = fd;
    return 0;
}

int hull_state_open(const char *root, const char *id, int *dir_fd, struct hull_err *err) {
    int r = hull_id_validate(id, err);
    if (r < 0) return r;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, id);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return hull_err_set(err, ENOENT, "container \"%s\" does not exist", id);
        return hull_err_sys(err, "open state of container \"%s\"", id);
    }
    r = lock_dir(fd, id, err);
    if (r < 0) { close(fd); return r; }
    *dir_fd = fd;
    return 0;
}

/* ---- serialisation ---------------------------------------------------- */

#include "base/json_gen.h"

static void gen_common(yajl_gen g, const struct hull_state *st, enum hull_status status) {
    jg_kstr(g, "ociVersion", HULL_OCI_VERSION);
    jg_kstr(g, "id", st->id);
    jg_kstr(g, "status", hull_status_name(status));
    jg_kint(g, "pid", status == HULL_STOPPED ? 0 : st->pid);
    jg_kstr(g, "bundle", st->bundle);
}

static void gen_annotations(yajl_gen g, const struct hull_state *st) {
    jg_str(g, "annotations");
    yajl_gen_map_open(g);
    for (size_t i = 0; i < st->n_annotations; i++) {
        jg_str(g, st->annotations[i].key);
        jg_str(g, st->annotations[i].value);
    }
    yajl_gen_map_close(g);
}

char *hull_state_json(const struct hull_state *st, enum hull_status status, bool pretty, bool extra) {
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return NULL;
    yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
    yajl_gen_config(g, yajl_gen_validate_utf8, 0);
    yajl_gen_map_open(g);
    gen_common(g, st, status);
    if (extra) {
        jg_kstr(g, "rootfs", st->rootfs);
        jg_kstr(g, "created", st->created);
        jg_kstr(g, "owner", "");
    }
    gen_annotations(g, st);
    yajl_gen_map_close(g);
    return jg_take(g, false, NULL);
}

char *hull_seccomp_process_state_json(const char *state_json, pid_t pid, const char *metadata) {
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return NULL;
    yajl_gen_map_open(g);
    jg_kstr(g, "ociVersion", HULL_OCI_VERSION);
    jg_str(g, "fds");
    yajl_gen_array_open(g);
    jg_str(g, "seccompFd");
    yajl_gen_array_close(g);
    jg_kint(g, "pid", pid);
    if (metadata) { jg_kstr(g, "metadata", metadata); }
    yajl_gen_map_close(g);
    char *head = jg_take(g, false, NULL);
    if (!head) return NULL;
    /* splice the already-serialised container state in as "state" */
    size_t hl = strlen(head);
    char *out = NULL;
    if (hl && head[hl - 1] == '}' && asprintf(&out, "%.*s,\"state\":%s}", (int)(hl - 1), head, state_json) < 0)
        out = NULL;
    free(head);
    return out;
}

int hull_state_write(int dir_fd, const struct hull_state *st, struct hull_err *err) {
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return hull_err_set(err, ENOMEM, "state: out of memory");
    yajl_gen_map_open(g);
    gen_common(g, st, st->stored);
    jg_kint(g, "pidStart", (long long)st->pid_start);
    jg_kstr(g, "rootfs", st->rootfs);
    jg_kstr(g, "created", st->created);
    jg_kstr(g, "executor", st->executor);
    if (st->cgroup_json) { jg_kstr(g, "cgroup", st->cgroup_json); }
    gen_annotations(g, st);
    yajl_gen_map_close(g);
    if (jg_write_at(g, dir_fd, "state.json", 0600) < 0) return hull_err_sys(err, "write state of container \"%s\"", st->id);
    return 0;
}

static const char *get_str(yajl_val root, const char *key) {
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : NULL;
}

static long long get_int(yajl_val root, const char *key) {
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_number);
    return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

static void copy_str(char *dst, size_t len, const char *src) {
    snprintf(dst, len, "%s", src ? src : "");
}

int hull_state_read(int dir_fd, struct hull_state *st, struct hull_err *err) {
    memset(st, 0, sizeof *st);
    size_t len;
    _cleanup_free_ char *text = hull_read_file_at(dir_fd, "state.json", 1 << 20, &len);
    if (!text) {
        if (errno == ENOENT) /* killed before the first write: treat as a dead, empty container */
            { st->stored = HULL_STOPPED; return 0; }
        return hull_err_sys(err, "read state.json");
    }
    char ebuf[256];
    yajl_val root = yajl_tree_parse(text, ebuf, sizeof ebuf);
    if (!root || !YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        return hull_err_set(err, EINVAL, "state.json is corrupt");
    }
    copy_str(st->id, sizeof st->id, get_str(root, "id"));
    copy_str(st->bundle, sizeof st->bundle, get_str(root, "bundle"));
    copy_str(st->rootfs, sizeof st->rootfs, get_str(root, "rootfs"));
    copy_str(st->created, sizeof st->created, get_str(root, "created"));
    copy_str(st->executor, sizeof st->executor, get_str(root, "executor"));
    const char *s = get_str(root, "status");
    int status = s ? status_from_name(s) : -1;
    st->stored = status < 0 ? HULL_STOPPED : (enum hull_status)status;
    st->pid = (pid_t)get_int(root, "pid");
    st->pid_start = (unsigned long long)get_int(root, "pidStart");
    const char *cg = get_str(root, "cgroup");
    st->cgroup_json = cg ? strdup(cg) : NULL;
    const char *apath[] = {"annotations", NULL};
    yajl_val ann = yajl_tree_get(root, apath, yajl_t_object);
    if (ann) {
        size_t n = ann->u.object.len;
        st->annotations = calloc(n ? n : 1, sizeof *st->annotations);
        for (size_t i = 0; i < n; i++) {
            const char *v = YAJL_GET_STRING(ann->u.object.values[i]);
            st->annotations[st->n_annotations].key = strdup(ann->u.object.keys[i]);
            st->annotations[st->n_annotations].value = strdup(v ? v : "");
            st->n_annotations++;
        }
    }
    yajl_tree_free(root);
    return 0;
}

void hull_state_release(struct hull_state *st) {
    free(st->cgroup_json);
    st->cgroup_json = NULL;
    for (size_t i = 0; i < st->n_annotations; i++) {
        free(st->annotations[i].key);
        free(st->annotations[i].value);
    }
    free(st->annotations);
    st->annotations = NULL;
    st->n_annotations = 0;
}

void hull_state_set_annotations(struct hull_state *st, const struct hull_spec *spec) {
    st->annotations = calloc(spec->n_annotations ? spec->n_annotations : 1, sizeof *st->annotations);
    for (size_t i = 0; i < spec->n_annotations; i++) {
        st->annotations[i].key = strdup(spec->annotations[i].key);
        st->annotations[i].value = strdup(spec->annotations[i].value);
    }
    st->n_annotations = spec->n_annotations;
}

/* ---- liveness --------------------------------------------------------- */

/* Field 22 of /proc/PID/stat; also reports a zombie as not running. */
static int proc_stat(pid_t pid, unsigned long long *start, char *state) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -EIO;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');   /* comm may contain spaces and parens */
    if (!p) return -EIO;
    p += 2;
    *state = *p;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p) return -EIO;
        p++;
    }
    *start = strtoull(p, NULL, 10);
    return 0;
}

int hull_proc_starttime(pid_t pid, unsigned long long *start) {
    char state;
    return proc_stat(pid, start, &state);
}

bool hull_state_pid_alive(const struct hull_state *st) {
    if (st->pid <= 0) return false;
    unsigned long long start;
    char state;
    if (proc_stat(st->pid, &start, &state) < 0) return false;
    if (state == 'Z' || state == 'X') return false;
    return st->pid_start == 0 || start == st->pid_start;
}

enum hull_status hull_state_status(int dir_fd, const struct hull_state *st) {
    if (st->stored == HULL_STOPPED || !hull_state_pid_alive(st)) return HULL_STOPPED;
    if (st->stored == HULL_CREATING) return HULL_CREATING;
    if (st->stored == HULL_PAUSED) return HULL_PAUSED;
    if (faccessat(dir_fd, "exec.sock", F_OK, AT_SYMLINK_NOFOLLOW) == 0) return HULL_CREATED;
    return HULL_RUNNING;
}

int hull_state_remove(const char *root, const char *id, struct hull_err *err) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, id);
    if (hull_rm_rf(path) < 0 && errno != ENOENT) return hull_err_sys(err, "remove state %s", path);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int hull_state_list(const char *root, char ***ids, size_t *n, struct hull_err *err) {
    *ids = NULL;
    *n = 0;
    DIR *d = opendir(root);
    if (!d) {
        if (errno == ENOENT) return 0;
        return hull_err_sys(err, "list %s", root);
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || de->d_type != DT_DIR) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *ids = realloc(*ids, cap * sizeof **ids);
        }
        (*ids)[(*n)++] = strdup(de->d_name);
    }
    closedir(d);
    if (*n) qsort(*ids, *n, sizeof **ids, cmp_str);
    return 0;
}

void hull_now_rfc3339(char *buf, size_t len) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}

bool hull_in_user_namespace(void) {
    /* The initial namespace maps the whole range: "0 0 4294967295". */
    char buf[256];
    int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = hull_read_all(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    unsigned long inner, outer, count;
    int used = 0;
    if (sscanf(buf, " %lu %lu %lu %n", &inner, &outer, &count, &used) != 3) return true;
    return !(inner == 0 && outer == 0 && count == 4294967295UL && buf[used] == '\0');
}

const char *hull_state_default_root(void) {
    static char root[PATH_MAX];
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (!xdg || xdg[0] != '/') return HULL_DEFAULT_ROOT;
    if (geteuid() == 0) {
        /* uid 0 of the host, or of a namespace whose owner said it is root. */
        const char *user = getenv("USER");
        if (!hull_in_user_namespace() || (user && strcmp(user, "root") == 0)) return HULL_DEFAULT_ROOT;
    }
    if (snprintf(root, sizeof root, "%s/hull", xdg) >= (int)sizeof root) return HULL_DEFAULT_ROOT;
    return root;
}
