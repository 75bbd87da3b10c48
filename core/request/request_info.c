/* Request info as kube-apiserver derives it (see request_info.h): the same
 * path shapes, special verbs and list/watch/deletecollection rules, so that
 * a rule written for Kubernetes RBAC means the same here. */
#include "request/request_info.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fedgate/util.h>

/* Decodes LEN bytes of SRC into DST (NUL-terminated); PLUS_IS_SPACE for
 * query components (form encoding). A malformed escape is kept as it is:
 * these values name things, nothing is routed on them. DST has room for
 * LEN + 1 bytes, which decoding never exceeds. Returns the byte after the
 * NUL. */
static char *decode(const char *src, size_t len, int plus_is_space, char *dst)
{
    long n = fg_percent_decode(dst, len + 1, src, len,
                               plus_is_space ? FG_PCT_PLUS_SPACE : 0);
    return dst + n + 1;
}

/* The first value of KEY in QUERY, decoded into DST; NULL if absent. */
static const char *query_value(const char *query, const char *key, char **dst)
{
    size_t klen = strlen(key);
    for (const char *q = query; q && *q;) {
        const char *end = strchr(q, '&');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t name_len = eq ? (size_t)(eq - q) : len;
        if (name_len == klen && memcmp(q, key, klen) == 0) {
            const char *v = eq ? eq + 1 : q + len;
            char *out = *dst;
            *dst = decode(v, (size_t)(q + len - v), 1, out);
            return out;
        }
        q = end ? end + 1 : NULL;
    }
    return NULL;
}

/* The value a field selector requires of metadata.name ("metadata.name=x"
 * or "==x" among comma-separated terms, with backslash escapes), decoded in
 * place in SEL; NULL if it requires none. */
static const char *selector_name(char *sel)
{
    static const char field[] = "metadata.name";
    char *term = sel;
    while (term) {
        /* Find the end of this term: an unescaped comma. */
        char *p = term, *out = term, *value = NULL;
        int op_ok = 0;
        for (; *p && *p != ','; p++) {
            if (*p == '\\' && p[1]) {
                *out++ = *++p;
                continue;
            }
            if (!value && (*p == '=' || *p == '!')) {
                int neg = *p == '!';
                if (neg && p[1] != '=')
                    break;
                *out++ = '\0';
                p += neg || p[1] == '=';
                op_ok = !neg;
                value = out;
                continue;
            }
            *out++ = *p;
        }
        char *next = *p == ',' ? p + 1 : NULL;
        *out = '\0';
        if (value && op_ok && strcmp(term, field) == 0)
            return value;
        term = next;
    }
    return NULL;
}

static int is_special_verb(const char *s)
{
    return strcmp(s, "proxy") == 0 || strcmp(s, "watch") == 0;
}

static int is_namespace_subresource(const char *s)
{
    return strcmp(s, "status") == 0 || strcmp(s, "finalize") == 0;
}

static const char *verb_of_method(const char *method)
{
    static const struct {
        const char *method, *verb;
    } map[] = {{"POST", "create"}, {"GET", "get"},     {"HEAD", "get"},
               {"PUT", "update"},  {"PATCH", "patch"}, {"DELETE", "delete"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(method, map[i].method) == 0)
            return map[i].verb;
    return "";
}

int fg_request_info_parse(struct fg_arena *arena, const char *method,
                          const char *path, const char *query,
                          struct fg_request_info *out)
{
    memset(out, 0, sizeof(*out));
    out->verb = out->api_prefix = out->api_group = out->api_version = "";
    out->namespace_ = out->resource = out->subresource = out->name = "";
    out->path = path;

    size_t plen = strlen(path), mlen = strlen(method);
    size_t qlen = query ? strlen(query) : 0;
    /* Decoded segments, the lower-case method and two query values all fit
     * in the lengths of their sources plus their NULs. */
    size_t nseg_max = plen / 2 + 2;
    char *buf = fg_arena_alloc(arena, plen + 1 + mlen + 1 + 2 * (qlen + 1) + 1);
    const char **seg = malloc(nseg_max * sizeof(*seg));
    if (!buf || !seg) {
        free(seg);
        return -1;
    }
    char *w = buf;

    char *lower = w;
    for (size_t i = 0; i < mlen; i++)
        *w++ = (char)tolower((unsigned char)method[i]);
    *w++ = '\0';
    out->verb = lower; /* non-resource until proven otherwise */

    size_t n = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        if (p > start && n < nseg_max) {
            seg[n++] = w;
            w = decode(start, (size_t)(p - start), 0, w);
        }
    }

    size_t i = 0;
    /* KubeSphere's /kapis is a grouped prefix too (its RequestInfoFactory
     * lists api, apis, kapis), so RBAC reads its paths as resources */
    if (n < 3)
        goto done;
    int grouped = strcmp(seg[0], "apis") == 0 || strcmp(seg[0], "kapis") == 0;
    if (strcmp(seg[0], "api") != 0 && !grouped)
        goto done;
    out->api_prefix = seg[i++];
    if (grouped) {
        if (n - i < 3)
            goto done; /* /apis/G/V is discovery, not a resource */
        out->api_group = seg[i++];
    }
    out->is_resource = 1;
    out->api_version = seg[i++];

    if (is_special_verb(seg[i])) {
        if (n - i < 2)
            goto done; /* kube-apiserver: cannot tell kind and namespace */
        out->verb = seg[i++];
    } else {
        out->verb = verb_of_method(method);
    }

    if (strcmp(seg[i], "namespaces") == 0) {
        if (n - i > 1) {
            out->namespace_ = seg[i + 1];
            if (n - i > 2 && !is_namespace_subresource(seg[i + 2]))
                i += 2;
        }
    }
    size_t parts = n - i;
    if (parts >= 3 && strcmp(out->verb, "proxy") != 0)
        out->subresource = seg[i + 2];
    if (parts >= 2)
        out->name = seg[i + 1];
    if (parts >= 1)
        out->resource = seg[i];

    if (!out->name[0] && strcmp(out->verb, "get") == 0) {
        const char *watch = query_value(query, "watch", &w);
        int yes =
            watch && strcasecmp(watch, "false") != 0 && strcmp(watch, "0") != 0;
        out->verb = yes ? "watch" : "list";
    }
    if (!out->name[0] &&
        (strcmp(out->verb, "list") == 0 || strcmp(out->verb, "watch") == 0)) {
        char *sel = (char *)query_value(query, "fieldSelector", &w);
        const char *name = sel ? selector_name(sel) : NULL;
        if (name)
            out->name = name;
    }
    if (!out->name[0] && strcmp(out->verb, "delete") == 0)
        out->verb = "deletecollection";
done:
    free(seg);
    return 0;
}

int fg_request_info_is_upgradable(const struct fg_request_info *ri)
{
    if (!ri->is_resource || ri->api_group[0] || !ri->name[0])
        return 0;
    const char *r = ri->resource, *s = ri->subresource;
    if (strcmp(r, "pods") == 0)
        return strcmp(s, "exec") == 0 || strcmp(s, "attach") == 0 ||
               strcmp(s, "portforward") == 0 || strcmp(s, "proxy") == 0;
    return (strcmp(r, "services") == 0 || strcmp(r, "nodes") == 0) &&
           strcmp(s, "proxy") == 0;
}
