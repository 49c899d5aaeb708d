/* See cgroup_testlib.h. */
#include "tests/lib/cgroup_testlib.h"

#include <errno.h>
#include <string.h>

#include "cgroups/cg_internal.h"

int hull_cgroup_detect(enum hull_cgroup_mode *mode, struct hull_err *err) {
    const struct cg_host *h = cg_host_get(err);
    if (!h) return -ENOENT;
    *mode = h->mode;
    return 0;
}
const char *hull_cgroup_path(const struct hull_cgroup *cg, const char *controller) {
    if (!cg || !controller) return NULL;
    if (!controller[0]) {
        struct cg_dir *v2 = cg_v2_dir(cg);
        return v2 ? v2->path : NULL;
    }
    if (strncmp(controller, "name=", 5) == 0) {
        for (size_t i = 0; i < cg->n_dirs; i++)
            if (cg->dirs[i].kind == CG_V1 && cg_list_has(cg->dirs[i].controllers, controller))
                return cg->dirs[i].path;
        return NULL;
    }
    struct cg_dir *d = cg_owner(cg, controller);
    return d ? d->path : NULL;
}
