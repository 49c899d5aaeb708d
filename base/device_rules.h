/* The device cgroup rules a container really gets: the spec's
 * linux.resources.devices in order, then the devices every container needs
 * (null, zero, full, random, urandom, tty, ptmx, /dev/pts/<any>, and mknod of
 * any node, as runc and crun allow), then one allow rule per linux.devices
 * entry so the nodes the spec asks for are usable. Later rules win. */
#ifndef HULL_BASE_DEVICE_RULES_H
#define HULL_BASE_DEVICE_RULES_H

#include "base/spec.h"

/* Fills *out with a copy of spec->linux.resources whose devices list is the
 * effective one (allocated in spec->arena); -ENOMEM if that fails. */
int hull_effective_resources(const struct hull_spec *spec, struct hull_resources *out, struct hull_err *err);

#endif
