/* nghttp2's allocations. Each session reserves a 16 KiB frame buffer for
 * life (NGHTTP2_FRAMEBUF_CHUNKLEN) of which an idle connection writes only
 * the first bytes. From the heap, that block is resident as soon as the
 * memory was used before (the heap recycles touched pages); from mmap, the
 * pages never written are never resident, and a closed session's pages go
 * back to the system at once. So blocks of H2_MMAP_MIN bytes or more are
 * mapped, smaller ones come from malloc. Each block starts with a header
 * that says which, and its size (nghttp2's free and realloc do not). */
#include "http/h2_mem.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define H2_MMAP_MIN (8 * 1024)

struct block {
    size_t size; /* usable bytes after the header */
    size_t mapped;
} __attribute__((aligned(16)));

static void *block_data(struct block *b)
{
    return b + 1;
}

static struct block *block_of(void *ptr)
{
    return (struct block *)ptr - 1;
}

static void *mem_malloc(size_t size, void *user)
{
    (void)user;
    if (size > SIZE_MAX - 2 * sizeof(struct block))
        return NULL;
    size_t total = size + sizeof(struct block);
    struct block *b = NULL;
    int mapped = 0;
    if (total >= H2_MMAP_MIN) {
        void *p = mmap(NULL, total, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            b = p;
            mapped = 1;
        }
    }
    if (!b)
        b = malloc(total); /* small, or no mapping to be had */
    if (!b)
        return NULL;
    b->size = size;
    b->mapped = (size_t)mapped;
    return block_data(b);
}

static void mem_free(void *ptr, void *user)
{
    (void)user;
    if (!ptr)
        return;
    struct block *b = block_of(ptr);
    if (b->mapped)
        munmap(b, b->size + sizeof(*b));
    else
        free(b);
}

static void *mem_calloc(size_t n, size_t size, void *user)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = mem_malloc(n * size, user);
    /* a fresh mapping is zeroed already, and stays untouched */
    if (p && !block_of(p)->mapped)
        memset(p, 0, n * size);
    return p;
}

static void *mem_realloc(void *ptr, size_t size, void *user)
{
    if (!ptr)
        return mem_malloc(size, user);
    struct block *b = block_of(ptr);
    if (!b->mapped && size + sizeof(*b) < H2_MMAP_MIN) {
        struct block *nb = realloc(b, size + sizeof(*b));
        if (!nb)
            return NULL;
        nb->size = size;
        return block_data(nb);
    }
    void *p = mem_malloc(size, user);
    if (!p)
        return NULL;
    memcpy(p, ptr, b->size < size ? b->size : size);
    mem_free(ptr, user);
    return p;
}

nghttp2_mem *fg_h2_mem(void)
{
    static nghttp2_mem mem = {NULL, mem_malloc, mem_free, mem_calloc,
                              mem_realloc};
    return &mem;
}
