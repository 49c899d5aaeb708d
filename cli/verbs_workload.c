/* podman-style verbs over containers made from images: logs, stop, rm. */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cli/cli.h"
#include "image/image.h"
#include "lifecycle/container.h"
#include "lifecycle/ctr_store.h"
#include "net/net.h"

#include "base/json_gen.h"

static int find(const char *what, struct hull_ctr *c) {
    struct hull_err err = {0};
    if (hull_ctr_find(cli_data_root(), what, c, &err) < 0) return cli_fail(&err);
    return 0;
}

/* ctr.log lines: "<RFC3339> <stdout|stderr> <text>" */
static void print_log_line(char *line, bool timestamps) {
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp2) return;
    *sp1 = '\0';
    bool is_err = strncmp(sp1 + 1, "stderr", 6) == 0;
    FILE *f = is_err ? stderr : stdout;
    if (timestamps) fprintf(f, "%s ", line);
    fputs(sp2 + 1, f);
    fflush(f);
}

static bool monitor_alive(const struct hull_ctr *c) {
    return c->monitor_pid > 0 && (kill(c->monitor_pid, 0) == 0 || errno == EPERM);
}

int verb_logs(int argc, char **argv) {
    static const struct option opts[] = {{"follow", no_argument, NULL, 'f'}, {"timestamps", no_argument, NULL, 't'}, {0}};
    bool follow = false, ts = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+ft", opts, NULL)) != -1) {
        if (c == 'f') follow = true;
        else if (c == 't') ts = true;
        else return cli_usage_error("logs", "unknown option \"%s\"", argv[optind - 1]);
    }
    if (optind != argc - 1) return cli_usage_error("logs", "expects one container");
    struct hull_ctr ctr;
    if (find(argv[optind], &ctr)) return 1;
    char path[PATH_MAX];
    hull_ctr_path(&ctr, "ctr.log", path, sizeof path);
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT) return 0;   /* a foreground container: its output went to the terminal */
        struct hull_err err;
        hull_err_sys(&err, "logs: %s", path);
        return cli_fail(&err);
    }
    char *line = NULL;
    size_t cap = 0;
    for (;;) {
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
            if (line[n - 1] != '\n') {   /* the monitor is mid-write: read it again later */
                fseek(f, -n, SEEK_CUR);
                break;
            }
            print_log_line(line, ts);
        }
        if (!follow) break;
        /* The process ending is not the log ending: the monitor still drains
         * what is in the pipes, then records "exited" (or removes the record,
         * for --rm). The log is complete then, or when no monitor is left. */
        struct hull_ctr now;
        struct hull_err err;
        enum hull_status st;
        bool done = hull_ctr_load(cli_data_root(), ctr.id, &now, &err) < 0;
        if (!done) {
            const char *live = cli_ctr_live_status(&now, &st);
            bool gone = strcmp(live, "running") && strcmp(live, "paused") && strcmp(live, "created");
            done = gone && (strcmp(now.status, "exited") == 0 || !monitor_alive(&now));
        }
        if (done) {
            clearerr(f);   /* stdio's EOF is sticky: without this the last read reads nothing */
            while ((n = getline(&line, &cap, f)) > 0) print_log_line(line, ts);
            break;
        }
        clearerr(f);
        poll(NULL, 0, 100);
    }
    free(line);
    fclose(f);
    return 0;
}

static bool wait_stopped(const char *id, int ms) {
    for (int t = 0; t <= ms; t += 20) {
        struct hull_state s;
        enum hull_status st;
        struct hull_err err;
        if (hull_container_state(g_opts.root, id, &s, &st, &err) < 0) return true;
        hull_state_release(&s);
        if (st == HULL_STOPPED) return true;
        poll(NULL, 0, 20);
    }
    return false;
}

int verb_stop(int argc, char **argv) {
    static const struct option opts[] = {{"time", required_argument, NULL, 't'}, {0}};
    int secs = 10, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+t:", opts, NULL)) != -1) {
        if (c == 't') {
            if (!cli_parse_int(optarg, &secs)) return cli_usage_error("stop", "-t: \"%s\" is not a number of seconds", optarg);
        } else return cli_usage_error("stop", "unknown option \"%s\"", argv[optind - 1]);
    }
    if (optind >= argc) return cli_usage_error("stop", "expects a container");
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        const char *id = cli_resolve_id(argv[i]);
        struct hull_err err = {0};
        /* SIGTERM, a grace period, then SIGKILL to everything in the cgroup */
        if (hull_container_kill(g_opts.root, id, SIGTERM, false, &err) < 0 && err.code != ESRCH) { rc = cli_fail(&err); continue; }
        if (!wait_stopped(id, secs * 1000)) hull_container_kill(g_opts.root, id, SIGKILL, true, &err);
        wait_stopped(id, 5000);
        printf("%s\n", argv[i]);
    }
    return rc;
}

int verb_rm(int argc, char **argv) {
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
    bool force = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
        if (c == 'f') force = true;
        else return cli_usage_error("rm", "unknown option \"%s\"", argv[optind - 1]);
    }
    if (optind >= argc) return cli_usage_error("rm", "expects a container");
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        struct hull_ctr ctr;
        struct hull_err err = {0};
        if (hull_ctr_find(cli_data_root(), argv[i], &ctr, &err) < 0) { rc = cli_fail(&err); continue; }
        enum hull_status st;
        const char *live = cli_ctr_live_status(&ctr, &st);
        if (!force && (!strcmp(live, "running") || !strcmp(live, "paused"))) {
            hull_err_set(&err, EBUSY, "rm %s: the container is %s (stop it first, or rm -f)", argv[i], live);
            rc = cli_fail(&err);
            continue;
        }
        /* kill, let the monitor (if alive) notice and finish, then remove */
        if (hull_container_delete(g_opts.root, ctr.id, true, &err) < 0 && err.code != ENOENT) { rc = cli_fail(&err); continue; }
        for (int t = 0; ctr.monitor_pid > 0 && t < 100 && kill(ctr.monitor_pid, 0) == 0; t++) poll(NULL, 0, 20);
        /* its network too, the host end of a veth that outlived it included */
        if (hull_net_release(cli_data_root(), ctr.id, true, &err) < 0) { rc = cli_fail(&err); continue; }
        if (hull_ctr_remove(&ctr, &err) < 0) { rc = cli_fail(&err); continue; }
        printf("%s\n", argv[i]);
    }
    return rc;
}
