/* echo: a minimal fedgate driver, an example of the plugin SDK. Every
 * request is answered with a JSON document describing what the member would
 * have received: method, path, query, headers, identity and body size.
 * It streams like a real driver: the answer is produced after the request
 * body ended, and it honours FG_PAUSE. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/fedgate.h>

struct echo_instance {
    const struct fg_host *host;
    const char *greeting;
};

struct echo_stream {
    const struct fg_stream_callbacks *cb;
    void *ctx;
    char *doc; /* the answer, built at open, sent after the body ends */
    size_t len, sent;
    size_t body_bytes;
    int body_ended, paused;
};

/* Appends S (N bytes) as a JSON string, quoted by the SDK (fedgate/util.h:
 * escapes, and U+FFFD for bytes that are not UTF-8). */
static void put_json_string(FILE *f, const char *s, size_t n)
{
    char small[256];
    size_t need = fg_json_quote(small, sizeof(small), s, n);
    char *q = need < sizeof(small) ? small : malloc(need + 1);
    if (!q) {
        fputs("\"\"", f); /* out of memory: the document stays JSON */
        return;
    }
    if (q != small)
        fg_json_quote(q, need + 1, s, n);
    fwrite(q, 1, need, f);
    if (q != small)
        free(q);
}

static void *echo_new(const struct fg_host *host, const struct fg_section *s,
                      char *err, size_t err_len)
{
    struct echo_instance *in = calloc(1, sizeof(*in));
    if (!in) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    in->host = host;
    in->greeting = s->get(s, "greeting");
    host->log(host, FG_LOG_INFO, "echo member \"%s\" ready", s->name);
    return in;
}

static void echo_free(void *instance)
{
    free(instance);
}

static void *echo_open(void *instance, const struct fg_request_head *head,
                       const struct fg_stream_callbacks *cb, void *ctx)
{
    struct echo_instance *in = instance;
    struct echo_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->cb = cb;
    st->ctx = ctx;
    FILE *f = open_memstream(&st->doc, &st->len);
    if (!f) {
        free(st);
        return NULL;
    }
    fputs("{\"greeting\":", f);
    put_json_string(f, in->greeting, strlen(in->greeting));
    fputs(",\"method\":", f);
    put_json_string(f, head->method, strlen(head->method));
    fputs(",\"path\":", f);
    put_json_string(f, head->path, strlen(head->path));
    fputs(",\"query\":", f);
    if (head->query)
        put_json_string(f, head->query, strlen(head->query));
    else
        fputs("null", f);
    fputs(",\"user\":", f);
    put_json_string(f, head->identity->user, strlen(head->identity->user));
    fputs(",\"groups\":[", f);
    for (size_t i = 0; i < head->identity->n_groups; i++) {
        if (i)
            fputc(',', f);
        const char *g = head->identity->groups[i];
        put_json_string(f, g, strlen(g));
    }
    fputs("],\"headers\":[", f);
    for (size_t i = 0; i < head->n_headers; i++) {
        const struct fg_header *h = &head->headers[i];
        fputs(i ? ",[" : "[", f);
        put_json_string(f, h->name, h->name_len);
        fputc(',', f);
        put_json_string(f, h->value, h->value_len);
        fputc(']', f);
    }
    fputs("]", f);
    fclose(f);
    return st;
}

static int echo_write(void *stream, const void *buf, size_t len)
{
    struct echo_stream *st = stream;
    (void)buf;
    st->body_bytes += len;
    return 0;
}

/* Sends what is left of the document in small pieces until paused. */
static void pump(struct echo_stream *st)
{
    while (!st->paused && st->sent < st->len) {
        size_t n = st->len - st->sent;
        if (n > 64)
            n = 64;
        int rc = st->cb->data(st->ctx, st->doc + st->sent, n);
        st->sent += n;
        if (rc < 0)
            return;
        if (rc == FG_PAUSE)
            st->paused = 1;
    }
    if (st->sent == st->len && !st->paused)
        st->cb->end(st->ctx);
}

static void echo_end(void *stream)
{
    struct echo_stream *st = stream;
    /* The body size is known only now: finish the document. */
    char tail[64];
    int n =
        snprintf(tail, sizeof(tail), ",\"body_bytes\":%zu}\n", st->body_bytes);
    char *doc = realloc(st->doc, st->len + (size_t)n + 1);
    if (!doc) {
        st->cb->error(st->ctx, 500, "InternalError", "out of memory");
        return;
    }
    memcpy(doc + st->len, tail, (size_t)n + 1);
    st->doc = doc;
    st->len += (size_t)n;
    st->body_ended = 1;
    static const struct fg_header headers[] = {
        {"content-type", 12, "application/json", 16},
    };
    if (st->cb->head(st->ctx, 200, headers, 1) == 0)
        pump(st);
}

static void echo_resume(void *stream)
{
    struct echo_stream *st = stream;
    st->paused = 0;
    if (st->body_ended)
        pump(st);
}

static void echo_close(void *stream)
{
    struct echo_stream *st = stream;
    free(st->doc);
    free(st);
}

static const struct fg_driver_ops echo_ops = {
    .struct_size = sizeof(struct fg_driver_ops),
    .instance_new = echo_new,
    .instance_free = echo_free,
    .stream_open = echo_open,
    .stream_write = echo_write,
    .stream_end = echo_end,
    .stream_resume = echo_resume,
    .stream_close = echo_close,
};

static const struct fg_config_key echo_keys[] = {
    {"greeting", FG_CONFIG_STRING, "hello", 0, 0, 0,
     "text put in every answer"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor echo_descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_DRIVER,
    .name = "echo",
    .version = "1.0",
    .description = "answers every request with what the member would see",
    .config_keys = echo_keys,
    .ops = &echo_ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(echo_descriptor)
