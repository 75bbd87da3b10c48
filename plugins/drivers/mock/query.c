/* Reading what a request asks for beyond its path: query parameters
 * (percent-decoded, as kube-apiserver reads them) and the Accept header's
 * meta.k8s.io Table media types that kubectl sends for `get`. */
#include <string.h>
#include <strings.h>

#include "mock.h"

int mock_query_get(const char *q, const char *key, char *buf, size_t len)
{
    if (!q)
        return 0;
    size_t klen = strlen(key);
    const char *p = q;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t nlen = eq ? (size_t)(eq - p) : n;
        if (nlen == klen && memcmp(p, key, klen) == 0) {
            if (!eq) {
                if (len == 0)
                    return -1;
                buf[0] = '\0';
                return 1;
            }
            return fg_percent_decode(buf, len, eq + 1, n - nlen - 1,
                                     FG_PCT_PLUS_SPACE) < 0
                       ? -1
                       : 1;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return 0;
}

int mock_parse_bool(const char *s)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(s, yes[i]) == 0)
            return 1;
        if (strcmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

static const char *trim(const char *s, const char *end, const char **out_end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *out_end = end;
    return s;
}

static int token_eq(const char *s, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(e - s) == n && strncasecmp(s, lit, n) == 0;
}

/* One media range "application/json;as=Table;v=v1;g=meta.k8s.io":
 * the Table version it names, or NONE. */
static enum mock_table_version media_table(const char *s, const char *end)
{
    const char *semi = memchr(s, ';', (size_t)(end - s));
    const char *te;
    const char *t = trim(s, semi ? semi : end, &te);
    if (!token_eq(t, te, "application/json") && !token_eq(t, te, "*/*") &&
        !token_eq(t, te, "application/*"))
        return MOCK_TABLE_NONE;
    int as = 0, g = 0;
    enum mock_table_version v = MOCK_TABLE_NONE;
    while (semi) {
        const char *p = semi + 1;
        semi = memchr(p, ';', (size_t)(end - p));
        const char *pe;
        p = trim(p, semi ? semi : end, &pe);
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (!eq)
            continue;
        const char *ke, *ve;
        const char *k = trim(p, eq, &ke);
        const char *val = trim(eq + 1, pe, &ve);
        if (token_eq(k, ke, "as"))
            as = (size_t)(ve - val) == 5 && memcmp(val, "Table", 5) == 0;
        else if (token_eq(k, ke, "g"))
            g = token_eq(val, ve, "meta.k8s.io");
        else if (token_eq(k, ke, "v"))
            v = token_eq(val, ve, "v1")        ? MOCK_TABLE_V1
                : token_eq(val, ve, "v1beta1") ? MOCK_TABLE_V1BETA1
                                               : MOCK_TABLE_NONE;
    }
    return as && g ? v : MOCK_TABLE_NONE;
}

enum mock_table_version mock_accept_table(const char *accept, size_t len)
{
    if (!accept)
        return MOCK_TABLE_NONE;
    const char *end = accept + len;
    const char *p = accept;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        enum mock_table_version v = media_table(p, e);
        if (v != MOCK_TABLE_NONE)
            return v;
        p = comma ? comma + 1 : end;
    }
    return MOCK_TABLE_NONE;
}
