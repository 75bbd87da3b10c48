/* An object as the mock stores it: its JSON printed once, immutable, with
 * the few fields that lists, selectors and watches read (namespace, name,
 * labels, creation time, where the resourceVersion's digits are).
 *
 * Why bytes and not a cJSON tree: a tree costs about six times its JSON
 * (a node of 64 bytes per value, a malloc per key and string), and a list
 * printed each object again per request. Bytes are what a list or a watch
 * event sends, so both copy them as they are; the store, the watch log and
 * a list in flight share one doc by reference. Writes parse the doc, change
 * the tree and make a new doc: the rare path pays for the common one.
 *
 * Why Table cells beside the bytes: `kubectl get` asks for a Table, and
 * computing a row's cells needs the parsed object; preparing them once per
 * write (with the clock's part left to fill in) makes a Table list a copy
 * of prepared text. They are kept only up to MOCK_CELLS_MAX bytes, which
 * bounds what they add to an object (a pod's are about 60 bytes); a doc
 * with longer cells is parsed when a row is sent.
 *
 * Why the resourceVersion's position: a deletion and a watch event of an
 * object leaving a selector carry a later resourceVersion than the bytes
 * hold; splicing the digits in avoids a parse and a print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define MOCK_CELLS_MAX 512

/* Past the JSON value at P in cJSON's unformatted output (no whitespace),
 * or NULL when it does not end before E. */
static const char *skip_value(const char *p, const char *e)
{
    int depth = 0;
    while (p < e) {
        char c = *p;
        if (c == '"') {
            for (p++; p < e && *p != '"'; p++) {
                if (*p == '\\')
                    p++;
            }
            if (p >= e)
                return NULL;
            p++;
        } else if (c == '{' || c == '[') {
            depth++;
            p++;
            continue;
        } else if (c == '}' || c == ']') {
            depth--;
            p++;
        } else if (c == ',' || c == ':') {
            p++;
            continue;
        } else {
            while (p < e && !strchr(",:}]", *p))
                p++;
        }
        if (depth == 0)
            return p;
    }
    return NULL;
}

/* The value of member KEY of the object at P, or NULL. */
static const char *member(const char *p, const char *e, const char *key)
{
    size_t kl = strlen(key);
    if (p >= e || *p != '{')
        return NULL;
    p++;
    while (p < e && *p == '"') {
        const char *k = p + 1, *v = skip_value(p, e);
        if (!v || v >= e || *v != ':')
            return NULL;
        v++;
        if ((size_t)(v - 2 - k) == kl && memcmp(k, key, kl) == 0)
            return v;
        p = skip_value(v, e);
        if (!p || p >= e || *p != ',')
            return NULL;
        p++;
    }
    return NULL;
}

static size_t labels_size(const cJSON *labels)
{
    size_t n = 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, labels)
    {
        if (cJSON_IsString(e) && e->string)
            n += strlen(e->string) + strlen(e->valuestring) + 2;
    }
    return n;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s) + 1;
    memcpy(p, s, n);
    return p + n;
}

struct mock_doc *mock_doc_new(const struct mock_kind *k, const cJSON *obj,
                              const char *ns, const char *name)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
    if (!cJSON_IsObject(labels))
        labels = NULL;
    const char *ts = mock_json_str(obj, "metadata.creationTimestamp", NULL);
    struct mock_buf cells = {0};
    if (mock_table_cells(k, obj, &cells) != 0 || cells.len > MOCK_CELLS_MAX)
        cells.len = 0;
    char *text = cJSON_PrintUnformatted(obj);
    if (!text) {
        mock_buf_free(&cells);
        return NULL;
    }
    size_t len = strlen(text);
    const char *end = text + len;
    const char *m = member(text, end, "metadata");
    const char *rv = m ? member(m, end, "resourceVersion") : NULL;
    size_t tail = cells.len + strlen(ns) + strlen(name) + 2 +
                  (labels ? labels_size(labels) : 1);
    struct mock_doc *d = rv && *rv == '"' && len < UINT32_MAX
                             ? malloc(sizeof(*d) + len + 1 + tail)
                             : NULL;
    if (!d) {
        free(text);
        mock_buf_free(&cells);
        return NULL;
    }
    d->rv_off = (uint32_t)(rv + 1 - text);
    memcpy(d->json, text, len + 1);
    free(text);
    d->refs = 1;
    d->len = (uint32_t)len;
    d->rv_len = 0;
    while (d->json[d->rv_off + d->rv_len] >= '0' &&
           d->json[d->rv_off + d->rv_len] <= '9')
        d->rv_len++;
    d->created_ms = ts ? mock_time_parse(ts) : -1;
    char *p = d->json + len + 1;
    d->cells_len = (uint16_t)cells.len;
    if (cells.len)
        memcpy(p, cells.p, cells.len);
    p += cells.len;
    mock_buf_free(&cells);
    d->ns = p;
    p = put_str(p, ns);
    d->name = p;
    p = put_str(p, name);
    d->labels = p;
    const cJSON *e;
    cJSON_ArrayForEach(e, labels)
    {
        if (cJSON_IsString(e) && e->string)
            p = put_str(put_str(p, e->string), e->valuestring);
    }
    *p = '\0';
    return d;
}

const char *mock_doc_cells(const struct mock_doc *d)
{
    return d->json + d->len + 1;
}

int mock_doc_member(const struct mock_doc *d, const char *key, const char **v,
                    size_t *len)
{
    const char *e = d->json + d->len, *m = member(d->json, e, key);
    const char *end = m ? skip_value(m, e) : NULL;
    if (!end)
        return -1;
    *v = m;
    *len = (size_t)(end - m);
    return 0;
}

struct mock_doc *mock_doc_ref(struct mock_doc *d)
{
    if (d)
        d->refs++;
    return d;
}

void mock_doc_unref(struct mock_doc *d)
{
    if (d && --d->refs == 0)
        free(d);
}

cJSON *mock_doc_parse(const struct mock_doc *d)
{
    return cJSON_ParseWithLength(d->json, d->len);
}

int mock_doc_append(struct mock_buf *out, const struct mock_doc *d, uint64_t rv)
{
    if (!rv)
        return mock_buf_add(out, d->json, d->len);
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)rv);
    size_t after = d->rv_off + d->rv_len;
    return mock_buf_add(out, d->json, d->rv_off) == 0 &&
                   mock_buf_add(out, digits, (size_t)n) == 0 &&
                   mock_buf_add(out, d->json + after, d->len - after) == 0
               ? 0
               : -1;
}

/* Bytes of D after its JSON's NUL: ns, name, uid and labels. */
static size_t tail_len(const struct mock_doc *d)
{
    const char *l = d->labels;
    while (*l) {
        l += strlen(l) + 1;
        l += strlen(l) + 1;
    }
    return (size_t)(l + 1 - (d->json + d->len + 1));
}

struct mock_doc *mock_doc_with_rv(const struct mock_doc *d, uint64_t rv)
{
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)rv);
    const char *tail = d->json + d->len + 1;
    size_t tl = tail_len(d), len = d->len - d->rv_len + (size_t)n;
    struct mock_doc *c = malloc(sizeof(*c) + len + 1 + tl);
    if (!c)
        return NULL;
    *c = *d;
    c->refs = 1;
    c->len = (uint32_t)len;
    c->rv_len = (uint16_t)n;
    size_t after = d->rv_off + d->rv_len;
    memcpy(c->json, d->json, d->rv_off);
    memcpy(c->json + d->rv_off, digits, (size_t)n);
    memcpy(c->json + d->rv_off + n, d->json + after, d->len - after + 1);
    char *ctail = c->json + len + 1;
    memcpy(ctail, tail, tl);
    c->ns = ctail + (d->ns - tail);
    c->name = ctail + (d->name - tail);
    c->labels = ctail + (d->labels - tail);
    return c;
}

int mock_doc_string(const struct mock_doc *d, const char *path, char *buf,
                    size_t len)
{
    const char *p = d->json, *e = d->json + d->len;
    char key[64];
    while (p && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(key))
            return -1;
        memcpy(key, path, n);
        key[n] = '\0';
        p = member(p, e, key);
        path += dot ? n + 1 : n;
    }
    const char *end = p && *p == '"' ? skip_value(p, e) : NULL;
    if (!end || (size_t)(end - p - 2) >= len || memchr(p, '\\', end - p))
        return -1;
    memcpy(buf, p + 1, (size_t)(end - p - 2));
    buf[end - p - 2] = '\0';
    return 0;
}

const char *mock_doc_uid(const struct mock_doc *d, char *buf, size_t len)
{
    if (mock_doc_string(d, "metadata.uid", buf, len) != 0)
        buf[0] = '\0';
    return buf;
}

const char *mock_doc_label(const struct mock_doc *d, const char *key)
{
    for (const char *l = d->labels; *l;) {
        const char *v = l + strlen(l) + 1;
        if (strcmp(l, key) == 0)
            return v;
        l = v + strlen(v) + 1;
    }
    return NULL;
}
