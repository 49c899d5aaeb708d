/* The container's processes, as the agent sees them: its descendants. In the
 * guest that is every user process (PID 1's tree); in test mode the agent is a
 * child subreaper, so orphans stay in its tree too and nothing of the host's is
 * ever listed or signalled. */
#include "vm/agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pp {
    pid_t pid, ppid;
};

/* ppid from /proc/PID/stat: "pid (comm) S ppid ...", comm may hold ") ". */
static pid_t read_ppid(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    if (!rp) return -1;
    char state;
    int ppid;
    if (sscanf(rp + 1, " %c %d", &state, &ppid) != 2) return -1;
    return (pid_t)ppid;
}

size_t agent_descendants(pid_t root, pid_t *out, size_t max) {
    DIR *d = opendir("/proc");
    if (!d) return 0;
    size_t n = 0, cap = 256;
    struct pp *all = malloc(cap * sizeof *all);
    for (struct dirent *e; all && (e = readdir(d));) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0) continue;
        pid_t ppid = read_ppid((pid_t)pid);
        if (ppid < 0) continue;
        if (n == cap) {
            struct pp *na = realloc(all, 2 * cap * sizeof *na);
            if (!na) break;
            all = na;
            cap *= 2;
        }
        all[n++] = (struct pp){(pid_t)pid, ppid};
    }
    closedir(d);
    /* Breadth-first from root: out[] doubles as the queue. */
    size_t k = 0;
    for (size_t head = 0;; head++) {
        pid_t parent = head == 0 ? root : (head - 1 < k ? out[head - 1] : -1);
        if (parent < 0) break;
        for (size_t i = 0; i < n && k < max; i++)
            if (all[i].ppid == parent && all[i].pid != root) out[k++] = all[i].pid;
    }
    free(all);
    return k;
}

int agent_signal_all(struct agent *a, int sig) {
    (void)a;
    pid_t pids[4096];
    size_t n = agent_descendants(getpid(), pids, 4096);
    for (size_t i = 0; i < n; i++) kill(pids[i], sig);
    return (int)n;
}

/* SIGKILL everything the agent started, a few rounds in case something forked
 * between the listing and the kill. Not reaped here: the loop's waitpid reports
 * them (and, after the loop, PID 1 powers off or the test-mode agent exits). */
void agent_kill_all(struct agent *a) {
    for (int round = 0; round < 5; round++) {
        if (agent_signal_all(a, SIGKILL) == 0) break;
        for (int i = 0; i < AGENT_MAX_PROCS; i++)
            if (a->procs[i].used && !a->procs[i].reaped && a->procs[i].pid > 0) kill(a->procs[i].pid, SIGKILL);
    }
}
