/* The service ABI (2.3): host-side services that add API routes at the
 * host's own root, beside the Cluster API (the app store, federation).
 *
 * A service serves its requests the way a driver serves a member's: the
 * core routes a request to it, has already run the policy chain on it
 * (authenticate, authorize, admit; audit sees the end), and opens a stream
 * with the ops and callbacks of driver.h. So everything driver.h says of
 * streams, the request contract, backpressure and re-entry holds here.
 *
 * Configuration and instances. A [plugin "NAME"] section whose plugin
 * (its `plugin` key, else NAME) is a service plugin enables that service
 * on the host: one instance per section, made from it, on one owner loop
 * (streams.scope must be FG_SCOPE_ONE_LOOP; requests from other workers
 * are delivered there). A gateway in the member role refuses such a
 * section. A reload keeps the instance when its section and plugin did
 * not change (calling streams.reload), else makes a new one; requests in
 * flight finish on the instance they started on.
 *
 * Routes. The core hands a service every request at the host root whose
 * path starts with one of its `prefixes`, and the API paths of each group
 * in `apis`: /apis/GROUP, /apis/GROUP/..., /openapi/v3/apis/GROUP/...
 * A service answers discovery and OpenAPI for its own groups there; the
 * core lists each group in /apis, in aggregated discovery and in the
 * /openapi/v3 index. Two services, or a service and the core, claiming
 * the same path is a configuration error.
 *
 * Request info. The core parses each request as kube-apiserver does
 * (driver.h's fg_request_info): /apis/GROUP/... are resource requests.
 * Other paths are non-resource requests (verb: the lower-case method)
 * unless the service's `describe` says what resource they touch, so that
 * RBAC and audit see e.g. `get repos/main` for a Helm index download. */
#ifndef FEDGATE_SERVICE_H
#define FEDGATE_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "driver.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One resource of a service's group version, as discovery lists it.
 * Arrays end with an entry whose name is NULL. */
struct fg_service_resource {
    const char *name;          /**< plural, e.g. "repos"; "repos/status"
                                    for a subresource */
    const char *singular_name; /**< "repo" ("" for a subresource) */
    const char *kind;          /**< "Repo" */
    int namespaced;            /**< 1: under /namespaces/NS/ */
    /** Space-separated verbs: "get list watch create update patch
     * delete deletecollection". */
    const char *verbs;
    const char *short_names; /**< space-separated, or NULL */
    const char *categories;  /**< space-separated, or NULL ("all") */
};

/** A group version the service serves. Arrays end with group NULL. */
struct fg_service_api {
    const char *group;   /**< e.g. "application.kubesphere.io" */
    const char *version; /**< e.g. "v2" */
    const struct fg_service_resource *resources;
};

/** Memory from the request's arena (as fg_stream_callbacks.alloc). */
typedef void *(*fg_service_alloc_fn)(void *actx, size_t len);

struct fg_service_ops {
    uint32_t struct_size; /**< sizeof(struct fg_service_ops) at build */
    /** Path prefixes at the host root, each starting and ending with
     * '/', e.g. "/helm/"; NULL-terminated; may be NULL. Never a prefix of
     * /api/, /apis/, /clusters/, /openapi/, /version or the probes. */
    const char *const *prefixes;
    /** The API groups served at /apis/GROUP/VERSION; NULL-group
     * terminated; may be NULL. */
    const struct fg_service_api *apis;
    /** The instance and its streams, exactly as a driver's (driver.h):
     * instance_new gets the [plugin] section; scope must be
     * FG_SCOPE_ONE_LOOP; health is not asked. */
    struct fg_driver_ops streams;
    /** Optional. For a request under one of PREFIXES: INFO as the core
     * parsed it (a non-resource request) may be rewritten to the resource
     * request it stands for (is_resource = 1, verb, api_group, resource,
     * name, ...; strings static or from ALLOC(ACTX, LEN)). Runs on any
     * worker's thread before the policy chain: it must not touch instance
     * state. Returns 0; 1 when the request may also be served to a caller
     * who presents no credentials at all, as kube-apiserver serves
     * anonymous requests (user system:anonymous, group
     * system:unauthenticated; authorization then decides, e.g. an RBAC
     * rule on one repository); or -1 when the path is none of the
     * service's (the client gets 404). */
    int (*describe)(const char *method, const char *path, const char *query,
                    struct fg_request_info *info, fg_service_alloc_fn alloc,
                    void *actx);
    /** The largest request body the service takes, when it differs from
     * the gateway's max_request_body_bytes (an app store's chart uploads);
     * 0: the gateway's. */
    int64_t max_request_body_bytes;
};

#ifdef __cplusplus
}
#endif
#endif
