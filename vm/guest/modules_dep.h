/* Kernel module dependency resolution for the guest initramfs, from the files
 * depmod writes into /lib/modules/<release>/:
 *
 *   modules.dep      "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko ..."
 *                    (each line lists the full transitive closure of hard deps)
 *   modules.builtin  modules compiled into the kernel: requested ones are skipped
 *   modules.softdep  "softdep ext4 pre: crypto-crc32c": modules a module asks for at
 *                    run time (request_module / crypto_alloc_*), which the guest
 *                    cannot modprobe; their "pre:" targets are added as optional
 *   modules.alias    resolves softdep targets that are aliases ("crypto-crc32c" ->
 *                    crc32c_intel, crc32c_generic): every provider is added
 *
 * Names compare like modprobe does: '-' and '_' are the same. Module files may
 * be .ko, .ko.xz, .ko.zst or .ko.gz (the initramfs writer decompresses). */
#ifndef HULL_VM_GUEST_MODULES_DEP_H
#define HULL_VM_GUEST_MODULES_DEP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

struct hull_kmod {
    char *name;        /* normalised: "virtio_pci", "crc32c_intel" */
    char *path;        /* relative to the modules dir, as in modules.dep */
    bool optional;     /* only wanted through a softdep: a load failure is not fatal */
};

struct hull_kmod_list {
    struct hull_kmod *v;   /* load order: every module after all its dependencies */
    size_t n;
};

/* What the guest needs for hull's devices and rootfs formats. virtio_rng is
 * optional in the sense that it is skipped when missing (entropy is a bonus). */
extern const char *const hull_guest_modules[];
extern const size_t hull_guest_modules_count;

/* Resolves `names` (n of them) against <moddir>, e.g. /lib/modules/6.1.0-56-amd64.
 * Requested modules that are built in are skipped; a requested module that is
 * neither built in nor in modules.dep is an error naming it, unless its name
 * starts with '?' (then it is skipped when absent). Cycles and malformed lines
 * are errors naming the file and line. */
int hull_modules_resolve(const char *moddir, const char *const *names, size_t n, struct hull_kmod_list *out,
                         struct hull_err *err);
void hull_kmod_list_free(struct hull_kmod_list *l);

/* "kernel/drivers/char/hw_random/virtio-rng.ko.xz" -> "virtio_rng" into out;
 * returns false if the path does not name a module file. */
bool hull_kmod_name_from_path(const char *path, char *out, size_t len);

#endif
