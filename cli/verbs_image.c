/* Image verbs: `image import|ls|inspect|export|rm`, and the podman-style
 * short forms `images` and `rmi`. A progress bar goes to stderr when it is a
 * terminal; otherwise nothing but results is printed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cli/cli.h"
#include "image/image.h"
#include "vm/guest/rootfs_image.h"

#include "base/json_gen.h"

struct progress { long long last_ms, start_ms; bool shown; };

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void human(uint64_t b, char *out, size_t n) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* "import  [=========>        ]  41.0 MiB / 98.2 MiB  12.3 MiB/s", at most 10 times a second */
static void show_progress(void *ctx, const char *what, uint64_t done, uint64_t total) {
    struct progress *p = ctx;
    long long t = now_ms();
    if (!p->start_ms) p->start_ms = t;
    if (t - p->last_ms < 100 && !(total && done >= total)) return;
    p->last_ms = t;
    p->shown = true;
    char d[32], tot[32], rate[32];
    human(done, d, sizeof d);
    human(total, tot, sizeof tot);
    double secs = (double)(t - p->start_ms) / 1000.0;
    human(secs > 0 ? (uint64_t)((double)done / secs) : 0, rate, sizeof rate);
    char bar[31];
    int fill = total ? (int)(30.0 * (double)done / (double)total) : 0;
    if (fill > 30) fill = 30;
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : ' ';
    bar[30] = '\0';
    fprintf(stderr, "\r%-24.24s [%s] %10s / %-10s %10s/s", what, bar, d, total ? tot : "?", rate);
    fflush(stderr);
}

static hull_progress_fn progress_fn(void) { return isatty(2) ? show_progress : NULL; }
static void progress_end(struct progress *p) { if (p->shown) fputc('\n', stderr); }

static int image_import(int argc, char **argv) {
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'}, {"platform", required_argument, NULL, 'p'}, {0}};
    const char *name = NULL, *platform = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {   /* flags before or after FILE */
        if (c == 'n') name = optarg;
        else if (c == 'p') platform = optarg;
        else return cli_usage_error("image import", "unknown option \"%s\"", argv[optind - 1]);
    }
    if (optind != argc - 1) return cli_usage_error("image import", "expects one FILE or DIR");
    struct hull_err err = {0};
    struct hull_image_store *s;
    if (cli_open_store(&s, &err) < 0) return cli_fail(&err);
    struct progress p = {0};
    struct hull_image_summary sum;
    int r = hull_image_import(s, argv[optind], name, platform, progress_fn(), &p, &sum, &err);
    progress_end(&p);
    hull_image_store_close(s);
    if (r < 0) return cli_fail(&err);
    printf("%s:%s %s\n", sum.name, sum.tag, sum.digest);
    return 0;
}

static int image_ls(int argc, char **argv) {
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, {0}};
    bool json = false, quiet = false;
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+qf:", opts, NULL)) != -1) {
        if (c == 'f') {
            if (strcmp(optarg, "json") == 0) json = true;
            else if (strcmp(optarg, "table") != 0) return cli_usage_error("images", "--format: table or json, not \"%s\"", optarg);
        } else if (c == 'q') quiet = true;
        else return cli_usage_error("images", "unknown option \"%s\"", argv[optind - 1]);
    }
    struct hull_err err = {0};
    struct hull_image_store *s;
    if (cli_open_store(&s, &err) < 0) return cli_fail(&err);
    struct hull_image_summary *v;
    size_t n;
    int r = hull_image_list(s, &v, &n, &err);
    hull_image_store_close(s);
    if (r < 0) return cli_fail(&err);
    if (json) {
        yajl_gen g = yajl_gen_alloc(NULL);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++) {
            yajl_gen_map_open(g);
            jg_str(g, "repository"); jg_str(g, v[i].name);
            jg_str(g, "tag"); jg_str(g, v[i].tag);
            jg_str(g, "digest"); jg_str(g, v[i].digest);
            jg_str(g, "platform"); jg_str(g, v[i].platform);
            jg_str(g, "created"); jg_str(g, v[i].created);
            jg_str(g, "size"); yajl_gen_integer(g, (long long)v[i].size);
            yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        cli_print_json(g);
    } else {
        if (!quiet) printf("%-30s %-12s %-19s %-12s %s\n", "REPOSITORY", "TAG", "DIGEST", "SIZE", "CREATED");
        for (size_t i = 0; i < n; i++) {
            if (quiet) { printf("%s:%s\n", v[i].name, v[i].tag); continue; }
            char sz[32];
            human(v[i].size, sz, sizeof sz);
            const char *hex = strchr(v[i].digest, ':');
            printf("%-30s %-12s %-19.19s %-12s %s\n", v[i].name, v[i].tag, hex ? hex + 1 : v[i].digest, sz,
                   v[i].created[0] ? v[i].created : "-");
        }
    }
    free(v);
    return 0;
}

static void gen_strv(yajl_gen g, const char *key, char **v, size_t n) {
    jg_str(g, key);
    if (!v) { yajl_gen_null(g); return; }
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) jg_str(g, v[i]);
    yajl_gen_array_close(g);
}

static int image_inspect(int argc, char **argv) {
    if (argc != 2) return cli_usage_error("image inspect", "expects one image reference");
    struct hull_err err = {0};
    struct hull_image_store *s;
    if (cli_open_store(&s, &err) < 0) return cli_fail(&err);
    struct hull_image_config *cfg;
    int r = hull_image_inspect(s, argv[1], &cfg, &err);
    hull_image_store_close(s);
    if (r < 0) return cli_fail(&err);
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_map_open(g);
    jg_str(g, "Name"); jg_str(g, cfg->ref.name);
    jg_str(g, "Tag"); jg_str(g, cfg->ref.tag);
    jg_str(g, "Digest"); jg_str(g, cfg->ref.digest);
    jg_str(g, "ConfigDigest"); jg_str(g, cfg->config_digest);
    jg_str(g, "Created"); jg_str(g, cfg->ref.created);
    jg_str(g, "Size"); yajl_gen_integer(g, (long long)cfg->ref.size);
    jg_str(g, "Os"); jg_str(g, cfg->os ? cfg->os : "");
    jg_str(g, "Architecture"); jg_str(g, cfg->architecture ? cfg->architecture : "");
    jg_str(g, "User"); jg_str(g, cfg->user ? cfg->user : "");
    jg_str(g, "WorkingDir"); jg_str(g, cfg->working_dir ? cfg->working_dir : "");
    gen_strv(g, "Entrypoint", cfg->entrypoint, cfg->n_entrypoint);
    gen_strv(g, "Cmd", cfg->cmd, cfg->n_cmd);
    gen_strv(g, "Env", cfg->env, cfg->n_env);
    gen_strv(g, "ExposedPorts", cfg->exposed_ports, cfg->n_exposed_ports);
    jg_str(g, "Labels");
    yajl_gen_map_open(g);
    for (size_t i = 0; i < cfg->n_labels; i++) { jg_str(g, cfg->labels[i].key); jg_str(g, cfg->labels[i].value); }
    yajl_gen_map_close(g);
    gen_strv(g, "Layers", cfg->layer_digests, cfg->n_layers);
    gen_strv(g, "DiffIDs", cfg->diff_ids, cfg->n_layers);
    yajl_gen_map_close(g);
    cli_print_json(g);
    hull_image_config_free(cfg);
    return 0;
}

static int image_export(int argc, char **argv) {
    if (argc != 3) return cli_usage_error("image export", "expects IMAGE FILE");
    struct hull_err err = {0};
    struct hull_image_store *s;
    if (cli_open_store(&s, &err) < 0) return cli_fail(&err);
    struct progress p = {0};
    int r = hull_image_export(s, argv[1], argv[2], progress_fn(), &p, &err);
    progress_end(&p);
    hull_image_store_close(s);
    return r < 0 ? cli_fail(&err) : 0;
}

/* The microVM roots cached per image (vm/guest/rootfs_image.h) of images no longer present. */
static int sweep_vm_roots(struct hull_image_store *s, struct hull_err *err) {
    struct hull_image_summary *v = NULL;
    size_t n = 0, k = 0;
    if (hull_image_list(s, &v, &n, err) < 0) return -1;
    char **keys = calloc(n ? n : 1, sizeof *keys);
    int rc = keys ? 0 : hull_err_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char ref[400];
        struct hull_image_config *c = NULL;
        snprintf(ref, sizeof ref, "%s:%s", v[i].name, v[i].tag);
        if (hull_image_inspect(s, ref, &c, err) < 0) { rc = -1; break; }
        if (!(keys[k] = hull_rootfs_image_layers_key(c->diff_ids, c->n_layers))) rc = hull_err_set(err, ENOMEM, "out of memory");
        else k++;
        hull_image_config_free(c);
    }
    if (rc == 0) rc = hull_rootfs_image_cache_sweep(cli_data_root(), keys, k, err);
    for (size_t i = 0; i < k; i++) free(keys[i]);
    free(keys);
    free(v);
    return rc;
}

static int image_rm(int argc, char **argv) {
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
    bool force = false;
    int c;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+f", opts, NULL)) != -1) {
        if (c == 'f') force = true;
        else return cli_usage_error("rmi", "unknown option \"%s\"", argv[optind - 1]);
    }
    if (optind >= argc) return cli_usage_error("rmi", "expects an image reference");
    struct hull_err err = {0};
    struct hull_image_store *s;
    if (cli_open_store(&s, &err) < 0) return cli_fail(&err);
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        const char *user = NULL;
        if (!force && cli_image_in_use(argv[i], &user)) {
            hull_err_set(&err, EBUSY, "rmi %s: image is used by container %s (use --force)", argv[i], user);
            rc = cli_fail(&err);
            continue;
        }
        if (hull_image_remove(s, argv[i], &err) < 0) rc = cli_fail(&err);
        else printf("%s\n", argv[i]);
    }
    if (sweep_vm_roots(s, &err) < 0) rc = cli_fail(&err);
    hull_image_store_close(s);
    return rc;
}

/* Unpacks the layers now (what the first `run` would otherwise do) and prints
 * the layer directories, base first. */
static int image_unpack(int argc, char **argv) {
    if (argc != 2) return cli_usage_error("image unpack", "expects one image reference");
    struct hull_err err = {0};
    struct hull_image_store *s;
    if (cli_open_store(&s, &err) < 0) return cli_fail(&err);
    struct progress p = {0};
    struct hull_unpack_opts o = {.allow_devices = true, .progress = progress_fn(), .progress_ctx = &p};
    char **dirs = NULL;
    size_t n = 0;
    int r = hull_image_rootfs_layers(s, argv[1], &o, &dirs, &n, &err);
    progress_end(&p);
    hull_image_store_close(s);
    if (r < 0) return cli_fail(&err);
    for (size_t i = 0; i < n; i++) printf("%s\n", dirs[i]);
    hull_image_strv_free(dirs, n);
    return 0;
}

int verb_images(int argc, char **argv) { return image_ls(argc, argv); }
int verb_rmi(int argc, char **argv) { return image_rm(argc, argv); }

int verb_image(int argc, char **argv) {
    if (argc < 2) return cli_usage_error("image", "expects import|ls|inspect|export|rm");
    const char *sub = argv[1];
    optind = 0;
    if (strcmp(sub, "import") == 0 || strcmp(sub, "load") == 0) return image_import(argc - 1, argv + 1);
    if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0) return image_ls(argc - 1, argv + 1);
    if (strcmp(sub, "inspect") == 0) return image_inspect(argc - 1, argv + 1);
    if (strcmp(sub, "export") == 0 || strcmp(sub, "save") == 0) return image_export(argc - 1, argv + 1);
    if (strcmp(sub, "rm") == 0) return image_rm(argc - 1, argv + 1);
    if (strcmp(sub, "unpack") == 0) return image_unpack(argc - 1, argv + 1);
    return cli_usage_error("image", "unknown subcommand \"%s\" (import|ls|inspect|export|rm|unpack)", sub);
}
