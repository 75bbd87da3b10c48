/* The live objects of a release (release_live.h): one member call at a
 * time, Helm's record, the discovery of each group version it uses, then
 * each object, and the answer. */
#include "release_live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/fedgate.h>
#include <fedgate/util.h>

#include "helm_release.h"
#include "manifest.h"
#include "release.h"

enum step {
    L_RECORD,   /* Helm's record of the revision, as the creator */
    L_DISCOVER, /* each group version's resources, as the creator */
    L_OBJECTS,  /* each object, as the caller */
};

struct appstore_live {
    struct appstore *a;
    cJSON *release; /* what is answered */
    const struct fg_identity *caller;
    struct appstore_creator creator;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    struct fg_member_ask *call;
    enum step step;
    size_t i;
    const char *name, *cluster, *ns; /* into RELEASE */
    struct appstore_manifest m;
    cJSON *gvs;       /* the group versions of M's documents */
    cJSON *discovery; /* "GROUP/VERSION" -> APIResourceList */
    cJSON *objects;   /* status.realTimeResources */
};

static const char *text_at(const cJSON *obj, const char *path)
{
    const cJSON *v = fg_json_path(obj, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

struct appstore_live *appstore_live_open(struct appstore *a,
                                         const cJSON *release,
                                         const struct fg_identity *caller,
                                         const struct fg_stream_callbacks *cb,
                                         void *ctx)
{
    struct appstore_live *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    *l = (struct appstore_live){.a = a, .caller = caller, .cb = cb, .ctx = ctx};
    l->release = cJSON_Duplicate(release, 1);
    l->gvs = cJSON_CreateArray();
    l->discovery = cJSON_CreateObject();
    l->objects = cJSON_CreateArray();
    if (!l->release || !l->gvs || !l->discovery || !l->objects) {
        appstore_live_close(l);
        return NULL;
    }
    l->name = text_at(l->release, "metadata.name");
    l->cluster = text_at(l->release, "metadata.labels.kubesphere\\.io/cluster");
    l->ns = text_at(l->release, "metadata.labels.kubesphere\\.io/namespace");
    return l;
}

void appstore_live_close(struct appstore_live *l)
{
    if (!l)
        return;
    fg_member_ask_cancel(l->call);
    appstore_creator_free(&l->creator);
    appstore_manifest_free(&l->m);
    cJSON_Delete(l->release);
    cJSON_Delete(l->gvs);
    cJSON_Delete(l->discovery);
    cJSON_Delete(l->objects);
    free(l);
}

static void free_body(void *arg, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    free(arg);
}

/* The release, with what was read of its objects when WITH (else none:
 * its record could not be read, as KubeSphere leaves them out then). The
 * last thing done with L: the stream may be closed from the callbacks. */
static void answer(struct appstore_live *l, int with)
{
    cJSON *st = cJSON_GetObjectItemCaseSensitive(l->release, "status");
    if (!cJSON_IsObject(st)) {
        cJSON_DeleteItemFromObjectCaseSensitive(l->release, "status");
        st = cJSON_AddObjectToObject(l->release, "status");
    }
    if (with && st) {
        cJSON_AddItemToObject(st, "realTimeResources", l->objects);
        l->objects = NULL;
    }
    char *body = st ? cJSON_PrintUnformatted(l->release) : NULL;
    if (!body) {
        l->cb->error(l->ctx, 500, "InternalError", "out of memory");
        return;
    }
    size_t n = strlen(body);
    char len[24];
    snprintf(len, sizeof(len), "%zu", n);
    struct fg_header hd[] = {
        {"content-type", 12, "application/json", 16},
        {"content-length", 14, len, strlen(len)},
    };
    if (l->cb->head(l->ctx, 200, hd, 2) < 0) {
        free(body);
        return;
    }
    if (l->cb->data_ref(l->ctx, body, n, free_body, body) < 0)
        return;
    l->cb->end(l->ctx);
}

/* Why the objects cannot be shown: logged, and the release answered
 * without them. */
static void without(struct appstore_live *l, const char *why)
{
    l->a->host->log(l->a->host, FG_LOG_INFO,
                    "appstore: release %s: its live objects cannot be read "
                    "from the member cluster \"%s\": %s",
                    l->name, l->cluster, why);
    answer(l, 0);
}

static void answered(void *arg, int status, const char *body, size_t len);
static void next_object(struct appstore_live *l);

static void get(struct appstore_live *l, const struct fg_identity *who,
                const char *path)
{
    struct fg_member_ask_request req = {.method = "GET", .path = path};
    l->call = appstore_ask(l->a->host, l->cluster, who, req, answered, l);
    if (!l->call)
        l->cb->error(l->ctx, 500, "InternalError", "out of memory");
}

/* An object that could not be read, as KubeSphere shows one: its kind,
 * name and namespace, and why in status.state. */
static cJSON *unread(const struct appstore_doc *d, const char *ns,
                     const char *why)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", d->api_version);
    cJSON_AddStringToObject(o, "kind", d->kind);
    cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(meta, "name", d->name);
    if (ns)
        cJSON_AddStringToObject(meta, "namespace", ns);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "status"), "state", why);
    return o;
}

/* The next group version's discovery, or the objects once all are read. */
static void next_gv(struct appstore_live *l)
{
    const char *gv =
        cJSON_GetStringValue(cJSON_GetArrayItem(l->gvs, (int)l->i));
    if (!gv) {
        l->step = L_OBJECTS;
        l->i = 0;
        next_object(l);
        return;
    }
    char path[600];
    snprintf(path, sizeof(path), "%s%s", strchr(gv, '/') ? "/apis/" : "/api/",
             gv);
    get(l, &l->creator.who, path);
}

/* The next object the member serves, or the answer once all are read. */
static void next_object(struct appstore_live *l)
{
    char path[1024];
    for (; l->i < l->m.n; l->i++) {
        const struct appstore_doc *d = &l->m.v[l->i];
        if (appstore_doc_path(l->discovery, d, l->ns, path, sizeof(path)) ==
            0) {
            get(l, l->caller, path);
            return;
        }
        char why[400];
        snprintf(why, sizeof(why), "the member serves no kind %s in %s",
                 d->kind, d->api_version);
        cJSON_AddItemToArray(l->objects, unread(d, d->ns, why));
    }
    answer(l, 1);
}

/* Helm's record (BODY): the objects its manifest names. */
static void record_read(struct appstore_live *l, const char *body)
{
    cJSON *secret = cJSON_Parse(body);
    cJSON *rel =
        appstore_helm_secret_release(secret, APPSTORE_MAX_RELEASE_JSON);
    cJSON_Delete(secret);
    const char *manifest = text_at(rel, "manifest");
    char err[300];
    int ok = rel && appstore_manifest_read(&l->m, manifest, strlen(manifest),
                                           err, sizeof(err)) == 0;
    cJSON_Delete(rel);
    if (!ok) {
        without(l, "its Helm release record is not one Helm wrote");
        return;
    }
    for (size_t i = 0; i < l->m.n; i++) {
        const char *gv = l->m.v[i].api_version;
        int seen = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, l->gvs)
        {
            seen |= strcmp(e->valuestring, gv) == 0;
        }
        if (!seen)
            cJSON_AddItemToArray(l->gvs, cJSON_CreateString(gv));
    }
    l->step = L_DISCOVER;
    l->i = 0;
    next_gv(l);
}

/* The object the caller read (STATUS, BODY), or why not. */
static void object_read(struct appstore_live *l, int status, const char *body)
{
    const struct appstore_doc *d = &l->m.v[l->i];
    cJSON *o = status >= 200 && status < 300 ? cJSON_Parse(body) : NULL;
    if (o) {
        cJSON_DeleteItemFromObjectCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(o, "metadata"), "managedFields");
    } else {
        char why[512];
        appstore_answer_message(status, body, why, sizeof(why));
        char path[1024];
        appstore_doc_path(l->discovery, d, l->ns, path, sizeof(path));
        o = unread(
            d, strstr(path, "/namespaces/") ? (d->ns ? d->ns : l->ns) : NULL,
            why);
    }
    cJSON_AddItemToArray(l->objects, o);
    l->i++;
    next_object(l);
}

static void handle(struct appstore_live *l, int status, const char *body)
{
    int ok = status >= 200 && status < 300;
    char why[512];
    switch (l->step) {
    case L_RECORD:
        if (ok) {
            record_read(l, body);
            return;
        }
        appstore_answer_message(status, body, why, sizeof(why));
        without(l, why);
        return;
    case L_DISCOVER:
        if (ok || status == 404) { /* 404: a group the member lacks */
            cJSON *list = ok ? cJSON_Parse(body) : NULL;
            if (list)
                cJSON_AddItemToObject(
                    l->discovery,
                    cJSON_GetArrayItem(l->gvs, (int)l->i)->valuestring, list);
            l->i++;
            next_gv(l);
            return;
        }
        appstore_answer_message(status, body, why, sizeof(why));
        without(l, why);
        return;
    case L_OBJECTS:
        object_read(l, status, body);
        return;
    }
}

/* The answer lives in the ask, freed when this returns (L may be gone by
 * then: the answer ends the stream). */
static void answered(void *arg, int status, const char *body, size_t len)
{
    (void)len;
    struct appstore_live *l = arg;
    l->call = NULL;
    handle(l, status, body);
}

void appstore_live_start(struct appstore_live *l)
{
    const cJSON *version = fg_json_path(l->release, "status.version");
    if (!cJSON_IsNumber(version) || version->valueint < 1) {
        answer(l, 1); /* nothing was installed: no objects */
        return;
    }
    if (appstore_creator_read(l->release, &l->creator) < 0) {
        without(l, "the release has no creator annotation");
        return;
    }
    char name[300], path[700];
    appstore_helm_secret_name(l->name, version->valueint, name, sizeof(name));
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", l->ns,
             name);
    l->step = L_RECORD;
    get(l, &l->creator.who, path);
}
