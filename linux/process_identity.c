/* The identity switch: bounding set, groups, gid/uid, then the capability
 * sets via libcap, then ambient.
 *
 * Meaning of an absent "capabilities" object (caps.present == false): the
 * runtime spec lists the sets the process keeps, so no object means no set
 * lists anything: all five sets end up empty, even for uid 0, and the
 * bounding set is emptied too (what runc does with a nil capabilities
 * config). Likewise an absent inheritable/ambient list is an empty set: the
 * inheritable set is never filled implicitly.
 *
 * Order and why:
 *  1. drop bounding caps while we still have CAP_SETPCAP;
 *  2. PR_SET_KEEPCAPS so that setresuid away from 0 keeps the permitted set
 *     (the effective set is cleared by the kernel anyway, step 4 restores it);
 *  3. setgroups (needs CAP_SETGID), setresgid, setresuid;
 *  4. clear KEEPCAPS, capset effective/permitted/inheritable;
 *  5. ambient: clear all, then raise each requested cap (the kernel requires it
 *     to be in both permitted and inheritable). */
#include "linux/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Highest capability number the running kernel knows. libcap asks the kernel. */
static int last_cap(void) {
    int n = (int)cap_max_bits() - 1;
    return n > 63 ? 63 : n;
}

static const char *cap_label(int cap, char *buf, size_t len) {
    char *s = cap_to_name((cap_value_t)cap);
    if (!s) {
        snprintf(buf, len, "cap %d", cap);
        return buf;
    }
    snprintf(buf, len, "%s", s);
    for (char *c = buf; *c; c++)
        if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    cap_free(s);
    return buf;
}

static int drop_bounding(uint64_t keep, struct hull_err *err) {
    int last = last_cap();
    for (int c = 0; c <= last; c++) {
        if (keep & (1ULL << c)) continue;
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) <= 0) continue;   /* already gone */
        if (cap_drop_bound((cap_value_t)c) < 0) {
            char lbl[48];
            return hull_err_sys(err, "drop %s from the bounding set", cap_label(c, lbl, sizeof lbl));
        }
    }
    return 0;
}

/* /proc/self/setgroups says "deny" inside a user namespace whose gid map was
 * written without setgroups permission; setgroups(2) then always fails. */
static bool setgroups_denied(void) {
    char buf[16] = "";
    int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 && strncmp(buf, "deny", 4) == 0;
}

static int switch_user(const struct hull_user *u, struct hull_err *err) {
    if (setgroups_denied()) {
        if (u->n_additional_gids > 0)
            return hull_err_set(err, EPERM, "setgroups: user.additionalGids given but setgroups is "
                                            "denied in this user namespace (/proc/self/setgroups)");
    } else if (setgroups(u->n_additional_gids, (const gid_t *)u->additional_gids) < 0) {
        return hull_err_sys(err, "setgroups (%zu additionalGids)", u->n_additional_gids);
    }
    if (setresgid(u->gid, u->gid, u->gid) < 0) return hull_err_sys(err, "setresgid %u", u->gid);
    if (setresuid(u->uid, u->uid, u->uid) < 0) return hull_err_sys(err, "setresuid %u", u->uid);
    return 0;
}

static int set_flag_mask(cap_t c, cap_flag_t flag, uint64_t mask) {
    cap_value_t list[64];
    int n = 0;
    for (int i = 0; i < 64; i++)
        if (mask & (1ULL << i)) list[n++] = i;
    return n ? cap_set_flag(c, flag, n, list, CAP_SET) : 0;
}

/* Names the first requested cap the process cannot have, for a useful error:
 * capset can only keep or lower the permitted set hull itself holds. */
static void explain_capset(uint64_t want, char *out, size_t len) {
    out[0] = '\0';
    int last = last_cap();
    cap_t cur = cap_get_proc();
    for (int c = 0; c < 64 && cur; c++) {
        if (!(want & (1ULL << c))) continue;
        char lbl[48];
        cap_flag_value_t have = CAP_CLEAR;
        if (c > last) {
            snprintf(out, len, " (%s is unknown to this kernel)", cap_label(c, lbl, sizeof lbl));
            break;
        }
        if (cap_get_flag(cur, (cap_value_t)c, CAP_PERMITTED, &have) == 0 && have == CAP_CLEAR) {
            snprintf(out, len, " (%s is not in hull's permitted set%s)", cap_label(c, lbl, sizeof lbl),
                     prctl(PR_CAPBSET_READ, c, 0, 0, 0) <= 0 ? "; the host's bounding set lacks it" : "");
            break;
        }
    }
    if (cur) cap_free(cur);
}

static int set_caps(const struct hull_caps *caps, struct hull_err *err) {
    cap_t c = cap_init();   /* all clear */
    if (!c) return hull_err_sys(err, "cap_init");
    int rc = 0;
    if (caps->present &&
        (set_flag_mask(c, CAP_EFFECTIVE, caps->effective) < 0 ||
         set_flag_mask(c, CAP_PERMITTED, caps->permitted) < 0 ||
         set_flag_mask(c, CAP_INHERITABLE, caps->inheritable) < 0)) {
        rc = hull_err_sys(err, "cap_set_flag");
    } else if (cap_set_proc(c) < 0) {
        int saved = errno;
        char why[96];
        explain_capset(caps->permitted | caps->effective | caps->inheritable, why, sizeof why);
        rc = hull_err_set(err, saved, "capset (effective 0x%llx permitted 0x%llx inheritable 0x%llx): %s%s",
                          (unsigned long long)caps->effective, (unsigned long long)caps->permitted,
                          (unsigned long long)caps->inheritable, strerror(saved), why);
    }
    cap_free(c);
    return rc;
}

static int set_ambient(const struct hull_caps *caps, struct hull_err *err) {
    if (cap_reset_ambient() < 0 && errno != EINVAL)   /* EINVAL: kernel without ambient */
        return hull_err_sys(err, "clear the ambient set");
    if (!caps->present) return 0;
    for (int i = 0; i < 64; i++) {
        if (!(caps->ambient & (1ULL << i))) continue;
        if (cap_set_ambient((cap_value_t)i, CAP_SET) < 0) {
            /* The kernel only raises an ambient cap that is also permitted and
             * inheritable. Configs in the wild (crun's and runc's own `spec`)
             * list ambient caps without inheritable ones and expect them to be
             * skipped, so that is what hull does; inheritable is never added
             * implicitly. */
            if (errno == EPERM && (!(caps->inheritable & (1ULL << i)) || !(caps->permitted & (1ULL << i))))
                continue;
            char lbl[48];
            int saved = errno;
            return hull_err_set(err, saved, "raise ambient %s: %s", cap_label(i, lbl, sizeof lbl), strerror(saved));
        }
    }
    return 0;
}

int hull_process_apply_identity(const struct hull_process *p, struct hull_err *err) {
    int rc;
    const struct hull_caps *caps = &p->caps;
    if ((rc = drop_bounding(caps->present ? caps->bounding : 0, err)) < 0) return rc;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return hull_err_sys(err, "prctl(PR_SET_KEEPCAPS)");
    if ((rc = switch_user(&p->user, err)) < 0) return rc;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return hull_err_sys(err, "prctl(PR_SET_KEEPCAPS, 0)");
    if ((rc = set_caps(caps, err)) < 0) return rc;
    return set_ambient(caps, err);
}
