/* The headers the direct driver adds to what a member receives: its own
 * credentials (a bearer token; a client certificate is the client's TLS
 * business) and the impersonation of the authenticated user. The core's
 * client drops whatever the caller sent of these and checks every value
 * before it goes out. */
#include <string.h>

#include "direct.h"

static struct fg_header header(const char *name, const char *value)
{
    struct fg_header h = {name, strlen(name), value, strlen(value)};
    return h;
}

size_t direct_extra_max(const struct fg_identity *id)
{
    return 3 + (id ? id->n_groups : 0);
}

size_t direct_extra_headers(const char *authorization, int impersonate,
                            const struct fg_identity *id, struct fg_header *out)
{
    size_t n = 0;
    if (authorization)
        out[n++] = header("authorization", authorization);
    if (!impersonate || !id || !id->user)
        return n;
    out[n++] = header("impersonate-user", id->user);
    if (id->uid)
        out[n++] = header("impersonate-uid", id->uid);
    for (size_t i = 0; i < id->n_groups; i++)
        if (id->groups[i])
            out[n++] = header("impersonate-group", id->groups[i]);
    return n;
}
