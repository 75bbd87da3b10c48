/* svc_probe: a service plugin for the tests of the service ABI. It serves
 *   /probe-svc/echo, /probe-svc/things/NAME   an echo of the request as the
 *       service saw it: method, path, query, identity, request info (the
 *       things are described as resource requests, see describe), request
 *       body bytes, whether it runs on the thread that made the instance
 *   /probe-svc/missing/...                    describe says: not ours (404)
 *   /probe-svc/call/MEMBER/PATH               the same request (method,
 *       query, content-type, body up to 1 MiB) sent to MEMBER's PATH as
 *       the caller (host.h member_call), its answer streamed back
 *   /apis/probe.fedgate.io/v1/[namespaces/NS/]widgets   a WidgetList
 *   /apis/probe.fedgate.io/v1/gadgets         objects kept by fedgate/objects.h
 *       under state_dir/svc_probe (every verb, watch, Tables, status)
 *   /openapi/v3/apis/probe.fedgate.io/v1      the gadgets' OpenAPI document
 * and answers anything else under its routes with a 404 Status. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/fedgate.h>
#include <fedgate/objects.h>

#define GROUP "probe.fedgate.io"

#define MAX_CALL_BODY (1u << 20)
/* above the gateway's 3 MiB default: the core applies the service's */
#define MAX_BODY (5 * 1024 * 1024)

static const struct fg_object_column gadget_columns[] = {
    {"Color", "string", "spec.color", 0},
    {"State", "string", "status.state", 0},
    {NULL, NULL, NULL, 0},
};
static const struct fg_object_kind kinds[] = {
    {GROUP, "v1", "gadgets", "Gadget", 0, gadget_columns, 0, NULL},
    {NULL, NULL, NULL, NULL, 0, NULL, 0, NULL},
};

struct probe {
    const struct fg_host *host;
    struct fg_objects *objects;
    pthread_t owner;
    unsigned long requests;
};

struct stream {
    struct probe *p;
    const struct fg_request_head *head;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    size_t body;
    int on_owner;
    struct fg_objects_stream *object; /* a request for gadgets */
    char *kept;                       /* the body of a member call */
    struct fg_member_call *call;
    struct fg_request_head call_head;
    struct fg_header content_type;
};

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t len)
{
    (void)s;
    struct probe *p = calloc(1, sizeof(*p));
    char dir[4096];
    if (!p) {
        snprintf(err, len, "out of memory");
        return NULL;
    }
    snprintf(dir, sizeof(dir), "%s/svc_probe", host->state_dir);
    if (!(p->objects = fg_objects_new(dir, kinds, NULL, err, len))) {
        free(p);
        return NULL;
    }
    p->host = host;
    p->owner = pthread_self();
    return p;
}

static void instance_free(void *instance)
{
    struct probe *p = instance;
    fg_objects_free(p->objects);
    free(p);
}

static void *stream_open(void *instance, const struct fg_request_head *head,
                         const struct fg_stream_callbacks *cb, void *ctx)
{
    struct stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->p = instance;
    s->p->requests++;
    s->head = head;
    s->cb = cb;
    s->ctx = ctx;
    s->on_owner = pthread_equal(pthread_self(), s->p->owner);
    if (fg_objects_kind_of(s->p->objects, head->info) &&
        !(s->object = fg_objects_open(s->p->objects, head, cb, ctx))) {
        free(s);
        return NULL;
    }
    return s;
}

static int stream_write(void *stream, const void *buf, size_t len)
{
    struct stream *s = stream;
    if (s->object)
        return fg_objects_write(s->object, buf, len);
    if (strncmp(s->head->path, "/probe-svc/call/", 16) == 0) {
        if (s->body + len > MAX_CALL_BODY)
            return -1;
        if (!s->kept && !(s->kept = malloc(MAX_CALL_BODY)))
            return -1;
        memcpy(s->kept + s->body, buf, len);
    }
    s->body += len;
    return 0;
}

static void reply(struct stream *s, int code, const char *body)
{
    struct fg_header ct = {"content-type", 12, "application/json", 16};
    if (s->cb->head(s->ctx, code, &ct, 1) == 0 &&
        s->cb->data(s->ctx, body, strlen(body)) >= 0)
        s->cb->end(s->ctx);
}

/* The echo, with every string quoted by the SDK. */
static void echo(struct stream *s)
{
    const struct fg_request_head *h = s->head;
    const struct fg_request_info *i = h->info;
    const char *fields[][2] = {
        {"method", h->method},
        {"path", h->path},
        {"query", h->query ? h->query : ""},
        {"user", h->identity ? h->identity->user : ""},
        {"verb", i->verb},
        {"group", i->api_group},
        {"resource", i->resource},
        {"name", i->name},
    };
    char buf[4096], q[600];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "{");
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
        fg_json_quote(q, sizeof(q), fields[k][1], strlen(fields[k][1]));
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\"%s\":%s,",
                              fields[k][0], q);
    }
    snprintf(buf + n, sizeof(buf) - n,
             "\"isResource\":%d,\"bodyBytes\":%zu,\"onOwner\":%d,"
             "\"requests\":%lu}",
             i->is_resource, s->body, s->on_owner, s->p->requests);
    reply(s, 200, buf);
}

/* The member's answer, passed on as it comes. */
static int call_head(void *ctx, int status, const struct fg_header *headers,
                     size_t n_headers)
{
    struct stream *s = ctx;
    return s->cb->head(s->ctx, status, headers, n_headers);
}

static int call_data(void *ctx, const void *buf, size_t len)
{
    struct stream *s = ctx;
    return s->cb->data(s->ctx, buf, len);
}

static void call_end(void *ctx)
{
    struct stream *s = ctx;
    s->cb->end(s->ctx);
}

static void call_error(void *ctx, int code, const char *reason,
                       const char *message)
{
    struct stream *s = ctx;
    s->cb->error(s->ctx, code, reason, message);
}

static void call_body_nop(void *ctx)
{
    (void)ctx;
}

static const struct fg_stream_callbacks call_callbacks = {
    .head = call_head,
    .data = call_data,
    .end = call_end,
    .error = call_error,
    .body_pause = call_body_nop,
    .body_resume = call_body_nop,
};

/* /probe-svc/call/MEMBER/PATH: PATH on MEMBER as the caller. */
static void call_member(struct stream *s)
{
    const char *member = s->head->path + 16;
    const char *slash = strchr(member, '/');
    char name[64], err[256];
    if (!slash || slash - member >= (long)sizeof(name)) {
        s->cb->error(s->ctx, 400, "BadRequest", "/probe-svc/call/MEMBER/PATH");
        return;
    }
    memcpy(name, member, (size_t)(slash - member));
    name[slash - member] = '\0';
    s->call_head = (struct fg_request_head){
        .method = s->head->method,
        .path = slash,
        .query = s->head->query,
        .identity = s->head->identity,
        .content_length = (int64_t)s->body,
    };
    for (size_t i = 0; i < s->head->n_headers; i++)
        if (strcmp(s->head->headers[i].name, "content-type") == 0) {
            s->content_type = s->head->headers[i];
            s->call_head.headers = &s->content_type;
            s->call_head.n_headers = 1;
        }
    const struct fg_host *h = s->p->host;
    s->call = h->member_call(h, name, &s->call_head, &call_callbacks, s, err,
                             sizeof(err));
    if (!s->call) {
        s->cb->error(s->ctx, 500, "InternalError", err);
        return;
    }
    if (s->body && h->member_call_write(s->call, s->kept, s->body) != 0)
        return;
    h->member_call_end(s->call);
}

static void openapi(struct stream *s)
{
    char *doc = fg_objects_openapi(s->p->objects, GROUP, "v1");
    if (doc)
        reply(s, 200, doc);
    else
        s->cb->error(s->ctx, 503, "ServiceUnavailable", "out of memory");
    free(doc);
}

static void stream_end(void *stream)
{
    struct stream *s = stream;
    const char *path = s->head->path;
    if (s->object)
        fg_objects_end(s->object);
    else if (strncmp(path, "/probe-svc/call/", 16) == 0)
        call_member(s);
    else if (strcmp(path, "/probe-svc/echo") == 0 ||
             strncmp(path, "/probe-svc/things/", 18) == 0)
        echo(s);
    else if (strcmp(s->head->info->resource, "widgets") == 0 &&
             strcmp(s->head->info->verb, "list") == 0)
        reply(s, 200,
              "{\"kind\":\"WidgetList\",\"apiVersion\":\"" GROUP "/v1\","
              "\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{\"kind\":"
              "\"Widget\",\"apiVersion\":\"" GROUP "/v1\",\"metadata\":{"
              "\"name\":\"w1\",\"namespace\":\"default\",\"creationTimestamp\":"
              "\"2026-01-01T00:00:00Z\"}}]}");
    else if (strcmp(path, "/openapi/v3/apis/" GROUP "/v1") == 0)
        openapi(s);
    else
        s->cb->error(s->ctx, 404, "NotFound", "svc_probe serves no such path");
}

static void stream_resume(void *stream)
{
    struct stream *s = stream;
    if (s->object)
        fg_objects_resume(s->object);
    if (s->call)
        s->p->host->member_call_resume(s->call);
}

static void stream_close(void *stream)
{
    struct stream *s = stream;
    fg_objects_close(s->object);
    if (s->call)
        s->p->host->member_call_close(s->call);
    free(s->kept);
    free(s);
}

/* /probe-svc/things/NAME is `get` (or the method's verb) on things NAME;
 * /probe-svc/missing/ is not the service's. */
static int describe(const char *method, const char *path, const char *query,
                    struct fg_request_info *info, fg_service_alloc_fn alloc,
                    void *actx)
{
    (void)query;
    if (strncmp(path, "/probe-svc/missing/", 19) == 0)
        return -1;
    if (strncmp(path, "/probe-svc/things/", 18) != 0)
        return 0;
    char *name = alloc(actx, strlen(path + 18) + 1);
    if (!name)
        return -1;
    strcpy(name, path + 18);
    info->is_resource = 1;
    info->verb = strcmp(method, "GET") == 0 ? "get" : "update";
    info->api_prefix = "apis";
    info->api_group = GROUP;
    info->api_version = "v1";
    info->resource = "things";
    info->name = name;
    return 0;
}

static const char *const prefixes[] = {"/probe-svc/", NULL};
static const struct fg_service_resource resources[] = {
    {"widgets", "widget", "Widget", 1, "get list", "wd", NULL},
    {"things", "thing", "Thing", 0, "get update", NULL, NULL},
    {"gadgets", "gadget", "Gadget", 0,
     "get list watch create update patch delete", "gd", NULL},
    {"gadgets/status", "", "Gadget", 0, "get update patch", NULL, NULL},
    {NULL, NULL, NULL, 0, NULL, NULL, NULL},
};
static const struct fg_service_api apis[] = {
    {GROUP, "v1", resources},
    {NULL, NULL, NULL},
};

static const struct fg_service_ops ops = {
    .struct_size = sizeof(struct fg_service_ops),
    .prefixes = prefixes,
    .apis = apis,
    .streams =
        {
            .struct_size = sizeof(struct fg_driver_ops),
            .scope = FG_SCOPE_ONE_LOOP,
            .instance_new = instance_new,
            .instance_free = instance_free,
            .stream_open = stream_open,
            .stream_write = stream_write,
            .stream_end = stream_end,
            .stream_resume = stream_resume,
            .stream_close = stream_close,
        },
    .describe = describe,
    .max_request_body_bytes = MAX_BODY,
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_SERVICE,
    .name = "svc_probe",
    .version = "0.0.1",
    .description = "echoes what the service ABI hands a service",
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
