/* Discovery documents of the host's own API (discovery.c) and its OpenAPI
 * v3 (openapi.c), what kubectl reads before get, apply and explain. */
#ifndef FG_FLEET_DISCOVERY_H
#define FG_FLEET_DISCOVERY_H

#include <stddef.h>

#include <fedgate/util.h>

/* Whether PATH is a discovery document of the host's API. */
int fg_fleet_discovery_owns(const char *path);

/* The document at PATH as the ACCEPT header (ACCEPT_LEN bytes, may be
 * NULL) asks: aggregated for /api and /apis when it lists
 * APIGroupDiscoveryList, else legacy. *CONTENT_TYPE says which. Malloc'd;
 * NULL when out of memory. */
char *fg_fleet_discovery(const char *path, const char *accept,
                         size_t accept_len, const char **content_type);

/* Whether PATH is /openapi/v3 or the group-version document under it. */
int fg_fleet_openapi_owns(const char *path);

/* The OpenAPI v3 document at PATH (malloc'd), or NULL out of memory. */
char *fg_fleet_openapi(const char *path);

#endif
