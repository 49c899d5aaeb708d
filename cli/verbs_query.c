/* Read-only and helper verbs: list, ps, spec. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cgroups/cgroup.h"
#include "cli/cli.h"
#include "lifecycle/container.h"
#include "base/fsutil.h"

#include "base/json_gen.h"

void cli_print_json(yajl_gen g) {
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    fwrite(buf, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    yajl_gen_free(g);
}

int verb_list(int argc, char **argv) {
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, {0}};
    bool json = false, quiet = false;
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+f:q", opts, NULL)) != -1) {
        if (c == 'f') {
            if (strcmp(optarg, "json") == 0) json = true;
            else if (strcmp(optarg, "table") != 0) return cli_usage_error("list", "--format: table or json, not \"%s\"", optarg);
        } else if (c == 'q') quiet = true;
        else return cli_usage_error("list", "unknown option \"%s\"", argv[optind - 1]);
    }
    char **ids;
    size_t n;
    struct hull_err err = {0};
    if (hull_state_list(g_opts.root, &ids, &n, &err) < 0) return cli_fail(&err);
    yajl_gen g = NULL;
    if (json) {
        g = yajl_gen_alloc(NULL);
        yajl_gen_array_open(g);
    } else if (!quiet) {
        printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
    }
    for (size_t i = 0; i < n; i++) {
        struct hull_state st;
        enum hull_status status;
        if (hull_container_state(g_opts.root, ids[i], &st, &status, &err) < 0) { free(ids[i]); continue; }
        pid_t pid = status == HULL_STOPPED ? 0 : st.pid;
        if (json) {
            yajl_gen_map_open(g);
            GSTR(g, "ociVersion"); GSTR(g, HULL_OCI_VERSION);
            GSTR(g, "id"); GSTR(g, st.id);
            GSTR(g, "pid"); yajl_gen_integer(g, pid);
            GSTR(g, "status"); GSTR(g, hull_status_name(status));
            GSTR(g, "bundle"); GSTR(g, st.bundle);
            GSTR(g, "rootfs"); GSTR(g, st.rootfs);
            GSTR(g, "created"); GSTR(g, st.created);
            GSTR(g, "owner"); GSTR(g, "root");
            yajl_gen_map_close(g);
        } else if (quiet) {
            printf("%s\n", st.id);
        } else {
            printf("%-12s %-8d %-10s %-40s %-30s %s\n", st.id, (int)pid, hull_status_name(status), st.bundle,
                   st.created, "root");
        }
        hull_state_release(&st);
        free(ids[i]);
    }
    free(ids);
    if (json) {
        yajl_gen_array_close(g);
        cli_print_json(g);
    }
    return 0;
}

int verb_ps(int argc, char **argv) {
    /* `ps` alone (or with -a/-q) lists containers like podman; `ps ID` is runc's */
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--format")) { i++; continue; }
        if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all") || !strcmp(argv[i], "-q")) return cli_ps_containers(argc, argv);
        if (argv[i][0] != '-') positional++;
    }
    if (positional == 0) return cli_ps_containers(argc, argv);
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

int verb_spec(int argc, char **argv) {
    static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'}, {"rootless", no_argument, NULL, 'r'}, {0}};
    const char *bundle = ".";
    bool rootless = false;
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
        if (c == 'b') bundle = optarg;
        else if (c == 'r') rootless = true;
        else return cli_usage_error("spec", "unknown option \"%s\"", argv[optind - 1]);
    }
    struct hull_err err = {0};
    int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) { hull_err_sys(&err, "spec: bundle %s", bundle); return cli_fail(&err); }
    if (faccessat(dfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        close(dfd);
        hull_err_set(&err, EEXIST, "spec: %s/config.json exists; remove it first", bundle);
        return cli_fail(&err);
    }
    char *json = hull_spec_default_json(rootless);
    int r = json ? hull_write_file_atomic(dfd, "config.json", json, strlen(json), 0644) : -1;
    free(json);
    close(dfd);
    if (r < 0) { hull_err_sys(&err, "spec: write %s/config.json", bundle); return cli_fail(&err); }
    return 0;
}
