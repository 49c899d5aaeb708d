/* A chunked bump allocator: everything a parsed spec owns lives in one arena,
 * so freeing a spec is one call and no error path can leak a field.
 * Memory is zeroed (absent optional fields read as 0/NULL/false). An
 * allocation failure returns NULL (nothing below cli/ prints or aborts): the
 * callers turn it into -ENOMEM, and the arena stays valid and freeable. */
#include "base/spec.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (16 * 1024)
#define ARENA_ALIGN alignof(max_align_t)

struct arena_chunk {
    struct arena_chunk *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
};

struct hull_arena {
    struct arena_chunk *head;   /* the chunk being filled is first */
};

static struct arena_chunk *chunk_new(size_t size) {
    if (size > SIZE_MAX - sizeof(struct arena_chunk)) return NULL;
    struct arena_chunk *c = calloc(1, sizeof *c + size);
    if (!c) return NULL;
    c->size = size;
    return c;
}

struct hull_arena *hull_arena_new(void) {
    return calloc(1, sizeof(struct hull_arena));
}

void *hull_arena_alloc(struct hull_arena *a, size_t size) {
    if (size == 0) size = 1;            /* distinct, non-NULL pointers */
    if (size > SIZE_MAX - ARENA_ALIGN) return NULL;
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    struct arena_chunk *c = a->head;
    if (c && c->size - c->used >= need) {
        void *p = c->data + c->used;
        c->used += need;
        return p;                        /* calloc'd chunk, never reused: already zero */
    }
    if (need > ARENA_CHUNK / 4) {
        /* Big blocks get their own chunk, linked behind the current one so
         * the current chunk's free tail stays usable. */
        struct arena_chunk *big = chunk_new(need);
        if (!big) return NULL;
        big->used = need;
        if (c) { big->next = c->next; c->next = big; }
        else a->head = big;
        return big->data;
    }
    struct arena_chunk *n = chunk_new(ARENA_CHUNK);
    if (!n) return NULL;
    n->next = c;
    a->head = n;
    n->used = need;
    return n->data;
}

char *hull_arena_strndup(struct hull_arena *a, const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *p = hull_arena_alloc(a, len + 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    return p;                            /* terminator: zeroed memory */
}

char *hull_arena_strdup(struct hull_arena *a, const char *s) {
    return s ? hull_arena_strndup(a, s, strlen(s)) : NULL;
}

void hull_arena_free(struct hull_arena *a) {
    if (!a) return;
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}
