/* See console_testlib.h. */
#include "tests/lib/console_testlib.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int hull_recv_fd(int sock, int *fd, struct hull_err *err) {
    *fd = -1;
    char data[4096];
    union { char buf[CMSG_SPACE(sizeof(int) * 8)]; struct cmsghdr align; } u;
    struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                          .msg_controllen = sizeof u.buf };
    ssize_t n;
    do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) return hull_err_sys(err, "receive fd");
    if (n == 0) return hull_err_set(err, ECONNRESET, "receive fd: peer closed the socket");
    int got = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfds; i++) {
            int f;
            memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
            if (got < 0) got = f;
            else close(f);       /* more than we asked for: do not leak them */
        }
    }
    if (msg.msg_flags & MSG_CTRUNC) {
        if (got >= 0) close(got);
        return hull_err_set(err, EMSGSIZE, "receive fd: control data truncated");
    }
    if (got < 0) return hull_err_set(err, EBADMSG, "receive fd: the message carried no fd");
    *fd = got;
    return 0;
}
