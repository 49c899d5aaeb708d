/* process.terminal: the pty pair, making the slave the controlling terminal,
 * and passing fds over unix sockets with SCM_RIGHTS (the --console-socket
 * protocol containerd and podman speak: one message whose payload is a name
 * and whose ancillary data is the pty master). */
#include "base/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/fsutil.h"

int hull_console_open(unsigned rows, unsigned cols, int *master, char *slave_path, size_t len,
                      struct hull_err *err) {
    *master = -1;
    /* /dev/ptmx of the current mount namespace: inside the container it is the
     * container's devpts, so the slave is visible there as /dev/pts/N. */
    int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "open /dev/ptmx");
    int rc;
    if (unlockpt(fd) < 0) {
        rc = hull_err_sys(err, "unlockpt /dev/ptmx");
        goto fail;
    }
    int e = ptsname_r(fd, slave_path, len);
    if (e != 0) {
        rc = hull_err_set(err, e, "ptsname /dev/ptmx: %s", strerror(e));
        goto fail;
    }
    if (rows > 0 && cols > 0) {
        struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
        if (ioctl(fd, TIOCSWINSZ, &ws) < 0) {
            rc = hull_err_sys(err, "set the console size %ux%u", rows, cols);
            goto fail;
        }
    }
    *master = fd;
    return 0;
fail:
    close(fd);
    return rc;
}

int hull_console_setup_slave(const char *slave_path, struct hull_err *err) {
    /* A new session has no controlling terminal, so TIOCSCTTY can take this one.
     * setsid fails (EPERM) only for a process group leader, which then keeps
     * its session; TIOCSCTTY below reports if that is a problem. */
    if (setsid() < 0 && errno != EPERM) return hull_err_sys(err, "setsid");
    int fd = open(slave_path, O_RDWR | O_NOCTTY);
    if (fd < 0) return hull_err_sys(err, "open console %s", slave_path);
    if (ioctl(fd, TIOCSCTTY, 0) < 0) {
        int rc = hull_err_sys(err, "make %s the controlling terminal", slave_path);
        close(fd);
        return rc;
    }
    for (int i = 0; i <= 2; i++) {
        if (dup2(fd, i) < 0) {
            int rc = hull_err_sys(err, "dup2 console %s to fd %d", slave_path, i);
            if (fd > 2) close(fd);
            return rc;
        }
    }
    if (fd > 2) close(fd);
    return 0;
}

/* Reads the complete lines and EOFs a canonical terminal holds (poll says
 * readable only for those) into forward_to; a read of 0 is a queued EOF. At
 * most 64 reads: the writer may be typing faster, and what is left is read
 * raw anyway. */
static int drain_canonical(int fd, cc_t eof, int forward_to, struct hull_err *err) {
    char buf[4096];
    for (int i = 0; i < 64; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return hull_err_sys(err, "terminal: poll");
        if (r == 0 || (p.revents & (POLLHUP | POLLERR | POLLNVAL)) || !(p.revents & POLLIN)) return 0;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        if (n < 0) return hull_err_sys(err, "terminal: read the pending input");
        if (n == 0 && eof == _POSIX_VDISABLE) return 0;   /* not an EOF we can name: a hangup */
        if (n == 0) buf[n++] = (char)eof;
        if (hull_write_all(forward_to, buf, (size_t)n) < 0) return hull_err_sys(err, "terminal: forward the pending input");
    }
    return 0;
}

int hull_console_make_raw(int fd, const struct termios *raw, int forward_to, struct hull_err *err) {
    struct termios cur;
    if (tcgetattr(fd, &cur) < 0) return hull_err_sys(err, "terminal: get its mode");
    if (cur.c_lflag & ICANON) {
        struct termios noeof = cur;
        noeof.c_cc[VEOF] = _POSIX_VDISABLE;
        if (tcsetattr(fd, TCSANOW, &noeof) < 0) return hull_err_sys(err, "terminal: disable VEOF");
        int r = drain_canonical(fd, cur.c_cc[VEOF], forward_to, err);
        if (r < 0) {
            tcsetattr(fd, TCSANOW, &cur);
            return r;
        }
    }
    if (tcsetattr(fd, TCSANOW, raw) < 0) {
        int r = hull_err_sys(err, "terminal: raw mode");
        tcsetattr(fd, TCSANOW, &cur);
        return r;
    }
    return 0;
}

int hull_send_fd(int sock, int fd, const char *tag, struct hull_err *err) {
    /* A stream socket needs at least one byte of payload to carry the fd. The
     * fd travels with the first chunk; the rest of a (rare) partial send goes
     * as plain data so the peer still reads the whole payload. */
    const char *payload = (tag && tag[0]) ? tag : "fd";
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    memset(&u, 0, sizeof u);
    size_t total = strlen(payload), sent = 0;
    struct iovec iov = { .iov_base = (void *)payload, .iov_len = total };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                          .msg_controllen = sizeof u.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    while (sent < total) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return hull_err_sys(err, "send fd (%.32s)", payload);
        }
        sent += (size_t)n;
        iov.iov_base = (char *)payload + sent;
        iov.iov_len = total - sent;
        msg.msg_control = NULL;
        msg.msg_controllen = 0;
    }
    return 0;
}

int hull_console_send(const char *socket_path, int fd, struct hull_err *err) {
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    size_t plen = strlen(socket_path);
    if (plen == 0 || plen >= sizeof addr.sun_path)
        return hull_err_set(err, ENAMETOOLONG, "console socket \"%s\": bad unix socket path", socket_path);
    memcpy(addr.sun_path, socket_path, plen + 1);
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return hull_err_sys(err, "console socket %s: socket", socket_path);
    int rc = 0;
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0)
        rc = hull_err_sys(err, "console socket: connect %s", socket_path);
    else if ((rc = hull_send_fd(sock, fd, "/dev/ptmx", err)) < 0)
        hull_err_prefix(err, "console socket %s: ", socket_path);
    close(sock);
    return rc;
}
