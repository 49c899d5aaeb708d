/* `exec`: runc's flags; the process defaults to the container's own
 * process.* (user, env, cwd, capabilities, rlimits, noNewPrivileges) with the
 * flags layered on top, or comes whole from --process. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lifecycle/container.h"

enum { O_CONSOLE = 256, O_CWD, O_PIDFILE, O_LABEL, O_APPARMOR, O_NNP, O_PRESERVE, O_IGNORE_PAUSED };

struct exec_flags {
    const char *console_socket, *cwd, *user, *process_file, *pid_file;
    char **env, **gids, **caps;
    size_t n_env, n_gids, n_caps;
    bool tty, detach, nnp;
    int preserve_fds;
};

static void exec_flags_release(struct exec_flags *f) {
    free(f->env);
    free(f->gids);
    free(f->caps);
}

/* The whole of a --process file; NULL (err filled) if it cannot be opened. */
static char *read_process_file(const char *path, size_t *len_out, struct hull_err *err) {
    _cleanup_fclose_ FILE *fp = fopen(path, "re");
    if (!fp) { hull_err_sys(err, "exec: --process %s", path); return NULL; }
    char *text = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 > cap) { cap = cap ? cap * 2 : 8192; text = realloc(text, cap); }
        size_t n = fread(text + len, 1, cap - len - 1, fp);
        if (n == 0) break;
        len += n;
    }
    text[len] = '\0';
    *len_out = len;
    return text;
}

static void push(char ***v, size_t *n, char *s) {
    *v = realloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = s;
}

static char **env_merge(struct hull_arena *a, char **base, size_t n_base, char **add, size_t n_add, size_t *out_n) {
    char **env = hull_arena_alloc(a, (n_base + n_add + 1) * sizeof *env);
    if (!env) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < n_base; i++) env[n++] = base[i];
    for (size_t i = 0; i < n_add; i++) {
        const char *eq = strchr(add[i], '=');
        size_t klen = eq ? (size_t)(eq - add[i]) : strlen(add[i]);
        size_t j;
        for (j = 0; j < n; j++)
            if (strncmp(env[j], add[i], klen) == 0 && env[j][klen] == '=') break;
        env[j] = add[i];
        if (j == n) n++;
    }
    env[n] = NULL;
    *out_n = n;
    return env;
}

static int build_process(const struct exec_flags *f, int argc, char **argv, struct hull_spec *spec,
                         struct hull_process *p, struct hull_err *err) {
    *p = spec->process;
    struct hull_arena *a = spec->arena;
    p->n_args = (size_t)argc;
    p->args = hull_arena_alloc(a, ((size_t)argc + 1) * sizeof *p->args);
    if (!p->args) return hull_err_set(err, ENOMEM, "exec: out of memory");
    for (int i = 0; i < argc; i++) p->args[i] = argv[i];
    p->terminal = f->tty;
    p->env = env_merge(a, spec->process.env, spec->process.n_env, f->env, f->n_env, &p->n_env);
    if (!p->env) return hull_err_set(err, ENOMEM, "exec: out of memory");
    if (f->cwd) p->cwd = (char *)f->cwd;
    if (f->user) {
        char *end;
        unsigned long uid = strtoul(f->user, &end, 10);
        if (end == f->user || (*end && *end != ':'))
            return hull_err_set(err, EINVAL, "exec: --user: \"%s\" is not uid[:gid]", f->user);
        p->user.uid = (uint32_t)uid;
        if (*end == ':') {
            char *gend;
            unsigned long gid = strtoul(end + 1, &gend, 10);
            if (gend == end + 1 || *gend) return hull_err_set(err, EINVAL, "exec: --user: \"%s\" is not uid[:gid]", f->user);
            p->user.gid = (uint32_t)gid;
        }
    }
    if (f->n_gids) {
        p->user.additional_gids = hull_arena_alloc(a, f->n_gids * sizeof(uint32_t));
        if (!p->user.additional_gids) return hull_err_set(err, ENOMEM, "exec: out of memory");
        for (size_t i = 0; i < f->n_gids; i++) {
            char *end;
            unsigned long g = strtoul(f->gids[i], &end, 10);
            if (end == f->gids[i] || *end) return hull_err_set(err, EINVAL, "exec: --additional-gids: \"%s\" is not a number", f->gids[i]);
            p->user.additional_gids[i] = (uint32_t)g;
        }
        p->user.n_additional_gids = f->n_gids;
    }
    for (size_t i = 0; i < f->n_caps; i++) {
        int cap = hull_cap_from_name(f->caps[i]);
        if (cap < 0) return hull_err_set(err, EINVAL, "exec: --cap: unknown capability \"%s\"", f->caps[i]);
        uint64_t bit = 1ULL << cap;
        p->caps.present = true;
        p->caps.bounding |= bit;
        p->caps.effective |= bit;
        p->caps.permitted |= bit;
    }
    if (f->nnp) p->no_new_privileges = true;
    return 0;
}

int verb_exec(int argc, char **argv) {
    static const struct option opts[] = {
        {"console-socket", required_argument, NULL, O_CONSOLE}, {"cwd", required_argument, NULL, O_CWD},
        {"env", required_argument, NULL, 'e'}, {"tty", no_argument, NULL, 't'},
        {"user", required_argument, NULL, 'u'}, {"additional-gids", required_argument, NULL, 'g'},
        {"process", required_argument, NULL, 'p'}, {"detach", no_argument, NULL, 'd'},
        {"pid-file", required_argument, NULL, O_PIDFILE}, {"process-label", required_argument, NULL, O_LABEL},
        {"apparmor", required_argument, NULL, O_APPARMOR}, {"no-new-privs", no_argument, NULL, O_NNP},
        {"cap", required_argument, NULL, 'c'}, {"preserve-fds", required_argument, NULL, O_PRESERVE},
        {"ignore-paused", no_argument, NULL, O_IGNORE_PAUSED}, {"interactive", no_argument, NULL, 'i'}, {0},
    };
    __attribute__((cleanup(exec_flags_release))) struct exec_flags f = {0};
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+ie:tu:g:p:dc:", opts, NULL)) != -1) {
        switch (c) {
        case O_CONSOLE: f.console_socket = optarg; break;
        case O_CWD: f.cwd = optarg; break;
        case 'e': push(&f.env, &f.n_env, optarg); break;
        case 't': f.tty = true; break;
        case 'i': break;   /* stdin is always passed through (podman's -i) */
        case 'u': f.user = optarg; break;
        case 'g': push(&f.gids, &f.n_gids, optarg); break;
        case 'p': f.process_file = optarg; break;
        case 'd': f.detach = true; break;
        case O_PIDFILE: f.pid_file = optarg; break;
        case O_NNP: f.nnp = true; break;
        case 'c': push(&f.caps, &f.n_caps, optarg); break;
        case O_PRESERVE:
            if (!cli_parse_int(optarg, &f.preserve_fds))
                return cli_usage_error("exec", "--preserve-fds: \"%s\" is not a number", optarg);
            break;
        case O_LABEL: case O_APPARMOR: case O_IGNORE_PAUSED: break;
        default: return cli_usage_error("exec", "unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("exec", "expects a container id");
    const char *id = cli_resolve_id(argv[optind++]);
    struct hull_err err = {0};
    _cleanup_spec_ struct hull_spec *owner = NULL;
    struct hull_process proc;
    if (f.process_file) {
        size_t len;
        _cleanup_free_ char *text = read_process_file(f.process_file, &len, &err);
        if (!text) return cli_fail(&err);
        if (hull_process_parse(text, len, &owner, &err) < 0) {
            hull_err_prefix(&err, "exec: %s: ", f.process_file);
            return cli_fail(&err);
        }
        proc = owner->process;
        if (f.tty) proc.terminal = true;
    } else {
        if (optind >= argc) return cli_usage_error("exec", "expects a command to run (or --process)");
        if (hull_container_config(g_opts.root, id, &owner, &err) < 0 ||
            build_process(&f, argc - optind, argv + optind, owner, &proc, &err) < 0)
            return cli_fail(&err);
    }
    bool want_master = proc.terminal && !f.console_socket && !f.detach;
    struct hull_exec_opts o = {
        .root = g_opts.root, .id = id, .process_owner = owner, .process = &proc,
        .console_socket = f.console_socket, .want_console_master = want_master,
        .pid_file = f.pid_file, .preserve_fds = f.preserve_fds,
    };
    pid_t pid;
    _cleanup_close_ int master = -1;
    if (hull_container_exec(&o, &pid, &master, &err) < 0) return cli_fail(&err);
    if (f.detach) return 0;
    return cli_wait_forward(pid, master);
}
