/* Namespace plumbing for the executor: opening namespace files safely, the
 * user namespace id maps, and the state JSON that hooks in the child read. */
#include "linux/executor_internal.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "base/fsutil.h"
#include "base/state.h"
#include "cgroups/cgroup.h"
#include "linux/sync.h"

int hull_ns_open(const char *path, enum hull_ns_type type, struct hull_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "open %s namespace %s", hull_ns_type_name(type), path);
    /* A regular file passed as a namespace path must not be accepted silently. */
    int kind = ioctl(fd, NS_GET_NSTYPE);
    if (kind < 0) {
        int rc = hull_err_sys(err, "%s namespace %s: not a namespace file", hull_ns_type_name(type), path);
        close(fd);
        return rc;
    }
    if (kind != hull_ns_clone_flag(type)) {
        close(fd);
        return hull_err_set(err, EINVAL, "%s namespace %s: is a namespace of another type", hull_ns_type_name(type),
                            path);
    }
    return fd;
}

static int write_map(pid_t pid, const char *file, const struct hull_idmap *m, size_t n, struct hull_err *err) {
    char buf[4096];
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                                m[i].size);
    if (len >= sizeof buf) return hull_err_set(err, E2BIG, "%s: too many mappings", file);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "open %s", path);
    ssize_t w = write(fd, buf, len);
    int saved = errno;
    close(fd);
    if (w != (ssize_t)len) {
        errno = w < 0 ? saved : EIO;
        return hull_err_sys(err, "write %s (\"%.*s\")", path, (int)(len ? len - 1 : 0), buf);
    }
    return 0;
}

int hull_ns_write_idmaps(pid_t pid, const struct hull_linux *lx, struct hull_err *err) {
    if (geteuid() != 0) {
        /* Unprivileged: the kernel only accepts a gid map after setgroups is denied. */
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
        if (hull_write_str(path, "deny") < 0 && errno != ENOENT) return hull_err_sys(err, "write %s", path);
    }
    int r = write_map(pid, "uid_map", lx->uid_mappings, lx->n_uid_mappings, err);
    if (r < 0) return r;
    return write_map(pid, "gid_map", lx->gid_mappings, lx->n_gid_mappings, err);
}

char *hull_init_state_json(const struct hull_create_req *req, pid_t host_pid, const char *status) {
    static struct hull_state st;   /* large; the child and `create` are single-threaded */
    memset(&st, 0, sizeof st);
    snprintf(st.id, sizeof st.id, "%s", req->id);
    snprintf(st.bundle, sizeof st.bundle, "%s", req->bundle);
    st.pid = host_pid;
    st.annotations = req->spec->annotations;
    st.n_annotations = req->spec->n_annotations;
    enum hull_status s = strcmp(status, "creating") == 0 ? HULL_CREATING
                       : strcmp(status, "created") == 0  ? HULL_CREATED : HULL_RUNNING;
    return hull_state_json(&st, s, false, false);
}

void hull_reset_signals(void) {
    /* The raw syscall, because glibc refuses to touch the two real-time
     * signals it reserves for itself (32, 33), and an ignored 32/33 would
     * still be inherited by the container's program. */
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } dfl = {0};
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int hull_child_enter_cgroup(int sync_fd, struct hull_cgroup *cg, bool skip_v2, bool *in_cgroup,
                            struct hull_err *err) {
    *in_cgroup = true;
    if (!cg) return 0;
    struct hull_err ignored;
    if (hull_cgroup_enter_self(cg, skip_v2, &ignored) == 0) return 0;
    *in_cgroup = false;
    return hull_sync_send(sync_fd, HULL_SYNC_NEED_CGROUP, 0, NULL, -1, err);
}
