/* Read-only and helper verbs: list, spec. */
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
            jg_str(g, "ociVersion"); jg_str(g, HULL_OCI_VERSION);
            jg_str(g, "id"); jg_str(g, st.id);
            jg_str(g, "pid"); yajl_gen_integer(g, pid);
            jg_str(g, "status"); jg_str(g, hull_status_name(status));
            jg_str(g, "bundle"); jg_str(g, st.bundle);
            jg_str(g, "rootfs"); jg_str(g, st.rootfs);
            jg_str(g, "created"); jg_str(g, st.created);
            jg_str(g, "owner"); jg_str(g, "root");
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
