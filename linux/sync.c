#include "linux/sync.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int hull_sync_send(int sock, uint32_t type, int32_t value, const char *text, int fd, struct hull_err *err) {
    struct hull_sync_msg m = {.type = type, .value = value};
    size_t len = offsetof(struct hull_sync_msg, text);
    if (text) {
        snprintf(m.text, sizeof m.text, "%s", text);
        len += strlen(m.text) + 1;
    }
    struct iovec iov = {.iov_base = &m, .iov_len = len};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&ctl, 0, sizeof ctl);
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof ctl.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    for (;;) {
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) >= 0) return 0;
        if (errno != EINTR) return hull_err_sys(err, "sync: send");
    }
}

int hull_sync_recv(int sock, struct hull_sync_msg *m, int *fd, struct hull_err *err) {
    memset(m, 0, sizeof *m);
    if (fd) *fd = -1;
    struct iovec iov = {.iov_base = m, .iov_len = sizeof *m};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t n;
    do n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) return hull_err_sys(err, "sync: receive");
    if (n == 0) return hull_err_set(err, EPIPE, "peer exited");
    if ((size_t)n < offsetof(struct hull_sync_msg, text)) return hull_err_set(err, EPROTO, "sync: short message");
    m->text[sizeof m->text - 1] = '\0';
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int got;
            memcpy(&got, CMSG_DATA(c), sizeof got);
            if (fd && *fd < 0) *fd = got;
            else close(got);
        }
    }
    return 0;
}

static int warn_sock = -1;

static void send_warning(const char *msg) {
    if (warn_sock >= 0) hull_sync_send(warn_sock, HULL_SYNC_WARN, 0, msg, -1, NULL);
}

void hull_sync_forward_warnings(int sock) {
    warn_sock = sock;
    hull_set_warn_handler(sock >= 0 ? send_warning : NULL);
}

void hull_sync_fail(int sock, const struct hull_err *err) {
    hull_sync_send(sock, HULL_SYNC_ERROR, err && err->code ? err->code : EIO,
                   err && err->msg[0] ? err->msg : "init failed", -1, NULL);
    _exit(1);
}
