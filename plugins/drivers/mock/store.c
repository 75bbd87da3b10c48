/* The mock's object store: per kind, an array of objects sorted by
 * (namespace, name), each with its own resourceVersion, and one global
 * resourceVersion counter.
 *
 * Why this shape: a sorted array gives ordered lists (what kube-apiserver
 * returns), a namespace's objects as one contiguous range, O(log n) gets,
 * and a cheap "resume after key" for chunked lists and later for
 * limit/continue tokens. Inserts cost a memmove of pointers, which at
 * demo and test sizes (tens of thousands) is negligible.
 *
 * Why cJSON trees and not serialized bytes: Table cells, selectors and
 * future patches all read or change fields of the object; keeping the tree
 * makes those direct, and serializing one object at a time while streaming
 * a list keeps the extra memory to one item. Writes and watch are meant to
 * go through mock_store_put (and a delete beside it): each write takes the
 * next global resourceVersion, which is what a watch event log keyed by
 * resourceVersion needs. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "mock.h"

struct mock_store *mock_store_new(void)
{
    return calloc(1, sizeof(struct mock_store));
}

static void obj_free(struct mock_obj *o)
{
    if (!o)
        return;
    cJSON_Delete(o->json);
    free(o);
}

/* An entry with its key stored after it: one allocation instead of three,
 * which at a hundred thousand objects saves the allocator's per-block
 * overhead of two small strings each. */
static struct mock_obj *obj_new(const char *ns, const char *name)
{
    size_t nl = strlen(ns) + 1, ml = strlen(name) + 1;
    struct mock_obj *o = malloc(sizeof(*o) + nl + ml);
    if (!o)
        return NULL;
    o->ns = memcpy(o->key, ns, nl);
    o->name = memcpy(o->key + nl, name, ml);
    o->rv = 0;
    o->json = NULL;
    return o;
}

void mock_store_free(struct mock_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        struct mock_bucket *b = &s->buckets[i];
        for (size_t j = 0; j < b->n; j++)
            obj_free(b->v[j]);
        free(b->v);
    }
    free(s);
}

static int key_cmp(const struct mock_obj *o, const char *ns, const char *name)
{
    int c = strcmp(o->ns, ns);
    return c ? c : strcmp(o->name, name);
}

static size_t lower_bound(const struct mock_bucket *b, const char *ns,
                          const char *name, int inclusive)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(b->v[mid], ns, name);
        if (c < 0 || (c == 0 && !inclusive))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct mock_bucket *mock_store_bucket(const struct mock_store *s,
                                            const struct mock_kind *k)
{
    return &s->buckets[mock_kind_index(k)];
}

size_t mock_store_seek(const struct mock_store *s, const struct mock_kind *k,
                       const char *ns, const char *name, int inclusive)
{
    return lower_bound(mock_store_bucket(s, k), ns, name, inclusive);
}

struct mock_obj *mock_store_get(const struct mock_store *s,
                                const struct mock_kind *k, const char *ns,
                                const char *name)
{
    const struct mock_bucket *b = mock_store_bucket(s, k);
    size_t i = lower_bound(b, ns, name, 1);
    if (i < b->n && key_cmp(b->v[i], ns, name) == 0)
        return b->v[i];
    return NULL;
}

static int stamp_rv(cJSON *json, uint64_t rv)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)rv);
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(json, "metadata");
    if (!cJSON_IsObject(meta))
        return -1;
    cJSON *v = cJSON_CreateString(buf);
    if (!v)
        return -1;
    /* cJSON_HasObjectItem ignores case; the key must match exactly. */
    int ok =
        cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion")
            ? cJSON_ReplaceItemInObjectCaseSensitive(meta, "resourceVersion", v)
            : cJSON_AddItemToObject(meta, "resourceVersion", v);
    if (!ok) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

int mock_store_put(struct mock_store *s, const struct mock_kind *k,
                   const char *ns, const char *name, cJSON *json, cJSON **old)
{
    struct mock_bucket *b = &s->buckets[mock_kind_index(k)];
    uint64_t rv = s->rv + 1;
    if (old)
        *old = NULL;
    if (stamp_rv(json, rv) != 0) {
        cJSON_Delete(json);
        return -1;
    }
    size_t i = lower_bound(b, ns, name, 1);
    if (i < b->n && key_cmp(b->v[i], ns, name) == 0) {
        if (old)
            *old = b->v[i]->json;
        else
            cJSON_Delete(b->v[i]->json);
        b->v[i]->json = json;
        b->v[i]->rv = rv;
        s->rv = rv;
        return 0;
    }
    struct mock_obj *o = obj_new(ns, name);
    if (!o) {
        cJSON_Delete(json);
        return -1;
    }
    o->json = json;
    o->rv = rv;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct mock_obj **v = realloc(b->v, cap * sizeof(*v));
        if (!v) {
            obj_free(o);
            return -1;
        }
        b->v = v;
        b->cap = cap;
    }
    memmove(&b->v[i + 1], &b->v[i], (b->n - i) * sizeof(*b->v));
    b->v[i] = o;
    b->n++;
    s->rv = rv;
    return 0;
}

cJSON *mock_store_remove(struct mock_store *s, const struct mock_kind *k,
                         const char *ns, const char *name)
{
    struct mock_bucket *b = &s->buckets[mock_kind_index(k)];
    size_t i = lower_bound(b, ns, name, 1);
    if (i >= b->n || key_cmp(b->v[i], ns, name) != 0)
        return NULL;
    struct mock_obj *o = b->v[i];
    memmove(&b->v[i], &b->v[i + 1], (b->n - i - 1) * sizeof(*b->v));
    b->n--;
    /* A deletion is a change like any other: it takes the next
     * resourceVersion, which the DELETED event and its reader see. */
    s->rv++;
    stamp_rv(o->json, s->rv);
    cJSON *json = o->json;
    o->json = NULL;
    obj_free(o);
    return json;
}

int mock_store_key_copy(char **ns, char **name, const struct mock_obj *o)
{
    char *n = strdup(o->ns), *m = strdup(o->name);
    if (!n || !m) {
        free(n);
        free(m);
        return -1;
    }
    free(*ns);
    free(*name);
    *ns = n;
    *name = m;
    return 0;
}
