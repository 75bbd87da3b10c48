/* Discovery documents of the host's own API (discovery.c) and its OpenAPI
 * v3 (openapi.c), what kubectl reads before get, apply and explain. */
#ifndef FG_FLEET_DISCOVERY_H
#define FG_FLEET_DISCOVERY_H

#include <stddef.h>

#include <fedgate/service.h>
#include <fedgate/util.h>

struct fg_worker_gen;

/* The group versions the host serves: the fleet's, then each service's
 * (service.h) in configuration order. */
struct fg_api_set {
    const struct fg_service_api **v;
    size_t n;
};

/* Fills OUT with G's group versions: 0, or -1 out of memory. Free it with
 * fg_fleet_apis_free. */
int fg_fleet_apis(const struct fg_worker_gen *g, struct fg_api_set *out);
void fg_fleet_apis_free(struct fg_api_set *s);

/* Whether PATH is a discovery document of the host's API: /api, /apis,
 * /apis/G or /apis/G/V of a group version of SET. */
int fg_fleet_discovery_owns(const struct fg_api_set *set, const char *path);

/* The document at PATH as the ACCEPT header (ACCEPT_LEN bytes, may be
 * NULL) asks: aggregated for /api and /apis when it lists
 * APIGroupDiscoveryList, else legacy. *CONTENT_TYPE says which. Malloc'd;
 * NULL when out of memory. */
char *fg_fleet_discovery(const struct fg_api_set *set, const char *path,
                         const char *accept, size_t accept_len,
                         const char **content_type);

/* Whether PATH is /openapi/v3 or the fleet's group-version document. */
int fg_fleet_openapi_owns(const char *path);

/* The OpenAPI v3 document at PATH (malloc'd), or NULL out of memory: the
 * index lists every group version of SET (services serve their own
 * documents). */
char *fg_fleet_openapi(const struct fg_api_set *set, const char *path);

#endif
