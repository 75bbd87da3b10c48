/* svc_probe: a service plugin for the tests of the service ABI. It serves
 *   /probe-svc/echo, /probe-svc/things/NAME   an echo of the request as the
 *       service saw it: method, path, query, identity, request info (the
 *       things are described as resource requests, see describe), request
 *       body bytes, whether it runs on the thread that made the instance
 *   /probe-svc/missing/...                    describe says: not ours (404)
 *   /apis/probe.fedgate.io/v1/[namespaces/NS/]widgets   a WidgetList
 *   /openapi/v3/apis/probe.fedgate.io/v1      a minimal OpenAPI document
 * and answers anything else under its routes with a 404 Status. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/fedgate.h>

#define GROUP "probe.fedgate.io"

struct probe {
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
};

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t len)
{
    (void)host;
    (void)s;
    struct probe *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, len, "out of memory");
        return NULL;
    }
    p->owner = pthread_self();
    return p;
}

static void instance_free(void *instance)
{
    free(instance);
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
    return s;
}

static int stream_write(void *stream, const void *buf, size_t len)
{
    struct stream *s = stream;
    (void)buf;
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

static void stream_end(void *stream)
{
    struct stream *s = stream;
    const char *path = s->head->path;
    if (strcmp(path, "/probe-svc/echo") == 0 ||
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
        reply(s, 200,
              "{\"openapi\":\"3.0.0\",\"info\":{\"title\":\"svc_probe\","
              "\"version\":\"v1\"},\"paths\":{},\"components\":{\"schemas\":"
              "{}}}");
    else
        s->cb->error(s->ctx, 404, "NotFound", "svc_probe serves no such path");
}

static void stream_nop(void *stream)
{
    (void)stream;
}

static void stream_close(void *stream)
{
    free(stream);
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
            .stream_resume = stream_nop,
            .stream_close = stream_close,
        },
    .describe = describe,
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
