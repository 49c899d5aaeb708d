/* The VMM's command line (vm/vmm/cmd.c): `hull vmm` and hull-vmm share it. */
#ifndef HULL_VM_VMM_CMD_H
#define HULL_VM_VMM_CMD_H

#include <stdio.h>

/* argv[0] is the verb or program name; --kernel is required here. Returns
 * the exit status (the guest's fate, see vmm_fate_exit_code; 1 or 2 on
 * errors). */
int vmm_cmd(int argc, char **argv);
void vmm_cmd_usage(FILE *f);

#endif
