/* Guest RAM regions and the checked accessor family (see mem.h). */
#include "vm/core/mem.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void vm_mem_init(struct vm_mem *m) {
    memset(m, 0, sizeof(*m));
}

/* [gpa, gpa+size) must not wrap and must not intersect an existing region. */
static int check_range(const struct vm_mem *m, uint64_t gpa, uint64_t size, struct hull_err *err) {
    if (size == 0)
        return hull_err_set(err, EINVAL, "guest memory: region at 0x%llx has size 0", (unsigned long long)gpa);
    if (gpa + size < gpa)   /* unsigned wrap: defined behaviour, the check we want */
        return hull_err_set(err, EINVAL, "guest memory: region 0x%llx+0x%llx overflows 64 bits",
                            (unsigned long long)gpa, (unsigned long long)size);
    if (m->n >= VM_MEM_MAX_REGIONS)
        return hull_err_set(err, ENOSPC, "guest memory: more than %d regions", VM_MEM_MAX_REGIONS);
    for (unsigned i = 0; i < m->n; i++) {
        const struct vm_mem_region *r = &m->r[i];
        /* Both ends are exclusive and do not wrap, so this is exact. */
        if (gpa < r->gpa + r->size && r->gpa < gpa + size)
            return hull_err_set(err, EINVAL, "guest memory: region 0x%llx+0x%llx overlaps 0x%llx+0x%llx",
                                (unsigned long long)gpa, (unsigned long long)size,
                                (unsigned long long)r->gpa, (unsigned long long)r->size);
    }
    return 0;
}

int vm_mem_add(struct vm_mem *m, uint64_t gpa, uint64_t size, unsigned flags, struct hull_err *err) {
    int rc = check_range(m, gpa, size, err);
    if (rc < 0)
        return rc;
    uint64_t align = (flags & VM_MEM_HUGE) ? (2u << 20) : (uint64_t)sysconf(_SC_PAGESIZE);
    if (size % align || gpa % align)
        return hull_err_set(err, EINVAL, "guest memory: region 0x%llx+0x%llx is not %llu-byte aligned",
                            (unsigned long long)gpa, (unsigned long long)size, (unsigned long long)align);
    if (size > SIZE_MAX)
        return hull_err_set(err, EINVAL, "guest memory: region too large for this host");

    int fd = -1;
    void *p;
    if (flags & VM_MEM_MEMFD) {
        fd = memfd_create("hull-guest-ram", MFD_CLOEXEC | ((flags & VM_MEM_HUGE) ? MFD_HUGETLB : 0));
        if (fd < 0)
            return hull_err_sys(err, "guest memory: memfd_create");
        if (ftruncate(fd, (off_t)size) < 0) {
            rc = hull_err_sys(err, "guest memory: size memfd to %llu bytes", (unsigned long long)size);
            close(fd);
            return rc;
        }
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    } else {
        /* MAP_NORESERVE: guest RAM is touched lazily; the guest's working set,
         * not its nominal size, is what the host pays for. */
        p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | ((flags & VM_MEM_HUGE) ? MAP_HUGETLB : 0), -1, 0);
    }
    if (p == MAP_FAILED) {
        rc = hull_err_sys(err, "guest memory: map %llu bytes", (unsigned long long)size);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    /* Guest RAM in a core dump of the VMM would leak the guest's secrets. */
    (void)madvise(p, size, MADV_DONTDUMP);
    m->r[m->n++] = (struct vm_mem_region){ .gpa = gpa, .size = size, .host = p, .fd = fd, .owned = true };
    return 0;
}

int vm_mem_add_host(struct vm_mem *m, uint64_t gpa, uint64_t size, void *host, struct hull_err *err) {
    int rc = check_range(m, gpa, size, err);
    if (rc < 0)
        return rc;
    if (!host)
        return hull_err_set(err, EINVAL, "guest memory: NULL host mapping");
    /* Naturally aligned guest addresses must stay aligned on the host, or the
     * ring accessors' atomic loads would be misaligned. */
    if (((uintptr_t)host ^ gpa) & 7)
        return hull_err_set(err, EINVAL, "guest memory: host mapping alignment differs from 0x%llx's",
                            (unsigned long long)gpa);
    m->r[m->n++] = (struct vm_mem_region){ .gpa = gpa, .size = size, .host = host, .fd = -1, .owned = false };
    return 0;
}

void vm_mem_free(struct vm_mem *m) {
    for (unsigned i = 0; i < m->n; i++) {
        struct vm_mem_region *r = &m->r[i];
        if (r->owned && r->host)
            munmap(r->host, r->size);
        if (r->fd >= 0)
            close(r->fd);
    }
    vm_mem_init(m);
}

void *vm_mem_ptr(const struct vm_mem *m, uint64_t gpa, uint64_t len) {
    if (len == 0)
        return NULL;
    for (unsigned i = 0; i < m->n; i++) {
        const struct vm_mem_region *r = &m->r[i];
        if (gpa < r->gpa)
            continue;
        uint64_t off = gpa - r->gpa;
        /* off < size and len <= size - off: no addition that could wrap. */
        if (off < r->size && len <= r->size - off)
            return r->host + off;
    }
    return NULL;
}

int vm_mem_read(const struct vm_mem *m, uint64_t gpa, void *dst, size_t len) {
    if (len == 0)
        return 0;
    const void *p = vm_mem_ptr(m, gpa, len);
    if (!p)
        return -EFAULT;
    memcpy(dst, p, len);
    return 0;
}

int vm_mem_write(const struct vm_mem *m, uint64_t gpa, const void *src, size_t len) {
    if (len == 0)
        return 0;
    void *p = vm_mem_ptr(m, gpa, len);
    if (!p)
        return -EFAULT;
    memcpy(p, src, len);
    return 0;
}

int vm_mem_load16(const struct vm_mem *m, uint64_t gpa, uint16_t *v) {
    if (gpa & 1)
        return -EFAULT;
    uint16_t *p = vm_mem_ptr(m, gpa, 2);
    if (!p)
        return -EFAULT;
    *v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
    return 0;
}

int vm_mem_store16(const struct vm_mem *m, uint64_t gpa, uint16_t v) {
    if (gpa & 1)
        return -EFAULT;
    uint16_t *p = vm_mem_ptr(m, gpa, 2);
    if (!p)
        return -EFAULT;
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
    return 0;
}
