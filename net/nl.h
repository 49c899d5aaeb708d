/* A netlink socket on libmnl with batching: requests are appended to one
 * buffer and sent with a single sendmsg; hull_nl_commit then collects one
 * acknowledgement per request, so a whole set-up (bridge, veth, addresses,
 * routes) costs one round trip. Errors carry the kernel's extended ack
 * message (NLMSGERR_ATTR_MSG), e.g. "add veth hv1234: File exists: ...".
 * Used for rtnetlink (nl_link.c, nl_addr.c) and nfnetlink (nft.c). */
#ifndef HULL_NET_NL_H
#define HULL_NET_NL_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

#define HULL_NL_BATCH_MAX (256 << 10) /* bytes of pending requests */
#define HULL_NL_PENDING_MAX 256     /* requests per batch */
#define HULL_NL_MSG_ROOM 4096       /* the most one request may take */

struct hull_nl_pending {
    uint32_t seq;
    int ok_errno;                   /* an error that counts as success (EEXIST on "create if missing") */
    char what[112];                 /* for the error message */
};

struct hull_nl {
    struct mnl_socket *sock;
    uint32_t portid, seq;
    unsigned char *buf, *rbuf, *scratch;
    size_t len;                     /* bytes of finished requests in buf */
    struct nlmsghdr *cur;           /* request being built (at buf + len) */
    struct hull_nl_pending pend[HULL_NL_PENDING_MAX];
    size_t n_pend;
    bool overflow;                  /* too many requests: commit fails with ENOBUFS */
    int proto;
};

/* Opens a NETLINK_ROUTE or NETLINK_NETFILTER socket; with netns_fd >= 0 the
 * socket belongs to that network namespace (the thread enters it for the
 * socket() call only). */
int hull_nl_open(struct hull_nl *nl, int proto, int netns_fd, struct hull_err *err);
void hull_nl_close(struct hull_nl *nl);
/* For __attribute__((cleanup)): closes nl if it was opened. */
static inline void hull_nl_closep(struct hull_nl *nl) { if (nl->sock) hull_nl_close(nl); }
#define _cleanup_nl_ __attribute__((cleanup(hull_nl_closep)))
/* Closes a NETLINK_NETFILTER socket without waiting. The last close of such a
 * socket flushes nf_tables' destruction work, which waits for an RCU grace
 * period (5-25 ms here) when rules were just deleted; a throwaway child
 * inherits the socket and makes that last close instead. */
void hull_nl_close_detached(struct hull_nl *nl);

/* Starts a request in the batch: header with type, flags | NLM_F_REQUEST |
 * NLM_F_ACK and the next seq; the caller appends the family header and
 * attributes (mnl_nlmsg_put_extra_header, mnl_attr_put_*). Never NULL: when
 * the batch is full the request lands in scratch space and commit fails. */
struct nlmsghdr *hull_nl_msg(struct hull_nl *nl, uint16_t type, uint16_t flags, int ok_errno,
                             const char *what_fmt, ...) __attribute__((format(printf, 5, 6)));
/* Room for a request the caller builds whole (libnftnl's builders): returns
 * where to write it and the seq it must carry; ack: whether the kernel answers
 * it (the caller sets NLM_F_ACK then). */
void *hull_nl_raw(struct hull_nl *nl, bool ack, int ok_errno, const char *what, uint32_t *seq);
/* Sends the batch and waits for every acknowledgement. The first real error
 * is returned (later requests of an rtnetlink batch were still applied; an
 * nfnetlink batch is all or nothing). The batch is empty afterwards. */
int hull_nl_commit(struct hull_nl *nl, struct hull_err *err);
/* Drops the pending batch without sending it. */
void hull_nl_discard(struct hull_nl *nl);

/* One request outside the batch (a get or a dump), answered by messages
 * handed to cb until the ack or NLMSG_DONE. The request is built by the
 * caller in req_buf with hull_nl_req_start (seq and flags are set there). */
typedef int (*hull_nl_cb)(const struct nlmsghdr *nlh, void *data);
struct nlmsghdr *hull_nl_req_start(struct hull_nl *nl, void *req_buf, uint16_t type, uint16_t flags);
int hull_nl_request(struct hull_nl *nl, struct nlmsghdr *req, hull_nl_cb cb, void *data, const char *what,
                    struct hull_err *err);

#endif
