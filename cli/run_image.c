/* `hull run [flags] IMAGE [CMD...]`: a container from an image, like podman
 * run. The image's layers become an overlay rootfs, the image config and the
 * flags become config.json (lifecycle/image_spec.c), and the container then
 * goes through the same create/start as any bundle. Foreground: hull waits,
 * forwarding signals and the terminal. -d: a monitor process (subreaper)
 * keeps stdout/stderr in a log and records the exit status. */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/image.h"
#include "lifecycle/container.h"
#include "lifecycle/ctr_store.h"
#include "base/fsutil.h"
#include "lifecycle/image_spec.h"
#include "net/net.h"
#include "vm/guest/rootfs_image.h"

struct run_flags {
    struct hull_run_opts o;
    bool rm, detach;
    const char *image;
    /* growable lists backing o.* */
    char **env, **cap_add, **cap_drop;
    size_t n_env, n_cap_add, n_cap_drop;
    struct hull_run_volume *vols;
    size_t n_vols;
    const char *network;                 /* --network as given (NULL: bridge) */
    struct hull_port *ports;             /* -p */
    size_t n_ports;
    struct hull_net_req net;
    struct hull_net_plan plan;
    char vm_root_image[PATH_MAX];        /* --vm: the image's cached root image */
};

static void push(char ***v, size_t *n, char *s) {
    *v = realloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = s;
}

static bool parse_size(const char *s, int64_t *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return false;
    double mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1024.0; end++; break;
    case 'm': case 'M': mul = 1048576.0; end++; break;
    case 'g': case 'G': mul = 1073741824.0; end++; break;
    }
    if (*end == 'b' || *end == 'B') end++;
    if (*end) return false;
    *out = (int64_t)(v * mul);
    return true;
}

static int parse_volume(struct run_flags *f, char *spec) {
    /* HOST:CTR[:ro|:rw] */
    char *c1 = strchr(spec, ':');
    if (!c1) return cli_usage_error("run", "-v %s: expected HOST:CONTAINER[:ro]", spec);
    *c1 = '\0';
    char *ctr = c1 + 1, *c2 = strchr(ctr, ':');
    bool ro = false;
    if (c2) {
        *c2 = '\0';
        if (strcmp(c2 + 1, "ro") == 0) ro = true;
        else if (strcmp(c2 + 1, "rw") != 0) return cli_usage_error("run", "-v: unknown option \"%s\" (ro or rw)", c2 + 1);
    }
    f->vols = realloc(f->vols, (f->n_vols + 1) * sizeof *f->vols);
    f->vols[f->n_vols++] = (struct hull_run_volume){.host = spec, .ctr = ctr, .ro = ro};
    return 0;
}

enum { O_RM = 256, O_NAME, O_ENVFILE, O_RO, O_MEM, O_CPUS, O_PIDS, O_CAPADD, O_CAPDROP, O_SECOPT, O_HOST,
       O_ENTRY, O_VM, O_NETWORK };

static const struct option run_opts[] = {
    {"rm", no_argument, NULL, O_RM}, {"detach", no_argument, NULL, 'd'},
    {"interactive", no_argument, NULL, 'i'}, {"tty", no_argument, NULL, 't'},
    {"name", required_argument, NULL, O_NAME}, {"env", required_argument, NULL, 'e'},
    {"env-file", required_argument, NULL, O_ENVFILE}, {"workdir", required_argument, NULL, 'w'},
    {"user", required_argument, NULL, 'u'}, {"volume", required_argument, NULL, 'v'},
    {"read-only", no_argument, NULL, O_RO}, {"memory", required_argument, NULL, O_MEM},
    {"cpus", required_argument, NULL, O_CPUS}, {"pids-limit", required_argument, NULL, O_PIDS},
    {"cap-add", required_argument, NULL, O_CAPADD}, {"cap-drop", required_argument, NULL, O_CAPDROP},
    {"security-opt", required_argument, NULL, O_SECOPT}, {"hostname", required_argument, NULL, O_HOST},
    {"entrypoint", required_argument, NULL, O_ENTRY}, {"vm", no_argument, NULL, O_VM},
    {"network", required_argument, NULL, O_NETWORK}, {"net", required_argument, NULL, O_NETWORK},
    {"publish", required_argument, NULL, 'p'},
    {0},
};

/* Is this `run` the image form? runc's form takes exactly one id and a bundle. */
bool cli_run_is_image_form(int argc, char **argv) {
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            positional++;
            continue;
        }
        const char *n = a + (a[1] == '-' ? 2 : 1);
        static const char *const image_only[] = {"rm", "i", "t", "it", "ti", "dit", "itd", "name", "e", "env",
            "env-file", "w", "workdir", "u", "user", "v", "volume", "read-only", "memory", "cpus", "pids-limit",
            "cap-add", "cap-drop", "security-opt", "hostname", "entrypoint", "network", "net", "interactive", "tty",
            "p", "publish"};
        for (size_t k = 0; k < sizeof image_only / sizeof *image_only; k++) {
            size_t l = strlen(image_only[k]);
            if (strncmp(n, image_only[k], l) == 0 && (n[l] == '\0' || n[l] == '=')) return true;
        }
        /* --vm goes with both forms; runc's own flags mean the bundle form */
        static const char *const oci_only[] = {"b", "bundle", "console-socket", "pid-file", "preserve-fds",
                                               "no-pivot", "no-new-keyring", "keep", "no-subreaper"};
        for (size_t k = 0; k < sizeof oci_only / sizeof *oci_only; k++) {
            size_t l = strlen(oci_only[k]);
            if (strncmp(n, oci_only[k], l) == 0 && (n[l] == '\0' || n[l] == '=')) return false;
        }
    }
    if (positional > 1) return true;
    if (positional == 1) return access("config.json", F_OK) != 0;   /* no bundle here: an image */
    return false;
}

static int parse_run(int argc, char **argv, struct run_flags *f) {
    memset(f, 0, sizeof *f);
    f->plan.setup_lock = -1;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+ditqe:w:u:v:p:", run_opts, NULL)) != -1) {
        switch (c) {
        case O_RM: f->rm = true; break;
        case 'd': f->detach = true; break;
        case 'i': f->o.interactive = true; break;
        case 't': f->o.tty = true; break;
        case 'q': break;
        case O_NAME: f->o.name = optarg; break;
        case 'e': push(&f->env, &f->n_env, optarg); break;
        case O_ENVFILE: f->o.env_file = optarg; break;
        case 'w': f->o.workdir = optarg; break;
        case 'u': f->o.user = optarg; break;
        case 'v': if (parse_volume(f, optarg)) return 1; break;
        case O_RO: f->o.read_only = true; break;
        case O_MEM:
            if (!parse_size(optarg, &f->o.memory) || f->o.memory <= 0) return cli_usage_error("run", "--memory: invalid size \"%s\"", optarg);
            break;
        case O_CPUS: {
            char *end;
            f->o.cpus = strtod(optarg, &end);
            if (*end || f->o.cpus <= 0) return cli_usage_error("run", "--cpus: invalid number \"%s\"", optarg);
            break;
        }
        case O_PIDS: {
            char *end;
            f->o.pids_limit = strtoll(optarg, &end, 10);
            if (*end || f->o.pids_limit == 0) return cli_usage_error("run", "--pids-limit: invalid number \"%s\"", optarg);
            break;
        }
        case O_CAPADD: push(&f->cap_add, &f->n_cap_add, optarg); break;
        case O_CAPDROP: push(&f->cap_drop, &f->n_cap_drop, optarg); break;
        case O_SECOPT:
            if (strncmp(optarg, "seccomp=", 8) != 0)
                return cli_usage_error("run", "--security-opt: only seccomp=FILE|unconfined is supported, not \"%s\"", optarg);
            f->o.seccomp = optarg + 8;
            break;
        case O_HOST: f->o.hostname = optarg; break;
        case O_ENTRY: f->o.entrypoint = optarg; break;
        case O_VM: f->o.vm = true; break;
        case O_NETWORK: f->network = optarg; break;
        case 'p': {
            struct hull_err e = {0};
            f->ports = realloc(f->ports, (f->n_ports + 1) * sizeof *f->ports);
            if (hull_port_parse(optarg, &f->ports[f->n_ports], &e) < 0) return cli_usage_error("run", "%s", e.msg);
            f->n_ports++;
            break;
        }
        default:
            return cli_usage_error("run", "unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("run", "expects an IMAGE");
    f->image = argv[optind++];
    f->o.cmd = argv + optind;
    f->o.n_cmd = (size_t)(argc - optind);
    f->o.env = f->env;
    f->o.n_env = f->n_env;
    f->o.cap_add = f->cap_add;
    f->o.n_cap_add = f->n_cap_add;
    f->o.cap_drop = f->cap_drop;
    f->o.n_cap_drop = f->n_cap_drop;
    f->o.volumes = f->vols;
    f->o.n_volumes = f->n_vols;
    if (g_opts.vm) f->o.vm = true;
    /* without root there is no bridge to plug into (rootless: a namespace
     * of its own with loopback only, unless asked otherwise) */
    if (!f->network && geteuid() != 0) f->network = "none";
    /* a microVM has no network device yet: its own loopback only */
    if (f->o.vm && ((f->network && strcmp(f->network, "none") != 0) || f->n_ports))
        return cli_usage_error("run", "--vm: microVM containers have no network yet (only --network none)");
    if (f->o.vm) f->network = "none";
    struct hull_err e = {0};
    if (hull_net_parse_mode(f->network, &f->net, &e) < 0) return cli_usage_error("run", "%s", e.msg);
    f->net.ports = f->ports;
    f->net.n_ports = f->n_ports;
    return 0;
}

static void free_run(struct run_flags *f) {
    free(f->env);
    free(f->cap_add);
    free(f->cap_drop);
    free(f->vols);
    free(f->ports);
    hull_net_plan_done(&f->plan);
}

/* The container's network before create (net/net.h): address, bridge, rules,
 * and the hosts/resolv.conf/hostname files the config mounts. */
static int setup_network(struct run_flags *f, struct hull_ctr *c, struct hull_err *err) {
    char host12[13];
    snprintf(host12, sizeof host12, "%s", c->id);
    const char *hostname = f->o.hostname ? f->o.hostname : host12;
    if (f->net.mode == HULL_NET_CONTAINER) {
        struct hull_ctr other;
        if (hull_ctr_find(cli_data_root(), f->net.target, &other, err) < 0)
            return hull_err_prefix(err, "--network container:%s: ", f->net.target);
        struct hull_state st;
        enum hull_status status = HULL_STOPPED;
        if (hull_container_state(g_opts.root, other.id, &st, &status, err) == 0) {
            snprintf(f->net.ns_path, sizeof f->net.ns_path, "/proc/%d/ns/net", (int)st.pid);
            hull_state_release(&st);
        }
        if (status != HULL_RUNNING && status != HULL_PAUSED && status != HULL_CREATED)
            return hull_err_set(err, ESRCH, "--network container:%s: that container is not running", f->net.target);
        snprintf(f->net.share_dir, sizeof f->net.share_dir, "%s", other.dir);
    }
    int r = hull_net_prepare(cli_data_root(), c->id, c->name, hostname, &f->net, &f->plan, err);
    if (r < 0) return r;
    f->o.etc_hosts = f->plan.hosts;
    f->o.etc_resolv = f->plan.resolv;
    f->o.etc_hostname = f->plan.hostname;
    if (f->plan.ns_path[0]) f->o.network_ns_path = f->plan.ns_path;
    f->o.host_network = f->plan.host;
    return 0;
}

static int prepare_bundle(struct run_flags *f, struct hull_ctr *c, bool *made, struct hull_err *err) {
    _cleanup_image_store_ struct hull_image_store *s = NULL;
    int r = cli_open_store(&s, err);
    if (r < 0) return r;
    _cleanup_image_config_ struct hull_image_config *img = NULL;
    _cleanup_strv_ char **layers = NULL;   /* NULL-terminated (hull_image_rootfs_layers) */
    size_t n = 0;
    if ((r = hull_image_inspect(s, f->image, &img, err)) < 0) {
        if (err->code == ENOENT)
            hull_err_set(err, ENOENT, "image \"%s\" not found (import it with: hull image import FILE --name %s)",
                         f->image, f->image);
        return r;
    }
    char ref[400];
    snprintf(ref, sizeof ref, "%s:%s", img->ref.name, img->ref.tag);
    if ((r = hull_ctr_new(cli_data_root(), ref, f->o.name, f->rm, c, err)) < 0) return r;
    *made = true;
    snprintf(c->image_digest, sizeof c->image_digest, "%s", img->ref.digest);
    if ((r = hull_image_rootfs_layers(s, ref, NULL, &layers, &n, err)) < 0) return r;
    if ((r = hull_ctr_mount_rootfs(c, layers, n, err)) < 0) return r;
    char rootfs[PATH_MAX];
    hull_ctr_path(c, "bundle/rootfs", rootfs, sizeof rootfs);
    /* --vm: the guest's root is the image's own, cached across containers; built here, from the
     * overlay just mounted, while its upper is still empty (nothing but the layers in it) */
    if (f->o.vm && (r = hull_rootfs_image_for_layers(cli_data_root(), layers, n, rootfs, f->vm_root_image,
                                                     sizeof f->vm_root_image, NULL, err)) < 0)
        return r;
    f->o.id = c->id;
    if ((r = setup_network(f, c, err)) < 0) return r;
    _cleanup_free_ char *json = hull_image_spec_json(img, &f->o, rootfs, err);
    if (!json) return -(err->code ? err->code : EINVAL);
    char bundle[PATH_MAX];
    hull_ctr_path(c, "bundle", bundle, sizeof bundle);
    _cleanup_close_ int bfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bfd < 0 || hull_write_file_atomic(bfd, "config.json", json, strlen(json), 0600) < 0)
        return hull_err_sys(err, "write %s/config.json", bundle);
    /* the command as `ps` shows it */
    size_t len = 0;
    _cleanup_spec_ struct hull_spec *spec = NULL;
    struct hull_err e2;
    if (hull_spec_parse(json, strlen(json), &spec, &e2) == 0)
        for (size_t i = 0; i < spec->process.n_args && len < sizeof c->command - 1; i++)
            len += (size_t)snprintf(c->command + len, sizeof c->command - len, "%s%s", i ? " " : "", spec->process.args[i]);
    return hull_ctr_save(c, err);
}

/* Everything up to a bundle ready for create: record, rootfs, config.json.
 * On failure the record made on the way is removed again. */
static int prepare(struct run_flags *f, struct hull_ctr *c, struct hull_err *err) {
    bool made = false;
    int r = prepare_bundle(f, c, &made, err);
    if (r < 0 && made) {
        struct hull_err ignored;
        hull_ctr_remove(c, &ignored);
    }
    return r;
}

static void finish(struct hull_ctr *c, int code) {
    struct hull_err err;
    hull_container_delete(g_opts.root, c->id, true, &err);
    snprintf(c->status, sizeof c->status, "exited");
    c->exit_code = code;
    hull_now_rfc3339(c->finished, sizeof c->finished);
    if (c->auto_remove) hull_ctr_remove(c, &err);
    else {
        hull_net_release(cli_data_root(), c->id, false, &err);   /* address and ports free at exit */
        hull_ctr_umount_rootfs(c, &err);   /* the upper layer stays until rm */
        hull_ctr_save(c, &err);
    }
}

static int create_start(struct hull_ctr *c, bool want_master, struct run_flags *f, struct hull_created *out,
                        struct hull_err *err) {
    struct hull_net_plan *plan = &f->plan;
    char bundle[PATH_MAX];
    hull_ctr_path(c, "bundle", bundle, sizeof bundle);
    struct hull_create_opts o = {.root = g_opts.root, .id = c->id, .bundle = bundle,
                                 .want_console_master = want_master, .force_vm = g_opts.vm,
                                 .vm_root_image = f->vm_root_image[0] ? f->vm_root_image : NULL};
    int r = hull_container_create(&o, out, err);
    if (r < 0) return r;
    /* the init waits in its new namespace: plug the network in, then let it go */
    if ((r = hull_net_attach(plan, out->pid, err)) < 0 || (r = hull_container_start(g_opts.root, c->id, err)) < 0) {
        struct hull_err ignored;
        hull_container_delete(g_opts.root, c->id, true, &ignored);
        if (out->console_master >= 0) close(out->console_master);
        return r;
    }
    hull_net_plan_done(plan);
    snprintf(c->status, sizeof c->status, "running");
    return hull_ctr_save(c, err);
}

/* ---- the monitor of a detached container ------------------------------- */

static void log_line(int logfd, const char *stream, const char *buf, size_t len) {
    char ts[64];
    hull_now_rfc3339(ts, sizeof ts);
    char head[96];
    int hl = snprintf(head, sizeof head, "%s %s ", ts, stream);
    hull_write_all(logfd, head, (size_t)hl);
    hull_write_all(logfd, buf, len);
    hull_write_all(logfd, "\n", 1);
}

/* Splits what arrives on a pipe into lines; a partial line waits for more. */
struct line_buf { char buf[16384]; size_t len; };

static bool pump_lines(int fd, struct line_buf *lb, int logfd, const char *stream) {
    ssize_t n = read(fd, lb->buf + lb->len, sizeof lb->buf - lb->len);
    if (n <= 0) {
        if (n < 0 && errno == EINTR) return true;
        if (lb->len) log_line(logfd, stream, lb->buf, lb->len);
        lb->len = 0;
        return false;
    }
    lb->len += (size_t)n;
    char *start = lb->buf, *nl;
    while ((nl = memchr(start, '\n', lb->len - (size_t)(start - lb->buf)))) {
        log_line(logfd, stream, start, (size_t)(nl - start));
        start = nl + 1;
    }
    size_t rest = lb->len - (size_t)(start - lb->buf);
    if (rest == sizeof lb->buf) { log_line(logfd, stream, lb->buf, rest); rest = 0; start = lb->buf + lb->len; }
    memmove(lb->buf, start, rest);
    lb->len = rest;
    return true;
}

static void __attribute__((noreturn)) monitor(struct hull_ctr *c, struct run_flags *f, int ready_fd, pid_t parent) {
    struct hull_err err = {0};
    /* Until the container runs, the monitor lives only as long as the `hull run -d`
     * that started it: a run killed half-way is abandoned as a whole, and what it
     * made so far (record, mount, lease, a 'creating' state) is `rm -f NAME`'s to
     * clean up, with nobody still adding to it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    char logp[PATH_MAX];
    hull_ctr_path(c, "ctr.log", logp, sizeof logp);
    int logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int outp[2], errp[2];
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (logfd < 0 || nul < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        hull_err_sys(&err, "monitor: set up the log");
        goto fail;
    }
    /* the container inherits 0/1/2: /dev/null in, the two pipes out */
    dup2(nul, 0);
    dup2(outp[1], 1);
    dup2(errp[1], 2);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    struct hull_created cr;
    if (create_start(c, false, f, &cr, &err) < 0) goto fail;
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    dup2(nul, 1);
    dup2(nul, 2);
    close(outp[1]);
    close(errp[1]);
    c->monitor_pid = getpid();
    hull_ctr_save(c, &err);
    prctl(PR_SET_PDEATHSIG, 0);   /* the container runs: the monitor outlives run -d from here */
    hull_write_all(ready_fd, "OK", 2);
    close(ready_fd);

    struct line_buf lo = {.len = 0}, le = {.len = 0};
    bool out_open = true, err_open = true, exited = false;
    int status = 0;
    exited = waitpid(cr.pid, &status, WNOHANG) == cr.pid;
    while (out_open || err_open || !exited) {
        struct pollfd p[3] = {{.fd = out_open ? outp[0] : -1, .events = POLLIN},
                              {.fd = err_open ? errp[0] : -1, .events = POLLIN},
                              {.fd = sfd, .events = POLLIN}};
        if (poll(p, 3, exited ? 200 : -1) == 0 && exited) break;   /* a straggler holds a pipe */
        if (p[0].revents) out_open = pump_lines(outp[0], &lo, logfd, "stdout");
        if (p[1].revents) err_open = pump_lines(errp[0], &le, logfd, "stderr");
        if (p[2].revents) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) < 0) { /* nothing */ }
            pid_t w;
            int st;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                if (w == cr.pid) { status = st; exited = true; }
        }
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
    struct hull_ctr now;
    struct hull_err e2;
    /* `rm -f` may have removed us meanwhile */
    if (hull_ctr_load(cli_data_root(), c->id, &now, &e2) == 0) finish(c, code);
    _exit(0);
fail:;
    char msg[HULL_ERR_MSG_MAX + 2];
    int n = snprintf(msg, sizeof msg, "E%s", err.msg);
    hull_write_all(ready_fd, msg, (size_t)n);
    struct hull_err ignored;
    hull_ctr_remove(c, &ignored);
    _exit(1);
}

static int run_detached(struct hull_ctr *c, struct run_flags *f, struct hull_err *err) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return hull_err_sys(err, "run -d: pipe");
    fflush(stdout);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return hull_err_sys(err, "run -d: fork the monitor");
    if (pid == 0) {
        close(p[0]);
        monitor(c, f, p[1], parent);
    }
    close(p[1]);
    char buf[HULL_ERR_MSG_MAX + 2];
    ssize_t n = hull_read_all(p[0], buf, sizeof buf - 1);
    close(p[0]);
    if (n >= 2 && buf[0] == 'O' && buf[1] == 'K') {
        printf("%s\n", c->id);
        return 0;
    }
    buf[n > 0 ? n : 0] = '\0';
    waitpid(pid, NULL, 0);
    return hull_err_set(err, EIO, "%s", n > 1 ? buf + 1 : "the monitor exited before the container started");
}

int cli_run_image(int argc, char **argv) {
    struct run_flags f;
    if (parse_run(argc, argv, &f)) { free_run(&f); return 1; }
    struct hull_err err = {0};
    struct hull_ctr c;
    int rc;
    if (f.detach && f.o.tty) {
        hull_err_set(&err, ENOTSUP, "run: -d with -t is not supported yet (logs are line-based); drop -t");
        rc = cli_fail(&err);
        goto out;
    }
    if (prepare(&f, &c, &err) < 0) { rc = cli_fail(&err); goto out; }
    if (f.detach) {
        rc = run_detached(&c, &f, &err) < 0 ? cli_fail(&err) : 0;
        goto out;
    }
    if (!f.o.interactive) {
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul >= 0) { dup2(nul, 0); close(nul); }
    }
    struct hull_created cr;
    if (create_start(&c, f.o.tty, &f, &cr, &err) < 0) {
        struct hull_err ignored;
        hull_ctr_remove(&c, &ignored);
        rc = cli_fail(&err);
        goto out;
    }
    rc = cli_wait_forward(cr.pid, cr.console_master);
    if (cr.console_master >= 0) close(cr.console_master);
    finish(&c, rc);
out:
    free_run(&f);
    return rc;
}
