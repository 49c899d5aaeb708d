/* The executor registry (base/executor.h). A fixed table: a program links a
 * handful of executors and registers them once, before its first thread. */
#include "base/executor.h"

#include <errno.h>
#include <string.h>

static const struct hull_executor_ops *registered[HULL_EXECUTOR_MAX];

int hull_executor_register(const struct hull_executor_ops *ops) {
    for (size_t i = 0; i < HULL_EXECUTOR_MAX; i++) {
        if (registered[i] == ops) return 0;
        if (!registered[i]) { registered[i] = ops; return 0; }
        if (strcmp(registered[i]->name, ops->name) == 0) return -EEXIST;
    }
    return -ENOSPC;
}

const struct hull_executor_ops *hull_executor_find(const char *name) {
    for (size_t i = 0; i < HULL_EXECUTOR_MAX && registered[i]; i++)
        if (strcmp(registered[i]->name, name) == 0) return registered[i];
    return NULL;
}
