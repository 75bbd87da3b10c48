/* What the federation store admits (federation.h): every spec write
 * records its writer (user and groups) in an annotation that only the
 * service sets, because members are called as that user; a client's own
 * value of it is replaced, and a write that leaves the spec as it was
 * keeps the previous writer. A new object's status is the service's, and
 * a new federated object gets the finalizer that holds it until it is
 * gone from its clusters. */
#include "federation.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

static cJSON *annotations_of(cJSON *obj)
{
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (!cJSON_IsObject(meta))
        return NULL;
    cJSON *a = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    if (!cJSON_IsObject(a)) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "annotations");
        a = cJSON_AddObjectToObject(meta, "annotations");
    }
    return a;
}

static char *writer_text(const struct fg_identity *who)
{
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "user", who && who->user ? who->user : "");
    cJSON *groups = cJSON_AddArrayToObject(w, "groups");
    for (size_t i = 0; who && i < who->n_groups; i++)
        cJSON_AddItemToArray(groups, cJSON_CreateString(who->groups[i]));
    char *text = cJSON_PrintUnformatted(w);
    cJSON_Delete(w);
    return text;
}

static const char *old_writer(const cJSON *old)
{
    const cJSON *v = fg_json_path(old, "metadata.annotations.fedgate\\.io/"
                                       "last-spec-writer");
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A DNS-1123 label: what member cluster names and namespaces are, so that
 * nothing else reaches a member call's path. */
static int dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* The cluster names of spec.placement.clusters and spec.overrides. */
static int names_ok(const cJSON *obj, char *err, size_t len)
{
    const char *ns = "";
    const cJSON *v = fg_json_path(obj, "metadata.namespace");
    if (cJSON_IsString(v))
        ns = v->valuestring;
    if (*ns && !dns_label(ns)) {
        snprintf(err, len,
                 "metadata.namespace: Invalid value: a lowercase "
                 "RFC 1123 label");
        return 0;
    }
    static const char *const lists[][2] = {
        {"spec.placement.clusters", "name"},
        {"spec.overrides", "clusterName"},
    };
    for (size_t l = 0; l < 2; l++) {
        const cJSON *e;
        int i = 0;
        cJSON_ArrayForEach(e, fg_json_path(obj, lists[l][0]))
        {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, lists[l][1]);
            if (!cJSON_IsString(n) || !dns_label(n->valuestring)) {
                snprintf(err, len,
                         "%s[%d].%s: Invalid value: a member cluster name "
                         "(a lowercase RFC 1123 label)",
                         lists[l][0], i, lists[l][1]);
                return 0;
            }
            i++;
        }
    }
    return 1;
}

/* A new federated object is held until it is gone from its clusters. */
static int add_finalizer(cJSON *obj)
{
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    cJSON *list = cJSON_GetObjectItemCaseSensitive(meta, "finalizers");
    if (!cJSON_IsArray(list)) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "finalizers");
        list = cJSON_AddArrayToObject(meta, "finalizers");
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, list)
    {
        if (cJSON_IsString(f) && strcmp(f->valuestring, FED_FINALIZER) == 0)
            return 0;
    }
    return list && cJSON_AddItemToArray(list, cJSON_CreateString(FED_FINALIZER))
               ? 0
               : -1;
}

int fed_admit(void *arg, const struct fg_object_kind *k,
              const struct fg_identity *who, cJSON *obj, const cJSON *old,
              int status, char *err, size_t err_len)
{
    (void)arg;
    if (!obj || status)
        return 0; /* deletes: RBAC decided; status: the service's own */
    if (!names_ok(obj, err, err_len))
        return 422;
    cJSON *ann = annotations_of(obj);
    if (!ann) {
        snprintf(err, err_len, "metadata: Required value");
        return 422;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(ann, FED_WRITER_ANNOTATION);
    const char *before = old ? old_writer(old) : NULL;
    int same = old && before &&
               cJSON_Compare(cJSON_GetObjectItemCaseSensitive(obj, "spec"),
                             cJSON_GetObjectItemCaseSensitive(old, "spec"), 1);
    char *text = same ? NULL : writer_text(who);
    cJSON *v = cJSON_CreateString(same ? before : text);
    cJSON_free(text);
    if (!v || fg_json_set(ann, FED_WRITER_ANNOTATION, v) < 0) {
        snprintf(err, err_len, "out of memory");
        return 500;
    }
    if (!old) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
        if (fed_kind_index(k) < FED_N_TYPES && add_finalizer(obj) < 0) {
            snprintf(err, err_len, "out of memory");
            return 500;
        }
    }
    return 0;
}
