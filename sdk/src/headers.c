/* The headers that never cross the gateway (util.h), one list for the core
 * (which strips them from every request and answer) and for drivers (which
 * check again before a member sees a request, whatever the core did). */
#include <fedgate/util.h>

int fg_header_is_hop_by_hop(const char *name, size_t len)
{
    static const char *const names[] = {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
        "http2-settings",
        "host",
        "content-length",
        /* The gateway answered 100-continue itself: a member told to
         * expect would wait for a client that is already sending. */
        "expect",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (fg_header_name_folds_to(name, len, names[i], 0))
            return 1;
    return 0;
}

int fg_header_is_identity(const char *name, size_t len)
{
    return fg_header_name_folds_to(name, len, "authorization", 0) ||
           fg_header_name_folds_to(name, len, "impersonate-", 1) ||
           fg_header_name_folds_to(name, len, "x-remote-", 1);
}

int fg_header_named_by_connection(const struct fg_header *headers, size_t n,
                                  const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const struct fg_header *h = &headers[i];
        if (!fg_header_name_folds_to(h->name, h->name_len, "connection", 0))
            continue;
        const char *p = h->value, *end = h->value + h->value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
                p++;
            const char *tok = p;
            while (p < end && *p != ',' && *p != ' ' && *p != '\t')
                p++;
            char folded[64];
            size_t tl = (size_t)(p - tok);
            if (tl == 0 || tl >= sizeof(folded))
                continue;
            for (size_t k = 0; k < tl; k++) {
                char c = tok[k];
                folded[k] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a')
                            : c == '_'           ? '-'
                                                 : c;
            }
            folded[tl] = '\0';
            if (fg_header_name_folds_to(name, len, folded, 0))
                return 1;
        }
    }
    return 0;
}

int fg_header_is_protected(const struct fg_header *headers, size_t n,
                           const struct fg_header *h)
{
    return fg_header_is_hop_by_hop(h->name, h->name_len) ||
           fg_header_is_identity(h->name, h->name_len) ||
           fg_header_named_by_connection(headers, n, h->name, h->name_len);
}
