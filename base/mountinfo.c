/* The one mountinfo parser (see mountinfo.h). */
#include "base/mountinfo.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hull_mountinfo_open(void) {
    int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Decodes mountinfo's \ooo escapes in place. */
static void unescape(char *s) {
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* Splits one line (without its newline); false when it is not well formed. */
static bool parse_line(char *line, struct hull_mountinfo *m) {
    char *sep = strstr(line, " - ");
    if (!sep) return false;
    *sep = '\0';
    char *save = NULL;
    m->fstype = strtok_r(sep + 3, " ", &save);
    m->source = strtok_r(NULL, " ", &save);
    m->super_options = strtok_r(NULL, " ", &save);
    if (!m->fstype || !m->source) return false;
    if (!m->super_options) m->super_options = (char *)"";
    char *f[6];
    save = NULL;
    int n = 0;
    for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save)) f[n++] = t;
    if (n < 6) return false;
    char *end;
    errno = 0;
    m->id = strtoull(f[0], &end, 10);
    if (*end || errno) return false;
    m->parent = strtoull(f[1], &end, 10);
    if (*end || errno) return false;
    if (sscanf(f[2], "%u:%u", &m->major, &m->minor) != 2) return false;
    m->root = f[3];
    m->mount_point = f[4];
    m->options = f[5];
    unescape(m->root);
    unescape(m->mount_point);
    unescape(m->source);
    return true;
}

int hull_mountinfo_each(int fd, int (*fn)(struct hull_mountinfo *m, void *arg), void *arg) {
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (d < 0) return -errno;
    (void)lseek(d, 0, SEEK_SET);        /* the start, also when the fd was read before */
    FILE *f = fdopen(d, "r");
    if (!f) {
        int e = errno;
        close(d);
        return -e;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        struct hull_mountinfo m;
        if (parse_line(line, &m)) rc = fn(&m, arg);
    }
    if (rc == 0 && ferror(f)) rc = -(errno ? errno : EIO);
    free(line);
    fclose(f);
    return rc;
}
