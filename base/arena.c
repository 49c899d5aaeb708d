/* A chunked bump allocator: everything a parsed spec owns lives in one arena,
 * so freeing a spec is one call and no error path can leak a field.
 * Memory is zeroed (absent optional fields read as 0/NULL/false) and an
 * allocation failure aborts: a spec is small, and OOM here is not recoverable
 * in any useful way by the callers. */
#include "base/spec.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
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

static _Noreturn void arena_oom(size_t size) {
    fprintf(stderr, "hull: out of memory allocating %zu bytes\n", size);
    abort();
}

static struct arena_chunk *chunk_new(size_t size) {
    if (size > SIZE_MAX - sizeof(struct arena_chunk)) arena_oom(size);
    struct arena_chunk *c = calloc(1, sizeof *c + size);
    if (!c) arena_oom(size);
    c->size = size;
    return c;
}

struct hull_arena *hull_arena_new(void) {
    struct hull_arena *a = calloc(1, sizeof *a);
    if (!a) arena_oom(sizeof *a);
    return a;
}

void *hull_arena_alloc(struct hull_arena *a, size_t size) {
    if (size == 0) size = 1;            /* distinct, non-NULL pointers */
    if (size > SIZE_MAX - ARENA_ALIGN) arena_oom(size);
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
        big->used = need;
        if (c) { big->next = c->next; c->next = big; }
        else a->head = big;
        return big->data;
    }
    struct arena_chunk *n = chunk_new(ARENA_CHUNK);
    n->next = c;
    a->head = n;
    n->used = need;
    return n->data;
}

char *hull_arena_strndup(struct hull_arena *a, const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *p = hull_arena_alloc(a, len + 1);
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
