/* The bearer token of a request's Authorization header (util.h). */
#include <string.h>
#include <strings.h>

#include <fedgate/util.h>

int fg_bearer_token(const struct fg_header *headers, size_t n,
                    const char **token, size_t *len)
{
    const struct fg_header *auth = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct fg_header *h = &headers[i];
        if (!fg_header_name_folds_to(h->name, h->name_len, "authorization", 0))
            continue;
        if (auth)
            return -1;
        auth = h;
    }
    if (!auth || auth->value_len < 8 ||
        strncasecmp(auth->value, "bearer ", 7) != 0)
        return 0;
    const char *t = auth->value + 7;
    const char *sp = memchr(t, ' ', auth->value_len - 7);
    *token = t;
    *len = sp ? (size_t)(sp - t) : auth->value_len - 7;
    return *len > 0;
}
