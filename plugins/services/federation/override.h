/* KubeFed's per-cluster overrides: {path, op, value} edits of the object
 * built for one member, path a JSON pointer (RFC 6901: "/spec/replicas",
 * "~1" for '/', "~0" for '~', an array index or "-" past the end), op
 * add, replace (the default) or remove, as KubeFed applies them. The
 * caller sets the object's name, namespace, managed label and owner
 * annotation after the overrides, so no override can move or disown it. */
#ifndef FEDERATION_OVERRIDE_H
#define FEDERATION_OVERRIDE_H

#include <stddef.h>

struct cJSON;

/* Applies one override to OBJ. VALUE is copied (not used for remove).
 * 0, or -1 with a one-line reason in ERR (a bad path, a missing parent,
 * an index out of range, replace or remove of nothing, an unknown op). */
int fed_override_apply(struct cJSON *obj, const char *path, const char *op,
                       const struct cJSON *value, char *err, size_t err_len);

/* Applies every override of OVERRIDES (spec.overrides) whose clusterName
 * is CLUSTER, in order. 0, or -1 with ERR naming the failed entry. */
int fed_overrides_apply(struct cJSON *obj, const struct cJSON *overrides,
                        const char *cluster, char *err, size_t err_len);

#endif
