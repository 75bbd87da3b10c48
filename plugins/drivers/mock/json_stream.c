/* Lists and Tables produced piece by piece: the list envelope, then one
 * serialized item (or Table row) at a time, so a list of any length costs
 * one item's text plus one chunk of memory, never a second copy of the
 * list. Between fills the producer keeps only the last key it wrote.
 *
 * Paging (?limit=&continue=) works as in kube-apiserver: a page ends after
 * LIMIT matching items, and metadata.continue carries an opaque token (the
 * base64url of {"v":"meta.k8s.io/v1","rv":N,"start":"NS/NAME\u0000"}) that
 * resumes after the page's last key. The page's extent is found before the
 * envelope is written, because metadata (continue, remainingItemCount)
 * comes before the items. A token from before the watch log's horizon is
 * "too old" (410 Expired), as a token whose revision etcd compacted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define MOCK_CONTINUE_MAX 2048

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
    /* Paged: the page ends after (end_ns, end_name); CONT is the token for
     * the next page (NULL on the last one). */
    int paged;
    char *end_ns, *end_name, *cont;
    int64_t remaining; /* -1: not reported */
};

/* Index of the first object this list (still) has to look at. */
static size_t first_index(const struct mock_list *l)
{
    if (l->last_name)
        return mock_store_seek(l->store, l->o.kind, l->last_ns, l->last_name,
                               0);
    return mock_store_seek(l->store, l->o.kind, l->ns, l->name ? l->name : "",
                           1);
}

static int in_range(const struct mock_list *l, const struct mock_obj *o)
{
    return !l->ns[0] || strcmp(o->ns, l->ns) == 0;
}

/* 1 when O is in the list, 0 when not, -1 when out of memory. */
static int matches(const struct mock_list *l, const struct mock_obj *o)
{
    int rc = mock_selector_match_doc(l->o.labels, o->doc);
    return rc > 0 ? mock_selector_match_doc(l->o.fields, o->doc) : rc;
}

/* Finds where this page ends and what the next page's token is. */
static int plan_page(struct mock_list *l)
{
    const struct mock_bucket *b = mock_store_bucket(l->store, l->o.kind);
    size_t i = first_index(l);
    int64_t n = 0;
    for (; i < b->n && in_range(l, b->v[i]); i++) {
        int m = matches(l, b->v[i]);
        if (m < 0)
            return -1;
        if (m && ++n == l->o.limit)
            break;
    }
    if (n < l->o.limit || i + 1 >= b->n || !in_range(l, b->v[i + 1]))
        return 0; /* everything left fits: an ordinary last page */
    const struct mock_obj *end = b->v[i];
    l->paged = 1;
    struct mock_continue c = {.rv = l->rv};
    snprintf(c.ns, sizeof(c.ns), "%s", end->ns);
    snprintf(c.name, sizeof(c.name), "%s", end->name);
    if (!(l->end_ns = strdup(end->ns)) || !(l->end_name = strdup(end->name)) ||
        !(l->cont = mock_continue_encode(&c)))
        return -1;
    /* kube-apiserver counts what is left only when nothing is filtered. */
    if (!l->o.labels && !l->o.fields) {
        size_t j = i + 1;
        if (l->ns[0])
            j = mock_store_seek(l->store, l->o.kind, l->ns, "\x7f", 1);
        else
            j = b->n;
        l->remaining = (int64_t)(j - (i + 1));
    }
    return 0;
}

struct mock_list *mock_list_new(const struct mock_store *s,
                                const struct mock_list_opts *o)
{
    struct mock_list *l = calloc(1, sizeof(*l));
    if (!l) {
        fg_selector_free(o->labels);
        fg_selector_free(o->fields);
        return NULL;
    }
    l->store = s;
    l->o = *o;
    l->ns = strdup(o->ns ? o->ns : "");
    l->name = o->name ? strdup(o->name) : NULL;
    l->rv = o->rv ? o->rv : s->rv;
    l->remaining = -1;
    if (!l->ns || (o->name && !l->name)) {
        mock_list_free(l);
        return NULL;
    }
    l->o.ns = l->ns;
    l->o.name = l->name;
    if (o->has_start && (!(l->last_ns = strdup(o->start.ns)) ||
                         !(l->last_name = strdup(o->start.name)))) {
        mock_list_free(l);
        return NULL;
    }
    if (o->limit > 0 && !o->name && plan_page(l) != 0) {
        mock_list_free(l);
        return NULL;
    }
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
    free(l->end_ns);
    free(l->end_name);
    free(l->cont);
    fg_selector_free(l->o.labels);
    fg_selector_free(l->o.fields);
    free(l);
}

/* ,"continue":"...","remainingItemCount":N of a paged list's metadata. */
static void page_meta(const struct mock_list *l, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!l->paged)
        return;
    if (l->remaining >= 0)
        snprintf(buf, len, ",\"continue\":\"%s\",\"remainingItemCount\":%lld",
                 l->cont, (long long)l->remaining);
    else
        snprintf(buf, len, ",\"continue\":\"%s\"", l->cont);
}

static int write_head(struct mock_list *l, struct mock_buf *out)
{
    char head[256 + 2 * MOCK_CONTINUE_MAX], av[64], page[2 * MOCK_CONTINUE_MAX];
    page_meta(l, page, sizeof(page));
    if (l->o.table == MOCK_TABLE_NONE) {
        snprintf(head, sizeof(head),
                 "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{"
                 "\"resourceVersion\":\"%llu\"%s},\"items\":[",
                 l->o.kind->list_kind,
                 mock_kind_api_version(l->o.kind, av, sizeof(av)),
                 (unsigned long long)l->rv, page);
        return mock_buf_adds(out, head);
    }
    snprintf(head, sizeof(head),
             "{\"kind\":\"Table\",\"apiVersion\":\"%s\",\"metadata\":{"
             "\"resourceVersion\":\"%llu\"%s},\"columnDefinitions\":",
             l->o.table == MOCK_TABLE_V1BETA1 ? "meta.k8s.io/v1beta1"
                                              : "meta.k8s.io/v1",
             (unsigned long long)l->rv, page);
    return mock_buf_adds(out, head) == 0 &&
                   mock_table_columns_append(out, l->o.kind) == 0 &&
                   mock_buf_adds(out, ",\"rows\":[") == 0
               ? 0
               : -1;
}

/* An item: the stored bytes as they are, or a Table row of the cells
 * prepared when the object was stored. */
static int write_item(struct mock_list *l, const struct mock_obj *o,
                      struct mock_buf *out)
{
    if (l->any && mock_buf_add(out, ",", 1) != 0)
        return -1;
    l->any = 1;
    if (l->o.table == MOCK_TABLE_NONE)
        return mock_doc_append(out, o->doc, 0);
    return mock_table_row_append(out, l->o.kind, o->doc, l->o.now_ms,
                                 l->o.include, l->o.table);
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
        size_t i = first_index(l);
        const struct mock_obj *last = NULL;
        int finished = 1;
        for (; i < b->n; i++) {
            const struct mock_obj *o = b->v[i];
            if (!in_range(l, o))
                break;
            if (l->name && strcmp(o->name, l->name) != 0)
                break;
            if (l->paged) {
                int c = strcmp(o->ns, l->end_ns);
                if (c > 0 || (c == 0 && strcmp(o->name, l->end_name) > 0))
                    break;
            }
            if (out->len >= want) {
                finished = 0;
                break;
            }
            last = o;
            int m = matches(l, o);
            if (m < 0 || (m && write_item(l, o, out) != 0))
                return -1;
            if (!m)
                continue;
            if (l->name)
                break;
        }
        if (last && mock_store_key_copy(&l->last_ns, &l->last_name, last) != 0)
            return -1;
        if (!finished)
            return 1;
        l->phase = PH_DONE;
        if (mock_buf_adds(out, "]}") != 0)
            return -1;
    }
    return 0;
}

/* ---- continue tokens ------------------------------------------------- */

char *mock_continue_encode(const struct mock_continue *c)
{
    char start[520];
    snprintf(start, sizeof(start), "%s/%s", c->ns, c->name);
    cJSON *d = cJSON_CreateObject();
    if (!d || !cJSON_AddStringToObject(d, "v", "meta.k8s.io/v1") ||
        !cJSON_AddNumberToObject(d, "rv", (double)c->rv) ||
        !cJSON_AddStringToObject(d, "start", start)) {
        cJSON_Delete(d);
        return NULL;
    }
    char *text = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    if (!text)
        return NULL;
    /* kube-apiserver's start key ends in NUL: "strictly after this key".
     * cJSON cannot hold a NUL in a string, so it goes in as \u0000 text. */
    size_t tl = strlen(text);
    char *with = malloc(tl + 7);
    if (!with) {
        free(text);
        return NULL;
    }
    /* text ends with "...start":"NS/NAME"} */
    memcpy(with, text, tl - 2);
    memcpy(with + tl - 2, "\\u0000\"}", 9);
    free(text);
    char *out = fg_base64_encode_alloc(with, strlen(with),
                                       FG_BASE64_URL | FG_BASE64_NOPAD);
    free(with);
    return out;
}

static int valid_key_part(const char *s, size_t n, int may_be_empty)
{
    if (n == 0)
        return may_be_empty;
    if (n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.'))
            return 0;
    }
    return 1;
}

int mock_continue_decode(const char *token, struct mock_continue *c)
{
    char raw[MOCK_CONTINUE_MAX];
    memset(c, 0, sizeof(*c));
    if (strlen(token) > MOCK_CONTINUE_MAX)
        return -1;
    /* base64url without padding as issued; the standard alphabet and
     * padding too, as clients may re-encode the token. raw keeps a byte
     * for the NUL the parser below relies on. */
    long n = fg_base64_decode(raw, sizeof(raw) - 1, token, strlen(token),
                              FG_BASE64_URL | FG_BASE64_NOPAD |
                                  FG_BASE64_ANY_ALPHABET);
    if (n >= 0)
        raw[n] = '\0';
    if (n <= 0 || memchr(raw, '\0', (size_t)n))
        return -1;
    if (fg_json_depth(raw, (size_t)n, 4) > 2)
        return -1;
    cJSON *d = cJSON_ParseWithLength(raw, (size_t)n);
    if (!cJSON_IsObject(d)) {
        cJSON_Delete(d);
        return -1;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, "v");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(d, "rv");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(d, "start");
    int ok = cJSON_IsString(v) &&
             strcmp(v->valuestring, "meta.k8s.io/v1") == 0 &&
             cJSON_IsNumber(rv) && rv->valuedouble >= 1 &&
             rv->valuedouble < 9007199254740992.0 &&
             rv->valuedouble == (double)(uint64_t)rv->valuedouble &&
             cJSON_IsString(start);
    if (ok) {
        /* cJSON stops a string at the decoded NUL: what is left is the key. */
        const char *k = start->valuestring;
        const char *slash = strchr(k, '/');
        size_t nl = slash ? (size_t)(slash - k) : 0;
        const char *name = slash ? slash + 1 : "";
        ok = slash && nl < sizeof(c->ns) && valid_key_part(k, nl, 1) &&
             valid_key_part(name, strlen(name), 0) &&
             strlen(name) < sizeof(c->name) && strstr(raw, "\\u0000\"") != NULL;
        if (ok) {
            c->rv = (uint64_t)rv->valuedouble;
            memcpy(c->ns, k, nl);
            c->ns[nl] = '\0';
            snprintf(c->name, sizeof(c->name), "%s", name);
        }
    }
    cJSON_Delete(d);
    return ok ? 0 : -1;
}

/* ---- list query parameters ------------------------------------------- */

static int page_error(struct mock_answer *a, int code, const char *reason,
                      const char *msg)
{
    return mock_answer_body(a, code,
                            mock_status_json(code, reason, msg, NULL, NULL),
                            "application/json") == 0
               ? 1
               : -1;
}

int mock_list_query(struct mock_instance *in, const char *query,
                    struct mock_list_opts *o, struct mock_answer *a)
{
    char val[MOCK_CONTINUE_MAX + 1];
    int r = fg_query_get(query, "limit", val, sizeof(val));
    if (r != 0) {
        char *end;
        long long lim = r > 0 ? strtoll(val, &end, 10) : 0;
        if (r < 0 || !val[0] || *end)
            return page_error(a, 400, "BadRequest", "limit must be an integer");
        o->limit = lim > 0 ? lim : 0;
    }
    char rvs[64], match[64];
    int has_rv = fg_query_get(query, "resourceVersion", rvs, sizeof(rvs));
    int has_match =
        fg_query_get(query, "resourceVersionMatch", match, sizeof(match));
    if (has_match > 0 && match[0]) {
        if (strcmp(match, "NotOlderThan") != 0 && strcmp(match, "Exact") != 0)
            return page_error(a, 400, "BadRequest",
                              "resourceVersionMatch: Unsupported value: "
                              "supported values: \"Exact\", \"NotOlderThan\"");
        if (has_rv <= 0 || !rvs[0])
            return page_error(a, 400, "BadRequest",
                              "resourceVersionMatch is forbidden unless "
                              "resourceVersion is provided");
    }
    r = fg_query_get(query, "continue", val, sizeof(val));
    if (r == 0 || (r > 0 && !val[0]))
        return 0;
    if (has_rv > 0 && rvs[0] && strcmp(rvs, "0") != 0)
        return page_error(a, 400, "BadRequest",
                          "specifying resource version is not allowed when "
                          "using continue");
    if (r < 0 || mock_continue_decode(val, &o->start) != 0)
        return page_error(a, 400, "BadRequest",
                          "invalid continue token: continue key is not valid");
    if (o->start.rv < mock_watch_compacted_rv(in))
        return page_error(
            a, 410, "Expired",
            "The provided continue parameter is too old to display a "
            "consistent list result. You can start a new list without the "
            "continue parameter, or use the continue token in this response "
            "to retrieve the remainder of the results. Continuing with the "
            "provided token results in an inconsistent list - objects that "
            "were created, modified, or deleted between the time the first "
            "chunk was returned and now may show up in the list.");
    /* A namespace list only resumes inside its namespace. */
    if (o->ns && o->ns[0] && strcmp(o->ns, o->start.ns) != 0)
        return page_error(a, 400, "BadRequest",
                          "invalid continue token: continue key is not valid");
    o->has_start = 1;
    o->rv = o->start.rv;
    return 0;
}
