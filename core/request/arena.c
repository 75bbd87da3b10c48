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

static struct chunk *chunk_new(size_t size)
{
    struct chunk *c = malloc(sizeof(*c) + size);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

struct fg_arena *fg_arena_new(size_t first)
{
    struct fg_arena *a = malloc(sizeof(*a));
    if (!a)
        return NULL;
    a->handed_out = 0;
    a->head = chunk_new(first ? first : DEFAULT_FIRST);
    if (!a->head) {
        free(a);
        return NULL;
    }
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
    for (struct chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}
