/* measure CMD [ARG...] — run CMD, wait for it, and print one line to fd 3 (or to stdout
 * when fd 3 is not open): "WALL_MS CPU_MS MAXRSS_KIB EXIT". CPU is user+system of CMD
 * and of every descendant it waited for; MAXRSS is the peak RSS of the largest process in that
 * tree (getrusage semantics, as GNU time's %M). Built on the fly by bench/run.sh; GNU time has
 * only 10 ms resolution, too coarse for ~20 ms runs. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s CMD [ARG...]\n", argv[0]); return 2; }
    struct timespec t0, t1;
    if (fcntl(3, F_GETFD) >= 0) fcntl(3, F_SETFD, FD_CLOEXEC); /* the result fd is not the runtime's */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t p = fork();
    if (p < 0) { perror("fork"); return 2; }
    if (p == 0) { execvp(argv[1], argv + 1); perror("exec"); _exit(127); }
    int st;
    struct rusage ru;
    if (wait4(p, &st, 0, &ru) < 0) { perror("wait4"); return 2; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    double cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    FILE *out = fcntl(3, F_GETFD) >= 0 ? fdopen(3, "w") : stdout;
    fprintf(out, "%.2f %.2f %ld %d\n", wall, cpu, ru.ru_maxrss, code);
    fflush(out);
    return code;
}
