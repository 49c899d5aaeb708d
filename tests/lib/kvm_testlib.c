/* See kvm_testlib.h. */
#include "tests/lib/kvm_testlib.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

int kvm_vcpu_set_real_mode(struct kvm_vcpu *c, uint16_t cs, uint16_t ip, struct hull_err *err) {
    struct kvm_sregs s;
    if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
        return hull_err_sys(err, "vcpu %u: KVM_GET_SREGS", c->id);
    s.cs.selector = cs;
    s.cs.base = (uint64_t)cs << 4;
    struct kvm_segment *data[] = { &s.ds, &s.es, &s.ss, &s.fs, &s.gs };
    for (unsigned i = 0; i < 5; i++) {
        data[i]->selector = 0;
        data[i]->base = 0;
    }
    if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0)
        return hull_err_sys(err, "vcpu %u: KVM_SET_SREGS", c->id);
    struct kvm_regs r = { .rip = ip, .rflags = 0x2, .rsp = 0xff0 };   /* bit 1 of RFLAGS is reserved-one */
    if (ioctl(c->fd, KVM_SET_REGS, &r) < 0)
        return hull_err_sys(err, "vcpu %u: KVM_SET_REGS", c->id);
    return 0;
}
