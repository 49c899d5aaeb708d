/* vm-artifacts: hull's guest artifacts from the command line, through the same
 * library calls the runtime uses (tests link it against build/libhull.a):
 *
 *   vm-artifacts release BZIMAGE                 print the kernel release
 *   vm-artifacts initramfs AGENT RELEASE OUT     write the initramfs
 *   vm-artifacts cached-initramfs AGENT RELEASE CACHE_DIR   print the cached path
 *   vm-artifacts rootfs DIR OUT [erofs|ext4]     build a rootfs image
 *   vm-artifacts upper OUT MIB                   an empty ext4 writable layer */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/guest/initramfs.h"
#include "vm/guest/rootfs_image.h"

static int fail(const struct hull_err *err) {
    fprintf(stderr, "vm-artifacts: %s\n", err->msg);
    return 1;
}

int main(int argc, char **argv) {
    struct hull_err err = {0};
    if (argc == 3 && !strcmp(argv[1], "release")) {
        char rel[256];
        if (hull_kernel_release(argv[2], rel, sizeof rel, &err) < 0) return fail(&err);
        printf("%s\n", rel);
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "initramfs")) {
        struct hull_initramfs_opts o = {.agent_path = argv[2], .kernel_release = argv[3]};
        int fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return perror(argv[4]), 1;
        int rc = hull_initramfs_write(&o, fd, &err);
        close(fd);
        return rc < 0 ? fail(&err) : 0;
    }
    if (argc == 5 && !strcmp(argv[1], "cached-initramfs")) {
        struct hull_initramfs_opts o = {.agent_path = argv[2], .kernel_release = argv[3]};
        char path[4096];
        bool built;
        if (hull_initramfs_get(&o, argv[4], path, sizeof path, &built, &err) < 0) return fail(&err);
        printf("%s %s\n", path, built ? "built" : "cached");
        return 0;
    }
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "rootfs")) {
        enum hull_rootfs_fs fs = HULL_ROOTFS_AUTO;
        if (argc == 5) fs = !strcmp(argv[4], "erofs") ? HULL_ROOTFS_EROFS : HULL_ROOTFS_EXT4;
        return hull_rootfs_image_build(argv[2], fs, argv[3], &err) < 0 ? fail(&err) : 0;
    }
    if (argc == 4 && !strcmp(argv[1], "upper"))
        return hull_rootfs_upper_create(argv[2], (uint64_t)atoi(argv[3]) << 20, &err) < 0 ? fail(&err) : 0;
    fprintf(stderr, "usage: see the comment at the top of tests/lib/vm-artifacts.c\n");
    return 2;
}
