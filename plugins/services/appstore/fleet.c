/* The fleet view of the app store's releases (fleet.h). */
#include "fleet.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/fedgate.h>

#define FLEET_POLL_MS 1000

struct appstore_fleet {
    const struct fg_host *h;
    appstore_fleet_moved moved;
    void *arg;
    struct fg_timer *poll;
    uint64_t version;
    cJSON *members; /* [{"name":..,"ready":..}], or NULL before a read */
};

/* Reads the fleet when its version moved: 1 when what a release cares
 * for (names, readiness) changed. */
static int read_fleet(struct appstore_fleet *f)
{
    const struct fg_host *h = f->h;
    if (f->members && h->fleet_version(h) == f->version)
        return 0;
    uint64_t at = 0;
    char *text = h->fleet_members(h, &at);
    cJSON *all = text ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *m = all ? cJSON_CreateArray() : NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, all)
    {
        cJSON *one = cJSON_CreateObject();
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (!one || !cJSON_IsString(name) ||
            !cJSON_AddStringToObject(one, "name", name->valuestring) ||
            !cJSON_AddBoolToObject(
                one, "ready",
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "ready")))) {
            cJSON_Delete(one);
            continue;
        }
        cJSON_AddItemToArray(m, one);
    }
    cJSON_Delete(all);
    if (!m)
        return 0; /* out of memory: the next turn reads again */
    int changed = !f->members || !cJSON_Compare(m, f->members, 1);
    cJSON_Delete(f->members);
    f->members = m;
    f->version = at;
    return changed;
}

static void poll_fleet(void *arg)
{
    struct appstore_fleet *f = arg;
    int changed = read_fleet(f);
    f->h->timer_arm(f->poll, FLEET_POLL_MS);
    if (changed)
        f->moved(f->arg);
}

struct appstore_fleet *appstore_fleet_new(const struct fg_host *h,
                                          appstore_fleet_moved moved, void *arg)
{
    struct appstore_fleet *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    *f = (struct appstore_fleet){.h = h, .moved = moved, .arg = arg};
    /* a core before ABI 2.4 has no fleet view: every member is assumed */
    if (h->struct_size <
        offsetof(struct fg_host, fleet_version) + sizeof(h->fleet_version))
        return f;
    if (!(f->poll = h->timer_new(h, poll_fleet, f))) {
        free(f);
        return NULL;
    }
    read_fleet(f);
    h->timer_arm(f->poll, FLEET_POLL_MS);
    return f;
}

void appstore_fleet_free(struct appstore_fleet *f)
{
    if (!f)
        return;
    if (f->poll)
        f->h->timer_free(f->poll);
    cJSON_Delete(f->members);
    free(f);
}

enum appstore_member appstore_fleet_member(const struct appstore_fleet *f,
                                           const char *name)
{
    if (!f->members)
        return APPSTORE_MEMBER_UNKNOWN;
    const cJSON *e;
    cJSON_ArrayForEach(e, f->members)
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring,
                   name) == 0)
            return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "ready"))
                       ? APPSTORE_MEMBER_READY
                       : APPSTORE_MEMBER_NOT_READY;
    }
    return APPSTORE_MEMBER_ABSENT;
}
