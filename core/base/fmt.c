/* Hand-written decimal and hex formatting for the per-request path (why:
 * fmt.h). */
#include "base/fmt.h"

size_t fg_fmt_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

size_t fg_fmt_i64(char *out, int64_t v)
{
    if (v >= 0)
        return fg_fmt_u64(out, (uint64_t)v);
    out[0] = '-';
    /* -(v + 1) + 1 stays in range for INT64_MIN */
    return 1 + fg_fmt_u64(out + 1, (uint64_t)(-(v + 1)) + 1);
}

char *fg_fmt_hex(char *out, uint64_t v, unsigned width)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = width; i > 0; i--) {
        out[i - 1] = digits[v & 0xf];
        v >>= 4;
    }
    return out + width;
}
