/* A request's arena: every piece of a request that plugins read (the head,
 * its headers, the request info, the identity) is allocated here and freed
 * at once when the request is done, so nothing is copied to be kept and
 * nothing is freed piecemeal. Bump allocation in chunks; not thread-safe
 * (one request is handled by one loop at a time). */
#ifndef FG_ARENA_H
#define FG_ARENA_H

#include <stddef.h>

struct fg_arena;

/* An arena whose first chunk holds FIRST bytes (0: a default). NULL when
 * out of memory. */
struct fg_arena *fg_arena_new(size_t first);

/* LEN bytes aligned for any type, or NULL when out of memory. */
void *fg_arena_alloc(struct fg_arena *a, size_t len);

/* A NUL-terminated copy of LEN bytes of S, or NULL when out of memory. */
char *fg_arena_strndup(struct fg_arena *a, const char *s, size_t len);

/* Bytes handed out so far (for limits and metrics). */
size_t fg_arena_used(const struct fg_arena *a);

void fg_arena_free(struct fg_arena *a);

#endif
