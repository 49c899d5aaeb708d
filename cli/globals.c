/* The global flags (runc's --root, --log, ...; hull's --vm, --data-root) and
 * what derives from them: the data root and the image store in it. */
#include "cli/cli.h"
#include "image/image.h"

struct hull_global g_opts;   /* .root: --root, else hull_state_default_root() */

const char *cli_data_root(void) { return g_opts.data_root ? g_opts.data_root : hull_image_default_root(); }

int cli_open_store(struct hull_image_store **s, struct hull_err *err) {
    return hull_image_store_open(cli_data_root(), s, err);
}
