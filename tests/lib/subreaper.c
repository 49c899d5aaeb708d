/* subreaper CMD [ARG...] — run CMD as a child of a child-subreaper that reaps
 * every orphan promptly (PID 1 on the test machines reaps only after 1-2 s,
 * so detached container inits would linger as zombies). Exits with CMD's
 * status (128+N if CMD died of signal N). Orphans still alive when CMD exits
 * are left to PID 1; the test's own EXIT trap is responsible for killing them.
 * Built on the fly by tests/lib/fixtures.sh. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig) { if (child > 0) kill(child, sig); }

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s CMD [ARG...]\n", argv[0]); return 2; }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) { perror("subreaper: prctl"); return 2; }
    child = fork();
    if (child < 0) { perror("subreaper: fork"); return 2; }
    if (child == 0) {
        execvp(argv[1], argv + 1);
        perror("subreaper: exec");
        _exit(127);
    }
    struct sigaction sa = { .sa_handler = forward };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    int rc = 0, st;
    for (;;) {
        pid_t w = waitpid(-1, &st, 0);
        if (w < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (w == child) {
            rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
    }
    while (waitpid(-1, &st, WNOHANG) > 0) ;
    return rc;
}
