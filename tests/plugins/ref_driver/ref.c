/* ref_driver: a test driver whose answers go out through data_ref, to show
 * that the core writes from the driver's own buffers and gives each back
 * exactly once (tests/integration/test_data_ref.py).
 *
 *   GET /bytes?n=N      N bytes, with content-length (h1 and h2)
 *   GET /chunks?n=N     the same without a length (h1: chunked)
 *   GET /counts         {"handed":H,"freed":F,"bad":B,"paused":P} as JSON
 *
 * Every piece of a body is a buffer of its own filled with 'c', handed
 * over with data_ref; if it has not come back when data_ref returns, the
 * driver overwrites it with 'r'. A core that copies gives it back at once
 * and the client reads 'c'; one that writes from the buffer sends 'r'.
 * Writing a buffer already handed over breaks the contract on purpose:
 * that is what makes the copy visible. The counts are the process's (run
 * it with one worker): handed pieces, pieces given back, pieces given back
 * twice or with another pointer or length, and FG_PAUSE answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/fedgate.h>

#define PIECE_BYTES 16384

static unsigned long handed, freed, bad, paused;

/* One body piece. Two holders: the driver until data_ref returned, the
 * core until it gave the piece back; the last one frees it. */
struct piece {
    int holders;
    int given_back;
    size_t len;
    char data[];
};

static void drop(struct piece *p)
{
    if (--p->holders == 0)
        free(p);
}

static void give_back(void *arg, const void *buf, size_t len)
{
    struct piece *p = arg;
    if (p->given_back || buf != p->data || len != p->len)
        bad++;
    if (p->given_back)
        return; /* a second free must not free twice */
    p->given_back = 1;
    freed++;
    drop(p);
}

struct ref_stream {
    const struct fg_stream_callbacks *cb;
    void *ctx;
    int counts;         /* /counts: answered with data(), not counted */
    int chunked;        /* no content-length */
    size_t total, sent; /* the body asked for */
    int body_ended, waiting;
};

static void *ref_new(const struct fg_host *host, const struct fg_section *s,
                     char *err, size_t err_len)
{
    (void)host;
    (void)s;
    (void)err;
    (void)err_len;
    static int instance;
    return &instance;
}

static void ref_free(void *instance)
{
    (void)instance;
}

static size_t query_n(const char *query)
{
    const char *n = query ? strstr(query, "n=") : NULL;
    return n ? strtoul(n + 2, NULL, 10) : 0;
}

static void *ref_open(void *instance, const struct fg_request_head *head,
                      const struct fg_stream_callbacks *cb, void *ctx)
{
    (void)instance;
    struct ref_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->cb = cb;
    st->ctx = ctx;
    st->counts = strcmp(head->path, "/counts") == 0;
    st->chunked = strcmp(head->path, "/chunks") == 0;
    st->total = query_n(head->query);
    return st;
}

static int ref_write(void *stream, const void *buf, size_t len)
{
    (void)stream;
    (void)buf;
    (void)len;
    return 0;
}

/* Hands over pieces until the body is out or the core asks for a pause. */
static void pump(struct ref_stream *st)
{
    while (!st->waiting && st->sent < st->total) {
        size_t n = st->total - st->sent;
        if (n > PIECE_BYTES)
            n = PIECE_BYTES;
        struct piece *p = malloc(sizeof(*p) + n);
        if (!p) {
            st->cb->error(st->ctx, 500, "InternalError", "out of memory");
            return;
        }
        p->holders = 2;
        p->given_back = 0;
        p->len = n;
        memset(p->data, 'c', n);
        handed++;
        int rc = st->cb->data_ref(st->ctx, p->data, n, give_back, p);
        if (!p->given_back)
            memset(p->data, 'r', n);
        drop(p);
        st->sent += n;
        if (rc < 0)
            return;
        if (rc == FG_PAUSE) {
            paused++;
            st->waiting = 1;
        }
    }
    if (st->sent == st->total && !st->waiting)
        st->cb->end(st->ctx);
}

static void answer_counts(struct ref_stream *st)
{
    char doc[160];
    int n = snprintf(doc, sizeof(doc),
                     "{\"handed\":%lu,\"freed\":%lu,\"bad\":%lu,"
                     "\"paused\":%lu}\n",
                     handed, freed, bad, paused);
    static const struct fg_header json[] = {
        {"content-type", 12, "application/json", 16},
    };
    if (st->cb->head(st->ctx, 200, json, 1) == 0 &&
        st->cb->data(st->ctx, doc, (size_t)n) >= 0)
        st->cb->end(st->ctx);
}

static void ref_end(void *stream)
{
    struct ref_stream *st = stream;
    st->body_ended = 1;
    if (st->counts) {
        answer_counts(st);
        return;
    }
    char length[24];
    struct fg_header headers[2] = {
        {"content-type", 12, "application/octet-stream", 24},
        {"content-length", 14, length, 0},
    };
    headers[1].value_len =
        (size_t)snprintf(length, sizeof(length), "%zu", st->total);
    if (st->cb->head(st->ctx, 200, headers, st->chunked ? 1 : 2) == 0)
        pump(st);
}

static void ref_resume(void *stream)
{
    struct ref_stream *st = stream;
    st->waiting = 0;
    if (st->body_ended)
        pump(st);
}

static void ref_close(void *stream)
{
    free(stream);
}

static const struct fg_driver_ops ref_ops = {
    .struct_size = sizeof(struct fg_driver_ops),
    .instance_new = ref_new,
    .instance_free = ref_free,
    .stream_open = ref_open,
    .stream_write = ref_write,
    .stream_end = ref_end,
    .stream_resume = ref_resume,
    .stream_close = ref_close,
};

static const struct fg_config_key ref_keys[] = {
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor ref_descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_DRIVER,
    .name = "ref_driver",
    .version = "1.0",
    .description = "answers through data_ref and counts the buffers given "
                   "back (tests only)",
    .config_keys = ref_keys,
    .ops = &ref_ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(ref_descriptor)
