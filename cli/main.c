/* hull: entry point, global flags (runc's), verb dispatch. */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lifecycle/container.h"
#include "base/selfexe.h"
#include "base/state.h"
#include "linux/executor.h"
#include "vm/executor/executor.h"

static void warn_to_stderr(const char *msg) {
    fprintf(stderr, "hull: warning: %s\n", msg);
    cli_log("warning", msg);
}

static const struct { const char *name; hull_verb_fn fn; bool needs_sealed; const char *help; } verbs[] = {
    {"create", verb_create, true, "create a container from a bundle"},
    {"start", verb_start, false, "start a created container"},
    {"run", verb_run, true, "create and start a container, wait for it"},
    {"state", verb_state, false, "print the state of a container"},
    {"kill", verb_kill, false, "send a signal to a container's init"},
    {"delete", verb_delete, false, "delete a container"},
    {"list", verb_list, false, "list containers"},
    {"exec", verb_exec, true, "run a process in a running container"},
    {"ps", verb_ps, false, "list the processes of a container"},
    {"pause", verb_pause, false, "freeze every process of a container"},
    {"resume", verb_resume, false, "thaw a paused container"},
    {"update", verb_update, false, "change the resource limits of a running container"},
    {"events", verb_events, false, "stats (--stats) or a stream of stats and OOM events"},
    {"image", verb_image, false, "import|ls|inspect|export|rm images"},
    {"images", verb_images, false, "list images (image ls)"},
    {"logs", verb_logs, false, "print a detached container's output (-f: follow)"},
    {"stop", verb_stop, false, "SIGTERM, then SIGKILL after -t seconds"},
    {"rm", verb_rm, false, "remove containers made from images (-f: kill first)"},
    {"rmi", verb_rmi, false, "remove images (image rm)"},
    {"network", verb_network, false, "ls|create|rm|inspect|prune bridge networks"},
    {"spec", verb_spec, false, "write a default config.json"},
    {"features", verb_features, false, "print what this runtime supports (JSON)"},
    {"vmm", verb_vmm, false, "boot a kernel in a microVM by hand (the engine alone)"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: hull [global options] COMMAND [options] [args]\n\n"
               "hull runs OCI containers, in namespaces (default) or in a microVM.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].help);
    fprintf(f, "\nglobal options:\n"
               "  --root DIR            state directory (default %s; rootless: $XDG_RUNTIME_DIR/hull)\n"
               "  --log FILE            also write errors and warnings to FILE\n"
               "  --log-format FMT      text (default) or json\n"
               "  --debug               verbose logging\n"
               "  --systemd-cgroup      use the systemd cgroup driver (not supported yet)\n"
               "  --vm                  run containers in a microVM\n"
               "  --data-root DIR       images and containers (default $HULL_ROOT or /var/lib/hull)\n"
               "  -v, --version         print the version\n"
               "  -h, --help            this text\n",
            HULL_DEFAULT_ROOT);
}

int main(int argc, char **argv) {
    g_opts.argv0 = argv[0];
    hull_set_warn_handler(warn_to_stderr);
    /* The executors this program is built with; lifecycle/ finds them by name. */
    hull_executor_register(&hull_linux_executor);
    hull_executor_register(&hull_vm_executor);
    char *a0 = strdup(argv[0]);
    if (strcmp(basename(a0), "hull-vm") == 0) g_opts.vm = true;
    free(a0);

    enum { O_ROOT = 256, O_LOG, O_LOGFMT, O_DEBUG, O_SYSTEMD, O_VM, O_ROOTLESS, O_CRIU, O_DATAROOT };
    static const struct option opts[] = {
        {"root", required_argument, NULL, O_ROOT},   {"log", required_argument, NULL, O_LOG},
        {"log-format", required_argument, NULL, O_LOGFMT}, {"debug", no_argument, NULL, O_DEBUG},
        {"systemd-cgroup", no_argument, NULL, O_SYSTEMD}, {"vm", no_argument, NULL, O_VM},
        {"rootless", required_argument, NULL, O_ROOTLESS}, {"data-root", required_argument, NULL, O_DATAROOT}, {"criu", required_argument, NULL, O_CRIU},
        {"version", no_argument, NULL, 'v'},         {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
        switch (c) {
        case O_ROOT: g_opts.root = optarg; break;
        case O_LOG: g_opts.log_path = optarg; break;
        case O_LOGFMT:
            if (strcmp(optarg, "json") == 0) g_opts.log_json = true;
            else if (strcmp(optarg, "text") != 0) return cli_usage_error(NULL, "--log-format: unknown format \"%s\" (text or json)", optarg);
            break;
        case O_DEBUG: g_opts.debug = true; break;
        case O_SYSTEMD: g_opts.systemd_cgroup = true; break;
        case O_VM: g_opts.vm = true; break;
        case O_DATAROOT: g_opts.data_root = optarg; break;
        case O_ROOTLESS: case O_CRIU: break;   /* accepted for runc compatibility */
        case 'v':
            printf("hull version %s\nspec: " HULL_OCI_VERSION "\n", HULL_VERSION);
            return 0;
        case 'h': usage(stdout); return 0;
        default:
            return cli_usage_error(NULL, "unknown global option \"%s\" (see hull --help)", argv[optind - 1]);
        }
    }
    if (!g_opts.root) g_opts.root = hull_state_default_root();
    /* The data root reaches the library through HULL_ROOT (its documented
     * override), and where hull lives through HULL_SELF_DIR: once re-executed
     * from a sealed copy, /proc/self/exe no longer says where hull-vmm and
     * hull-agent are (vm/executor/assets.c). */
    if (g_opts.data_root) setenv("HULL_ROOT", g_opts.data_root, 1);
    if (!hull_selfexe_is_sealed()) {
        char exe[PATH_MAX];
        ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (l > 0 && exe[0] == '/') {
            exe[l] = '\0';
            setenv("HULL_SELF_DIR", dirname(exe), 1);
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *verb = argv[optind];
    if (strcmp(verb, "help") == 0) { usage(stdout); return 0; }
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) {
        if (strcmp(verb, verbs[i].name) != 0) continue;
        if (g_opts.systemd_cgroup && verbs[i].needs_sealed) {
            struct hull_err err;
            hull_err_set(&err, ENOTSUP, "--systemd-cgroup: the systemd cgroup driver is not supported yet; "
                                        "run without it (hull manages cgroupfs directly)");
            return cli_fail(&err);
        }
        if (verbs[i].needs_sealed) {
            /* Verbs whose process enters a container run from a sealed copy of
             * the binary, so a container can never rewrite hull through
             * /proc/PID/exe. */
            struct hull_err err = {0};
            if (hull_selfexe_ensure_sealed(argv, environ, &err) < 0) return cli_fail(&err);
        }
        optind++;
        int vargc = argc - optind + 1;
        char **vargv = argv + optind - 1;
        optind = 0;   /* 0: glibc re-initialises getopt (ordering mode included) */
        if (!g_opts.debug) return verbs[i].fn(vargc, vargv);
        /* --debug: the command and its outcome, with timing, in the log. */
        char line[2048];
        size_t n = (size_t)snprintf(line, sizeof line, "%s", "hull");
        for (int k = 1; k < argc && n < sizeof line; k++) n += (size_t)snprintf(line + n, sizeof line - n, " %s", argv[k]);
        cli_log("debug", line);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = verbs[i].fn(vargc, vargv);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        snprintf(line, sizeof line, "%s: exit %d after %.3f ms", verb, rc,
                 (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
        cli_log("debug", line);
        return rc;
    }
    return cli_usage_error(NULL, "unknown command \"%s\" (see hull --help)", verb);
}
