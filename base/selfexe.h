/* Protection against the /proc/self/exe overwrite attack (CVE-2019-5736).
 *
 * A container process that can see hull's /proc/<pid>/exe while hull is still
 * the running binary could open it for writing and replace the host's hull.
 * Before hull enters or creates a container it therefore re-executes itself
 * from a sealed, anonymous memfd copy: /proc/self/exe then points at that copy,
 * which can be neither written, truncated nor grown, and which is not the
 * file on the host's disk. */
#ifndef HULL_BASE_SELFEXE_H
#define HULL_BASE_SELFEXE_H

#include <stdbool.h>
#include "base/error.h"

/* True when the running binary is a memfd with F_SEAL_WRITE set. */
bool hull_selfexe_is_sealed(void);

/* If not already sealed: copy /proc/self/exe into a memfd, seal it
 * (F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE) and fexecve it with
 * argv/envp. Returns 0 when already sealed; otherwise returns only on failure
 * (negative errno, err filled). */
int hull_selfexe_ensure_sealed(char **argv, char **envp, struct hull_err *err);

#endif
