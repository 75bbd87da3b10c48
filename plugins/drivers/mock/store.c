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
 * Each object is held as a doc (doc.c): its JSON bytes, shared by
 * reference with the watch log and lists in flight. Writes go through
 * mock_store_put (and a removal beside it): each takes the next global
 * resourceVersion, which is what a watch event log keyed by
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
    mock_doc_unref(o->doc);
    free(o);
}

/* An entry for DOC (a reference taken over): its key is the doc's, which
 * every doc stored in the entry later shares. */
static struct mock_obj *obj_new(struct mock_doc *doc, uint64_t rv)
{
    struct mock_obj *o = malloc(sizeof(*o));
    if (!o)
        return NULL;
    o->ns = doc->ns;
    o->name = doc->name;
    o->rv = rv;
    o->doc = doc;
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

cJSON *mock_obj_json(const struct mock_obj *o)
{
    return mock_doc_parse(o->doc);
}

/* Sets (or adds) slot I of bucket B to DOC (a reference taken over) at RV:
 * the key is DOC's. Returns 0 or -1 (memory; DOC dropped). When OLD is
 * not NULL it receives the replaced doc, otherwise that is dropped. */
static int bucket_set(struct mock_bucket *b, struct mock_doc *doc, uint64_t rv,
                      struct mock_doc **old)
{
    size_t i = lower_bound(b, doc->ns, doc->name, 1);
    if (i < b->n && key_cmp(b->v[i], doc->ns, doc->name) == 0) {
        if (old)
            *old = b->v[i]->doc;
        else
            mock_doc_unref(b->v[i]->doc);
        /* The key moves to the new doc before the old one can go. */
        b->v[i]->ns = doc->ns;
        b->v[i]->name = doc->name;
        b->v[i]->doc = doc;
        b->v[i]->rv = rv;
        return 0;
    }
    struct mock_obj *o = obj_new(doc, rv);
    if (!o) {
        mock_doc_unref(doc);
        return -1;
    }
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
    return 0;
}

static int put_at(struct mock_store *s, const struct mock_kind *k,
                  const char *ns, const char *name, cJSON *json, uint64_t rv,
                  struct mock_doc **old)
{
    if (old)
        *old = NULL;
    struct mock_doc *doc =
        stamp_rv(json, rv) == 0 ? mock_doc_new(k, json, ns, name) : NULL;
    cJSON_Delete(json);
    if (!doc || bucket_set(&s->buckets[mock_kind_index(k)], doc, rv, old) != 0)
        return -1;
    if (rv > s->rv)
        s->rv = rv;
    return 0;
}

int mock_store_put(struct mock_store *s, const struct mock_kind *k,
                   const char *ns, const char *name, cJSON *json,
                   struct mock_doc **old)
{
    return put_at(s, k, ns, name, json, s->rv + 1, old);
}

int mock_store_put_kept(struct mock_store *s, const struct mock_kind *k,
                        const char *ns, const char *name, cJSON *json,
                        uint64_t rv)
{
    return put_at(s, k, ns, name, json, rv, NULL);
}

struct mock_doc *mock_store_remove(struct mock_store *s,
                                   const struct mock_kind *k, const char *ns,
                                   const char *name)
{
    struct mock_bucket *b = &s->buckets[mock_kind_index(k)];
    size_t i = lower_bound(b, ns, name, 1);
    if (i >= b->n || key_cmp(b->v[i], ns, name) != 0)
        return NULL;
    /* A deletion is a change like any other: it takes the next
     * resourceVersion, which the DELETED event and its reader see. */
    struct mock_doc *gone = mock_doc_with_rv(b->v[i]->doc, s->rv + 1);
    if (!gone)
        return NULL;
    s->rv++;
    obj_free(b->v[i]);
    memmove(&b->v[i], &b->v[i + 1], (b->n - i - 1) * sizeof(*b->v));
    b->n--;
    return gone;
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
