/* Plain manifests (manifest.h): a template file that holds no template
 * action cut into its YAML documents, each one read far enough to know
 * what object it is, and Helm's manifest text (the documents joined under
 * "# Source:" comments) built from them and read back. Every name that
 * ends up in a member's path is checked here, as the member would. */
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/yaml.h>

#include "catalog.h"

/* one document of a manifest: deep enough for any object, bounded */
#define DOC_MAX_DEPTH 64
#define DOC_MAX_NODES 100000

static int lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int appstore_dns_label(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!lower_alnum(s[i]) && s[i] != '-')
            return 0;
    return 1;
}

/* An RFC 1123 subdomain: DNS labels joined by dots, 253 bytes at most. */
static int dns_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return 0;
    for (const char *p = s;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char label[254];
        memcpy(label, p, len);
        label[len] = 0;
        if (!appstore_dns_label(label, 63))
            return 0;
        if (!dot)
            return 1;
        p = dot + 1;
    }
}

/* apiVersion: "V" or "GROUP/V", a DNS subdomain group and a version of
 * lower-case letters and digits. */
static int api_version_ok(const char *s)
{
    const char *slash = strchr(s, '/');
    const char *v = slash ? slash + 1 : s;
    if (slash) {
        char group[254];
        size_t len = (size_t)(slash - s);
        if (len >= sizeof(group))
            return 0;
        memcpy(group, s, len);
        group[len] = 0;
        if (!dns_subdomain(group))
            return 0;
    }
    if (!*v || strlen(v) > 63)
        return 0;
    for (; *v; v++)
        if (!lower_alnum(*v))
            return 0;
    return 1;
}

static int kind_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || !(s[0] >= 'A' && s[0] <= 'Z'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

static const char *scalar(const struct fg_yaml_node *m, const char *key)
{
    const struct fg_yaml_node *v = m ? fg_yaml_get(m, key) : NULL;
    return v && v->type == FG_YAML_SCALAR && !fg_yaml_is_null(v) ? v->text
                                                                 : NULL;
}

/* Whether TEXT (LEN bytes) holds nothing but blanks and comments. */
static int empty_doc(const char *text, size_t len)
{
    int comment = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n')
            comment = 0;
        else if (c == '#')
            comment = 1;
        else if (!comment && c != ' ' && c != '\t' && c != '\r')
            return 0;
    }
    return 1;
}

/* Reads the document TEXT (LEN bytes, starting on line LINE of SOURCE)
 * into D: what object it is. */
static int identify(struct appstore_doc *d, const char *source, int line,
                    char *err, size_t len)
{
    struct fg_yaml_node **docs = NULL;
    char where[300];
    snprintf(where, sizeof(where), "%s", source);
    long n = fg_yaml_parse(d->text, d->len, where, DOC_MAX_DEPTH, DOC_MAX_NODES,
                           &docs, err, len);
    if (n < 0)
        return -1;
    int rc = 0;
    const struct fg_yaml_node *root = n == 1 ? docs[0] : NULL;
    const struct fg_yaml_node *meta = root ? fg_yaml_get(root, "metadata") : 0;
    const char *api = scalar(root, "apiVersion"), *kind = scalar(root, "kind");
    const char *name = scalar(meta, "name"), *ns = scalar(meta, "namespace");
    if (!root || root->type != FG_YAML_MAP)
        rc = appstore_refuse(
            err, len, -1, "%s:%d: a document is not one object", source, line);
    else if (!api || !api_version_ok(api))
        rc = appstore_refuse(err, len, -1,
                             "%s:%d: apiVersion: missing or invalid", source,
                             line);
    else if (!kind || !kind_ok(kind))
        rc = appstore_refuse(err, len, -1, "%s:%d: kind: missing or invalid",
                             source, line);
    else if (!name || !dns_subdomain(name))
        rc = appstore_refuse(
            err, len, -1,
            "%s:%d: metadata.name: missing or not a DNS-1123 subdomain", source,
            line);
    else if (ns && !appstore_dns_label(ns, 63))
        rc = appstore_refuse(err, len, -1,
                             "%s:%d: metadata.namespace: not a DNS-1123 label",
                             source, line);
    else if (!(d->api_version = strdup(api)) || !(d->kind = strdup(kind)) ||
             !(d->name = strdup(name)) || (ns && !(d->ns = strdup(ns))))
        rc = appstore_refuse(err, len, -1, "out of memory");
    fg_yaml_free_docs(docs, n > 0 ? (size_t)n : 0);
    return rc;
}

static void doc_free(struct appstore_doc *d)
{
    free(d->source);
    free(d->text);
    free(d->api_version);
    free(d->kind);
    free(d->name);
    free(d->ns);
}

void appstore_manifest_free(struct appstore_manifest *m)
{
    for (size_t i = 0; i < m->n; i++)
        doc_free(&m->v[i]);
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

/* Appends TEXT[0..LEN) of SOURCE, from line LINE, when it is a document. */
static int add_doc(struct appstore_manifest *m, const char *source,
                   const char *text, size_t len, int line, char *err,
                   size_t err_len)
{
    if (empty_doc(text, len))
        return 0;
    if (m->n == APPSTORE_MANIFEST_MAX_DOCS)
        return appstore_refuse(err, err_len, -1, "%s: more than %d documents",
                               source, APPSTORE_MANIFEST_MAX_DOCS);
    struct appstore_doc *v = realloc(m->v, (m->n + 1) * sizeof(*v));
    if (!v)
        return appstore_refuse(err, err_len, -1, "out of memory");
    m->v = v;
    struct appstore_doc *d = &v[m->n];
    *d = (struct appstore_doc){0};
    d->source = strdup(source);
    d->text = malloc(len + 1);
    if (!d->source || !d->text) {
        doc_free(d);
        return appstore_refuse(err, err_len, -1, "out of memory");
    }
    memcpy(d->text, text, len);
    d->text[len] = 0;
    d->len = len;
    if (identify(d, source, line, err, err_len) < 0) {
        doc_free(d);
        return -1;
    }
    m->n++;
    return 0;
}

/* Whether the line at P (up to END) is a document marker: "---" or "..."
 * alone or followed by blanks (or, for "---", by a blank and content,
 * which YAML allows but manifests do not use: refused as ambiguous). */
static int marker(const char *p, const char *end, char c)
{
    if (end - p < 3 || p[0] != c || p[1] != c || p[2] != c)
        return 0;
    for (p += 3; p < end && *p != '\n'; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return -1;
    return 1;
}

int appstore_manifest_split(struct appstore_manifest *m, const char *source,
                            const char *text, size_t len, char *err,
                            size_t err_len)
{
    const char *end = text + len, *doc = text, *p = text;
    int line = 1, doc_line = 1;
    if (memchr(text, 0, len))
        return appstore_refuse(err, err_len, -1, "%s: a NUL byte", source);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        int dash = marker(p, end, '-'), dots = marker(p, end, '.');
        if (dash < 0 || dots < 0)
            return appstore_refuse(err, err_len, -1,
                                   "%s:%d: content after a document marker",
                                   source, line);
        if (dash || dots) {
            if (add_doc(m, source, doc, (size_t)(p - doc), doc_line, err,
                        err_len) < 0)
                return -1;
            doc = next;
            doc_line = line + 1;
        }
        p = next;
        line++;
    }
    return add_doc(m, source, doc, (size_t)(end - doc), doc_line, err, err_len);
}

char *appstore_manifest_text(const struct appstore_manifest *m, size_t *len)
{
    size_t n = 1;
    for (size_t i = 0; i < m->n; i++)
        n += strlen(m->v[i].source) + m->v[i].len + 20;
    char *out = malloc(n), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < m->n; i++) {
        const struct appstore_doc *d = &m->v[i];
        p += sprintf(p, "---\n# Source: %s\n", d->source);
        memcpy(p, d->text, d->len);
        p += d->len;
        if (d->len && d->text[d->len - 1] != '\n')
            *p++ = '\n';
    }
    *p = 0;
    *len = (size_t)(p - out);
    return out;
}

int appstore_manifest_read(struct appstore_manifest *m, const char *text,
                           size_t len, char *err, size_t err_len)
{
    return appstore_manifest_split(m, "manifest", text, len, err, err_len);
}

int appstore_manifest_has(const struct appstore_manifest *m,
                          const struct appstore_doc *d)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct appstore_doc *e = &m->v[i];
        if (strcmp(e->api_version, d->api_version) == 0 &&
            strcmp(e->kind, d->kind) == 0 && strcmp(e->name, d->name) == 0 &&
            strcmp(e->ns ? e->ns : "", d->ns ? d->ns : "") == 0)
            return 1;
    }
    return 0;
}

int appstore_doc_path(const cJSON *discovery, const struct appstore_doc *d,
                      const char *ns, char *out, size_t cap)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(discovery, d->api_version),
        "resources");
    const cJSON *res;
    cJSON_ArrayForEach(res, list)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(res, "name");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(res, "kind");
        if (!cJSON_IsString(name) || !cJSON_IsString(kind) ||
            strcmp(kind->valuestring, d->kind) != 0 ||
            strchr(name->valuestring, '/'))
            continue;
        int namespaced =
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "namespaced"));
        int n = snprintf(out, cap, "%s%s%s%s/%s/%s",
                         strchr(d->api_version, '/') ? "/apis/" : "/api/",
                         d->api_version, namespaced ? "/namespaces/" : "",
                         namespaced ? (d->ns ? d->ns : ns) : "",
                         name->valuestring, d->name);
        return n > 0 && (size_t)n < cap ? 0 : -1;
    }
    return -1;
}
