/* The request arena (see arena.h). */
#include "request/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_FIRST 2048
#define ALIGN alignof(max_align_t)

struct chunk {
    struct chunk *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
};

struct fg_arena {
    struct chunk *head; /* the chunk being filled; older ones follow */
    size_t handed_out;
};

static struct chunk *chunk_init(struct chunk *c, size_t size)
{
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

static struct chunk *chunk_new(size_t size)
{
    struct chunk *c = malloc(sizeof(*c) + size);
    return c ? chunk_init(c, size) : NULL;
}

/* The arena and its first chunk are one allocation (the chunk right after
 * the arena, aligned): they live and go together. */
#define ARENA_HEAD                                                             \
    ((sizeof(struct fg_arena) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

struct fg_arena *fg_arena_new(size_t first)
{
    size_t size = first ? first : DEFAULT_FIRST;
    if (size > SIZE_MAX / 2)
        return NULL;
    struct fg_arena *a = malloc(ARENA_HEAD + sizeof(struct chunk) + size);
    if (!a)
        return NULL;
    a->handed_out = 0;
    a->head =
        chunk_init((struct chunk *)((unsigned char *)a + ARENA_HEAD), size);
    return a;
}

void *fg_arena_alloc(struct fg_arena *a, size_t len)
{
    if (len > SIZE_MAX / 2)
        return NULL;
    size_t need = (len + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need == 0)
        need = ALIGN;
    struct chunk *c = a->head;
    if (c->size - c->used < need) {
        /* Grow geometrically so that a big head costs few chunks. */
        size_t size = c->size * 2;
        if (size < need)
            size = need;
        struct chunk *n = chunk_new(size);
        if (!n)
            return NULL;
        n->next = c;
        a->head = c = n;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->handed_out += len;
    return p;
}

char *fg_arena_strndup(struct fg_arena *a, const char *s, size_t len)
{
    char *p = fg_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

size_t fg_arena_used(const struct fg_arena *a)
{
    return a->handed_out;
}

void fg_arena_free(struct fg_arena *a)
{
    if (!a)
        return;
    /* the last chunk is the first one, inside A's own allocation */
    for (struct chunk *c = a->head, *next; c->next; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}
