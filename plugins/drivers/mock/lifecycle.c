/* Deletion that takes time, as kube-apiserver and a kubelet make it: an
 * object with finalizers is only marked (deletionTimestamp) and goes when
 * an update removes the last one; a pod deleted with a grace period is
 * marked Terminating (deletionTimestamp = now + grace,
 * deletionGracePeriodSeconds) and removed when its pretend containers
 * stopped: after the grace, at most pod_termination (a short bound, so
 * that kubectl delete does not wait the 30 s default), or at once with
 * gracePeriodSeconds=0. Removals are due on one host timer per member. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

/* kube's default terminationGracePeriodSeconds. */
#define DEFAULT_GRACE_S 30

struct pending {
    size_t kind;
    char *ns, *name, *uid;
    uint64_t due_ms;
};

struct mock_lifecycle {
    struct mock_instance *in;
    struct fg_timer *timer;
    struct pending *v;
    size_t n, cap;
};

static void pending_free(struct pending *p)
{
    free(p->ns);
    free(p->name);
    free(p->uid);
}

void mock_lifecycle_free(struct mock_lifecycle *l)
{
    if (!l)
        return;
    if (l->timer)
        l->in->host->timer_free(l->timer);
    for (size_t i = 0; i < l->n; i++)
        pending_free(&l->v[i]);
    free(l->v);
    free(l);
}

static int has_finalizers(const cJSON *obj)
{
    const cJSON *f = fg_json_path(obj, "metadata.finalizers");
    return cJSON_IsArray(f) && f->child;
}

/* Whether the object with UID waits for its grace to end. */
static int is_pending(const struct mock_lifecycle *l, const char *uid)
{
    for (size_t i = 0; l && i < l->n; i++) {
        if (strcmp(l->v[i].uid, uid) == 0)
            return 1;
    }
    return 0;
}

/* Removes the object (of kind K at NS/NAME) and tells watchers. */
static void remove_now(struct mock_instance *in, const struct mock_kind *k,
                       const char *ns, const char *name)
{
    struct mock_doc *d = mock_store_remove(in->store, k, ns, name);
    if (!d)
        return;
    mock_watch_record(in, k, MOCK_EVENT_DELETED, NULL, d, in->store->rv);
    mock_persist_touch(in);
    mock_doc_unref(d);
}

static void arm(struct mock_lifecycle *l)
{
    if (!l->timer || l->n == 0)
        return;
    uint64_t now = l->in->host->now_ms(l->in->host), due = UINT64_MAX;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].due_ms < due)
            due = l->v[i].due_ms;
    }
    l->in->host->timer_arm(l->timer, due > now ? due - now : 0);
}

static void on_timer(void *arg)
{
    struct mock_lifecycle *l = arg;
    struct mock_instance *in = l->in;
    uint64_t now = in->host->now_ms(in->host);
    size_t i = 0;
    while (i < l->n) {
        struct pending p = l->v[i];
        if (p.due_ms > now) {
            i++;
            continue;
        }
        l->v[i] = l->v[--l->n];
        const struct mock_kind *k = mock_kind_at(p.kind);
        const struct mock_obj *o = mock_store_get(in->store, k, p.ns, p.name);
        char uid[MOCK_UID_MAX];
        cJSON *obj =
            o && strcmp(mock_doc_uid(o->doc, uid, sizeof(uid)), p.uid) == 0
                ? mock_obj_json(o)
                : NULL;
        /* Finalizers still hold it: their removal ends it (mock_finalized). */
        if (obj && !has_finalizers(obj))
            remove_now(in, k, p.ns, p.name);
        cJSON_Delete(obj);
        pending_free(&p);
    }
    arm(l);
}

static int schedule(struct mock_instance *in, const struct mock_kind *k,
                    const char *ns, const char *name, const char *uid,
                    uint64_t after_ms)
{
    if (!in->lifecycle) {
        in->lifecycle = calloc(1, sizeof(*in->lifecycle));
        if (!in->lifecycle)
            return -1;
        in->lifecycle->in = in;
    }
    struct mock_lifecycle *l = in->lifecycle;
    /* The timer is made here, on the loop that serves the member. */
    if (!l->timer)
        l->timer = in->host->timer_new(in->host, on_timer, l);
    if (!l->timer)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct pending *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    struct pending p = {mock_kind_index(k), strdup(ns), strdup(name),
                        strdup(uid), in->host->now_ms(in->host) + after_ms};
    if (!p.ns || !p.name || !p.uid) {
        pending_free(&p);
        return -1;
    }
    l->v[l->n++] = p;
    arm(l);
    return 0;
}

/* The grace period of this delete of pod OBJ: ?gracePeriodSeconds=, the
 * DeleteOptions body's, the pod's terminationGracePeriodSeconds, 30.
 * -1 when the query's is not a number (answered 400). */
static int64_t grace_of(struct mock_write *w, const cJSON *obj)
{
    char v[32];
    int r = fg_query_get(w->query, "gracePeriodSeconds", v, sizeof(v));
    if (r != 0) {
        char *end;
        long long g = r > 0 ? strtoll(v, &end, 10) : 0;
        if (r < 0 || !v[0] || *end) {
            mock_w_bad_request(w, "gracePeriodSeconds must be an integer");
            return -1;
        }
        return g < 0 ? 0 : g;
    }
    char mt[96];
    mock_w_media_type(w, mt, sizeof(mt));
    if (w->body && w->body->len > 0 &&
        (!mt[0] || strcmp(mt, "application/json") == 0)) {
        cJSON *opts = cJSON_ParseWithLength(w->body->data, w->body->len);
        const cJSON *g =
            cJSON_GetObjectItemCaseSensitive(opts, "gracePeriodSeconds");
        int64_t got = cJSON_IsNumber(g) ? (int64_t)g->valuedouble : -2;
        cJSON_Delete(opts);
        if (got != -2)
            return got < 0 ? 0 : got;
    }
    return mock_json_int(obj, "spec.terminationGracePeriodSeconds",
                         DEFAULT_GRACE_S);
}

int mock_w_delete_deferred(struct mock_write *w, const cJSON *obj)
{
    const struct mock_kind *k = w->k;
    int pod = !k->group[0] && strcmp(k->resource, "pods") == 0;
    int64_t grace = 0;
    if (pod && (grace = grace_of(w, obj)) < 0)
        return 1;
    if (!has_finalizers(obj) && grace == 0)
        return 0;
    if (fg_json_path(obj, "metadata.deletionTimestamp"))
        return mock_w_doc(w, 200, obj) == 0 ? 1 : -1;
    cJSON *next = cJSON_Duplicate(obj, 1);
    cJSON *meta =
        next ? cJSON_GetObjectItemCaseSensitive(next, "metadata") : NULL;
    char when[40];
    mock_time_format((int64_t)w->in->host->now_ms(w->in->host) + grace * 1000,
                     when, sizeof(when));
    if (!meta || mock_w_set_str(meta, "deletionTimestamp", when) != 0 ||
        fg_json_set(meta, "deletionGracePeriodSeconds",
                    cJSON_CreateNumber((double)grace)) != 0) {
        cJSON_Delete(next);
        return -1;
    }
    if (w->dry_run) {
        int rc = mock_w_doc(w, 200, next);
        cJSON_Delete(next);
        return rc == 0 ? 1 : -1;
    }
    char uid[64];
    snprintf(uid, sizeof(uid), "%s", mock_json_str(next, "metadata.uid", ""));
    struct mock_doc *prev;
    if (mock_store_put(w->in->store, k, w->ns, w->name, next, &prev) != 0)
        return -1;
    const struct mock_obj *n = mock_store_get(w->in->store, k, w->ns, w->name);
    mock_w_changed(w, k, MOCK_EVENT_MODIFIED, prev, n->doc, n->rv);
    mock_doc_unref(prev);
    if (grace > 0) {
        uint64_t ms = (uint64_t)grace * 1000;
        if (ms > w->in->pod_termination_ms)
            ms = w->in->pod_termination_ms;
        if (schedule(w->in, k, w->ns, w->name, uid, ms) != 0)
            return -1;
    }
    return mock_w_stored(w, 200, n->doc) == 0 ? 1 : -1;
}

void mock_finalized(struct mock_instance *in, const struct mock_kind *k,
                    const char *ns, const char *name)
{
    const struct mock_obj *o = mock_store_get(in->store, k, ns, name);
    char uid[MOCK_UID_MAX];
    /* Namespaces end through their own deletion (write_delete.c). */
    if (!o ||
        is_pending(in->lifecycle, mock_doc_uid(o->doc, uid, sizeof(uid))) ||
        (!k->group[0] && strcmp(k->resource, "namespaces") == 0))
        return;
    cJSON *obj = mock_obj_json(o);
    int gone = obj && fg_json_path(obj, "metadata.deletionTimestamp") &&
               !has_finalizers(obj);
    cJSON_Delete(obj);
    if (gone)
        remove_now(in, k, ns, name);
}
