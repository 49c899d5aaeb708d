/* base/lazy_libs.c: libarchive and libcrypto are not loaded at start, only
 * at the first call into them, and the calls then reach the real libraries. */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <string.h>

#include "tap.h"

static bool loaded(const char *soname) {
    void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
    if (h) dlclose(h);
    return h != NULL;
}

int main(void) {
    ok(!loaded("libarchive.so.13"), "libarchive is not loaded at start");
    ok(!loaded("libcrypto.so.3"), "libcrypto is not loaded at start");

    /* a tar with one file, written and read back through the forwarders */
    static char buf[16384];
    size_t used = 0;
    struct archive *w = archive_write_new();
    ok(w != NULL, "archive_write_new (first call loads libarchive)");
    ok(loaded("libarchive.so.13"), "... now libarchive is loaded");
    archive_write_set_format_pax_restricted(w);
    archive_write_set_bytes_in_last_block(w, 1);
    int pfd[2];
    if (pipe(pfd) < 0) return 1;
    archive_write_open_fd(w, pfd[1]);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "hello.txt");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 5);
    archive_entry_set_mtime(e, 1234567890, 0);
    is_int(archive_write_header(w, e), ARCHIVE_OK, "archive_write_header");
    is_int(archive_write_data(w, "hello", 5), 5, "archive_write_data");
    archive_entry_free(e);
    archive_write_close(w);
    archive_write_free(w);
    close(pfd[1]);
    ssize_t n;
    while ((n = read(pfd[0], buf + used, sizeof buf - used)) > 0) used += (size_t)n;
    close(pfd[0]);

    struct archive *r = archive_read_new();
    archive_read_support_filter_all(r);
    archive_read_support_format_tar(r);
    is_int(archive_read_open_memory(r, buf, used), ARCHIVE_OK, "archive_read_open_memory");
    struct archive_entry *got;
    is_int(archive_read_next_header(r, &got), ARCHIVE_OK, "archive_read_next_header");
    is_str(archive_entry_pathname(got), "hello.txt", "... the entry's name");
    is_int(archive_entry_size(got), 5, "... its size");
    is_int(archive_entry_mtime(got), 1234567890, "... its mtime");
    char data[16] = {0};
    is_int(archive_read_data(r, data, sizeof data), 5, "archive_read_data");
    is_str(data, "hello", "... the content");
    archive_set_error(r, 42, "custom %s %d", "error", 7);
    is_str(archive_error_string(r), "custom error 7", "archive_set_error (variadic) formats and forwards");
    archive_read_free(r);

    ok(!loaded("libcrypto.so.3"), "libcrypto is still not loaded");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    ok(EVP_Digest("abc", 3, md, &mdlen, EVP_sha256(), NULL) == 1, "EVP_Digest sha256 (loads libcrypto)");
    char hex[65];
    for (unsigned i = 0; i < 32 && i < mdlen; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "... the FIPS 180-2 digest of \"abc\"");
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    ok(c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(c, "ab", 2) == 1 &&
           EVP_DigestUpdate(c, "c", 1) == 1 && EVP_DigestFinal_ex(c, md, &mdlen) == 1 && md[0] == 0xba,
       "EVP_MD_CTX_new / DigestInit_ex / Update / Final_ex");
    EVP_MD_CTX_free(c);
    return done_testing();
}
