/* Fuzz target for the mock driver's server-side apply: the input is an
 * apply body (YAML or JSON, as apply.c reads it); when it is an object it
 * is applied, forced and not, onto a stored Deployment the way managed.c
 * applies a client's configuration, and the field sets and names of the
 * result are computed; a copy is checked by field validation (fields.c)
 * as a create's body is. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char live_json[] =
    "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\",\"metadata\":{"
    "\"name\":\"d\",\"namespace\":\"n\",\"managedFields\":[{\"manager\":"
    "\"other\",\"operation\":\"Update\",\"apiVersion\":\"apps/v1\","
    "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:replicas\":{},"
    "\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":"
    "\\\"web\\\"}\":{\".\":{},\"f:image\":{}}}}}}}}]},\"spec\":{\"replicas\":"
    "1,\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
    "\"nginx\"}]}}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *cfg = NULL;
    char err[256];
    if (mock_apply_parse((const char *)data, size, &cfg, err, sizeof(err)) != 0)
        return 0;
    const struct mock_kind *k =
        mock_kind_by_resource("apps", "v1", "deployments");
    cJSON *live = cJSON_Parse(live_json);
    cJSON *copy = cJSON_Duplicate(cfg, 1);
    cJSON *unknown = NULL;
    if (cJSON_IsObject(copy))
        mock_fields_check(k, copy, &unknown, err, sizeof(err));
    cJSON_Delete(unknown);
    cJSON_Delete(copy);
    if (cJSON_IsObject(cfg) && live) {
        for (int force = 0; force < 2; force++) {
            struct mock_apply r;
            if (mock_managed_apply(k, "fuzz", force, "2026-01-01T00:00:00Z",
                                   live, cfg, &r) == 0) {
                cJSON *fs = mock_fs_of(k, NULL, r.merged);
                cJSON *paths = fs ? mock_fs_paths(fs) : NULL;
                cJSON_Delete(paths);
                cJSON_Delete(fs);
            }
            mock_apply_free(&r);
        }
    }
    cJSON_Delete(live);
    cJSON_Delete(cfg);
    return 0;
}
