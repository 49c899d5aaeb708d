/* Parent <-> init child messages over a SOCK_SEQPACKET socketpair during create
 * (and exec). One message per datagram, optionally carrying one fd. A closed
 * socket means the other side died: the child dies with the parent
 * (PR_SET_PDEATHSIG) and the parent reports "init exited during create". */
#ifndef HULL_LINUX_SYNC_H
#define HULL_LINUX_SYNC_H

#include <stdint.h>
#include "base/error.h"

enum hull_sync_type {
    HULL_SYNC_GO = 1,        /* parent -> child: carry on (value: host pid of the child) */
    HULL_SYNC_PREPARED,      /* child -> parent: mounts done, run createRuntime hooks now */
    HULL_SYNC_CONSOLE,       /* child -> parent: pty master (fd) */
    HULL_SYNC_SECCOMP,       /* child -> parent: seccomp notify fd (fd) */
    HULL_SYNC_READY,         /* child -> parent: waiting for start */
    HULL_SYNC_ERROR,         /* child -> parent: failed (text) */
    HULL_SYNC_CGROUP,        /* parent -> child: you are in your cgroup now */
    HULL_SYNC_NEED_CGROUP,   /* child -> parent: could not move myself, move me */
    HULL_SYNC_WARN,          /* child -> parent: a warning for the user (text) */
};

struct hull_sync_msg {
    uint32_t type;
    int32_t value;
    char text[HULL_ERR_MSG_MAX];
};

/* 0, or <0 with err set. send: fd < 0 means no fd. recv: *fd gets -1 or the fd;
 * a peer that closed gives -EPIPE. */
int hull_sync_send(int sock, uint32_t type, int32_t value, const char *text, int fd, struct hull_err *err);
int hull_sync_recv(int sock, struct hull_sync_msg *m, int *fd, struct hull_err *err);
/* Child side: route hull_warn() to the parent as HULL_SYNC_WARN messages on
 * sock (the parent prints them on its stderr, not the container's), or, with
 * sock < 0, drop them (before the socket is closed). */
void hull_sync_forward_warnings(int sock);
/* Child side: report err to the parent (best effort) and _exit(1). */
void hull_sync_fail(int sock, const struct hull_err *err) __attribute__((noreturn));

#endif
