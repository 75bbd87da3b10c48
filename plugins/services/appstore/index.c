/* index.yaml as Helm's repo.IndexFile has it: apiVersion v1, entries by
 * chart name (sorted), each chart's versions newest first with the
 * Chart.yaml fields, relative urls, the archive's hex SHA-256 digest and
 * its created time; generated; serverInfo.contextPath. Keys are sorted as
 * sigs.k8s.io/yaml writes them; no field Helm does not know is written
 * (it reads the index strictly). Every string is a double-quoted YAML
 * scalar with escapes, so no text can change the document's structure or
 * be read as another type (version 1.10 stays the string "1.10"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/util.h>

#include "appstore.h"

/* S as a YAML double-quoted scalar. Besides '"', '\\' and control bytes,
 * the characters YAML 1.1 reads as line breaks (NEL, LS, PS) and the BOM
 * are escaped; other UTF-8 passes as it is (libyaml checked it). */
static void quoted(struct fg_buf *o, const char *s)
{
    fg_buf_put(o, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        char esc[8];
        size_t skip = 1;
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            esc[2] = 0;
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
        } else if (p[0] == 0xc2 && p[1] == 0x85) {
            strcpy(esc, "\\N");
            skip = 2;
        } else if (p[0] == 0xe2 && p[1] == 0x80 &&
                   (p[2] == 0xa8 || p[2] == 0xa9)) {
            strcpy(esc, p[2] == 0xa8 ? "\\L" : "\\P");
            skip = 3;
        } else if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
            strcpy(esc, "\\ufeff");
            skip = 3;
        } else {
            fg_buf_put(o, (const char *)p, 1);
            p++;
            continue;
        }
        fg_buf_puts(o, esc);
        p += skip;
    }
    fg_buf_put(o, "\"", 1);
}

static int by_key(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* O's members sorted by key (malloc'd array of *N), or NULL. */
static const cJSON **sorted(const cJSON *obj, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(obj);
    const cJSON **a = malloc((*n ? *n : 1) * sizeof *a);
    if (!a)
        return NULL;
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, obj) a[i++] = c;
    qsort(a, *n, sizeof *a, by_key);
    return a;
}

/* V in flow style: strings quoted, booleans, [lists], {maps} by key. */
static void flow(struct fg_buf *o, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        quoted(o, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        fg_buf_puts(o, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsArray(v)) {
        fg_buf_put(o, "[", 1);
        const cJSON *c;
        int first = 1;
        cJSON_ArrayForEach(c, v)
        {
            if (!first)
                fg_buf_put(o, ", ", 2);
            first = 0;
            flow(o, c);
        }
        fg_buf_put(o, "]", 1);
    } else {
        size_t n;
        const cJSON **m = sorted(v, &n);
        if (!m) {
            o->oom = 1;
            return;
        }
        fg_buf_put(o, "{", 1);
        for (size_t i = 0; i < n; i++) {
            if (i)
                fg_buf_put(o, ", ", 2);
            quoted(o, m[i]->string);
            fg_buf_put(o, ": ", 2);
            flow(o, m[i]);
        }
        fg_buf_put(o, "}", 1);
        free(m);
    }
}

void appstore_chart_file(const struct appstore_version *v, char *out,
                         size_t cap)
{
    snprintf(out, cap, "%s-%s.tgz", v->name, v->version);
}

cJSON *appstore_version_entry(const struct appstore_version *v)
{
    cJSON *e = cJSON_Duplicate(v->meta, 1);
    cJSON *urls = cJSON_CreateArray();
    char url[300] = "charts/";
    appstore_chart_file(v, url + 7, sizeof url - 7);
    cJSON *u = cJSON_CreateString(url);
    if (!e || !urls || !u ||
        !cJSON_AddStringToObject(e, "created", v->created) ||
        !cJSON_AddStringToObject(e, "digest", v->digest)) {
        cJSON_Delete(e);
        cJSON_Delete(urls);
        cJSON_Delete(u);
        return NULL;
    }
    cJSON_AddItemToArray(urls, u);
    cJSON_AddItemToObject(e, "urls", urls);
    return e;
}

/* One entry of a chart's version list. */
static void version(struct fg_buf *o, const struct appstore_version *v)
{
    cJSON *e = appstore_version_entry(v);
    if (!e) {
        o->oom = 1;
        return;
    }
    size_t n;
    const cJSON **m = sorted(e, &n);
    for (size_t i = 0; m && i < n; i++) {
        fg_buf_puts(o, i ? "    " : "  - ");
        fg_buf_puts(o, m[i]->string);
        fg_buf_put(o, ": ", 2);
        flow(o, m[i]);
        fg_buf_put(o, "\n", 1);
    }
    if (!m)
        o->oom = 1;
    free(m);
    cJSON_Delete(e);
}

const char *appstore_index(struct appstore_repo *r, const char *context_path,
                           size_t *len)
{
    if (r->index) {
        *len = r->index_len;
        return r->index;
    }
    struct fg_buf o = {0};
    fg_buf_puts(&o, "apiVersion: v1\nentries:");
    if (r->n == 0)
        fg_buf_puts(&o, " {}");
    fg_buf_put(&o, "\n", 1);
    for (size_t i = 0; i < r->n; i++) {
        const struct appstore_version *v = r->versions[i];
        if (i == 0 || strcmp(v->name, r->versions[i - 1]->name) != 0) {
            fg_buf_puts(&o, "  ");
            quoted(&o, v->name);
            fg_buf_puts(&o, ":\n");
        }
        version(&o, v);
    }
    char gen[40];
    appstore_now_rfc3339(gen);
    fg_buf_puts(&o, "generated: ");
    quoted(&o, gen);
    fg_buf_puts(&o, "\nserverInfo:\n  contextPath: ");
    quoted(&o, context_path);
    fg_buf_put(&o, "\n", 1);
    if (o.oom) {
        free(o.buf);
        return NULL;
    }
    r->index = o.buf;
    r->index_len = o.len;
    *len = o.len;
    return r->index;
}
