#include "base/device_rules.h"

#include <string.h>

static const struct hull_device_rule defaults[] = {
    {.allow = true, .type = 'c', .major = -1, .minor = -1, .access = "m"},
    {.allow = true, .type = 'b', .major = -1, .minor = -1, .access = "m"},
    {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},    /* null */
    {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm"},    /* zero */
    {.allow = true, .type = 'c', .major = 1, .minor = 7, .access = "rwm"},    /* full */
    {.allow = true, .type = 'c', .major = 1, .minor = 8, .access = "rwm"},    /* random */
    {.allow = true, .type = 'c', .major = 1, .minor = 9, .access = "rwm"},    /* urandom */
    {.allow = true, .type = 'c', .major = 5, .minor = 0, .access = "rwm"},    /* tty */
    {.allow = true, .type = 'c', .major = 5, .minor = 1, .access = "rwm"},    /* console */
    {.allow = true, .type = 'c', .major = 5, .minor = 2, .access = "rwm"},    /* ptmx */
    {.allow = true, .type = 'c', .major = 136, .minor = -1, .access = "rwm"}, /* pts */
};

int hull_effective_resources(const struct hull_spec *spec, struct hull_resources *out, struct hull_err *err) {
    const struct hull_linux *lx = &spec->linux;
    *out = lx->resources;
    size_t n_def = sizeof defaults / sizeof *defaults;
    size_t n = lx->resources.n_devices + n_def + lx->n_devices;
    struct hull_device_rule *rules = hull_arena_alloc(spec->arena, n * sizeof *rules);
    if (!rules) return hull_err_set(err, ENOMEM, "device rules: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < lx->resources.n_devices; i++) rules[k++] = lx->resources.devices[i];
    memcpy(rules + k, defaults, sizeof defaults);
    k += n_def;
    for (size_t i = 0; i < lx->n_devices; i++) {
        const struct hull_device *d = &lx->devices[i];
        if (d->type != 'c' && d->type != 'b' && d->type != 'u') continue;   /* fifos need no rule */
        rules[k++] = (struct hull_device_rule){.allow = true, .type = d->type == 'u' ? 'c' : d->type,
                                               .major = d->major, .minor = d->minor, .access = "rwm"};
    }
    out->devices = rules;
    out->n_devices = k;
    out->present = true;
    return 0;
}
