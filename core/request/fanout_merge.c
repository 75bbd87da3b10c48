/* Merging member lists into one (see fanout_merge.h). */
#include "request/fanout_merge.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

struct entry {
    cJSON *item;
    const char *cluster; /* the merge's copy */
    const char *namespace_, *name;
    size_t seq; /* arrival: the member's own order breaks ties */
};

struct fg_fanout_merge {
    cJSON *envelope; /* the first answer without its items or rows */
    int table;
    struct entry *entries;
    size_t n, cap;
    char **clusters; /* the names the entries point into */
    size_t n_clusters;
    cJSON *failed; /* [{cluster, message}] */
    size_t answers;
};

struct fg_fanout_merge *fg_fanout_merge_new(void)
{
    return calloc(1, sizeof(struct fg_fanout_merge));
}

void fg_fanout_merge_free(struct fg_fanout_merge *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        cJSON_Delete(m->entries[i].item);
    for (size_t i = 0; i < m->n_clusters; i++)
        free(m->clusters[i]);
    free(m->entries);
    free(m->clusters);
    cJSON_Delete(m->envelope);
    cJSON_Delete(m->failed);
    free(m);
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Whether KEY occurs at most once in O: JSON decoders differ on which of
 * two equal keys wins, so an answer that has two of a key the merge reads
 * or writes is refused rather than merged one way and read another. */
static int unique(const cJSON *o, const char *key)
{
    int n = 0;
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next)
        n += c->string && strcmp(c->string, key) == 0;
    return n <= 1;
}

static void delete_all(cJSON *o, const char *key)
{
    while (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_DeleteItemFromObjectCaseSensitive(o, key);
}

/* OBJ's metadata.annotations gains fedgate.io/cluster: CLUSTER (objects
 * made where missing, replaced where they are no objects). */
static int annotate(cJSON *obj, const char *cluster)
{
    if (!cJSON_IsObject(obj) || !unique(obj, "metadata"))
        return -1;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (!cJSON_IsObject(meta)) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "metadata");
        if (!(meta = cJSON_AddObjectToObject(obj, "metadata")))
            return -1;
    }
    if (!unique(meta, "annotations"))
        return -1;
    cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    if (!cJSON_IsObject(ann)) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "annotations");
        if (!(ann = cJSON_AddObjectToObject(meta, "annotations")))
            return -1;
    }
    delete_all(ann, FG_FANOUT_CLUSTER_ANNOTATION);
    return cJSON_AddStringToObject(ann, FG_FANOUT_CLUSTER_ANNOTATION, cluster)
               ? 0
               : -1;
}

/* Puts V first in the array ARR (cJSON 1.7.15 inserts at index 0 only
 * into a non-empty array). */
static int prepend(cJSON *arr, cJSON *v)
{
    if (!v)
        return -1;
    int ok = cJSON_GetArraySize(arr) ? cJSON_InsertItemInArray(arr, 0, v)
                                     : cJSON_AddItemToArray(arr, v);
    if (!ok)
        cJSON_Delete(v);
    return ok ? 0 : -1;
}

/* A row of a Table: the cluster's cell first, its object annotated. */
static int annotate_row(cJSON *row, const char *cluster)
{
    cJSON *cells = cJSON_GetObjectItemCaseSensitive(row, "cells");
    if (!cJSON_IsObject(row) || !unique(row, "cells") ||
        !unique(row, "object") || !cJSON_IsArray(cells) ||
        prepend(cells, cJSON_CreateString(cluster)) != 0)
        return -1;
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(row, "object");
    return obj && !cJSON_IsNull(obj) ? annotate(obj, cluster) : 0;
}

static int add_entry(struct fg_fanout_merge *m, cJSON *item,
                     const char *cluster)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct entry *e = realloc(m->entries, cap * sizeof(*e));
        if (!e)
            return -1;
        m->entries = e;
        m->cap = cap;
    }
    const cJSON *obj =
        m->table ? cJSON_GetObjectItemCaseSensitive(item, "object") : item;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    m->entries[m->n] = (struct entry){
        .item = item,
        .cluster = cluster,
        .namespace_ = str_of(meta, "namespace"),
        .name = str_of(meta, "name"),
        .seq = m->n,
    };
    m->n++;
    return 0;
}

static int check_kind(struct fg_fanout_merge *m, cJSON *doc, int table,
                      struct fg_error *err)
{
    if (!m->envelope) {
        m->table = table;
        return 0;
    }
    if (m->table != table ||
        strcmp(str_of(doc, "kind"), str_of(m->envelope, "kind")) != 0 ||
        strcmp(str_of(doc, "apiVersion"), str_of(m->envelope, "apiVersion")))
        return fg_error_set(err,
                            "answered a %s %s where another member "
                            "answered a %s %s",
                            str_of(doc, "apiVersion"), str_of(doc, "kind"),
                            str_of(m->envelope, "apiVersion"),
                            str_of(m->envelope, "kind"));
    return 0;
}

static char *keep_cluster(struct fg_fanout_merge *m, const char *cluster)
{
    char **c = realloc(m->clusters, (m->n_clusters + 1) * sizeof(*c));
    if (!c)
        return NULL;
    m->clusters = c;
    return c[m->n_clusters] = strdup(cluster);
}

int fg_fanout_merge_add(struct fg_fanout_merge *m, const char *cluster,
                        const char *body, size_t len, char **cont,
                        struct fg_error *err)
{
    *cont = NULL;
    if (fg_json_depth(body, len, FG_FANOUT_MAX_DEPTH) > FG_FANOUT_MAX_DEPTH)
        return fg_error_set(err, "its answer nests deeper than %d levels",
                            FG_FANOUT_MAX_DEPTH);
    cJSON *doc = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return fg_error_set(err, "its answer is not a JSON object");
    }
    static const char *const keys[] = {
        "kind", "apiVersion",        "metadata",      "items",
        "rows", "columnDefinitions", "failedClusters"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!unique(doc, keys[i])) {
            cJSON_Delete(doc);
            return fg_error_set(err, "its answer has two \"%s\" keys", keys[i]);
        }
    int table = strcmp(str_of(doc, "kind"), "Table") == 0;
    cJSON *items =
        cJSON_DetachItemFromObjectCaseSensitive(doc, table ? "rows" : "items");
    if (cJSON_IsNull(items)) { /* an empty list may say "items": null */
        cJSON_Delete(items);
        items = cJSON_CreateArray();
    }
    if (!cJSON_IsArray(items) ||
        (table && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(
                      doc, "columnDefinitions")))) {
        cJSON_Delete(items);
        cJSON_Delete(doc);
        return fg_error_set(err, "its answer is not a list");
    }
    if (check_kind(m, doc, table, err) != 0) {
        cJSON_Delete(items);
        cJSON_Delete(doc);
        return -1;
    }
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
    const char *c = str_of(meta, "continue");
    char *name = keep_cluster(m, cluster);
    if (name)
        m->n_clusters++;
    /* Every item is annotated before any is taken: an answer is merged
     * whole or not at all. */
    int rc = name ? 0 : -1;
    for (cJSON *it = items->child; rc == 0 && it; it = it->next)
        rc = table ? annotate_row(it, cluster) : annotate(it, cluster);
    if (rc == 0 && *c && !(*cont = strdup(c)))
        rc = -1;
    size_t first = m->n;
    while (rc == 0 && items->child) {
        cJSON *item = cJSON_DetachItemViaPointer(items, items->child);
        if (add_entry(m, item, name) != 0) {
            cJSON_Delete(item);
            rc = -1;
        }
    }
    cJSON_Delete(items);
    while (rc != 0 && m->n > first)
        cJSON_Delete(m->entries[--m->n].item);
    if (rc != 0) {
        free(*cont);
        *cont = NULL;
        cJSON_Delete(doc);
        return fg_error_set(err, "its items cannot be merged");
    }
    if (!m->envelope)
        m->envelope = doc;
    else
        cJSON_Delete(doc);
    m->answers++;
    return 0;
}

int fg_fanout_merge_fail(struct fg_fanout_merge *m, const char *cluster,
                         const char *message)
{
    if (!m->failed && !(m->failed = cJSON_CreateArray()))
        return -1;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "cluster", cluster) ||
        !cJSON_AddStringToObject(o, "message", message) ||
        !cJSON_AddItemToArray(m->failed, o)) {
        cJSON_Delete(o);
        return -1;
    }
    return 0;
}

size_t fg_fanout_merge_answers(const struct fg_fanout_merge *m)
{
    return m->answers;
}

const char *fg_fanout_merge_kind(const struct fg_fanout_merge *m)
{
    return str_of(m->envelope, "kind");
}

const char *fg_fanout_merge_api_version(const struct fg_fanout_merge *m)
{
    return str_of(m->envelope, "apiVersion");
}

int fg_fanout_merge_empty(struct fg_fanout_merge *m, const char *kind,
                          const char *api_version)
{
    if (m->envelope)
        return 0;
    cJSON *env = cJSON_CreateObject();
    m->table = strcmp(kind, "Table") == 0;
    if (!env || !cJSON_AddStringToObject(env, "kind", kind) ||
        !cJSON_AddStringToObject(env, "apiVersion", api_version) ||
        (m->table && !cJSON_AddArrayToObject(env, "columnDefinitions"))) {
        cJSON_Delete(env);
        return -1;
    }
    m->envelope = env;
    return 0;
}

size_t fg_fanout_merge_items(const struct fg_fanout_merge *m)
{
    return m->n;
}

static int entry_order(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = strcmp(a->cluster, b->cluster);
    if (!c)
        c = strcmp(a->namespace_, b->namespace_);
    if (!c)
        c = strcmp(a->name, b->name);
    if (!c)
        c = a->seq < b->seq ? -1 : a->seq > b->seq;
    return c;
}

/* The Cluster column, first of a Table's columnDefinitions. */
static cJSON *cluster_column(void)
{
    cJSON *col = cJSON_CreateObject();
    if (col && cJSON_AddStringToObject(col, "name", "Cluster") &&
        cJSON_AddStringToObject(col, "type", "string") &&
        cJSON_AddStringToObject(col, "format", "") &&
        cJSON_AddStringToObject(col, "description",
                                "The member cluster the row comes from "
                                "(fedgate.io/cluster).") &&
        cJSON_AddNumberToObject(col, "priority", 0))
        return col;
    cJSON_Delete(col);
    return NULL;
}

/* ENVELOPE's metadata: an empty resourceVersion (members' versions do not
 * compose into one) and CONT. */
static int list_meta(cJSON *envelope, const char *cont)
{
    cJSON_DeleteItemFromObjectCaseSensitive(envelope, "metadata");
    cJSON *meta = cJSON_AddObjectToObject(envelope, "metadata");
    return meta && cJSON_AddStringToObject(meta, "resourceVersion", "") &&
                   (!cont || cJSON_AddStringToObject(meta, "continue", cont))
               ? 0
               : -1;
}

char *fg_fanout_merge_finish(struct fg_fanout_merge *m, const char *cont,
                             size_t *len)
{
    cJSON *env = m->envelope;
    if (!env || list_meta(env, cont) != 0)
        return NULL;
    if (m->table &&
        prepend(cJSON_GetObjectItemCaseSensitive(env, "columnDefinitions"),
                cluster_column()) != 0)
        return NULL;
    if (m->n) /* qsort may not be given NULL, even for nothing */
        qsort(m->entries, m->n, sizeof(*m->entries), entry_order);
    cJSON *items = cJSON_AddArrayToObject(env, m->table ? "rows" : "items");
    if (!items)
        return NULL;
    /* The entries' items move into the list (adding to an array fails
     * only for NULL arguments). */
    for (size_t i = 0; i < m->n; i++)
        cJSON_AddItemToArray(items, m->entries[i].item);
    m->n = 0;
    delete_all(env, "failedClusters");
    if (m->failed) {
        cJSON_AddItemToObject(env, "failedClusters", m->failed);
        m->failed = NULL;
    }
    char *json = cJSON_PrintUnformatted(env);
    if (json)
        *len = strlen(json);
    return json;
}
