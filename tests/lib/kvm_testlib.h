/* Test support for vm/core/kvm: real-mode vCPU state for the tier-2 test guests. */
#ifndef HULL_TESTS_LIB_KVM_TESTLIB_H
#define HULL_TESTS_LIB_KVM_TESTLIB_H

#include <stdint.h>

#include "vm/core/kvm.h"

/* Puts the vCPU in real mode at cs:ip with flat data segments (tier-2 test
 * guests; the Linux boot code sets up its own state). */
int kvm_vcpu_set_real_mode(struct kvm_vcpu *c, uint16_t cs, uint16_t ip, struct hull_err *err);

#endif
