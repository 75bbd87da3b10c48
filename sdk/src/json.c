/* JSON string literals (util.h): the one escaper every Status body and
 * every hand-written JSON document of the core and the plugins goes
 * through. Escapes what RFC 8259 requires, with the short forms cJSON and
 * Go use, and keeps the text valid UTF-8 whatever the input holds. */
#include <fedgate/util.h>

#include <stdint.h>

/* Writes into OUT up to CAP bytes, counting everything in LEN: the caller
 * learns the full length even when the buffer is short. */
struct sink {
    char *out;
    size_t cap, len;
};

static void put(struct sink *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++, s->len++)
        if (s->len < s->cap)
            s->out[s->len] = p[i];
}

/* The length of the well-formed UTF-8 sequence at S (N bytes left), or 0
 * when it is not one: overlong forms, surrogates and code points past
 * U+10FFFF are not UTF-8 (RFC 3629 4). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return need;
}

size_t fg_json_quote(char *out, size_t cap, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    struct sink k = {out, cap ? cap - 1 : 0, 0};
    put(&k, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        const char *esc = NULL;
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            break;
        }
        if (esc) {
            put(&k, esc, 2);
            i++;
        } else if (c < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(&k, u, sizeof(u));
            i++;
        } else if (c < 0x80) {
            put(&k, (const char *)&s[i], 1);
            i++;
        } else {
            size_t m = utf8_len(s + i, n - i);
            if (m) {
                put(&k, (const char *)&s[i], m);
                i += m;
            } else {
                put(&k, "\\ufffd", 6);
                i++;
            }
        }
    }
    put(&k, "\"", 1);
    if (cap)
        out[k.len < k.cap ? k.len : k.cap] = '\0';
    return k.len;
}
