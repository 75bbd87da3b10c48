/* URL references of a chart repository (url_ref.h). */
#include "url_ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int appstore_location_ok(const char *v, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (v[i] <= 0x20 || v[i] >= 0x7f)
            return 0;
    return 1;
}

/* The length of S's scheme (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" /
 * "." ) before ':'), or 0 when S has none. */
static size_t scheme_len(const char *s)
{
    static const char alpha[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if (!*s || !strchr(alpha, *s))
        return 0;
    size_t n = 1 + strspn(s + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                                 "OPQRSTUVWXYZ0123456789+-.");
    return s[n] == ':' ? n : 0;
}

static char *join(const char *a, size_t a_len, const char *mid, const char *b)
{
    size_t n = a_len + strlen(mid) + strlen(b) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%.*s%s%s", (int)a_len, a, mid, b);
    return out;
}

char *appstore_url_resolve(const char *base, const char *ref)
{
    size_t scheme = scheme_len(base);
    if (!scheme || strncmp(base + scheme, "://", 3) != 0)
        return NULL;
    if (scheme_len(ref))
        return strdup(ref);
    if (ref[0] == '/' && ref[1] == '/')
        return join(base, scheme + 1, "", ref);
    const char *authority = base + scheme + 3;
    size_t path_at = (size_t)(authority - base) + strcspn(authority, "/?#");
    if (ref[0] == '/')
        return join(base, path_at, "", ref);
    if (!ref[0]) /* the base itself, without its fragment */
        return join(base, strcspn(base, "#"), "", "");
    size_t path_end = path_at + strcspn(base + path_at, "?#");
    if (ref[0] == '?')
        return join(base, path_end, "", ref);
    size_t dir = path_end;
    while (dir > path_at && base[dir - 1] != '/')
        dir--;
    if (dir == path_at) /* no path: the root's */
        return join(base, path_at, "/", ref);
    return join(base, dir, "", ref);
}
