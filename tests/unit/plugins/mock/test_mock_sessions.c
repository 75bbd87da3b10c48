/* Unit tests of the mock's streaming sessions on the demo seed, driven
 * through the driver ops as the core drives them. pods/portforward
 * (plugins/drivers/mock/portforward.c): refusals before the switch;
 * WebSocket channels (the ports announced on both channels of each, an
 * echo, a page, a refused port's message); plain SPDY/3.1 (stream pairs by
 * requestID answered with SYN_REPLY, echo and FIN, PING, the stream
 * limit, a zlib bomb ending the session with a GOAWAY). pods/exec over
 * SPDY/3.1 (exec.c): the command waits for the streams the query asks
 * for, a stream type opened twice is reset, its output, status and FINs;
 * a stream id out of order ends the session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "fake.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define REDIS "/api/v1/namespaces/shop/pods/redis-0/portforward"
#define FRONTEND                                                               \
    "/api/v1/namespaces/shop/pods/frontend-krp6rjtt85-mdggl/"                  \
    "portforward"

static struct mock_instance *inst;

struct client {
    int status, ended, error_code;
    struct mock_buf out;
    struct fg_header h[3];
    struct fg_request_head head;
    void *stream;
};

static int cb_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    (void)h;
    (void)n;
    ((struct client *)ctx)->status = status;
    return 0;
}

static int cb_data(void *ctx, const void *buf, size_t len)
{
    struct client *c = ctx;
    assert_int_equal(c->ended, 0);
    assert_int_equal(mock_buf_add(&c->out, buf, len), 0);
    return 0;
}

static void cb_end(void *ctx)
{
    struct client *c = ctx;
    assert_int_equal(c->ended, 0);
    c->ended = 1;
}

static void cb_error(void *ctx, int code, const char *reason, const char *msg)
{
    (void)reason;
    (void)msg;
    ((struct client *)ctx)->error_code = code;
}

static void cb_flow(void *ctx)
{
    (void)ctx;
}

static const struct fg_stream_callbacks callbacks = {
    .head = cb_head,
    .data = cb_data,
    .end = cb_end,
    .error = cb_error,
    .body_pause = cb_flow,
    .body_resume = cb_flow,
};

/* Opens and ends a request for PATH (portforward or exec): WebSocket
 * with PROTOCOL (GET) or, PROTOCOL NULL, SPDY with
 * X-Stream-Protocol-Version STREAMS (POST). */
static void open_pf(struct client *c, const char *path, const char *query,
                    const char *protocol, const char *streams)
{
    memset(c, 0, sizeof(*c));
    size_t n = 0;
    if (protocol) {
        c->h[n++] = (struct fg_header){"sec-websocket-key", 17, KEY, 24};
        c->h[n++] = (struct fg_header){"sec-websocket-version", 21, "13", 2};
        c->h[n++] = (struct fg_header){"sec-websocket-protocol", 22, protocol,
                                       strlen(protocol)};
    } else if (streams) {
        c->h[n++] = (struct fg_header){"x-stream-protocol-version", 25, streams,
                                       strlen(streams)};
    }
    c->head = (struct fg_request_head){
        .method = protocol ? "GET" : "POST",
        .path = path,
        .query = query,
        .headers = c->h,
        .n_headers = n,
        .content_length = -1,
        .http_version = 11,
        .upgrade = protocol ? "websocket" : "SPDY/3.1",
    };
    fake_set_info(&c->head);
    c->stream = mock_driver_ops.stream_open(inst, &c->head, &callbacks, c);
    assert_non_null(c->stream);
    mock_driver_ops.stream_end(c->stream);
}

static void close_client(struct client *c)
{
    mock_driver_ops.stream_close(c->stream);
    mock_buf_free(&c->out);
}

static void expect_refusal(const char *path, const char *query,
                           const char *protocol, const char *streams, int code,
                           const char *needle)
{
    struct client c;
    open_pf(&c, path, query, protocol, streams);
    assert_int_equal(c.status, code);
    assert_int_equal(c.ended, 1);
    assert_non_null(c.out.p);
    if (!strstr(c.out.p, needle))
        fail_msg("\"%s\" not in %s", needle, c.out.p);
    close_client(&c);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refusal("/api/v1/namespaces/shop/pods/nope/portforward", "ports=80",
                   "v4.channel.k8s.io", NULL, 404,
                   "pods \\\"nope\\\" not found");
    expect_refusal(REDIS, NULL, "v4.channel.k8s.io", NULL, 400,
                   "\\\"ports\\\" is required");
    const char *bad[] = {"ports=0", "ports=65536", "ports=80,x", "ports=,",
                         "ports=-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_refusal(REDIS, bad[i], "v4.channel.k8s.io", NULL, 400,
                       "between 1 and 65535");
    expect_refusal(REDIS, "ports=6379", "base64.channel.k8s.io", NULL, 400,
                   "subprotocols");
    expect_refusal(REDIS, NULL, NULL, "v4.channel.k8s.io", 403,
                   "unable to negotiate protocol");
}

/* ---- WebSocket channels ---------------------------------------------- */

static void ws_message(struct client *c, const void *p, size_t len)
{
    static const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
    uint8_t h[8] = {0x82, (uint8_t)(0x80 | len)};
    assert_true(len < 126);
    memcpy(h + 2, mask, 4);
    uint8_t body[125];
    for (size_t i = 0; i < len; i++)
        body[i] = ((const uint8_t *)p)[i] ^ mask[i & 3];
    struct mock_buf b = {0};
    assert_int_equal(mock_buf_add(&b, (const char *)h, 6), 0);
    assert_int_equal(mock_buf_add(&b, (const char *)body, len), 0);
    assert_int_equal(mock_driver_ops.stream_write(c->stream, b.p, b.len), 0);
    mock_buf_free(&b);
}

/* The server's binary messages in c->out, from *AT on: the next one. */
static size_t next_message(struct client *c, size_t *at, const uint8_t **p)
{
    const uint8_t *d = (const uint8_t *)c->out.p + *at;
    assert_true(c->out.len - *at >= 2);
    assert_int_equal(d[0], 0x82);
    size_t n = d[1], hl = 2;
    if (n == 126) {
        n = (size_t)d[2] << 8 | d[3];
        hl = 4;
    }
    *p = d + hl;
    *at += hl + n;
    return n;
}

static void test_channels(void **state)
{
    (void)state;
    struct client c;
    open_pf(&c, REDIS, "ports=6379&ports=9999", "v4.channel.k8s.io", NULL);
    assert_int_equal(c.status, 101);
    size_t at = 0;
    const uint8_t *m;
    /* port I: channels 2I and 2I+1 each say the port, little-endian */
    const int ports[2] = {6379, 9999};
    for (int i = 0; i < 2; i++) {
        for (int ch = 2 * i; ch < 2 * i + 2; ch++) {
            assert_int_equal(next_message(&c, &at, &m), 3);
            assert_int_equal(m[0], ch);
            assert_int_equal(m[1] | m[2] << 8, ports[i]);
        }
        if (i == 1) { /* nothing listens on 9999 */
            size_t n = next_message(&c, &at, &m);
            assert_int_equal(m[0], 3);
            char msg[512];
            snprintf(msg, sizeof(msg), "%.*s", (int)n - 1, m + 1);
            assert_non_null(strstr(msg, "error forwarding port 9999 to pod "
                                        "redis-0"));
            assert_non_null(strstr(msg, "connection refused"));
        }
    }
    assert_int_equal(at, c.out.len);
    ws_message(&c, "\0hello", 6);
    assert_int_equal(next_message(&c, &at, &m), 6);
    assert_memory_equal(m, "\0hello", 6);
    ws_message(&c, "\2lost", 5); /* a refused port takes nothing */
    ws_message(&c, "\1mine", 5); /* error channels are the server's */
    assert_int_equal(at, c.out.len);
    close_client(&c);

    open_pf(&c, FRONTEND, "ports=8080", "v4.channel.k8s.io", NULL);
    at = 0;
    next_message(&c, &at, &m);
    next_message(&c, &at, &m);
    ws_message(&c, "\0GET / HTTP/1.1\r\nHost: x\r\n", 26);
    assert_int_equal(at, c.out.len); /* the head is not complete */
    ws_message(&c, "\0\r\n", 3);
    size_t n = next_message(&c, &at, &m);
    char page[512];
    snprintf(page, sizeof(page), "%.*s", (int)n - 1, m + 1);
    assert_non_null(strstr(page, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(page, "Hello from pod frontend-krp6rjtt85-mdggl "
                                 "in namespace shop"));
    close_client(&c);
}

/* ---- SPDY ------------------------------------------------------------- */

struct peer {
    struct mock_spdy z; /* the client's side: its compressor and reader */
    struct mock_spdy_frame f[32];
    uint8_t data[32][64];
    size_t n;
};

static int peer_frame(void *arg, const struct mock_spdy_frame *f)
{
    struct peer *p = arg;
    assert_true(p->n < 32);
    p->f[p->n] = *f;
    if (f->len)
        memcpy(p->data[p->n], f->data, f->len < 64 ? f->len : 64);
    p->n++;
    return 0;
}

static void syn(struct client *c, struct peer *p, uint32_t id, const char *type,
                const char *port, const char *rid)
{
    struct mock_spdy_header h[3] = {{"streamtype", 10, type, strlen(type)},
                                    {"port", 4, port, strlen(port)},
                                    {"requestid", 9, rid, strlen(rid)}};
    struct mock_buf block = {0}, f = {0};
    assert_int_equal(mock_spdy_headers_out(&p->z, &block, h, 3), 0);
    uint8_t head[18] = {0x80, 3, 0, MOCK_SPDY_SYN_STREAM, 0};
    size_t len = 10 + block.len;
    head[6] = (uint8_t)(len >> 8);
    head[7] = (uint8_t)len;
    head[8] = (uint8_t)(id >> 24);
    head[11] = (uint8_t)id;
    assert_int_equal(mock_buf_add(&f, (const char *)head, 18), 0);
    assert_int_equal(mock_buf_add(&f, block.p, block.len), 0);
    assert_int_equal(mock_driver_ops.stream_write(c->stream, f.p, f.len), 0);
    mock_buf_free(&block);
    mock_buf_free(&f);
}

static void send_frame(struct client *c, struct mock_buf *f)
{
    assert_int_equal(mock_driver_ops.stream_write(c->stream, f->p, f->len), 0);
    f->len = 0;
}

/* Reads what the server sent since the last call. */
static void server_frames(struct client *c, struct peer *p, size_t *at)
{
    assert_int_equal(mock_spdy_parse(&p->z, (const uint8_t *)c->out.p + *at,
                                     c->out.len - *at),
                     0);
    *at = c->out.len;
}

static void test_spdy(void **state)
{
    (void)state;
    struct client c;
    struct peer p = {0};
    static const struct mock_spdy_limits lim = {65536, 65536};
    assert_int_equal(mock_spdy_init(&p.z, &lim, peer_frame, &p), 0);
    open_pf(&c, REDIS, NULL, NULL, "portforward.k8s.io");
    assert_int_equal(c.status, 101);
    size_t at = c.out.len;
    struct mock_buf f = {0};
    /* an echo port: the error stream, then the data stream */
    syn(&c, &p, 1, "error", "6379", "0");
    syn(&c, &p, 3, "data", "6379", "0");
    assert_int_equal(mock_spdy_data(&f, 3, 0, "ping", 4), 0);
    send_frame(&c, &f);
    assert_int_equal(mock_spdy_data(&f, 3, 1, NULL, 0), 0);
    send_frame(&c, &f);
    /* a refused port */
    syn(&c, &p, 5, "error", "9999", "1");
    syn(&c, &p, 7, "data", "9999", "1");
    assert_int_equal(mock_spdy_ping(&f, 11), 0);
    send_frame(&c, &f);
    server_frames(&c, &p, &at);
    assert_int_equal(p.n, 10);
    assert_int_equal(p.f[0].type, MOCK_SPDY_SYN_REPLY);
    assert_int_equal(p.f[0].stream_id, 1);
    assert_int_equal(p.f[1].stream_id, 3);
    assert_int_equal(p.f[2].type, MOCK_SPDY_DATA); /* the echo */
    assert_int_equal(p.f[2].stream_id, 3);
    assert_memory_equal(p.data[2], "ping", 4);
    assert_int_equal(p.f[3].flags, MOCK_SPDY_FIN); /* its end, answered */
    assert_int_equal(p.f[4].stream_id, 1); /* and the error stream's end */
    assert_int_equal(p.f[4].flags, MOCK_SPDY_FIN);
    assert_int_equal(p.f[4].len, 0);
    assert_int_equal(p.f[5].stream_id, 5);
    assert_int_equal(p.f[6].stream_id, 7);
    assert_int_equal(p.f[7].stream_id, 5); /* the error message */
    assert_int_equal(p.f[7].flags, MOCK_SPDY_FIN);
    assert_memory_equal(p.data[7], "error forwarding port 9999", 26);
    assert_int_equal(p.f[8].stream_id, 7); /* no data: ended */
    assert_int_equal(p.f[8].flags, MOCK_SPDY_FIN);
    assert_int_equal(p.f[9].type, MOCK_SPDY_PING);
    assert_int_equal(p.f[9].value, 11);
    assert_int_equal(c.ended, 0);

    /* the limit: spdy_max_streams 4 is two pairs; the third is refused */
    p.n = 0;
    inst->spdy_max_streams = 4;
    close_client(&c);
    open_pf(&c, REDIS, NULL, NULL, "portforward.k8s.io");
    mock_spdy_free(&p.z);
    assert_int_equal(mock_spdy_init(&p.z, &lim, peer_frame, &p), 0);
    at = c.out.len;
    for (int i = 0; i < 3; i++) {
        char rid[8];
        snprintf(rid, sizeof(rid), "%d", i);
        syn(&c, &p, (uint32_t)(4 * i + 1), "error", "6379", rid);
    }
    server_frames(&c, &p, &at);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.f[2].type, MOCK_SPDY_RST_STREAM);
    assert_int_equal(p.f[2].stream_id, 9);
    assert_int_equal(p.f[2].value, MOCK_SPDY_REFUSED_STREAM);

    /* a zlib bomb: GOAWAY, then the session ends */
    uint8_t raw[70000] = {0};
    uint8_t z[2048];
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit(&zs, 9), Z_OK);
    zs.next_in = raw;
    zs.avail_in = sizeof(raw);
    zs.next_out = z;
    zs.avail_out = sizeof(z);
    assert_int_equal(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
    size_t zn = sizeof(z) - zs.avail_out;
    deflateEnd(&zs);
    uint8_t head[12] = {0x80,
                        3,
                        0,
                        MOCK_SPDY_HEADERS,
                        0,
                        0,
                        (uint8_t)((zn + 4) >> 8),
                        (uint8_t)(zn + 4),
                        0,
                        0,
                        0,
                        1};
    assert_int_equal(mock_buf_add(&f, (const char *)head, 12), 0);
    assert_int_equal(mock_buf_add(&f, (const char *)z, zn), 0);
    p.n = 0;
    send_frame(&c, &f);
    server_frames(&c, &p, &at);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.f[0].type, MOCK_SPDY_GOAWAY);
    assert_int_equal(p.f[0].value, MOCK_SPDY_PROTOCOL_ERROR);
    assert_int_equal(c.ended, 1);
    inst->spdy_max_streams = 128;
    mock_buf_free(&f);
    mock_spdy_free(&p.z);
    close_client(&c);
}

#define EXEC "/api/v1/namespaces/shop/pods/redis-0/exec"

static void test_exec_over_spdy(void **state)
{
    (void)state;
    struct client c;
    struct peer p = {0};
    static const struct mock_spdy_limits lim = {65536, 65536};
    assert_int_equal(mock_spdy_init(&p.z, &lim, peer_frame, &p), 0);
    open_pf(&c, EXEC, "command=echo&command=hi", NULL,
            "v5.channel.k8s.io, v4.channel.k8s.io");
    assert_int_equal(c.status, 101);
    size_t at = c.out.len;
    syn(&c, &p, 1, "error", "", "");
    syn(&c, &p, 3, "stdout", "", "");
    syn(&c, &p, 5, "stdout", "", "");
    server_frames(&c, &p, &at);
    assert_int_equal(p.n, 3); /* no output before stderr is open */
    assert_int_equal(p.f[2].type, MOCK_SPDY_RST_STREAM);
    assert_int_equal(p.f[2].value, MOCK_SPDY_STREAM_IN_USE);
    syn(&c, &p, 7, "stderr", "", "");
    server_frames(&c, &p, &at);
    assert_int_equal(p.n, 9);
    assert_int_equal(p.f[3].stream_id, 7); /* its SYN_REPLY */
    assert_int_equal(p.f[4].stream_id, 3);
    assert_int_equal(p.f[4].len, 3);
    assert_memory_equal(p.data[4], "hi\n", 3);
    assert_int_equal(p.f[5].stream_id, 1); /* v5 over SPDY: a Status */
    assert_memory_equal(p.data[5], "{\"metadata\":{},\"status\":\"Success\"}",
                        35);
    for (int i = 6; i < 9; i++) {
        assert_int_equal(p.f[i].type, MOCK_SPDY_DATA);
        assert_int_equal(p.f[i].flags, MOCK_SPDY_FIN);
        assert_int_equal(p.f[i].len, 0);
    }
    assert_int_equal(p.f[6].stream_id, 3);
    assert_int_equal(p.f[7].stream_id, 7);
    assert_int_equal(p.f[8].stream_id, 1);
    assert_int_equal(c.ended, 1);
    close_client(&c);
    mock_spdy_free(&p.z);

    /* a stream id that is not odd and increasing: GOAWAY */
    memset(&p, 0, sizeof(p));
    assert_int_equal(mock_spdy_init(&p.z, &lim, peer_frame, &p), 0);
    open_pf(&c, EXEC, "command=echo", NULL, "v4.channel.k8s.io");
    at = c.out.len;
    syn(&c, &p, 3, "error", "", "");
    syn(&c, &p, 1, "stdout", "", "");
    server_frames(&c, &p, &at);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.f[1].type, MOCK_SPDY_GOAWAY);
    assert_int_equal(p.f[1].stream_id, 3);
    assert_int_equal(c.ended, 1);
    close_client(&c);
    mock_spdy_free(&p.z);
}

static int setup(void **state)
{
    (void)state;
    inst = fake_demo_instance(NULL);
    /* the fake section gives no defaults: the plugin's own */
    inst->spdy = (struct mock_spdy_limits){1048576, 65536};
    inst->spdy_max_streams = 128;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mock_driver_ops.instance_free(inst);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_channels),
        cmocka_unit_test(test_spdy),
        cmocka_unit_test(test_exec_over_spdy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
