/* The fleet as the service sees it (placement.h): host.h fleet_members,
 * read again whenever fleet_version moved (polled each second, a mutex
 * and a compare in the core); when the names, labels or readiness of the
 * members changed, every federated object is queued, since any placement
 * by selector or any not-ready cluster may have changed with it. */
#include <stddef.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
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

static void poll_fleet(void *arg)
{
    struct federation *f = arg;
    const struct fg_host *h = f->host;
    uint64_t v = h->fleet_version(h);
    if (!f->members || v != f->fleet_version) {
        uint64_t read_at = 0;
        char *text = h->fleet_members(h, &read_at);
        cJSON *m = text ? cJSON_Parse(text) : NULL;
        free(text);
        if (m) {
            int changed = !f->members || !cJSON_Compare(m, f->members, 1);
            cJSON_Delete(f->members);
            f->members = m;
            f->fleet_version = read_at;
            if (changed)
                fed_queue_all(f);
        }
    }
    h->timer_arm(f->fleet_poll, FLEET_POLL_MS);
}

int fed_fleet_start(struct federation *f)
{
    const struct fg_host *h = f->host;
    /* a core before ABI 2.4 has no fleet view: placement by name only */
    if (h->struct_size <
        offsetof(struct fg_host, fleet_version) + sizeof(h->fleet_version))
        return 0;
    if (!(f->fleet_poll = h->timer_new(h, poll_fleet, f)))
        return -1;
    poll_fleet(f);
    return 0;
}

void fed_fleet_stop(struct federation *f)
{
    if (f->fleet_poll)
        f->host->timer_free(f->fleet_poll);
    f->fleet_poll = NULL;
    cJSON_Delete(f->members);
    f->members = NULL;
}
