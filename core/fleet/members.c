/* The fleet as a service plugin sees it (host.h fleet_members, ABI 2.4):
 * each member's name, labels and readiness, taken from the Cluster
 * objects, so that a service and `kubectl get clusters` never disagree. */
#include "fleet/fleet.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static int ready_of(const cJSON *cluster)
{
    const cJSON *conds = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cluster, "status"), "conditions");
    const cJSON *c;
    cJSON_ArrayForEach(c, conds)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(c, "status");
        if (cJSON_IsString(type) && strcmp(type->valuestring, "Ready") == 0)
            return cJSON_IsString(st) && strcmp(st->valuestring, "True") == 0;
    }
    return 0;
}

char *fg_fleet_members(struct fg_fleet *f, uint64_t *rv)
{
    cJSON *items = NULL;
    if (fg_fleet_snapshot(f, &items, rv) < 0)
        return NULL;
    cJSON *out = cJSON_CreateArray();
    const cJSON *c;
    cJSON_ArrayForEach(c, items)
    {
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(c, "metadata");
        cJSON *m = cJSON_CreateObject();
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
        if (!out || !m || !cJSON_AddItemToArray(out, m)) {
            cJSON_Delete(m);
            break;
        }
        cJSON_AddItemToObject(
            m, "name",
            cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(meta, "name"), 0));
        cJSON_AddItemToObject(m, "labels",
                              labels ? cJSON_Duplicate(labels, 1)
                                     : cJSON_CreateObject());
        cJSON_AddBoolToObject(m, "ready", ready_of(c));
    }
    cJSON_Delete(items);
    char *text = out ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    return text;
}
