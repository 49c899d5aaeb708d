/* The common part of loading a kernel, for params.c, bzimage.c and pvh.c: the
 * RAM map (e820) derived from the guest's memory regions, checked file access,
 * cmdline and initrd placement. */
#include "vm/boot/internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 0x1000ull

int boot_map_from_mem(const struct vm_mem *mem, struct boot_map *m, struct hull_err *err) {
    memset(m, 0, sizeof(*m));
    struct { uint64_t gpa, size; } r[VM_MEM_MAX_REGIONS];
    unsigned n = mem->n;
    /* Sorted by address: e820 is read in order, and it makes "RAM starts at
     * 0" a look at the first entry. */
    for (unsigned i = 0; i < n; i++) {
        unsigned j = i;
        for (; j > 0 && r[j - 1].gpa > mem->r[i].gpa; j--)
            r[j] = r[j - 1];
        r[j].gpa = mem->r[i].gpa;
        r[j].size = mem->r[i].size;
    }
    if (n == 0 || r[0].gpa != 0 || r[0].size <= BOOT_KERNEL_MIN)
        return hull_err_set(err, EINVAL, "guest RAM must start at address 0 and be larger than 1 MiB");
    for (unsigned i = 0; i < n; i++) {
        uint64_t end = r[i].gpa + r[i].size;   /* vm_mem_add refused wrapping ranges */
        if (r[i].gpa < BOOT_HIGH_RAM_BASE && end > BOOT_LOW_RAM_MAX)
            return hull_err_set(err, EINVAL, "guest RAM 0x%llx-0x%llx overlaps the 3-4 GiB MMIO hole",
                                (unsigned long long)r[i].gpa, (unsigned long long)end);
    }
    /* The PC's low memory: base RAM up to the EBDA, then the EBDA, VGA and
     * BIOS area as reserved (the MP table lives in the EBDA). */
    m->e[m->n++] = (struct boot_e820){ 0, BOOT_EBDA_ADDR, BOOT_E820_RAM };
    m->e[m->n++] = (struct boot_e820){ BOOT_EBDA_ADDR, BOOT_KERNEL_MIN - BOOT_EBDA_ADDR, BOOT_E820_RESERVED };
    m->e[m->n++] = (struct boot_e820){ BOOT_KERNEL_MIN, r[0].size - BOOT_KERNEL_MIN, BOOT_E820_RAM };
    m->low_end = r[0].size;
    for (unsigned i = 1; i < n; i++)
        m->e[m->n++] = (struct boot_e820){ r[i].gpa, r[i].size, BOOT_E820_RAM };
    return 0;
}

int boot_file_open(struct boot_file *f, const char *path, const char *what, struct hull_err *err) {
    f->fd = -1;
    f->path = path;
    /* O_NONBLOCK: a FIFO planted at the path must not hang us in open(). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return hull_err_sys(err, "%s %s", what, path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int rc = hull_err_sys(err, "%s %s: stat", what, path);
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return hull_err_set(err, EINVAL, "%s %s: not a regular file", what, path);
    }
    f->fd = fd;
    f->size = (uint64_t)st.st_size;
    return 0;
}

void boot_file_close(struct boot_file *f) {
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* pread until done; a short file is "truncated" (it may also have shrunk
 * under us, which is the same thing to the guest). */
static int read_full(const struct boot_file *f, uint64_t off, uint8_t *dst, uint64_t len, struct hull_err *err) {
    while (len > 0) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
        ssize_t n = pread(f->fd, dst, chunk, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return hull_err_sys(err, "%s: read at offset %llu", f->path, (unsigned long long)off);
        if (n == 0)
            return hull_err_set(err, EINVAL, "%s: truncated at offset %llu", f->path, (unsigned long long)off);
        dst += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

int boot_file_read(const struct boot_file *f, uint64_t off, void *dst, size_t len, struct hull_err *err) {
    if (off > f->size || len > f->size - off)
        return hull_err_set(err, EINVAL, "%s: truncated: need %zu bytes at offset %llu, file has %llu", f->path,
                            len, (unsigned long long)off, (unsigned long long)f->size);
    return read_full(f, off, dst, len, err);
}

int boot_file_to_guest(const struct vm_mem *mem, const struct boot_file *f, uint64_t off, uint64_t len,
                       uint64_t gpa, struct hull_err *err) {
    if (len == 0)
        return 0;
    if (off > f->size || len > f->size - off)
        return hull_err_set(err, EINVAL, "%s: truncated: need %llu bytes at offset %llu, file has %llu", f->path,
                            (unsigned long long)len, (unsigned long long)off, (unsigned long long)f->size);
    uint8_t *dst = vm_mem_ptr(mem, gpa, len);
    if (!dst)
        return hull_err_set(err, EINVAL, "%s: 0x%llx bytes at guest address 0x%llx do not fit in guest RAM",
                            f->path, (unsigned long long)len, (unsigned long long)gpa);
    return read_full(f, off, dst, len, err);
}

int boot_write_cmdline(const struct vm_mem *mem, const char *cmdline, uint64_t max_len, struct hull_err *err) {
    if (!cmdline)
        cmdline = "";
    size_t len = strlen(cmdline);
    if (max_len > BOOT_CMDLINE_MAX - 1)
        max_len = BOOT_CMDLINE_MAX - 1;
    if (len > max_len)
        return hull_err_set(err, EINVAL, "kernel command line too long: %zu bytes, at most %llu", len,
                            (unsigned long long)max_len);
    if (vm_mem_write(mem, BOOT_CMDLINE_ADDR, cmdline, len + 1) < 0)
        return hull_err_set(err, EFAULT, "kernel command line: guest RAM too small");
    return 0;
}

int boot_load_initrd(const struct vm_mem *mem, const struct boot_map *m, const char *path, uint64_t floor,
                     uint64_t ceiling, uint64_t *addr, uint64_t *size, struct hull_err *err) {
    struct boot_file f;
    int rc = boot_file_open(&f, path, "initrd", err);
    if (rc < 0)
        return rc;
    if (ceiling > m->low_end)
        ceiling = m->low_end;
    floor = (floor + PAGE - 1) & ~(PAGE - 1);
    if (f.size == 0) {
        rc = hull_err_set(err, EINVAL, "initrd %s: empty file", path);
    } else if (ceiling <= floor || f.size > ceiling - floor) {
        rc = hull_err_set(err, EFBIG, "initrd %s too large: %llu bytes, %llu fit between the kernel's end 0x%llx "
                          "and 0x%llx", path, (unsigned long long)f.size,
                          (unsigned long long)(ceiling > floor ? ceiling - floor : 0), (unsigned long long)floor,
                          (unsigned long long)ceiling);
    } else {
        /* As high as possible: the kernel decompresses and grows upwards
         * from its load address; the initrd stays out of its way. */
        *addr = (ceiling - f.size) & ~(PAGE - 1);
        *size = f.size;
        rc = boot_file_to_guest(mem, &f, 0, f.size, *addr, err);
    }
    boot_file_close(&f);
    return rc;
}
