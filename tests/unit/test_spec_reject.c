/* config.json: what must be refused, each with a message naming the field:
 * malformed JSON, wrong types, out-of-range numbers, unknown capabilities and
 * rlimits, semantic errors, hostile documents, and the fuzzer's crashers.
 * Run from the repo root (fixtures under tests/unit/data/spec/). */
#include "spec_helpers.h"

#include <dirent.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <unistd.h>

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

/* Replays one input in a child: exit 0 when parse (and validate) either
 * succeed or fail with a message, 1 when a failure carries no message, 2
 * when the file cannot be read; a crash shows as a signal in the status. */
static void replay_one(void *arg) {
    size_t len;
    char *buf = slurp(arg, &len);
    if (!buf) _exit(2);
    struct hull_spec *s = NULL;
    struct hull_err e = {0};
    int rc = hull_spec_parse(buf, len, &s, &e);
    if (rc == 0) {
        rc = hull_spec_validate(s, &e);
        hull_spec_free(s);
    }
    free(buf);
    _exit(rc == 0 || e.msg[0] ? 0 : 1);
}

/* Every input the fuzzer ever crashed on must now parse (or fail) cleanly. */
static void test_crashers(void) {
    /* the harness itself: a valid spec replays with status 0 */
    int st = tap_run_in_child(replay_one, DATA "/full/config.json");
    ok(TAP_EXITED_0(st), "replay harness: full/config.json replays cleanly (status 0x%x)", st);
    DIR *d = opendir(DATA "/crashers");
    if (!ok(d != NULL, "crashers directory %s is present (it is in the tree)", DATA "/crashers")) return;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, DATA "/crashers/%s", e->d_name);
        st = tap_run_in_child(replay_one, path);
        ok(TAP_EXITED_0(st), "crasher %s replays cleanly (status 0x%x)", e->d_name, st);
        count++;
    }
    closedir(d);
    diag("%d crashers replayed", count);
}

int main(void) {
    test_malformed();
    test_types();
    test_numbers();
    test_caps_rlimits();
    test_semantics();
    test_hostile();
    test_crashers();
    return done_testing();
}
