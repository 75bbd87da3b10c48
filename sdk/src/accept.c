/* Reading an Accept header the way kube-apiserver negotiates its
 * alternative renderings (meta.k8s.io Tables, aggregated discovery): one
 * media range at a time, its type application/json (or a wildcard), its
 * as=, g= and v= parameters compared exactly. */
#include <string.h>
#include <strings.h>

#include "fedgate/util.h"

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

static int exact_eq(const char *s, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(e - s) == n && memcmp(s, lit, n) == 0;
}

/* One media range: the index + 1 in VERSIONS of its v=, when it names
 * AS and G; else 0. */
static int media_range(const char *s, const char *end, const char *as,
                       const char *g, const char *const *versions)
{
    const char *semi = memchr(s, ';', (size_t)(end - s));
    const char *te;
    const char *t = trim(s, semi ? semi : end, &te);
    if (!token_eq(t, te, "application/json") && !token_eq(t, te, "*/*") &&
        !token_eq(t, te, "application/*"))
        return 0;
    int as_ok = 0, g_ok = 0, v = 0;
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
        if (token_eq(k, ke, "as")) {
            as_ok = exact_eq(val, ve, as);
        } else if (token_eq(k, ke, "g")) {
            g_ok = token_eq(val, ve, g);
        } else if (token_eq(k, ke, "v")) {
            v = 0;
            for (int i = 0; versions[i]; i++)
                if (token_eq(val, ve, versions[i]))
                    v = i + 1;
        }
    }
    return as_ok && g_ok ? v : 0;
}

int fg_accept_find(const char *accept, size_t len, const char *as,
                   const char *g, const char *const *versions)
{
    if (!accept)
        return 0;
    const char *end = accept + len;
    for (const char *p = accept; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        int v = media_range(p, e, as, g, versions);
        if (v)
            return v;
        p = comma ? comma + 1 : end;
    }
    return 0;
}
