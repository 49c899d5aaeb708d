/* /proc/<pid>/mountinfo, one line at a time (proc_pid_mountinfo(5)):
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   id parent maj:min root mount-point options [optional...] - fstype source super-options
 * The reader takes an fd the caller opened (hull_mountinfo_open, or a trusted
 * procfs fd), so where the file comes from is the caller's choice. */
#ifndef HULL_BASE_MOUNTINFO_H
#define HULL_BASE_MOUNTINFO_H

struct hull_mountinfo {
    unsigned long long id;          /* mount id (statx STX_MNT_ID) */
    unsigned long long parent;
    unsigned major, minor;          /* st_dev of files on it */
    char *root;                     /* the path within the filesystem that is mounted */
    char *mount_point;
    char *options;                  /* per-mount options ("rw,nosuid") */
    char *fstype;
    char *source;
    char *super_options;            /* "" when the line has none */
};

/* open("/proc/self/mountinfo"), close-on-exec: an fd, or -errno. */
int hull_mountinfo_open(void);

/* Calls fn for every well-formed line of the mountinfo open at fd, from its
 * start; fd stays open. root, mount_point and source have their octal escapes
 * (\040 space, \011 tab, \012 newline, \134 backslash) decoded. The strings
 * are valid, and fn may change them in place, until fn returns. fn returns 0
 * to go on; anything else stops the walk and is returned. Returns 0 at the
 * end of the file, -errno when it cannot be read. */
int hull_mountinfo_each(int fd, int (*fn)(struct hull_mountinfo *m, void *arg), void *arg);

#endif
