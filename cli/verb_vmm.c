/* hull vmm: boot a kernel in a microVM by hand — the engine without the
 * container around it (what firecracker --no-api is to its users). Used by
 * the nested-VM tests, the benchmarks and for debugging guests.
 *
 * This verb only resolves the default kernel (the newest /boot/vmlinuz-*,
 * its vmlinux extracted once and cached under <data-root>/vm/kernels), then
 * execs hull-vmm from hull's own directory: the VM then runs in a process
 * that maps only the VMM's code and libc — not libarchive, libcrypto and
 * their dependencies, which cost ~5 MiB of RSS per VM. Without hull-vmm
 * beside it, hull runs the VM itself. */
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "vm/vmm/cmd.h"
#include "vm/boot/boot.h"

static bool has_kernel(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--kernel") == 0 || strncmp(argv[i], "--kernel=", 9) == 0 ||
            strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

int verb_vmm(int argc, char **argv) {
    char kernel[PATH_MAX], self[PATH_MAX], vmm[PATH_MAX];
    char **args = calloc((size_t)argc + 3, sizeof(*args));
    if (!args)
        return 1;
    int n = 0;
    args[n++] = "hull-vmm";
    if (!has_kernel(argc, argv)) {
        char bz[PATH_MAX], cache[PATH_MAX];
        struct hull_err err = {0};
        snprintf(cache, sizeof(cache), "%s/vm/kernels", cli_data_root());
        if (kernel_default_path(bz, sizeof(bz), &err) < 0 ||
            kernel_cache_vmlinux(bz, cache, kernel, sizeof(kernel), &err) < 0) {
            free(args);
            return cli_fail(&err);
        }
        args[n++] = "--kernel";
        args[n++] = kernel;
    }
    for (int i = 1; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len > 0) {
        self[len] = '\0';
        snprintf(vmm, sizeof(vmm), "%s/hull-vmm", dirname(self));
        if (access(vmm, X_OK) == 0) {
            execv(vmm, args);
            fprintf(stderr, "hull: vmm: exec %s failed, running the VM in this process\n", vmm);
        }
    }
    optind = 0;
    int rc = vmm_cmd(n, args);
    free(args);
    return rc;
}
