/* libFuzzer harness: config.json and process.json text through the parser,
 * the validator and free. Built and run by tests/fuzz/run.sh. */
#include "base/spec.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct hull_err err;
    struct hull_spec *s = NULL;
    if (hull_spec_parse((const char *)data, size, &s, &err) == 0) {
        hull_spec_validate(s, &err);
        /* touch the lookups that walk parsed arrays */
        hull_spec_annotation(s, "run.oci.handler");
        for (int t = 0; t < HULL_NS__COUNT; t++) hull_spec_namespace(s, (enum hull_ns_type)t);
        hull_spec_free(s);
    }
    s = NULL;
    if (hull_process_parse((const char *)data, size, &s, &err) == 0) hull_spec_free(s);
    return 0;
}
