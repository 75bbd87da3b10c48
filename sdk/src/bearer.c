/* The token of a request's Authorization header (util.h): Bearer as
 * kube-apiserver reads it, and Basic (RFC 7617) whose password is the
 * token, as Helm and other repository clients send one. */
#include <string.h>
#include <strings.h>

#include <fedgate/util.h>

/* The one Authorization header in *AUTH: 1, 0 when none, -1 when two. */
static int authorization(const struct fg_header *headers, size_t n,
                         const struct fg_header **auth)
{
    *auth = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct fg_header *h = &headers[i];
        if (!fg_header_name_folds_to(h->name, h->name_len, "authorization", 0))
            continue;
        if (*auth)
            return -1;
        *auth = h;
    }
    return *auth != NULL;
}

static int bearer(const struct fg_header *auth, const char **token, size_t *len)
{
    if (auth->value_len < 8 || strncasecmp(auth->value, "bearer ", 7) != 0)
        return 0;
    const char *t = auth->value + 7;
    const char *sp = memchr(t, ' ', auth->value_len - 7);
    *token = t;
    *len = sp ? (size_t)(sp - t) : auth->value_len - 7;
    return *len > 0;
}

int fg_bearer_token(const struct fg_header *headers, size_t n,
                    const char **token, size_t *len)
{
    const struct fg_header *auth;
    int found = authorization(headers, n, &auth);
    return found <= 0 ? found : bearer(auth, token, len);
}

int fg_request_token(const struct fg_header *headers, size_t n, char *buf,
                     size_t cap, const char **token, size_t *len)
{
    const struct fg_header *auth;
    int found = authorization(headers, n, &auth);
    if (found <= 0)
        return found;
    if (auth->value_len < 7 || strncasecmp(auth->value, "basic ", 6) != 0)
        return bearer(auth, token, len);
    long got =
        fg_base64_decode(buf, cap, auth->value + 6, auth->value_len - 6, 0);
    if (got <= 0 || memchr(buf, 0, (size_t)got))
        return 0;
    const char *colon = memchr(buf, ':', (size_t)got);
    if (!colon || colon + 1 == buf + got)
        return 0;
    *token = colon + 1;
    *len = (size_t)(buf + got - *token);
    return 1;
}
