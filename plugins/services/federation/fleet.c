/* The fleet as the service sees it (placement.h, fedgate/fleet_view.h):
 * when the names, labels or readiness of the members changed, every
 * federated object is queued, since any placement by selector or any
 * not-ready cluster may have changed with it. */
#include <stddef.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <fedgate/fleet_view.h>
#include <fedgate/util.h>

#include "federation.h"
#include "placement.h"

#define FLEET_POLL_MS 1000

static int queue_one(void *arg, const cJSON *obj)
{
    struct federation *f = ((void **)arg)[0];
    const struct fg_object_kind *k = ((void **)arg)[1];
    const cJSON *ns = fg_json_path(obj, "metadata.namespace");
    const cJSON *name = fg_json_path(obj, "metadata.name");
    if (cJSON_IsString(ns) && cJSON_IsString(name))
        fed_enqueue(f, k, ns->valuestring, name->valuestring);
    return 0;
}

void fed_queue_all(struct federation *f)
{
    for (size_t i = 0; i < FED_N_TYPES; i++) {
        void *ctx[2] = {f, (void *)&fed_kinds[i]};
        fg_objects_each(f->objects, &fed_kinds[i], queue_one, ctx);
    }
}

static void fleet_moved(void *arg)
{
    fed_queue_all(arg);
}

int fed_fleet_start(struct federation *f)
{
    f->fleet = fg_fleet_view_new(f->host, FLEET_POLL_MS, fleet_moved, f);
    return f->fleet ? 0 : -1;
}

void fed_fleet_stop(struct federation *f)
{
    fg_fleet_view_free(f->fleet);
    f->fleet = NULL;
}
