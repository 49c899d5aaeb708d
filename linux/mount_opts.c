/* OCI mount options -> what mount(2) and mount_setattr(2) take.
 *
 * Four kinds of option: MS_* flags ("ro", "nosuid", "bind"), their explicit
 * opposites ("rw", "suid": remembered so a bind remount clears them instead of
 * inheriting them from the source), propagation ("rslave": a separate mount
 * call each, in the order written) and recursive attributes ("rro": applied
 * with mount_setattr(AT_RECURSIVE) to the whole tree). Anything else is
 * filesystem data ("mode=755", "size=64m") and goes into the data string, the
 * way mount(8) passes it to the kernel. */
#include "linux/rootfs_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000
#endif

#define ATIME_MS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

struct flag_opt {
    const char *name;
    unsigned long set, clear;
    bool atime;
};

static const struct flag_opt flag_opts[] = {
    {"defaults", 0, 0, false},
    {"ro", MS_RDONLY, 0, false},          {"rw", 0, MS_RDONLY, false},
    {"nosuid", MS_NOSUID, 0, false},      {"suid", 0, MS_NOSUID, false},
    {"nodev", MS_NODEV, 0, false},        {"dev", 0, MS_NODEV, false},
    {"noexec", MS_NOEXEC, 0, false},      {"exec", 0, MS_NOEXEC, false},
    {"sync", MS_SYNCHRONOUS, 0, false},   {"async", 0, MS_SYNCHRONOUS, false},
    {"dirsync", MS_DIRSYNC, 0, false},
    {"remount", MS_REMOUNT, 0, false},
    {"mand", MS_MANDLOCK, 0, false},      {"nomand", 0, MS_MANDLOCK, false},
    {"noatime", MS_NOATIME, MS_RELATIME | MS_STRICTATIME, true},
    {"atime", 0, MS_NOATIME, true},
    {"nodiratime", MS_NODIRATIME, 0, false}, {"diratime", 0, MS_NODIRATIME, false},
    {"relatime", MS_RELATIME, MS_NOATIME | MS_STRICTATIME, true},
    {"norelatime", 0, MS_RELATIME, true},
    {"strictatime", MS_STRICTATIME, MS_NOATIME | MS_RELATIME, true},
    {"nostrictatime", 0, MS_STRICTATIME, true},
    {"lazytime", MS_LAZYTIME, 0, false},  {"nolazytime", 0, MS_LAZYTIME, false},
    {"silent", MS_SILENT, 0, false},      {"loud", 0, MS_SILENT, false},
    {"iversion", MS_I_VERSION, 0, false}, {"noiversion", 0, MS_I_VERSION, false},
    {"nosymfollow", MS_NOSYMFOLLOW, 0, false}, {"symfollow", 0, MS_NOSYMFOLLOW, false},
    {"bind", MS_BIND, 0, false},
    {"rbind", MS_BIND | MS_REC, 0, false},
};

static const struct { const char *name; unsigned long flags; } prop_opts[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* Recursive attributes: set bits, and the bits cleared first (atime is a field). */
static const struct { const char *name; uint64_t set, clr; } rec_opts[] = {
    {"rro", MOUNT_ATTR_RDONLY, 0},           {"rrw", 0, MOUNT_ATTR_RDONLY},
    {"rnosuid", MOUNT_ATTR_NOSUID, 0},       {"rsuid", 0, MOUNT_ATTR_NOSUID},
    {"rnodev", MOUNT_ATTR_NODEV, 0},         {"rdev", 0, MOUNT_ATTR_NODEV},
    {"rnoexec", MOUNT_ATTR_NOEXEC, 0},       {"rexec", 0, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0}, {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
    {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
    {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
    {"ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},   /* the kernel default */
    {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0}, {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int data_append(char **data, size_t *len, const char *opt, struct hull_err *err) {
    size_t ol = strlen(opt);
    char *n = realloc(*data, *len + ol + 2);
    if (!n) return hull_err_set(err, ENOMEM, "mount option %s: out of memory", opt);
    if (*len) n[(*len)++] = ',';
    memcpy(n + *len, opt, ol + 1);
    *len += ol;
    *data = n;
    return 0;
}

static int parse_one(const char *opt, struct hull_mount_opts *out, char **data, size_t *dlen,
                     struct hull_err *err) {
    for (size_t i = 0; i < COUNT(flag_opts); i++) {
        if (strcmp(opt, flag_opts[i].name)) continue;
        if (flag_opts[i].atime) {
            /* the last atime option wins over both the earlier ones and the source's */
            out->atime_given = true;
            out->flags &= ~ATIME_MS;
        }
        out->flags = (out->flags & ~flag_opts[i].clear) | flag_opts[i].set;
        out->clear = (out->clear & ~flag_opts[i].set) | flag_opts[i].clear;
        if (!strcmp(opt, "rw")) out->has_rw = true;
        if (!strcmp(opt, "ro")) out->has_rw = false;
        return 0;
    }
    for (size_t i = 0; i < COUNT(prop_opts); i++) {
        if (strcmp(opt, prop_opts[i].name)) continue;
        if (out->n_propagation >= HULL_MAX_PROPAGATION)
            return hull_err_set(err, EINVAL, "too many propagation options (at most %d)",
                                HULL_MAX_PROPAGATION);
        out->propagation[out->n_propagation++] = prop_opts[i].flags;
        return 0;
    }
    for (size_t i = 0; i < COUNT(rec_opts); i++) {
        if (strcmp(opt, rec_opts[i].name)) continue;
        uint64_t set = rec_opts[i].set, clr = rec_opts[i].clr;
        if (clr == MOUNT_ATTR__ATIME) {
            /* atime is a field: clear the whole field, then set the choice */
            out->rec_clr |= MOUNT_ATTR__ATIME;
            out->rec_set = (out->rec_set & ~MOUNT_ATTR__ATIME) | set;
        } else if (set) {
            out->rec_set |= set;
            out->rec_clr &= ~set;
        } else {
            out->rec_clr |= clr;
            out->rec_set &= ~clr;
        }
        return 0;
    }
    if (!strcmp(opt, "tmpcopyup"))
        return hull_err_set(err, ENOTSUP, "mount option \"tmpcopyup\" is not supported");
    if (!strcmp(opt, "idmap") || !strcmp(opt, "ridmap"))
        return hull_err_set(err, ENOTSUP, "mount option \"%s\": idmapped mounts are not supported",
                            opt);
    /* mount(8)-only hints the kernel would reject */
    if (!strncmp(opt, "x-", 2) || !strncmp(opt, "X-", 2)) return 0;
    return data_append(data, dlen, opt, err);
}

int hull_mount_opts_parse(char *const *opts, size_t n, struct hull_mount_opts *out,
                          struct hull_err *err) {
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t dlen = 0;
    for (size_t i = 0; i < n; i++) {
        const char *opt = opts ? opts[i] : NULL;
        if (!opt || !*opt) continue;
        int rc = parse_one(opt, out, &data, &dlen, err);
        if (rc < 0) {
            free(data);
            memset(out, 0, sizeof *out);
            return rc;
        }
    }
    out->data = data;
    return 0;
}

void hull_mount_opts_free(struct hull_mount_opts *o) {
    if (!o) return;
    free(o->data);
    o->data = NULL;
}

unsigned long hull_st_to_ms(unsigned long st) {
    static const struct { unsigned long st, ms; } map[] = {
        {ST_RDONLY, MS_RDONLY},         {ST_NOSUID, MS_NOSUID},
        {ST_NODEV, MS_NODEV},           {ST_NOEXEC, MS_NOEXEC},
        {ST_SYNCHRONOUS, MS_SYNCHRONOUS}, {ST_MANDLOCK, MS_MANDLOCK},
        {ST_NOATIME, MS_NOATIME},       {ST_NODIRATIME, MS_NODIRATIME},
        {ST_RELATIME, MS_RELATIME},     {ST_NOSYMFOLLOW, MS_NOSYMFOLLOW},
    };
    unsigned long ms = 0;
    for (size_t i = 0; i < COUNT(map); i++)
        if (st & map[i].st) ms |= map[i].ms;
    return ms;
}
