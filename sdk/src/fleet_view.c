/* A service's view of the fleet (fleet_view.h). */
#include <fedgate/fleet_view.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define DEFAULT_POLL_MS 1000

struct fg_fleet_view {
    const struct fg_host *h;
    unsigned poll_ms;
    fg_fleet_moved moved;
    void *arg;
    struct fg_timer *poll;
    uint64_t version;
    cJSON *members; /* NULL until a read succeeded */
};

/* Reads the fleet when its version moved: 1 when what it says changed. */
static int read_fleet(struct fg_fleet_view *v)
{
    const struct fg_host *h = v->h;
    if (v->members && h->fleet_version(h) == v->version)
        return 0;
    uint64_t at = 0;
    char *text = h->fleet_members(h, &at);
    cJSON *m = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!cJSON_IsArray(m)) {
        cJSON_Delete(m);
        return 0; /* out of memory: the next turn reads again */
    }
    int changed = !v->members || !cJSON_Compare(m, v->members, 1);
    cJSON_Delete(v->members);
    v->members = m;
    v->version = at;
    return changed;
}

static void poll_fleet(void *arg)
{
    struct fg_fleet_view *v = arg;
    int changed = read_fleet(v);
    v->h->timer_arm(v->poll, v->poll_ms);
    if (changed)
        v->moved(v->arg);
}

struct fg_fleet_view *fg_fleet_view_new(const struct fg_host *h,
                                        unsigned poll_ms, fg_fleet_moved moved,
                                        void *arg)
{
    struct fg_fleet_view *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    *v = (struct fg_fleet_view){
        .h = h,
        .poll_ms = poll_ms ? poll_ms : DEFAULT_POLL_MS,
        .moved = moved,
        .arg = arg,
    };
    if (h->struct_size <
        offsetof(struct fg_host, fleet_version) + sizeof(h->fleet_version))
        return v;
    if (!(v->poll = h->timer_new(h, poll_fleet, v))) {
        free(v);
        return NULL;
    }
    read_fleet(v);
    h->timer_arm(v->poll, v->poll_ms);
    return v;
}

void fg_fleet_view_free(struct fg_fleet_view *v)
{
    if (!v)
        return;
    if (v->poll)
        v->h->timer_free(v->poll);
    cJSON_Delete(v->members);
    free(v);
}

const cJSON *fg_fleet_view_members(const struct fg_fleet_view *v)
{
    return v->members;
}

const cJSON *fg_fleet_view_member(const struct fg_fleet_view *v,
                                  const char *name)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, v->members)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return m;
    }
    return NULL;
}
