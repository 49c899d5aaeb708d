/* Batched netlink requests with per-request acks and extended-ack messages
 * (see nl.h). */
#include "net/nl.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE 65536

/* Makes a socket in another network namespace: a socket belongs to the
 * namespace of the thread that created it, so enter, create, come back.
 * Failing to come back would leave hull in the container's namespace; it is
 * reported and the caller aborts. */
static struct mnl_socket *socket_in(int proto, int netns_fd, struct hull_err *err) {
    if (netns_fd < 0) {
        struct mnl_socket *s = mnl_socket_open2(proto, SOCK_CLOEXEC);
        if (!s) hull_err_sys(err, "netlink socket");
        return s;
    }
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) { hull_err_sys(err, "open /proc/thread-self/ns/net"); return NULL; }
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
        hull_err_sys(err, "enter the network namespace");
        close(self);
        return NULL;
    }
    struct mnl_socket *s = mnl_socket_open2(proto, SOCK_CLOEXEC);
    int saved = errno;
    if (setns(self, CLONE_NEWNET) < 0) {
        hull_err_sys(err, "return to hull's own network namespace");
        if (s) mnl_socket_close(s);
        close(self);
        return NULL;
    }
    close(self);
    if (!s) { errno = saved; hull_err_sys(err, "netlink socket in the namespace"); }
    return s;
}

int hull_nl_open(struct hull_nl *nl, int proto, int netns_fd, struct hull_err *err) {
    memset(nl, 0, sizeof *nl);
    nl->proto = proto;
    nl->buf = malloc(HULL_NL_BATCH_MAX);
    nl->rbuf = malloc(RBUF_SIZE);
    nl->scratch = malloc(HULL_NL_MSG_ROOM);
    if (!nl->buf || !nl->rbuf || !nl->scratch) {
        hull_nl_close(nl);
        return hull_err_set(err, ENOMEM, "netlink: out of memory");
    }
    if (!(nl->sock = socket_in(proto, netns_fd, err))) {
        int r = -err->code;
        hull_nl_close(nl);
        return r;
    }
    int one = 1;
    /* the kernel's reason in words; acks without a copy of each request */
    mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof one);
    /* a kernel that never answers must not hang hull */
    struct timeval tv = {.tv_sec = 10};
    setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        int r = hull_err_sys(err, "bind netlink socket");
        hull_nl_close(nl);
        return r;
    }
    nl->portid = mnl_socket_get_portid(nl->sock);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    nl->seq = (uint32_t)ts.tv_nsec;
    return 0;
}

void hull_nl_close(struct hull_nl *nl) {
    if (nl->sock) mnl_socket_close(nl->sock);
    free(nl->buf);
    free(nl->rbuf);
    free(nl->scratch);
    memset(nl, 0, sizeof *nl);
}

void hull_nl_close_detached(struct hull_nl *nl) {
    int p[2];
    if (nl->sock && pipe2(p, O_CLOEXEC) == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            /* keep only the socket and the pipe (locks the parent holds must not
             * outlive its own close), wait until the parent has dropped its
             * reference, then be the last */
            unsigned a = (unsigned)mnl_socket_get_fd(nl->sock), b = (unsigned)p[0];
            if (a > b) { unsigned t = a; a = b; b = t; }
            if (a > 0) close_range(0, a - 1, 0);
            if (b > a + 1) close_range(a + 1, b - 1, 0);
            close_range(b + 1, ~0U, 0);
            char c;
            while (read(p[0], &c, 1) < 0 && errno == EINTR) {}
            _exit(0);
        }
        close(p[0]);
        hull_nl_close(nl);
        close(p[1]);   /* the child wakes up and exits: a zombie until hull exits or reaps */
        return;
    }
    hull_nl_close(nl);
}

static void finish_cur(struct hull_nl *nl) {
    if (nl->cur) {
        if ((unsigned char *)nl->cur != nl->scratch) nl->len += NLMSG_ALIGN(nl->cur->nlmsg_len);
        nl->cur = NULL;
    }
}

void *hull_nl_raw(struct hull_nl *nl, bool ack, int ok_errno, const char *what, uint32_t *seq) {
    finish_cur(nl);
    *seq = ++nl->seq;
    if (HULL_NL_BATCH_MAX - nl->len < HULL_NL_MSG_ROOM || (ack && nl->n_pend == HULL_NL_PENDING_MAX)) {
        nl->overflow = true;
        memset(nl->scratch, 0, HULL_NL_MSG_ROOM);
        nl->cur = (struct nlmsghdr *)nl->scratch;
        return nl->scratch;
    }
    void *p = nl->buf + nl->len;
    memset(p, 0, HULL_NL_MSG_ROOM);
    nl->cur = p;
    if (ack) {
        struct hull_nl_pending *pd = &nl->pend[nl->n_pend++];
        pd->seq = *seq;
        pd->ok_errno = ok_errno;
        snprintf(pd->what, sizeof pd->what, "%s", what ? what : "netlink request");
    }
    return p;
}

struct nlmsghdr *hull_nl_msg(struct hull_nl *nl, uint16_t type, uint16_t flags, int ok_errno, const char *fmt, ...) {
    char what[112];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    uint32_t seq;
    void *p = hull_nl_raw(nl, true, ok_errno, what, &seq);
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(p);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    nlh->nlmsg_seq = seq;
    return nlh;
}

void hull_nl_discard(struct hull_nl *nl) {
    nl->cur = NULL;
    nl->len = 0;
    nl->n_pend = 0;
    nl->overflow = false;
}

/* The text of an extended ack, if the kernel sent one. */
static int extack_attr(const struct nlattr *a, void *data) {
    if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
        *(const char **)data = mnl_attr_get_str(a);
    return MNL_CB_OK;
}

static const char *extack_msg(const struct nlmsghdr *nlh) {
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len < NLMSG_HDRLEN + sizeof *e) return NULL;
    size_t off = sizeof *e;
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len >= NLMSG_HDRLEN ? e->msg.nlmsg_len - NLMSG_HDRLEN : 0;
    if (NLMSG_HDRLEN + off >= nlh->nlmsg_len) return NULL;
    const char *msg = NULL;
    mnl_attr_parse(nlh, (unsigned)off, extack_attr, &msg);
    return msg;
}

static int set_kernel_err(struct hull_err *err, const char *what, int code, const struct nlmsghdr *nlh) {
    const char *ext = nlh ? extack_msg(nlh) : NULL;
    if (ext && *ext) return hull_err_set(err, code, "%s: %s (%s)", what, strerror(code), ext);
    return hull_err_set(err, code, "%s: %s", what, strerror(code));
}

static ssize_t recv_some(struct hull_nl *nl, struct hull_err *err) {
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, nl->rbuf, RBUF_SIZE);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return hull_err_set(err, ETIMEDOUT, "netlink: no answer from the kernel");
        return hull_err_sys(err, "netlink: receive");
    }
}

int hull_nl_commit(struct hull_nl *nl, struct hull_err *err) {
    finish_cur(nl);
    if (nl->overflow) {
        hull_nl_discard(nl);
        return hull_err_set(err, ENOBUFS, "netlink: too many requests in one batch");
    }
    if (nl->len == 0) { hull_nl_discard(nl); return 0; }
    int rc = 0;
    if (mnl_socket_sendto(nl->sock, nl->buf, nl->len) < 0) {
        rc = hull_err_sys(err, "netlink: send");
        hull_nl_discard(nl);
        return rc;
    }
    size_t left = nl->n_pend;
    bool done[HULL_NL_PENDING_MAX] = {false};
    while (left > 0) {
        ssize_t got = recv_some(nl, err);
        if (got < 0) { rc = (int)got; break; }
        int n = (int)got;
        for (struct nlmsghdr *h = (struct nlmsghdr *)nl->rbuf; mnl_nlmsg_ok(h, n); h = mnl_nlmsg_next(h, &n)) {
            if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nlmsgerr)) continue;
            for (size_t i = 0; i < nl->n_pend; i++) {
                if (done[i] || nl->pend[i].seq != h->nlmsg_seq) continue;
                done[i] = true;
                left--;
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
                int code = -e->error;
                if (code > 0 && code != nl->pend[i].ok_errno && rc == 0) rc = set_kernel_err(err, nl->pend[i].what, code, h);
                break;
            }
        }
    }
    hull_nl_discard(nl);
    return rc;
}

struct nlmsghdr *hull_nl_req_start(struct hull_nl *nl, void *req_buf, uint16_t type, uint16_t flags) {
    memset(req_buf, 0, HULL_NL_MSG_ROOM);
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(req_buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    nlh->nlmsg_seq = ++nl->seq;
    return nlh;
}

int hull_nl_request(struct hull_nl *nl, struct nlmsghdr *req, hull_nl_cb cb, void *data, const char *what,
                    struct hull_err *err) {
    req->nlmsg_flags |= NLM_F_ACK;
    if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0) return hull_err_sys(err, "%s: netlink send", what);
    int rc = 0;
    for (;;) {
        ssize_t got = recv_some(nl, err);
        if (got < 0) return (int)got;
        int n = (int)got;
        for (struct nlmsghdr *h = (struct nlmsghdr *)nl->rbuf; mnl_nlmsg_ok(h, n); h = mnl_nlmsg_next(h, &n)) {
            if (h->nlmsg_seq != req->nlmsg_seq || h->nlmsg_pid != nl->portid) continue;
            if (h->nlmsg_type == NLMSG_ERROR) {
                if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nlmsgerr)) return hull_err_set(err, EPROTO, "%s: short netlink error", what);
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
                if (e->error && rc == 0) rc = set_kernel_err(err, what, -e->error, h);
                return rc;
            }
            if (h->nlmsg_type == NLMSG_DONE) {
                /* a dump that failed part way says so here */
                if (mnl_nlmsg_get_payload_len(h) >= sizeof(int)) {
                    int e = *(const int *)mnl_nlmsg_get_payload(h);
                    if (e < 0 && rc == 0) rc = set_kernel_err(err, what, -e, NULL);
                }
                return rc;
            }
            if (h->nlmsg_type < NLMSG_MIN_TYPE || rc < 0) continue;
            if (cb && cb(h, data) < 0 && rc == 0) rc = hull_err_set(err, EPROTO, "%s: malformed answer from the kernel", what);
        }
    }
}
