/* The monitor's control socket: packet codec and the client side (see ctl.h). */
#include "vm/executor/ctl.h"

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

size_t vmc_encode(void *buf, size_t cap, uint32_t type, int32_t a, uint32_t b, const void *data, size_t len) {
    if (len > VMC_MAX_PAYLOAD || cap < VMC_HDR_SIZE + len) return 0;
    uint8_t *p = buf;
    uint32_t l = (uint32_t)len;
    memcpy(p, &type, 4);
    memcpy(p + 4, &a, 4);
    memcpy(p + 8, &b, 4);
    memcpy(p + 12, &l, 4);
    if (len) memcpy(p + VMC_HDR_SIZE, data, len);
    return VMC_HDR_SIZE + len;
}

static bool type_known(uint32_t t) {
    return (t >= VMC_START && t <= VMC__CLIENT_MAX) || (t >= VMC_OK && t <= VMC__MONITOR_MAX);
}

int vmc_decode(const void *pkt, size_t n, struct vmc_msg *m, struct hull_err *err) {
    if (n < VMC_HDR_SIZE) return hull_err_set(err, EPROTO, "vm control: short packet (%zu bytes)", n);
    const uint8_t *p = pkt;
    memcpy(&m->type, p, 4);
    memcpy(&m->a, p + 4, 4);
    memcpy(&m->b, p + 8, 4);
    memcpy(&m->len, p + 12, 4);
    if (m->len > VMC_MAX_PAYLOAD || (size_t)m->len != n - VMC_HDR_SIZE)
        return hull_err_set(err, EPROTO, "vm control: payload length %u in a %zu-byte packet", m->len, n);
    if (!type_known(m->type)) return hull_err_set(err, EPROTO, "vm control: unknown message type %u", m->type);
    m->data = p + VMC_HDR_SIZE;
    return 0;
}

int vmc_send(int fd, uint32_t type, int32_t a, uint32_t b, const void *data, size_t len, struct hull_err *err) {
    static __thread uint8_t pkt[VMC_MAX_PACKET];
    size_t n = vmc_encode(pkt, sizeof pkt, type, a, b, data, len);
    if (!n) return hull_err_set(err, EMSGSIZE, "vm control: a %zu-byte message is too large", len);
    for (;;) {
        ssize_t w = send(fd, pkt, n, MSG_NOSIGNAL);
        if (w == (ssize_t)n) return 0;
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return hull_err_sys(err, "vm control: send");
        return hull_err_set(err, EIO, "vm control: short send");
    }
}

int vmc_recv_timeout(int fd, void *buf, size_t cap, struct vmc_msg *m, int timeout_ms, struct hull_err *err) {
    for (;;) {
        if (timeout_ms >= 0) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int r = poll(&p, 1, timeout_ms);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return hull_err_sys(err, "vm control: poll");
            if (r == 0) return hull_err_set(err, ETIMEDOUT, "vm control: no answer from the VM monitor in %d ms", timeout_ms);
        }
        ssize_t n = recv(fd, buf, cap, MSG_TRUNC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return hull_err_sys(err, "vm control: receive");
        if (n == 0) return 0;
        if ((size_t)n > cap) return hull_err_set(err, EMSGSIZE, "vm control: a %zd-byte packet", n);
        int r = vmc_decode(buf, (size_t)n, m, err);
        return r < 0 ? r : 1;
    }
}

int vmc_connect(int state_dir_fd, int *fd, struct hull_err *err) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/" VMC_SOCK, state_dir_fd);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) return hull_err_sys(err, "vm control: socket");
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(s);
        if (e == ECONNREFUSED || e == ENOENT)
            return hull_err_set(err, ENOTCONN, "the container's VM monitor is not running");
        errno = e;
        return hull_err_sys(err, "vm control: connect to the VM monitor");
    }
    *fd = s;
    return 0;
}

int vmc_call(int state_dir_fd, uint32_t type, int32_t a, uint32_t b, const void *data, size_t len, void *buf,
             size_t cap, struct vmc_msg *reply, int timeout_ms, struct hull_err *err) {
    _cleanup_close_ int fd = -1;
    int r = vmc_connect(state_dir_fd, &fd, err);
    if (r < 0) return r;
    if ((r = vmc_send(fd, type, a, b, data, len, err)) < 0) return r;
    r = vmc_recv_timeout(fd, buf, cap, reply, timeout_ms, err);
    if (r == 0) return hull_err_set(err, ENOTCONN, "the VM monitor closed the connection (the VM ended)");
    if (r < 0) return r;
    if (reply->type == VMC_ERROR) {
        int code = reply->a > 0 ? reply->a : EIO;
        return hull_err_set(err, code, "%.*s", (int)(reply->len < 1000 ? reply->len : 1000), (const char *)reply->data);
    }
    if (reply->type != VMC_OK && reply->type != VMC_PIDS)
        return hull_err_set(err, EPROTO, "vm control: unexpected reply type %u", reply->type);
    return 0;
}
