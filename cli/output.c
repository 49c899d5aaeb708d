/* Machine-readable output: a finished yajl document to stdout. */
#include <stdio.h>
#include <yajl/yajl_gen.h>

#include "cli/cli.h"

void cli_print_json(yajl_gen g) {
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    fwrite(buf, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    yajl_gen_free(g);
}
