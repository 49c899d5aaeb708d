#include "base/hooks.h"

#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"

static const char *const kind_names[HULL_HOOK__COUNT] = {
    [HULL_HOOK_PRESTART] = "prestart",
    [HULL_HOOK_CREATE_RUNTIME] = "createRuntime",
    [HULL_HOOK_CREATE_CONTAINER] = "createContainer",
    [HULL_HOOK_START_CONTAINER] = "startContainer",
    [HULL_HOOK_POSTSTART] = "poststart",
    [HULL_HOOK_POSTSTOP] = "poststop",
};

const char *hull_hook_kind_name(enum hull_hook_kind kind) { return kind_names[kind]; }

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Child side: stdin from the state pipe, stdout+stderr to the capture pipe. */
static void __attribute__((noreturn))
exec_hook(const struct hull_hook *h, int in_fd, int out_fd) {
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    char *default_args[] = {h->path, NULL};
    char *empty_env[] = {NULL};
    execve(h->path, h->n_args ? h->args : default_args, h->env ? h->env : empty_env);
    dprintf(2, "exec: %s", strerror(errno));
    _exit(127);
}

int hull_hook_run(enum hull_hook_kind kind, size_t idx, const struct hull_hook *h, const char *state_json,
                  struct hull_err *err) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0) return hull_err_sys(err, "%s hook #%zu: pipe", kind_names[kind], idx);
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]); close(in[1]);
        return hull_err_sys(err, "%s hook #%zu: pipe", kind_names[kind], idx);
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        return hull_err_sys(err, "%s hook #%zu: fork", kind_names[kind], idx);
    }
    if (pid == 0) exec_hook(h, in[0], out[1]);
    close(in[0]);
    close(out[1]);

    /* The state is small (< pipe buffer) in practice, but a hook that never
     * reads must not block us: write non-blocking and drop what does not fit. */
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    ssize_t wr = write(in[1], state_json, strlen(state_json));
    (void)wr;
    signal(SIGPIPE, old_pipe);
    close(in[1]);

    char output[512];
    size_t out_len = 0;
    long long deadline = h->timeout.set ? now_ms() + h->timeout.v * 1000 : -1;
    int status = 0;
    bool exited = false, eof = false;
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    /* Stop at the hook's exit, not at EOF: a hook may leave a daemon holding
     * its stdout, and that must not hang the runtime. */
    while (!exited) {
        if (deadline >= 0 && now_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            close(out[0]);
            return hull_err_set(err, ETIMEDOUT, "%s hook #%zu (%s): timed out after %lld s", kind_names[kind],
                                idx, h->path, (long long)h->timeout.v);
        }
        if (!eof) {
            struct pollfd pfd = {.fd = out[0], .events = POLLIN};
            poll(&pfd, 1, 20);
        } else {
            usleep(2000);
        }
        for (;;) {
            char buf[4096];
            ssize_t n = read(out[0], buf, sizeof buf);
            if (n == 0) eof = true;
            if (n <= 0) break;
            size_t keep = sizeof output - 1 - out_len;
            if ((size_t)n < keep) keep = (size_t)n;
            memcpy(output + out_len, buf, keep);
            out_len += keep;
        }
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) exited = true;
        else if (w < 0 && errno != EINTR) {
            close(out[0]);
            return hull_err_sys(err, "%s hook #%zu: wait", kind_names[kind], idx);
        }
    }
    close(out[0]);
    output[out_len] = '\0';
    while (out_len && (output[out_len - 1] == '\n' || output[out_len - 1] == ' ')) output[--out_len] = '\0';
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    char how[64];
    if (WIFEXITED(status))
        snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
    return hull_err_set(err, EIO, "%s hook #%zu (%s) failed: %s%s%s", kind_names[kind], idx, h->path, how,
                        out_len ? ": " : "", output);
}

int hull_hooks_run(enum hull_hook_kind kind, const struct hull_hook *hooks, size_t n, const char *state_json,
                   struct hull_err *err) {
    for (size_t i = 0; i < n; i++) {
        int r = hull_hook_run(kind, i, &hooks[i], state_json, err);
        if (r < 0) return r;
    }
    return 0;
}
