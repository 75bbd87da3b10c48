/* A query parameter as kube-apiserver reads it: the first KEY=VALUE pair,
 * its value percent-decoded with '+' as a space. */
#include <string.h>

#include "fedgate/util.h"

int fg_query_get(const char *q, const char *key, char *buf, size_t len)
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
