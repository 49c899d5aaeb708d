/* lifecycle/image_spec.c + default_profile.c: config.json from an image config
 * and `hull run` flags. Every generated document is re-parsed and validated
 * here too; the default seccomp profile is also loaded in a forked child and
 * probed with real syscalls. */
#include "lifecycle/image_spec.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/process.h"
#include "lifecycle/default_profile.h"
#include "base/fsutil.h"
#include "base/spec.h"
#include "tap.h"

static char tmp[] = "/tmp/hull-imgspec-XXXXXX";
static char rootfs[512], hostile[512], fifo_root[512];

static void put(const char *dir, const char *rel, const char *text) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    if (!f) { perror(p); exit(2); }
    fputs(text, f);
    fclose(f);
}

static void mk(const char *dir, const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    if (hull_mkdir_p(p, 0755) < 0) { perror(p); exit(2); }
}

static void setup(void) {
    if (!mkdtemp(tmp)) bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    snprintf(rootfs, sizeof rootfs, "%s/rootfs", tmp);
    snprintf(hostile, sizeof hostile, "%s/hostile", tmp);
    snprintf(fifo_root, sizeof fifo_root, "%s/fifo", tmp);
    mk(rootfs, "etc");
    put(rootfs, "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\n"
        "# a comment line\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "broken line without colons\n"
        "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
        "bob:x:1001:100::/home/bob:/bin/sh\n");
    put(rootfs, "etc/group",
        "root:x:0:\n"
        "wheel:x:10:root,alice\n"
        "staff:x:50:\n"
        "users:x:100:alice,bob\n"
        "alice:x:1000:\n"
        "audio:x:29:bob\n");
    /* Outside any rootfs: what a hostile image would like us to read. */
    mk(tmp, "outside");
    put(tmp, "outside/passwd", "evil:x:666:666::/:/bin/sh\n");
    put(tmp, "outside/group", "evilgrp:x:667:evil\n");
    mk(hostile, "etc");
    char target[1024], link[1024];
    snprintf(target, sizeof target, "%s/outside/passwd", tmp);
    snprintf(link, sizeof link, "%s/etc/passwd", hostile);
    if (symlink(target, link) < 0) { perror("symlink"); exit(2); }   /* absolute, to a host file */
    snprintf(link, sizeof link, "%s/etc/group", hostile);
    if (symlink("../../../../../../outside/group", link) < 0) { perror("symlink"); exit(2); }
    mk(fifo_root, "etc");
    snprintf(link, sizeof link, "%s/etc/passwd", fifo_root);
    if (mkfifo(link, 0644) < 0) { perror("mkfifo"); exit(2); }
}

static void cleanup(void) { hull_rm_rf(tmp); }

/* An image config by hand: NULL-terminated arrays from static literals. */
static struct hull_image_config base_img(void) {
    static char *ep[] = { "/bin/entry", "--flag", NULL };
    static char *cmd[] = { "serve", "--port=80", NULL };
    static char *env[] = { "A=1", "B=2", "PATH=/img/bin", "NOEQ", NULL };
    static struct hull_image_label labels[] = {
        { "org.example.team", "infra" }, { "run.oci.handler", "vm" }, { "version", "1.2" } };
    static char *ports[] = { "80/tcp", "53/udp", NULL };
    struct hull_image_config c = {
        .entrypoint = ep, .n_entrypoint = 2, .cmd = cmd, .n_cmd = 2, .env = env, .n_env = 4,
        .labels = labels, .n_labels = 3, .working_dir = "/srv", .stop_signal = "SIGQUIT",
        .exposed_ports = ports, .n_exposed_ports = 2,
    };
    snprintf(c.ref.name, sizeof c.ref.name, "example/app");
    snprintf(c.ref.tag, sizeof c.ref.tag, "1.0");
    snprintf(c.ref.digest, sizeof c.ref.digest, "sha256:%064d", 7);
    return c;
}

static struct hull_run_opts base_opts(void) {
    struct hull_run_opts o = { .id = "0123456789abcdef0123" };
    return o;
}

static int n_outputs, n_valid;

/* Generates, then parses + validates like create would; NULL on error. */
static struct hull_spec *gen(const struct hull_image_config *img, const struct hull_run_opts *o,
                             const char *root, struct hull_err *err) {
    hull_err_clear(err);
    char *json = hull_image_spec_json(img, o, root, err);
    if (!json) return NULL;
    n_outputs++;
    struct hull_spec *s = NULL;
    struct hull_err e2 = { 0 };
    if (hull_spec_parse(json, strlen(json), &s, &e2) == 0 && hull_spec_validate(s, &e2) == 0 &&
        hull_seccomp_validate(&s->linux.seccomp, &e2) == 0)
        n_valid++;
    else {
        diag("invalid output: %s", e2.msg);
        if (s) { hull_spec_free(s); s = NULL; }
    }
    free(json);
    return s;
}

static char *joinv(char **v, size_t n) {
    static char buf[2048];
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(buf, " ");
        strncat(buf, v[i], sizeof buf - strlen(buf) - 2);
    }
    return buf;
}

static char *gids(const struct hull_user *u) {
    static char buf[256];
    buf[0] = '\0';
    for (size_t i = 0; i < u->n_additional_gids; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%u", i ? "," : "", u->additional_gids[i]);
    return buf;
}

static void test_args(void) {
    struct hull_image_config img = base_img();
    struct hull_run_opts o = base_opts();
    struct hull_err err;
    struct hull_spec *s;
    char *cmd[] = { "sh", "-c", "echo hi" };

    s = gen(&img, &o, rootfs, &err);
    is_str(s ? joinv(s->process.args, s->process.n_args) : err.msg, "/bin/entry --flag serve --port=80",
           "args: image Entrypoint + Cmd");
    hull_spec_free(s);

    o.cmd = cmd; o.n_cmd = 3;
    s = gen(&img, &o, rootfs, &err);
    is_str(s ? joinv(s->process.args, s->process.n_args) : err.msg, "/bin/entry --flag sh -c echo hi",
           "args: Entrypoint + CMD (image Cmd replaced)");
    hull_spec_free(s);

    o.entrypoint = "/bin/other";
    s = gen(&img, &o, rootfs, &err);
    is_str(s ? joinv(s->process.args, s->process.n_args) : err.msg, "/bin/other sh -c echo hi",
           "args: --entrypoint + CMD");
    hull_spec_free(s);

    o.n_cmd = 0;
    s = gen(&img, &o, rootfs, &err);
    is_str(s ? joinv(s->process.args, s->process.n_args) : err.msg, "/bin/other",
           "args: --entrypoint alone clears the image Cmd (docker)");
    hull_spec_free(s);

    o.entrypoint = ""; o.n_cmd = 3;
    s = gen(&img, &o, rootfs, &err);
    is_str(s ? joinv(s->process.args, s->process.n_args) : err.msg, "sh -c echo hi",
           "args: --entrypoint \"\" + CMD runs CMD alone");
    hull_spec_free(s);

    o = base_opts();
    img.n_entrypoint = 0; img.entrypoint = NULL;
    s = gen(&img, &o, rootfs, &err);
    is_str(s ? joinv(s->process.args, s->process.n_args) : err.msg, "serve --port=80", "args: image Cmd only");
    hull_spec_free(s);

    img.n_cmd = 0; img.cmd = NULL;
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "no command"), "args: nothing to run -> \"no command\" (%s)", err.msg);
    hull_spec_free(s);

    o.entrypoint = "";
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "no command"), "args: --entrypoint \"\" and no Cmd -> \"no command\"");
    hull_spec_free(s);

    o = base_opts();
    o.cmd = cmd; o.n_cmd = 1;
    s = gen(&img, &o, rootfs, &err);
    is_str(s ? joinv(s->process.args, s->process.n_args) : err.msg, "sh", "args: CMD only (no image Entrypoint/Cmd)");
    hull_spec_free(s);
}

static const char *env_get(const struct hull_spec *s, const char *k) {
    size_t n = strlen(k);
    for (size_t i = 0; s && i < s->process.n_env; i++)
        if (!strncmp(s->process.env[i], k, n) && s->process.env[i][n] == '=') return s->process.env[i] + n + 1;
    return NULL;
}

static void test_env(void) {
    struct hull_image_config img = base_img();
    struct hull_run_opts o = base_opts();
    struct hull_err err;
    char envfile[600];
    snprintf(envfile, sizeof envfile, "%s/env.list", tmp);
    put(tmp, "env.list", "# comment\n\nB=from-file\n   C=3 with spaces \nD_HOST\nE_ABSENT\r\nF=x=y\r\n");
    setenv("D_HOST", "host-value", 1);
    setenv("G_HOST", "g", 1);
    unsetenv("E_ABSENT");
    setenv("NOEQ", "leak", 1);
    char *e[] = { "A=cli", "G_HOST", "H=", "E_ABSENT" };
    o.env = e; o.n_env = 4; o.env_file = envfile; o.tty = true;

    struct hull_spec *s = gen(&img, &o, rootfs, &err);
    ok(s, "env: generated (%s)", s ? "" : err.msg);
    is_str(s ? joinv(s->process.env, s->process.n_env) : NULL,
           "A=cli B=from-file PATH=/img/bin C=3 with spaces  D_HOST=host-value F=x=y G_HOST=g H= "
           "HOSTNAME=0123456789ab TERM=xterm",
           "env: image < env-file < -e, in place; K alone from hull's env; absent skipped");
    ok(env_get(s, "NOEQ") == NULL, "env: the image's bare NOEQ does not read hull's environment");
    is_int(s ? s->process.terminal : -1, 1, "tty -> process.terminal");
    hull_spec_free(s);

    o = base_opts();
    img.env = NULL; img.n_env = 0;
    o.hostname = "web";
    s = gen(&img, &o, rootfs, &err);
    is_str(env_get(s, "PATH"), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "env: default PATH when absent");
    is_str(env_get(s, "HOSTNAME"), "web", "env: HOSTNAME follows --hostname");
    is_str(s ? s->hostname : NULL, "web", "hostname: --hostname");
    ok(env_get(s, "TERM") == NULL, "env: no TERM without a tty");
    hull_spec_free(s);

    put(tmp, "bad.list", "OK=1\nBAD KEY=2\n");
    snprintf(envfile, sizeof envfile, "%s/bad.list", tmp);
    o.env_file = envfile;
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "bad.list:2") && strstr(err.msg, "whitespace"),
       "env-file: a key with whitespace is an error naming file:line (%s)", err.msg);
    snprintf(envfile, sizeof envfile, "%s/missing.list", tmp);
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "missing.list"), "env-file: missing file -> error (%s)", err.msg);
    o.env_file = NULL;
    char *bad[] = { "=x" };
    o.env = bad; o.n_env = 1;
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "empty variable name"), "-e =x -> error");
}

static void test_workdir_hostname(void) {
    struct hull_image_config img = base_img();
    struct hull_run_opts o = base_opts();
    struct hull_err err;
    struct hull_spec *s = gen(&img, &o, rootfs, &err);
    is_str(s ? s->process.cwd : err.msg, "/srv", "cwd: image WorkingDir");
    is_str(s ? s->hostname : NULL, "0123456789ab", "hostname: first 12 chars of the id");
    hull_spec_free(s);
    img.working_dir = NULL;
    s = gen(&img, &o, rootfs, &err);
    is_str(s ? s->process.cwd : err.msg, "/", "cwd: default /");
    hull_spec_free(s);
    img.working_dir = "app";
    s = gen(&img, &o, rootfs, &err);
    is_str(s ? s->process.cwd : err.msg, "/app", "cwd: relative image WorkingDir anchored at /");
    hull_spec_free(s);
    o.workdir = "/work";
    s = gen(&img, &o, rootfs, &err);
    is_str(s ? s->process.cwd : err.msg, "/work", "cwd: -w wins");
    hull_spec_free(s);
    o.workdir = "rel";
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "absolute"), "cwd: relative -w -> error");
}

/* user spec -> "uid:gid:sgids" or the error message */
static char *user_of(const char *root, const char *img_user, const char *opt_user) {
    static char buf[HULL_ERR_MSG_MAX + 64];
    struct hull_image_config img = base_img();
    struct hull_run_opts o = base_opts();
    struct hull_err err;
    img.user = (char *)img_user;
    o.user = opt_user;
    struct hull_spec *s = gen(&img, &o, root, &err);
    if (!s) snprintf(buf, sizeof buf, "ERR %s", err.msg);
    else snprintf(buf, sizeof buf, "%u:%u:%s", s->process.user.uid, s->process.user.gid, gids(&s->process.user));
    hull_spec_free(s);
    return buf;
}

static void test_user(void) {
    is_str(user_of(rootfs, NULL, NULL), "0:0:10", "user: default root, member of wheel");
    is_str(user_of(rootfs, NULL, "alice"), "1000:1000:10,100", "user: name -> passwd ids + member groups");
    is_str(user_of(rootfs, "alice", NULL), "1000:1000:10,100", "user: image User used without -u");
    is_str(user_of(rootfs, "alice", "bob"), "1001:100:100,29", "user: -u wins over image User");
    is_str(user_of(rootfs, NULL, "alice:staff"), "1000:50:", "user: name:group (explicit group, no sgids)");
    is_str(user_of(rootfs, NULL, "alice:100"), "1000:100:", "user: name:gid");
    is_str(user_of(rootfs, NULL, "1000"), "1000:1000:10,100", "user: numeric uid found in passwd");
    is_str(user_of(rootfs, NULL, "4242"), "4242:0:", "user: numeric uid not in passwd -> gid 0");
    is_str(user_of(rootfs, NULL, "4242:4343"), "4242:4343:", "user: uid:gid numeric");
    is_str(user_of(rootfs, NULL, "4242:staff"), "4242:50:", "user: uid:group name");
    like(user_of(rootfs, NULL, "mallory"), "ERR user \"mallory\": no matching entry", "user: unknown name -> error");
    like(user_of(rootfs, NULL, "alice:nogroup"), "ERR group \"nogroup\"", "user: unknown group -> error");
    like(user_of(rootfs, NULL, "4294967295"), "ERR", "user: uid -1 refused");
    like(user_of(NULL, NULL, "alice"), "the image has none", "user: no rootfs -> names unresolvable");
    is_str(user_of(NULL, NULL, "5:6"), "5:6:", "user: no rootfs -> numeric ok");
    /* Hostile image: /etc/passwd -> host file (absolute), /etc/group -> ../../.. escape. */
    like(user_of(hostile, NULL, "evil"), "ERR user \"evil\"", "hostile: passwd symlink out of the rootfs not read");
    like(user_of(hostile, NULL, "0:evilgrp"), "ERR group \"evilgrp\"", "hostile: group symlink via .. not read");
    is_str(user_of(hostile, NULL, "0"), "0:0:", "hostile: numeric user still works");
    like(user_of(fifo_root, NULL, "alice"), "not a regular file", "passwd as a fifo: refused, no hang");
}

static void test_annotations(void) {
    struct hull_image_config img = base_img();
    struct hull_run_opts o = base_opts();
    struct hull_err err;
    o.name = "web1";
    struct hull_spec *s = gen(&img, &o, rootfs, &err);
    is_str(hull_spec_annotation(s, "org.example.team"), "infra", "labels -> annotations");
    is_str(hull_spec_annotation(s, "version"), "1.2", "labels -> annotations (2)");
    ok(s && !hull_spec_annotation(s, "run.oci.handler"), "label run.oci.handler is not passed through");
    is_str(hull_spec_annotation(s, "org.opencontainers.image.stopSignal"), "SIGQUIT", "stop signal annotation");
    is_str(hull_spec_annotation(s, "org.opencontainers.image.exposedPorts"), "80/tcp,53/udp", "exposed ports");
    is_str(hull_spec_annotation(s, "io.hull.image.ref"), "example/app:1.0", "image ref annotation");
    is_str(hull_spec_annotation(s, "io.hull.container.name"), "web1", "container name annotation");
    hull_spec_free(s);
    o.vm = true;
    s = gen(&img, &o, rootfs, &err);
    is_str(hull_spec_annotation(s, "run.oci.handler"), "vm", "--vm -> run.oci.handler=vm");
    hull_spec_free(s);
}

#define B(c) (UINT64_C(1) << (c))

static uint64_t caps_of(char **add, size_t na, char **drop, size_t nd, struct hull_err *err, struct hull_caps *all) {
    struct hull_image_config img = base_img();
    struct hull_run_opts o = base_opts();
    o.cap_add = add; o.n_cap_add = na; o.cap_drop = drop; o.n_cap_drop = nd;
    struct hull_spec *s = gen(&img, &o, rootfs, err);
    if (!s) return UINT64_MAX;
    uint64_t r = s->process.caps.bounding;
    if (all) *all = s->process.caps;
    hull_spec_free(s);
    return r;
}

static void test_caps(void) {
    struct hull_err err;
    struct hull_caps c = { 0 };
    uint64_t def = caps_of(NULL, 0, NULL, 0, &err, &c);
    is_int(__builtin_popcountll(def), 14, "caps: 14 by default");
    ok(def == hull_default_caps() && c.effective == def && c.permitted == def, "caps: bounding = effective = permitted");
    ok(c.inheritable == 0 && c.ambient == 0, "caps: inheritable and ambient empty");
    ok((def & B(CAP_CHOWN)) && (def & B(CAP_NET_BIND_SERVICE)) && !(def & B(CAP_SYS_ADMIN)) && !(def & B(CAP_NET_ADMIN)),
       "caps: CHOWN, NET_BIND_SERVICE yes; SYS_ADMIN, NET_ADMIN no");
    char *add[] = { "NET_ADMIN", "cap_sys_time" }, *drop[] = { "CAP_CHOWN", "mknod" };
    is_int((long long)caps_of(add, 2, drop, 2, &err, NULL),
           (long long)((def | B(CAP_NET_ADMIN) | B(CAP_SYS_TIME)) & ~B(CAP_CHOWN) & ~B(CAP_MKNOD)),
           "caps: add NET_ADMIN, cap_sys_time; drop CAP_CHOWN, mknod");
    char *all[] = { "ALL" }, *kill[] = { "KILL" };
    uint64_t full = hull_cap_last() >= 63 ? UINT64_MAX : B(hull_cap_last() + 1) - 1;
    is_int((long long)caps_of(all, 1, kill, 1, &err, NULL), (long long)(full & ~B(CAP_KILL)),
           "caps: --cap-add ALL --cap-drop KILL");
    is_int((long long)caps_of(kill, 1, all, 1, &err, NULL), (long long)B(CAP_KILL), "caps: --cap-drop ALL --cap-add KILL");
    is_int((long long)caps_of(NULL, 0, all, 1, &err, NULL), 0, "caps: --cap-drop ALL -> none");
    char *bogus[] = { "NET_BOGUS" };
    ok(caps_of(bogus, 1, NULL, 0, &err, NULL) == UINT64_MAX && strstr(err.msg, "NET_BOGUS"),
       "caps: unknown capability -> error (%s)", err.msg);
    ok(caps_of(NULL, 0, bogus, 1, &err, NULL) == UINT64_MAX, "caps: unknown capability in --cap-drop -> error");
}

static void test_mounts_resources(void) {
    struct hull_image_config img = base_img();
    struct hull_run_opts o = base_opts();
    struct hull_err err;
    struct hull_run_volume v[] = { { tmp, "/data", true }, { "/etc", "/host-etc", false } };
    o.volumes = v; o.n_volumes = 2; o.read_only = true;
    o.memory = 64 << 20; o.cpus = 0.5; o.pids_limit = 100;
    o.network_ns_path = "/proc/self/ns/net";
    struct hull_spec *s = gen(&img, &o, rootfs, &err);
    ok(s, "volumes/resources: generated (%s)", s ? "" : err.msg);
    if (!s) return;
    ok(s->root_readonly, "--read-only -> root.readonly");
    const struct hull_mount *data = NULL, *etc = NULL;
    bool proc = false, sysro = false, cg = false;
    for (size_t i = 0; i < s->n_mounts; i++) {
        const struct hull_mount *m = &s->mounts[i];
        if (!strcmp(m->destination, "/data")) data = m;
        if (!strcmp(m->destination, "/host-etc")) etc = m;
        if (!strcmp(m->destination, "/proc")) proc = true;
        if (!strcmp(m->destination, "/sys") && strstr(joinv(m->options, m->n_options), "ro")) sysro = true;
        if (!strcmp(m->destination, "/sys/fs/cgroup") && strstr(joinv(m->options, m->n_options), " ro")) cg = true;
    }
    ok(proc && sysro && cg, "mounts: /proc, /sys ro, /sys/fs/cgroup ro");
    is_str(data ? joinv(data->options, data->n_options) : NULL, "rbind rprivate ro", "volume :ro -> rbind + ro");
    is_str(data ? data->source : NULL, tmp, "volume source");
    is_str(etc ? joinv(etc->options, etc->n_options) : NULL, "rbind rprivate", "volume rw -> rbind");
    const struct hull_resources *r = &s->linux.resources;
    ok(r->memory.limit.set && r->memory.limit.v == 64 << 20, "--memory -> memory.limit");
    ok(r->cpu.quota.set && r->cpu.quota.v == 50000 && r->cpu.period.set && r->cpu.period.v == 100000,
       "--cpus 0.5 -> quota 50000 period 100000");
    ok(r->pids.limit.set && r->pids.limit.v == 100, "--pids-limit -> pids.limit");
    const struct hull_namespace *net = hull_spec_namespace(s, HULL_NS_NETWORK);
    is_str(net ? net->path : NULL, "/proc/self/ns/net", "network namespace path");
    ok(hull_spec_namespace(s, HULL_NS_PID) && hull_spec_namespace(s, HULL_NS_IPC) && hull_spec_namespace(s, HULL_NS_UTS) &&
       hull_spec_namespace(s, HULL_NS_MOUNT) && hull_spec_namespace(s, HULL_NS_CGROUP) &&
       !hull_spec_namespace(s, HULL_NS_USER), "namespaces: pid ipc uts mount cgroup (+net), no user");
    ok(s->linux.n_masked_paths >= 10 && s->linux.n_readonly_paths == 5, "masked and readonly paths");
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    ok(s->process.n_rlimits == 1 && s->process.rlimits[0].soft == s->process.rlimits[0].hard &&
       s->process.rlimits[0].hard <= rl.rlim_max, "RLIMIT_NOFILE soft = hard <= our hard limit (%llu)",
       (unsigned long long)(s->process.n_rlimits ? s->process.rlimits[0].hard : 0));
    ok(!s->process.no_new_privileges, "noNewPrivileges false (docker default)");
    hull_spec_free(s);

    o = base_opts();
    struct hull_run_volume bad1[] = { { "relative/dir", "/x", false } };
    o.volumes = bad1; o.n_volumes = 1;
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "must be absolute"), "volume: relative host path -> error");
    struct hull_run_volume bad2[] = { { "/nonexistent/hull-test", "/x", false } };
    o.volumes = bad2;
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "/nonexistent/hull-test"), "volume: missing host path -> error (%s)", err.msg);
    struct hull_run_volume bad3[] = { { "/etc", "rel", false } };
    o.volumes = bad3;
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "container path"), "volume: relative container path -> error");
    o = base_opts();
    o.cpus = -1;
    s = gen(&img, &o, rootfs, &err);
    ok(!s, "--cpus -1 -> error");
}

/* ---- seccomp --------------------------------------------------------------- */

static const struct hull_seccomp_rule *find_rule(const struct hull_seccomp *sc, const char *name,
                                                 enum hull_seccomp_action act) {
    for (size_t i = 0; i < sc->n_syscalls; i++)
        for (size_t k = 0; k < sc->syscalls[i].n_names; k++)
            if (!strcmp(sc->syscalls[i].names[k], name) && sc->syscalls[i].action == act) return &sc->syscalls[i];
    return NULL;
}

/* In a child: load the filter, then try syscalls; reports "name=errno ...". */
static void *thread_fn(void *a) { return a; }

static char *probe(const struct hull_seccomp *sc) {
    static char buf[512];
    int p[2];
    if (pipe(p) < 0) return "pipe failed";
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        struct hull_err err = { 0 };
        char out[512];
        /* no_new_privs lets the load work without CAP_SYS_ADMIN too. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || hull_seccomp_load(sc, NULL, &err) < 0) {
            snprintf(out, sizeof out, "LOAD %s", err.msg);
        } else {
#define TRY(call) ((call) < 0 ? errno : 0)
            /* Every probe is harmless if the filter let it through: bad
             * flags, a missing mount point, a throw-away child. */
            int kexec = TRY(syscall(SYS_kexec_load, 0, 0, NULL, 0x8000));
            int getp = TRY(syscall(SYS_getpid));
            int wr = TRY(write(p[1], "", 0));
            int unsh = TRY(unshare(CLONE_NEWUSER));
            int unsh_ok = TRY(unshare(CLONE_FILES));
            int keyctl = TRY(syscall(SYS_keyctl, 0, 0, 0, 0, 0));
            int mnt = TRY(syscall(SYS_mount, "none", "/nonexistent-hull-probe", "tmpfs", 0, NULL));
            int c3 = TRY(syscall(SYS_clone3, NULL, 0));
            int pers = TRY(syscall(SYS_personality, 0x0040000));   /* ADDR_NO_RANDOMIZE: not listed */
            pid_t f = fork();
            if (f == 0) _exit(0);
            if (f > 0) waitpid(f, NULL, 0);
            pthread_t t;
            int th = pthread_create(&t, NULL, thread_fn, NULL);
            if (th == 0) pthread_join(t, NULL);
            snprintf(out, sizeof out, "kexec=%d getpid=%d write=%d unshare_user=%d unshare_files=%d keyctl=%d "
                     "mount=%d clone3=%d personality=%d fork=%d thread=%d", kexec, getp, wr, unsh, unsh_ok, keyctl,
                     mnt, c3, pers, f > 0 ? 0 : errno, th);
        }
        if (write(p[1], out, strlen(out)) < 0) _exit(3);
        _exit(0);
    }
    close(p[1]);
    ssize_t n = pid > 0 ? hull_read_all(p[0], buf, sizeof buf - 1) : -1;
    close(p[0]);
    int st;
    if (pid > 0) waitpid(pid, &st, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void test_seccomp_default(void) {
    struct hull_image_config img = base_img();
    struct hull_run_opts o = base_opts();
    struct hull_err err;
    struct hull_spec *s = gen(&img, &o, rootfs, &err);
    ok(s && s->linux.seccomp.present, "seccomp: default profile present (%s)", s ? "" : err.msg);
    if (!s) return;
    const struct hull_seccomp *sc = &s->linux.seccomp;
    ok(sc->default_action == HULL_SCMP_ERRNO && sc->default_errno_ret.set && sc->default_errno_ret.v == 1,
       "seccomp: defaultAction ERRNO(EPERM)");
    is_str(joinv(sc->architectures, sc->n_architectures), "SCMP_ARCH_X86_64 SCMP_ARCH_X86 SCMP_ARCH_X32",
           "seccomp: x86_64, x86, x32");
    ok(find_rule(sc, "read", HULL_SCMP_ALLOW) && find_rule(sc, "write", HULL_SCMP_ALLOW) &&
       find_rule(sc, "execve", HULL_SCMP_ALLOW) && find_rule(sc, "openat", HULL_SCMP_ALLOW),
       "seccomp: read, write, execve, openat allowed");
    static const char *blocked[] = { "kexec_load", "kexec_file_load", "open_by_handle_at", "init_module",
                                     "finit_module", "delete_module", "mount", "umount2", "reboot", "swapon",
                                     "swapoff", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
                                     "request_key", "setns", "io_uring_setup", "acct", NULL };
    const char *leak = NULL;
    for (const char **b = blocked; *b; b++)
        if (find_rule(sc, *b, HULL_SCMP_ALLOW)) leak = *b;
    ok(!leak, "seccomp: dangerous syscalls not allowed (%s)", leak ? leak : "none");
    const struct hull_seccomp_rule *cl = find_rule(sc, "clone", HULL_SCMP_ALLOW);
    ok(cl && cl->n_args == 1 && cl->args[0].op == HULL_SCMP_CMP_MASKED_EQ && cl->args[0].index == 0 &&
       cl->args[0].value == 0x7e020000 && cl->args[0].value_two == 0,
       "seccomp: clone allowed only when (flags & CLONE_NEW*) == 0");
    const struct hull_seccomp_rule *c3 = find_rule(sc, "clone3", HULL_SCMP_ERRNO);
    ok(c3 && c3->errno_ret.set && c3->errno_ret.v == ENOSYS, "seccomp: clone3 -> ENOSYS (glibc falls back)");
    const struct hull_seccomp_rule *pers = find_rule(sc, "personality", HULL_SCMP_ALLOW);
    ok(pers && pers->n_args == 1 && pers->args[0].op == HULL_SCMP_CMP_EQ, "seccomp: personality only with values");
    ok(hull_kernel_at_least(4, 8) == (find_rule(sc, "ptrace", HULL_SCMP_ALLOW) != NULL),
       "seccomp: ptrace allowed on kernels >= 4.8");
    is_str(probe(sc), "kexec=1 getpid=0 write=0 unshare_user=1 unshare_files=0 keyctl=1 mount=1 clone3=38 "
                      "personality=1 fork=0 thread=0",
           "seccomp: loaded, kexec/keyctl/mount/unshare(NEWUSER) EPERM; fork, threads, read/write work");
    hull_spec_free(s);

    char *admin[] = { "SYS_ADMIN" };
    o.cap_add = admin; o.n_cap_add = 1;
    s = gen(&img, &o, rootfs, &err);
    ok(s && find_rule(&s->linux.seccomp, "mount", HULL_SCMP_ALLOW) && find_rule(&s->linux.seccomp, "setns", HULL_SCMP_ALLOW),
       "seccomp: with CAP_SYS_ADMIN, mount and setns allowed");
    cl = s ? find_rule(&s->linux.seccomp, "clone", HULL_SCMP_ALLOW) : NULL;
    ok(cl && cl->n_args == 0, "seccomp: with CAP_SYS_ADMIN, clone unrestricted");
    ok(s && !find_rule(&s->linux.seccomp, "kexec_load", HULL_SCMP_ALLOW), "seccomp: kexec_load still blocked");
    hull_spec_free(s);
}

static void test_seccomp_modes(void) {
    struct hull_image_config img = base_img();
    struct hull_run_opts o = base_opts();
    struct hull_err err;
    o.seccomp = "unconfined";
    struct hull_spec *s = gen(&img, &o, rootfs, &err);
    ok(s && !s->linux.seccomp.present, "seccomp=unconfined -> no linux.seccomp");
    hull_spec_free(s);

    char path[600];
    snprintf(path, sizeof path, "%s/oci.json", tmp);
    put(tmp, "oci.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
                         "\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\","
                         "\"errnoRet\":13,\"args\":[{\"index\":1,\"value\":18446744073709551615,"
                         "\"op\":\"SCMP_CMP_LE\"}]}]}");
    o.seccomp = path;
    s = gen(&img, &o, rootfs, &err);
    const struct hull_seccomp_rule *r = s ? find_rule(&s->linux.seccomp, "mkdirat", HULL_SCMP_ERRNO) : NULL;
    ok(s && s->linux.seccomp.default_action == HULL_SCMP_ALLOW && r && r->errno_ret.v == 13 &&
       r->n_args == 1 && r->args[0].value == UINT64_MAX,
       "seccomp=FILE (OCI format) used as linux.seccomp, uint64 values intact (%s)", s ? "" : err.msg);
    hull_spec_free(s);

    put(tmp, "docker.json",
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
        "\"archMap\":[{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]},"
        "{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]}],"
        "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\",\"comment\":\"base\"},"
        "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
        "{\"names\":[\"chroot\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_CHROOT\"]}},"
        "{\"names\":[\"arm_fadvise64_64\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"arm\"]}},"
        "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\"]},"
        "\"args\":[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
        "{\"name\":\"getpid\",\"action\":\"SCMP_ACT_ALLOW\"}]}");
    snprintf(path, sizeof path, "%s/docker.json", tmp);
    s = gen(&img, &o, rootfs, &err);
    const struct hull_seccomp *sc = s ? &s->linux.seccomp : NULL;
    ok(sc && sc->n_architectures == 3 && !strcmp(sc->architectures[0], "SCMP_ARCH_X86_64"),
       "seccomp=FILE (docker format): archMap -> x86_64 + sub-arches (%s)", s ? "" : err.msg);
    ok(sc && find_rule(sc, "read", HULL_SCMP_ALLOW) && find_rule(sc, "chroot", HULL_SCMP_ALLOW) &&
       find_rule(sc, "clone", HULL_SCMP_ALLOW) && find_rule(sc, "getpid", HULL_SCMP_ALLOW),
       "docker format: base, held-cap, excludes-unheld and \"name\" rules kept");
    ok(sc && !find_rule(sc, "mount", HULL_SCMP_ALLOW) && !find_rule(sc, "arm_fadvise64_64", HULL_SCMP_ALLOW),
       "docker format: rules for unheld caps and other arches dropped");
    hull_spec_free(s);

    put(tmp, "bad.json", "{\"defaultAction\":\"SCMP_ACT_BOGUS\"}");
    snprintf(path, sizeof path, "%s/bad.json", tmp);
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "bad.json") && strstr(err.msg, "SCMP_ACT_BOGUS"),
       "seccomp=FILE: unknown action -> error naming the file (%s)", err.msg);
    put(tmp, "bad.json", "{\"defaultAction\": ");
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "invalid JSON"), "seccomp=FILE: broken JSON -> error");
    put(tmp, "bad.json", "[1,2]");
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "object"), "seccomp=FILE: not an object -> error");
    snprintf(path, sizeof path, "%s/nope.json", tmp);
    s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "nope.json"), "seccomp=FILE: missing file -> error");
}

static void test_bad_utf8(void) {
    struct hull_image_config img = base_img();
    struct hull_run_opts o = base_opts();
    struct hull_err err;
    static struct hull_image_label bad[] = { { "k", "\xff\xfe" } };
    img.labels = bad; img.n_labels = 1;
    struct hull_spec *s = gen(&img, &o, rootfs, &err);
    ok(!s && strstr(err.msg, "UTF-8"), "a label that is not UTF-8 -> clear error");
}

int main(void) {
    setup();
    test_args();
    test_env();
    test_workdir_hostname();
    test_user();
    test_annotations();
    test_caps();
    test_mounts_resources();
    test_seccomp_default();
    test_seccomp_modes();
    test_bad_utf8();
    ok(n_outputs > 30 && n_valid == n_outputs, "every generated config.json parses and validates (%d/%d)", n_valid,
       n_outputs);
    cleanup();
    return done_testing();
}
