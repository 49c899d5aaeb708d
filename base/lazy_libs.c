/* libarchive and libcrypto, loaded on first use instead of at every start.
 *
 * Why: only the image code (import/export/unpack, digests) and the microVM's
 * initramfs/rootfs builders use them, but as DT_NEEDED libraries they and their
 * own dependencies (libxml2, ICU, libstdc++, liblzma, libzstd, ...: 15 objects)
 * were mapped and relocated by every hull process — 4-5 ms of each start here,
 * and more under containerd, whose shim runs the runtime with
 * LD_LIBRARY_PATH=/opt/containerd/lib: (every library is first looked for in
 * that directory and in the bundle directory). `create`, `start`, `delete`,
 * `exec`, `kill`, `state`... never need them, and a `ctr run` or `podman run`
 * starts hull four or five times.
 *
 * How: each function the tree calls has a definition here with the header's
 * own prototype (the compiler rejects a mismatch) that resolves the real one
 * with dlsym() once and forwards to it. Since these definitions satisfy every
 * reference, the linker (--as-needed) records no DT_NEEDED entry for the two
 * libraries. A function that is used but missing here is still resolved by
 * the linker from the real library: the library is then needed at start again
 * (slower, never wrong) — add a line below when you call a new one.
 *
 * A library that cannot be loaded is what the dynamic linker would have
 * refused at start; here it surfaces at first use, as a message and exit 127
 * (the loader's own status), since no caller can go on without it. */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#if ARCHIVE_VERSION_NUMBER < 3000000 || ARCHIVE_VERSION_NUMBER >= 4000000
#error "libarchive 3.x expected (soname libarchive.so.13)"
#endif
#define STR_(x) #x
#define STR(x) STR_(x)

enum lazy_lib { LIB_ARCHIVE, LIB_CRYPTO };

static void *lazy_sym(enum lazy_lib lib, const char *name) {
    static const char *const sonames[] = {
        [LIB_ARCHIVE] = "libarchive.so.13",
        [LIB_CRYPTO] = "libcrypto.so." STR(OPENSSL_VERSION_MAJOR),
    };
    static void *handles[2];
    void *h = __atomic_load_n(&handles[lib], __ATOMIC_ACQUIRE);
    if (!h) {
        h = dlopen(sonames[lib], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            dprintf(2, "hull: cannot load %s: %s\n", sonames[lib], dlerror());
            _exit(127);
        }
        __atomic_store_n(&handles[lib], h, __ATOMIC_RELEASE);
    }
    void *fn = dlsym(h, name);
    if (!fn) {
        dprintf(2, "hull: %s has no %s: %s\n", sonames[lib], name, dlerror());
        _exit(127);
    }
    return fn;
}

/* LAZY(lib, return type, name, (parameters), (arguments)); LAZY_VOID for void. The symbol is
 * looked up once; its address is published with release/acquire for other threads. */
#define LAZY_RESOLVE(lib, name)                                                              \
    static __typeof__(&name) lazy_slot_;                                                     \
    __typeof__(&name) lazy_fn_ = __atomic_load_n(&lazy_slot_, __ATOMIC_ACQUIRE);              \
    if (!lazy_fn_) {                                                                         \
        lazy_fn_ = (__typeof__(&name))lazy_sym(lib, #name);                                  \
        __atomic_store_n(&lazy_slot_, lazy_fn_, __ATOMIC_RELEASE);                           \
    }
#define LAZY(lib, ret, name, params, args)                                                   \
    ret name params {                                                                        \
        LAZY_RESOLVE(lib, name)                                                              \
        return lazy_fn_ args;                                                                \
    }
#define LAZY_VOID(lib, name, params, args)                                                   \
    void name params {                                                                       \
        LAZY_RESOLVE(lib, name)                                                              \
        lazy_fn_ args;                                                                       \
    }

typedef struct archive A;
typedef struct archive_entry E;
#define AR LIB_ARCHIVE

/* archive.h: reading */
LAZY(AR, A *, archive_read_new, (void), ())
LAZY(AR, int, archive_read_free, (A *a), (a))
LAZY(AR, int, archive_read_support_filter_all, (A *a), (a))
LAZY(AR, int, archive_read_support_format_raw, (A *a), (a))
LAZY(AR, int, archive_read_support_format_tar, (A *a), (a))
LAZY(AR, int, archive_read_open, (A *a, void *d, archive_open_callback *o, archive_read_callback *r,
                                  archive_close_callback *c), (a, d, o, r, c))
LAZY(AR, int, archive_read_open_fd, (A *a, int fd, size_t bs), (a, fd, bs))
LAZY(AR, int, archive_read_open_filename, (A *a, const char *path, size_t bs), (a, path, bs))
LAZY(AR, int, archive_read_open_memory, (A *a, const void *b, size_t n), (a, b, n))
LAZY(AR, int, archive_read_next_header, (A *a, E **e), (a, e))
LAZY(AR, la_ssize_t, archive_read_data, (A *a, void *b, size_t n), (a, b, n))
LAZY(AR, int, archive_read_data_block, (A *a, const void **b, size_t *n, la_int64_t *o), (a, b, n, o))
/* archive.h: writing */
LAZY(AR, A *, archive_write_new, (void), ())
LAZY(AR, int, archive_write_free, (A *a), (a))
LAZY(AR, int, archive_write_close, (A *a), (a))
LAZY(AR, int, archive_write_set_format_pax_restricted, (A *a), (a))
LAZY(AR, int, archive_write_set_format_cpio_newc, (A *a), (a))
LAZY(AR, int, archive_write_add_filter_none, (A *a), (a))
LAZY(AR, int, archive_write_set_bytes_per_block, (A *a, int n), (a, n))
LAZY(AR, int, archive_write_set_bytes_in_last_block, (A *a, int n), (a, n))
LAZY(AR, int, archive_write_open_fd, (A *a, int fd), (a, fd))
LAZY(AR, int, archive_write_header, (A *a, E *e), (a, e))
LAZY(AR, la_ssize_t, archive_write_data, (A *a, const void *b, size_t n), (a, b, n))
/* archive.h: errors and filters */
LAZY(AR, const char *, archive_error_string, (A *a), (a))
LAZY(AR, int, archive_filter_count, (A *a), (a))
LAZY(AR, const char *, archive_filter_name, (A *a, int i), (a, i))
LAZY(AR, la_int64_t, archive_filter_bytes, (A *a, int i), (a, i))

/* Variadic: formatted here, handed over as one string. */
void archive_set_error(A *a, int err, const char *fmt, ...) {
    static __typeof__(&archive_set_error) fn;
    __typeof__(&archive_set_error) f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
    if (!f) __atomic_store_n(&fn, f = (__typeof__(&archive_set_error))lazy_sym(AR, "archive_set_error"), __ATOMIC_RELEASE);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    f(a, err, "%s", msg);
}

/* archive_entry.h */
LAZY(AR, E *, archive_entry_new, (void), ())
LAZY(AR, E *, archive_entry_clear, (E *e), (e))
LAZY_VOID(AR, archive_entry_free, (E *e), (e))
LAZY(AR, const char *, archive_entry_pathname, (E *e), (e))
LAZY(AR, const char *, archive_entry_symlink, (E *e), (e))
LAZY(AR, const char *, archive_entry_hardlink, (E *e), (e))
LAZY(AR, __LA_MODE_T, archive_entry_filetype, (E *e), (e))
LAZY(AR, __LA_MODE_T, archive_entry_perm, (E *e), (e))
LAZY(AR, la_int64_t, archive_entry_uid, (E *e), (e))
LAZY(AR, la_int64_t, archive_entry_gid, (E *e), (e))
LAZY(AR, la_int64_t, archive_entry_size, (E *e), (e))
LAZY(AR, int, archive_entry_size_is_set, (E *e), (e))
LAZY(AR, dev_t, archive_entry_rdev, (E *e), (e))
LAZY(AR, dev_t, archive_entry_rdevmajor, (E *e), (e))
LAZY(AR, dev_t, archive_entry_rdevminor, (E *e), (e))
LAZY(AR, time_t, archive_entry_mtime, (E *e), (e))
LAZY(AR, long, archive_entry_mtime_nsec, (E *e), (e))
LAZY(AR, time_t, archive_entry_atime, (E *e), (e))
LAZY(AR, long, archive_entry_atime_nsec, (E *e), (e))
LAZY(AR, int, archive_entry_atime_is_set, (E *e), (e))
LAZY(AR, int, archive_entry_xattr_reset, (E *e), (e))
LAZY(AR, int, archive_entry_xattr_next, (E *e, const char **n, const void **v, size_t *s), (e, n, v, s))
LAZY_VOID(AR, archive_entry_set_pathname, (E *e, const char *p), (e, p))
LAZY_VOID(AR, archive_entry_set_filetype, (E *e, unsigned int t), (e, t))
LAZY_VOID(AR, archive_entry_set_perm, (E *e, __LA_MODE_T m), (e, m))
LAZY_VOID(AR, archive_entry_set_size, (E *e, la_int64_t s), (e, s))
LAZY_VOID(AR, archive_entry_set_mtime, (E *e, time_t t, long ns), (e, t, ns))
LAZY_VOID(AR, archive_entry_set_uid, (E *e, la_int64_t u), (e, u))
LAZY_VOID(AR, archive_entry_set_gid, (E *e, la_int64_t g), (e, g))
LAZY_VOID(AR, archive_entry_set_ino64, (E *e, la_int64_t i), (e, i))
LAZY_VOID(AR, archive_entry_set_nlink, (E *e, unsigned int n), (e, n))
LAZY_VOID(AR, archive_entry_set_rdev, (E *e, dev_t d), (e, d))

/* libcrypto: SHA-256 through the EVP interface */
#define CR LIB_CRYPTO
LAZY(CR, const EVP_MD *, EVP_sha256, (void), ())
LAZY(CR, EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())
LAZY_VOID(CR, EVP_MD_CTX_free, (EVP_MD_CTX *c), (c))
LAZY(CR, int, EVP_DigestInit_ex, (EVP_MD_CTX *c, const EVP_MD *t, ENGINE *e), (c, t, e))
LAZY(CR, int, EVP_DigestUpdate, (EVP_MD_CTX *c, const void *d, size_t n), (c, d, n))
LAZY(CR, int, EVP_DigestFinal_ex, (EVP_MD_CTX *c, unsigned char *md, unsigned int *n), (c, md, n))
LAZY(CR, int, EVP_Digest, (const void *d, size_t n, unsigned char *md, unsigned int *s, const EVP_MD *t, ENGINE *e),
     (d, n, md, s, t, e))
