/* The ELF vmlinux inside a bzImage, extracted once and cached, so the VMM
 * can PVH-boot it and skip the guest-side decompressor (which, emulated,
 * costs more than the whole rest of the boot). The setup header says where
 * the compressed payload is (payload_offset from the start of the
 * protected-mode code, payload_length); libarchive's raw reader with every
 * filter undoes xz, gzip, zstd, lz4... The kernel's build appends the
 * uncompressed size as 4 little-endian bytes (gzip's own trailer holds the
 * same): it caps the output and proves the result complete.
 *
 * Cache entries are named by the sha256 of the bzImage, written to a temp
 * file, fsync'ed and renamed: a reader sees a whole vmlinux or none. */
#include "base/fsutil.h"
#include "vm/boot/boot.h"

#include <archive.h>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BZIMAGE (256u << 20)
#define MAX_VMLINUX (1u << 30)

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static int read_image(const char *path, uint8_t **buf, size_t *len, struct hull_err *err) {
    *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return hull_err_sys(err, "kernel %s", path);
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0)
        rc = hull_err_sys(err, "kernel %s: stat", path);
    else if (!S_ISREG(st.st_mode) || st.st_size < 1024 || (uint64_t)st.st_size > MAX_BZIMAGE)
        rc = hull_err_set(err, EINVAL, "kernel %s: not a regular file of 1 KiB to 256 MiB", path);
    else if (!(*buf = malloc((size_t)st.st_size)))
        rc = hull_err_set(err, ENOMEM, "kernel %s: out of memory", path);
    for (size_t got = 0; rc == 0 && got < (size_t)st.st_size;) {
        ssize_t r = pread(fd, *buf + got, (size_t)st.st_size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = hull_err_sys(err, "kernel %s: read", path);
        else if (r == 0)
            rc = hull_err_set(err, EIO, "kernel %s: shrank while being read", path);
        else
            got += (size_t)r;
    }
    close(fd);
    if (rc < 0) {
        free(*buf);
        *buf = NULL;
        return rc;
    }
    *len = (size_t)st.st_size;
    return 0;
}

static int payload_range(const uint8_t *d, size_t n, const char *path, size_t *off, size_t *len,
                         struct hull_err *err) {
    if (d[0x1fe] != 0x55 || d[0x1ff] != 0xaa || memcmp(d + 0x202, "HdrS", 4) != 0)
        return hull_err_set(err, EINVAL, "kernel %s: not a bzImage (no \"HdrS\" setup header)", path);
    unsigned version = d[0x206] | d[0x207] << 8;
    if (version < 0x208)
        return hull_err_set(err, ENOTSUP, "kernel %s: boot protocol %u.%02u has no payload fields (need 2.08)",
                            path, version >> 8, version & 0xff);
    size_t setup = ((d[0x1f1] ? d[0x1f1] : 4) + 1u) * 512;
    uint32_t po = le32(d + 0x248), pl = le32(d + 0x24c);
    if (setup >= n || po > n - setup || pl < 8 || pl > n - setup - po)
        return hull_err_set(err, EINVAL, "kernel %s: payload 0x%x+0x%x lies outside the file", path, po, pl);
    *off = setup + po;
    *len = pl;
    return 0;
}

static bool is_vmlinux(const uint8_t *p, size_t n) {
    const Elf64_Ehdr *e = (const Elf64_Ehdr *)p;
    return n >= sizeof(*e) && memcmp(p, ELFMAG, SELFMAG) == 0 && e->e_ident[EI_CLASS] == ELFCLASS64 &&
           e->e_ident[EI_DATA] == ELFDATA2LSB && e->e_machine == EM_X86_64 && e->e_type == ET_EXEC;
}

static int write_full(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Payload → fd. The first bytes are kept in head to check the ELF header. */
static int decompress(const uint8_t *p, size_t n, int fd, const char *path, uint8_t *head, size_t headn,
                      struct hull_err *err) {
    if (memcmp(p, ELFMAG, SELFMAG) == 0) {   /* CONFIG_KERNEL_UNCOMPRESSED */
        memcpy(head, p, n < headn ? n : headn);
        return write_full(fd, p, n) < 0 ? hull_err_sys(err, "vmlinux from %s: write", path) : 0;
    }
    uint64_t want = le32(p + n - 4), total = 0;
    bool gzip = p[0] == 0x1f && p[1] == 0x8b;
    struct archive *a = archive_read_new();
    if (!a)
        return hull_err_set(err, ENOMEM, "vmlinux from %s: out of memory", path);
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    struct archive_entry *ent;
    int rc = 0;
    ssize_t got = 0;
    if (!buf) {
        archive_read_free(a);
        return hull_err_set(err, ENOMEM, "vmlinux from %s: out of memory", path);
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_memory(a, p, gzip ? n : n - 4) != ARCHIVE_OK || archive_read_next_header(a, &ent) != ARCHIVE_OK)
        got = -1;
    const char *filter = got == 0 && archive_filter_name(a, 0) ? archive_filter_name(a, 0) : "unknown format";
    while (got >= 0 && (got = archive_read_data(a, buf, CHUNK)) > 0) {
        if (total < headn)
            memcpy(head + total, buf, (size_t)got < headn - total ? (size_t)got : headn - total);
        total += (uint64_t)got;
        if (total > MAX_VMLINUX || (!gzip && total > want)) {
            rc = hull_err_set(err, EFBIG, "vmlinux from %s: more data than the %llu bytes the image announces",
                              path, (unsigned long long)want);
            break;
        }
        if (write_full(fd, buf, (size_t)got) < 0) {
            rc = hull_err_sys(err, "vmlinux from %s: write", path);
            break;
        }
    }
    if (rc == 0 && got < 0)
        rc = hull_err_set(err, EINVAL, "vmlinux from %s: cannot decompress the payload (%s): %s", path,
                          filter,
                          archive_error_string(a) ? archive_error_string(a) : "unknown format");
    if (rc == 0 && (uint32_t)total != (uint32_t)want)
        rc = hull_err_set(err, EINVAL, "vmlinux from %s: %llu bytes decompressed, the image announces %llu", path,
                          (unsigned long long)total, (unsigned long long)want);
    archive_read_free(a);
    free(buf);
    return rc;
}

static int mkdir_p(char *path) {
    for (char *s = path + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        int r = mkdir(path, 0755);
        *s = c;
        if (r < 0 && errno != EEXIST)
            return -errno;
        if (!c)
            return 0;
    }
}

/* A cache entry is used when it is a regular file of the size the image
 * announces with a vmlinux ELF header (entries are renamed in whole, so this
 * only guards against someone else's tampering or a disk error). */
static bool cached(const char *path, uint64_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return false;
    uint8_t h[sizeof(Elf64_Ehdr)];
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size &&
              pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && is_vmlinux(h, sizeof(h));
    close(fd);
    return ok;
}

struct extract { const uint8_t *payload; size_t len; const char *bzimage; };
static int extract_to_fd(int fd, const char *tmp, void *ctx, struct hull_err *err) {
    (void)tmp;
    const struct extract *c = ctx;
    uint8_t head[sizeof(Elf64_Ehdr)] = {0};
    int rc = decompress(c->payload, c->len, fd, c->bzimage, head, sizeof(head), err);
    if (rc == 0 && !is_vmlinux(head, sizeof(head)))
        rc = hull_err_set(err, EINVAL, "kernel %s: the payload is not an x86-64 ELF vmlinux", c->bzimage);
    return rc;
}

int kernel_cache_vmlinux(const char *bzimage, const char *cache_dir, char *out, size_t n, struct hull_err *err) {
    uint8_t *img = NULL;
    size_t len = 0;
    int rc = read_image(bzimage, &img, &len, err);
    if (rc < 0)
        return rc;
    unsigned char md[32];
    char hex[65];
    if (EVP_Digest(img, len, md, NULL, EVP_sha256(), NULL) != 1) {
        free(img);
        return hull_err_set(err, EIO, "kernel %s: sha256 failed", bzimage);
    }
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if ((size_t)snprintf(out, n, "%s/vmlinux-%s", cache_dir, hex) >= n) {
        free(img);
        return hull_err_set(err, ENAMETOOLONG, "kernel cache %s: path too long", cache_dir);
    }
    size_t off = 0, plen = 0;
    if ((rc = payload_range(img, len, bzimage, &off, &plen, err)) < 0) {
        free(img);
        return rc;
    }
    if (cached(out, memcmp(img + off, ELFMAG, SELFMAG) == 0 ? plen : le32(img + off + plen - 4))) {
        free(img);
        return 0;
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", cache_dir);
    if ((rc = mkdir_p(dir)) < 0) {
        free(img);
        errno = -rc;
        return hull_err_sys(err, "kernel cache %s", cache_dir);
    }
    struct extract c = {.payload = img + off, .len = plen, .bzimage = bzimage};
    rc = hull_cache_publish(out, "kernel cache", extract_to_fd, &c, err);
    free(img);
    return rc;
}

int kernel_find_newest(const char *dir, char *out, size_t n, struct hull_err *err) {
    DIR *d = opendir(dir);
    if (!d)
        return hull_err_sys(err, "guest kernel: %s", dir);
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "vmlinuz-", 8) != 0 || strlen(e->d_name) >= sizeof(best))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
            continue;
        /* Version order (6.1.0-10 after 6.1.0-9), as `linux-version sort` has it. */
        if (!best[0] || strverscmp(e->d_name + 8, best + 8) > 0)
            snprintf(best, sizeof(best), "%s", e->d_name);
    }
    closedir(d);
    if (!best[0])
        return hull_err_set(err, ENOENT, "guest kernel: no %s/vmlinuz-* (install linux-image-amd64)", dir);
    if ((size_t)snprintf(out, n, "%s/%s", dir, best) >= n)
        return hull_err_set(err, ENAMETOOLONG, "guest kernel: path too long");
    return 0;
}

int kernel_default_path(char *out, size_t n, struct hull_err *err) {
    return kernel_find_newest("/boot", out, n, err);
}
