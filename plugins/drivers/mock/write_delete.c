/* Deleting from the mock (DELETE): one object with its preconditions, a
 * namespace with everything in it, a collection by selectors; the answer
 * is the object or a Success Status, as each kind's registry returns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

/* The preconditions of a DeleteOptions body. Returns 0 or answers 409. */
static int check_preconditions(struct mock_write *w, const cJSON *obj)
{
    char mt[96];
    mock_w_media_type(w, mt, sizeof(mt));
    if (!w->body || w->body->len == 0 ||
        (mt[0] && strcmp(mt, "application/json") != 0))
        return 0; /* options other than preconditions change nothing here */
    cJSON *opts = NULL;
    int rc = mock_w_parse_json(w, &opts);
    if (rc != 0)
        return rc;
    const char *uid = mock_json_str(opts, "preconditions.uid", NULL);
    const char *rv = mock_json_str(opts, "preconditions.resourceVersion", NULL);
    const char *ouid = mock_json_str(obj, "metadata.uid", "");
    char msg[512];
    rc = 0;
    if (uid && strcmp(uid, ouid) != 0) {
        snprintf(msg, sizeof(msg),
                 "Precondition failed: UID in precondition: %.64s, UID in "
                 "object meta: %.64s",
                 uid, ouid);
        rc = mock_w_status(w, 409, "Conflict", msg, w->name) == 0 ? 1 : -1;
    } else if (rv && strcmp(rv, mock_w_rv_of(obj)) != 0) {
        snprintf(msg, sizeof(msg),
                 "Precondition failed: ResourceVersion in precondition: "
                 "%.64s, ResourceVersion in object meta: %.64s",
                 rv, mock_w_rv_of(obj));
        rc = mock_w_status(w, 409, "Conflict", msg, w->name) == 0 ? 1 : -1;
    }
    cJSON_Delete(opts);
    return rc;
}

/* Removes one object and tells watchers. Returns its last version (a
 * reference, the caller's), or NULL on memory failure (it stays). */
static struct mock_doc *remove_one(struct mock_write *w,
                                   const struct mock_kind *k, const char *ns,
                                   const char *name)
{
    struct mock_doc *d = mock_store_remove(w->in->store, k, ns, name);
    if (d)
        mock_w_changed(w, k, MOCK_EVENT_DELETED, NULL, d, w->in->store->rv);
    return d;
}

/* Everything in namespace NS goes with it. */
static int empty_namespace(struct mock_write *w, const char *ns)
{
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        if (!k->namespaced)
            continue;
        const struct mock_bucket *b = mock_store_bucket(w->in->store, k);
        size_t at = mock_store_seek(w->in->store, k, ns, "", 1);
        while (at < b->n && strcmp(b->v[at]->ns, ns) == 0) {
            char *name = strdup(b->v[at]->name);
            struct mock_doc *d = name ? remove_one(w, k, ns, name) : NULL;
            free(name);
            if (!d)
                return -1;
            mock_doc_unref(d);
        }
    }
    return 0;
}

static int delete_namespace(struct mock_write *w, const cJSON *old)
{
    if (strcmp(w->name, "default") == 0 ||
        strcmp(w->name, "kube-system") == 0 ||
        strcmp(w->name, "kube-public") == 0) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "namespaces \"%s\" is forbidden: this namespace may not be "
                 "deleted",
                 w->name);
        return mock_w_status(w, 403, "Forbidden", msg, w->name);
    }
    /* First the Terminating namespace that kube-apiserver answers with,
     * then, with nothing to wait for here, the end of it. */
    cJSON *term = cJSON_Duplicate(old, 1);
    cJSON *meta =
        term ? cJSON_GetObjectItemCaseSensitive(term, "metadata") : NULL;
    cJSON *st = term ? mock_w_child_obj(term, "status") : NULL;
    char now[40];
    mock_w_now(w, now, sizeof(now));
    if (!meta || !st || mock_w_set_str(meta, "deletionTimestamp", now) != 0 ||
        mock_w_set_str(st, "phase", "Terminating") != 0) {
        cJSON_Delete(term);
        return -1;
    }
    if (w->dry_run) {
        int rc = mock_w_doc(w, 200, term);
        cJSON_Delete(term);
        return rc;
    }
    struct mock_doc *prev;
    if (mock_store_put(w->in->store, w->k, "", w->name, term, &prev) != 0)
        return -1;
    const struct mock_obj *o = mock_store_get(w->in->store, w->k, "", w->name);
    mock_w_changed(w, w->k, MOCK_EVENT_MODIFIED, prev, o->doc, o->rv);
    mock_doc_unref(prev);
    int rc = mock_w_stored(w, 200, o->doc);
    if (rc != 0)
        return rc;
    if (empty_namespace(w, w->name) != 0)
        return -1;
    struct mock_doc *gone = remove_one(w, w->k, "", w->name);
    mock_doc_unref(gone);
    return gone ? 0 : -1;
}

/* Kinds whose registry returns the deleted object rather than a Status. */
static int returns_object(const struct mock_kind *k)
{
    return !k->group[0] && (strcmp(k->resource, "pods") == 0 ||
                            strcmp(k->resource, "services") == 0);
}

static int success_status(struct mock_write *w, const char *uid)
{
    struct fg_status st = {
        .status = "Success",
        .name = w->name,
        .group = w->k->group,
        .kind = w->k->resource,
        .uid = uid,
    };
    return mock_w_text(w, 200, fg_status_build(&st, NULL));
}

/* The delete of O (its object OBJ). */
static int delete_obj(struct mock_write *w, const struct mock_obj *o,
                      const cJSON *obj)
{
    int rc = check_preconditions(w, obj);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if (strcmp(w->k->resource, "namespaces") == 0 && !w->k->group[0])
        return delete_namespace(w, obj);
    if ((rc = mock_w_delete_deferred(w, obj)) != 0)
        return rc > 0 ? 0 : -1;
    char uid[MOCK_UID_MAX];
    if (w->dry_run)
        return returns_object(w->k)
                   ? mock_w_stored(w, 200, o->doc)
                   : success_status(w, mock_doc_uid(o->doc, uid, sizeof(uid)));
    struct mock_doc *d = remove_one(w, w->k, w->ns, w->name);
    if (!d)
        return -1;
    rc = returns_object(w->k)
             ? mock_w_stored(w, 200, d)
             : success_status(w, mock_doc_uid(d, uid, sizeof(uid)));
    mock_doc_unref(d);
    return rc;
}

int mock_w_delete(struct mock_write *w)
{
    const struct mock_obj *o =
        mock_store_get(w->in->store, w->k, w->ns, w->name);
    if (!o)
        return mock_w_not_found(w, w->k, w->name);
    cJSON *obj = mock_obj_json(o);
    int rc = obj ? delete_obj(w, o, obj) : -1;
    cJSON_Delete(obj);
    return rc;
}

int mock_w_delete_collection(struct mock_write *w)
{
    const struct mock_kind *k = w->k;
    if (strcmp(k->resource, "namespaces") == 0 || (k->namespaced && !w->ns[0]))
        return mock_w_method_not_allowed(w);
    struct fg_selector *sel[2];
    char msg[160];
    int r = mock_selectors_from_query(w->query, sel, msg, sizeof(msg));
    if (r != 0)
        return r < 0 ? -1 : mock_w_bad_request(w, msg);
    cJSON *list = cJSON_CreateObject();
    cJSON *items = NULL;
    char gv[64];
    if (list) {
        cJSON_AddStringToObject(list, "kind", k->list_kind);
        cJSON_AddStringToObject(list, "apiVersion",
                                mock_kind_api_version(k, gv, sizeof(gv)));
        cJSON_AddObjectToObject(list, "metadata");
        items = cJSON_AddArrayToObject(list, "items");
    }
    int rc = items ? 0 : -1;
    const struct mock_bucket *b = mock_store_bucket(w->in->store, k);
    size_t at = mock_store_seek(w->in->store, k, w->ns, "", 1);
    while (rc == 0 && at < b->n &&
           (!k->namespaced || strcmp(b->v[at]->ns, w->ns) == 0)) {
        const struct mock_obj *o = b->v[at];
        int m = mock_selector_match_doc(sel[0], o->doc);
        if (m > 0)
            m = mock_selector_match_doc(sel[1], o->doc);
        if (m <= 0) {
            rc = m;
            at++;
            continue;
        }
        if (w->dry_run) {
            if (!cJSON_AddItemToArray(items, mock_obj_json(o)))
                rc = -1;
            at++;
            continue;
        }
        char *name = strdup(o->name);
        struct mock_doc *d = name ? remove_one(w, k, w->ns, name) : NULL;
        free(name);
        cJSON *json = d ? mock_doc_parse(d) : NULL;
        mock_doc_unref(d);
        if (!json || !cJSON_AddItemToArray(items, json)) {
            cJSON_Delete(json);
            rc = -1;
        }
    }
    fg_selector_free(sel[0]);
    fg_selector_free(sel[1]);
    if (rc == 0) {
        char rv[24];
        snprintf(rv, sizeof(rv), "%llu", (unsigned long long)w->in->store->rv);
        cJSON_AddStringToObject(
            cJSON_GetObjectItemCaseSensitive(list, "metadata"),
            "resourceVersion", rv);
        rc = mock_w_doc(w, 200, list);
    }
    cJSON_Delete(list);
    return rc;
}
