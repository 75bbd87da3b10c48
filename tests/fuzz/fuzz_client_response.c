/* Fuzz target for the client's HTTP/1.1 response parser (what a
 * server answers): the bytes are fed whole, then again split at a point
 * chosen by the first byte with the body paused now and then, as a slow
 * or odd member would deliver them; an end of stream follows. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "client/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
    int heads, completes;
    size_t body;
    size_t calls;
    int pause_every;
};

static int on_head(void *arg, int status, const struct fg_header *h, size_t n)
{
    struct sink *s = arg;
    s->heads++;
    for (size_t i = 0; i < n; i++) {
        /* touch every byte: the pointers must be valid */
        volatile char c = 0;
        for (size_t k = 0; k < h[i].name_len; k++)
            c ^= h[i].name[k];
        for (size_t k = 0; k < h[i].value_len; k++)
            c ^= h[i].value[k];
        (void)c;
    }
    return status >= 100 ? 0 : -1;
}

static int on_body(void *arg, const char *buf, size_t len)
{
    struct sink *s = arg;
    (void)buf;
    s->body += len;
    s->calls++;
    return s->pause_every && s->calls % (size_t)s->pause_every == 0 ? FG_PAUSE
                                                                    : 0;
}

static void on_complete(void *arg, int keep_alive)
{
    struct sink *s = arg;
    (void)keep_alive;
    s->completes++;
}

static const struct fg_client_response_callbacks cb = {on_head, on_body,
                                                       on_complete};

static void run(const char *buf, size_t size, size_t split, int pause_every,
                int no_body)
{
    struct sink s = {0};
    s.pause_every = pause_every;
    struct fg_client_response *r = fg_client_response_new(&cb, &s, no_body);
    if (!r)
        return;
    size_t off = 0;
    size_t parts[2] = {split, size};
    for (int p = 0; p < 2; p++) {
        /* bounded: every round consumes a byte or stops */
        for (int guard = 0; off < parts[p] && guard < 1 << 20; guard++) {
            size_t used = 0;
            enum fg_client_parse_result rc =
                fg_client_response_feed(r, buf + off, parts[p] - off, &used);
            off += used;
            if (rc == FG_CLIENT_PARSE_ERROR || rc == FG_CLIENT_PARSE_DONE)
                goto out;
            if (rc == FG_CLIENT_PARSE_MORE && used == 0)
                break;
        }
    }
    fg_client_response_eof(r);
out:
    fg_client_response_error(r);
    fg_client_response_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    run(buf, size, size, 0, 0);
    if (size > 0) {
        size_t split = data[0] % (size + 1);
        run(buf, size, split, 1 + data[0] % 3, data[0] & 1);
    }
    return 0;
}
