/* Test helper for tests that change the calling process irreversibly (uid,
 * caps, seccomp...): run a function in a forked child and bring back its exit
 * status and a text report. Header-only; used by test_process.c, test_seccomp.c. */
#ifndef HULL_TESTS_UNIT_PROC_CHILD_H
#define HULL_TESTS_UNIT_PROC_CHILD_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_OUT_MAX 8192

struct child_result {
    int status;                 /* as from waitpid */
    char out[CHILD_OUT_MAX];
};

/* The child writes its report into out (NUL-terminated) and returns its exit
 * code. report_fd is the pipe the report travels on (tests that close fds
 * must keep it). */
typedef int (*child_fn)(void *arg, int report_fd, char *out, size_t len);

static inline void run_child(child_fn fn, void *arg, struct child_result *r) {
    int pfd[2];
    memset(r, 0, sizeof *r);
    if (pipe2(pfd, O_CLOEXEC) < 0) { r->status = -1; return; }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        static char out[CHILD_OUT_MAX];
        int code = fn(arg, pfd[1], out, sizeof out);
        size_t n = strnlen(out, sizeof out);
        if (n) { ssize_t w = write(pfd[1], out, n); (void)w; }
        _exit(code);
    }
    close(pfd[1]);
    size_t got = 0;
    ssize_t n;
    while (got < sizeof r->out - 1 && (n = read(pfd[0], r->out + got, sizeof r->out - 1 - got)) > 0)
        got += (size_t)n;
    r->out[got] = '\0';
    close(pfd[0]);
    if (pid < 0 || waitpid(pid, &r->status, 0) < 0) r->status = -1;
}

static inline int child_exit_code(const struct child_result *r) {
    return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
}

/* Value of "Key:\t..." in a /proc/PID/status dump, into buf (trimmed). */
static inline const char *status_field(const char *dump, const char *key, char *buf, size_t len) {
    size_t klen = strlen(key);
    for (const char *line = dump; line && *line; ) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            const char *v = line + klen + 1;
            while (*v == ' ' || *v == '\t') v++;
            size_t n = strcspn(v, "\n");
            while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
            if (n >= len) n = len - 1;
            memcpy(buf, v, n);
            buf[n] = '\0';
            return buf;
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    return NULL;
}

static inline void slurp(const char *path, char *out, size_t len) {
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t got = 0;
    ssize_t n;
    while (got < len - 1 && (n = read(fd, out + got, len - 1 - got)) > 0) got += (size_t)n;
    out[got] = '\0';
    close(fd);
}

#endif
