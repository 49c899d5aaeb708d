/* Argument values: signal names as runc accepts them ("KILL", "SIGKILL", "9",
 * "RTMIN+3") and strict non-negative ints. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

static const struct { const char *name; int sig; } table[] = {
    {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"IOT", SIGIOT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL},
    {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"POLL", SIGPOLL}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
};

int cli_parse_signal(const char *s) {
    int n;
    if (cli_parse_int(s, &n)) return (n >= 1 && n <= SIGRTMAX) ? n : -1;
    if (strncasecmp(s, "SIG", 3) == 0) s += 3;
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strcasecmp(s, table[i].name) == 0) return table[i].sig;
    if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
        bool min = strncasecmp(s, "RTMIN", 5) == 0;
        const char *rest = s + 5;
        int off = 0;
        if (*rest) {
            if ((*rest != '+' && *rest != '-') || !cli_parse_int(rest + 1, &off)) return -1;
            if (*rest == '-') off = -off;
        }
        int sig = (min ? SIGRTMIN : SIGRTMAX) + off;
        return (sig >= SIGRTMIN && sig <= SIGRTMAX) ? sig : -1;
    }
    return -1;
}

bool cli_parse_int(const char *s, int *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < 0 || v > 1 << 30) return false;
    *out = (int)v;
    return true;
}

