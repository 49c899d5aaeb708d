/* ps: `ps` alone (or -a/-q) lists the containers made from images, like
 * podman; `ps ID` is runc's (ps(1) filtered to the container's processes). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>

#include "cli/cli.h"
#include "base/json_gen.h"
#include "lifecycle/container.h"
#include "lifecycle/ctr_store.h"


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

static int ps_containers(int argc, char **argv) {
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
        const char *live = cli_ctr_live_status(&v[i], &st);
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
            jg_str(g, "Id"); jg_str(g, v[i].id);
            jg_str(g, "Names"); jg_str(g, v[i].name);
            jg_str(g, "Image"); jg_str(g, v[i].image);
            jg_str(g, "Command"); jg_str(g, v[i].command);
            jg_str(g, "Created"); jg_str(g, v[i].created);
            jg_str(g, "State"); jg_str(g, live);
            jg_str(g, "Status"); jg_str(g, status);
            jg_str(g, "ExitCode"); yajl_gen_integer(g, v[i].exit_code);
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

int verb_ps(int argc, char **argv) {
    /* `ps` alone (or with -a/-q) lists containers like podman; `ps ID` is runc's */
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--format")) { i++; continue; }
        if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all") || !strcmp(argv[i], "-q")) return ps_containers(argc, argv);
        if (argv[i][0] != '-') positional++;
    }
    if (positional == 0) return ps_containers(argc, argv);
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
    bool json = false;
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+f:", opts, NULL)) != -1) {
        if (c == 'f') {
            if (strcmp(optarg, "json") == 0) json = true;
            else if (strcmp(optarg, "table") != 0) return cli_usage_error("ps", "--format: table or json, not \"%s\"", optarg);
        } else return cli_usage_error("ps", "unknown option \"%s\"", argv[optind - 1]);
    }
    if (optind >= argc) return cli_usage_error("ps", "expects a container id");
    const char *id = cli_resolve_id(argv[optind++]);
    pid_t *pids;
    size_t n;
    struct hull_err err = {0};
    bool guest = false;
    if (hull_container_pids(g_opts.root, id, &pids, &n, &guest, &err) < 0) return cli_fail(&err);
    if (json) {
        yajl_gen g = yajl_gen_alloc(NULL);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++) yajl_gen_integer(g, pids[i]);
        yajl_gen_array_close(g);
        cli_print_json(g);
        free(pids);
        return 0;
    }
    if (guest) {   /* pids inside the microVM: the host's ps(1) knows nothing of them */
        printf("PID\n");
        for (size_t i = 0; i < n; i++) printf("%d\n", (int)pids[i]);
        free(pids);
        return 0;
    }
    /* Table: ps(1) with the caller's options (default -ef), filtered to our pids. */
    char cmd[4096] = "ps";
    size_t len = 2;
    if (optind >= argc) len += (size_t)snprintf(cmd + len, sizeof cmd - len, " -ef");
    for (int i = optind; i < argc && len < sizeof cmd; i++) {
        len += (size_t)snprintf(cmd + len, sizeof cmd - len, " '");
        for (const char *p = argv[i]; *p && len + 5 < sizeof cmd; p++) {
            if (*p == '\'') len += (size_t)snprintf(cmd + len, sizeof cmd - len, "'\\''");
            else cmd[len++] = *p;
        }
        len += (size_t)snprintf(cmd + len, sizeof cmd - len, "'");
    }
    FILE *ps = popen(cmd, "r");
    if (!ps) { free(pids); return cli_fail(&(struct hull_err){EIO, "ps: cannot run ps(1)"}); }
    char line[8192];
    int pid_col = -1;
    bool header = true;
    while (fgets(line, sizeof line, ps)) {
        if (header) {
            header = false;
            char copy[8192];
            snprintf(copy, sizeof copy, "%s", line);
            int col = 0;
            for (char *tok = strtok(copy, " \t\n"); tok; tok = strtok(NULL, " \t\n"), col++)
                if (strcmp(tok, "PID") == 0) pid_col = col;
            fputs(line, stdout);
            if (pid_col < 0) { pclose(ps); free(pids); return cli_fail(&(struct hull_err){EINVAL, "ps: no PID column in the output of ps"}); }
            continue;
        }
        char copy[8192];
        snprintf(copy, sizeof copy, "%s", line);
        int col = 0;
        char *tok = strtok(copy, " \t\n");
        while (tok && col < pid_col) { tok = strtok(NULL, " \t\n"); col++; }
        if (!tok) continue;
        pid_t p = (pid_t)atoi(tok);
        for (size_t i = 0; i < n; i++)
            if (pids[i] == p) { fputs(line, stdout); break; }
    }
    pclose(ps);
    free(pids);
    return 0;
}
