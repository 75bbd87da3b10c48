/* What a Kubernetes API request asks for, read from its method, path and
 * query the way kube-apiserver's RequestInfoFactory reads them: the verb
 * (get, list, watch, create, update, patch, delete, deletecollection, or a
 * lower-case method for non-resource paths), API group and version,
 * namespace, resource, subresource and name. Authorization, audit and
 * metrics speak in these terms; parsed once per request. */
#ifndef FG_REQUEST_INFO_H
#define FG_REQUEST_INFO_H

#include <fedgate/driver.h> /* struct fg_request_info: plugins read it */

#include "request/arena.h"

/* Fills OUT from METHOD, the normalised PATH the member receives (no "."
 * or ".." segments, see target.h) and the raw QUERY (NULL for none).
 * Percent-escapes in segments are decoded. The strings live in ARENA (or
 * are static text; OUT->path is PATH itself). Returns 0, or -1 when out of
 * memory (OUT is then empty). */
int fg_request_info_parse(struct fg_arena *arena, const char *method,
                          const char *path, const char *query,
                          struct fg_request_info *out);

int fg_request_info_is_upgradable(const struct fg_request_info *ri);

#endif
