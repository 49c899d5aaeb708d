/* base/state.h: the default state root. Root of the host keeps /run/hull;
 * a rootless caller (non-zero euid, or uid 0 of a user namespace such as
 * rootless podman's) gets $XDG_RUNTIME_DIR/hull, as with runc and crun.
 * Each case runs in a forked child that changes its uid or user namespace. */
#include "base/state.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>

#include "tap.h"
#include "proc_child.h"

struct root_case {
    int mode;            /* 0: as we are; 1: setresuid(65534); 2: new user namespace, uid 0 mapped to ours */
    const char *xdg;     /* XDG_RUNTIME_DIR, or NULL to unset */
    const char *user;    /* USER, or NULL to unset */
};

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int c_root(void *arg, int rfd, char *out, size_t len) {
    const struct root_case *c = arg;
    if (c->xdg) setenv("XDG_RUNTIME_DIR", c->xdg, 1); else unsetenv("XDG_RUNTIME_DIR");
    if (c->user) setenv("USER", c->user, 1); else unsetenv("USER");
    if (c->mode == 1 && setresuid(65534, 65534, 65534) < 0) {
        snprintf(out, len, "ERR setresuid: %s", strerror(errno));
        return 1;
    }
    if (c->mode == 2) {
        char map[64];
        snprintf(map, sizeof map, "0 %d 1\n", (int)geteuid());
        if (unshare(CLONE_NEWUSER) < 0 || write_file("/proc/self/uid_map", map) < 0) {
            snprintf(out, len, "ERR user namespace: %s", strerror(errno));
            return 1;
        }
    }
    snprintf(out, len, "%s%s", hull_in_user_namespace() ? "userns " : "", hull_state_default_root());
    return 0;
}

static void check(struct root_case c, const char *want, const char *what) {
    struct child_result r;
    run_child(c_root, &c, &r);
    is_str(r.out, want, "%s", what);
}

int main(void) {
    if (geteuid() != 0) plan_skip_all("needs root (setresuid, a user namespace with uid 0 mapped)");
    check((struct root_case){0, "/run/user/0", "root"}, HULL_DEFAULT_ROOT,
          "root of the host: /run/hull, even with XDG_RUNTIME_DIR set");
    check((struct root_case){0, "/run/user/0", NULL}, HULL_DEFAULT_ROOT, "... and without USER");
    check((struct root_case){1, "/tmp/xdg-1", NULL}, "/tmp/xdg-1/hull",
          "an unprivileged caller: $XDG_RUNTIME_DIR/hull");
    check((struct root_case){1, NULL, NULL}, HULL_DEFAULT_ROOT, "... /run/hull without XDG_RUNTIME_DIR");
    check((struct root_case){1, "relative/dir", NULL}, HULL_DEFAULT_ROOT, "... and with a relative one");
    check((struct root_case){2, "/tmp/xdg-2", NULL}, "userns /tmp/xdg-2/hull",
          "uid 0 of a user namespace (rootless podman): $XDG_RUNTIME_DIR/hull");
    check((struct root_case){2, "/tmp/xdg-2", "root"}, "userns " HULL_DEFAULT_ROOT,
          "... unless USER says root (a user namespace set up by root for itself)");
    check((struct root_case){0, NULL, NULL}, HULL_DEFAULT_ROOT, "the host's namespace is not a user namespace");
    return done_testing();
}
