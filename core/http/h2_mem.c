/* nghttp2's allocations, one allocator per session. Each session reserves
 * a 16 KiB frame buffer for life (NGHTTP2_FRAMEBUF_CHUNKLEN) of which an
 * idle connection writes only the first bytes. From the heap, that block
 * is resident as soon as the memory was used before (the heap recycles
 * touched pages); from mmap, the pages never written are never resident,
 * and a closed session's pages go back to the system at once. So blocks of
 * H2_MMAP_MIN bytes or more are mapped, smaller ones come from malloc.
 *
 * A mapped block is known by a record in its session's list, not by a
 * header inside it: its first page then holds frame bytes only, and once
 * the session has nothing to send those bytes are dead, so
 * fg_h2_mem_release can hand the pages back (MADV_DONTNEED: the next frame
 * faults in a zeroed page). The list is short (the frame buffer, and
 * while they live, large header blocks), so a free looks there first;
 * anything not in it is malloc's. */
#include "http/h2_mem.h"

#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define H2_MMAP_MIN (8 * 1024)

struct fg_h2_map {
    void *data;
    size_t size;
    int reserved; /* mapped while the session was made: its frame buffer */
    struct fg_h2_map *next;
};

static struct fg_h2_map **find(struct fg_h2_mem *m, const void *ptr)
{
    struct fg_h2_map **p = &m->maps;
    while (*p && (*p)->data != ptr)
        p = &(*p)->next;
    return p;
}

/* SIZE bytes, zeroed, from a fresh mapping; NULL if none is to be had. */
static void *map_block(struct fg_h2_mem *m, size_t size)
{
    struct fg_h2_map *r = malloc(sizeof(*r));
    if (!r)
        return NULL;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        free(r);
        return NULL;
    }
    *r = (struct fg_h2_map){p, size, !m->made, m->maps};
    m->maps = r;
    return p;
}

static void *mem_malloc(size_t size, void *user)
{
    void *p = size >= H2_MMAP_MIN ? map_block(user, size) : NULL;
    return p ? p : malloc(size); /* small, or no mapping to be had */
}

static void mem_free(void *ptr, void *user)
{
    if (!ptr)
        return;
    struct fg_h2_map **p = find(user, ptr);
    struct fg_h2_map *r = *p;
    if (!r) {
        free(ptr);
        return;
    }
    *p = r->next;
    munmap(r->data, r->size);
    free(r);
}

static void *mem_calloc(size_t n, size_t size, void *user)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    /* a fresh mapping is zeroed already, and stays untouched */
    void *p = n * size >= H2_MMAP_MIN ? map_block(user, n * size) : NULL;
    return p ? p : calloc(n, size);
}

static void *mem_realloc(void *ptr, size_t size, void *user)
{
    if (!ptr)
        return mem_malloc(size, user);
    struct fg_h2_map *r = *find(user, ptr);
    if (!r && size < H2_MMAP_MIN)
        return realloc(ptr, size);
    void *p = mem_malloc(size, user);
    if (!p)
        return NULL;
    size_t old = r ? r->size : malloc_usable_size(ptr);
    memcpy(p, ptr, old < size ? old : size);
    mem_free(ptr, user);
    return p;
}

void fg_h2_mem_init(struct fg_h2_mem *m)
{
    *m = (struct fg_h2_mem){
        {m, mem_malloc, mem_free, mem_calloc, mem_realloc}, NULL, 0};
}

void fg_h2_mem_made(struct fg_h2_mem *m)
{
    m->made = 1;
}

void fg_h2_mem_release(struct fg_h2_mem *m)
{
    for (struct fg_h2_map *r = m->maps; r; r = r->next)
        if (r->reserved)
            madvise(r->data, r->size, MADV_DONTNEED);
}
