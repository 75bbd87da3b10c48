/* See conn_sources.h. Linear probing with deletion by backward shift, so
 * the table never fills with tombstones; it is sized at twice the most
 * sources there can be (one per connection), and the hash is keyed at
 * random so clients cannot choose addresses that collide. */
#include "net/conn_sources.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/rand.h>

int fg_source_table_init(struct fg_source_table *t, size_t max_sources)
{
    size_t cap = 16;
    while (cap < 2 * max_sources + 1)
        cap *= 2;
    memset(t, 0, sizeof(*t));
    t->entries = calloc(cap, sizeof(*t->entries));
    if (!t->entries)
        return -1;
    t->mask = cap - 1;
    if (RAND_bytes((unsigned char *)&t->seed, sizeof(t->seed)) != 1)
        t->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15u;
    return 0;
}

void fg_source_table_free(struct fg_source_table *t)
{
    free(t->entries);
    memset(t, 0, sizeof(*t));
}

struct fg_source fg_source_of(const struct sockaddr *addr)
{
    struct fg_source s = {0, 0};
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        s.bits = ntohl(in->sin_addr.s_addr);
        s.family = AF_INET;
    } else if (addr->sa_family == AF_INET6) {
        const uint8_t *b =
            ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
        static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};
        int mapped = memcmp(b, v4mapped, sizeof(v4mapped)) == 0;
        const uint8_t *from = mapped ? b + 12 : b;
        for (int i = 0; i < (mapped ? 4 : 8); i++)
            s.bits = (s.bits << 8) | from[i];
        s.family = mapped ? AF_INET : AF_INET6;
    }
    return s;
}

static size_t slot_of(const struct fg_source_table *t,
                      const struct fg_source *s)
{
    /* splitmix64's finaliser over the keyed address */
    uint64_t x = s->bits ^ t->seed ^ ((uint64_t)s->family << 56);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    x ^= x >> 31;
    return (size_t)x & t->mask;
}

static int same(const struct fg_source *a, const struct fg_source *b)
{
    return a->bits == b->bits && a->family == b->family;
}

/* The entry of SRC, or the free one where it would go (NULL: full). */
static struct fg_source_entry *find(const struct fg_source_table *t,
                                    const struct fg_source *src)
{
    size_t i = slot_of(t, src);
    for (size_t n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
        struct fg_source_entry *e = &t->entries[i];
        if (e->count == 0 || same(&e->src, src))
            return e;
    }
    return NULL;
}

int fg_source_take(struct fg_source_table *t, const struct fg_source *src,
                   uint32_t cap)
{
    if (src->family == 0 || !t->entries)
        return 0;
    struct fg_source_entry *e = find(t, src);
    if (!e || (cap && e->count >= cap))
        return -1;
    e->src = *src;
    e->count++;
    return 0;
}

void fg_source_release(struct fg_source_table *t, const struct fg_source *src)
{
    if (src->family == 0 || !t->entries)
        return;
    struct fg_source_entry *e = find(t, src);
    if (!e || e->count == 0 || --e->count > 0)
        return;
    /* Backward shift: move up every later entry of the run that would be
     * found no later from the hole, so lookups never stop at a gap. */
    size_t hole = (size_t)(e - t->entries);
    for (size_t i = (hole + 1) & t->mask; t->entries[i].count;
         i = (i + 1) & t->mask) {
        size_t home = slot_of(t, &t->entries[i].src);
        /* is HOME cyclically outside (hole, i]? then it may move */
        if (((i - home) & t->mask) >= ((i - hole) & t->mask)) {
            t->entries[hole] = t->entries[i];
            t->entries[i].count = 0;
            hole = i;
        }
    }
}

uint32_t fg_source_count(const struct fg_source_table *t,
                         const struct fg_source *src)
{
    if (src->family == 0 || !t->entries)
        return 0;
    const struct fg_source_entry *e = find(t, src);
    return e ? e->count : 0;
}
