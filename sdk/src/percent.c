/* Percent-decoding (RFC 3986 2.1) for the core and the plugins (util.h):
 * query values, request-info segments, path segments. What a caller then
 * refuses in the decoded bytes (an encoded slash in a path segment, say)
 * is the caller's rule, not the decoder's. */
#include <fedgate/util.h>

int fg_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long fg_percent_decode(char *out, size_t cap, const char *in, size_t len,
                       unsigned flags)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int hi = i + 2 < len ? fg_hex_digit((unsigned char)in[i + 1]) : -1;
            int lo = hi < 0 ? -1 : fg_hex_digit((unsigned char)in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (char)(hi << 4 | lo);
                i += 2;
            }
        } else if (c == '+' && (flags & FG_PCT_PLUS_SPACE)) {
            c = ' ';
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    if (cap == 0)
        return -1;
    out[o] = '\0';
    return (long)o;
}
