/* The guest initramfs: an uncompressed cpio "newc" archive (written with
 * libarchive) holding
 *
 *   /init                                 the static guest agent (build/hull-agent)
 *   /dev/console                          char 5:1, so the kernel gives /init its console fds
 *   /dev /proc /sys /run /tmp /rootfs     mount points the agent uses
 *   /lib/modules/hull/<name>.ko           every module of the resolved list, decompressed
 *   /lib/modules/hull/load.list           load order: one file name per line, "?name.ko"
 *                                         for optional ones (a failed load is not fatal)
 *
 * Uncompressed on purpose: the guest's decompressor would run in emulated ring 0
 * on kvm_pvm hosts, which costs far more than copying a few MiB into guest RAM.
 * Everything is written with mtime 0 and uid/gid 0, so the same inputs give the
 * same bytes. */
#ifndef HULL_VM_GUEST_INITRAMFS_H
#define HULL_VM_GUEST_INITRAMFS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

struct hull_initramfs_opts {
    const char *agent_path;        /* the static agent binary; required */
    const char *kernel_release;    /* "6.1.0-56-amd64"; required */
    const char *modules_root;      /* NULL: "/lib/modules" (modules come from <root>/<release>) */
    const char *const *modules;    /* names for hull_modules_resolve; NULL: hull_guest_modules */
    size_t n_modules;
};

/* Writes the archive to out_fd (from its current position). */
int hull_initramfs_write(const struct hull_initramfs_opts *o, int out_fd, struct hull_err *err);

/* The cached initramfs for these inputs: <cache_dir>/initramfs-<release>-<key>.cpio
 * where key is a sha256 over the agent's bytes, the module list and the
 * modules.dep it was resolved from (size + mtime) — a new agent or a kernel
 * package update gives a new file. Built when missing (temp file + fsync +
 * rename, so concurrent callers and crashes never expose a partial archive);
 * older entries for the same release are removed. *built says whether this
 * call wrote it. path gets the file name (n bytes). */
int hull_initramfs_get(const struct hull_initramfs_opts *o, const char *cache_dir, char *path, size_t n,
                       bool *built, struct hull_err *err);


/* The kernel release string ("6.1.0-56-amd64") from a bzImage's setup header
 * (kernel_version field), so the modules match the kernel actually booted. */
int hull_kernel_release(const char *bzimage, char *out, size_t n, struct hull_err *err);

#endif
