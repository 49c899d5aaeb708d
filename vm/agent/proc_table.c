/* The agent's table of processes (START's and EXEC's): lookup by exec id,
 * a free slot, release with its fds and queued stdin. */
#include "vm/agent/agent.h"

#include <string.h>
#include <unistd.h>

struct agent_proc *agent_proc_by_id(struct agent *a, uint32_t id) {
    for (int i = 0; i < AGENT_MAX_PROCS; i++)
        if (a->procs[i].used && a->procs[i].id == id) return &a->procs[i];
    return NULL;
}

struct agent_proc *agent_proc_new(struct agent *a, uint32_t id) {
    for (int i = 0; i < AGENT_MAX_PROCS; i++)
        if (!a->procs[i].used) {
            struct agent_proc *p = &a->procs[i];
            memset(p, 0, sizeof *p);
            p->used = true;
            p->id = id;
            p->in_fd = p->out_fd = p->err_fd = -1;
            return p;
        }
    return NULL;
}

void agent_close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

void agent_proc_release(struct agent_proc *p) {
    agent_close_fd(&p->in_fd);
    agent_close_fd(&p->out_fd);
    agent_close_fd(&p->err_fd);
    hull_agent_buf_free(&p->in_q);
    p->used = false;
}
