/* Which service plugin (service.h) serves a path at the host's root, and
 * what that request touches when the service describes it. */
#ifndef FG_SERVICE_ROUTE_H
#define FG_SERVICE_ROUTE_H

struct fg_arena;
struct fg_member_rt;
struct fg_request_info;
struct fg_worker_gen;

/* The service of G serving PATH (normalised, at the host root): one of
 * its prefixes, or /apis/GROUP[/...] or /openapi/v3/apis/GROUP/... of a
 * group it serves; NULL when none does. */
struct fg_member_rt *fg_service_for(const struct fg_worker_gen *g,
                                    const char *path);

/* Lets the service of PATH (under one of its prefixes) rewrite INFO, the
 * request info of METHOD PATH?QUERY, with strings from A (its describe
 * op), before the policy chain sees it. 0; 1 when it may be served to a
 * caller without credentials (service.h); -1 when the service says the
 * path is none of its own. */
int fg_service_describe(const struct fg_worker_gen *g, struct fg_arena *a,
                        const char *method, const char *path, const char *query,
                        struct fg_request_info *info);

#endif
