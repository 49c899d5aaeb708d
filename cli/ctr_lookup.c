/* Containers by what the user typed: a name or short id -> the full id, the
 * container using an image, and a container's live status (record + OCI state). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/image.h"
#include "lifecycle/container.h"
#include "lifecycle/ctr_store.h"

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
const char *cli_ctr_live_status(struct hull_ctr *c, enum hull_status *st) {
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
