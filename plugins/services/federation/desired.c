/* Desired member objects (desired.h). */
#include "desired.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#include "federation.h"
#include "override.h"

static cJSON *object_at(cJSON *parent, const char *key)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (!cJSON_IsObject(o)) {
        cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
        o = cJSON_AddObjectToObject(parent, key);
    }
    return o;
}

static const char *text(const cJSON *obj, const char *path)
{
    const cJSON *v = fg_json_path(obj, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

cJSON *fed_desired(const cJSON *fed, const struct fed_target *t,
                   const char *owner, const char *cluster, long replicas,
                   char *err, size_t err_len)
{
    const cJSON *tmpl = fg_json_path(fed, "spec.template");
    cJSON *d =
        cJSON_IsObject(tmpl) ? cJSON_Duplicate(tmpl, 1) : cJSON_CreateObject();
    if (!d) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (fed_overrides_apply(d, fg_json_path(fed, "spec.overrides"), cluster,
                            err, err_len) < 0) {
        cJSON_Delete(d);
        return NULL;
    }
    if (replicas >= 0)
        fg_json_set(object_at(d, "spec"), "replicas",
                    cJSON_CreateNumber((double)replicas));
    const char *ns = text(fed, "metadata.namespace");
    fg_json_set(d, "apiVersion", cJSON_CreateString(t->api_version));
    fg_json_set(d, "kind", cJSON_CreateString(t->kind));
    cJSON_DeleteItemFromObjectCaseSensitive(d, "status");
    cJSON *meta = object_at(d, "metadata");
    static const char *const server_fields[] = {"uid",
                                                "resourceVersion",
                                                "generation",
                                                "creationTimestamp",
                                                "deletionTimestamp",
                                                "managedFields",
                                                "selfLink",
                                                "ownerReferences",
                                                "finalizers"};
    for (size_t i = 0; i < sizeof(server_fields) / sizeof(*server_fields); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(meta, server_fields[i]);
    /* a FederatedNamespace federates the namespace it lives in */
    fg_json_set(
        meta, "name",
        cJSON_CreateString(t->namespaced ? text(fed, "metadata.name") : ns));
    if (t->namespaced)
        fg_json_set(meta, "namespace", cJSON_CreateString(ns));
    else
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "namespace");
    fg_json_set(object_at(meta, "labels"), FED_MANAGED_LABEL,
                cJSON_CreateString("true"));
    fg_json_set(object_at(meta, "annotations"), FED_OWNER_ANNOTATION,
                cJSON_CreateString(owner));
    return d;
}

int fed_owned(const cJSON *obj, const char *owner)
{
    return strcmp(text(obj, "metadata.labels.kubefed\\.io/managed"), "true") ==
               0 &&
           strcmp(text(obj, "metadata.annotations.fedgate\\.io/"
                            "federated-object"),
                  owner) == 0;
}
