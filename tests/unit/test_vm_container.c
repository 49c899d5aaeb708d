/* The host-side pieces of microVM containers that need no VM: sizing the VM
 * from the spec, the host cgroup's resources, the guest's config.json (bind
 * mounts dropped), a process as JSON (read back by hull's own parser), and
 * the monitor's control-socket codec, also over a real SOCK_SEQPACKET pair. */
#include "tap.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/spec.h"
#include "vm/executor/config.h"
#include "vm/executor/ctl.h"

#define MIB (1ull << 20)
static struct hull_err err;

static void test_cpuset(void) {
    is_int(hull_vm_cpuset_count("0"), 1, "cpuset \"0\": 1 cpu");
    is_int(hull_vm_cpuset_count("0-3"), 4, "cpuset \"0-3\": 4");
    is_int(hull_vm_cpuset_count("0-3,8,10-11"), 7, "cpuset \"0-3,8,10-11\": 7");
    is_int(hull_vm_cpuset_count(""), 0, "empty cpuset: 0");
    is_int(hull_vm_cpuset_count("3-1"), 0, "a backwards range is malformed");
    is_int(hull_vm_cpuset_count("1,,2"), 0, "an empty element is malformed");
    is_int(hull_vm_cpuset_count("0-3x"), 0, "trailing garbage is malformed");
    is_int(hull_vm_cpuset_count("0-99999"), 0, "an absurd cpu number is malformed");
}

static void test_size(void) {
    struct hull_resources r = {0};
    struct hull_vm_size s;
    hull_vm_size_from_resources(&r, 8, &s);
    is_int(s.mem_bytes, 256 * MIB, "no memory limit: 256 MiB guest");
    is_int(s.vcpus, 1, "no cpu limit: 1 vCPU");
    is_int(s.cgroup_limit, 256 * MIB + 64 * MIB + 4 * MIB, "cgroup limit = RAM + 64 MiB + RAM/64");

    r.memory.limit = (hull_opt_i64){true, 512 * MIB};
    hull_vm_size_from_resources(&r, 8, &s);
    is_int(s.mem_bytes, 512 * MIB, "memory.limit 512M: 512 MiB guest");
    r.memory.limit.v = 64 * MIB;
    hull_vm_size_from_resources(&r, 8, &s);
    is_int(s.mem_bytes, 128 * MIB, "memory.limit 64M: raised to the 128 MiB a guest needs");
    r.memory.limit.v = 300 * MIB + 1;
    hull_vm_size_from_resources(&r, 8, &s);
    is_int(s.mem_bytes, 302 * MIB, "memory.limit 300M+1: rounded up to 2 MiB");
    r.memory.limit.v = -1;
    hull_vm_size_from_resources(&r, 8, &s);
    is_int(s.mem_bytes, 256 * MIB, "memory.limit -1 (unlimited): the default");

    r.cpu.quota = (hull_opt_i64){true, 150000};
    r.cpu.period = (hull_opt_u64){true, 100000};
    hull_vm_size_from_resources(&r, 8, &s);
    is_int(s.vcpus, 2, "quota 150000/100000: 2 vCPUs (rounded up)");
    r.cpu.period.set = false;
    r.cpu.quota.v = 50000;
    hull_vm_size_from_resources(&r, 8, &s);
    is_int(s.vcpus, 1, "quota 50000, default period: 1 vCPU");
    r.cpu.quota.v = 2400000;
    hull_vm_size_from_resources(&r, 8, &s);
    is_int(s.vcpus, 8, "24 CPUs of quota on an 8-CPU host: 8 vCPUs");
    r.cpu.quota.set = false;
    r.cpu.cpus = "0-5";
    hull_vm_size_from_resources(&r, 4, &s);
    is_int(s.vcpus, 4, "cpuset 0-5 on a 4-CPU host: 4 vCPUs");
    hull_vm_size_from_resources(&r, 64, &s);
    is_int(s.vcpus, 6, "cpuset 0-5 on a big host: 6 vCPUs");
    r.cpu.cpus = "garbage";
    hull_vm_size_from_resources(&r, 64, &s);
    is_int(s.vcpus, 1, "a malformed cpuset: 1 vCPU");
}

static void test_host_resources(void) {
    struct hull_arena *a = hull_arena_new();
    struct hull_device_rule deny = {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"};
    struct hull_resources r = {.devices = &deny, .n_devices = 1};
    r.memory.limit = (hull_opt_i64){true, 256 * MIB};
    r.memory.swap = (hull_opt_i64){true, 300 * MIB};
    r.pids.limit = (hull_opt_i64){true, 5};
    struct hull_vm_size s;
    hull_vm_size_from_resources(&r, 2, &s);
    hull_vm_host_resources(a, &s, &r, NULL);
    is_int(r.memory.limit.v, (int64_t)s.cgroup_limit, "host cgroup memory limit = the VM's cgroup_limit");
    is_int(r.memory.swap.v, 300 * MIB + (s.cgroup_limit - 256 * MIB), "memory+swap raised by as much");
    ok(!r.pids.limit.set, "pids.limit lifted (the VMM's threads, not the container's processes)");
    is_int(r.n_devices, 2, "one device rule added");
    ok(!r.devices[0].allow && r.devices[0].type == 'a', "the config's rules first, unchanged");
    const struct hull_device_rule *k = &r.devices[1];
    ok(k->allow && k->type == 'c' && k->major == 10 && k->minor == 232 && strcmp(k->access, "rw") == 0,
       "last: allow /dev/kvm (c 10:232 rw), so it wins over any deny");
    struct hull_resources none = {0};
    hull_vm_host_resources(a, &s, &none, NULL);
    ok(!none.memory.limit.set, "no memory limit asked: none imposed");
    is_int(none.n_devices, 1, "but /dev/kvm is allowed");
    hull_arena_free(a);
}

static void test_guest_config(void) {
    const char *cfg =
        "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"/bin/sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
        "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":18446744073709551615,\"soft\":1024}]},"
        "\"root\":{\"path\":\"rootfs\"},\"mounts\":["
        "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
        "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/var/lib/x/hosts\",\"options\":[\"ro\"]},"
        "{\"destination\":\"/data\",\"source\":\"/srv/data\",\"options\":[\"rbind\",\"rw\"]},"
        "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=1777\"]}],"
        "\"annotations\":{\"mounts\":\"not an array\",\"x\":\"y\"},\"linux\":{\"resources\":{\"memory\":{\"limit\":-1}},"
        "\"namespaces\":[{\"type\":\"mount\"}],\"maskedPaths\":[],\"sysctl\":null}}";
    char *out = NULL;
    size_t len = 0, dropped = 0;
    int rc = hull_vm_guest_config_sized(cfg, strlen(cfg), 0, 0, &out, &len, &dropped, &err);
    is_int(rc, 0, "guest config: rewritten");
    is_int(dropped, 2, "the two bind mounts (type bind; option rbind) dropped");
    ok(out && !strstr(out, "/etc/hosts") && !strstr(out, "/srv/data"), "their entries are gone");
    ok(out && strstr(out, "\"/proc\"") && strstr(out, "\"mode=1777\""), "the other mounts stay, options included");
    ok(out && strstr(out, "18446744073709551615"), "a uint64 beyond int64 is kept verbatim");
    ok(out && strstr(out, "\"limit\":-1"), "negative numbers kept");
    ok(out && strstr(out, "\"not an array\""), "a \"mounts\" key below the top level is left alone");
    ok(out && strstr(out, "\"sysctl\":null"), "null kept");
    is_int(len, out ? strlen(out) : 0, "length matches");
    struct hull_spec *spec = NULL;
    rc = out ? hull_spec_parse(out, len, &spec, &err) : -1;
    is_int(rc, 0, "the result parses as a config.json");
    if (spec) {
        is_int(spec->n_mounts, 2, "with 2 mounts");
        is_str(spec->mounts[1].destination, "/tmp", "in their order");
        hull_spec_free(spec);
    }
    free(out);

    const char *tcfg = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{\"terminal\":true,"
                       "\"args\":[\"sh\"],\"cwd\":\"/\"}}";
    out = NULL;
    rc = hull_vm_guest_config_sized(tcfg, strlen(tcfg), 40, 120, &out, &len, &dropped, &err);
    spec = NULL;
    if (rc == 0) rc = hull_spec_parse(out, len, &spec, &err);
    ok(rc == 0 && spec && spec->process.has_console_size && spec->process.console_height == 40 &&
           spec->process.console_width == 120,
       "the caller's terminal size becomes process.consoleSize");
    hull_spec_free(spec);
    free(out);
    const char *sized = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{\"terminal\":true,"
                        "\"consoleSize\":{\"height\":10,\"width\":20},\"args\":[\"sh\"],\"cwd\":\"/\"}}";
    out = NULL;
    spec = NULL;
    rc = hull_vm_guest_config_sized(sized, strlen(sized), 40, 120, &out, &len, &dropped, &err);
    if (rc == 0) rc = hull_spec_parse(out, len, &spec, &err);
    ok(rc == 0 && spec && spec->process.console_height == 10 && spec->process.console_width == 20,
       "a consoleSize in the config wins");
    hull_spec_free(spec);
    free(out);
    out = NULL;
    rc = hull_vm_guest_config_sized(tcfg, strlen(tcfg), 0, 80, &out, &len, &dropped, &err);
    ok(rc == 0 && out && !strstr(out, "consoleSize"), "no size known: none added");
    free(out);

    const char *bad[] = {"[1,2]", "{\"a\":", "", "\"str\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        out = NULL;
        rc = hull_vm_guest_config_sized(bad[i], strlen(bad[i]), 0, 0, &out, &len, &dropped, &err);
        ok(rc < 0 && !out && strstr(err.msg, "guest config"), "not a JSON object (\"%s\"): refused (%s)", bad[i], err.msg);
    }
}

static void test_process_json(void) {
    const char *cfg =
        "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"terminal\":false,"
        "\"user\":{\"uid\":1000,\"gid\":100,\"umask\":18,\"additionalGids\":[10,20]},"
        "\"args\":[\"/bin/sh\",\"-c\",\"echo \\\"quoted\\\" \\\\ and\\ttab\"],"
        "\"env\":[\"PATH=/bin\",\"X=a=b\"],\"cwd\":\"/work dir\","
        "\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"effective\":[\"CAP_KILL\"],"
        "\"permitted\":[\"CAP_KILL\"]},"
        "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":18446744073709551615,\"soft\":512}],"
        "\"noNewPrivileges\":true,\"oomScoreAdj\":-100}}";
    struct hull_spec *spec = NULL;
    int rc = hull_spec_parse(cfg, strlen(cfg), &spec, &err);
    is_int(rc, 0, "fixture config parses");
    if (rc < 0) return;
    size_t len = 0;
    char *json = hull_vm_process_json(&spec->process, &len);
    ok(json && len == strlen(json), "process JSON made (%zu bytes)", len);
    struct hull_spec *owner = NULL;
    rc = json ? hull_process_parse(json, len, &owner, &err) : -1;
    is_int(rc, 0, "and hull's own parser reads it back (%s)", rc ? err.msg : "ok");
    if (rc == 0) {
        const struct hull_process *p = &owner->process;
        is_int(p->n_args, 3, "args: 3");
        is_str(p->args[2], "echo \"quoted\" \\ and\ttab", "args with quotes, backslash and tab survive");
        is_int(p->n_env, 2, "env: 2");
        is_str(p->env[1], "X=a=b", "env entry");
        is_str(p->cwd, "/work dir", "cwd");
        ok(p->user.uid == 1000 && p->user.gid == 100, "uid/gid");
        ok(p->user.umask.set && p->user.umask.v == 18, "umask");
        ok(p->user.n_additional_gids == 2 && p->user.additional_gids[1] == 20, "additionalGids");
        ok(p->caps.present && p->caps.bounding == ((1ull << 5) | (1ull << 0)), "bounding caps: KILL, CHOWN");
        ok(p->caps.effective == (1ull << 5) && p->caps.inheritable == 0, "effective caps: KILL; inheritable empty");
        ok(p->n_rlimits == 1 && p->rlimits[0].hard == UINT64_MAX && p->rlimits[0].soft == 512,
           "rlimit with an unlimited (uint64 max) hard value");
        ok(p->no_new_privileges, "noNewPrivileges");
        ok(p->oom_score_adj.set && p->oom_score_adj.v == -100, "oomScoreAdj");
        ok(!p->terminal, "terminal false");
        hull_spec_free(owner);
    }
    free(json);
    hull_spec_free(spec);
}

static void test_ctl_codec(void) {
    uint8_t pkt[VMC_MAX_PACKET + 16];
    struct vmc_msg m;
    size_t n = vmc_encode(pkt, sizeof pkt, VMC_SIGNAL, 9, VMC_SIG_ALL, NULL, 0);
    is_int(n, VMC_HDR_SIZE, "SIGNAL: a bare header");
    ok(vmc_decode(pkt, n, &m, &err) == 0 && m.type == VMC_SIGNAL && m.a == 9 && m.b == VMC_SIG_ALL && m.len == 0,
       "decodes back");
    n = vmc_encode(pkt, sizeof pkt, VMC_STDOUT, 0, 0, "hello", 5);
    ok(vmc_decode(pkt, n, &m, &err) == 0 && m.len == 5 && memcmp(m.data, "hello", 5) == 0, "payload round trip");
    n = vmc_encode(pkt, sizeof pkt, VMC_EXIT, -5, 0, NULL, 0);
    ok(vmc_decode(pkt, n, &m, &err) == 0 && m.a == -5, "negative a");
    static uint8_t big[VMC_MAX_PAYLOAD + 1];
    is_int(vmc_encode(pkt, sizeof pkt, VMC_STDIN, 0, 0, big, VMC_MAX_PAYLOAD + 1), 0, "payload above the limit: refused");
    is_int(vmc_encode(pkt, VMC_HDR_SIZE + 4, VMC_STDIN, 0, 0, big, 5), 0, "buffer too small: refused");
    n = vmc_encode(pkt, sizeof pkt, VMC_STDIN, 0, 0, big, VMC_MAX_PAYLOAD);
    is_int(n, VMC_MAX_PACKET, "the largest packet");
    ok(vmc_decode(pkt, n, &m, &err) == 0, "decodes");

    ok(vmc_decode(pkt, 15, &m, &err) < 0 && strstr(err.msg, "short"), "15 bytes: short packet (%s)", err.msg);
    n = vmc_encode(pkt, sizeof pkt, VMC_STDOUT, 0, 0, "abc", 3);
    ok(vmc_decode(pkt, n - 1, &m, &err) < 0 && strstr(err.msg, "length"), "length larger than the packet: refused");
    ok(vmc_decode(pkt, n + 1, &m, &err) < 0, "packet larger than the length: refused");
    uint32_t t = 0;
    memcpy(pkt, &t, 4);
    ok(vmc_decode(pkt, n, &m, &err) < 0 && strstr(err.msg, "unknown"), "type 0: refused");
    t = 40;
    memcpy(pkt, &t, 4);
    ok(vmc_decode(pkt, n, &m, &err) < 0, "type 40 (between the ranges): refused");
    t = VMC__MONITOR_MAX + 1;
    memcpy(pkt, &t, 4);
    ok(vmc_decode(pkt, n, &m, &err) < 0, "type above the monitor's: refused");
    uint32_t huge = 0xffffffffu;
    n = vmc_encode(pkt, sizeof pkt, VMC_STDOUT, 0, 0, NULL, 0);
    memcpy(pkt + 12, &huge, 4);
    ok(vmc_decode(pkt, n, &m, &err) < 0, "length 2^32-1: refused");
}

static void test_ctl_socket(void) {
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        bail_out("fixture: SOCK_SEQPACKET socketpair: %s", strerror(errno));
    }
    int big = 1 << 20;
    setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sp[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    static uint8_t data[VMC_MAX_PAYLOAD], buf[VMC_MAX_PACKET];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
    is_int(vmc_send(sp[0], VMC_STDOUT, 1, 2, data, sizeof data, &err), 0, "send a 64 KiB packet");
    struct vmc_msg m;
    int r = vmc_recv_timeout(sp[1], buf, sizeof buf, &m, -1, &err);
    ok(r == 1 && m.type == VMC_STDOUT && m.a == 1 && m.b == 2 && m.len == sizeof data &&
           memcmp(m.data, data, sizeof data) == 0,
       "received whole, one packet = one message");
    r = vmc_recv_timeout(sp[1], buf, sizeof buf, &m, 50, &err);
    ok(r == -ETIMEDOUT, "nothing sent: times out (%s)", err.msg);
    /* a packet larger than the receiver's buffer is an error, not a truncated message */
    uint8_t raw[200];
    size_t n = vmc_encode(raw, sizeof raw, VMC_STDOUT, 0, 0, data, 100);
    send(sp[0], raw, n, 0);
    r = vmc_recv_timeout(sp[1], buf, 64, &m, -1, &err);
    ok(r < 0 && r != -ETIMEDOUT, "an oversized packet is refused (%s)", err.msg);
    send(sp[0], raw, 5, 0);
    r = vmc_recv_timeout(sp[1], buf, sizeof buf, &m, -1, &err);
    ok(r < 0, "a 5-byte packet is refused (%s)", err.msg);
    close(sp[0]);
    r = vmc_recv_timeout(sp[1], buf, sizeof buf, &m, -1, &err);
    is_int(r, 0, "peer closed: 0 (EOF)");
    close(sp[1]);
    signal(SIGPIPE, SIG_IGN);
    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp);
    close(sp[1]);
    ok(vmc_send(sp[0], VMC_START, 0, 0, NULL, 0, &err) < 0, "send to a closed peer fails (%s), no SIGPIPE", err.msg);
    close(sp[0]);
    int fd = -1;
    int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    r = vmc_connect(dir, &fd, &err);
    ok(r == -ENOTCONN && strstr(err.msg, "not running"), "no vm.sock: ENOTCONN, \"not running\" (%s)", err.msg);
    close(dir);
}

int main(void) {
    test_cpuset();
    test_size();
    test_host_resources();
    test_guest_config();
    test_process_json();
    test_ctl_codec();
    test_ctl_socket();
    return done_testing();
}
