/* Routing to service plugins (service_route.h). A handful of services
 * with a few prefixes each: a linear walk is cheaper than any index. */
#include "request/service_route.h"

#include <string.h>

#include <fedgate/service.h>

#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "request/arena.h"

/* Whether PATH is P, or P followed by '/' and more. */
static int under(const char *path, const char *p, size_t len)
{
    return strncmp(path, p, len) == 0 &&
           (path[len] == '\0' || path[len] == '/');
}

/* Whether PATH is under an API group of OPS: /apis/GROUP/VERSION/... or
 * /openapi/v3/apis/GROUP/... (the core answers the discovery documents
 * /apis/GROUP and /apis/GROUP/VERSION itself, from the same table). */
static int serves_group(const struct fg_service_ops *ops, const char *path)
{
    static const char apis[] = "/apis/", openapi[] = "/openapi/v3/apis/";
    const char *rest = NULL;
    int resources = 0;
    if (strncmp(path, apis, sizeof(apis) - 1) == 0) {
        rest = path + sizeof(apis) - 1;
        resources = 1;
    } else if (strncmp(path, openapi, sizeof(openapi) - 1) == 0) {
        rest = path + sizeof(openapi) - 1;
    }
    for (size_t i = 0; rest && ops->apis && ops->apis[i].group; i++) {
        size_t len = strlen(ops->apis[i].group);
        if (!under(rest, ops->apis[i].group, len))
            continue;
        /* GROUP/VERSION/more: past the version there is a resource */
        const char *v = rest[len] ? strchr(rest + len + 1, '/') : NULL;
        if (!resources || (v && v[1]))
            return 1;
    }
    return 0;
}

/* The prefix of OPS that PATH is under (the prefix itself without its
 * last '/' included), or NULL. */
static const char *prefix_of(const struct fg_service_ops *ops, const char *path)
{
    for (size_t i = 0; ops->prefixes && ops->prefixes[i]; i++) {
        const char *p = ops->prefixes[i];
        if (under(path, p, strlen(p) - 1))
            return p;
    }
    return NULL;
}

struct fg_member_rt *fg_service_for(const struct fg_worker_gen *g,
                                    const char *path)
{
    for (size_t i = 0; i < g->n_services; i++) {
        const struct fg_service_ops *ops = g->services[i]->service;
        if (prefix_of(ops, path) || serves_group(ops, path))
            return g->services[i];
    }
    return NULL;
}

static void *arena_alloc(void *actx, size_t len)
{
    return fg_arena_alloc(actx, len);
}

int fg_service_describe(const struct fg_worker_gen *g, struct fg_arena *a,
                        const char *method, const char *path, const char *query,
                        struct fg_request_info *info)
{
    struct fg_member_rt *s = fg_service_for(g, path);
    if (!s || !s->service->describe || !prefix_of(s->service, path))
        return 0;
    int r = s->service->describe(method, path, query, info, arena_alloc, a);
    return r == 0 || r == 1 ? r : -1;
}
