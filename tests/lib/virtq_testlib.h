/* Test support for vm/devices/virtio/virtq: has the driver published anything? */
#ifndef HULL_TESTS_LIB_VIRTQ_TESTLIB_H
#define HULL_TESTS_LIB_VIRTQ_TESTLIB_H

#include <stdbool.h>

#include "vm/devices/virtio/virtq.h"

/* True when the driver published nothing new (no validation). */
bool virtq_empty(struct virtq *q);

#endif
