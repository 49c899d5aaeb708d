/* Verbs over a container's cgroup, flag for flag as runc: pause, resume,
 * update, events. */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cgroups/cgroup.h"
#include "cli/cli.h"
#include "lifecycle/container.h"

int verb_pause(int argc, char **argv) {
    if (argc != 2) return cli_usage_error("pause", "expects exactly one container id");
    struct hull_err err = {0};
    if (hull_container_pause(g_opts.root, cli_resolve_id(argv[1]), true, &err) < 0) return cli_fail(&err);
    return 0;
}

int verb_resume(int argc, char **argv) {
    if (argc != 2) return cli_usage_error("resume", "expects exactly one container id");
    struct hull_err err = {0};
    if (hull_container_pause(g_opts.root, cli_resolve_id(argv[1]), false, &err) < 0) return cli_fail(&err);
    return 0;
}

/* "64m", "1g", "512k", "1048576": bytes, as runc/docker accept them. -1 is
 * "unlimited" where the field allows it. */
static bool parse_bytes(const char *s, int64_t *out) {
    if (strcmp(s, "-1") == 0) { *out = -1; return true; }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0) return false;
    double mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1024.0; end++; break;
    case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    }
    if (*end == 'b' || *end == 'B') end++;
    if (*end) return false;
    v *= mul;
    if (v > 9.2e18) return false;
    *out = (int64_t)v;
    return true;
}

static bool parse_i64(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno) return false;
    *out = v;
    return true;
}

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) { cap *= 2; buf = realloc(buf, cap); }
        if (n > (16u << 20)) { free(buf); return NULL; }
    }
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

int verb_update(int argc, char **argv) {
    enum { O_RES = 'r', O_BLKIO = 256, O_PERIOD, O_QUOTA, O_SHARES, O_RTPERIOD, O_RTRUNTIME, O_CPUS, O_MEMS,
           O_KMEM, O_KMEMTCP, O_MEM, O_MEMRES, O_SWAP, O_PIDS, O_L3, O_MEMBW };
    static const struct option opts[] = {
        {"resources", required_argument, NULL, O_RES}, {"blkio-weight", required_argument, NULL, O_BLKIO},
        {"cpu-period", required_argument, NULL, O_PERIOD}, {"cpu-quota", required_argument, NULL, O_QUOTA},
        {"cpu-share", required_argument, NULL, O_SHARES}, {"cpu-rt-period", required_argument, NULL, O_RTPERIOD},
        {"cpu-rt-runtime", required_argument, NULL, O_RTRUNTIME}, {"cpuset-cpus", required_argument, NULL, O_CPUS},
        {"cpuset-mems", required_argument, NULL, O_MEMS}, {"kernel-memory", required_argument, NULL, O_KMEM},
        {"kernel-memory-tcp", required_argument, NULL, O_KMEMTCP}, {"memory", required_argument, NULL, O_MEM},
        {"memory-reservation", required_argument, NULL, O_MEMRES}, {"memory-swap", required_argument, NULL, O_SWAP},
        {"pids-limit", required_argument, NULL, O_PIDS}, {"l3-cache-schema", required_argument, NULL, O_L3},
        {"mem-bw-schema", required_argument, NULL, O_MEMBW}, {0},
    };
    struct hull_err err = {0};
    struct hull_spec *owner = NULL;
    struct hull_resources flags = {0};
    const char *res_file = NULL;
    int c, rc = 1;
    int64_t v;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+r:", opts, NULL)) != -1) {
        bool okv = true;
        switch (c) {
        case O_RES: res_file = optarg; break;
        case O_BLKIO: okv = parse_i64(optarg, &v) && v >= 0 && v <= 1000;
            flags.block_io.present = true; flags.block_io.weight = (hull_opt_u64){true, (uint64_t)v}; break;
        case O_PERIOD: okv = parse_i64(optarg, &v) && v >= 0;
            flags.cpu.present = true; flags.cpu.period = (hull_opt_u64){true, (uint64_t)v}; break;
        case O_QUOTA: okv = parse_i64(optarg, &v);
            flags.cpu.present = true; flags.cpu.quota = (hull_opt_i64){true, v}; break;
        case O_SHARES: okv = parse_i64(optarg, &v) && v >= 0;
            flags.cpu.present = true; flags.cpu.shares = (hull_opt_u64){true, (uint64_t)v}; break;
        case O_RTPERIOD: okv = parse_i64(optarg, &v) && v >= 0;
            flags.cpu.present = true; flags.cpu.realtime_period = (hull_opt_u64){true, (uint64_t)v}; break;
        case O_RTRUNTIME: okv = parse_i64(optarg, &v);
            flags.cpu.present = true; flags.cpu.realtime_runtime = (hull_opt_i64){true, v}; break;
        case O_CPUS: flags.cpu.present = true; flags.cpu.cpus = optarg; break;
        case O_MEMS: flags.cpu.present = true; flags.cpu.mems = optarg; break;
        case O_KMEM: okv = parse_bytes(optarg, &v);
            flags.memory.present = true; flags.memory.kernel = (hull_opt_i64){true, v}; break;
        case O_KMEMTCP: okv = parse_bytes(optarg, &v);
            flags.memory.present = true; flags.memory.kernel_tcp = (hull_opt_i64){true, v}; break;
        case O_MEM: okv = parse_bytes(optarg, &v);
            flags.memory.present = true; flags.memory.limit = (hull_opt_i64){true, v}; break;
        case O_MEMRES: okv = parse_bytes(optarg, &v);
            flags.memory.present = true; flags.memory.reservation = (hull_opt_i64){true, v}; break;
        case O_SWAP: okv = parse_bytes(optarg, &v);
            flags.memory.present = true; flags.memory.swap = (hull_opt_i64){true, v}; break;
        case O_PIDS: okv = parse_i64(optarg, &v);
            flags.pids.present = true; flags.pids.limit = (hull_opt_i64){true, v}; break;
        case O_L3: case O_MEMBW:
            hull_err_set(&err, ENOTSUP, "update: %s: Intel RDT is not supported", argv[optind - 1]);
            return cli_fail(&err);
        default:
            return cli_usage_error("update", "unknown option \"%s\"", argv[optind - 1]);
        }
        if (!okv) return cli_usage_error("update", "invalid value \"%s\"", optarg);
    }
    if (optind != argc - 1) return cli_usage_error("update", "expects exactly one container id");
    const char *id = cli_resolve_id(argv[optind]);
    const struct hull_resources *res = &flags;
    if (res_file) {
        FILE *f = strcmp(res_file, "-") == 0 ? stdin : fopen(res_file, "re");
        if (!f) { hull_err_sys(&err, "update: --resources %s", res_file); return cli_fail(&err); }
        size_t len;
        char *text = read_all(f, &len);
        if (f != stdin) fclose(f);
        if (!text) { hull_err_set(&err, EFBIG, "update: --resources %s: unreadable or too large", res_file); return cli_fail(&err); }
        int r = hull_resources_parse(text, len, &owner, &err);
        free(text);
        if (r < 0) return cli_fail(&err);
        res = &owner->linux.resources;
    }
    if (hull_container_update(g_opts.root, id, res, &err) < 0) rc = cli_fail(&err);
    else rc = 0;
    hull_spec_free(owner);
    return rc;
}

/* ---- events ---------------------------------------------------------- */

#include "base/json_gen.h"


/* runc's event shape: {"type":"stats","id":...,"data":{cpu,memory,pids,blkio,hugetlb}} */
static void emit_stats(const char *id, const struct hull_cgroup_stats *s) {
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    jg_kstr(g, "type", "stats");
    jg_kstr(g, "id", id);
    jg_str(g, "data");
    yajl_gen_map_open(g);
    jg_str(g, "cpu");
    yajl_gen_map_open(g);
    jg_str(g, "usage");
    yajl_gen_map_open(g);
    jg_kint(g, "total", s->cpu.usage_ns);
    jg_kint(g, "kernel", s->cpu.system_ns);
    jg_kint(g, "user", s->cpu.user_ns);
    yajl_gen_map_close(g);
    jg_str(g, "throttling");
    yajl_gen_map_open(g);
    jg_kint(g, "periods", s->cpu.nr_periods);
    jg_kint(g, "throttledPeriods", s->cpu.nr_throttled);
    jg_kint(g, "throttledTime", s->cpu.throttled_ns);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    jg_str(g, "memory");
    yajl_gen_map_open(g);
    jg_kint(g, "cache", s->memory.cache);
    jg_str(g, "usage");
    yajl_gen_map_open(g);
    jg_kint(g, "limit", s->memory.limit);
    jg_kint(g, "usage", s->memory.usage);
    jg_kint(g, "max", s->memory.max_usage);
    jg_kint(g, "failcnt", s->memory.failcnt);
    yajl_gen_map_close(g);
    jg_str(g, "swap");
    yajl_gen_map_open(g);
    jg_kint(g, "limit", s->memory.swap_limit);
    jg_kint(g, "usage", s->memory.swap_usage);
    yajl_gen_map_close(g);
    jg_str(g, "raw");
    yajl_gen_map_open(g);
    jg_kint(g, "oom_kill", s->memory.oom_kill);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    jg_str(g, "pids");
    yajl_gen_map_open(g);
    jg_kint(g, "current", s->pids.current);
    jg_kint(g, "limit", s->pids.limit);
    yajl_gen_map_close(g);
    jg_str(g, "blkio");
    yajl_gen_map_open(g);
    yajl_gen_map_close(g);
    jg_str(g, "hugetlb");
    yajl_gen_map_open(g);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    cli_print_json(g);
}

static void emit_oom(const char *id) {
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    jg_kstr(g, "type", "oom");
    jg_kstr(g, "id", id);
    yajl_gen_map_close(g);
    cli_print_json(g);
}

static bool parse_interval_ms(const char *s, long *ms) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0) return false;
    if (strcmp(end, "ms") == 0) *ms = (long)v;
    else if (strcmp(end, "s") == 0 || *end == '\0') *ms = (long)(v * 1000);
    else if (strcmp(end, "m") == 0) *ms = (long)(v * 60000);
    else return false;
    return *ms > 0;
}

static long long mono_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

int verb_events(int argc, char **argv) {
    static const struct option opts[] = {{"stats", no_argument, NULL, 's'}, {"interval", required_argument, NULL, 'i'}, {0}};
    bool once = false;
    long interval = 5000;
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
        if (c == 's') once = true;
        else if (c == 'i') {
            if (!parse_interval_ms(optarg, &interval)) return cli_usage_error("events", "--interval: bad duration \"%s\"", optarg);
        } else return cli_usage_error("events", "unknown option \"%s\"", argv[optind - 1]);
    }
    if (optind != argc - 1) return cli_usage_error("events", "expects exactly one container id");
    const char *id = cli_resolve_id(argv[optind]);
    struct hull_err err = {0};
    struct hull_cgroup_stats s;
    enum hull_status status;
    if (hull_container_stats(g_opts.root, id, &s, &status, &err) < 0) return cli_fail(&err);
    if (status == HULL_STOPPED) {
        hull_err_set(&err, EINVAL, "events: container \"%s\" is not running", id);
        return cli_fail(&err);
    }
    if (once) {
        emit_stats(id, &s);
        return 0;
    }
    /* Stream: OOM kills as they happen (polled every 100 ms), stats every
     * interval, until the container stops. */
    uint64_t ooms = s.memory.oom_kill;
    long long next = mono_ms();
    for (;;) {
        if (mono_ms() >= next) {
            emit_stats(id, &s);
            next = mono_ms() + interval;
        }
        poll(NULL, 0, 100);
        if (hull_container_stats(g_opts.root, id, &s, &status, &err) < 0) {
            if (err.code == ENOENT) return 0;   /* deleted meanwhile */
            return cli_fail(&err);
        }
        for (; ooms < s.memory.oom_kill; ooms++) emit_oom(id);
        if (status == HULL_STOPPED) return 0;
    }
}
