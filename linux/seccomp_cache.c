/* Seccomp filters compiled before the container's process is forked, and kept.
 *
 * Why: compiling a container engine's default profile (podman's or docker's:
 * ~350 syscalls on three architectures) with libseccomp costs 20-25 ms of CPU
 * on this kind of machine — two thirds of a `create` — for the same profile,
 * container after container. So `create` and `exec` call
 * hull_seccomp_precompile() in the hull process, before the init (or the
 * exec'd process) is forked: the BPF program comes from the state root's
 * .seccomp-cache/ when a container compiled the same profile before, else from
 * libseccomp (seccomp_export_bpf, the very program its seccomp_load would
 * load), and is then stored there. The child inherits the program with its
 * memory and hull_seccomp_load() hands it to the kernel with the flags
 * libseccomp would pass.
 *
 * A cache entry is named by a 64-bit FNV-1a hash of its key and holds: magic,
 * key length, key, program. The key is a canonical text of everything the
 * program depends on: libseccomp's version and API level, the native
 * architecture, and the whole linux.seccomp section. An entry is used only when
 * its key equals ours byte for byte, so a hash collision costs a compile, never
 * a wrong filter; a short or malformed entry is ignored and rewritten. The
 * directory is 0700 inside the state root, whose owner controls every container
 * there anyway. Filters with SCMP_ACT_NOTIFY (their load returns a listener fd)
 * are left to libseccomp in the child, as before. Cache trouble (read-only or
 * full filesystem, ...) is never an error: the program is then just compiled. */
#include "linux/process.h"
#include "linux/seccomp_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/fsutil.h"

#define CACHE_MAGIC "hull-seccomp-bpf 1\n"
#define CACHE_MAX_ENTRIES 256          /* distinct profiles kept; beyond that, compile without storing */
#define KEY_MAX (1u << 20)

/* The program for one struct hull_seccomp, inherited by the forked child. */
static struct {
    const struct hull_seccomp *for_spec;
    struct sock_filter *insns;
    unsigned short len;
} pre;

struct text {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void __attribute__((format(printf, 2, 3))) put(struct text *t, const char *fmt, ...) {
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { t->failed = true; return; }
        if (t->buf && t->len + (size_t)n < t->cap) { t->len += (size_t)n; return; }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap <= t->len + (size_t)n) cap *= 2;
        char *nb = cap <= KEY_MAX ? realloc(t->buf, cap) : NULL;
        if (!nb) { t->failed = true; return; }
        t->buf = nb;
        t->cap = cap;
    }
}

/* Strings are length-prefixed, so no name can fake a field boundary. */
static void put_str(struct text *t, const char *tag, const char *s) {
    put(t, "%s %zu:%s\n", tag, s ? strlen(s) : 0, s ? s : "");
}

static void put_opt(struct text *t, const char *tag, hull_opt_u64 v) {
    put(t, "%s %d %llu\n", tag, v.set, (unsigned long long)v.v);
}

static char *make_key(const struct hull_seccomp *s, size_t *len) {
    struct text t = {0};
    const struct scmp_version *v = seccomp_version();
    put(&t, "libseccomp %u.%u.%u api %u native %u\n", v->major, v->minor, v->micro, seccomp_api_get(),
        seccomp_arch_native());
    put(&t, "default %d\n", (int)s->default_action);
    put_opt(&t, "default-errno", s->default_errno_ret);
    for (size_t i = 0; i < s->n_architectures; i++) put_str(&t, "arch", s->architectures[i]);
    for (size_t i = 0; i < s->n_flags; i++) put_str(&t, "flag", s->flags[i]);
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct hull_seccomp_rule *r = &s->syscalls[i];
        put(&t, "rule %d\n", (int)r->action);
        put_opt(&t, "errno", r->errno_ret);
        for (size_t n = 0; n < r->n_names; n++) put_str(&t, "name", r->names[n]);
        for (size_t a = 0; a < r->n_args; a++)
            put(&t, "arg %u %d %llu %llu\n", r->args[a].index, (int)r->args[a].op,
                (unsigned long long)r->args[a].value, (unsigned long long)r->args[a].value_two);
    }
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    *len = t.len;
    return t.buf;
}

static uint64_t fnv1a64(const char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static bool valid_len(size_t bytes) {
    return bytes > 0 && bytes % sizeof(struct sock_filter) == 0 && bytes / sizeof(struct sock_filter) <= BPF_MAXINSNS;
}

/* Entry layout: CACHE_MAGIC, "%zu\n" key length, key, program. */
static bool cache_read(int dir, const char *name, const char *key, size_t klen) {
    size_t len;
    char *data = hull_read_file_at(dir, name, KEY_MAX + BPF_MAXINSNS * sizeof(struct sock_filter) + 64, &len);
    if (!data) return false;
    bool ok = false;
    size_t m = strlen(CACHE_MAGIC);
    char *end;
    if (len > m && memcmp(data, CACHE_MAGIC, m) == 0) {
        unsigned long long stored = strtoull(data + m, &end, 10);
        size_t off = (size_t)(end - data) + 1;
        if (*end == '\n' && stored == klen && off + klen <= len && memcmp(data + off, key, klen) == 0 &&
            valid_len(len - off - klen)) {
            size_t bytes = len - off - klen;
            struct sock_filter *insns = malloc(bytes);
            if (insns) {
                memcpy(insns, data + off + klen, bytes);
                free(pre.insns);
                pre.insns = insns;
                pre.len = (unsigned short)(bytes / sizeof(struct sock_filter));
                ok = true;
            }
        }
    }
    free(data);
    return ok;
}

static void cache_write(int dir, const char *name, const char *key, size_t klen) {
    /* Bounded: a stream of distinct profiles must not fill the state root. */
    DIR *d = fdopendir(dup(dir));
    if (!d) return;
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d));)
        if (de->d_name[0] != '.') n++;
    closedir(d);
    if (n >= CACHE_MAX_ENTRIES) return;
    char head[64];
    int hl = snprintf(head, sizeof head, "%s%zu\n", CACHE_MAGIC, klen);
    size_t bytes = (size_t)pre.len * sizeof(struct sock_filter);
    char *buf = malloc((size_t)hl + klen + bytes);
    if (!buf) return;
    memcpy(buf, head, (size_t)hl);
    memcpy(buf + hl, key, klen);
    memcpy(buf + hl + klen, pre.insns, bytes);
    hull_write_file_atomic(dir, name, buf, (size_t)hl + klen + bytes, 0600);   /* best effort */
    free(buf);
}

static int compile(const struct hull_seccomp *s, struct hull_err *err) {
    scmp_filter_ctx ctx;
    int rc = hull_seccomp_build_ctx(s, &ctx, err);
    if (rc < 0) return rc;
    int fd = memfd_create("hull-seccomp", MFD_CLOEXEC);
    if (fd < 0) {
        rc = hull_err_sys(err, "memfd for the compiled filter");
        goto out;
    }
    if ((rc = seccomp_export_bpf(ctx, fd)) < 0) {
        rc = hull_err_set(err, -rc, "compile the filter: %s", strerror(-rc));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !valid_len((size_t)st.st_size)) {
        rc = hull_err_set(err, E2BIG, "compile the filter: %lld bytes of BPF (at most %d instructions)",
                          (long long)st.st_size, BPF_MAXINSNS);
        goto out;
    }
    struct sock_filter *insns = malloc((size_t)st.st_size);
    if (!insns) {
        rc = hull_err_set(err, ENOMEM, "compile the filter: out of memory");
        goto out;
    }
    if (pread(fd, insns, (size_t)st.st_size, 0) != st.st_size) {
        rc = hull_err_sys(err, "read the compiled filter");
        free(insns);
        goto out;
    }
    free(pre.insns);
    pre.insns = insns;
    pre.len = (unsigned short)((size_t)st.st_size / sizeof(struct sock_filter));
    rc = 0;
out:
    if (fd >= 0) close(fd);
    seccomp_release(ctx);
    return rc;
}

int hull_seccomp_precompile(const struct hull_seccomp *s, const char *cache_dir, struct hull_err *err) {
    pre.for_spec = NULL;
    if (!s || !s->present || hull_seccomp_uses_notify(s)) return 0;
    int rc = hull_seccomp_validate(s, err);
    if (rc < 0) return rc;
    size_t klen = 0;
    char *key = make_key(s, &klen);
    int dir = -1;
    char name[32] = "";
    if (key && cache_dir) {
        snprintf(name, sizeof name, "%016llx.bpf", (unsigned long long)fnv1a64(key, klen));
        if (mkdir(cache_dir, 0700) < 0 && errno != EEXIST) { /* no cache */ }
        dir = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dir >= 0 && cache_read(dir, name, key, klen)) {
            pre.for_spec = s;
            close(dir);
            free(key);
            return 1;
        }
    }
    rc = compile(s, err);
    if (rc == 0) {
        pre.for_spec = s;
        if (dir >= 0) cache_write(dir, name, key, klen);
    }
    if (dir >= 0) close(dir);
    free(key);
    return rc;
}

int hull_seccomp_load_precompiled(const struct hull_seccomp *s, struct hull_err *err) {
    if (!s || pre.for_spec != s || !pre.insns) return 0;
    struct sock_fprog prog = {.len = pre.len, .filter = pre.insns};
    unsigned int flags = hull_seccomp_kernel_flags(s);
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (r < 0 && errno == ENOSYS && flags == 0) r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
    if (r < 0) {
        int e = errno;
        const char *hint = (e == EACCES || e == EPERM)
            ? " (without noNewPrivileges loading a filter needs CAP_SYS_ADMIN)" : "";
        return hull_err_set(err, e, "load filter: %s%s", strerror(e), hint);
    }
    return 1;
}
