/* A bounded map from names (users, members) to their limiter state. It
 * never grows past max_keys: when full, the entries that hold nothing worth
 * keeping (no request in flight, a bucket that has refilled) are evicted;
 * forgetting them changes no decision, since a new entry starts the same. */
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

int rl_table_init(struct rl_table *t, size_t max_keys)
{
    size_t n = 16;
    while (n < max_keys && n < ((size_t)1 << 20))
        n *= 2;
    t->slots = calloc(n, sizeof(*t->slots));
    t->n_slots = n;
    t->n = 0;
    t->max_keys = max_keys;
    return t->slots ? 0 : -1;
}

void rl_table_free(struct rl_table *t)
{
    for (size_t i = 0; i < t->n_slots; i++)
        while (t->slots[i]) {
            struct rl_entry *e = t->slots[i];
            t->slots[i] = e->next;
            free(e);
        }
    free(t->slots);
    t->slots = NULL;
}

static size_t evict_idle(struct rl_table *t, int64_t qps, int64_t burst,
                         uint64_t now_us)
{
    size_t gone = 0;
    for (size_t i = 0; i < t->n_slots; i++)
        for (struct rl_entry **p = &t->slots[i]; *p;) {
            struct rl_entry *e = *p;
            rl_bucket_refill(&e->bucket, qps, burst, now_us);
            if (e->in_flight || e->long_running ||
                (qps && !rl_bucket_full(&e->bucket, burst))) {
                p = &e->next;
                continue;
            }
            *p = e->next;
            free(e);
            gone++;
        }
    t->n -= gone;
    return gone;
}

struct rl_entry *rl_table_get(struct rl_table *t, const char *key, int64_t qps,
                              int64_t burst, uint64_t now_us)
{
    size_t slot = hash(key) & (t->n_slots - 1);
    for (struct rl_entry *e = t->slots[slot]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    if (t->n >= t->max_keys && evict_idle(t, qps, burst, now_us) == 0)
        return NULL;
    size_t len = strlen(key);
    struct rl_entry *e = calloc(1, sizeof(*e) + len + 1);
    if (!e)
        return NULL;
    memcpy(e->key, key, len + 1);
    rl_bucket_init(&e->bucket, burst, now_us);
    e->next = t->slots[slot];
    t->slots[slot] = e;
    t->n++;
    return e;
}
