/* The federation service plugin: its descriptor and configuration keys,
 * the instance (the store of federated objects under
 * STATE_DIR/federation, the reconciler) and its streams, which the
 * objects kit serves; the service answers its groups' OpenAPI documents
 * itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/fedgate.h>
#include <fedgate/service.h>

#include "federation.h"

struct stream {
    struct federation *f;
    struct fg_objects_stream *object;
    const struct fg_request_head *head;
    const struct fg_stream_callbacks *cb;
    void *ctx;
};

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    struct federation *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    f->host = host;
    f->max_running = (unsigned)s->get_int(s, "max_concurrent_reconciles", 8);
    f->resync_ms = (uint64_t)s->get_int(s, "resync_interval", 600000);
    f->retry_ms = (uint64_t)s->get_int(s, "retry_interval", 10000);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/federation", host->state_dir);
    struct fg_object_hooks hooks = {fed_admit, fed_changed, f};
    f->objects = fg_objects_new(dir, fed_kinds, &hooks, err, err_len);
    if (!f->objects || fed_reconcile_start(f, err, err_len) < 0) {
        fed_reconcile_stop(f);
        fg_objects_free(f->objects);
        free(f);
        return NULL;
    }
    return f;
}

static void instance_free(void *instance)
{
    struct federation *f = instance;
    if (!f)
        return;
    fed_reconcile_stop(f);
    fg_objects_free(f->objects);
    free(f);
}

static void *stream_open(void *instance, const struct fg_request_head *head,
                         const struct fg_stream_callbacks *cb, void *ctx)
{
    struct stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->f = instance;
    s->head = head;
    s->cb = cb;
    s->ctx = ctx;
    if (fg_objects_kind_of(s->f->objects, head->info) &&
        !(s->object = fg_objects_open(s->f->objects, head, cb, ctx))) {
        free(s);
        return NULL;
    }
    return s;
}

static int stream_write(void *stream, const void *buf, size_t len)
{
    struct stream *s = stream;
    (void)buf;
    (void)len;
    return s->object ? fg_objects_write(s->object, buf, len) : 0;
}

/* The groups' OpenAPI documents, or a Kubernetes 404. */
static void serve_openapi(struct stream *s)
{
    const char *path = s->head->path;
    char *doc = NULL;
    if (strcmp(path, "/openapi/v3/apis/" FED_GROUP "/" FED_VERSION) == 0)
        doc = fg_objects_openapi(s->f->objects, FED_GROUP, FED_VERSION);
    else if (strcmp(path, "/openapi/v3/apis/" RSP_GROUP "/" RSP_VERSION) == 0)
        doc = fg_objects_openapi(s->f->objects, RSP_GROUP, RSP_VERSION);
    struct fg_header ct = {"content-type", 12, "application/json", 16};
    if (!doc)
        s->cb->error(s->ctx, 404, "NotFound",
                     "the server could not find the requested resource");
    else if (s->cb->head(s->ctx, 200, &ct, 1) == 0 &&
             s->cb->data(s->ctx, doc, strlen(doc)) >= 0)
        s->cb->end(s->ctx);
    free(doc);
}

static void stream_end(void *stream)
{
    struct stream *s = stream;
    if (s->object)
        fg_objects_end(s->object);
    else
        serve_openapi(s);
}

static void stream_resume(void *stream)
{
    struct stream *s = stream;
    if (s->object)
        fg_objects_resume(s->object);
}

static void stream_close(void *stream)
{
    struct stream *s = stream;
    if (!s)
        return;
    fg_objects_close(s->object);
    free(s);
}

static const struct fg_service_api apis[] = {
    {FED_GROUP, FED_VERSION, fed_resources},
    {RSP_GROUP, RSP_VERSION, rsp_resources},
    {NULL, NULL, NULL},
};

static const struct fg_service_ops ops = {
    .struct_size = sizeof(struct fg_service_ops),
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
};

static const struct fg_config_key config_keys[] = {
    {"max_concurrent_reconciles", FG_CONFIG_INT, "8", 0, 1, 1024,
     "federated objects reconciled at once (each one member call at a "
     "time)"},
    {"resync_interval", FG_CONFIG_DURATION, "10m", 0, 1000, 86400000,
     "every object is re-applied to its clusters this often (plus up to a "
     "tenth of it as jitter)"},
    {"retry_interval", FG_CONFIG_DURATION, "10s", 0, 100, 3600000,
     "an object that failed in some cluster (not ready, refused, a "
     "conflict) is tried again after this long"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_SERVICE,
    .name = "federation",
    .version = "0.1.0",
    .description = "propagates KubeFed's Federated<Kind> objects to member "
                   "clusters as the user who wrote them",
    .config_keys = config_keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
