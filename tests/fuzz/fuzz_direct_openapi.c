/* Fuzz target for the direct driver's OpenAPI v3 index rewrite (a
 * member's answer): whatever the bytes, the rewrite either refuses them
 * or inserts the base path the same number of times whatever the base,
 * and an empty base changes nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "direct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Insertions of BASE into DATA, or -1 when refused. */
static long run(const uint8_t *data, size_t size, const char *base)
{
    char *out = NULL;
    size_t len = 0;
    size_t blen = strlen(base);
    if (direct_openapi_rewrite((const char *)data, size, base, &out, &len) != 0)
        return -1;
    if (len < size || out[len] != 0)
        abort();
    if (blen == 0 && memcmp(out, data, size) != 0)
        abort();
    long n = blen ? (long)((len - size) / blen) : 0;
    if (blen && (len - size) % blen != 0)
        abort();
    free(out);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long a = run(data, size, "/clusters/fuzz");
    long b = run(data, size, "/c");
    long e = run(data, size, "");
    if ((a < 0) != (b < 0) || (a < 0) != (e < 0) || a != b)
        abort();
    return 0;
}
