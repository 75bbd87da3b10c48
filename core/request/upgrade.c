/* Where a request may switch protocols (see upgrade.h): the target is
 * routed and normalised as the exchange does (target.h), then read as a
 * Kubernetes request (request_info.h). */
#include "request/upgrade.h"

#include "request/request_info.h"
#include "request/target.h"

int fg_upgrade_allowed(const char *method, const char *target, size_t len,
                       size_t max_len)
{
    struct fg_target t;
    struct fg_error err;
    if (fg_target_parse(target, len, max_len, &t, &err) != 0)
        return 0;
    struct fg_request_info ri;
    struct fg_arena *arena = fg_arena_new(0);
    int ok = arena &&
             fg_request_info_parse(arena, method, t.rest, t.query, &ri) == 0 &&
             fg_request_info_is_upgradable(&ri);
    fg_arena_free(arena);
    fg_target_free(&t);
    return ok;
}
