/* linux/seccomp_cache.c: a filter compiled before the fork is what the
 * child loads (checked by its effect), the compiled program is stored in and
 * reused from the cache directory, and a cache entry whose key differs, or
 * that is malformed, is never loaded but replaced. Each load runs in a child. */
#include "linux/process.h"

#include <dirent.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "tap.h"
#include "proc_child.h"

static char tmpdir[] = "/tmp/hull-seccomp-cache.XXXXXX";
static char cache[256];

static char *names_uname[] = {"uname"};
static char *names_getcwd[] = {"getcwd"};
static char *arch_native[] = {"SCMP_ARCH_X86_64"};

/* default ALLOW; NAME -> errno ERR */
static struct hull_seccomp profile(char **names, int e, struct hull_seccomp_rule *rule) {
    *rule = (struct hull_seccomp_rule){.names = names, .n_names = 1, .action = HULL_SCMP_ERRNO,
                                       .errno_ret = {true, (uint64_t)e}};
    return (struct hull_seccomp){.present = true, .default_action = HULL_SCMP_ALLOW,
                                 .architectures = arch_native, .n_architectures = 1,
                                 .syscalls = rule, .n_syscalls = 1};
}

/* Precompile (in this process), then fork and load: the child reports what
 * uname() and getcwd() do under the filter. */
struct load_case {
    const struct hull_seccomp *s;
    int precompiled;   /* out: hull_seccomp_precompile's result */
};

static int c_load(void *arg, int rfd, char *out, size_t len) {
    const struct hull_seccomp *s = arg;
    struct hull_err err = {0};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { snprintf(out, len, "nnp failed"); return 1; }
    if (hull_seccomp_load(s, NULL, &err) < 0) { snprintf(out, len, "ERR %s", err.msg); return 1; }
    struct utsname u;
    char cwd[256];
    int a = uname(&u) < 0 ? errno : 0;
    int b = getcwd(cwd, sizeof cwd) ? 0 : errno;
    snprintf(out, len, "uname=%d getcwd=%d", a, b);
    return 0;
}

static void run_case(struct load_case *c, const char *dir) {
    struct hull_err err = {0};
    c->precompiled = hull_seccomp_precompile(c->s, dir, &err);
    if (c->precompiled < 0) diag("precompile: %s", err.msg);
}

static int entries(void) {
    DIR *d = opendir(cache);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) if (de->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int main(void) {
    if (geteuid() != 0) plan_skip_all("needs root (forks that load filters)");
    if (!mkdtemp(tmpdir)) bail_out("mkdtemp %s: %s", tmpdir, strerror(errno));
    snprintf(cache, sizeof cache, "%s/cache", tmpdir);
    struct child_result r;
    char want[128], path[512];

    struct hull_seccomp_rule r1, r2;
    struct hull_seccomp s1 = profile(names_uname, EXDEV, &r1);
    struct load_case c = {.s = &s1};
    run_case(&c, cache);
    is_int(c.precompiled, 0, "first precompile: compiled (no cache entry yet)");
    is_int(entries(), 1, "... and stored: one entry in the cache directory");
    struct stat st;
    ok(stat(cache, &st) == 0 && (st.st_mode & 0777) == 0700, "... a 0700 directory");
    run_child(c_load, (void *)&s1, &r);
    snprintf(want, sizeof want, "uname=%d getcwd=0", EXDEV);
    is_str(r.out, want, "the forked child loads the precompiled filter: uname -> EXDEV, getcwd allowed");

    run_case(&c, cache);
    is_int(c.precompiled, 1, "same profile again: the program comes from the cache");
    run_child(c_load, (void *)&s1, &r);
    is_str(r.out, want, "... and it is the same filter");
    /* proof that the child loads the inherited program and compiles nothing:
     * change the rule after precompiling; the child still gets EXDEV */
    r1.errno_ret.v = EPIPE;
    run_child(c_load, (void *)&s1, &r);
    is_str(r.out, want, "the child loads the program made before the fork, not the spec it sees");
    r1.errno_ret.v = EXDEV;

    /* a different errno: a different key, a different entry and filter */
    struct hull_seccomp s2 = profile(names_uname, ENOTTY, &r2);
    c.s = &s2;
    run_case(&c, cache);
    is_int(c.precompiled, 0, "another errnoRet: compiled, not taken from the first entry");
    is_int(entries(), 2, "... a second entry");
    run_child(c_load, (void *)&s2, &r);
    snprintf(want, sizeof want, "uname=%d getcwd=0", ENOTTY);
    is_str(r.out, want, "... and its own effect (uname -> ENOTTY)");

    /* a precompiled program is only for the spec it was made for */
    struct hull_seccomp_rule r3;
    struct hull_seccomp s3 = profile(names_getcwd, EXDEV, &r3);
    run_child(c_load, (void *)&s3, &r);
    snprintf(want, sizeof want, "uname=0 getcwd=%d", EXDEV);
    is_str(r.out, want, "a filter that was not precompiled is built by libseccomp in the child, as before");

    /* a tampered entry (same name, other key) is not used, and is replaced */
    char tampered[] = "hull-seccomp-bpf 1\n5\nxxxxx\x06\0\0\0\0\0\xff\x7f";
    struct hull_seccomp_rule r4;
    struct hull_seccomp s4 = profile(names_getcwd, ENOTTY, &r4);
    DIR *d = opendir(cache);
    for (struct dirent *de; d && (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", cache, de->d_name);
        FILE *f = fopen(path, "w");
        if (f) { fwrite(tampered, 1, sizeof tampered - 1, f); fclose(f); }
    }
    if (d) closedir(d);
    c.s = &s1;
    run_case(&c, cache);
    is_int(c.precompiled, 0, "an entry with another key under our name: compiled again");
    run_child(c_load, (void *)&s1, &r);
    snprintf(want, sizeof want, "uname=%d getcwd=0", EXDEV);
    is_str(r.out, want, "... the right filter is loaded");
    run_case(&c, cache);
    is_int(c.precompiled, 1, "... and the entry was rewritten (the next precompile hits)");

    /* no cache directory; then a truncated entry */
    c.s = &s4;
    run_case(&c, NULL);
    is_int(c.precompiled, 0, "without a cache directory: compiled");
    run_child(c_load, (void *)&s4, &r);
    snprintf(want, sizeof want, "uname=0 getcwd=%d", ENOTTY);
    is_str(r.out, want, "... and loaded");
    run_case(&c, cache);
    run_case(&c, cache);
    is_int(c.precompiled, 1, "stored, then hit");
    d = opendir(cache);
    for (struct dirent *de; d && (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", cache, de->d_name);
        if (truncate(path, 40) < 0) diag("truncate %s: %s", path, strerror(errno));
    }
    if (d) closedir(d);
    run_case(&c, cache);
    is_int(c.precompiled, 0, "a truncated entry is not used");
    run_child(c_load, (void *)&s4, &r);
    is_str(r.out, want, "... the filter is still right");

    /* notify filters hand back a listener fd at load: not precompiled */
    struct hull_seccomp_rule nrule = {.names = names_uname, .n_names = 1, .action = HULL_SCMP_NOTIFY};
    struct hull_seccomp sn = {.present = true, .default_action = HULL_SCMP_ALLOW, .syscalls = &nrule,
                              .n_syscalls = 1, .listener_path = "/nonexistent"};
    c.s = &sn;
    int before = entries();
    run_case(&c, cache);
    is_int(c.precompiled, 0, "a filter with SCMP_ACT_NOTIFY is left to libseccomp in the child");
    is_int(entries(), before, "... and not cached");

    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) diag("could not remove %s", tmpdir);
    return done_testing();
}
