/* The guest initramfs writer and its cache (see initramfs.h). */
#include "vm/guest/initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "vm/proto/agent_proto.h"
#include "vm/guest/modules_dep.h"

#define MAX_MEMBER (128u << 20)   /* agent or one (decompressed) module */
#define FORMAT_TAG "hull-initramfs 1"

static const char *mods_root(const struct hull_initramfs_opts *o) {
    return o->modules_root ? o->modules_root : "/lib/modules";
}

/* Reads a regular file whole (bounded). */
static int slurp(const char *path, uint8_t **out, size_t *len, struct hull_err *err) {
    *out = NULL;
    *len = 0;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return hull_err_sys(err, "initramfs: open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0) return hull_err_sys(err, "initramfs: stat %s", path);
    if (!S_ISREG(st.st_mode)) return hull_err_set(err, EINVAL, "initramfs: %s is not a regular file", path);
    if ((uint64_t)st.st_size > MAX_MEMBER)
        return hull_err_set(err, EFBIG, "initramfs: %s is larger than %u MiB", path, MAX_MEMBER >> 20);
    _cleanup_free_ uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf) return hull_err_set(err, ENOMEM, "initramfs: out of memory for %s", path);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return hull_err_sys(err, "initramfs: read %s", path);
        if (r == 0) return hull_err_set(err, EIO, "initramfs: %s shrank while being read", path);
        got += (size_t)r;
    }
    *out = TAKE_PTR(buf);
    *len = got;
    return 0;
}

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* A module's bytes, decompressed when the file is .ko.xz/.ko.zst/.ko.gz: the
 * guest then needs no decompressor (and its kernel no MODULE_DECOMPRESS). */
static int module_bytes(const char *path, uint8_t **out, size_t *len, struct hull_err *err) {
    if (ends_with(path, ".ko")) return slurp(path, out, len, err);
    *out = NULL;
    *len = 0;
    _cleanup_archive_read_ struct archive *a = archive_read_new();
    if (!a) return hull_err_set(err, ENOMEM, "initramfs: out of memory");
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    struct archive_entry *e;
    size_t cap = 1 << 20, n = 0;
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
        return hull_err_set(err, EINVAL, "initramfs: decompress %s: %s", path, archive_error_string(a));
    if (archive_filter_count(a) < 2)   /* only the "none" filter: not compressed after all */
        return hull_err_set(err, EINVAL, "initramfs: %s: unknown compression", path);
    _cleanup_free_ uint8_t *buf = malloc(cap);
    if (!buf) return hull_err_set(err, ENOMEM, "initramfs: out of memory");
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_MEMBER)
                return hull_err_set(err, EFBIG, "initramfs: %s decompresses to more than %u MiB", path, MAX_MEMBER >> 20);
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) return hull_err_set(err, ENOMEM, "initramfs: out of memory");
            buf = nb;
            cap *= 2;
        }
        la_ssize_t r = archive_read_data(a, buf + n, cap - n);
        if (r < 0) return hull_err_set(err, EIO, "initramfs: decompress %s: %s", path, archive_error_string(a));
        if (r == 0) break;
        n += (size_t)r;
    }
    *out = TAKE_PTR(buf);
    *len = n;
    return 0;
}

/* The kernel execs /init with no dynamic loader around: refuse anything but a
 * static x86-64 ELF executable up front, with a message that says so. */
static int check_static_elf(const char *path, const uint8_t *b, size_t len, struct hull_err *err) {
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)b;
    if (len < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_machine != EM_X86_64 || (eh->e_type != ET_EXEC && eh->e_type != ET_DYN))
        return hull_err_set(err, ENOEXEC, "initramfs: agent %s is not an x86-64 ELF executable", path);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
        (len - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
        return hull_err_set(err, ENOEXEC, "initramfs: agent %s: bad program headers", path);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, b + eh->e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_INTERP)
            return hull_err_set(err, ENOEXEC, "initramfs: agent %s is dynamically linked: the guest has no "
                                "libc, link it with -static", path);
    }
    return 0;
}

struct cpio {
    struct archive *a;
    struct archive_entry *e;
    int64_t ino;
};

static int add(struct cpio *c, const char *name, mode_t type, mode_t perm, const void *data, size_t len,
               dev_t rdev, struct hull_err *err) {
    archive_entry_clear(c->e);
    archive_entry_set_pathname(c->e, name);
    archive_entry_set_filetype(c->e, type);
    archive_entry_set_perm(c->e, perm);
    archive_entry_set_uid(c->e, 0);
    archive_entry_set_gid(c->e, 0);
    archive_entry_set_mtime(c->e, 0, 0);
    archive_entry_set_nlink(c->e, type == AE_IFDIR ? 2 : 1);
    archive_entry_set_ino64(c->e, ++c->ino);
    archive_entry_set_size(c->e, type == AE_IFREG ? (la_int64_t)len : 0);
    if (type == AE_IFCHR) archive_entry_set_rdev(c->e, rdev);
    if (archive_write_header(c->a, c->e) != ARCHIVE_OK)
        return hull_err_set(err, EIO, "initramfs: write %s: %s", name, archive_error_string(c->a));
    if (type == AE_IFREG && len && archive_write_data(c->a, data, len) != (la_ssize_t)len)
        return hull_err_set(err, EIO, "initramfs: write %s: %s", name, archive_error_string(c->a));
    return 0;
}

static int resolve(const struct hull_initramfs_opts *o, char *moddir, size_t n, struct hull_kmod_list *mods,
                   struct hull_err *err) {
    if (!o->agent_path || !o->kernel_release || !*o->kernel_release || strchr(o->kernel_release, '/'))
        return hull_err_set(err, EINVAL, "initramfs: an agent path and a kernel release (no '/') are required");
    if ((size_t)snprintf(moddir, n, "%s/%s", mods_root(o), o->kernel_release) >= n)
        return hull_err_set(err, ENAMETOOLONG, "initramfs: modules path too long");
    struct stat st;
    if (stat(moddir, &st) < 0 || !S_ISDIR(st.st_mode))
        return hull_err_set(err, ENOENT, "initramfs: no modules for kernel %s (%s is missing): install the "
                            "matching linux-image package", o->kernel_release, moddir);
    const char *const *names = o->modules ? o->modules : hull_guest_modules;
    size_t count = o->modules ? o->n_modules : hull_guest_modules_count;
    return hull_modules_resolve(moddir, names, count, mods, err);
}

int hull_initramfs_write(const struct hull_initramfs_opts *o, int out_fd, struct hull_err *err) {
    char moddir[4096];
    struct hull_kmod_list mods = {0};
    int rc = resolve(o, moddir, sizeof moddir, &mods, err);
    if (rc < 0) return rc;

    struct cpio c = {.a = archive_write_new(), .e = archive_entry_new()};
    uint8_t *buf = NULL;
    size_t len = 0;
    char *list = NULL;
    size_t list_len = 0;
    FILE *lf = NULL;
    if (!c.a || !c.e) {
        rc = hull_err_set(err, ENOMEM, "initramfs: out of memory");
        goto out;
    }
    if (archive_write_set_format_cpio_newc(c.a) != ARCHIVE_OK || archive_write_add_filter_none(c.a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(c.a, 0) != ARCHIVE_OK || archive_write_open_fd(c.a, out_fd) != ARCHIVE_OK) {
        rc = hull_err_set(err, EIO, "initramfs: start the archive: %s", archive_error_string(c.a));
        goto out;
    }
    static const char *const dirs[] = {"dev", "proc", "sys", "run", "tmp", "rootfs", "lib", "lib/modules",
                                       "lib/modules/hull"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs && rc == 0; i++)
        rc = add(&c, dirs[i], AE_IFDIR, 0755, NULL, 0, 0, err);
    if (rc == 0) rc = add(&c, "dev/console", AE_IFCHR, 0600, NULL, 0, makedev(5, 1), err);
    if (rc == 0) rc = slurp(o->agent_path, &buf, &len, err);
    if (rc == 0) rc = check_static_elf(o->agent_path, buf, len, err);
    if (rc == 0) rc = add(&c, "init", AE_IFREG, 0755, buf, len, 0, err);
    free(buf);
    buf = NULL;

    lf = open_memstream(&list, &list_len);
    if (!lf && rc == 0) rc = hull_err_sys(err, "initramfs: open_memstream");
    for (size_t i = 0; i < mods.n && rc == 0; i++) {
        char src[4096], dst[256];
        if ((size_t)snprintf(src, sizeof src, "%s/%s", moddir, mods.v[i].path) >= sizeof src ||
            (size_t)snprintf(dst, sizeof dst, "%s/%s.ko", HULL_AGENT_MODULES_DIR + 1, mods.v[i].name) >= sizeof dst) {
            rc = hull_err_set(err, ENAMETOOLONG, "initramfs: module path too long: %s", mods.v[i].path);
            break;
        }
        rc = module_bytes(src, &buf, &len, err);
        if (rc == 0) rc = add(&c, dst, AE_IFREG, 0644, buf, len, 0, err);
        free(buf);
        buf = NULL;
        fprintf(lf, "%s%s.ko\n", mods.v[i].optional ? "?" : "", mods.v[i].name);
    }
    if (lf && fclose(lf) != 0 && rc == 0) rc = hull_err_sys(err, "initramfs: module list");
    lf = NULL;
    if (rc == 0) rc = add(&c, HULL_AGENT_MODULES_LIST + 1, AE_IFREG, 0644, list, list_len, 0, err);
    if (rc == 0 && archive_write_close(c.a) != ARCHIVE_OK)
        rc = hull_err_set(err, EIO, "initramfs: finish the archive: %s", archive_error_string(c.a));
out:
    free(list);
    if (c.e) archive_entry_free(c.e);
    if (c.a) archive_write_free(c.a);
    hull_kmod_list_free(&mods);
    return rc;
}

/* sha256 over everything that changes the archive's bytes. */
static int cache_key(const struct hull_initramfs_opts *o, char hex[65], struct hull_err *err) {
    _cleanup_free_ uint8_t *agent = NULL;
    size_t alen = 0;
    int rc = slurp(o->agent_path, &agent, &alen, err);
    if (rc < 0) return rc;
    char dep[4096];
    struct stat st = {0};
    snprintf(dep, sizeof dep, "%s/%s/modules.dep", mods_root(o), o->kernel_release);
    if (stat(dep, &st) < 0)
        return hull_err_sys(err, "initramfs: no modules for kernel %s: %s", o->kernel_release, dep);
    _cleanup_md_ctx_ EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    char meta[256];
    int ml = snprintf(meta, sizeof meta, "%s\n%s\n%lld %lld.%09ld\n", FORMAT_TAG, o->kernel_release,
                      (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(md, meta, (size_t)ml) == 1 &&
              EVP_DigestUpdate(md, agent, alen) == 1;
    const char *const *names = o->modules ? o->modules : hull_guest_modules;
    size_t count = o->modules ? o->n_modules : hull_guest_modules_count;
    for (size_t i = 0; ok && i < count; i++)
        ok = EVP_DigestUpdate(md, names[i], strlen(names[i]) + 1) == 1;
    ok = ok && EVP_DigestFinal_ex(md, d, &dl) == 1;
    if (!ok) return hull_err_set(err, EIO, "initramfs: sha256 failed");
    for (unsigned i = 0; i < 32 && i < dl; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return 0;
}

/* Removes initramfs-<release>-*.cpio entries other than `keep`. */
static void drop_stale(const char *cache_dir, const char *release, const char *keep) {
    _cleanup_closedir_ DIR *d = opendir(cache_dir);
    if (!d) return;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "initramfs-%s-", release);
    size_t pl = strlen(prefix);
    for (struct dirent *de; (de = readdir(d));) {
        const char *n = de->d_name;
        /* exactly prefix + 64 hex + ".cpio", so another release's names never match */
        if (strncmp(n, prefix, pl) || strlen(n) != pl + 64 + 5 || !ends_with(n, ".cpio") || !strcmp(n, keep)) continue;
        unlinkat(dirfd(d), n, 0);
    }
}

static int write_to_fd(int fd, const char *tmp, void *ctx, struct hull_err *err) {
    (void)tmp;
    return hull_initramfs_write(ctx, fd, err);
}

int hull_initramfs_get(const struct hull_initramfs_opts *o, const char *cache_dir, char *path, size_t n,
                       bool *built, struct hull_err *err) {
    if (built) *built = false;
    if (!o->agent_path || !o->kernel_release || !*o->kernel_release || strchr(o->kernel_release, '/') ||
        strlen(o->kernel_release) > 200)
        return hull_err_set(err, EINVAL, "initramfs: an agent path and a kernel release (no '/') are required");
    char key[65], name[300];
    int rc = cache_key(o, key, err);
    if (rc < 0) return rc;
    snprintf(name, sizeof name, "initramfs-%s-%s.cpio", o->kernel_release, key);
    if ((size_t)snprintf(path, n, "%s/%s", cache_dir, name) >= n)
        return hull_err_set(err, ENAMETOOLONG, "initramfs: cache path too long");
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) return 0;

    if (mkdir(cache_dir, 0700) < 0 && errno != EEXIST) return hull_err_sys(err, "initramfs: create %s", cache_dir);
    if ((rc = hull_cache_publish(path, "initramfs", write_to_fd, (void *)o, err)) < 0) return rc;
    drop_stale(cache_dir, o->kernel_release, name);
    if (built) *built = true;
    return 0;
}

int hull_kernel_release(const char *bzimage, char *out, size_t n, struct hull_err *err) {
    _cleanup_close_ int fd = open(bzimage, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return hull_err_sys(err, "kernel %s", bzimage);
    uint8_t hdr[0x210];
    if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr || memcmp(hdr + 0x202, "HdrS", 4))
        return hull_err_set(err, EINVAL, "kernel %s: not a bzImage (no HdrS setup header)", bzimage);
    uint16_t off = (uint16_t)(hdr[0x20e] | hdr[0x20f] << 8);
    char ver[256];
    ssize_t r = 0;
    if (off == 0 || (r = pread(fd, ver, sizeof ver - 1, (off_t)off + 0x200)) <= 0)
        return hull_err_set(err, EINVAL, "kernel %s: the setup header has no version string", bzimage);
    ver[r] = '\0';
    size_t l = strcspn(ver, " \n");   /* "6.1.0-56-amd64 (debian-kernel@...) #1 SMP ..." */
    if (l == 0 || l >= n || memchr(ver, '/', l))
        return hull_err_set(err, EINVAL, "kernel %s: unusable version string \"%.60s\"", bzimage, ver);
    for (size_t i = 0; i < l; i++)
        if ((unsigned char)ver[i] < 0x21 || (unsigned char)ver[i] > 0x7e)
            return hull_err_set(err, EINVAL, "kernel %s: unusable version string", bzimage);
    memcpy(out, ver, l);
    out[l] = '\0';
    return 0;
}
