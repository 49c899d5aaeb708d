/* Extracting the ELF vmlinux from a bzImage and caching it (tier 1):
 * Debian's real kernel (xz payload) against the reference shell extraction,
 * the cache hit, synthetic gzip payloads (valid, not ELF, corrupt, lying
 * about their size, out of the file), and the default-kernel lookup. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot_fixtures.h"
#include "tap.h"
#include "vm_test_util.h"
#include "vm/boot/boot.h"

/* Only read and run from where it lives, never copied into the project. */
#define REFERENCE_SCRIPT "/work/shared/reference/nested-vm/extract-vmlinux.sh"

static char tmp[] = "/tmp/hull-kcache-XXXXXX";
static char cmd_buf[1024];

static void real_kernel(void) {
    char kernel[512], path[700], again[700], cache[600];
    struct hull_err err;
    if (kernel_default_path(kernel, sizeof(kernel), &err) < 0) {
        skip(err.msg);
        return;
    }
    snprintf(cache, sizeof(cache), "%s/cache/sub", tmp);   /* created on demand, parents too */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = kernel_cache_vmlinux(kernel, cache, path, sizeof(path), &err);
    double cold = ms_since(&t0);
    ok(rc == 0, "extract %s (%.0f ms)%s%s", kernel, cold, rc ? ": " : "", rc ? err.msg : "");
    if (rc < 0)
        return;
    const char *base = strrchr(path, '/') + 1;
    ok(strlen(base) == 8 + 64 && !strncmp(base, "vmlinux-", 8), "cache entry named by sha256: %s", base);
    size_t n;
    uint8_t *v = slurp(path, &n);
    const Elf64_Ehdr *e = (const Elf64_Ehdr *)v;
    ok(v && n > 1000000 && !memcmp(v, ELFMAG, 4) && e->e_ident[EI_CLASS] == ELFCLASS64 && e->e_machine == EM_X86_64 &&
       e->e_type == ET_EXEC, "an x86-64 ELF executable, %zu bytes", n);
    struct stat st1, st2;
    stat(path, &st1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = kernel_cache_vmlinux(kernel, cache, again, sizeof(again), &err);
    double hit = ms_since(&t0);
    stat(again, &st2);
    ok(rc == 0 && !strcmp(path, again) && st1.st_ino == st2.st_ino && st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec,
       "second call: cache hit, same file untouched (%.1f ms vs %.0f ms cold)", hit, cold);
    diag("figures: extraction %.0f ms, cache hit %.1f ms (sha256 of the bzImage)", cold, hit);

    if (access(REFERENCE_SCRIPT, R_OK) != 0 || system("command -v xz >/dev/null 2>&1") != 0) {
        skip("reference extract-vmlinux.sh or xz not available");
    } else {
        char cmd[1400], ref[600];
        snprintf(ref, sizeof(ref), "%s/ref-vmlinux", tmp);
        snprintf(cmd, sizeof(cmd), "bash %s %s %s >/dev/null 2>&1", REFERENCE_SCRIPT, kernel, ref);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int src = system(cmd);
        double script = ms_since(&t0);
        size_t rn = 0;
        uint8_t *r = src == 0 ? slurp(ref, &rn) : NULL;
        ok(r && rn == n && !memcmp(r, v, 64) && !memcmp(r, v, n),
           "identical to extract-vmlinux.sh's output (ELF header and all %zu bytes; script took %.0f ms)", rn, script);
        free(r);
    }
    free(v);
}

/* gzip through libarchive's raw writer: a kernel built with KERNEL_GZIP. */
static uint8_t *gzip(const void *data, size_t len, size_t *out_len) {
    size_t cap = len + 4096, used = 0;
    uint8_t *out = malloc(cap);
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_raw(a);
    archive_write_open_memory(a, out, cap, &used);
    archive_entry_set_pathname(e, "vmlinux");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_write_header(a, e);
    archive_write_data(a, data, len);
    archive_write_close(a);
    archive_write_free(a);
    archive_entry_free(e);
    *out_len = used;
    return out;
}

static void synthetic(void) {
    uint8_t note[64];
    struct fx_elf eo = fx_elf_default(note);
    size_t elen, glen, blen;
    uint8_t *elf = fx_elf_build(&eo, &elen), *gz = gzip(elf, elen, &glen);
    char bz[600], cache[600], path[700];
    snprintf(bz, sizeof(bz), "%s/bzImage", tmp);
    snprintf(cache, sizeof(cache), "%s/cache2", tmp);
    struct hull_err err = {0};

    struct fx_bz o = fx_bz_default();
    o.pm_len = 0x10 + glen + 64;
    o.payload = gz;
    o.payload_len = glen;
    uint8_t *img = fx_bzimage(&o, &blen);
    fx_write(bz, img, blen);
    int rc = kernel_cache_vmlinux(bz, cache, path, sizeof(path), &err);
    size_t n = 0;
    uint8_t *got = rc == 0 ? slurp(path, &n) : NULL;
    ok(got && n == elen && !memcmp(got, elf, elen), "gzip payload: extracted ELF identical to the original%s%s",
       rc ? ": " : "", rc ? err.msg : "");
    free(got);
    /* A cache entry of the wrong size is not trusted: it is rebuilt. */
    if (rc == 0 && truncate(path, 4096) == 0) {
        rc = kernel_cache_vmlinux(bz, cache, path, sizeof(path), &err);
        got = rc == 0 ? slurp(path, &n) : NULL;
        ok(got && n == elen && !memcmp(got, elf, elen), "a truncated cache entry is re-extracted");
        free(got);
    } else {
        ok(0, "truncate the cache entry");
    }
    free(img);

    /* Each broken variant must be refused, and leave no temp file behind. */
    static const char junk[] = "this is not an ELF file, whatever the bzImage says";
    size_t jlen;
    uint8_t *gj = gzip(junk, sizeof(junk), &jlen);
    uint8_t *bad = malloc(glen);
    for (unsigned i = 0; i < 5; i++) {
        struct fx_bz b = o;
        const char *name = "", *why = "";
        memcpy(bad, gz, glen);
        b.payload = bad;
        switch (i) {
        case 0:
            name = "payload_length past the file", why = "outside the file";
            b.payload_len_field = 0x100000;
            break;
        case 1:
            name = "payload not an ELF", why = "not an x86-64 ELF vmlinux";
            b.payload = gj, b.payload_len = jlen;
            break;
        case 2:
            name = "corrupt deflate stream", why = "vmlinux from";
            for (size_t j = 20; j < 60 && j < glen; j++)
                bad[j] ^= 0x5a;
            break;
        case 3:
            name = "trailer announces another size", why = "vmlinux from";
            bad[glen - 4] ^= 1;
            break;
        case 4:
            name = "version 2.06 (no payload fields)", why = "need 2.08";
            b.version = 0x206;
            break;
        }
        img = fx_bzimage(&b, &blen);
        fx_write(bz, img, blen);
        free(img);
        char dir[700];
        snprintf(dir, sizeof(dir), "%s/c%u", tmp, i);
        rc = kernel_cache_vmlinux(bz, dir, path, sizeof(path), &err);
        ok(rc < 0, "%s: refused", name);
        like(err.msg, why, "%s: says why (%s)", name, err.msg);
        snprintf(cmd_buf, sizeof(cmd_buf), "test -z \"$(ls -A %s 2>/dev/null)\"", dir);
        ok(system(cmd_buf) == 0, "%s: nothing left in the cache directory", name);
    }
    free(bad);
    free(gj);
    uint8_t zeros[2048] = {0};
    fx_write(bz, zeros, sizeof(zeros));
    ok(kernel_cache_vmlinux(bz, cache, path, sizeof(path), &err) < 0 && strstr(err.msg, "not a bzImage"),
       "zeros: %s", err.msg);
    free(gz);
    free(elf);
}

static void newest(void) {
    static const char *names[] = { "vmlinuz-5.10.0-30-amd64", "vmlinuz-6.1.0-9-amd64", "vmlinuz-6.1.0-10-amd64",
                                   "config-6.1.0-99-amd64", "initrd.img-6.1.0-99-amd64" };
    char dir[300], p[600], out[600];
    struct hull_err err;
    snprintf(dir, sizeof(dir), "%s/boot", tmp);
    mkdir(dir, 0755);
    ok(kernel_find_newest(dir, out, sizeof(out), &err) == -ENOENT && strstr(err.msg, "vmlinuz-*"),
       "no kernel: %s", err.msg);
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        fx_write(p, "x", 1);
    }
    snprintf(p, sizeof(p), "%s/vmlinuz-9.9.9", dir);   /* a directory is not a kernel */
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/vmlinuz-6.1.0-10-amd64", dir);
    int rc = kernel_find_newest(dir, out, sizeof(out), &err);
    ok(rc == 0 && !strcmp(out, p), "newest by version order: %s", rc == 0 ? out : err.msg);
}

int main(void) {
    if (!mkdtemp(tmp))
        bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    real_kernel();
    synthetic();
    newest();
    snprintf(cmd_buf, sizeof(cmd_buf), "rm -rf %s", tmp);
    if (system(cmd_buf) != 0)
        diag("could not remove %s", tmp);
    return done_testing();
}
