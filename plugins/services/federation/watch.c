/* Drift watches (watch.h). Each watch is a member call whose answer is
 * read line by line as watch events; it is reopened after it ends, with a
 * capped backoff while the member fails. Events caused by the service's
 * own applies are recognised by the resource version the apply answered
 * with, so that applying does not feed itself. */
#include "watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#include "federation.h"

#define MAX_EVENT (1u << 20)
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

struct fed_watch {
    struct fed_watch *next;
    struct federation *f;
    char *member;
    size_t kind;
    char *user;
    char **groups;
    struct fg_identity who;
    struct fg_member_call *call;
    struct fg_request_head head;
    char path[300];
    struct fg_timer *timer;
    char *line;
    size_t len, cap;
    int status;    /* the answer's status, 0 before it */
    int failed;    /* the last attempt failed: the next success resyncs */
    uint64_t wait; /* the next backoff */
};

struct fed_version {
    struct fed_version *next;
    char *member, *owner, *rv;
};

static const char *text(const cJSON *obj, const char *path)
{
    const cJSON *v = fg_json_path(obj, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

int fed_watch_own_version(struct federation *f, const char *member,
                          const char *owner, const char *rv, int mine)
{
    struct fed_version *v = f->versions;
    for (; v; v = v->next)
        if (strcmp(v->member, member) == 0 && strcmp(v->owner, owner) == 0)
            break;
    if (!mine)
        return v && *rv && strcmp(v->rv, rv) == 0;
    char *copy = strdup(rv);
    if (!copy)
        return 0;
    if (!v) {
        v = calloc(1, sizeof(*v));
        if (!v || !(v->member = strdup(member)) ||
            !(v->owner = strdup(owner))) {
            if (v)
                free(v->member);
            free(v);
            free(copy);
            return 0;
        }
        v->next = f->versions;
        f->versions = v;
    }
    free(v->rv);
    v->rv = copy;
    return 1;
}

static void version_free(struct fed_version *v)
{
    free(v->member);
    free(v->owner);
    free(v->rv);
    free(v);
}

void fed_watch_forget(struct federation *f, const char *member,
                      const char *owner)
{
    for (struct fed_version **p = &f->versions; *p; p = &(*p)->next)
        if (strcmp((*p)->member, member) == 0 &&
            strcmp((*p)->owner, owner) == 0) {
            struct fed_version *v = *p;
            *p = v->next;
            version_free(v);
            return;
        }
}

/* The federated object an event's member object belongs to: queued,
 * unless the event is the service's own apply. */
static void event(struct fed_watch *w, const char *line, size_t len)
{
    cJSON *ev = cJSON_ParseWithLength(line, len);
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
    const char *type = text(ev, "type");
    const char *owner =
        text(obj, "metadata.annotations.fedgate\\.io/federated-object");
    char resource[128], ns[254], name[254];
    if ((strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0 ||
         strcmp(type, "DELETED") == 0) &&
        sscanf(owner, "%127[^/]/%253[^/]/%253s", resource, ns, name) == 3 &&
        (strcmp(type, "DELETED") == 0 ||
         !fed_watch_own_version(w->f, w->member, owner,
                                text(obj, "metadata.resourceVersion"), 0)))
        for (size_t i = 0; i < FED_N_TYPES; i++)
            if (strcmp(fed_kinds[i].resource, resource) == 0)
                fed_enqueue(w->f, &fed_kinds[i], ns, name);
    cJSON_Delete(ev);
}

/* Every object of the watch's kind: what the member may have missed. */
static int queue_one(void *arg, const cJSON *obj)
{
    struct fed_watch *w = arg;
    fed_enqueue(w->f, &fed_kinds[w->kind], text(obj, "metadata.namespace"),
                text(obj, "metadata.name"));
    return 0;
}

static void restart(struct fed_watch *w, int failed)
{
    if (failed) {
        w->failed = 1;
        w->wait = w->wait ? w->wait * 2 : BACKOFF_MIN_MS;
        if (w->wait > BACKOFF_MAX_MS)
            w->wait = BACKOFF_MAX_MS;
    }
    w->f->host->timer_arm(w->timer, failed ? w->wait : 0);
}

static int on_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    (void)h;
    (void)n;
    struct fed_watch *w = ctx;
    w->status = status;
    if (status != 200)
        return 0;
    w->wait = 0;
    if (w->failed) {
        w->failed = 0;
        fg_objects_each(w->f->objects, &fed_kinds[w->kind], queue_one, w);
    }
    return 0;
}

static int on_data(void *ctx, const void *buf, size_t len)
{
    struct fed_watch *w = ctx;
    if (w->status != 200)
        return 0; /* a Status: the restart logs nothing more of it */
    const char *p = buf;
    while (len) {
        const char *nl = memchr(p, '\n', len);
        size_t take = nl ? (size_t)(nl - p) : len;
        if (w->len + take > MAX_EVENT) {
            restart(w, 1);
            return -1;
        }
        if (w->len + take > w->cap) {
            size_t cap = (w->len + take) * 2;
            char *b = realloc(w->line, cap);
            if (!b) {
                restart(w, 1);
                return -1;
            }
            w->line = b;
            w->cap = cap;
        }
        memcpy(w->line + w->len, p, take);
        w->len += take;
        if (nl) {
            event(w, w->line, w->len);
            w->len = 0;
            take++;
        }
        p += take;
        len -= take;
    }
    return 0;
}

static void on_end(void *ctx)
{
    struct fed_watch *w = ctx;
    restart(w, w->status != 200);
}

static void on_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    (void)code;
    (void)reason;
    (void)message;
    restart(ctx, 1);
}

static void on_body(void *ctx)
{
    (void)ctx;
}

static const struct fg_stream_callbacks callbacks = {
    .head = on_head,
    .data = on_data,
    .end = on_end,
    .error = on_error,
    .body_pause = on_body,
    .body_resume = on_body,
};

/* The timer: closes the call that ended and opens the next. */
static void open_watch(void *arg)
{
    struct fed_watch *w = arg;
    const struct fg_host *h = w->f->host;
    if (w->call)
        h->member_call_close(w->call);
    w->call = NULL;
    w->status = 0;
    w->len = 0;
    char err[256];
    w->head = (struct fg_request_head){
        .method = "GET",
        .path = w->path,
        .query = "watch=true&allowWatchBookmarks=true&"
                 "labelSelector=" FED_MANAGED_LABEL "%3Dtrue",
        .identity = &w->who,
    };
    w->call =
        h->member_call(h, w->member, &w->head, &callbacks, w, err, sizeof(err));
    if (!w->call) {
        h->log(h, FG_LOG_WARN, "watch of %s in %s: %s",
               fed_targets[w->kind].resource, w->member, err);
        restart(w, 1);
        return;
    }
    h->member_call_end(w->call);
}

static void watch_free(struct fed_watch *w)
{
    const struct fg_host *h = w->f->host;
    if (w->call)
        h->member_call_close(w->call);
    if (w->timer)
        h->timer_free(w->timer);
    for (size_t i = 0; w->groups && i < w->who.n_groups; i++)
        free(w->groups[i]);
    free(w->groups);
    free(w->user);
    free(w->member);
    free(w->line);
    free(w);
}

int fed_watch_ensure(struct federation *f, const char *member, size_t kind,
                     const struct fg_identity *who)
{
    for (struct fed_watch *w = f->watches; w; w = w->next)
        if (w->kind == kind && strcmp(w->member, member) == 0)
            return 0;
    const struct fed_target *t = &fed_targets[kind];
    struct fed_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return -1;
    w->f = f;
    w->kind = kind;
    snprintf(w->path, sizeof(w->path), "/%s/%s/%s",
             strchr(t->api_version, '/') ? "apis" : "api", t->api_version,
             t->resource);
    w->member = strdup(member);
    w->user = strdup(who->user);
    w->groups = calloc(who->n_groups + 1, sizeof(*w->groups));
    w->timer = f->host->timer_new(f->host, open_watch, w);
    int ok = w->member && w->user && w->groups && w->timer;
    for (size_t i = 0; ok && i < who->n_groups; i++, w->who.n_groups++)
        ok = (w->groups[i] = strdup(who->groups[i])) != NULL;
    if (!ok) {
        watch_free(w);
        return -1;
    }
    w->who.user = w->user;
    w->who.groups = (const char *const *)w->groups;
    w->next = f->watches;
    f->watches = w;
    f->host->timer_arm(w->timer, 0);
    return 0;
}

void fed_watch_stop_all(struct federation *f)
{
    while (f->watches) {
        struct fed_watch *w = f->watches;
        f->watches = w->next;
        watch_free(w);
    }
    while (f->versions) {
        struct fed_version *v = f->versions;
        f->versions = v->next;
        version_free(v);
    }
}
