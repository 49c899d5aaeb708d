/* Guest memory: region bookkeeping and the checked accessors. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <string.h>

#include "tap.h"
#include "vm/core/mem.h"

int main(void) {
    struct vm_mem m;
    struct hull_err err;
    vm_mem_init(&m);

    is_int(vm_mem_add(&m, 0, 0x10000, 0, &err), 0, "anonymous region at 0");
    is_int(vm_mem_add(&m, 0x20000, 0x10000, VM_MEM_MEMFD, &err), 0, "memfd region at 0x20000");
    ok(m.r[1].fd >= 0, "memfd kept for sharing");
    ok(vm_mem_add(&m, 0x8000, 0x10000, 0, &err) == -EINVAL, "overlapping region refused");
    like(err.msg, "overlaps", "message says overlap");
    ok(vm_mem_add(&m, 0xfffffffffffff000ull, 0x2000, 0, &err) == -EINVAL, "region wrapping 2^64 refused");
    ok(vm_mem_add(&m, 0x40000, 0x800, 0, &err) == -EINVAL, "unaligned size refused");
    ok(vm_mem_add(&m, 0x40000, 0, 0, &err) == -EINVAL, "empty region refused");

    /* Exact boundaries. */
    ok(vm_mem_ptr(&m, 0, 0x10000) == m.r[0].host, "whole region");
    ok(vm_mem_ptr(&m, 0xffff, 1) != NULL, "last byte");
    ok(vm_mem_ptr(&m, 0xffff, 2) == NULL, "one byte past the end");
    ok(vm_mem_ptr(&m, 0x10000, 1) == NULL, "hole between regions");
    ok(vm_mem_ptr(&m, 0x1fff0, 0x20) == NULL, "range starting in a hole");
    ok(vm_mem_ptr(&m, 0x2fff8, 8) != NULL, "end of second region");
    ok(vm_mem_ptr(&m, 0x100, 0) == NULL, "zero length has no pointer");
    ok(vm_mem_ptr(&m, 0x100, UINT64_MAX) == NULL, "length 2^64-1");
    ok(vm_mem_ptr(&m, UINT64_MAX, 2) == NULL, "gpa+len overflowing 64 bits");
    ok(vm_mem_ptr(&m, 0x10, UINT64_MAX - 0x8) == NULL, "len making gpa+len wrap to a small value");

    /* Two adjacent regions: a range across the seam is refused. */
    static uint8_t a[4096] __attribute__((aligned(4096))), b[4096] __attribute__((aligned(4096)));
    struct vm_mem m2;
    vm_mem_init(&m2);
    is_int(vm_mem_add_host(&m2, 0x1000, sizeof(a), a, &err), 0, "host region a");
    is_int(vm_mem_add_host(&m2, 0x2000, sizeof(b), b, &err), 0, "adjacent host region b");
    ok(vm_mem_ptr(&m2, 0x1ff8, 16) == NULL, "range across two regions refused");
    ok(vm_mem_add_host(&m2, 0x3001, 16, b + 0, &err) == -EINVAL, "host/guest misalignment refused");

    uint8_t buf[16] = "0123456789abcdef", got[16] = {0};
    is_int(vm_mem_write(&m, 0x2fff0, buf, 16), 0, "write at the end of RAM");
    is_int(vm_mem_read(&m, 0x2fff0, got, 16), 0, "read it back");
    ok(!memcmp(buf, got, 16), "same bytes");
    is_int(vm_mem_write(&m, 0x2fff1, buf, 16), -EFAULT, "write one byte too far: EFAULT");
    is_int(vm_mem_read(&m, 0x30000, got, 1), -EFAULT, "read past RAM: EFAULT");
    is_int(vm_mem_read(&m, 0x30000, got, 0), 0, "zero-length read is a no-op");

    uint16_t v;
    is_int(vm_mem_store16(&m, 0x100, 0xbeef), 0, "store16");
    is_int(vm_mem_load16(&m, 0x100, &v), 0, "load16");
    is_int(v, 0xbeef, "value");
    is_int(vm_mem_load16(&m, 0x101, &v), -EFAULT, "misaligned load16 refused");
    is_int(vm_mem_load16(&m, 0xffff, &v), -EFAULT, "load16 across the end refused");

    void *ram0 = m.r[0].host;
    int memfd = m.r[1].fd;
    unsigned char vec;
    vm_mem_free(&m);
    int unmapped = mincore(ram0, 4096, &vec) < 0 && errno == ENOMEM;
    is_int(m.n, 0, "freed");
    ok(unmapped, "anonymous RAM unmapped");
    ok(fcntl(memfd, F_GETFD) < 0 && errno == EBADF, "memfd closed");
    /* an unrelated fd that may reuse the memfd's number must survive a second free */
    int other = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct vm_mem empty;
    memset(&empty, 0, sizeof empty);
    vm_mem_free(&m);
    ok(!memcmp(&m, &empty, sizeof m), "free twice: still empty");
    ok(other >= 0 && fcntl(other, F_GETFD) >= 0, "free twice closes nothing (fd %d still open)", other);
    if (other >= 0) close(other);
    vm_mem_free(&m2);
    return done_testing();
}
