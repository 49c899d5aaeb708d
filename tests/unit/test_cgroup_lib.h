/* Helpers shared by the cgroup unit tests: a unique test path, a child that
 * waits until it has been moved into the cgroup before doing its work, and a
 * last-resort cleanup that removes the test's tree from every hierarchy even
 * when an assertion failed half-way. */
#ifndef HULL_TESTS_UNIT_TEST_CGROUP_LIB_H
#define HULL_TESTS_UNIT_TEST_CGROUP_LIB_H

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "cgroups/cgroup.h"
#include "tests/lib/cgroup_testlib.h"
#include "tap.h"

static char tcg_base[64];   /* "/hulltest-<pid>" */

static void tcg_rm_tree(const char *path) {
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        tcg_rm_tree(sub);
    }
    closedir(d);
    char procs[4096];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", path);
    for (int tries = 0; tries < 100 && rmdir(path) < 0 && errno == EBUSY; tries++) {
        FILE *f = fopen(procs, "r");
        int pid;
        while (f && fscanf(f, "%d", &pid) == 1) kill(pid, SIGKILL);
        if (f) fclose(f);
        char fz[4096];
        snprintf(fz, sizeof fz, "%s/freezer.state", path);
        FILE *ff = fopen(fz, "w");
        if (ff) { fputs("THAWED", ff); fclose(ff); }
        usleep(10000);
    }
}

/* Removes <mount><tcg_base> in every hierarchy. */
static void tcg_cleanup(void) {
    const struct cg_host *h = cg_host_get(NULL);
    for (size_t i = 0; h && i < h->n_mounts; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s%s", h->mounts[i].mountpoint, tcg_base);
        tcg_rm_tree(p);
    }
}

/* Does <mount><rel> exist in any hierarchy? */
static int tcg_exists_anywhere(const char *rel) {
    const struct cg_host *h = cg_host_get(NULL);
    for (size_t i = 0; h && i < h->n_mounts; i++) {
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s%s", h->mounts[i].mountpoint, rel);
        if (stat(p, &st) == 0) return 1;
    }
    return 0;
}

static void tcg_init(void) {
    if (geteuid() != 0) plan_skip_all("needs root to manage cgroups");
    enum hull_cgroup_mode mode;
    struct hull_err err;
    if (hull_cgroup_detect(&mode, &err) < 0) {
        /* no cgroup file system at all is the machine's; hull not reading one that is there is a bug */
        struct statfs sf;
        if (statfs("/sys/fs/cgroup", &sf) == 0 &&
            (sf.f_type == CGROUP2_SUPER_MAGIC ||
             (sf.f_type == TMPFS_MAGIC && (access("/sys/fs/cgroup/memory", F_OK) == 0 ||
                                           access("/sys/fs/cgroup/unified", F_OK) == 0))))
            bail_out("hull_cgroup_detect failed on a host with /sys/fs/cgroup mounted: %s", err.msg);
        plan_skip_all(err.msg);
    }
    snprintf(tcg_base, sizeof tcg_base, "/hulltest-%d", (int)getpid());
    atexit(tcg_cleanup);
}

/* A child that blocks on a pipe until released, then runs fn and exits with
 * its return value. */
struct tcg_child { pid_t pid; int go; };

static struct tcg_child tcg_spawn(int (*fn)(void *), void *arg) {
    int p[2];
    struct tcg_child c = { -1, -1 };
    if (pipe(p) < 0) return c;
    c.pid = fork();
    if (c.pid == 0) {
        close(p[1]);
        char b;
        if (read(p[0], &b, 1) != 1) _exit(99);
        _exit(fn(arg));
    }
    close(p[0]);
    c.go = p[1];
    return c;
}

static void tcg_release(struct tcg_child *c) {
    if (c->go >= 0) { ssize_t n = write(c->go, "x", 1); (void)n; close(c->go); c->go = -1; }
}

static int tcg_wait(pid_t pid, int timeout_ms) {
    int st = 0;
    for (int t = 0; t < timeout_ms; t += 5) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if (r < 0) return -1;
        usleep(5000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -2;
}

static struct hull_resources tcg_res(void) {
    struct hull_resources r;
    memset(&r, 0, sizeof r);
    r.present = true;
    return r;
}

#endif
