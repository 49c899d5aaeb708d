/* Hand the seccomp user-notification fd to the agent at linux.seccomp.listenerPath:
 * one message on an AF_UNIX stream socket whose body is the container process
 * state JSON ({"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"})
 * and whose SCM_RIGHTS carries the fd, as the runtime spec describes. */
#include "base/console.h"
#include "linux/process.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

int hull_seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                               struct hull_err *err) {
    if (!listener_path || !listener_path[0])
        return hull_err_set(err, EINVAL, "seccomp listener: listenerPath is empty");
    if (notify_fd < 0) return hull_err_set(err, EBADF, "seccomp listener %s: no notify fd", listener_path);
    if (!state_json || !state_json[0])
        return hull_err_set(err, EINVAL, "seccomp listener %s: empty state", listener_path);

    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    size_t plen = strlen(listener_path);
    if (plen >= sizeof addr.sun_path)
        return hull_err_set(err, ENAMETOOLONG, "seccomp listener %s: path too long for a unix socket",
                            listener_path);
    memcpy(addr.sun_path, listener_path, plen + 1);

    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return hull_err_sys(err, "seccomp listener %s: socket", listener_path);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int rc = hull_err_sys(err, "seccomp listener: connect %s", listener_path);
        close(sock);
        return rc;
    }

    int rc = hull_send_fd(sock, notify_fd, state_json, err);
    if (rc < 0) hull_err_prefix(err, "seccomp listener %s: ", listener_path);
    close(sock);
    return rc;
}
