/* boot_load(): checks the config, writes the low-memory tables, opens the
 * kernel and hands it to the bzImage (bzimage.c) or the PVH (pvh.c) loader.
 * The helpers all of them use are in boot_file.c. */
#include "vm/boot/internal.h"

#include <string.h>

int boot_load(const struct vm_mem *mem, const struct boot_config *cfg, struct boot_entry *out,
              struct hull_err *err) {
    memset(out, 0, sizeof(*out));
    if (!cfg->kernel || !cfg->kernel[0])
        return hull_err_set(err, EINVAL, "boot: no kernel given");
    unsigned ncpu = cfg->nvcpus ? cfg->nvcpus : 1;
    if (ncpu > KVM_MAX_VCPUS)
        return hull_err_set(err, EINVAL, "boot: %u vCPUs, at most %d", ncpu, KVM_MAX_VCPUS);
    if (cfg->npci_intx > 32 || (cfg->npci_intx && !cfg->pci_intx))
        return hull_err_set(err, EINVAL, "boot: at most 32 PCI interrupt lines");
    struct boot_map m;
    int rc = boot_map_from_mem(mem, &m, err);
    if (rc < 0)
        return hull_err_prefix(err, "boot: ");
    /* Low-memory tables first: they validate the rest of the config before
     * any file is read, and nothing loaded later reaches below 1 MiB. */
    if ((rc = mptable_write(mem, ncpu, cfg->pci_intx, cfg->npci_intx, err)) < 0 ||
        (rc = boot_write_cpu_tables(mem, err)) < 0)
        return rc;
    struct boot_file k;
    if ((rc = boot_file_open(&k, cfg->kernel, "kernel", err)) < 0)
        return rc;
    uint8_t head[4096];
    size_t len = k.size < sizeof(head) ? (size_t)k.size : sizeof(head);
    if ((rc = boot_file_read(&k, 0, head, len, err)) < 0)
        goto out;
    enum boot_format fmt = cfg->format;
    if (fmt == BOOT_FMT_AUTO)
        fmt = boot_is_bzimage(head, len) ? BOOT_FMT_BZIMAGE : boot_is_elf(head, len) ? BOOT_FMT_PVH : BOOT_FMT_AUTO;
    if (fmt == BOOT_FMT_BZIMAGE)
        rc = boot_bzimage_load(mem, cfg, &k, head, len, &m, out, err);
    else if (fmt == BOOT_FMT_PVH)
        rc = boot_pvh_load(mem, cfg, &k, head, len, &m, out, err);
    else
        rc = hull_err_set(err, EINVAL, "kernel %s: neither a bzImage (no \"HdrS\" setup header) nor an ELF vmlinux",
                          k.path);
out:
    boot_file_close(&k);
    return rc;
}
