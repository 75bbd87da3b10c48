/* libFuzzer target for the strict HTTP/1.1 request parser: the same bytes
 * fed whole and in random splits must give the same requests and bodies and
 * the same verdict (the status may differ where two problems race inside
 * one chunked body), and every head delivered must be as strict as
 * promised. The first input byte seeds the splits; the rest is the
 * connection's stream, all of it arrived: a head is delivered only when
 * the body framing that follows it is valid as far as the stream goes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "http/h1_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
    uint64_t hash; /* of everything delivered, in order */
    unsigned heads, completes;
    int status;
};

static void mix(struct trace *t, const void *buf, size_t len)
{
    const unsigned char *b = buf;
    for (size_t i = 0; i < len; i++) {
        t->hash ^= b[i];
        t->hash *= 1099511628211ULL;
    }
}

static void check_bytes(const char *s, size_t len, int value)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (value ? (c < 0x20 && c != '\t') || c == 0x7f
                  : (c <= 0x20 || c >= 0x7f || (c >= 'A' && c <= 'Z')))
            abort();
    }
}

static int on_head(void *arg, const struct fg_request_in *req, unsigned flags)
{
    struct trace *t = arg;
    t->heads++;
    if (req->target[0] != '/' || strlen(req->target) > 64)
        abort();
    for (const char *q = req->target; *q; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
            abort();
    if (req->has_body && req->content_length == 0)
        abort();
    mix(t, req->method, strlen(req->method) + 1);
    mix(t, req->target, strlen(req->target) + 1);
    if (req->authority)
        mix(t, req->authority, strlen(req->authority) + 1);
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct fg_header *h = &req->headers[i];
        if (h->name_len == 0 ||
            (h->name_len == 4 && memcmp(h->name, "host", 4) == 0))
            abort();
        check_bytes(h->name, h->name_len, 0);
        check_bytes(h->value, h->value_len, 1);
        mix(t, h->name, h->name_len);
        mix(t, h->value, h->value_len);
    }
    mix(t, &req->content_length, sizeof(req->content_length));
    mix(t, &flags, sizeof(flags));
    return 0;
}

static int on_body(void *arg, const void *buf, size_t len)
{
    mix(arg, buf, len);
    return 0;
}

static int on_complete(void *arg)
{
    struct trace *t = arg;
    t->completes++;
    mix(t, "$", 1);
    return 0;
}

static const struct fg_h1_callbacks callbacks = {on_head, on_body, on_complete};

/* Parses the whole stream, one message after another, feeding pieces of
 * at most MAX_STEP bytes drawn from SEED (0: everything at once). */
static void run(const uint8_t *data, size_t size, uint32_t seed,
                struct trace *t)
{
    struct fg_limits l;
    memset(&l, 0, sizeof(l));
    /* small limits, so that the fuzzer reaches every one of them */
    l.max_header_bytes = 1024;
    l.max_headers = 16;
    l.max_uri_bytes = 64;
    l.max_request_body_bytes = 4096;
    memset(t, 0, sizeof(*t));
    t->hash = 14695981039346656037ULL;
    struct fg_h1_parser *p = fg_h1_parser_new(&l, &callbacks, t);
    if (!p)
        abort();
    size_t off = 0;
    while (off < size) {
        size_t n = size - off;
        if (seed) {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            size_t step = 1 + seed % 37;
            if (n > step)
                n = step;
        }
        /* the rest of the stream has "arrived": what the split run's
         * heads may depend on is exactly what the whole run sees */
        ssize_t r = fg_h1_parser_feed_ahead(p, (const char *)data + off, n,
                                            (const char *)data + off + n,
                                            size - off - n);
        if (r < 0) {
            const struct fg_h1_error *e = fg_h1_parser_error(p);
            if (!e || e->message[0] == '\0' || e->status < 400 ||
                e->status > 599)
                abort();
            t->status = e->status;
            break;
        }
        if ((size_t)r > n || (r == 0 && fg_h1_parser_state(p) != FG_H1_DONE))
            abort();
        off += (size_t)r;
    }
    fg_h1_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t seed = data[0] | 1u;
    struct trace whole, split;
    run(data + 1, size - 1, 0, &whole);
    run(data + 1, size - 1, seed, &split);
    if (whole.hash != split.hash || whole.heads != split.heads ||
        whole.completes != split.completes ||
        (whole.status == 0) != (split.status == 0))
        abort();
    return 0;
}
