/* What the net unit tests share: entering a network namespace of their own
 * and opening hull's netlink socket there. A missing machine feature
 * (network namespaces refused, a netlink family the kernel lacks) skips with
 * the reason; hull_nl_open() failing where the kernel offers the family is a
 * failure of hull's netlink code, reported as such. */
#ifndef HULL_TESTS_UNIT_NET_HELPERS_H
#define HULL_TESTS_UNIT_NET_HELPERS_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "net/nl.h"
#include "tap.h"

static inline void net_test_unshare(void) {
    char why[160];
    if (geteuid() != 0) plan_skip_all("needs root (network namespaces)");
    if (unshare(CLONE_NEWNET) < 0) {
        snprintf(why, sizeof why, "unshare(CLONE_NEWNET) refused here: %s", strerror(errno));
        plan_skip_all(why);
    }
}

/* One assertion: hull_nl_open(proto) in the current namespace. */
static inline void net_test_nl_open(struct hull_nl *nl, int proto, const char *name, struct hull_err *err) {
    char why[160];
    int probe = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
    if (probe < 0) {
        snprintf(why, sizeof why, "the kernel offers no %s netlink here (socket: %s)", name, strerror(errno));
        plan_skip_all(why);
    }
    close(probe);
    if (!ok(hull_nl_open(nl, proto, -1, err) == 0, "hull_nl_open(%s) in the test's namespace", name))
        bail_out("hull_nl_open(%s) failed where the kernel offers it: %s", name, err->msg);
}

#endif
