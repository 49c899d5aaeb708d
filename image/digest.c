/* sha256 digests (OpenSSL EVP) and a small digest set. Only sha256 is
 * accepted: it is what every producer writes, and a single algorithm keeps
 * the store layout (blobs/sha256/) and every comparison simple. */
#include "image/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int digest_check(const char *d, const char *what, struct hull_err *err) {
    if (!d) return hull_err_set(err, EINVAL, "%s: missing digest", what);
    if (strncmp(d, "sha256:", 7) != 0) {
        const char *colon = strchr(d, ':');
        if (colon && colon != d)
            return hull_err_set(err, ENOTSUP, "%s: digest %.80s: unsupported algorithm (only sha256)",
                                what, d);
        return hull_err_set(err, EINVAL, "%s: digest \"%.80s\": not ALGO:HEX", what, d);
    }
    const char *h = d + 7;
    size_t i = 0;
    for (; h[i]; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) break;
    if (i != 64 || h[i] != '\0')
        return hull_err_set(err, EINVAL, "%s: digest \"%.80s\": not 64 lowercase hex digits", what, d);
    return 0;
}

EVP_MD_CTX *digest_new(void) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        md = NULL;
    }
    return md;
}

void digest_final(EVP_MD_CTX *md, char out[HULL_DIGEST_LEN]) {
    unsigned char bin[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    static const char hex[] = "0123456789abcdef";
    EVP_DigestFinal_ex(md, bin, &len);
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < len && i < 32; i++) {
        out[7 + 2 * i] = hex[bin[i] >> 4];
        out[8 + 2 * i] = hex[bin[i] & 15];
    }
    out[71] = '\0';
}

bool dset_has(const struct digest_set *s, const char *d) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], d) == 0) return true;
    return false;
}

int dset_add(struct digest_set *s, const char *d) {
    if (dset_has(s, d)) return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        void *v = realloc(s->v, cap * sizeof *s->v);
        if (!v) return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    snprintf(s->v[s->n++], HULL_DIGEST_LEN, "%s", d);
    return 0;
}

void dset_free(struct digest_set *s) {
    free(s->v);
    memset(s, 0, sizeof *s);
}
