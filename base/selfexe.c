/* Re-executing hull from a copy of itself the container cannot write
 * (CVE-2019-5736).
 *
 * First choice, no memory cost at all: a detached, read-only bind mount of
 * the binary (open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_RDONLY)),
 * executed through its fd. The mount is in no mount table, so nothing can
 * remount it writable, and any open-for-write through /proc/PID/exe fails
 * with EROFS. It needs CAP_SYS_ADMIN; without it (rootless) hull falls back to
 * a sealed memfd copy.
 *
 * Memory cost of the fallback: the memfd holds one copy of the hull binary in shmem pages
 * (the size of build/hull, a few hundred KiB; it is not duplicated per mapping).
 * It lives only while a process is running from it: the memfd is close-on-exec,
 * so once the container process execs its own program, or the hull process
 * that re-executed exits, the last reference goes and the pages are freed.
 * Callers should therefore re-exec only in the process that will enter the
 * container, not in long-lived monitors. */
#include "base/selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U     /* kernel >= 6.3: ask for an executable memfd explicitly */
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static int exe_seals(void) {
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int seals = fcntl(fd, F_GET_SEALS);   /* EINVAL for anything but a memfd/shmem file */
    close(fd);
    return seals;
}

/* Running from a read-only mount: either our own detached bind or a binary
 * installed on a read-only filesystem; neither can be written through. */
static bool exe_on_readonly_mount(void) {
    struct statvfs sv;
    return statvfs("/proc/self/exe", &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

bool hull_selfexe_is_sealed(void) {
    int seals = exe_seals();
    return (seals >= 0 && (seals & F_SEAL_WRITE)) || exe_on_readonly_mount();
}

/* Returns only on failure (<0): the caller then tries the memfd. */
static int exec_readonly_bind(char **argv, char **envp) {
    int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (fd < 0) return -errno;
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    int e = -errno;
    close(fd);
    return e;
}

static int make_memfd(struct hull_err *err) {
    /* With vm.memfd_noexec = 1 a memfd made without MFD_EXEC is not
     * executable; older kernels reject the unknown flag with EINVAL. */
    int fd = memfd_create("hull", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = memfd_create("hull", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return hull_err_sys(err, "memfd_create for the sealed hull copy");
    return fd;
}

static int copy_exe(int src, int dst, off_t size, struct hull_err *err) {
    off_t done = 0;
    while (done < size) {
        ssize_t n = sendfile(dst, src, NULL, (size_t)(size - done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return hull_err_sys(err, "copy /proc/self/exe into the memfd");
        }
        if (n == 0) return hull_err_set(err, EIO, "copy /proc/self/exe: file shrank while copying");
        done += n;
    }
    return 0;
}

int hull_selfexe_ensure_sealed(char **argv, char **envp, struct hull_err *err) {
    int seals = exe_seals();
    if (seals >= 0 && (seals & F_SEAL_WRITE)) return 0;
    if (exe_on_readonly_mount()) return 0;
    if (!getenv("HULL_SELFEXE_MEMFD")) exec_readonly_bind(argv, envp);
    /* A binary on tmpfs also answers F_GET_SEALS (with F_SEAL_SEAL only): not
     * sealed against writes, so it gets the same treatment as any file. The
     * copies made below are sealed or read-only, so there is no loop. */

    int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (src < 0) return hull_err_sys(err, "open /proc/self/exe");
    struct stat st;
    if (fstat(src, &st) < 0) {
        int rc = hull_err_sys(err, "stat /proc/self/exe");
        close(src);
        return rc;
    }
    int mfd = make_memfd(err);
    if (mfd < 0) {
        close(src);
        return mfd;
    }
    int rc = copy_exe(src, mfd, st.st_size, err);
    close(src);
    if (rc < 0) goto fail;
    if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0) {
        rc = hull_err_sys(err, "seal the hull memfd");
        goto fail;
    }
    /* The memfd is close-on-exec: execveat(fd, "", AT_EMPTY_PATH) on an ELF
     * binary does not need the fd after the exec, so nothing leaks into the
     * new image (or the container). */
    fexecve(mfd, argv, envp);
    rc = hull_err_sys(err, "re-exec hull from the sealed memfd");
fail:
    close(mfd);
    return rc;
}
