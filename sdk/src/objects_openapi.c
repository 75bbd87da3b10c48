/* The OpenAPI v3 document of a store's kinds (fedgate/objects.h): the
 * schemas kubectl explain looks a kind up in by its
 * x-kubernetes-group-version-kind, and the paths whose write operations
 * list fieldValidation, without which kubectl apply validates on its own
 * from /openapi/v2 (which the host does not serve) and fails. */
#include "objects_internal.h"

#include <stdio.h>
#include <string.h>

/* The schema of K: its own, or an object that keeps any field. */
static cJSON *schema_of(const struct fg_object_kind *k)
{
    cJSON *s = k->schema ? cJSON_Parse(k->schema) : cJSON_CreateObject();
    if (!cJSON_IsObject(s)) {
        cJSON_Delete(s);
        return NULL;
    }
    if (!k->schema) {
        cJSON_AddStringToObject(s, "type", "object");
        cJSON_AddBoolToObject(s, "x-kubernetes-preserve-unknown-fields", 1);
    }
    cJSON *gvk = cJSON_CreateObject();
    cJSON_AddStringToObject(gvk, "group", k->group);
    cJSON_AddStringToObject(gvk, "version", k->version);
    cJSON_AddStringToObject(gvk, "kind", k->kind);
    cJSON *list = cJSON_AddArrayToObject(s, "x-kubernetes-group-version-kind");
    cJSON_AddItemToArray(list, gvk);
    return s;
}

/* One operation on K (ACTION: kube-apiserver's x-kubernetes-action),
 * answering with SCHEMA_NAME; a write lists its query parameters. */
static cJSON *operation(const struct fg_object_kind *k, const char *action,
                        const char *schema_name, int write)
{
    char id[200], ref[360];
    snprintf(id, sizeof(id), "%s%s", action, k->kind);
    snprintf(ref, sizeof(ref), "#/components/schemas/%s", schema_name);
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "operationId", id);
    cJSON_AddStringToObject(op, "x-kubernetes-action", action);
    cJSON *gvk = cJSON_AddObjectToObject(op, "x-kubernetes-group-version-kind");
    cJSON_AddStringToObject(gvk, "group", k->group);
    cJSON_AddStringToObject(gvk, "version", k->version);
    cJSON_AddStringToObject(gvk, "kind", k->kind);
    cJSON *ok = cJSON_AddObjectToObject(
        cJSON_AddObjectToObject(op, "responses"), "200");
    cJSON_AddStringToObject(ok, "description", "OK");
    cJSON_AddStringToObject(
        cJSON_AddObjectToObject(
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(ok, "content"),
                                    "application/json"),
            "schema"),
        "$ref", ref);
    static const char *const params[] = {"dryRun", "fieldManager",
                                         "fieldValidation", NULL};
    cJSON *list = write ? cJSON_AddArrayToObject(op, "parameters") : NULL;
    for (const char *const *n = params; list && *n; n++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", *n);
        cJSON_AddStringToObject(p, "in", "query");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "schema"), "type",
                                "string");
        cJSON_AddItemToArray(list, p);
    }
    return op;
}

/* The collection and item paths of K. */
static void add_paths(cJSON *paths, const struct fg_object_kind *k,
                      const char *schema_name)
{
    char base[400], item[420];
    snprintf(base, sizeof(base), "/apis/%s/%s%s/%s", k->group, k->version,
             k->namespaced ? "/namespaces/{namespace}" : "", k->resource);
    snprintf(item, sizeof(item), "%s/{name}", base);
    cJSON *c = cJSON_AddObjectToObject(paths, base);
    cJSON_AddItemToObject(c, "get", operation(k, "list", schema_name, 0));
    cJSON_AddItemToObject(c, "post", operation(k, "post", schema_name, 1));
    cJSON *i = cJSON_AddObjectToObject(paths, item);
    cJSON_AddItemToObject(i, "get", operation(k, "get", schema_name, 0));
    cJSON_AddItemToObject(i, "put", operation(k, "put", schema_name, 1));
    cJSON_AddItemToObject(i, "patch", operation(k, "patch", schema_name, 1));
    cJSON_AddItemToObject(i, "delete", operation(k, "delete", schema_name, 0));
}

char *fg_objects_openapi(const struct fg_objects *s, const char *group,
                         const char *version)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "openapi", "3.0.0");
    cJSON *info = cJSON_AddObjectToObject(d, "info");
    cJSON_AddStringToObject(info, "title", group);
    cJSON_AddStringToObject(info, "version", version);
    cJSON *paths = cJSON_AddObjectToObject(d, "paths");
    cJSON *schemas = cJSON_AddObjectToObject(
        cJSON_AddObjectToObject(d, "components"), "schemas");
    int ok = d != NULL;
    for (size_t i = 0; ok && i < s->n_kinds; i++) {
        const struct fg_object_kind *k = s->kinds[i].k;
        if (strcmp(k->group, group) != 0 || strcmp(k->version, version) != 0)
            continue;
        char name[300];
        snprintf(name, sizeof(name), "%s.%s.%s", k->group, k->version, k->kind);
        cJSON *schema = schema_of(k);
        ok = schema && cJSON_AddItemToObject(schemas, name, schema);
        if (ok)
            add_paths(paths, k, name);
    }
    char *text = ok ? cJSON_PrintUnformatted(d) : NULL;
    cJSON_Delete(d);
    return text;
}
