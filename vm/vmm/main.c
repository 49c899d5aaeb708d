/* hull-vmm: the VMM process. A separate, small binary so a running microVM
 * costs little memory beyond its guest RAM (see cli/verb_vmm.c); built from
 * vm/vmm/ and the vm/ folders below it only. Not part of build/hull. */
#include "vm/vmm/cmd.h"

int main(int argc, char **argv) {
    return vmm_cmd(argc, argv);
}
