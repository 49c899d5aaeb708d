/* The OCI lifecycle verbs, flag for flag as runc: create, start, run, state,
 * kill, delete. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lifecycle/container.h"

enum { O_BUNDLE = 256, O_CONSOLE, O_PIDFILE, O_NOPIVOT, O_NOKEYRING, O_PRESERVE, O_DETACH, O_KEEP, O_NOSUBREAPER,
       O_VM };

static const struct option create_opts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"console-socket", required_argument, NULL, O_CONSOLE},
    {"pid-file", required_argument, NULL, O_PIDFILE},
    {"no-pivot", no_argument, NULL, O_NOPIVOT},
    {"no-new-keyring", no_argument, NULL, O_NOKEYRING},
    {"preserve-fds", required_argument, NULL, O_PRESERVE},
    {"detach", no_argument, NULL, 'd'},
    {"keep", no_argument, NULL, O_KEEP},
    {"no-subreaper", no_argument, NULL, O_NOSUBREAPER},
    {"vm", no_argument, NULL, O_VM},   /* this container in a microVM (as the global --vm) */
    {0},
};

struct create_flags {
    struct hull_create_opts o;
    bool detach, keep;
};

static int parse_create(const char *verb, int argc, char **argv, struct create_flags *f, bool is_run) {
    memset(f, 0, sizeof *f);
    f->o.root = g_opts.root;
    f->o.bundle = ".";
    f->o.force_vm = g_opts.vm;
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+b:d", create_opts, NULL)) != -1) {
        switch (c) {
        case 'b': f->o.bundle = optarg; break;
        case O_CONSOLE: f->o.console_socket = optarg; break;
        case O_PIDFILE: f->o.pid_file = optarg; break;
        case O_NOPIVOT: f->o.no_pivot = true; break;
        case O_NOKEYRING: f->o.no_new_keyring = true; break;
        case O_PRESERVE:
            if (!cli_parse_int(optarg, &f->o.preserve_fds))
                return cli_usage_error(verb, "--preserve-fds: \"%s\" is not a number", optarg);
            break;
        case 'd': if (!is_run) goto bad; f->detach = true; break;
        case O_KEEP: if (!is_run) goto bad; f->keep = true; break;
        case O_NOSUBREAPER: break;
        case O_VM: f->o.force_vm = true; break;
        default:
        bad:
            return cli_usage_error(verb, "unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return cli_usage_error(verb, "expects exactly one container id");
    f->o.id = argv[optind];
    return 0;
}

int verb_create(int argc, char **argv) {
    struct create_flags f;
    if (parse_create("create", argc, argv, &f, false)) return 1;
    struct hull_created out;
    struct hull_err err = {0};
    if (hull_container_create(&f.o, &out, &err) < 0) return cli_fail(&err);
    return 0;
}

int verb_run(int argc, char **argv) {
    if (cli_run_is_image_form(argc, argv)) return cli_run_image(argc, argv);
    struct create_flags f;
    if (parse_create("run", argc, argv, &f, true)) return 1;
    /* runc run -t without a socket: hull holds the pty and proxies it. */
    if (!f.o.console_socket && !f.detach) f.o.want_console_master = true;
    struct hull_created out;
    struct hull_err err = {0};
    if (hull_container_create(&f.o, &out, &err) < 0) return cli_fail(&err);
    if (hull_container_start(f.o.root, f.o.id, &err) < 0) {
        struct hull_err ignored;
        hull_container_delete(f.o.root, f.o.id, true, &ignored);
        return cli_fail(&err);
    }
    if (f.detach) return 0;
    int code = cli_wait_forward(out.pid, out.console_master);
    if (out.console_master >= 0) close(out.console_master);
    if (!f.keep && hull_container_delete(f.o.root, f.o.id, true, &err) < 0) cli_fail(&err);
    return code;
}

static int one_id(const char *verb, int argc, char **argv, const char **id) {
    if (argc - optind < 1) return cli_usage_error(verb, "expects a container id");
    *id = cli_resolve_id(argv[optind]);
    return 0;
}

int verb_start(int argc, char **argv) {
    optind = 0;
    if (argc != 2) return cli_usage_error("start", "expects exactly one container id");
    struct hull_err err = {0};
    if (hull_container_start(g_opts.root, cli_resolve_id(argv[1]), &err) < 0) return cli_fail(&err);
    return 0;
}

int verb_state(int argc, char **argv) {
    if (argc != 2) return cli_usage_error("state", "expects exactly one container id");
    struct hull_state st;
    enum hull_status status;
    struct hull_err err = {0};
    if (hull_container_state(g_opts.root, cli_resolve_id(argv[1]), &st, &status, &err) < 0) return cli_fail(&err);
    char *json = hull_state_json(&st, status, true, true);
    printf("%s\n", json ? json : "{}");
    free(json);
    hull_state_release(&st);
    return 0;
}

int verb_kill(int argc, char **argv) {
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {0}};
    bool all = false;
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+a", opts, NULL)) != -1) {
        if (c == 'a') all = true;
        else return cli_usage_error("kill", "unknown option \"%s\"", argv[optind - 1]);
    }
    const char *id = NULL;
    if (one_id("kill", argc, argv, &id)) return 1;
    int sig = SIGTERM;
    if (argc - optind >= 2) {
        sig = cli_parse_signal(argv[optind + 1]);
        if (sig < 0) return cli_usage_error("kill", "unknown signal \"%s\"", argv[optind + 1]);
    }
    if (argc - optind > 2) return cli_usage_error("kill", "too many arguments");
    struct hull_err err = {0};
    if (hull_container_kill(g_opts.root, id, sig, all, &err) < 0) return cli_fail(&err);
    return 0;
}

int verb_delete(int argc, char **argv) {
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
    bool force = false;
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+f", opts, NULL)) != -1) {
        if (c == 'f') force = true;
        else return cli_usage_error("delete", "unknown option \"%s\"", argv[optind - 1]);
    }
    if (optind >= argc) return cli_usage_error("delete", "expects a container id");
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        struct hull_err err = {0};
        if (hull_container_delete(g_opts.root, cli_resolve_id(argv[i]), force, &err) < 0) {
            /* runc: --force on a container that does not exist is not an error */
            if (force && err.code == ENOENT) continue;
            rc = cli_fail(&err);
        }
    }
    return rc;
}
