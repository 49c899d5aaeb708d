/* The command line: runc-compatible OCI verbs plus hull's own. Verbs parse
 * their flags, call lifecycle/, and print; they never do the work themselves. */
#ifndef HULL_CLI_CLI_H
#define HULL_CLI_CLI_H

#include <stdbool.h>
#include <sys/types.h>
#include "base/error.h"
#include "base/state.h"

struct hull_global {
    const char *root;          /* --root */
    const char *log_path;      /* --log */
    bool log_json;             /* --log-format json */
    bool debug;
    bool systemd_cgroup;
    bool vm;                   /* --vm or invoked as hull-vm */
    const char *data_root;     /* --data-root (else $HULL_ROOT, else /var/lib/hull) */
    const char *argv0;
};

/* globals.c: the global flags, the data root (--data-root, else $HULL_ROOT,
 * else /var/lib/hull) and the image store in it. */
extern struct hull_global g_opts;
const char *cli_data_root(void);
struct hull_image_store;
int cli_open_store(struct hull_image_store **s, struct hull_err *err);

typedef int (*hull_verb_fn)(int argc, char **argv);

/* report.c: reports err as "hull: <msg>" on stderr (and to --log); returns exit code 1. */
int cli_fail(const struct hull_err *err);
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_log(const char *level, const char *msg);

/* parse.c: signal by name ("KILL", "SIGKILL", "RTMIN+1") or number; <0 if unknown. */
int cli_parse_signal(const char *s);
/* Strict non-negative int parse; false on garbage. */
bool cli_parse_int(const char *s, int *out);

int verb_create(int argc, char **argv);
int verb_start(int argc, char **argv);
int verb_run(int argc, char **argv);
int verb_state(int argc, char **argv);
int verb_kill(int argc, char **argv);
int verb_delete(int argc, char **argv);
int verb_list(int argc, char **argv);
int verb_spec(int argc, char **argv);
int verb_features(int argc, char **argv);
int verb_exec(int argc, char **argv);
int verb_ps(int argc, char **argv);
int verb_pause(int argc, char **argv);
int verb_image(int argc, char **argv);
int verb_images(int argc, char **argv);
int verb_rmi(int argc, char **argv);
int verb_resume(int argc, char **argv);
int verb_update(int argc, char **argv);
int verb_events(int argc, char **argv);
int verb_vmm(int argc, char **argv);

/* Containers from images (run_image.c, verbs_workload.c). */
bool cli_run_is_image_form(int argc, char **argv);
int cli_run_image(int argc, char **argv);
int verb_logs(int argc, char **argv);
int verb_stop(int argc, char **argv);
int verb_rm(int argc, char **argv);
int verb_network(int argc, char **argv);   /* verbs_network.c */

/* ctr_lookup.c: a container name or unique id prefix -> its full id (else arg itself). */
const char *cli_resolve_id(const char *arg);
/* Is a container (of `hull run IMAGE`) using this image? *who: its name/id. */
bool cli_image_in_use(const char *ref, const char **who);
/* The live status of a container of `hull run IMAGE` ("running", "paused",
 * "created", "exited"): its record corrected by its OCI state; *st: that state. */
struct hull_ctr;
const char *cli_ctr_live_status(struct hull_ctr *c, enum hull_status *st);

/* output.c: prints the generator's buffer and a newline, flushes, frees the generator. */
struct yajl_gen_t;
void cli_print_json(struct yajl_gen_t *g);

/* Waits for pid (a child of ours), forwarding signals to it and, when
 * console_master >= 0, proxying the terminal. Returns the exit code in the
 * shell's convention (128+N for signal N). */
int cli_wait_forward(pid_t pid, int console_master);

#endif
