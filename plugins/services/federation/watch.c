/* Drift watches (watch.h). Each watch is a member call whose answer is
 * read line by line as watch events; it is reopened after it ends, with a
 * capped backoff while the member fails. Events caused by the service's
 * own applies are recognised by the resource version the apply answered
 * with, so that applying does not feed itself. A watch keeps the
 * federated objects placed in its member (with those versions), and
 * stops when the last one is gone: a member kind no object uses costs
 * the member no watch. */
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
    struct use *uses;
};

/* A federated object placed in the watch's member, and the resource
 * version the service's last apply of it answered with ("" before). */
struct use {
    struct use *next;
    char *owner, *rv;
};

static const char *text(const cJSON *obj, const char *path)
{
    const cJSON *v = fg_json_path(obj, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static struct fed_watch **find(struct federation *f, const char *member,
                               size_t kind)
{
    struct fed_watch **p = &f->watches;
    while (*p && ((*p)->kind != kind || strcmp((*p)->member, member) != 0))
        p = &(*p)->next;
    return p;
}

static struct use **find_use(struct fed_watch *w, const char *owner)
{
    struct use **p = &w->uses;
    while (*p && strcmp((*p)->owner, owner) != 0)
        p = &(*p)->next;
    return p;
}

static void use_free(struct use *u)
{
    free(u->owner);
    free(u->rv);
    free(u);
}

void fed_watch_applied(struct federation *f, const char *member, size_t kind,
                       const char *owner, const char *rv)
{
    struct fed_watch *w = *find(f, member, kind);
    struct use *u = w ? *find_use(w, owner) : NULL;
    char *copy = u ? strdup(rv) : NULL;
    if (!copy)
        return; /* its next event is taken for drift: one extra apply */
    free(u->rv);
    u->rv = copy;
}

/* Whether the event's OBJ is the answer to the service's own apply. */
static int own_version(struct fed_watch *w, const char *owner, const cJSON *obj)
{
    struct use *u = *find_use(w, owner);
    const char *rv = text(obj, "metadata.resourceVersion");
    return u && u->rv && *rv && strcmp(u->rv, rv) == 0;
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
        (strcmp(type, "DELETED") == 0 || !own_version(w, owner, obj)))
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
    while (w->uses) {
        struct use *u = w->uses;
        w->uses = u->next;
        use_free(u);
    }
    free(w->groups);
    free(w->user);
    free(w->member);
    free(w->line);
    free(w);
}

static struct fed_watch *watch_new(struct federation *f, const char *member,
                                   size_t kind, const struct fg_identity *who)
{
    const struct fed_target *t = &fed_targets[kind];
    struct fed_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
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
        return NULL;
    }
    w->who.user = w->user;
    w->who.groups = (const char *const *)w->groups;
    w->next = f->watches;
    f->watches = w;
    f->host->log(f->host, FG_LOG_INFO, "federation: watching %s in %s",
                 t->resource, member);
    f->host->timer_arm(w->timer, 0);
    return w;
}

int fed_watch_use(struct federation *f, const char *member, size_t kind,
                  const char *owner, const struct fg_identity *who)
{
    struct fed_watch *w = *find(f, member, kind);
    if (!w && !(w = watch_new(f, member, kind, who)))
        return -1;
    if (*find_use(w, owner))
        return 0;
    struct use *u = calloc(1, sizeof(*u));
    if (!u || !(u->owner = strdup(owner))) {
        free(u);
        return -1;
    }
    u->next = w->uses;
    w->uses = u;
    return 0;
}

void fed_watch_forget(struct federation *f, const char *member, size_t kind,
                      const char *owner)
{
    struct fed_watch **wp = find(f, member, kind), *w = *wp;
    struct use **up = w ? find_use(w, owner) : NULL;
    if (!up || !*up)
        return;
    struct use *u = *up;
    *up = u->next;
    use_free(u);
    if (w->uses)
        return;
    *wp = w->next;
    f->host->log(f->host, FG_LOG_INFO,
                 "federation: stopped watching %s in %s (no object uses it)",
                 fed_targets[kind].resource, member);
    watch_free(w);
}

void fed_watch_stop_all(struct federation *f)
{
    while (f->watches) {
        struct fed_watch *w = f->watches;
        f->watches = w->next;
        watch_free(w);
    }
}
