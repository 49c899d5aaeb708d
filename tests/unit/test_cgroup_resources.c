/* cgroups/: linux.resources really enforced on this host's hierarchies:
 * memory OOM kill, pids.max, cpu throttling, device rules (v1 devices and the
 * v2 BPF filter), cpuset, hugetlb/unified on cgroup2, update. */
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "test_cgroup_lib.h"

static struct hull_cgroup *make(const char *name, const struct hull_resources *r) {
    char rel[128];
    struct hull_err err;
    struct hull_cgroup *cg = NULL;
    snprintf(rel, sizeof rel, "%s/%s", tcg_base, name);
    if (hull_cgroup_open(rel, name, &cg, &err) < 0) { diag("open: %s", err.msg); return NULL; }
    if (hull_cgroup_create(cg, r, &err) < 0) {
        diag("create %s: %s", name, err.msg);
        hull_cgroup_free(cg);
        return NULL;
    }
    return cg;
}

static void drop(struct hull_cgroup *cg) {
    struct hull_err err;
    if (!cg) return;
    hull_cgroup_kill_all(cg, SIGKILL, &err);
    if (hull_cgroup_destroy(cg, &err) < 0) diag("destroy: %s", err.msg);
    hull_cgroup_free(cg);
}

static char *readf(const char *dir, const char *file) {
    char *s = NULL;
    if (!dir || cg_read(dir, file, &s, NULL) < 0) return NULL;
    s[strcspn(s, "\n")] = '\0';
    return s;
}

/* Runs fn in a child moved into cg first; returns its wait status. */
static int run_in(struct hull_cgroup *cg, int (*fn)(void *), void *arg, int timeout_ms) {
    struct hull_err err;
    struct tcg_child c = tcg_spawn(fn, arg);
    if (hull_cgroup_enter(cg, c.pid, &err) < 0) {
        diag("enter: %s", err.msg);
        kill(c.pid, SIGKILL);
        tcg_release(&c);
        tcg_wait(c.pid, 1000);
        return -1;
    }
    tcg_release(&c);
    return tcg_wait(c.pid, timeout_ms);
}

static int eat_memory(void *arg) {
    size_t total = 256u << 20;
    char *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    for (size_t i = 0; i < total; i += 4096) p[i] = 1;
    return 0;   /* survived: the limit did not hold */
}

static void test_memory(void) {
    struct hull_resources r = tcg_res();
    r.memory.present = true;
    r.memory.limit = (hull_opt_i64){ true, 32 << 20 };
    r.memory.swap = (hull_opt_i64){ true, 32 << 20 };   /* no swap on top: OOM, not swapping */
    struct hull_cgroup *cg = make("mem", &r);
    ok(cg != NULL, "create with memory limit 32 MiB");
    if (!cg) return;
    const char *dir = hull_cgroup_path(cg, "memory");
    struct cg_dir *mo = cg_owner(cg, "memory");
    if (!mo) { skip("no memory controller"); drop(cg); return; }
    bool v1 = mo->kind == CG_V1;
    char *v = readf(dir, v1 ? "memory.limit_in_bytes" : "memory.max");
    is_str(v, "33554432", "memory limit reads back");
    free(v);
    int st = run_in(cg, eat_memory, NULL, 20000);
    ok(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "a child touching 256 MiB is SIGKILLed (status %#x)", st);
    char *ev = NULL;
    uint64_t kills = 0;
    if (cg_read(dir, v1 ? "memory.oom_control" : "memory.events", &ev, NULL) == 0) cg_keyed(ev, "oom_kill", &kills);
    free(ev);
    ok(kills >= 1, "%s reports oom_kill %llu", v1 ? "memory.oom_control" : "memory.events", (unsigned long long)kills);
    struct hull_cgroup_stats stats;
    struct hull_err e0;
    int src = hull_cgroup_stats(cg, &stats, &e0);
    ok(src == 0 && stats.memory.oom_kill == kills && stats.memory.limit == 32 << 20,
       "stats: memory limit %llu, failcnt %llu, oom_kill %llu",
       (unsigned long long)stats.memory.limit, (unsigned long long)stats.memory.failcnt,
       (unsigned long long)stats.memory.oom_kill);

    /* update: raise it; checkBeforeUpdate refuses going below usage */
    struct hull_err err;
    struct hull_resources u = tcg_res();
    u.memory.present = true;
    u.memory.limit = (hull_opt_i64){ true, 64 << 20 };
    u.memory.swap = (hull_opt_i64){ true, 64 << 20 };
    int rc = hull_cgroup_update(cg, &u, &err);
    is_int(rc, 0, "update memory to 64 MiB (memsw grows first): %s", rc ? err.msg : "ok");
    v = readf(dir, v1 ? "memory.limit_in_bytes" : "memory.max");
    is_str(v, "67108864", "new limit reads back");
    free(v);
    u.memory.limit.v = u.memory.swap.v = 16 << 20;
    rc = hull_cgroup_update(cg, &u, &err);
    is_int(rc, 0, "update memory down to 16 MiB (limit shrinks first): %s", rc ? err.msg : "ok");
    u.memory.limit.v = -1;
    u.memory.swap.v = -1;
    rc = hull_cgroup_update(cg, &u, &err);
    is_int(rc, 0, "update memory to unlimited: %s", rc ? err.msg : "ok");
    drop(cg);
}

static int fork_bomb(void *arg) {
    for (int i = 0; i < 50; i++) {
        pid_t p = fork();
        if (p == 0) { pause(); _exit(0); }
        if (p < 0) return errno == EAGAIN && i >= 3 && i <= 5 ? 0 : 10 + i;
    }
    return 1;
}

static void test_pids(void) {
    struct hull_resources r = tcg_res();
    r.pids.present = true;
    r.pids.limit = (hull_opt_i64){ true, 5 };
    struct hull_cgroup *cg = make("pids", &r);
    ok(cg != NULL, "create with pids.max 5");
    if (!cg) return;
    char *v = readf(hull_cgroup_path(cg, "pids"), "pids.max");
    is_str(v, "5", "pids.max reads back");
    free(v);
    int st = run_in(cg, fork_bomb, NULL, 10000);
    ok(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork fails with EAGAIN at the limit (status %d)",
       st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    struct hull_err err;
    struct hull_resources u = tcg_res();
    u.pids.present = true;
    u.pids.limit = (hull_opt_i64){ true, -1 };
    is_int(hull_cgroup_update(cg, &u, &err), 0, "update pids to unlimited");
    v = readf(hull_cgroup_path(cg, "pids"), "pids.max");
    is_str(v, "max", "pids.max is max");
    free(v);
    drop(cg);
}

static int busy_300ms(void *arg) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 300);
    return 0;
}

static void test_cpu(void) {
    struct hull_resources r = tcg_res();
    r.cpu.present = true;
    r.cpu.quota = (hull_opt_i64){ true, 10000 };
    r.cpu.period = (hull_opt_u64){ true, 100000 };
    r.cpu.shares = (hull_opt_u64){ true, 512 };
    struct hull_cgroup *cg = make("cpu", &r);
    ok(cg != NULL, "create with cpu quota 10ms/100ms");
    if (!cg) return;
    const char *dir = hull_cgroup_path(cg, "cpu");
    struct cg_dir *co = cg_owner(cg, "cpu");
    if (!co) { skip("no cpu controller"); drop(cg); return; }
    bool v1 = co->kind == CG_V1;
    char *v = readf(dir, v1 ? "cpu.cfs_quota_us" : "cpu.max");
    is_str(v, v1 ? "10000" : "10000 100000", "quota reads back");
    free(v);
    int st = run_in(cg, busy_300ms, NULL, 10000);
    ok(st >= 0 && WIFEXITED(st), "busy loop ran 300 ms");
    char *stat = NULL;
    uint64_t thr = 0;
    if (cg_read(dir, "cpu.stat", &stat, NULL) == 0) cg_keyed(stat, "nr_throttled", &thr);
    free(stat);
    ok(thr > 0, "cpu.stat nr_throttled = %llu", (unsigned long long)thr);
    struct hull_cgroup_stats stats;
    struct hull_err e0;
    int src = hull_cgroup_stats(cg, &stats, &e0);
    ok(src == 0 && stats.cpu.nr_throttled == thr && stats.cpu.usage_ns >= 20000000ull,
       "stats: cpu usage %llu ns, throttled %llu times", (unsigned long long)stats.cpu.usage_ns,
       (unsigned long long)stats.cpu.nr_throttled);

    struct hull_resources c = tcg_res();
    c.cpu.present = true;
    c.cpu.cpus = "0";
    c.cpu.mems = "0";
    struct hull_err err;
    int rc = hull_cgroup_update(cg, &c, &err);
    is_int(rc, 0, "update cpus=0: %s", rc ? err.msg : "ok");
    v = readf(hull_cgroup_path(cg, "cpuset"), "cpuset.cpus");
    is_str(v, "0", "cpuset.cpus reads back");
    free(v);
    drop(cg);
}

static char node_dir[64];

static int open_null_node(void *arg) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", node_dir, (const char *)arg);
    int fd = open(p, O_RDWR);
    if (fd >= 0) { close(fd); return 0; }
    return errno == EPERM ? 1 : 2;
}

static void test_devices(void) {
    snprintf(node_dir, sizeof node_dir, "/tmp/hull-cgtest-%d", (int)getpid());
    mkdir(node_dir, 0700);
    char p[128];
    snprintf(p, sizeof p, "%s/null", node_dir);
    int mk = mknod(p, S_IFCHR | 0666, makedev(1, 3));
    snprintf(p, sizeof p, "%s/zero", node_dir);
    mk |= mknod(p, S_IFCHR | 0666, makedev(1, 5));
    if (mk < 0) {
        skip("mknod not permitted here");
        skip("mknod not permitted here");
        skip("mknod not permitted here");
        return;
    }
    struct hull_device_rule rules[] = {
        { .allow = true, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
        { .allow = false, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },
    };
    struct hull_resources r = tcg_res();
    r.devices = rules;
    r.n_devices = 2;
    struct hull_cgroup *cg = make("dev", &r);
    ok(cg != NULL, "create with devices: allow all, deny c 1:3");
    if (cg) {
        int st = run_in(cg, open_null_node, "null", 5000);
        is_int(st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1, 1, "open of a 1:3 node fails with EPERM");
        st = run_in(cg, open_null_node, "zero", 5000);
        is_int(st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, "open of a 1:5 node works");
    }
    drop(cg);

    /* cgroup2: the BPF filter alone (the v1 devices cgroup allows all). */
    cg = make("bpf", NULL);
    struct hull_err err;
    const char *v2 = cg ? hull_cgroup_path(cg, "") : NULL;
    uint32_t id = 0;
    int rc = v2 ? cg_bpf_devices_apply(v2, rules, 2, &id, &err) : -1;
    if (!cg) {
        ok(0, "create the cgroup for the BPF filter (see the diag above)");
        for (int i = 0; i < 3; i++) skip("no cgroup for the BPF filter (reported above)");
    } else if (!v2) {
        for (int i = 0; i < 4; i++) skip("no cgroup2 mount");
    } else if (rc < 0 && (err.code == ENOSYS || err.code == EPERM)) {
        /* the kernel has no bpf(2) or refuses it (lockdown): the machine lacks it */
        char why[300];
        snprintf(why, sizeof why, "the kernel refuses BPF device programs here: %s", err.msg);
        for (int i = 0; i < 4; i++) skip(why);
    } else if (rc < 0) {
        ok(0, "BPF device program attached to %s: %s", v2, err.msg);
        for (int i = 0; i < 3; i++) skip("no BPF device filter (reported above)");
    } else {
        ok(id != 0, "BPF device program attached to %s (id %u)", v2, id);
        int st = run_in(cg, open_null_node, "null", 5000);
        is_int(st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1, 1, "cgroup2 filter: open of 1:3 fails with EPERM");
        st = run_in(cg, open_null_node, "zero", 5000);
        is_int(st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, "cgroup2 filter: 1:5 still works");
        uint32_t old = id;
        struct hull_device_rule allow_all = { .allow = true, .type = 'a', .major = -1, .minor = -1 };
        rc = cg_bpf_devices_apply(v2, &allow_all, 1, &id, &err);
        st = run_in(cg, open_null_node, "null", 5000);
        uint32_t ids[8];
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        int cgfd = open(v2, O_RDONLY | O_DIRECTORY);
        a.query.target_fd = (uint32_t)cgfd;
        a.query.attach_type = BPF_CGROUP_DEVICE;
        a.query.prog_ids = (uintptr_t)ids;
        a.query.prog_cnt = 8;
        int q = (int)syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof a);
        close(cgfd);
        ok(rc == 0 && id != old && st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && q == 0 &&
           a.query.prog_cnt == 1 && ids[0] == id,
           "update replaces the program (not stacked): %u programs attached, 1:3 opens again", a.query.prog_cnt);
    }
    drop(cg);
    snprintf(p, sizeof p, "%s/null", node_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/zero", node_dir);
    unlink(p);
    rmdir(node_dir);
}

static void test_v2_extras(void) {
    struct hull_err err;
    struct hull_cgroup *probe = make("probe", NULL);
    bool hugetlb = probe && cg_owner(probe, "hugetlb") && cg_file_exists(hull_cgroup_path(probe, "hugetlb"),
                                                                        cg_owner(probe, "hugetlb")->kind == CG_V1
                                                                            ? "hugetlb.2MB.limit_in_bytes" : "hugetlb.2MB.max");
    drop(probe);
    if (!hugetlb) { skip("no hugetlb controller with 2MB pages"); skip("no hugetlb"); return; }
    struct hull_hugepage_limit hl = { "2MB", 4 << 20 };
    struct hull_resources r = tcg_res();
    r.hugepage_limits = &hl;
    r.n_hugepage_limits = 1;
    struct hull_cgroup *cg = make("huge", &r);
    ok(cg != NULL, "create with hugepageLimits 2MB=4MiB");
    bool v1 = cg && cg_owner(cg, "hugetlb")->kind == CG_V1;
    char *v = cg ? readf(hull_cgroup_path(cg, "hugetlb"), v1 ? "hugetlb.2MB.limit_in_bytes" : "hugetlb.2MB.max") : NULL;
    is_str(v, "4194304", "hugetlb limit written (%s)", v1 ? "v1" : "cgroup2");
    free(v);
    if (cg && cg_v2_dir(cg) && !v1) {
        struct hull_kv kv = { "hugetlb.2MB.max", "8388608" };
        struct hull_resources u = tcg_res();
        u.unified = &kv;
        u.n_unified = 1;
        int rc = hull_cgroup_update(cg, &u, &err);
        v = readf(hull_cgroup_path(cg, ""), "hugetlb.2MB.max");
        ok(rc == 0 && v && strcmp(v, "8388608") == 0, "unified key written: %s", rc ? err.msg : v);
        free(v);
    } else {
        skip("hugetlb is not on cgroup2 here");
    }
    drop(cg);
}

static void test_conversions(void) {
    is_int(cg_shares_to_weight(1024), 39, "shares 1024 -> weight 39");
    is_int(cg_shares_to_weight(2), 1, "shares 2 -> weight 1");
    is_int(cg_shares_to_weight(262144), 10000, "shares 262144 -> weight 10000");
    is_int(cg_blkio_to_io_weight(500), 4950, "blkio 500 -> io 4950");
    struct hull_device_rule bad = { .allow = true, .type = 'x' };
    void *ins = NULL;
    size_t n = 0;
    struct hull_err err;
    ok(cg_bpf_devices_build(&bad, 1, &ins, &n, &err) < 0, "BPF generator refuses type 'x'");
    struct hull_device_rule none = { .allow = false, .type = 'a', .major = -1, .minor = -1 };
    int rc = cg_bpf_devices_build(&none, 1, &ins, &n, &err);
    ok(rc == 0 && n == 8, "deny-all program has %zu insns", n);
    free(ins);
}

static void test_missing_controller(void) {
    struct hull_err err;
    struct hull_net_priority pr = { "eth0", 5 };
    struct hull_resources r = tcg_res();
    r.network.present = true;
    r.network.priorities = &pr;
    r.network.n_priorities = 1;
    char rel[128];
    snprintf(rel, sizeof rel, "%s/net", tcg_base);
    struct hull_cgroup *cg = NULL;
    hull_cgroup_open(rel, "net", &cg, &err);
    if (cg && cg_owner(cg, "net_prio")) { skip("net_prio is mounted here"); hull_cgroup_free(cg); return; }
    int rc = cg ? hull_cgroup_create(cg, &r, &err) : -1;
    ok(rc < 0 && !tcg_exists_anywhere(tcg_base), "network priorities without net_prio: clear error, nothing created: %s",
       err.msg);
    hull_cgroup_free(cg);
}

int main(void) {
    tcg_init();
    test_conversions();
    test_memory();
    test_pids();
    test_cpu();
    test_devices();
    test_v2_extras();
    test_missing_controller();
    tcg_cleanup();
    ok(!tcg_exists_anywhere(tcg_base), "no test cgroup left behind");
    return done_testing();
}
