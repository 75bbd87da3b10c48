/* What a Kubernetes API request asks for, read from its method, path and
 * query the way kube-apiserver's RequestInfoFactory reads them: the verb
 * (get, list, watch, create, update, patch, delete, deletecollection, or a
 * lower-case method for non-resource paths), API group and version,
 * namespace, resource, subresource and name. Authorization, audit and
 * metrics speak in these terms; parsed once per request. */
#ifndef FG_REQUEST_INFO_H
#define FG_REQUEST_INFO_H

#include <stddef.h>

struct fg_request_info {
    int is_resource; /* under /api/V/... or /apis/G/V/... */
    /* Every field below is a NUL-terminated string, "" when absent; they
     * point into buf (or to static text) until fg_request_info_free. */
    const char *verb;
    const char *api_prefix; /* "api" or "apis" */
    const char *api_group;  /* "" for the core group */
    const char *api_version;
    const char *namespace_;
    const char *resource;
    const char *subresource;
    const char *name;
    char *buf;
};

/* Fills OUT from METHOD, the normalised PATH the member receives (no "."
 * or ".." segments, see target.h) and the raw QUERY (NULL for none).
 * Percent-escapes in segments are decoded. Returns 0, or -1 when out of
 * memory (OUT is then empty and safe to free). */
int fg_request_info_parse(const char *method, const char *path,
                          const char *query, struct fg_request_info *out);

void fg_request_info_free(struct fg_request_info *ri);

/* Whether the request is one Kubernetes serves by upgrading the connection
 * (exec, attach, portforward of pods; proxy of pods, services, nodes). */
int fg_request_info_is_upgradable(const struct fg_request_info *ri);

#endif
