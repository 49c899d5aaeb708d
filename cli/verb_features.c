/* `features`: the runtime-spec features document (features.md), listing only
 * what hull really implements. */
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cli/cli.h"
#include "base/spec.h"

#include "base/json_gen.h"

static void enabled(yajl_gen g, const char *key, bool on) {
    jg_str(g, key);
    yajl_gen_map_open(g);
    jg_kbool(g, "enabled", on);
    yajl_gen_map_close(g);
}

int verb_features(int argc, char **argv) {
    (void)argv;
    if (argc > 1) return cli_usage_error("features", "takes no arguments");
    static const char *const hooks[] = {"prestart", "createRuntime", "createContainer", "startContainer",
                                        "poststart", "poststop", NULL};
    static const char *const mount_opts[] = {
        "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime",
        "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand",
        "norelatime", "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev",
        "rdiratime", "relatime", "remount", "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec",
        "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro",
        "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared",
        "silent", "slave", "strictatime", "suid", "symfollow", "sync", "unbindable", NULL};
    static const char *const namespaces[] = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts", NULL};
    static const char *const actions[] = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                          "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                          "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", NULL};
    static const char *const operators[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                                            "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL};
    static const char *const archs[] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
                                        "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
                                        "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                                        "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390",
                                        "SCMP_ARCH_S390X", "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", NULL};
    static const char *const flags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                        "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
                                        NULL};

    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_map_open(g);
    jg_kstr(g, "ociVersionMin", "1.0.0");
    jg_kstr(g, "ociVersionMax", "1.3.0");
    jg_kstrv(g, "hooks", hooks);
    jg_kstrv(g, "mountOptions", mount_opts);
    jg_str(g, "linux");
    yajl_gen_map_open(g);
    jg_kstrv(g, "namespaces", namespaces);
    jg_str(g, "capabilities");
    yajl_gen_array_open(g);
    for (int c = 0; c <= hull_cap_last(); c++) {
        const char *name = hull_cap_name(c);
        if (name) jg_str(g, name);
    }
    yajl_gen_array_close(g);
    jg_str(g, "cgroup");
    yajl_gen_map_open(g);
    jg_kbool(g, "v1", 1);
    jg_kbool(g, "v2", 1);
    jg_kbool(g, "systemd", 0);
    jg_kbool(g, "systemdUser", 0);
    jg_kbool(g, "rdma", 1);
    yajl_gen_map_close(g);
    jg_str(g, "seccomp");
    yajl_gen_map_open(g);
    jg_kbool(g, "enabled", 1);
    jg_kstrv(g, "actions", actions);
    jg_kstrv(g, "operators", operators);
    jg_kstrv(g, "archs", archs);
    jg_kstrv(g, "knownFlags", flags);
    jg_kstrv(g, "supportedFlags", flags);
    yajl_gen_map_close(g);
    enabled(g, "apparmor", false);
    enabled(g, "selinux", false);
    enabled(g, "intelRdt", false);
    jg_str(g, "mountExtensions");
    yajl_gen_map_open(g);
    enabled(g, "idmap", false);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    jg_str(g, "annotations");
    yajl_gen_map_open(g);
    jg_kstr(g, "io.github.hull.version", HULL_VERSION);
    jg_str(g, "io.github.seccomp.libseccomp.version");
    char ver[32];
    const struct scmp_version *v = seccomp_version();
    snprintf(ver, sizeof ver, "%u.%u.%u", v->major, v->minor, v->micro);
    jg_str(g, ver);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    fwrite(buf, 1, len, stdout);
    yajl_gen_free(g);
    return 0;
}
