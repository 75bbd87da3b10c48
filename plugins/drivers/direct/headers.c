/* The headers the direct driver adds to what a member receives: its own
 * credentials (a bearer token; a client certificate is the client's TLS
 * business) and the impersonation of the authenticated user (util.h). The
 * core's client drops whatever the caller sent of these and checks every
 * value before it goes out. */
#include <string.h>

#include "direct.h"

size_t direct_extra_max(const struct fg_identity *id)
{
    return 1 + fg_impersonate_max(id);
}

size_t direct_extra_names_bytes(const struct fg_identity *id)
{
    return fg_impersonate_names_bytes(id);
}

size_t direct_extra_headers(const char *authorization, int impersonate,
                            const struct fg_identity *id, struct fg_header *out,
                            char *names)
{
    size_t n = 0;
    if (authorization)
        out[n++] = (struct fg_header){"authorization", 13, authorization,
                                      strlen(authorization)};
    if (impersonate)
        n += fg_impersonate_headers(id, out + n, names);
    return n;
}
