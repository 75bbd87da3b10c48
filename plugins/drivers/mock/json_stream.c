/* Lists and Tables produced piece by piece: the list envelope, then one
 * serialized item (or Table row) at a time, so a list of any length costs
 * one item's text plus one chunk of memory, never a second copy of the
 * list. Between fills the producer keeps only the last key it wrote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

int mock_buf_add(struct mock_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int mock_buf_adds(struct mock_buf *b, const char *s)
{
    return mock_buf_add(b, s, strlen(s));
}

void mock_buf_free(struct mock_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

enum phase { PH_HEAD, PH_ITEMS, PH_DONE };

struct mock_list {
    const struct mock_store *store;
    struct mock_list_opts o;
    char *ns;   /* copy of o.ns, "" for all namespaces */
    char *name; /* copy of o.name or NULL */
    uint64_t rv;
    enum phase phase;
    int any;                   /* an item was written: next needs a comma */
    char *last_ns, *last_name; /* cursor: the last key written */
};

struct mock_list *mock_list_new(const struct mock_store *s,
                                const struct mock_list_opts *o)
{
    struct mock_list *l = calloc(1, sizeof(*l));
    if (!l) {
        mock_selector_free(o->labels);
        mock_selector_free(o->fields);
        return NULL;
    }
    l->store = s;
    l->o = *o;
    l->ns = strdup(o->ns ? o->ns : "");
    l->name = o->name ? strdup(o->name) : NULL;
    l->rv = s->rv;
    if (!l->ns || (o->name && !l->name)) {
        mock_list_free(l);
        return NULL;
    }
    l->o.ns = l->ns;
    l->o.name = l->name;
    return l;
}

void mock_list_free(struct mock_list *l)
{
    if (!l)
        return;
    free(l->ns);
    free(l->name);
    free(l->last_ns);
    free(l->last_name);
    mock_selector_free(l->o.labels);
    mock_selector_free(l->o.fields);
    free(l);
}

static int write_head(struct mock_list *l, struct mock_buf *out)
{
    char head[256], av[64];
    if (l->o.table == MOCK_TABLE_NONE) {
        snprintf(head, sizeof(head),
                 "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{"
                 "\"resourceVersion\":\"%llu\"},\"items\":[",
                 l->o.kind->list_kind,
                 mock_kind_api_version(l->o.kind, av, sizeof(av)),
                 (unsigned long long)l->rv);
        return mock_buf_adds(out, head);
    }
    snprintf(head, sizeof(head),
             "{\"kind\":\"Table\",\"apiVersion\":\"%s\",\"metadata\":{"
             "\"resourceVersion\":\"%llu\"},\"columnDefinitions\":",
             l->o.table == MOCK_TABLE_V1BETA1 ? "meta.k8s.io/v1beta1"
                                              : "meta.k8s.io/v1",
             (unsigned long long)l->rv);
    cJSON *cols = mock_table_columns(l->o.kind);
    char *text = cols ? cJSON_PrintUnformatted(cols) : NULL;
    cJSON_Delete(cols);
    int rc = text && mock_buf_adds(out, head) == 0 &&
                     mock_buf_adds(out, text) == 0 &&
                     mock_buf_adds(out, ",\"rows\":[") == 0
                 ? 0
                 : -1;
    free(text);
    return rc;
}

static int write_item(struct mock_list *l, const struct mock_obj *o,
                      struct mock_buf *out)
{
    char *text;
    if (l->o.table == MOCK_TABLE_NONE) {
        text = cJSON_PrintUnformatted(o->json);
    } else {
        cJSON *row = mock_table_row(l->o.kind, o->json, l->o.now_ms,
                                    l->o.include, l->o.table);
        text = row ? cJSON_PrintUnformatted(row) : NULL;
        cJSON_Delete(row);
    }
    if (!text)
        return -1;
    int rc = 0;
    if (l->any)
        rc = mock_buf_add(out, ",", 1);
    if (rc == 0)
        rc = mock_buf_adds(out, text);
    free(text);
    l->any = 1;
    return rc;
}

static int set_cursor(struct mock_list *l, const struct mock_obj *o)
{
    char *ns = strdup(o->ns), *name = strdup(o->name);
    if (!ns || !name) {
        free(ns);
        free(name);
        return -1;
    }
    free(l->last_ns);
    free(l->last_name);
    l->last_ns = ns;
    l->last_name = name;
    return 0;
}

int mock_list_fill(struct mock_list *l, struct mock_buf *out, size_t want)
{
    if (l->phase == PH_HEAD) {
        if (write_head(l, out) != 0)
            return -1;
        l->phase = PH_ITEMS;
    }
    if (l->phase == PH_ITEMS) {
        const struct mock_bucket *b = mock_store_bucket(l->store, l->o.kind);
        size_t i;
        if (l->last_name)
            i = mock_store_seek(l->store, l->o.kind, l->last_ns, l->last_name,
                                0);
        else
            i = mock_store_seek(l->store, l->o.kind, l->ns,
                                l->name ? l->name : "", 1);
        const struct mock_obj *last = NULL;
        int finished = 1;
        for (; i < b->n; i++) {
            const struct mock_obj *o = b->v[i];
            if (l->ns[0] && strcmp(o->ns, l->ns) != 0)
                break;
            if (l->name && strcmp(o->name, l->name) != 0)
                break;
            if (out->len >= want) {
                finished = 0;
                break;
            }
            last = o;
            if (!mock_selector_match(l->o.labels, o->json) ||
                !mock_selector_match(l->o.fields, o->json))
                continue;
            if (write_item(l, o, out) != 0)
                return -1;
            if (l->name)
                break;
        }
        if (last && set_cursor(l, last) != 0)
            return -1;
        if (!finished)
            return 1;
        l->phase = PH_DONE;
        if (mock_buf_adds(out, "]}") != 0)
            return -1;
    }
    return 0;
}
