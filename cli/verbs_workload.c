/* podman-style verbs over containers made from images: ps (without an id),
 * logs, stop, rm; and the name/short-id resolution every verb shares. */
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

const char *cli_resolve_id(const char *arg) {
    static char full[HULL_ID_MAX];
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", g_opts.root, arg);
    if (access(p, F_OK) == 0) return arg;   /* an OCI state of that exact id wins */
    struct hull_ctr c;
    struct hull_err err;
    if (hull_ctr_find(cli_data_root(), arg, &c, &err) == 0) {
        snprintf(full, sizeof full, "%s", c.id);
        return full;
    }
    return arg;
}

bool cli_image_in_use(const char *ref, const char **who) {
    static char name[128];
    char n[256], t[128], want[400];
    struct hull_err err;
    if (hull_image_ref_normalize(ref, n, sizeof n, t, sizeof t, &err) < 0) return false;
    snprintf(want, sizeof want, "%s:%s", n, t);
    struct hull_ctr *v;
    size_t cnt;
    if (hull_ctr_list(cli_data_root(), &v, &cnt, &err) < 0) return false;
    bool used = false;
    for (size_t i = 0; i < cnt && !used; i++)
        if (strcmp(v[i].image, want) == 0) {
            used = true;
            snprintf(name, sizeof name, "%s", v[i].name);
            *who = name;
        }
    free(v);
    return used;
}

/* The live status: the record says what the monitor last wrote; the OCI
 * state says whether the process still exists (a killed monitor cannot). */
static const char *live_status(struct hull_ctr *c, enum hull_status *st) {
    struct hull_state s;
    struct hull_err err;
    *st = HULL_STOPPED;
    if (hull_container_state(g_opts.root, c->id, &s, st, &err) == 0) hull_state_release(&s);
    if (*st == HULL_RUNNING) return "running";
    if (*st == HULL_PAUSED) return "paused";
    if (*st == HULL_CREATED || *st == HULL_CREATING) return "created";
    if (strcmp(c->status, "exited") == 0) return "exited";
    return strcmp(c->status, "created") == 0 ? "created" : "exited";
}

static time_t parse_time(const char *rfc) {
    struct tm tm = {0};
    if (!rfc || !*rfc || !strptime(rfc, "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
    return timegm(&tm);
}

static void ago(const char *rfc, char *out, size_t n) {
    time_t t = parse_time(rfc);
    if (!t) { snprintf(out, n, "-"); return; }
    long d = (long)(time(NULL) - t);
    if (d < 60) snprintf(out, n, "%ld seconds", d);
    else if (d < 3600) snprintf(out, n, "%ld minutes", d / 60);
    else if (d < 86400) snprintf(out, n, "%ld hours", d / 3600);
    else snprintf(out, n, "%ld days", d / 86400);
}

int cli_ps_containers(int argc, char **argv) {
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {"format", required_argument, NULL, 'f'},
                                         {"quiet", no_argument, NULL, 'q'}, {0}};
    bool all = false, json = false, quiet = false;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+aqf:", opts, NULL)) != -1) {
        if (c == 'a') all = true;
        else if (c == 'q') quiet = true;
        else if (c == 'f') json = strcmp(optarg, "json") == 0;
        else return cli_usage_error("ps", "unknown option \"%s\"", argv[optind - 1]);
    }
    struct hull_ctr *v;
    size_t n;
    struct hull_err err = {0};
    if (hull_ctr_list(cli_data_root(), &v, &n, &err) < 0) return cli_fail(&err);
    yajl_gen g = NULL;
    if (json) { g = yajl_gen_alloc(NULL); yajl_gen_array_open(g); }
    else if (!quiet) printf("%-12s  %-24s  %-22s  %-16s  %-24s  %s\n", "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES");
    for (size_t i = 0; i < n; i++) {
        enum hull_status st;
        const char *live = live_status(&v[i], &st);
        bool running = strcmp(live, "running") == 0 || strcmp(live, "paused") == 0;
        if (!all && !running) continue;
        char status[64], when[32], cmd[24];
        if (running) {
            char up[32];
            ago(v[i].created, up, sizeof up);
            snprintf(status, sizeof status, "%s %s", st == HULL_PAUSED ? "Paused" : "Up", up);
        } else if (strcmp(live, "created") == 0) {
            snprintf(status, sizeof status, "Created");
        } else if (strcmp(v[i].status, "exited") == 0) {
            char e[32];
            ago(v[i].finished, e, sizeof e);
            snprintf(status, sizeof status, "Exited (%d) %s ago", v[i].exit_code, e);
        } else {
            snprintf(status, sizeof status, "Exited (unknown)");   /* its monitor died */
        }
        if (json) {
            yajl_gen_map_open(g);
            GSTR(g, "Id"); GSTR(g, v[i].id);
            GSTR(g, "Names"); GSTR(g, v[i].name);
            GSTR(g, "Image"); GSTR(g, v[i].image);
            GSTR(g, "Command"); GSTR(g, v[i].command);
            GSTR(g, "Created"); GSTR(g, v[i].created);
            GSTR(g, "State"); GSTR(g, live);
            GSTR(g, "Status"); GSTR(g, status);
            GSTR(g, "ExitCode"); yajl_gen_integer(g, v[i].exit_code);
            yajl_gen_map_close(g);
            continue;
        }
        if (quiet) { printf("%.12s\n", v[i].id); continue; }
        ago(v[i].created, when, sizeof when);
        snprintf(cmd, sizeof cmd, "\"%.19s%s\"", v[i].command, strlen(v[i].command) > 19 ? "…" : "");
        char created[40];
        snprintf(created, sizeof created, "%s ago", when);
        printf("%-12.12s  %-24.24s  %-22s  %-16s  %-24s  %s\n", v[i].id, v[i].image, cmd, created, status, v[i].name);
    }
    if (json) { yajl_gen_array_close(g); cli_print_json(g); }
    free(v);
    return 0;
}

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
        struct hull_ctr now;
        struct hull_err err;
        enum hull_status st;
        if (hull_ctr_load(cli_data_root(), ctr.id, &now, &err) < 0) break;
        const char *live = live_status(&now, &st);
        if (strcmp(live, "running") && strcmp(live, "paused") && strcmp(live, "created")) {
            /* one last read: what the monitor flushed while the process ended */
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
        const char *live = live_status(&ctr, &st);
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
