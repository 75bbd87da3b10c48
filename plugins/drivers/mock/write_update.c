/* Updating an object in the mock: PUT with optimistic concurrency on
 * resourceVersion, PATCH (merge, JSON and strategic merge patches, then
 * the same rules), the status subresource (status only) and the scale
 * subresource (an autoscaling/v1 Scale over spec.replicas); generation
 * moves on spec changes, and an update that changes nothing is no write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

static int conflict(struct mock_write *w, const char *name)
{
    char q[96], msg[512];
    snprintf(msg, sizeof(msg),
             "Operation cannot be fulfilled on %s \"%s\": the object has "
             "been modified; please apply your changes to the latest version "
             "and try again",
             mock_kind_qualified(w->k, q, sizeof(q)), name);
    return mock_w_status(w, 409, "Conflict", msg, name);
}

/* The selector of a workload as a Scale reports it: labels.Selector's
 * String(), requirements sorted by key. */
static char *selector_string(const cJSON *obj)
{
    const cJSON *sel = fg_json_path(obj, "spec.selector");
    struct mock_buf b = {0};
    const char *keys[64];
    const cJSON *vals[64];
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sel, "matchLabels"))
    {
        if (n < 64 && cJSON_IsString(e)) {
            keys[n] = e->string;
            vals[n++] = e;
        }
    }
    cJSON_ArrayForEach(
        e, cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions"))
    {
        const char *key = mock_json_str(e, "key", NULL);
        if (n < 64 && key) {
            keys[n] = key;
            vals[n++] = e;
        }
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *tk = keys[j];
            const cJSON *tv = vals[j];
            keys[j] = keys[j - 1];
            vals[j] = vals[j - 1];
            keys[j - 1] = tk;
            vals[j - 1] = tv;
        }
    }
    int bad = mock_buf_add(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (i)
            bad |= mock_buf_adds(&b, ",");
        if (cJSON_IsString(vals[i])) {
            bad |= mock_buf_adds(&b, keys[i]);
            bad |= mock_buf_adds(&b, "=");
            bad |= mock_buf_adds(&b, vals[i]->valuestring);
            continue;
        }
        const char *op = mock_json_str(vals[i], "operator", "");
        if (strcmp(op, "DoesNotExist") == 0)
            bad |= mock_buf_adds(&b, "!");
        bad |= mock_buf_adds(&b, keys[i]);
        if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
            bad |=
                mock_buf_adds(&b, strcmp(op, "In") == 0 ? " in (" : " notin (");
            const cJSON *v;
            int first = 1;
            cJSON_ArrayForEach(
                v, cJSON_GetObjectItemCaseSensitive(vals[i], "values"))
            {
                if (!cJSON_IsString(v))
                    continue;
                if (!first)
                    bad |= mock_buf_adds(&b, ",");
                first = 0;
                bad |= mock_buf_adds(&b, v->valuestring);
            }
            bad |= mock_buf_adds(&b, ")");
        }
    }
    if (bad) {
        mock_buf_free(&b);
        return NULL;
    }
    return b.p;
}

/* The autoscaling/v1 Scale of workload OBJ. */
cJSON *mock_w_scale_of(const cJSON *obj)
{
    cJSON *s = cJSON_CreateObject();
    cJSON *meta = s ? cJSON_AddObjectToObject(s, "metadata") : NULL;
    cJSON *spec = s ? cJSON_AddObjectToObject(s, "spec") : NULL;
    cJSON *st = s ? cJSON_AddObjectToObject(s, "status") : NULL;
    char *sel = selector_string(obj);
    if (!meta || !spec || !st || !sel) {
        cJSON_Delete(s);
        free(sel);
        return NULL;
    }
    cJSON_AddStringToObject(s, "kind", "Scale");
    cJSON_AddStringToObject(s, "apiVersion", "autoscaling/v1");
    /* kind and apiVersion first. */
    cJSON_DetachItemViaPointer(s, meta);
    cJSON_DetachItemViaPointer(s, spec);
    cJSON_DetachItemViaPointer(s, st);
    cJSON_AddItemToObject(s, "metadata", meta);
    cJSON_AddItemToObject(s, "spec", spec);
    cJSON_AddItemToObject(s, "status", st);
    static const char *const copy[] = {"name", "namespace", "uid",
                                       "resourceVersion", "creationTimestamp"};
    for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "metadata.%s", copy[i]);
        const char *v = mock_json_str(obj, path, NULL);
        if (v)
            cJSON_AddStringToObject(meta, copy[i], v);
    }
    cJSON_AddNumberToObject(spec, "replicas",
                            (double)mock_json_int(obj, "spec.replicas", 1));
    cJSON_AddNumberToObject(st, "replicas",
                            (double)mock_json_int(obj, "status.replicas", 0));
    cJSON_AddStringToObject(st, "selector", sel);
    free(sel);
    return s;
}

/* Checks and stores NEW (owned) as the next version of OLD, the stored
 * object (w->name in w->ns). Answers with the stored result, or with the
 * Scale of it when SCALE. */
static int update_object(struct mock_write *w, cJSON *obj, int scale)
{
    const struct mock_kind *k = w->k;
    struct mock_obj *o = mock_store_get(w->in->store, k, w->ns, w->name);
    cJSON *old = NULL;
    int rc = 0;
    if (!o) {
        rc = mock_w_not_found(w, k, w->name);
        goto out;
    }
    if (!(old = mock_obj_json(o)))
        goto nomem;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *bname = mock_json_str(meta, "name", "");
    char msg[640];
    if (strcmp(bname, w->name) != 0) {
        snprintf(msg, sizeof(msg),
                 "the name of the object (%.253s) does not match the name on "
                 "the URL (%.253s)",
                 bname, w->name);
        rc = mock_w_bad_request(w, msg);
        goto out;
    }
    const char *bns = mock_json_str(meta, "namespace", "");
    if (k->namespaced && bns[0] && strcmp(bns, w->ns) != 0) {
        snprintf(msg, sizeof(msg),
                 "the namespace of the object (%.253s) does not match the "
                 "namespace on the URL (%.253s)",
                 bns, w->ns);
        rc = mock_w_bad_request(w, msg);
        goto out;
    }
    const char *brv = mock_json_str(meta, "resourceVersion", "");
    if (brv[0] && strcmp(brv, mock_w_rv_of(old)) != 0) {
        rc = conflict(w, w->name);
        goto out;
    }
    const char *buid = mock_json_str(meta, "uid", "");
    const char *ouid = mock_json_str(old, "metadata.uid", "");
    if (buid[0] && strcmp(buid, ouid) != 0) {
        char detail[512];
        snprintf(detail, sizeof(detail),
                 "metadata.uid: Invalid value: \"%.64s\": field is immutable",
                 buid);
        rc = mock_w_invalid(w, w->name, "metadata.uid", "FieldValueInvalid",
                            detail);
        goto out;
    }
    if (scale) {
        /* Only spec.replicas of the Scale reaches the workload. */
        const cJSON *r = fg_json_path(obj, "spec.replicas");
        double v = cJSON_IsNumber(r) ? r->valuedouble : -1;
        if (!cJSON_IsNumber(r) || v < 0 || v > 2147483647.0 ||
            v != (double)(int64_t)v) {
            char detail[160];
            snprintf(detail, sizeof(detail),
                     "spec.replicas: Invalid value: %s: must be greater "
                     "than or equal to 0",
                     cJSON_IsNumber(r) ? "a number" : "null");
            if (cJSON_IsNumber(r))
                snprintf(detail, sizeof(detail),
                         "spec.replicas: Invalid value: %g: must be greater "
                         "than or equal to 0",
                         v);
            char msg2[1200];
            snprintf(msg2, sizeof(msg2),
                     "Scale.autoscaling \"%s\" is invalid: %s", w->name,
                     detail);
            rc = mock_w_status(w, 422, "Invalid", msg2, w->name);
            goto out;
        }
        cJSON *next = cJSON_Duplicate(old, 1);
        cJSON *spec = next ? mock_w_child_obj(next, "spec") : NULL;
        if (!spec || fg_json_set(spec, "replicas", cJSON_CreateNumber(v))) {
            cJSON_Delete(next);
            goto nomem;
        }
        cJSON_Delete(obj);
        obj = next;
        meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    } else if (w->sub && strcmp(w->sub, "status") == 0) {
        /* A status write changes status only. */
        cJSON *st = cJSON_DetachItemFromObjectCaseSensitive(obj, "status");
        cJSON *next = cJSON_Duplicate(old, 1);
        if (!next) {
            cJSON_Delete(st);
            goto nomem;
        }
        mock_w_del(next, "status");
        if (st && !cJSON_AddItemToObject(next, "status", st)) {
            cJSON_Delete(st);
            cJSON_Delete(next);
            goto nomem;
        }
        cJSON_Delete(obj);
        obj = next;
        meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    } else {
        if (strcmp(k->resource, "secrets") == 0 && !k->group[0] &&
            mock_w_fold_string_data(obj) != 0)
            goto nomem;
        if ((rc = mock_w_check_labels(w, obj, w->name)) != 0 ||
            (rc = mock_w_immutable(w, obj, old)) != 0)
            goto out;
        if (strcmp(k->resource, "services") == 0 && !k->group[0] &&
            (rc = mock_w_cluster_ip(w, obj, old)) != 0)
            goto out;
        if (mock_kind_has_status(k)) {
            /* The main resource cannot change status. */
            mock_w_del(obj, "status");
            const cJSON *ost = cJSON_GetObjectItemCaseSensitive(old, "status");
            if (ost && fg_json_set(obj, "status", cJSON_Duplicate(ost, 1)) != 0)
                goto nomem;
        }
        if (strcmp(k->resource, "namespaces") == 0) {
            cJSON *labels = mock_w_child_obj(meta, "labels");
            if (!labels || mock_w_set_str(labels, "kubernetes.io/metadata.name",
                                          w->name) != 0)
                goto nomem;
        }
    }
    /* What clients cannot change. */
    if (k->namespaced && mock_w_set_str(meta, "namespace", w->ns) != 0)
        goto nomem;
    if (!k->namespaced)
        mock_w_del(meta, "namespace");
    if (mock_w_set_str(meta, "uid", ouid) != 0 ||
        mock_w_set_str(meta, "resourceVersion", mock_w_rv_of(old)) != 0)
        goto nomem;
    static const char *const kept[] = {
        "creationTimestamp", "generation", "deletionTimestamp",
        "deletionGracePeriodSeconds", "selfLink"};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        const cJSON *ov = fg_json_path(
            cJSON_GetObjectItemCaseSensitive(old, "metadata"), kept[i]);
        mock_w_del(meta, kept[i]);
        if (ov && fg_json_set(meta, kept[i], cJSON_Duplicate(ov, 1)) != 0)
            goto nomem;
    }
    if (mock_kind_has_generation(k) &&
        !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(obj, "spec"),
                       cJSON_GetObjectItemCaseSensitive(old, "spec"), 1)) {
        int64_t g = mock_json_int(old, "metadata.generation", 0);
        if (fg_json_set(meta, "generation",
                        cJSON_CreateNumber((double)(g + 1))) != 0)
            goto nomem;
    }
    if (mock_w_managed(w, old, obj) != 0)
        goto nomem;
    if (mock_tree_depth(obj, MOCK_WRITE_MAX_DEPTH) > MOCK_WRITE_MAX_DEPTH) {
        rc = mock_w_invalid(w, w->name, "metadata", "FieldValueInvalid",
                            "metadata: Invalid value: \"object\": nested too "
                            "deeply");
        goto out;
    }
    /* An update that changes nothing is no write: same resourceVersion,
     * no event, as with etcd. */
    if (cJSON_Compare(obj, old, 1) || w->dry_run) {
        cJSON *shown = scale ? mock_w_scale_of(obj) : NULL;
        rc = mock_w_doc(w, 200, scale ? shown : obj);
        cJSON_Delete(shown);
        if (scale && !shown)
            rc = -1;
        goto out;
    }
    cJSON_Delete(old);
    struct mock_doc *prev;
    if (mock_store_put(w->in->store, k, w->ns, w->name, obj, &prev) != 0)
        return -1;
    o = mock_store_get(w->in->store, k, w->ns, w->name);
    mock_w_changed(w, k, MOCK_EVENT_MODIFIED, prev, o->doc, o->rv);
    mock_doc_unref(prev);
    if (scale) {
        cJSON *cur = mock_obj_json(o);
        cJSON *s = cur ? mock_w_scale_of(cur) : NULL;
        rc = s ? mock_w_doc(w, 200, s) : -1;
        cJSON_Delete(s);
        cJSON_Delete(cur);
        return rc;
    }
    rc = mock_w_stored(w, 200, o->doc);
    /* The update that took the last finalizer ends a deletion. */
    mock_finalized(w->in, k, w->ns, w->name);
    return rc;
nomem:
    rc = -1;
out:
    cJSON_Delete(old);
    cJSON_Delete(obj);
    return rc > 0 ? 0 : rc;
}

int mock_w_put(struct mock_write *w, int scale)
{
    cJSON *obj = NULL;
    int rc = mock_w_read_object(w, &obj);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if (scale) {
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            return mock_w_bad_request(
                w, "the object provided is unrecognized (must "
                   "be of type Scale)");
        }
        if (!mock_w_child_obj(obj, "metadata")) {
            cJSON_Delete(obj);
            return -1;
        }
    } else if ((rc = mock_w_check_shape(w, obj)) != 0 ||
               (rc = mock_w_check_fields(w, obj)) != 0) {
        cJSON_Delete(obj);
        return rc > 0 ? 0 : -1;
    }
    return update_object(w, obj, scale);
}

int mock_w_update_obj(struct mock_write *w, cJSON *obj)
{
    return update_object(w, obj, 0);
}

enum patch_type { PT_MERGE, PT_JSON, PT_STRATEGIC };

int mock_w_patch(struct mock_write *w, int scale)
{
    char mt[96];
    mock_w_media_type(w, mt, sizeof(mt));
    enum patch_type pt;
    if (strcmp(mt, "application/merge-patch+json") == 0)
        pt = PT_MERGE;
    else if (strcmp(mt, "application/json-patch+json") == 0)
        pt = PT_JSON;
    else if (strcmp(mt, "application/strategic-merge-patch+json") == 0)
        pt = PT_STRATEGIC;
    else if (strcmp(mt, "application/apply-patch+yaml") == 0 && !scale)
        return mock_w_apply(w);
    else {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "the body of the request was in an unknown format - accepted "
                 "media types include: application/json-patch+json, "
                 "application/merge-patch+json, "
                 "application/apply-patch+yaml, "
                 "application/strategic-merge-patch+json");
        return mock_w_unsupported_media(w, msg);
    }
    int rc = mock_w_check_force(w);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    const struct mock_obj *o =
        mock_store_get(w->in->store, w->k, w->ns, w->name);
    if (!o)
        return mock_w_not_found(w, w->k, w->name);
    cJSON *patch = NULL;
    rc = mock_w_parse_json(w, &patch);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    cJSON *live = mock_obj_json(o);
    cJSON *doc = scale && live ? mock_w_scale_of(live) : live;
    if (doc != live)
        cJSON_Delete(live);
    if (!doc) {
        cJSON_Delete(patch);
        return -1;
    }
    char err[512] = "";
    if (pt == PT_MERGE) {
        if (!cJSON_IsObject(patch)) {
            rc = 1;
            snprintf(err, sizeof(err), "a merge patch must be a JSON object");
        } else {
            doc = fg_json_merge_patch(doc, patch);
            rc = doc ? 0 : -3;
        }
    } else if (pt == PT_JSON) {
        rc = mock_json_patch(&doc, patch, err, sizeof(err));
        rc = rc == -1 ? 1 : rc == -2 ? 2 : rc;
    } else {
        rc = mock_strategic_patch(&doc, patch, err, sizeof(err));
        rc = rc == -1 ? 2 : rc == -2 ? -3 : rc;
    }
    cJSON_Delete(patch);
    if (rc != 0) {
        cJSON_Delete(doc);
        if (rc == -3)
            return -1;
        if (rc == 1)
            return mock_w_bad_request(w, err);
        return mock_w_status(w, 422, "Invalid", err, NULL);
    }
    if (!scale) {
        rc = mock_w_check_shape(w, doc);
        if (rc == 0)
            rc = mock_w_check_fields(w, doc);
        if (rc != 0) {
            cJSON_Delete(doc);
            return rc > 0 ? 0 : -1;
        }
    } else if (!cJSON_IsObject(doc) || !mock_w_child_obj(doc, "metadata")) {
        cJSON_Delete(doc);
        return mock_w_bad_request(w, "the patched object is not a Scale");
    }
    return update_object(w, doc, scale);
}
