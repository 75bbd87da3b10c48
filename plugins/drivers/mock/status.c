/* Kubernetes Status documents for the mock's failures, field for field as
 * kube-apiserver writes them, so kubectl and client libraries print the
 * same lines they print for a real cluster. */
#include <stdio.h>

#include "mock.h"

char *mock_status_json(int code, const char *reason, const char *message,
                       const char *name, const struct mock_kind *k)
{
    cJSON *st = cJSON_CreateObject();
    if (!st)
        return NULL;
    cJSON_AddStringToObject(st, "kind", "Status");
    cJSON_AddStringToObject(st, "apiVersion", "v1");
    cJSON_AddObjectToObject(st, "metadata");
    cJSON_AddStringToObject(st, "status", "Failure");
    cJSON_AddStringToObject(st, "message", message);
    cJSON_AddStringToObject(st, "reason", reason);
    cJSON *details = cJSON_AddObjectToObject(st, "details");
    if (details && name)
        cJSON_AddStringToObject(details, "name", name);
    if (details && k) {
        if (k->group[0])
            cJSON_AddStringToObject(details, "group", k->group);
        cJSON_AddStringToObject(details, "kind", k->resource);
    }
    cJSON_AddNumberToObject(st, "code", code);
    char *out = cJSON_PrintUnformatted(st);
    cJSON_Delete(st);
    return out;
}

char *mock_status_not_found(const struct mock_kind *k, const char *name)
{
    char q[128], msg[512];
    snprintf(msg, sizeof(msg), "%s \"%s\" not found",
             mock_kind_qualified(k, q, sizeof(q)), name);
    return mock_status_json(404, "NotFound", msg, name, k);
}
