/* config.json: documents the parser and validator accept (the full fixture,
 * minimal ones, every supported version), the default spec, the process and
 * resources fragments, names and the arena. Refusals: test_spec_reject.c.
 * Run from the repo root (fixtures under tests/unit/data/spec/). */
#include "spec_helpers.h"
#include "tests/lib/spec_testlib.h"

#include <dirent.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <unistd.h>

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

static void free_nulls(void *unused) {
    (void)unused;
    hull_arena_free(NULL);
    hull_spec_free(NULL);
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
    int st = tap_run_in_child(free_nulls, NULL);
    ok(TAP_EXITED_0(st), "arena/spec free of NULL is a no-op (child status 0x%x)", st);

    struct hull_spec *s = NULL;
    hull_err_clear(&err);
    ok(hull_spec_load("/nonexistent-bundle", &s, &err) < 0 && s == NULL, "load from missing bundle fails");
    like(err.msg, "config.json: open /nonexistent-bundle/config.json", "  message names the file");
    ok(hull_spec_load("/proc/self", &s, &err) < 0, "load of a non-regular config.json fails");
}

/* Every input the fuzzer ever crashed on must now parse (or fail) cleanly. */

int main(void) {
    test_full();
    test_minimal_and_root();
    test_versions();
    test_default(false);
    test_default(true);
    test_process_parse();
    test_names_and_arena();
    return done_testing();
}
