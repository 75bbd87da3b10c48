/* The values of the tunnel handshake (tunnel.h): read from the peer's
 * headers and checked before either side acts on them. */
#include <stdio.h>
#include <string.h>

#include "tunnel.h"

int tunnel_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-'))
            return 0;
    return 1;
}

static int host_id_ok(const char *s, size_t len)
{
    if (len != TUNNEL_HOST_ID_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'f') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/* Bytes from FIRST to LAST, LEN between 1 and MAX. */
static int chars_ok(const char *s, size_t len, size_t max, char first,
                    char last)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < first || s[i] > last)
            return 0;
    return 1;
}

static int verdict_ok(const char *s, size_t len)
{
    return (len == 6 && memcmp(s, "joined", 6) == 0) ||
           (len == 7 && memcmp(s, "refused", 7) == 0);
}

struct field {
    const char *name;
    size_t off, cap;
    int (*ok)(const char *s, size_t len);
};

static int token_ok(const char *s, size_t len)
{
    return chars_ok(s, len, TUNNEL_TOKEN_MAX, '!', '~');
}

static int reason_ok(const char *s, size_t len)
{
    return chars_ok(s, len, TUNNEL_REASON_MAX, ' ', '~');
}

#define FIELD(n, m, f)                                                         \
    {                                                                          \
        n, offsetof(struct tunnel_hello, m),                                   \
            sizeof(((struct tunnel_hello *)0)->m), f                           \
    }

static const struct field fields[] = {
    FIELD(TUNNEL_H_HOST_ID, host_id, host_id_ok),
    FIELD(TUNNEL_H_MEMBER, member, tunnel_name_ok),
    FIELD(TUNNEL_H_TOKEN, token, token_ok),
    FIELD(TUNNEL_H_VERDICT, verdict, verdict_ok),
    FIELD(TUNNEL_H_REASON, reason, reason_ok),
};

int tunnel_hello_read(const struct fg_header *h, size_t n,
                      struct tunnel_hello *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            const struct field *fd = &fields[f];
            if (!fg_header_name_folds_to(h[i].name, h[i].name_len, fd->name, 0))
                continue;
            char *dst = (char *)out + fd->off;
            if (dst[0]) {
                snprintf(err, err_len, "%s given twice", fd->name);
                return -1;
            }
            if (!fd->ok(h[i].value, h[i].value_len) ||
                h[i].value_len >= fd->cap) {
                snprintf(err, err_len, "%s is not valid", fd->name);
                return -1;
            }
            memcpy(dst, h[i].value, h[i].value_len);
            dst[h[i].value_len] = 0;
        }
    }
    return 0;
}

void tunnel_reason_clean(char *out, const char *reason)
{
    size_t i = 0;
    for (; reason[i] && i < TUNNEL_REASON_MAX; i++)
        out[i] = reason[i] >= ' ' && reason[i] <= '~' ? reason[i] : '?';
    out[i] = 0;
}
