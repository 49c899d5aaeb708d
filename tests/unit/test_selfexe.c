/* base/selfexe.c: a child runs hull_selfexe_ensure_sealed() on this very
 * test binary; the re-executed copy (marked by an env var) reports back over a
 * pipe what its /proc/self/exe is, its seals, and whether writing to it fails. */
#include "base/selfexe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define ENV_FD "HULL_TEST_SELFEXE_FD"
#define ENV_PLAIN "HULL_TEST_SELFEXE_PLAIN"

extern char **environ;

static void report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int fd, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) { ssize_t w = write(fd, buf, (size_t)n); (void)w; }
}

/* Does any open fd point at a memfd? (The sealed copy must not leak.) */
static int memfd_leaked(void) {
    DIR *d = opendir("/proc/self/fd");
    int leaked = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[300], t[256];
        snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(p, t, sizeof t - 1);
        if (n > 0) { t[n] = '\0'; if (strncmp(t, "/memfd:", 7) == 0) leaked = 1; }
    }
    if (d) closedir(d);
    return leaked;
}

/* Runs in the re-executed process. */
static int child_mode(int fd, char **argv) {
    struct hull_err err = {0};
    if (!hull_selfexe_is_sealed()) {
        hull_selfexe_ensure_sealed(argv, environ, &err);
        report(fd, "ERR %s", err.msg);
        return 1;
    }
    char exe[256] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) exe[n] = '\0';
    int ro = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    int seals = ro >= 0 ? fcntl(ro, F_GET_SEALS) : -1;
    /* The attack: open the running binary for writing and overwrite it. */
    int open_err = 0, write_err = 0, trunc_err = 0;
    int wfd = open("/proc/self/exe", O_WRONLY | O_CLOEXEC);
    if (wfd < 0) {
        open_err = errno;
    } else {
        if (write(wfd, "\x7f" "EVIL", 5) < 0) write_err = errno;
        if (ftruncate(wfd, 0) < 0) trunc_err = errno;
        close(wfd);
    }
    /* The content must be unchanged whatever happened above. */
    char magic[4] = "";
    if (ro >= 0 && pread(ro, magic, 4, 0) != 4) magic[0] = '\0';
    if (ro >= 0) close(ro);
    int again = hull_selfexe_ensure_sealed(argv, environ, &err);

    report(fd, "exe=%s seals=%d write_blocked=%d magic_ok=%d again=%d leaked=%d arg=%s "
           "(open: %s, write: %s, ftruncate: %s)",
           exe, seals, open_err || write_err, memcmp(magic, "\x7f" "ELF", 4) == 0,
           again, memfd_leaked(), argv[1] ? argv[1] : "(none)", strerror(open_err),
           strerror(write_err), strerror(trunc_err));
    /* CVE-2019-5736 proper: keep an O_PATH handle on the binary, wait until
     * nothing runs it any more (no ETXTBSY), then reopen it for writing
     * through /proc/self/fd. A shell does the waiting so that the helper
     * itself is not running this binary. */
    int opath = open("/proc/self/exe", O_PATH);
    if (opath >= 0 && fork() == 0) {
        char script[512];
        snprintf(script, sizeof script,
                 "while [ -e /proc/%d/exe ] && [ \"$(readlink /proc/%d/exe)\" = \"%s\" ]; do sleep 0.01; done; "
                 "e=$( { : >/proc/self/fd/%d; } 2>&1 ) && e=OPENED; printf ' late_write=%%s' \"$e\" >&%d",
                 (int)getppid(), (int)getppid(), exe, opath, fd);
        execl("/bin/sh", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    return 0;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Fork; the child either ensure_sealed()s (sealed = 1) or plainly re-execs
 * itself (the baseline); returns the report and the wall time to it. */
static double run_once(int sealed, char *out, size_t len) {
    int pfd[2];
    if (pipe(pfd) < 0) return -1;   /* not CLOEXEC: the write end crosses the exec */
    double t0 = now_ms();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        char fdstr[16];
        snprintf(fdstr, sizeof fdstr, "%d", pfd[1]);
        setenv(sealed ? ENV_FD : ENV_PLAIN, fdstr, 1);
        char *argv[] = { "test_selfexe", "marker-arg", NULL };
        if (sealed) {
            struct hull_err err = {0};
            hull_selfexe_ensure_sealed(argv, environ, &err);
            report(pfd[1], "ERR %s", err.msg);
        } else {
            execve("/proc/self/exe", argv, environ);
        }
        _exit(1);
    }
    close(pfd[1]);
    size_t got = 0;
    ssize_t n;
    while (got < len - 1 && (n = read(pfd[0], out + got, len - 1 - got)) > 0) got += (size_t)n;
    out[got] = '\0';
    close(pfd[0]);
    int st;
    waitpid(pid, &st, 0);
    return now_ms() - t0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *fd = getenv(ENV_FD);
    if (fd) return child_mode(atoi(fd), argv);
    if ((fd = getenv(ENV_PLAIN))) { report(atoi(fd), "plain"); return 0; }

    ok(!hull_selfexe_is_sealed(), "the test binary on disk is not a sealed memfd");

    char out[1024];
    /* Default path: a detached read-only bind of the binary, no copy. */
    run_once(1, out, sizeof out);
    diag("re-executed (read-only bind): %s", out);
    like(out, "write_blocked=1 magic_ok=1", "read-only bind: writing to /proc/self/exe fails, content intact");
    like(out, "Read-only file system", "read-only bind: reopening for write after the process exited gives EROFS");
    like(out, "again=0", "read-only bind: ensure_sealed in the re-executed process returns 0 (no loop)");

    /* Fallback path (rootless hosts): the sealed memfd copy. */
    setenv("HULL_SELFEXE_MEMFD", "1", 1);
    run_once(1, out, sizeof out);
    diag("re-executed: %s", out);
    like(out, "exe=/memfd:hull (deleted)", "the re-executed process runs from a memfd");
    like(out, "late_write=", "memfd: the late reopen was attempted");
    ok(!strstr(out, "late_write=OPENED"), "memfd: reopening for write after the process exited fails");
    int want_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    char want[64];
    snprintf(want, sizeof want, "seals=%d ", want_seals);
    like(out, want, "... sealed with SEAL|SHRINK|GROW|WRITE");
    like(out, "write_blocked=1 magic_ok=1", "writing to /proc/self/exe fails and the content is intact");
    like(out, "again=0", "ensure_sealed in the sealed process returns 0 (no re-exec loop)");
    like(out, "leaked=0", "the memfd does not stay open in the re-executed process");
    like(out, "arg=marker-arg", "argv is passed through");

    /* Cost of the re-exec, against a plain fork+exec of the same binary. */
    enum { RUNS = 15 };
    double sealed[RUNS], plain[RUNS];
    for (int i = 0; i < RUNS; i++) {
        sealed[i] = run_once(1, out, sizeof out);
        plain[i] = run_once(0, out, sizeof out);
    }
    qsort(sealed, RUNS, sizeof(double), cmp_d);
    qsort(plain, RUNS, sizeof(double), cmp_d);
    struct stat st;
    stat("/proc/self/exe", &st);
    diag("fork+ensure_sealed+report median %.2f ms; fork+plain exec median %.2f ms; binary %lld KiB",
         sealed[RUNS / 2], plain[RUNS / 2], (long long)st.st_size / 1024);
    ok(sealed[RUNS / 2] < plain[RUNS / 2] + 50, "sealed re-exec costs well under 50 ms more than a plain exec");
    return done_testing();
}
