/* Kubernetes Status documents for the mock's failures, field for field as
 * kube-apiserver writes them, so kubectl and client libraries print the
 * same lines they print for a real cluster. */
#include <stdio.h>

#include "mock.h"

char *mock_status_json(int code, const char *reason, const char *message,
                       const char *name, const struct mock_kind *k)
{
    /* apimachinery's errors always carry details, "{}" at least. */
    struct fg_status st = {
        .code = code,
        .message = message,
        .reason = reason,
        .name = name,
        .group = k ? k->group : NULL,
        .kind = k ? k->resource : NULL,
        .always_details = 1,
    };
    return fg_status_build(&st, NULL);
}

char *mock_status_not_found(const struct mock_kind *k, const char *name)
{
    char q[128], msg[512];
    snprintf(msg, sizeof(msg), "%s \"%s\" not found",
             mock_kind_qualified(k, q, sizeof(q)), name);
    return mock_status_json(404, "NotFound", msg, name, k);
}
