/* reentry_probe: a test driver for driver.h's re-entry promise. Each of
 * its callbacks into the core runs with a flag set; every driver op the
 * core calls checks the flag and counts a violation when it is set. The
 * request path picks what the driver does to provoke the core:
 *   /flood     after the body: 64 KiB chunks until FG_PAUSE, more on each
 *              resume, 4 MiB in all (the client reads slowly)
 *   /open-end  head and end from inside stream_open
 *   /write-error  error() from inside the first stream_write
 *   /drip      a chunk every 10 ms for ever (the client leaves)
 *   /violations  {"violations":N,"ops":M} so far, over all streams
 * One instance for the member (FG_SCOPE_ONE_LOOP): the counts are the
 * member's whatever the worker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/fedgate.h>

#define CHUNK (64 * 1024)
#define FLOOD_BYTES (4 * 1024 * 1024)

struct probe {
    const struct fg_host *host;
    unsigned long violations, ops;
};

enum mode { FLOOD, OPEN_END, WRITE_ERROR, DRIP, REPORT, OTHER };

struct stream {
    struct probe *p;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    enum mode mode;
    int in_callback; /* a callback into the core is running */
    int done;        /* end or error given */
    int paused;
    size_t sent;
    struct fg_timer *timer;
};

static char chunk[CHUNK];

/* Every op starts here: an op inside one of our callbacks breaks the
 * promise. */
static void op(struct stream *s)
{
    s->p->ops++;
    if (s->in_callback)
        s->p->violations++;
}

static int cb_head(struct stream *s, int status)
{
    struct fg_header h = {"content-type", 12, "application/json", 16};
    s->in_callback = 1;
    int rc = s->cb->head(s->ctx, status, &h, 1);
    s->in_callback = 0;
    return rc;
}

static int cb_data(struct stream *s, const void *buf, size_t len)
{
    s->in_callback = 1;
    int rc = s->cb->data(s->ctx, buf, len);
    s->in_callback = 0;
    return rc;
}

static void cb_end(struct stream *s)
{
    s->done = 1;
    s->in_callback = 1;
    s->cb->end(s->ctx);
    s->in_callback = 0;
}

static void cb_error(struct stream *s, int code, const char *msg)
{
    s->done = 1;
    s->in_callback = 1;
    s->cb->error(s->ctx, code, "BadRequest", msg);
    s->in_callback = 0;
}

static void *probe_new(const struct fg_host *host, const struct fg_section *s,
                       char *err, size_t err_len)
{
    (void)s;
    struct probe *p = calloc(1, sizeof(*p));
    if (!p)
        snprintf(err, err_len, "out of memory");
    else
        p->host = host;
    return p;
}

static void probe_free(void *instance)
{
    free(instance);
}

static enum mode mode_of(const char *path)
{
    static const struct {
        const char *path;
        enum mode mode;
    } modes[] = {{"/flood", FLOOD},
                 {"/open-end", OPEN_END},
                 {"/write-error", WRITE_ERROR},
                 {"/drip", DRIP},
                 {"/violations", REPORT}};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(path, modes[i].path) == 0)
            return modes[i].mode;
    return OTHER;
}

static void flood(struct stream *s)
{
    while (!s->done && !s->paused && s->sent < FLOOD_BYTES) {
        int rc = cb_data(s, chunk, CHUNK);
        s->sent += CHUNK;
        if (rc < 0)
            s->done = 1;
        else if (rc == FG_PAUSE)
            s->paused = 1;
    }
    if (!s->done && s->sent >= FLOOD_BYTES)
        cb_end(s);
}

static void drip(void *arg)
{
    struct stream *s = arg;
    if (s->done)
        return;
    if (cb_data(s, "{}\n", 3) < 0) {
        s->done = 1;
        return;
    }
    s->p->host->timer_arm(s->timer, 10);
}

static void *stream_open(void *instance, const struct fg_request_head *head,
                         const struct fg_stream_callbacks *cb, void *ctx)
{
    struct stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->p = instance;
    s->cb = cb;
    s->ctx = ctx;
    s->mode = mode_of(head->path);
    op(s);
    if (s->mode == OPEN_END && cb_head(s, 200) == 0) {
        s->in_callback = 1;
        s->cb->data(s->ctx, "{}", 2);
        s->in_callback = 0;
        cb_end(s);
    }
    return s;
}

static int stream_write(void *stream, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    struct stream *s = stream;
    op(s);
    if (s->mode == WRITE_ERROR && !s->done)
        cb_error(s, 400, "the probe refuses this body");
    return 0;
}

static void stream_end(void *stream)
{
    struct stream *s = stream;
    op(s);
    if (s->done)
        return;
    char doc[96];
    switch (s->mode) {
    case FLOOD:
        if (cb_head(s, 200) == 0)
            flood(s);
        break;
    case DRIP:
        s->timer = s->p->host->timer_new(s->p->host, drip, s);
        if (s->timer && cb_head(s, 200) == 0)
            s->p->host->timer_arm(s->timer, 0);
        break;
    case REPORT:
        snprintf(doc, sizeof(doc), "{\"violations\":%lu,\"ops\":%lu}",
                 s->p->violations, s->p->ops);
        if (cb_head(s, 200) == 0 && cb_data(s, doc, strlen(doc)) >= 0)
            cb_end(s);
        break;
    default:
        cb_error(s, 404, "the probe has no such path");
    }
}

static void stream_resume(void *stream)
{
    struct stream *s = stream;
    op(s);
    s->paused = 0;
    if (s->mode == FLOOD)
        flood(s);
}

static void stream_close(void *stream)
{
    struct stream *s = stream;
    op(s);
    if (s->timer)
        s->p->host->timer_free(s->timer);
    free(s);
}

static const struct fg_driver_ops ops = {
    .struct_size = sizeof(struct fg_driver_ops),
    .scope = FG_SCOPE_ONE_LOOP,
    .instance_new = probe_new,
    .instance_free = probe_free,
    .stream_open = stream_open,
    .stream_write = stream_write,
    .stream_end = stream_end,
    .stream_resume = stream_resume,
    .stream_close = stream_close,
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_DRIVER,
    .name = "reentry_probe",
    .version = "1",
    .description = "counts driver ops the core calls from inside a callback",
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
