/* Serving requests from a store (fedgate/objects.h) as kube-apiserver
 * serves a custom resource: the verbs, the status subresource, selectors,
 * Tables, JSON merge patch, dryRun, and watches resumed from the store's
 * ring of events. */
#include "objects_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>

#define MAX_BODY (3u << 20)
#define MAX_PENDING (8u << 20) /* a watch's unread events before it ends */
#define MAX_DEPTH 64

struct fg_objects_stream {
    struct fg_objects *s;
    const struct fg_request_head *head;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    const struct fg_object_kind *k;
    char *body;
    size_t len;
    int too_big;
    /* a watch */
    int watching, table, paused;
    struct fg_selector *labels, *fields;
    char *pending;
    size_t pending_len;
    struct fg_objects_stream *next_watch;
};

static void fail(struct fg_objects_stream *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct fg_objects_stream *st, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *reason = fg_status_reason(code);
    st->cb->error(st->ctx, code, reason ? reason : "InternalError", msg);
}

static void send_json(struct fg_objects_stream *st, int code, const cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    struct fg_header ct = {"content-type", 12, "application/json", 16};
    if (!text)
        fail(st, 503, "out of memory");
    else if (st->cb->head(st->ctx, code, &ct, 1) == 0 &&
             st->cb->data(st->ctx, text, strlen(text)) >= 0)
        st->cb->end(st->ctx);
    cJSON_free(text);
}

/* "repos.application.kubesphere.io": how kube-apiserver names a kind. */
static const char *qualified(const struct fg_object_kind *k, char *buf,
                             size_t len)
{
    snprintf(buf, len, "%s%s%s", k->resource, *k->group ? "." : "", k->group);
    return buf;
}

static const char *header(const struct fg_objects_stream *st, const char *name)
{
    for (size_t i = 0; i < st->head->n_headers; i++)
        if (strcmp(st->head->headers[i].name, name) == 0)
            return st->head->headers[i].value;
    return NULL;
}

static int query(const struct fg_objects_stream *st, const char *key, char *buf,
                 size_t len)
{
    buf[0] = '\0';
    return st->head->query ? fg_query_get(st->head->query, key, buf, len) : 0;
}

static cJSON *meta_of(cJSON *obj)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (!cJSON_IsObject(m)) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "metadata");
        m = cJSON_AddObjectToObject(obj, "metadata");
    }
    return m;
}

static const char *text_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* RFC 1123 subdomain: what names of API objects are. */
static int dns_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (c != '-' && c != '.'))
            return 0;
        if (!alnum && (i == 0 || i == n - 1))
            return 0;
    }
    return 1;
}

/* The request body as a JSON object of this kind, or NULL (answered). */
static cJSON *body_object(struct fg_objects_stream *st, int patch)
{
    const char *ct = header(st, "content-type");
    size_t ctlen = ct ? strcspn(ct, ";") : 0;
    int json = ct && ctlen == 16 && strncmp(ct, "application/json", 16) == 0;
    int merge = ct && ctlen == 28 &&
                strncmp(ct, "application/merge-patch+json", 28) == 0;
    char q[160];
    if (patch ? !merge : !json) {
        fail(st, 415, "%s is not supported for %s: %s",
             ct ? ct
                : "a body without a "
                  "content type",
             qualified(st->k, q, sizeof(q)),
             patch ? "send a JSON merge patch (kubectl patch --type=merge; "
                     "kubectl apply without --server-side)"
                   : "send JSON");
        return NULL;
    }
    cJSON *o = NULL;
    if (st->too_big)
        fail(st, 413, "the request body is larger than %u bytes", MAX_BODY);
    else if (fg_json_depth(st->body, st->len, MAX_DEPTH) > MAX_DEPTH ||
             !(o = cJSON_ParseWithLength(st->body ? st->body : "", st->len)) ||
             !cJSON_IsObject(o))
        fail(st, 400, "the request body is not a JSON object");
    if (o && !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        o = NULL;
    }
    return o;
}

/* Whether OBJ says it is of this kind; answers 400 when not. */
static int kind_matches(struct fg_objects_stream *st, const cJSON *obj)
{
    char gv[200];
    snprintf(gv, sizeof(gv), "%s%s%s", st->k->group, *st->k->group ? "/" : "",
             st->k->version);
    if (strcmp(text_of(obj, "apiVersion"), gv) != 0 ||
        strcmp(text_of(obj, "kind"), st->k->kind) != 0) {
        fail(st, 400, "the object is %s %s, not %s %s: it does not belong here",
             text_of(obj, "apiVersion"), text_of(obj, "kind"), gv, st->k->kind);
        return 0;
    }
    return 1;
}

static int dry_run(const struct fg_objects_stream *st)
{
    char v[16];
    return query(st, "dryRun", v, sizeof(v)) == 1 && strcmp(v, "All") == 0;
}

static int admit(struct fg_objects_stream *st, cJSON *obj, const cJSON *old)
{
    const struct fg_object_hooks *h = &st->s->hooks;
    const struct fg_request_info *info = st->head->info;
    char err[512] = "";
    int code = h->admit ? h->admit(h->arg, st->k, st->head->identity, obj, old,
                                   strcmp(info->subresource, "status") == 0,
                                   err, sizeof(err))
                        : 0;
    if (code)
        fail(st, code, "%s", err[0] ? err : "refused");
    return code;
}

/* Stores OBJ (taken over) and answers CODE with it. */
static void store_and_answer(struct fg_objects_stream *st, cJSON *obj, int code)
{
    struct fg_objects_kind_rt *rt = fg__objects_rt(st->s, st->k);
    char err[512];
    if (dry_run(st)) {
        send_json(st, code, obj);
        cJSON_Delete(obj);
        return;
    }
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    char *ns = strdup(text_of(meta, "namespace"));
    char *name = strdup(text_of(meta, "name"));
    /* storing it may end it (its last finalizer went): answer with it */
    cJSON *last = fg__objects_finalized(obj) ? cJSON_Duplicate(obj, 1) : NULL;
    if (!ns || !name || (fg__objects_finalized(obj) && !last)) {
        fail(st, 503, "out of memory");
        cJSON_Delete(obj);
    } else if (fg__objects_store(st->s, rt, obj, err, sizeof(err)) != 0) {
        fail(st, 500, "%s", err);
    } else {
        const cJSON *now = fg_objects_get(st->s, st->k, ns, name);
        send_json(st, code, now ? now : last);
    }
    cJSON_Delete(last);
    free(ns);
    free(name);
}

/* metadata.finalizers is a list of names, and a deletion under way takes
 * no new ones (as kube-apiserver): 0, or the refusal answered. */
static int check_finalizers(struct fg_objects_stream *st, const cJSON *meta,
                            const cJSON *old_meta)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(meta, "finalizers");
    const cJSON *had = cJSON_GetObjectItemCaseSensitive(old_meta, "finalizers");
    const cJSON *f;
    char q[160];
    if (list && !cJSON_IsArray(list) && !cJSON_IsNull(list)) {
        fail(st, 422, "%s is invalid: metadata.finalizers: must be a list",
             qualified(st->k, q, sizeof(q)));
        return -1;
    }
    cJSON_ArrayForEach(f, list)
    {
        if (!cJSON_IsString(f) || !*f->valuestring ||
            strlen(f->valuestring) > 316) {
            fail(st, 422,
                 "%s is invalid: metadata.finalizers: each must be a "
                 "qualified name",
                 qualified(st->k, q, sizeof(q)));
            return -1;
        }
        int known = 0;
        const cJSON *h;
        cJSON_ArrayForEach(h, had) known |=
            cJSON_IsString(h) && strcmp(h->valuestring, f->valuestring) == 0;
        if (!known &&
            cJSON_GetObjectItemCaseSensitive(old_meta, "deletionTimestamp")) {
            fail(st, 422,
                 "%s is invalid: metadata.finalizers: Forbidden: no new "
                 "finalizers can be added if the object is being deleted, "
                 "found new finalizers [\"%s\"]",
                 qualified(st->k, q, sizeof(q)), f->valuestring);
            return -1;
        }
    }
    return 0;
}

/* ---- the verbs ----------------------------------------------------------- */

static const cJSON *current(struct fg_objects_stream *st)
{
    const struct fg_request_info *info = st->head->info;
    const cJSON *o = fg_objects_get(st->s, st->k, info->namespace_, info->name);
    char q[160];
    if (!o)
        fail(st, 404, "%s \"%s\" not found", qualified(st->k, q, sizeof(q)),
             info->name);
    return o;
}

static void create(struct fg_objects_stream *st)
{
    const struct fg_request_info *info = st->head->info;
    cJSON *obj = body_object(st, 0);
    if (!obj || !kind_matches(st, obj)) {
        cJSON_Delete(obj);
        return;
    }
    cJSON *meta = meta_of(obj);
    char name[254], q[160];
    snprintf(name, sizeof(name), "%s", text_of(meta, "name"));
    const char *generate = text_of(meta, "generateName");
    if (!*name && *generate && strlen(generate) < 240) {
        char tail[6];
        fg__objects_random_hex(tail, 5);
        snprintf(name, sizeof(name), "%s%s", generate, tail);
    }
    const char *ns = text_of(meta, "namespace");
    if (!dns_subdomain(name)) {
        fail(st, 422,
             "%s \"%s\" is invalid: metadata.name: Invalid value: "
             "a lowercase RFC 1123 subdomain is required",
             qualified(st->k, q, sizeof(q)), name);
    } else if (st->k->namespaced && *ns && strcmp(ns, info->namespace_) != 0) {
        fail(st, 400,
             "the namespace of the object (%s) does not match the "
             "namespace on the request (%s)",
             ns, info->namespace_);
    } else if (fg_objects_get(st->s, st->k, info->namespace_, name)) {
        fail(st, 409, "%s \"%s\" already exists",
             qualified(st->k, q, sizeof(q)), name);
    } else {
        fg_json_set(meta, "name", cJSON_CreateString(name));
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "namespace");
        if (st->k->namespaced)
            fg_json_set(meta, "namespace",
                        cJSON_CreateString(info->namespace_));
        fg__objects_stamp(meta);
        if (check_finalizers(st, meta, NULL) == 0 &&
            admit(st, obj, NULL) == 0) {
            store_and_answer(st, obj, 201);
            return;
        }
    }
    cJSON_Delete(obj);
}

/* Whether A and B differ beyond metadata and status (the spec changed:
 * the generation moves). */
static int spec_differs(const cJSON *a, const cJSON *b)
{
    cJSON *x = cJSON_Duplicate(a, 1), *y = cJSON_Duplicate(b, 1);
    int differs = 1;
    if (x && y) {
        const char *skip[] = {"metadata", "status"};
        for (size_t i = 0; i < 2; i++) {
            cJSON_DeleteItemFromObjectCaseSensitive(x, skip[i]);
            cJSON_DeleteItemFromObjectCaseSensitive(y, skip[i]);
        }
        differs = !cJSON_Compare(x, y, 1);
    }
    cJSON_Delete(x);
    cJSON_Delete(y);
    return differs;
}

/* NEXT (taken over) replaces OLD: what the client may not change is
 * kept, the main resource keeps OLD's status, the status subresource
 * takes only NEXT's status. */
static void replace(struct fg_objects_stream *st, cJSON *next, const cJSON *old)
{
    const struct fg_request_info *info = st->head->info;
    const cJSON *old_meta = cJSON_GetObjectItemCaseSensitive(old, "metadata");
    cJSON *meta = meta_of(next);
    char q[160];
    const char *rv = text_of(meta, "resourceVersion");
    if (*rv && strcmp(rv, text_of(old_meta, "resourceVersion")) != 0) {
        fail(st, 409,
             "Operation cannot be fulfilled on %s \"%s\": the object has "
             "been modified; please apply your changes to the latest version "
             "and try again",
             qualified(st->k, q, sizeof(q)), info->name);
        cJSON_Delete(next);
        return;
    }
    if (strcmp(text_of(meta, "name"), info->name) != 0) {
        fail(st, 400,
             "the name of the object (%s) does not match the name "
             "on the URL (%s)",
             text_of(meta, "name"), info->name);
        cJSON_Delete(next);
        return;
    }
    if (strcmp(info->subresource, "status") == 0) {
        cJSON *status = cJSON_DetachItemFromObjectCaseSensitive(next, "status");
        cJSON_Delete(next);
        next = cJSON_Duplicate(old, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(next, "status");
        if (status)
            cJSON_AddItemToObject(next, "status", status);
        meta = meta_of(next);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(next, "status");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(old, "status");
        if (status)
            cJSON_AddItemToObject(next, "status", cJSON_Duplicate(status, 1));
    }
    const char *keep[] = {
        "uid",        "creationTimestamp", "namespace",
        "generation", "deletionTimestamp", "deletionGracePeriodSeconds"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, keep[i]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(old_meta, keep[i]);
        if (v)
            cJSON_AddItemToObject(meta, keep[i], cJSON_Duplicate(v, 1));
    }
    if (spec_differs(next, old)) {
        const cJSON *g =
            cJSON_GetObjectItemCaseSensitive(old_meta, "generation");
        fg_json_set(
            meta, "generation",
            cJSON_CreateNumber(cJSON_IsNumber(g) ? g->valuedouble + 1 : 1));
    }
    if (!kind_matches(st, next) || check_finalizers(st, meta, old_meta) != 0 ||
        admit(st, next, old) != 0) {
        cJSON_Delete(next);
        return;
    }
    store_and_answer(st, next, 200);
}

static void update(struct fg_objects_stream *st)
{
    const cJSON *old = current(st);
    cJSON *next = old ? body_object(st, 0) : NULL;
    if (next)
        replace(st, next, old);
}

static void patch(struct fg_objects_stream *st)
{
    const cJSON *old = current(st);
    cJSON *p = old ? body_object(st, 1) : NULL;
    if (!p)
        return;
    cJSON *next = fg_json_merge_patch(cJSON_Duplicate(old, 1), p);
    cJSON_Delete(p);
    if (!next || !cJSON_IsObject(next)) {
        cJSON_Delete(next);
        fail(st, 422, "the patch does not leave an object");
        return;
    }
    replace(st, next, old);
}

static void delete_one(struct fg_objects_stream *st)
{
    const struct fg_request_info *info = st->head->info;
    const cJSON *old = current(st);
    if (!old || admit(st, NULL, old) != 0)
        return;
    const cJSON *old_meta = cJSON_GetObjectItemCaseSensitive(old, "metadata");
    if (cJSON_GetArraySize(
            cJSON_GetObjectItemCaseSensitive(old_meta, "finalizers")) > 0) {
        /* finalizers hold it: the deletion is asked for, and it ends when
         * the last of them is removed */
        if (cJSON_GetObjectItemCaseSensitive(old_meta, "deletionTimestamp")) {
            send_json(st, 200, old);
            return;
        }
        cJSON *marked = cJSON_Duplicate(old, 1);
        char now[32];
        fg__objects_now(now);
        if (marked) {
            fg_json_set(meta_of(marked), "deletionTimestamp",
                        cJSON_CreateString(now));
            fg_json_set(meta_of(marked), "deletionGracePeriodSeconds",
                        cJSON_CreateNumber(0));
        }
        if (!marked)
            fail(st, 503, "out of memory");
        else
            store_and_answer(st, marked, 200);
        return;
    }
    if (dry_run(st)) {
        send_json(st, 200, old);
        return;
    }
    struct fg_objects_kind_rt *rt = fg__objects_rt(st->s, st->k);
    long at = fg__objects_find(rt, info->namespace_, info->name);
    cJSON *gone = cJSON_Duplicate(old, 1);
    fg__objects_drop(st->s, rt, (size_t)at);
    send_json(st, 200, gone);
    cJSON_Delete(gone);
}

static int selectors(struct fg_objects_stream *st)
{
    char text[1024];
    int r = query(st, "labelSelector", text, sizeof(text));
    if (r < 0 || (r && fg_selector_parse(text, 0, &st->labels) != 0)) {
        fail(st, 400, "labelSelector: unable to parse requirement");
        return -1;
    }
    r = query(st, "fieldSelector", text, sizeof(text));
    if (r < 0 || (r && fg_selector_parse(text, 1, &st->fields) != 0)) {
        fail(st, 400, "fieldSelector: unable to parse requirement");
        return -1;
    }
    return 0;
}

static int wanted(const struct fg_objects_stream *st, const cJSON *obj)
{
    const char *ns = st->head->info->namespace_;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    return (!*ns || strcmp(text_of(meta, "namespace"), ns) == 0) &&
           fg_selector_match(st->labels, obj) &&
           fg_selector_match(st->fields, obj);
}

static int asks_table(const struct fg_objects_stream *st)
{
    static const char *const versions[] = {"v1", "v1beta1", NULL};
    const char *accept = header(st, "accept");
    return accept && fg_accept_find(accept, strlen(accept), "Table",
                                    "meta.k8s.io", versions) > 0;
}

static void list(struct fg_objects_stream *st)
{
    if (selectors(st) != 0)
        return;
    const struct fg_objects_kind_rt *rt = fg__objects_rt(st->s, st->k);
    const cJSON **items = calloc(rt->n ? rt->n : 1, sizeof(*items));
    if (!items) {
        fail(st, 503, "out of memory");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < rt->n; i++)
        if (wanted(st, rt->v[i].obj))
            items[n++] = rt->v[i].obj;
    char rv[24], gv[200], kind[96];
    snprintf(rv, sizeof(rv), "%llu", (unsigned long long)st->s->rv);
    cJSON *out;
    if (asks_table(st)) {
        out = fg__objects_table(st->k, items, n, rv);
    } else {
        snprintf(gv, sizeof(gv), "%s%s%s", st->k->group,
                 *st->k->group ? "/" : "", st->k->version);
        snprintf(kind, sizeof(kind), "%sList", st->k->kind);
        out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "apiVersion", gv);
        cJSON_AddStringToObject(out, "kind", kind);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(out, "metadata"),
                                "resourceVersion", rv);
        cJSON *a = cJSON_AddArrayToObject(out, "items");
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(a, cJSON_Duplicate(items[i], 1));
    }
    free(items);
    send_json(st, 200, out);
    cJSON_Delete(out);
}

/* ---- watches ------------------------------------------------------------- */

static void unlink_watch(struct fg_objects_stream *st)
{
    for (struct fg_objects_stream **p = &st->s->watches; *p;
         p = &(*p)->next_watch)
        if (*p == st) {
            *p = st->next_watch;
            break;
        }
    st->watching = 0;
}

/* Sends TEXT as one event, or keeps it while the client is paused; a
 * client too far behind loses the watch (it lists and watches again). */
static void emit(struct fg_objects_stream *st, const char *text, size_t len)
{
    if (st->paused) {
        char *p = st->pending_len + len > MAX_PENDING
                      ? NULL
                      : realloc(st->pending, st->pending_len + len);
        if (!p) {
            unlink_watch(st);
            st->cb->end(st->ctx);
            return;
        }
        memcpy(p + st->pending_len, text, len);
        st->pending = p;
        st->pending_len += len;
        return;
    }
    int r = st->cb->data(st->ctx, text, len);
    if (r == FG_PAUSE)
        st->paused = 1;
    else if (r < 0)
        unlink_watch(st);
}

static void event(struct fg_objects_stream *st, const char *type,
                  const cJSON *obj)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddItemToObject(e, "object",
                          st->table ? fg__objects_table(st->k, &obj, 1, NULL)
                                    : cJSON_Duplicate(obj, 1));
    char *text = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    if (!text) {
        unlink_watch(st);
        st->cb->error(st->ctx, 503, "ServiceUnavailable", "out of memory");
        return;
    }
    size_t len = strlen(text);
    char *line = malloc(len + 2);
    if (line) {
        memcpy(line, text, len);
        line[len] = '\n';
        emit(st, line, len + 1);
    }
    free(line);
    cJSON_free(text);
}

static const char *const event_types[] = {"", "ADDED", "MODIFIED", "DELETED"};

void fg__objects_notify(struct fg_objects *s, const struct fg_objects_event *e)
{
    struct fg_objects_stream *st = s->watches;
    while (st) {
        struct fg_objects_stream *next = st->next_watch;
        if (st->k == e->k && wanted(st, e->obj))
            event(st, event_types[e->type], e->obj);
        st = next;
    }
}

void fg__objects_end_watches(struct fg_objects *s)
{
    while (s->watches) {
        struct fg_objects_stream *st = s->watches;
        unlink_watch(st);
        st->cb->end(st->ctx);
    }
}

static void watch(struct fg_objects_stream *st)
{
    if (selectors(st) != 0)
        return;
    char rv_text[32];
    query(st, "resourceVersion", rv_text, sizeof(rv_text));
    uint64_t from = strtoull(rv_text, NULL, 10);
    struct fg_header ct = {"content-type", 12, "application/json", 16};
    if (st->cb->head(st->ctx, 200, &ct, 1) != 0)
        return;
    st->table = asks_table(st);
    st->watching = 1;
    st->next_watch = st->s->watches;
    st->s->watches = st;
    if (from && from < st->s->forgotten_rv) {
        unlink_watch(st);
        const char *too_old =
            "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
            "\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
            "\"message\":\"too old resource version\",\"reason\":\"Expired\","
            "\"code\":410}}\n";
        if (st->cb->data(st->ctx, too_old, strlen(too_old)) >= 0)
            st->cb->end(st->ctx);
        return;
    }
    if (!from) {
        const struct fg_objects_kind_rt *rt = fg__objects_rt(st->s, st->k);
        for (size_t i = 0; i < rt->n && st->watching; i++)
            if (wanted(st, rt->v[i].obj))
                event(st, "ADDED", rt->v[i].obj);
        return;
    }
    for (size_t i = 0; i < st->s->ring_n && st->watching; i++) {
        const struct fg_objects_event *e =
            &st->s->ring[(st->s->ring_start + i) % FG_OBJECTS_RING];
        if (e->rv > from && e->k == st->k && wanted(st, e->obj))
            event(st, event_types[e->type], e->obj);
    }
}

/* ---- the stream ---------------------------------------------------------- */

const struct fg_object_kind *
fg_objects_kind_of(const struct fg_objects *s,
                   const struct fg_request_info *info)
{
    if (!info->is_resource)
        return NULL;
    for (size_t i = 0; i < s->n_kinds; i++) {
        const struct fg_object_kind *k = s->kinds[i].k;
        if (strcmp(k->group, info->api_group) == 0 &&
            strcmp(k->version, info->api_version) == 0 &&
            strcmp(k->resource, info->resource) == 0)
            return k;
    }
    return NULL;
}

struct fg_objects_stream *fg_objects_open(struct fg_objects *s,
                                          const struct fg_request_head *head,
                                          const struct fg_stream_callbacks *cb,
                                          void *ctx)
{
    struct fg_objects_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    *st =
        (struct fg_objects_stream){.s = s, .head = head, .cb = cb, .ctx = ctx};
    st->k = fg_objects_kind_of(s, head->info);
    return st;
}

int fg_objects_write(struct fg_objects_stream *st, const void *buf, size_t len)
{
    if (st->too_big || st->len + len > MAX_BODY) {
        st->too_big = 1;
        return 0; /* answered 413 at the end */
    }
    char *b = realloc(st->body, st->len + len + 1);
    if (!b)
        return -1;
    memcpy(b + st->len, buf, len);
    st->body = b;
    st->len += len;
    return 0;
}

void fg_objects_end(struct fg_objects_stream *st)
{
    const struct fg_request_info *info = st->head->info;
    const char *verb = info->verb;
    int one = *info->name != 0;
    char q[160];
    if (!st->k) {
        fail(st, 404, "the server could not find the requested resource");
    } else if (*info->subresource && strcmp(info->subresource, "status") != 0) {
        fail(st, 404, "%s has no subresource \"%s\"",
             qualified(st->k, q, sizeof(q)), info->subresource);
    } else if (st->k->namespaced != (*info->namespace_ != 0) &&
               (one || strcmp(verb, "create") == 0)) {
        fail(st, 404, "%s is %s", qualified(st->k, q, sizeof(q)),
             st->k->namespaced ? "namespaced" : "cluster-scoped");
    } else if (strcmp(verb, "get") == 0 && one) {
        /* kubectl get NAME asks for a one-row Table, as for a list */
        const cJSON *o = current(st);
        cJSON *table =
            o && asks_table(st) ? fg__objects_table(st->k, &o, 1, NULL) : NULL;
        if (table)
            send_json(st, 200, table);
        else if (o)
            send_json(st, 200, o);
        cJSON_Delete(table);
    } else if (strcmp(verb, "list") == 0) {
        /* with a name: kube-apiserver's RequestInfo names the object of a
         * fieldSelector=metadata.name=X (kubectl delete --wait lists so);
         * the selector itself filters */
        list(st);
    } else if (strcmp(verb, "watch") == 0) {
        watch(st);
    } else if (strcmp(verb, "create") == 0 && !one && !*info->subresource) {
        create(st);
    } else if (strcmp(verb, "update") == 0 && one) {
        update(st);
    } else if (strcmp(verb, "patch") == 0 && one) {
        patch(st);
    } else if (strcmp(verb, "delete") == 0 && one && !*info->subresource) {
        delete_one(st);
    } else {
        fail(st, 405, "%s is not supported on %s", st->head->method,
             qualified(st->k, q, sizeof(q)));
    }
}

void fg_objects_resume(struct fg_objects_stream *st)
{
    if (!st->paused)
        return;
    st->paused = 0;
    if (!st->pending_len)
        return;
    char *p = st->pending;
    size_t len = st->pending_len;
    st->pending = NULL;
    st->pending_len = 0;
    emit(st, p, len);
    free(p);
}

void fg_objects_close(struct fg_objects_stream *st)
{
    if (!st)
        return;
    if (st->watching)
        unlink_watch(st);
    fg_selector_free(st->labels);
    fg_selector_free(st->fields);
    free(st->pending);
    free(st->body);
    free(st);
}
