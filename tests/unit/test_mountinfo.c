/* base/mountinfo: the fields of a line, octal escapes, malformed lines
 * skipped, stopping early, reading from the caller's fd. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"
#include "base/mountinfo.h"

struct seen { int n; struct { unsigned long long id, parent; unsigned ma, mi; char root[64], mp[64], opts[64],
                                fs[32], src[64], super[64]; } m[8]; int stop_at; };

static int collect(struct hull_mountinfo *m, void *arg) {
    struct seen *s = arg;
    if (s->n >= 8) return -1;
    typeof(&s->m[0]) d = &s->m[s->n++];
    d->id = m->id; d->parent = m->parent; d->ma = m->major; d->mi = m->minor;
    snprintf(d->root, sizeof d->root, "%s", m->root);
    snprintf(d->mp, sizeof d->mp, "%s", m->mount_point);
    snprintf(d->opts, sizeof d->opts, "%s", m->options);
    snprintf(d->fs, sizeof d->fs, "%s", m->fstype);
    snprintf(d->src, sizeof d->src, "%s", m->source);
    snprintf(d->super, sizeof d->super, "%s", m->super_options);
    return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static int memfd_with(const char *text) {
    int fd = memfd_create("mountinfo", MFD_CLOEXEC);
    if (fd >= 0 && write(fd, text, strlen(text)) != (ssize_t)strlen(text)) { close(fd); return -1; }
    return fd;
}

int main(void) {
    plan(22);
    const char *text =
        "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"
        "garbage without the separator\n"
        "x 1 0:1 / /bad rw - tmpfs tmpfs rw\n"
        "40 36 0:42 /a\\040b /with\\040space\\011tab\\134 rw shared:3 master:2 - tmpfs my\\040src\n"
        "41 36 0:43 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n";
    int fd = memfd_with(text);
    ok(fd >= 0, "memfd");
    char c;
    ok(read(fd, &c, 1) == 0, "the fd is at its end (the walk starts from the beginning anyway)");
    struct seen s = {0};
    is_int(hull_mountinfo_each(fd, collect, &s), 0, "walks to the end");
    is_int(s.n, 3, "three well-formed lines (malformed ones skipped)");
    is_int(s.m[0].id, 36, "mount id");
    is_int(s.m[0].parent, 35, "parent id");
    ok(s.m[0].ma == 98 && s.m[0].mi == 0, "major:minor");
    is_str(s.m[0].root, "/mnt1", "root");
    is_str(s.m[0].mp, "/mnt2", "mount point");
    is_str(s.m[0].opts, "rw,noatime", "mount options");
    is_str(s.m[0].fs, "ext3", "fs type");
    is_str(s.m[0].src, "/dev/root", "source");
    is_str(s.m[0].super, "rw,errors=continue", "super options");
    is_str(s.m[1].root, "/a b", "root: \\040 decoded");
    is_str(s.m[1].mp, "/with space\ttab\\", "mount point: \\040 \\011 \\134 decoded");
    is_str(s.m[1].src, "my src", "source decoded");
    is_str(s.m[1].super, "", "no super options: empty");
    is_str(s.m[2].super, "rw,memory", "cgroup super options");

    struct seen st = { .stop_at = 2 };
    is_int(hull_mountinfo_each(fd, collect, &st), 7, "fn's non-zero stops the walk and is returned");
    is_int(st.n, 2, "stopped after the second line");
    ok(fcntl(fd, F_GETFD) >= 0, "the caller's fd stays open");
    close(fd);

    int self = hull_mountinfo_open();
    struct seen me = {0};
    me.stop_at = 1;
    ok(self >= 0 && hull_mountinfo_each(self, collect, &me) == 7 && me.m[0].mp[0] == '/',
       "/proc/self/mountinfo reads");
    if (self >= 0) close(self);
    return tap_failed ? 1 : 0;
}
