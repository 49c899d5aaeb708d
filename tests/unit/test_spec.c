/* config.json parser, validator and default spec. Run from the repo root
 * (fixtures under tests/unit/data/spec/). */
#include "runtime/spec.h"
#include "tap.h"

#include <dirent.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <unistd.h>

#define DATA "tests/unit/data/spec"

/* A minimal valid document; cases append fields after it. */
#define HEAD "\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}"
#define PROC "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}"
#define DOC(...) "{" HEAD "," PROC __VA_OPT__(",") __VA_ARGS__ "}"

static struct hull_err err;

static int parse(const char *json, struct hull_spec **s) {
    hull_err_clear(&err);
    return hull_spec_parse(json, strlen(json), s, &err);
}

/* Parse must fail with a message containing `needle`. */
static void parse_fails(const char *json, const char *needle, const char *what) {
    struct hull_spec *s = (void *)1;
    int r = parse(json, &s);
    ok(r < 0 && s == NULL, "parse rejects: %s", what);
    like(err.msg, needle, "  message names it: %s", needle);
    if (r == 0) hull_spec_free(s);
}

/* Parse succeeds; validation fails with `needle`. */
static void invalid(const char *json, const char *needle, const char *what) {
    struct hull_spec *s = NULL;
    int r = parse(json, &s);
    if (r < 0) {
        ok(0, "parse ok before validating: %s (%s)", what, err.msg);
        skip("not validated");
        return;
    }
    hull_err_clear(&err);
    r = hull_spec_validate(s, &err);
    ok(r < 0, "validate rejects: %s", what);
    like(err.msg, needle, "  message names it: %s", needle);
    hull_spec_free(s);
}

/* Parse and validate both succeed. */
static void valid(const char *json, const char *what) {
    struct hull_spec *s = NULL;
    int r = parse(json, &s);
    if (r == 0) {
        r = hull_spec_validate(s, &err);
        hull_spec_free(s);
    }
    ok(r == 0, "accepted: %s", what);
    if (r) diag("%s", err.msg);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

#define CAPBIT(c) (UINT64_C(1) << (c))

static void test_full(void) {
    struct hull_spec *s = NULL;
    hull_err_clear(&err);
    int r = hull_spec_load(DATA "/full", &s, &err);
    ok(r == 0, "full config loads");
    if (r) { diag("%s", err.msg); return; }
    r = hull_spec_validate(s, &err);
    ok(r == 0, "full config validates");
    if (r) diag("%s", err.msg);

    is_str(s->oci_version, "1.3.0", "ociVersion");
    is_str(s->root_path, "rootfs", "root.path");
    ok(s->root_readonly, "root.readonly");
    ok(s->has_process, "has process");
    const struct hull_process *p = &s->process;
    ok(p->terminal, "terminal");
    ok(p->has_console_size && p->console_height == 24 && p->console_width == 80, "consoleSize");
    is_int(p->user.uid, 1000, "uid");
    is_int(p->user.gid, 1001, "gid");
    ok(p->user.umask.set && p->user.umask.v == 18, "umask");
    ok(p->user.n_additional_gids == 2 && p->user.additional_gids[0] == 5 &&
       p->user.additional_gids[1] == 4294967295u, "additionalGids incl. UINT32_MAX");
    is_str(p->user.username, "bob", "username");
    is_int(p->n_args, 3, "3 args");
    is_str(p->args[2], "echo \"hi\" \xc3\xa9", "escapes and unicode decoded");
    ok(p->args[3] == NULL, "args NULL-terminated");
    is_str(p->command_line, "cmd.exe /c", "commandLine");
    is_int(p->n_env, 3, "env count");
    ok(p->env[3] == NULL, "env NULL-terminated");
    is_str(p->env[2], "EMPTY=", "env value");
    is_str(p->cwd, "/work", "cwd");
    ok(p->caps.present, "caps present");
    ok(p->caps.bounding == (CAPBIT(CAP_AUDIT_WRITE) | CAPBIT(CAP_KILL) | CAPBIT(CAP_NET_BIND_SERVICE) |
                            CAPBIT(CAP_SYS_ADMIN)), "bounding mask");
    ok(p->caps.effective == CAPBIT(CAP_KILL), "effective mask");
    ok(p->caps.inheritable == 0, "inheritable empty");
    ok(p->caps.permitted == (CAPBIT(CAP_KILL) | CAPBIT(CAP_CHOWN)), "permitted mask");
    ok(p->caps.ambient == CAPBIT(CAP_CHOWN), "ambient mask");
    is_int(p->n_rlimits, 2, "rlimits");
    is_str(p->rlimits[0].type, "RLIMIT_NOFILE", "rlimit type");
    is_int(p->rlimits[0].resource, RLIMIT_NOFILE, "rlimit resolved");
    ok(p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 4096, "rlimit values");
    ok(p->rlimits[1].soft == UINT64_MAX && p->rlimits[1].hard == UINT64_MAX, "rlimit UINT64_MAX");
    is_int(p->rlimits[1].resource, RLIMIT_CORE, "RLIMIT_CORE");
    ok(p->no_new_privileges, "noNewPrivileges");
    is_str(p->apparmor_profile, "hull-default", "apparmorProfile");
    ok(p->oom_score_adj.set && p->oom_score_adj.v == -500, "oomScoreAdj");
    is_str(p->selinux_label, "system_u:system_r:container_t:s0", "selinuxLabel");
    ok(p->scheduler.present, "scheduler present");
    is_int(p->scheduler.policy, 6, "SCHED_DEADLINE");
    is_int(p->scheduler.nice, -5, "nice");
    is_int(p->scheduler.flags, 0x3, "sched flags");
    ok(p->scheduler.runtime == 10000000 && p->scheduler.deadline == 20000000 &&
       p->scheduler.period == 30000000, "deadline params");
    ok(p->io_priority.present && p->io_priority.klass == IOPRIO_CLASS_BE && p->io_priority.priority == 4,
       "ioPriority");
    is_str(p->exec_cpu_affinity_initial, "0-1", "execCPUAffinity.initial");
    is_str(p->exec_cpu_affinity_final, "1", "execCPUAffinity.final");

    is_str(s->hostname, "box", "hostname");
    is_str(s->domainname, "example.org", "domainname");
    is_int(s->n_mounts, 2, "mounts");
    is_str(s->mounts[0].destination, "/proc", "mount dest");
    is_str(s->mounts[0].type, "proc", "mount type");
    ok(s->mounts[1].type == NULL, "mount type absent -> NULL");
    is_str(s->mounts[1].source, "/srv/data", "mount source");
    ok(s->mounts[1].n_options == 2 && !strcmp(s->mounts[1].options[1], "ro") && !s->mounts[1].options[2],
       "mount options");
    ok(s->mounts[1].n_uid_mappings == 1 && s->mounts[1].uid_mappings[0].host_id == 100000 &&
       s->mounts[1].uid_mappings[0].size == 65536, "mount uidMappings");
    ok(s->mounts[1].n_gid_mappings == 1 && s->mounts[1].gid_mappings[0].host_id == 200000, "mount gidMappings");

    const struct hull_hooks *h = &s->hooks;
    ok(h->n[HULL_HOOK_PRESTART] == 1 && !strcmp(h->list[HULL_HOOK_PRESTART][0].path, "/usr/bin/pre"), "prestart");
    ok(h->list[HULL_HOOK_PRESTART][0].n_args == 2 && h->list[HULL_HOOK_PRESTART][0].n_env == 1 &&
       h->list[HULL_HOOK_PRESTART][0].timeout.set && h->list[HULL_HOOK_PRESTART][0].timeout.v == 5, "hook fields");
    ok(h->n[HULL_HOOK_CREATE_RUNTIME] == 2 && !strcmp(h->list[HULL_HOOK_CREATE_RUNTIME][1].path, "/bin/cr2"),
       "createRuntime");
    ok(h->n[HULL_HOOK_CREATE_CONTAINER] == 1 && h->n[HULL_HOOK_START_CONTAINER] == 1 &&
       h->n[HULL_HOOK_POSTSTART] == 1 && h->n[HULL_HOOK_POSTSTOP] == 1, "all six hook kinds");
    ok(!h->list[HULL_HOOK_POSTSTART][0].timeout.set, "absent timeout unset");

    is_int(s->n_annotations, 3, "annotations (duplicate key collapsed)");
    is_str(hull_spec_annotation(s, "org.example.b"), "3", "duplicate annotation: last wins");
    is_str(hull_spec_annotation(s, "run.oci.handler"), "vm", "annotation lookup");
    ok(hull_spec_annotation(s, "nope") == NULL, "missing annotation -> NULL");

    const struct hull_linux *l = &s->linux;
    ok(l->present, "linux present");
    ok(l->n_uid_mappings == 1 && l->uid_mappings[0].host_id == 1000 && l->n_gid_mappings == 1, "linux idmaps");
    is_int(l->n_sysctl, 2, "sysctl");
    is_str(l->sysctl[1].key, "net.ipv4.ip_forward", "sysctl sorted by key");
    is_str(l->sysctl[1].value, "1", "sysctl value");
    const struct hull_resources *rs = &l->resources;
    ok(rs->present, "resources present");
    is_int(rs->n_devices, 3, "device rules");
    ok(!rs->devices[0].allow && rs->devices[0].type == 'a' && rs->devices[0].major == -1 &&
       rs->devices[0].minor == -1 && !strcmp(rs->devices[0].access, "rwm"), "deny-all rule defaults");
    ok(rs->devices[1].allow && rs->devices[1].type == 'c' && rs->devices[1].major == 1 &&
       rs->devices[1].minor == 3, "char rule");
    ok(rs->devices[2].minor == -1, "absent minor is wildcard");
    ok(rs->memory.present && rs->memory.limit.set && rs->memory.limit.v == 536870912, "memory.limit");
    ok(rs->memory.swap.set && rs->memory.swap.v == -1, "memory.swap -1");
    ok(rs->memory.kernel.set && rs->memory.kernel.v == 0, "memory.kernel 0 is set");
    ok(rs->memory.kernel_tcp.v == 1024 && rs->memory.reservation.v == 268435456, "kernelTCP/reservation");
    ok(rs->memory.swappiness.set && rs->memory.swappiness.v == 60, "swappiness");
    ok(rs->memory.disable_oom_killer.set && rs->memory.disable_oom_killer.v, "disableOOMKiller");
    ok(rs->memory.use_hierarchy.set && !rs->memory.use_hierarchy.v, "useHierarchy false but set");
    ok(rs->memory.check_before_update.v, "checkBeforeUpdate");
    ok(rs->cpu.present && rs->cpu.shares.v == 1024 && rs->cpu.quota.v == 50000 && rs->cpu.burst.v == 1000 &&
       rs->cpu.period.v == 100000 && rs->cpu.realtime_runtime.v == 950000 &&
       rs->cpu.realtime_period.v == 1000000 && rs->cpu.idle.v == 1, "cpu numbers");
    ok(!strcmp(rs->cpu.cpus, "0-1") && !strcmp(rs->cpu.mems, "0"), "cpu sets");
    ok(rs->pids.present && rs->pids.limit.v == 100, "pids");
    ok(rs->block_io.present && rs->block_io.weight.v == 500 && rs->block_io.leaf_weight.v == 300, "blkio weight");
    ok(rs->block_io.n_weight_device == 1 && rs->block_io.weight_device[0].major == 8 &&
       rs->block_io.weight_device[0].weight.v == 600 && rs->block_io.weight_device[0].leaf_weight.v == 200,
       "weightDevice");
    ok(rs->block_io.n_throttle_read_bps == 1 && rs->block_io.throttle_read_bps[0].rate == 1048576 &&
       rs->block_io.n_throttle_write_bps == 1 && rs->block_io.throttle_write_bps[0].minor == 16 &&
       rs->block_io.n_throttle_read_iops == 1 && rs->block_io.throttle_read_iops[0].rate == 100 &&
       rs->block_io.n_throttle_write_iops == 1 && rs->block_io.throttle_write_iops[0].rate == 200,
       "throttle devices");
    ok(rs->n_hugepage_limits == 1 && !strcmp(rs->hugepage_limits[0].page_size, "2MB") &&
       rs->hugepage_limits[0].limit == 209715200, "hugepageLimits");
    ok(rs->network.present && rs->network.class_id.v == 1048577 && rs->network.n_priorities == 1 &&
       !strcmp(rs->network.priorities[0].name, "eth0") && rs->network.priorities[0].priority == 500,
       "network");
    ok(rs->n_rdma == 1 && !strcmp(rs->rdma[0].device, "mlx5_1") && rs->rdma[0].hca_handles.v == 3 &&
       rs->rdma[0].hca_objects.v == 10000, "rdma");
    ok(rs->n_unified == 2 && !strcmp(rs->unified[0].key, "io.weight") &&
       !strcmp(rs->unified[0].value, "default 100"), "unified");
    is_str(l->cgroups_path, "/hull/test", "cgroupsPath");
    is_int(l->n_namespaces, 8, "namespaces");
    ok(l->namespaces[0].type == HULL_NS_PID && l->namespaces[0].path == NULL, "pid ns new");
    ok(l->namespaces[1].type == HULL_NS_NETWORK && !strcmp(l->namespaces[1].path, "/var/run/netns/n1"),
       "net ns joined");
    ok(l->namespaces[7].type == HULL_NS_TIME, "time ns");
    ok(hull_spec_namespace(s, HULL_NS_USER) == &l->namespaces[5], "namespace lookup");
    is_int(l->n_devices, 2, "devices");
    ok(l->devices[0].type == 'c' && l->devices[0].major == 10 && l->devices[0].minor == 229 &&
       l->devices[0].file_mode.v == 438 && l->devices[0].uid.set && l->devices[0].gid.set, "device fields");
    ok(!l->devices[1].file_mode.set && !l->devices[1].uid.set, "device optional fields unset");
    const struct hull_seccomp *sc = &l->seccomp;
    ok(sc->present && sc->default_action == HULL_SCMP_ERRNO && sc->default_errno_ret.set &&
       sc->default_errno_ret.v == 1, "seccomp default");
    ok(sc->n_architectures == 2 && !strcmp(sc->architectures[1], "SCMP_ARCH_X86"), "architectures");
    ok(sc->n_flags == 1 && !strcmp(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG"), "seccomp flags");
    is_str(sc->listener_path, "/run/seccomp.sock", "listenerPath");
    is_str(sc->listener_metadata, "meta", "listenerMetadata");
    is_int(sc->n_syscalls, 3, "syscall rules");
    ok(sc->syscalls[0].n_names == 2 && sc->syscalls[0].action == HULL_SCMP_ALLOW, "rule 0");
    ok(sc->syscalls[1].errno_ret.v == 1 && sc->syscalls[1].n_args == 2, "rule 1");
    ok(sc->syscalls[1].args[0].index == 1 && sc->syscalls[1].args[0].value == UINT64_MAX &&
       sc->syscalls[1].args[0].value_two == 2 && sc->syscalls[1].args[0].op == HULL_SCMP_CMP_MASKED_EQ,
       "seccomp arg with UINT64_MAX value");
    ok(sc->syscalls[1].args[1].op == HULL_SCMP_CMP_NE, "op NE");
    ok(sc->syscalls[2].action == HULL_SCMP_NOTIFY, "notify action");
    is_str(l->rootfs_propagation, "rslave", "rootfsPropagation");
    ok(l->n_masked_paths == 2 && l->n_readonly_paths == 1, "masked/readonly paths");
    is_str(l->mount_label, "system_u:object_r:container_file_t:s0", "mountLabel");
    ok(l->time_boottime.present && l->time_boottime.secs == -100 && l->time_boottime.nanosecs == 5,
       "timeOffsets.boottime");
    ok(l->time_monotonic.present && l->time_monotonic.secs == 3600, "timeOffsets.monotonic");
    ok(l->personality.present && !strcmp(l->personality.domain, "LINUX32") && l->personality.n_flags == 0,
       "personality");
    ok(l->has_intel_rdt && l->has_net_devices, "intelRdt / netDevices presence");
    hull_spec_free(s);
}

static void test_minimal_and_root(void) {
    struct hull_spec *s = NULL;
    ok(parse(DOC(), &s) == 0, "minimal document parses");
    if (s) {
        ok(!s->linux.present && !s->process.caps.present && !s->process.oom_score_adj.set &&
           s->process.scheduler.policy == HULL_SCHED_UNSET && s->n_mounts == 0,
           "absent sections read as absent");
        ok(hull_spec_validate(s, &err) == 0, "minimal document validates");
        hull_spec_free(s);
    }
    valid("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\".\"}," PROC "}", "root.path \".\"");
    valid("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"../x/rootfs\"}," PROC "}", "relative root.path");
    valid("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"/abs/rootfs\"}," PROC "}", "absolute root.path");
    invalid("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"\"}," PROC "}", "root.path", "empty root.path");
    invalid("{\"ociVersion\":\"1.0.0\"," PROC "}", "root.path", "missing root");
    invalid("{\"ociVersion\":\"1.0.0\",\"root\":{}," PROC "}", "root.path", "missing root.path");
    invalid("{" HEAD "}", "process: required field missing", "missing process");
    valid("{" HEAD ",\"unknown\":{\"x\":[1,2,3]}," PROC ",\"zzz\":null}", "unknown fields ignored");
    valid(DOC("\"hostname\":null"), "null reads as absent");
    valid("// comment\n" DOC(), "yajl comments");
}

static void test_versions(void) {
    const char *good[] = { "1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.0.1+build" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "{\"ociVersion\":\"%s\",\"root\":{\"path\":\"r\"}," PROC "}", good[i]);
        valid(buf, good[i]);
    }
    const char *bad[] = { "2.0.0", "abc", "0.9.9", "1.0", "1", "1.0.0-rc5", "", " 1.0.0", "1.0.0x", "01.a.0" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "{\"ociVersion\":\"%s\",\"root\":{\"path\":\"r\"}," PROC "}", bad[i]);
        invalid(buf, "ociVersion", bad[i]);
    }
    invalid("{\"root\":{\"path\":\"r\"}," PROC "}", "ociVersion: required field missing", "missing ociVersion");
    parse_fails("{\"ociVersion\":1}", "config.json: ociVersion: expected a string", "numeric ociVersion");
}

static void test_malformed(void) {
    parse_fails("", "config.json: invalid JSON", "empty input");
    parse_fails("{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"sh\"", "premature EOF", "truncated JSON");
    parse_fails("{\"a\": tru}", "invalid JSON", "bad literal");
    parse_fails("{} {}", "trailing garbage", "trailing garbage");
    parse_fails("[1,2]", "expected a JSON object at the top level", "top-level array");
    parse_fails("\"str\"", "top level", "top-level string");
    parse_fails("{\"a\":\"\xff\"}", "invalid JSON", "invalid UTF-8");
    ok(strchr(err.msg, '\n') == NULL, "yajl error condensed to one line");
    struct hull_spec *s = (void *)1;
    const char nul[] = "{\"ociVersion\":\"1.0.0\"\0}";
    ok(hull_spec_parse(nul, sizeof nul - 1, &s, &err) < 0 && s == NULL, "raw NUL byte rejected");
    like(err.msg, "NUL byte", "  message says NUL byte");
    ok(hull_spec_parse(NULL, 0, &s, &err) < 0, "NULL input rejected");
    /* length is honoured: text past len is not read */
    const char *two = DOC() "garbage";
    ok(hull_spec_parse(two, strlen(two) - 7, &s, &err) == 0, "len bounds the input");
    if (s && s != (void *)1) hull_spec_free(s);
}

static void test_types(void) {
    parse_fails("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"uts\"},{\"type\":5}]}}",
                "config.json: linux.namespaces[2].type: expected a string", "namespace type not a string");
    parse_fails("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"foo\"}]}}",
                "config.json: linux.namespaces[1].type: unknown namespace type \"foo\"", "unknown namespace");
    parse_fails("{\"linux\":{\"namespaces\":[{}]}}", "linux.namespaces[0].type: required field missing",
                "namespace without type");
    parse_fails("{\"linux\":{\"namespaces\":{}}}", "linux.namespaces: expected an array, got an object",
                "namespaces not an array");
    parse_fails("{\"linux\":{\"namespaces\":[\"pid\"]}}", "linux.namespaces[0]: expected an object",
                "namespace entry not an object");
    parse_fails("{\"process\":{\"args\":\"sh\"}}", "process.args: expected an array", "args as string");
    parse_fails("{\"process\":{\"args\":[\"sh\",1]}}", "process.args[1]: expected a string, got a number",
                "args element number");
    parse_fails("{\"process\":{\"terminal\":\"yes\"}}", "process.terminal: expected a boolean", "terminal string");
    parse_fails("{\"process\":[]}", "process: expected an object, got an array", "process array");
    parse_fails("{\"root\":{\"path\":true}}", "root.path: expected a string, got a boolean", "root.path bool");
    parse_fails("{\"root\":{\"readonly\":1}}", "root.readonly: expected a boolean", "readonly number");
    parse_fails("{\"mounts\":[{\"type\":\"proc\"}]}", "mounts[0].destination: required field missing",
                "mount without destination");
    parse_fails("{\"mounts\":[{\"destination\":\"/x\",\"options\":[\"ro\",{}]}]}",
                "mounts[0].options[1]: expected a string", "mount option object");
    parse_fails("{\"hooks\":{\"poststop\":[{\"args\":[]}]}}", "hooks.poststop[0].path: required field missing",
                "hook without path");
    parse_fails("{\"hooks\":{\"prestart\":{}}}", "hooks.prestart: expected an array", "hooks kind not array");
    parse_fails("{\"annotations\":{\"a\":1}}", "annotations.a: expected a string", "annotation number");
    parse_fails("{\"annotations\":[]}", "annotations: expected an object", "annotations array");
    parse_fails("{\"linux\":{\"sysctl\":{\"k\":true}}}", "linux.sysctl.k: expected a string", "sysctl value bool");
    parse_fails("{\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1G\"}}}}",
                "linux.resources.memory.limit: expected an integer, got a string", "memory.limit string");
    parse_fails("{\"linux\":{\"resources\":{\"devices\":[{\"access\":\"rwm\"}]}}}",
                "linux.resources.devices[0].allow: required field missing", "device rule without allow");
    parse_fails("{\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"char\"}]}}}",
                "linux.resources.devices[0].type", "device rule long type");
    parse_fails("{\"linux\":{\"devices\":[{\"path\":\"/dev/x\"}]}}", "linux.devices[0].type: required field missing",
                "device without type");
    parse_fails("{\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"cb\"}]}}", "linux.devices[0].type",
                "device type two chars");
    parse_fails("{\"linux\":{\"seccomp\":{}}}", "linux.seccomp.defaultAction: required field missing",
                "seccomp without defaultAction");
    parse_fails("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOPE\"}}}",
                "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_NOPE\"", "bad seccomp action");
    parse_fails("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]}}}",
                "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator", "bad seccomp op");
    parse_fails("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}}}",
                "linux.seccomp.syscalls[0].args[0].value: required field missing", "seccomp arg without value");
    parse_fails("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\"}]}}}",
                "linux.seccomp.syscalls[0].names: required field missing", "seccomp rule without names");
    parse_fails("{\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1}]}}",
                "linux.uidMappings[0].size: required field missing", "idmap without size");
    parse_fails("{\"process\":{\"scheduler\":{\"policy\":\"SCHED_FOO\"}}}",
                "process.scheduler.policy: unknown scheduler policy", "bad scheduler policy");
    parse_fails("{\"process\":{\"scheduler\":{\"nice\":1}}}", "process.scheduler.policy: required field missing",
                "scheduler without policy");
    parse_fails("{\"process\":{\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"flags\":[\"SCHED_FLAG_X\"]}}}",
                "process.scheduler.flags[0]: unknown scheduler flag", "bad scheduler flag");
    parse_fails("{\"process\":{\"ioPriority\":{\"class\":\"IOPRIO_CLASS_X\"}}}",
                "process.ioPriority.class: unknown I/O priority class", "bad io class");
    parse_fails("{\"process\":{\"ioPriority\":{\"class\":\"IOPRIO_CLASS_RT\",\"priority\":8}}}",
                "process.ioPriority.priority: out of range", "io priority 8");
    parse_fails("{\"process\":{\"consoleSize\":{\"height\":1}}}", "process.consoleSize.width: required field missing",
                "consoleSize without width");
    parse_fails("{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1}]}}",
                "process.rlimits[0].hard: required field missing", "rlimit without hard");
    parse_fails("{\"linux\":{\"timeOffsets\":{\"boottime\":{\"secs\":\"1\"}}}}",
                "linux.timeOffsets.boottime.secs: expected an integer", "time offset secs string");
    parse_fails("{\"linux\":{\"personality\":{\"flags\":[]}}}", "linux.personality.domain: required field missing",
                "personality without domain");
    parse_fails("{\"linux\":{\"intelRdt\":true}}", "linux.intelRdt: expected an object", "intelRdt not object");
    parse_fails("{\"linux\":{\"resources\":{\"rdma\":{\"mlx\":{\"hcaHandles\":-1}}}}}",
                "linux.resources.rdma.mlx.hcaHandles: must not be negative", "rdma negative");
    parse_fails("{\"linux\":{\"resources\":{\"unified\":{\"a\":{}}}}}", "linux.resources.unified.a: expected a string",
                "unified value object");
}

static void test_numbers(void) {
    parse_fails("{\"process\":{\"user\":{\"uid\":-1}}}", "process.user.uid: must not be negative", "negative uid");
    parse_fails("{\"process\":{\"user\":{\"uid\":4294967296}}}", "process.user.uid: out of range", "uid > UINT32_MAX");
    parse_fails("{\"process\":{\"user\":{\"gid\":1.5}}}", "process.user.gid: expected an integer, got 1.5",
                "fractional gid");
    parse_fails("{\"process\":{\"user\":{\"gid\":1e3}}}", "expected an integer, got 1e3", "exponent gid");
    parse_fails("{\"process\":{\"user\":{\"gid\":1.0}}}", "expected an integer", "1.0 is not an integer");
    parse_fails("{\"process\":{\"user\":{\"gid\":-0}}}", "must not be negative", "-0 for unsigned");
    parse_fails("{\"process\":{\"user\":{\"additionalGids\":[1,-2]}}}", "process.user.additionalGids[1]: must not be negative",
                "negative additional gid");
    parse_fails("{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":18446744073709551616,\"hard\":1}]}}",
                "process.rlimits[0].soft: number out of range", "u64 overflow");
    parse_fails("{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":99999999999999999999999999,\"hard\":1}]}}",
                "number out of range", "huge integer");
    parse_fails("{\"process\":{\"oomScoreAdj\":1e400}}", "process.oomScoreAdj: expected an integer", "1e400");
    parse_fails("{\"process\":{\"oomScoreAdj\":2147483648}}", "process.oomScoreAdj: out of range", "oomScoreAdj > int32");
    parse_fails("{\"linux\":{\"resources\":{\"memory\":{\"limit\":9223372036854775808}}}}",
                "linux.resources.memory.limit: number out of range", "i64 overflow");
    parse_fails("{\"linux\":{\"resources\":{\"memory\":{\"limit\":-9223372036854775809}}}}",
                "number out of range", "i64 underflow");
    parse_fails("{\"linux\":{\"resources\":{\"cpu\":{\"shares\":-1}}}}", "linux.resources.cpu.shares: must not be negative",
                "negative shares");
    parse_fails("{\"linux\":{\"resources\":{\"blockIO\":{\"weight\":65536}}}}", "linux.resources.blockIO.weight: out of range",
                "blkio weight > u16");
    parse_fails("{\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"major\":-2}]}}}",
                "linux.resources.devices[0].major: out of range", "device rule major -2");
    parse_fails("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}}}",
                "linux.seccomp.defaultErrnoRet: must not be negative", "negative errno");
    parse_fails("{\"hooks\":{\"prestart\":[{\"path\":\"/x\",\"timeout\":0.5}]}}",
                "hooks.prestart[0].timeout: expected an integer", "fractional timeout");

    struct hull_spec *s = NULL;
    ok(parse("{\"linux\":{\"resources\":{\"memory\":{\"limit\":-9223372036854775808,\"swap\":9223372036854775807}}}}",
             &s) == 0, "int64 extremes parse");
    if (s) {
        ok(s->linux.resources.memory.limit.v == INT64_MIN && s->linux.resources.memory.swap.v == INT64_MAX,
           "int64 extremes exact");
        hull_spec_free(s);
    }
}

static void test_caps_rlimits(void) {
    parse_fails("{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_FOO\"]}}}",
                "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\"", "unknown cap");
    parse_fails("{\"process\":{\"capabilities\":{\"effective\":[\"sys_admin\"]}}}", "unknown capability", "cap w/o prefix");
    parse_fails("{\"process\":{\"capabilities\":{\"effective\":[\"cap_sys_admin\"]}}}", "unknown capability", "lower-case cap");
    parse_fails("{\"process\":{\"capabilities\":{\"ambient\":[\"CAP_sys_admin\"]}}}", "unknown capability", "mixed-case cap");
    parse_fails("{\"process\":{\"capabilities\":{\"permitted\":[\"12\"]}}}", "unknown capability", "numeric cap");
    parse_fails("{\"process\":{\"capabilities\":{\"inheritable\":[\"CAP_12\"]}}}", "unknown capability", "CAP_12");
    parse_fails("{\"process\":{\"capabilities\":[]}}", "process.capabilities: expected an object", "caps array");
    is_int(hull_cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN, "hull_cap_from_name");
    is_int(hull_cap_from_name("CAP_CHOWN"), 0, "CAP_CHOWN is 0");
    ok(hull_cap_from_name(NULL) < 0 && hull_cap_from_name("") < 0 && hull_cap_from_name("CAP_") < 0, "bad names");
    is_str(hull_cap_name(CAP_NET_BIND_SERVICE), "CAP_NET_BIND_SERVICE", "hull_cap_name");
    ok(hull_cap_name(-1) == NULL && hull_cap_name(64) == NULL, "hull_cap_name out of range");
    ok(hull_cap_last() >= CAP_AUDIT_READ && hull_cap_last() < 64, "hull_cap_last plausible (%d)", hull_cap_last());

    invalid(DOC("\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}"),
            "process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\"", "unknown rlimit");
    invalid(DOC("\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":1}]}"),
            "process.rlimits[0]: soft limit 2 exceeds hard limit 1", "soft > hard");
    invalid(DOC("\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1},"
                "{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1}]}"),
            "duplicate rlimit", "duplicate rlimit");
    static const struct { const char *n; int v; } rl[] = {
        { "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
        { "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
        { "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
    };
    int good = 1;
    for (size_t i = 0; i < sizeof rl / sizeof rl[0]; i++)
        if (hull_rlimit_from_name(rl[i].n) != rl[i].v) good = 0;
    ok(good, "all 16 rlimit names resolve");
    ok(hull_rlimit_from_name("RLIMIT_nofile") < 0 && hull_rlimit_from_name(NULL) < 0, "bad rlimit names");
}

static void test_semantics(void) {
    invalid(DOC("\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"pid\"}]}"),
            "config.json: linux.namespaces[2]: duplicate namespace type \"pid\"", "duplicate namespace");
    parse_fails(DOC("\"linux\":{\"namespaces\":[{\"type\":\"net\"}]}"), "unknown namespace type \"net\"",
                "proc name is not a spec type");
    invalid(DOC("\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"netns\"}]}"),
            "linux.namespaces[0].path: must be an absolute path", "relative ns path");
    invalid(DOC("\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}"),
            "need a user namespace", "mappings without userns");
    invalid(DOC("\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}"), "needs uid and gid mappings",
            "new userns without mappings");
    invalid(DOC("\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}"),
            "linux.gidMappings", "new userns without gid mappings");
    valid(DOC("\"linux\":{\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}]}"),
          "joined userns needs no mappings");
    invalid(DOC("\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":0}],"
                "\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}"),
            "linux.uidMappings[0].size: must be at least 1", "zero-size mapping");
    invalid(DOC("\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":4294967295,\"hostID\":1,\"size\":2}],"
                "\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}"),
            "overflows", "mapping range overflow");
    invalid(DOC("\"linux\":{\"timeOffsets\":{\"boottime\":{\"secs\":1}}}"), "needs a new time namespace",
            "timeOffsets without time ns");
    invalid(DOC("\"linux\":{\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":{\"monotonic\":{\"nanosecs\":1000000000}}}"),
            "nanosecs", "nanosecs too big");
    invalid(DOC("\"hostname\":\"h\""), "hostname: setting the hostname needs a UTS namespace", "hostname w/o uts");
    invalid(DOC("\"domainname\":\"d\""), "domainname", "domainname w/o uts");
    valid(DOC("\"hostname\":\"h\",\"linux\":{\"namespaces\":[{\"type\":\"uts\"}]}"), "hostname with uts");
    valid(DOC("\"hostname\":\"\""), "empty hostname needs no uts");
    invalid(DOC("\"hostname\":\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\","
                "\"linux\":{\"namespaces\":[{\"type\":\"uts\"}]}"), "hostname: longer than 64", "hostname too long");
    const char *bad_sysctl[] = { "", "..", "net/../../etc", "/net/ipv4", "net..x", "net.", "a/./../b" };
    for (size_t i = 0; i < sizeof bad_sysctl / sizeof bad_sysctl[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, DOC("\"linux\":{\"sysctl\":{\"%s\":\"1\"}}"), bad_sysctl[i]);
        invalid(buf, "linux.sysctl: invalid sysctl name", bad_sysctl[i]);
    }
    valid(DOC("\"linux\":{\"sysctl\":{\"net/ipv4/ip_forward\":\"1\",\"kernel.msgmax\":\"8192\"}}"), "slash sysctl form");
    invalid(DOC("\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"z\"}]}"), "linux.devices[0].type: must be one of",
            "bad device type");
    invalid(DOC("\"linux\":{\"devices\":[{\"path\":\"dev/x\",\"type\":\"c\"}]}"), "linux.devices[0].path", "relative device");
    invalid(DOC("\"linux\":{\"devices\":[{\"path\":\"/dev/../etc/passwd\",\"type\":\"c\"}]}"), "linux.devices[0].path",
            "device path with ..");
    valid(DOC("\"linux\":{\"devices\":[{\"path\":\"/dev/..x\",\"type\":\"p\"}]}"), "device path ..x is fine");
    invalid(DOC("\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"u\"}]}}"),
            "linux.resources.devices[0].type", "bad rule type");
    invalid(DOC("\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}}"),
            "linux.resources.devices[0].access", "bad rule access");
    invalid(DOC("\"linux\":{\"maskedPaths\":[\"/ok\",\"proc/kcore\"]}"), "linux.maskedPaths[1]: must be an absolute path",
            "relative masked path");
    invalid(DOC("\"linux\":{\"readonlyPaths\":[\"\"]}"), "linux.readonlyPaths[0]", "empty readonly path");
    invalid(DOC("\"linux\":{\"rootfsPropagation\":\"sideways\"}"), "linux.rootfsPropagation: unknown propagation",
            "bad propagation");
    valid(DOC("\"linux\":{\"rootfsPropagation\":\"runbindable\"}"), "runbindable");
    invalid(DOC("\"mounts\":[{\"destination\":\"\"}]"), "mounts[0].destination: must not be empty", "empty destination");
    invalid(DOC("\"hooks\":{\"poststart\":[{\"path\":\"hook\"}]}"), "hooks.poststart[0].path: must be an absolute path",
            "relative hook");
    invalid(DOC("\"hooks\":{\"prestart\":[{\"path\":\"/h\",\"timeout\":0}]}"), "hooks.prestart[0].timeout: must be positive",
            "zero timeout");
    invalid(DOC("\"linux\":{\"personality\":{\"domain\":\"BSD\"}}"), "linux.personality.domain", "bad personality");
    invalid("{" HEAD ",\"process\":{\"args\":[],\"cwd\":\"/\"}}", "process.args: must be a non-empty array", "empty args");
    invalid("{" HEAD ",\"process\":{\"cwd\":\"/\"}}", "process.args: must be a non-empty array", "missing args");
    invalid("{" HEAD ",\"process\":{\"args\":[\"\"],\"cwd\":\"/\"}}", "process.args[0]: must not be empty", "empty argv0");
    invalid("{" HEAD ",\"process\":{\"args\":[\"sh\"]}}", "process.cwd: required field missing", "missing cwd");
    invalid("{" HEAD ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"tmp\"}}", "process.cwd: must be an absolute path",
            "relative cwd");
    invalid("{" HEAD ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"env\":[\"NOEQUALS\"]}}", "process.env[0]",
            "env without =");
    invalid("{" HEAD ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"oomScoreAdj\":1001}}", "process.oomScoreAdj",
            "oomScoreAdj range");
    invalid("{" HEAD ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":20}}}",
            "process.scheduler.nice", "nice range");
}

/* Hostile input: depth, size, NUL, many keys. */
static void test_hostile(void) {
    size_t depth = 200000;
    char *deep = malloc(depth * 2 + 64);
    size_t n = 0;
    n += (size_t)sprintf(deep, "{\"x\":");
    for (size_t i = 0; i < depth; i++) deep[n++] = '[';
    for (size_t i = 0; i < depth; i++) deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = 0;
    parse_fails(deep, "nested deeper than 64", "200000-deep nesting");
    free(deep);

    /* exactly at the limit: the top-level object + 63 arrays */
    char buf[512];
    n = (size_t)sprintf(buf, "{" HEAD "," PROC ",\"x\":");
    for (int i = 0; i < 63; i++) buf[n++] = '[';
    for (int i = 0; i < 63; i++) buf[n++] = ']';
    buf[n++] = '}';
    buf[n] = 0;
    valid(buf, "depth 64 accepted");
    n = (size_t)sprintf(buf, "{\"x\":");
    for (int i = 0; i < 64; i++) buf[n++] = '{', buf[n++] = '"', buf[n++] = 'a', buf[n++] = '"', buf[n++] = ':';
    buf[n++] = '1';
    for (int i = 0; i < 65; i++) buf[n++] = '}';
    buf[n] = 0;
    parse_fails(buf, "nested deeper", "depth 65 objects refused");
    /* brackets inside strings do not count */
    char *strs = malloc(1000 + 64);
    n = (size_t)sprintf(strs, "{" HEAD "," PROC ",\"x\":\"");
    for (int i = 0; i < 900; i++) strs[n++] = '[';
    strs[n++] = '"', strs[n++] = '}', strs[n] = 0;
    valid(strs, "brackets in strings are not nesting");
    free(strs);

    /* NUL inside strings */
    parse_fails(DOC("\"hostname\":\"ab\\u0000cd\""), "config.json: hostname: string contains a NUL character",
                "\\u0000 in hostname");
    parse_fails("{\"process\":{\"args\":[\"sh\",\"a\\u0000\"]}}", "process.args[1]: string contains a NUL",
                "\\u0000 in args");
    parse_fails("{\"annotations\":{\"k\\u0000x\":\"v\"}}", "key contains a NUL", "\\u0000 in annotation key");
    parse_fails("{\"annotations\":{\"k\":\"\\u0000\"}}", "annotations.k: string contains a NUL", "\\u0000 in annotation value");
    struct hull_spec *s = NULL;
    ok(parse(DOC("\"hostname\":\"a\\\\u0000b\""), &s) == 0 && s && !strcmp(s->hostname, "a\\u0000b"),
       "escaped backslash before u0000 is not a NUL");
    hull_spec_free(s);
    s = NULL;
    /* a private-use char in the input must survive, and \u0000 is still found */
    ok(parse(DOC("\"domainname\":\"\xee\x80\x80\\ue001\",\"hostname\":\"\\u0000\""), &s) < 0, "NUL found despite PUA chars");
    like(err.msg, "hostname: string contains a NUL", "  on the right field");
    ok(parse(DOC("\"domainname\":\"\xee\x80\x80\\ue001\""), &s) == 0 && s && !strcmp(s->domainname, "\xee\x80\x80\xee\x80\x81"),
       "PUA characters pass through untouched");
    hull_spec_free(s);
    s = NULL;
    /* unknown field with a NUL: ignored like any unknown field */
    valid(DOC("\"zzz\":\"\\u0000\""), "NUL in an unknown field is ignored");

    /* huge strings */
    size_t big = 8u << 20;
    char *huge = malloc(big + 256);
    n = (size_t)sprintf(huge, "{" HEAD "," PROC ",\"annotations\":{\"big\":\"");
    memset(huge + n, 'x', big);
    n += big;
    n += (size_t)sprintf(huge + n, "\"}}");
    ok(hull_spec_parse(huge, n, &s, &err) == 0 && s && strlen(hull_spec_annotation(s, "big")) == big,
       "8 MiB string value parses");
    hull_spec_free(s);
    s = NULL;
    n = (size_t)sprintf(huge, "{\"linux\":{\"namespaces\":[{\"type\":\"");
    memset(huge + n, 'y', big);
    n += big;
    n += (size_t)sprintf(huge + n, "\"}]}}");
    ok(hull_spec_parse(huge, n, &s, &err) < 0, "8 MiB unknown namespace rejected");
    ok(strlen(err.msg) < sizeof err.msg && strstr(err.msg, "unknown namespace type"), "  message stays bounded");
    free(huge);

    /* many duplicate keys: must stay fast (sorted, not quadratic) */
    size_t nkeys = 20000;
    char *many = malloc(nkeys * 24 + 256);
    n = (size_t)sprintf(many, "{" HEAD "," PROC ",\"annotations\":{");
    for (size_t i = 0; i < nkeys; i++) n += (size_t)sprintf(many + n, "%s\"k%zu\":\"%zu\"", i ? "," : "", i % 1000, i);
    n += (size_t)sprintf(many + n, "}}");
    ok(hull_spec_parse(many, n, &s, &err) == 0 && s && s->n_annotations == 1000, "20000 keys, 1000 distinct");
    if (s) is_str(hull_spec_annotation(s, "k7"), "19007", "  last duplicate wins");
    hull_spec_free(s);
    s = NULL;
    free(many);

    /* very long key in an error path is truncated, not overflowed */
    char *longkey = malloc(20000);
    n = (size_t)sprintf(longkey, "{\"annotations\":{\"");
    memset(longkey + n, 'k', 10000);
    n += 10000;
    sprintf(longkey + n, "\":5}}");
    parse_fails(longkey, "expected a string", "long key in error path");
    parse_fails("{\"annotations\":{\"a\\nb\\u001b[31m\":5}}", "annotations.a?b?[31m: expected a string",
                "control characters in keys are neutralised in messages");
    free(longkey);
}

static void test_default(bool rootless) {
    const char *what = rootless ? "rootless" : "default";
    char *json = hull_spec_default_json(rootless);
    ok(json != NULL, "%s spec generated", what);
    if (!json) return;
    ok(strchr(json, '\n') && strstr(json, "\t\"ociVersion\""), "%s spec is pretty-printed", what);
    struct hull_spec *s = NULL;
    int r = parse(json, &s);
    ok(r == 0, "%s spec parses back", what);
    if (r) { diag("%s", err.msg); free(json); return; }
    r = hull_spec_validate(s, &err);
    ok(r == 0, "%s spec validates", what);
    if (r) diag("%s", err.msg);
    const struct hull_process *p = &s->process;
    ok(p->n_args == 1 && !strcmp(p->args[0], "sh") && p->terminal && !strcmp(p->cwd, "/"), "%s: sh on a terminal", what);
    uint64_t caps = CAPBIT(CAP_AUDIT_WRITE) | CAPBIT(CAP_KILL) | CAPBIT(CAP_NET_BIND_SERVICE);
    ok(p->caps.bounding == caps && p->caps.effective == caps && p->caps.permitted == caps &&
       p->caps.inheritable == 0 && p->caps.ambient == 0, "%s: default caps", what);
    ok(p->n_rlimits == 1 && p->rlimits[0].resource == RLIMIT_NOFILE && p->rlimits[0].soft == 1024 &&
       p->rlimits[0].hard == 1024, "%s: NOFILE 1024", what);
    ok(p->no_new_privileges, "%s: noNewPrivileges", what);
    ok(!strcmp(s->root_path, "rootfs") && s->root_readonly, "%s: root", what);
    ok(hull_spec_namespace(s, HULL_NS_PID) && hull_spec_namespace(s, HULL_NS_IPC) &&
       hull_spec_namespace(s, HULL_NS_UTS) && hull_spec_namespace(s, HULL_NS_MOUNT) &&
       hull_spec_namespace(s, HULL_NS_CGROUP), "%s: pid/ipc/uts/mount/cgroup namespaces", what);
    ok(s->linux.n_masked_paths >= 10 && s->linux.n_readonly_paths == 5, "%s: masked/readonly paths", what);
    bool has_cgroup_mount = false, sys_rbind = false;
    for (size_t i = 0; i < s->n_mounts; i++) {
        if (!strcmp(s->mounts[i].destination, "/sys/fs/cgroup")) has_cgroup_mount = true;
        if (!strcmp(s->mounts[i].destination, "/sys"))
            for (size_t k = 0; k < s->mounts[i].n_options; k++)
                if (!strcmp(s->mounts[i].options[k], "rbind")) sys_rbind = true;
    }
    if (rootless) {
        ok(hull_spec_namespace(s, HULL_NS_USER) && !hull_spec_namespace(s, HULL_NS_NETWORK),
           "rootless: user ns, no network ns");
        ok(s->linux.n_uid_mappings == 1 && s->linux.uid_mappings[0].host_id == geteuid() &&
           s->linux.uid_mappings[0].container_id == 0 && s->linux.uid_mappings[0].size == 1 &&
           s->linux.n_gid_mappings == 1 && s->linux.gid_mappings[0].host_id == getegid(),
           "rootless: maps the current uid/gid");
        ok(sys_rbind && !has_cgroup_mount, "rootless: sysfs rbind, no cgroup mount");
        is_int(s->n_mounts, 6, "rootless: 6 mounts");
    } else {
        ok(!hull_spec_namespace(s, HULL_NS_USER) && hull_spec_namespace(s, HULL_NS_NETWORK),
           "default: network ns, no user ns");
        ok(!sys_rbind && has_cgroup_mount, "default: sysfs + cgroup mounts");
        is_int(s->n_mounts, 7, "default: 7 mounts");
        ok(s->linux.resources.n_devices == 1 && !s->linux.resources.devices[0].allow, "default: deny all devices");
    }
    hull_spec_free(s);
    free(json);
}

static void test_process_parse(void) {
    const char *j = "{\"terminal\":false,\"args\":[\"ls\",\"-l\"],\"env\":[\"A=b\"],\"cwd\":\"/tmp\","
                    "\"user\":{\"uid\":5,\"gid\":6},\"capabilities\":{\"bounding\":[\"CAP_KILL\"]}}";
    struct hull_spec *o = NULL;
    hull_err_clear(&err);
    int r = hull_process_parse(j, strlen(j), &o, &err);
    ok(r == 0 && o, "process.json parses");
    if (o) {
        ok(o->has_process && o->process.n_args == 2 && !strcmp(o->process.args[1], "-l") &&
           o->process.args[2] == NULL, "process args");
        ok(o->process.user.uid == 5 && o->process.caps.bounding == CAPBIT(CAP_KILL), "process user + caps");
        hull_spec_free(o);
    }
    const char *bad[][2] = {
        { "{\"cwd\":\"/\"}", "process.json: args: must be a non-empty array" },
        { "{\"args\":[\"x\"],\"cwd\":\"rel\"}", "process.json: cwd: must be an absolute path" },
        { "{\"args\":[\"x\"]}", "process.json: cwd: required field missing" },
        { "{\"args\":[1],\"cwd\":\"/\"}", "process.json: args[0]: expected a string" },
        { "[]", "process.json: expected a JSON object" },
        { "{\"args\":[\"x\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_X\",\"soft\":1,\"hard\":1}]}",
          "process.json: rlimits[0].type: unknown rlimit" },
        { "{\"args\":[\"x\"", "process.json: invalid JSON" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = (void *)1;
        r = hull_process_parse(bad[i][0], strlen(bad[i][0]), &o, &err);
        ok(r < 0 && o == NULL, "process.json rejected: %s", bad[i][0]);
        like(err.msg, bad[i][1], "  message: %s", bad[i][1]);
    }
}

static void test_names_and_arena(void) {
    ok(!strcmp(hull_ns_type_name(HULL_NS_NETWORK), "network") && !strcmp(hull_ns_proc_name(HULL_NS_NETWORK), "net") &&
       !strcmp(hull_ns_proc_name(HULL_NS_MOUNT), "mnt"), "namespace names");
    ok(hull_ns_clone_flag(HULL_NS_PID) == CLONE_NEWPID && hull_ns_clone_flag(HULL_NS_USER) == CLONE_NEWUSER &&
       hull_ns_clone_flag(HULL_NS_TIME) == 0x80, "clone flags");
    ok(hull_ns_type_name(HULL_NS__COUNT) == NULL && hull_ns_clone_flag((enum hull_ns_type)-1) == 0,
       "namespace names out of range");

    struct hull_arena *a = hull_arena_new();
    int zero = 1, aligned = 1;
    for (int i = 0; i < 10000; i++) {
        size_t sz = (size_t)(i * 37) % 9000 + 1;
        unsigned char *p = hull_arena_alloc(a, sz);
        if ((uintptr_t)p % _Alignof(max_align_t)) aligned = 0;
        for (size_t k = 0; k < sz; k++) if (p[k]) zero = 0;
        memset(p, 0xab, sz);
    }
    ok(zero && aligned, "arena memory is zeroed and aligned");
    char *d = hull_arena_strndup(a, "hello world", 5);
    is_str(d, "hello", "arena strndup");
    ok(hull_arena_strdup(a, NULL) == NULL, "arena strdup(NULL)");
    ok(hull_arena_alloc(a, 0) != NULL, "arena alloc(0) non-NULL");
    hull_arena_free(a);
    hull_arena_free(NULL);
    hull_spec_free(NULL);
    ok(1, "arena/spec free of NULL is a no-op");

    struct hull_spec *s = NULL;
    hull_err_clear(&err);
    ok(hull_spec_load("/nonexistent-bundle", &s, &err) < 0 && s == NULL, "load from missing bundle fails");
    like(err.msg, "config.json: open /nonexistent-bundle/config.json", "  message names the file");
    ok(hull_spec_load("/proc/self", &s, &err) < 0, "load of a non-regular config.json fails");
}

/* Every input the fuzzer ever crashed on must now parse (or fail) cleanly. */
static void test_crashers(void) {
    DIR *d = opendir(DATA "/crashers");
    if (!d) { skip("no crashers directory"); return; }
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, DATA "/crashers/%s", e->d_name);
        size_t len;
        char *buf = slurp(path, &len);
        if (!buf) continue;
        struct hull_spec *s = NULL;
        if (hull_spec_parse(buf, len, &s, &err) == 0) {
            hull_spec_validate(s, &err);
            hull_spec_free(s);
        }
        free(buf);
        ok(1, "crasher %s replays cleanly", e->d_name);
        count++;
    }
    closedir(d);
    if (!count) ok(1, "no crashers recorded");
}

int main(void) {
    test_full();
    test_minimal_and_root();
    test_versions();
    test_malformed();
    test_types();
    test_numbers();
    test_caps_rlimits();
    test_semantics();
    test_hostile();
    test_default(false);
    test_default(true);
    test_process_parse();
    test_names_and_arena();
    test_crashers();
    return done_testing();
}
