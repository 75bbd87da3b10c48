/* Strategic merge patch, the patch type `kubectl apply`, `edit`, `label`,
 * `annotate` and `set image` send: a JSON merge patch in which some lists
 * of objects are merged element by element on a merge key (containers by
 * name, volumeMounts by mountPath ...) instead of being replaced, plus the
 * directives $patch (merge | replace | delete), $retainKeys,
 * $deleteFromPrimitiveList/FIELD and $setElementOrder/FIELD.
 *
 * kube-apiserver takes the merge keys from the Go types' struct tags; the
 * mock has no types, so the table below lists the keys of the fields the
 * mock's kinds use, by field name. "ports" is the one name with two keys:
 * a Service's spec.ports merge on "port", a container's on
 * "containerPort". Lists not in the table are replaced whole, as
 * kube-apiserver does for atomic lists. $setElementOrder/FIELD puts the
 * elements it names first, in its order (kubectl apply sends it to keep a
 * manifest's order); the others follow in the order they had. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define SET_ORDER "$setElementOrder/"
#define DELETE_PRIMITIVE "$deleteFromPrimitiveList/"

struct sm {
    char *err;
    size_t err_len;
};

static const struct {
    const char *field, *key;
} merge_keys[] = {
    {"containers", "name"},
    {"initContainers", "name"},
    {"ephemeralContainers", "name"},
    {"env", "name"},
    {"volumes", "name"},
    {"volumeMounts", "mountPath"},
    {"volumeDevices", "devicePath"},
    {"imagePullSecrets", "name"},
    {"hostAliases", "ip"},
    {"conditions", "type"},
    {"ownerReferences", "uid"},
    {"topologySpreadConstraints", "topologyKey"},
    {"resourceClaims", "name"},
    {"schedulingGates", "name"},
    {"addresses", "type"},
    {"secrets", "name"}, /* a ServiceAccount's */
};

/* The merge key of list FIELD inside an object at DEPTH whose own key is
 * PARENT, or NULL for an atomic list. */
static const char *merge_key(const char *field, const char *parent, int depth)
{
    if (strcmp(field, "ports") == 0)
        return depth == 1 && parent && strcmp(parent, "spec") == 0
                   ? "port"
                   : "containerPort";
    for (size_t i = 0; i < sizeof(merge_keys) / sizeof(merge_keys[0]); i++) {
        if (strcmp(merge_keys[i].field, field) == 0)
            return merge_keys[i].key;
    }
    return NULL;
}

/* Lists of scalars merged as sets. */
static int primitive_merge(const char *field)
{
    return strcmp(field, "finalizers") == 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
fail(struct sm *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* The value of a "$patch" directive in P (an object), or NULL. */
static const char *directive(const cJSON *p)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(p, "$patch");
    return cJSON_IsString(d) ? d->valuestring : NULL;
}

static int merge_map(struct sm *s, cJSON *target, const cJSON *patch,
                     const char *self, int depth);

/* A new object holding PATCH merged into nothing: directives removed. */
static cJSON *fresh(struct sm *s, const cJSON *patch, const char *self,
                    int depth, int *rc)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        *rc = -2;
        return NULL;
    }
    *rc = merge_map(s, o, patch, self, depth);
    if (*rc != 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int is_directive_elem(const cJSON *e)
{
    return cJSON_IsObject(e) && directive(e) != NULL;
}

/* PATCH (a list) with directive elements dropped and directives removed
 * from object elements: what replaces an atomic list. */
static cJSON *clean_list(struct sm *s, const cJSON *patch, const char *self,
                         int depth, int *rc)
{
    cJSON *out = cJSON_CreateArray();
    *rc = out ? 0 : -2;
    const cJSON *e;
    cJSON_ArrayForEach(e, patch)
    {
        if (*rc != 0)
            break;
        if (is_directive_elem(e) && cJSON_GetArraySize(e) == 1)
            continue;
        cJSON *v = cJSON_IsObject(e) ? fresh(s, e, self, depth + 1, rc)
                                     : cJSON_Duplicate(e, 1);
        if (*rc == 0 && (!v || !cJSON_AddItemToArray(out, v))) {
            cJSON_Delete(v);
            *rc = -2;
        }
    }
    if (*rc != 0) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

static cJSON *find_by_key(cJSON *list, const char *key, const cJSON *kv)
{
    cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
        if (v && cJSON_Compare(v, kv, 1))
            return e;
    }
    return NULL;
}

/* Merges PATCH (a list of objects) into LIST on KEY. */
static int merge_keyed(struct sm *s, cJSON *list, const cJSON *patch,
                       const char *key, const char *self, int depth)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, patch)
    {
        if (!cJSON_IsObject(e))
            return fail(s,
                        "unable to merge list %s: an element is not an "
                        "object",
                        self);
        const char *d = directive(e);
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(e, key);
        if (d && strcmp(d, "replace") == 0)
            continue; /* handled by the caller */
        if (!kv)
            return fail(s, "map does not contain declared merge key: %s", key);
        cJSON *old = find_by_key(list, key, kv);
        if (d && strcmp(d, "delete") == 0) {
            while (old) {
                cJSON_Delete(cJSON_DetachItemViaPointer(list, old));
                old = find_by_key(list, key, kv);
            }
            continue;
        }
        if (d && strcmp(d, "merge") != 0)
            return fail(s, "unknown patch type: %s", d);
        int rc;
        if (old) {
            rc = merge_map(s, old, e, self, depth + 1);
        } else {
            cJSON *v = fresh(s, e, self, depth + 1, &rc);
            if (rc == 0 && !cJSON_AddItemToArray(list, v)) {
                cJSON_Delete(v);
                rc = -2;
            }
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The new value of list FIELD: TARGET (owned, may be NULL) patched with
 * PATCH. */
static cJSON *merge_list(struct sm *s, cJSON *target, const cJSON *patch,
                         const char *field, const char *self, int depth,
                         int *rc)
{
    const char *key = merge_key(field, self, depth);
    int replace = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, patch)
    {
        const char *d = is_directive_elem(e) ? directive(e) : NULL;
        if (d && strcmp(d, "replace") == 0)
            replace = 1;
    }
    if (replace || !cJSON_IsArray(target) ||
        (!key && !primitive_merge(field))) {
        cJSON_Delete(target);
        if (!replace && key) {
            /* A keyed list patched onto nothing: directives still apply. */
            cJSON *list = cJSON_CreateArray();
            *rc = list ? merge_keyed(s, list, patch, key, field, depth) : -2;
            if (*rc != 0) {
                cJSON_Delete(list);
                return NULL;
            }
            return list;
        }
        return clean_list(s, patch, field, depth, rc);
    }
    *rc = 0;
    if (key) {
        *rc = merge_keyed(s, target, patch, key, field, depth);
    } else {
        /* A set of scalars: add what is missing. */
        cJSON_ArrayForEach(e, patch)
        {
            int found = 0;
            const cJSON *t;
            cJSON_ArrayForEach(t, target) found |= cJSON_Compare(t, e, 1);
            if (found)
                continue;
            cJSON *v = cJSON_Duplicate(e, 1);
            if (!v || !cJSON_AddItemToArray(target, v)) {
                cJSON_Delete(v);
                *rc = -2;
                break;
            }
        }
    }
    if (*rc != 0) {
        cJSON_Delete(target);
        return NULL;
    }
    return target;
}

static int delete_from_primitive(struct sm *s, cJSON *target, const char *field,
                                 const cJSON *values)
{
    if (!cJSON_IsArray(values))
        return fail(s, "%s must be a list", DELETE_PRIMITIVE);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(target, field);
    if (!cJSON_IsArray(list))
        return 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, values)
    {
        cJSON *e = list->child;
        while (e) {
            cJSON *next = e->next;
            if (cJSON_Compare(e, v, 1))
                cJSON_Delete(cJSON_DetachItemViaPointer(list, e));
            e = next;
        }
    }
    return 0;
}

static int retain_keys(struct sm *s, cJSON *target, const cJSON *keys)
{
    if (!cJSON_IsArray(keys))
        return fail(s, "%s must be a list", "$retainKeys");
    cJSON *e = target->child;
    while (e) {
        cJSON *next = e->next;
        int keep = 0;
        const cJSON *k;
        cJSON_ArrayForEach(k, keys)
        {
            keep |= cJSON_IsString(k) && e->string &&
                    strcmp(k->valuestring, e->string) == 0;
        }
        if (!keep)
            cJSON_Delete(cJSON_DetachItemViaPointer(target, e));
        e = next;
    }
    return 0;
}

/* $setElementOrder/FIELD: ORDER's elements (merge keys, or the values of
 * a list of scalars) first in TARGET's list FIELD. */
static int set_order(struct sm *s, cJSON *target, const char *field,
                     const cJSON *order, const char *self, int depth)
{
    if (!cJSON_IsArray(order))
        return fail(s, "%s%s must be a list", SET_ORDER, field);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(target, field);
    if (!cJSON_IsArray(list))
        return 0;
    const char *key = merge_key(field, self, depth);
    cJSON *sorted = cJSON_CreateArray();
    if (!sorted)
        return -2;
    const cJSON *o;
    cJSON_ArrayForEach(o, order)
    {
        const cJSON *ok = key ? cJSON_GetObjectItemCaseSensitive(o, key) : o;
        cJSON *e;
        cJSON_ArrayForEach(e, (ok ? list : NULL))
        {
            const cJSON *ek =
                key ? cJSON_GetObjectItemCaseSensitive(e, key) : e;
            if (ek && cJSON_Compare(ek, ok, 1))
                break;
        }
        if (e)
            cJSON_AddItemToArray(sorted, cJSON_DetachItemViaPointer(list, e));
    }
    while (list->child)
        cJSON_AddItemToArray(sorted,
                             cJSON_DetachItemViaPointer(list, list->child));
    while (sorted->child)
        cJSON_AddItemToArray(list,
                             cJSON_DetachItemViaPointer(sorted, sorted->child));
    cJSON_Delete(sorted);
    return 0;
}

/* Merges PATCH into TARGET, both objects; TARGET's own key is SELF at
 * DEPTH (0: the document). */
static int merge_map(struct sm *s, cJSON *target, const cJSON *patch,
                     const char *self, int depth)
{
    if (depth > MOCK_WRITE_MAX_DEPTH)
        return fail(s, "patch nested deeper than %d levels",
                    MOCK_WRITE_MAX_DEPTH);
    const char *d = directive(patch);
    if (d && strcmp(d, "replace") == 0) {
        while (target->child)
            cJSON_Delete(cJSON_DetachItemViaPointer(target, target->child));
    } else if (d && strcmp(d, "merge") != 0 && strcmp(d, "delete") != 0) {
        return fail(s, "unknown patch type: %s", d);
    }
    const cJSON *rk = cJSON_GetObjectItemCaseSensitive(patch, "$retainKeys");
    if (rk && retain_keys(s, target, rk) != 0)
        return -1;
    const cJSON *p;
    cJSON_ArrayForEach(p, patch)
    {
        const char *k = p->string;
        if (!k)
            return fail(s, "%s", "patch member without a key");
        if (strcmp(k, "$patch") == 0 || strcmp(k, "$retainKeys") == 0 ||
            strncmp(k, SET_ORDER, strlen(SET_ORDER)) == 0)
            continue;
        if (strncmp(k, DELETE_PRIMITIVE, strlen(DELETE_PRIMITIVE)) == 0) {
            if (delete_from_primitive(s, target, k + strlen(DELETE_PRIMITIVE),
                                      p) != 0)
                return -1;
            continue;
        }
        if (k[0] == '$')
            return fail(s, "unknown patch directive %s", k);
        cJSON *old = cJSON_GetObjectItemCaseSensitive(target, k);
        if (cJSON_IsNull(p) || (cJSON_IsObject(p) && directive(p) &&
                                strcmp(directive(p), "delete") == 0)) {
            if (old)
                cJSON_Delete(cJSON_DetachItemViaPointer(target, old));
            continue;
        }
        int rc = 0;
        cJSON *v;
        if (cJSON_IsObject(p) && cJSON_IsObject(old)) {
            rc = merge_map(s, old, p, k, depth + 1);
            if (rc != 0)
                return rc;
            continue;
        } else if (cJSON_IsObject(p)) {
            v = fresh(s, p, k, depth + 1, &rc);
        } else if (cJSON_IsArray(p)) {
            cJSON *detached =
                old ? cJSON_DetachItemViaPointer(target, old) : NULL;
            v = merge_list(s, detached, p, k, self, depth, &rc);
        } else {
            v = cJSON_Duplicate(p, 1);
            rc = v ? 0 : -2;
        }
        if (rc != 0)
            return rc;
        if (fg_json_set(target, k, v) != 0)
            return -2;
    }
    /* Once the lists are merged, their order. */
    cJSON_ArrayForEach(p, patch)
    {
        if (strncmp(p->string, SET_ORDER, strlen(SET_ORDER)) != 0)
            continue;
        int rc =
            set_order(s, target, p->string + strlen(SET_ORDER), p, self, depth);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int mock_strategic_patch(cJSON **doc, const cJSON *patch, char *err, size_t len)
{
    struct sm s = {err, len};
    if (!cJSON_IsObject(patch)) {
        snprintf(err, len, "a strategic merge patch must be a JSON object");
        return -1;
    }
    if (!cJSON_IsObject(*doc)) {
        cJSON_Delete(*doc);
        *doc = cJSON_CreateObject();
        if (!*doc)
            return -2;
    }
    return merge_map(&s, *doc, patch, NULL, 0);
}
