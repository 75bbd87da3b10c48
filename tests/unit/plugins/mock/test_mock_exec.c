/* Unit tests of the mock's pods/exec (plugins/drivers/mock/exec.c,
 * websocket.c), driven through the driver ops as the core drives
 * them: the checks before the switch, the WebSocket handshake, masked
 * client frames cut at every byte, the commands of the pretend container,
 * the close handshake and the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake.h"

static struct mock_instance inst;

static const char seed[] =
    "{\"objects\":["
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
    "\"namespace\":\"shop\"},\"spec\":{\"containers\":[{\"name\":\"c\","
    "\"image\":\"busybox\",\"env\":[{\"name\":\"FOO\",\"value\":\"bar\"},"
    "{\"name\":\"SECRET\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\","
    "\"key\":\"k\"}}}]}]}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"multi\","
    "\"namespace\":\"shop\"},\"spec\":{\"containers\":[{\"name\":\"a\","
    "\"image\":\"x\"},{\"name\":\"b\",\"image\":\"y\"}]}}"
    "]}";

static int setup(void **state)
{
    (void)state;
    char err[256];
    inst.host = &fake_host;
    snprintf(inst.git_version, sizeof(inst.git_version), "v1.32.0");
    inst.max_body = 1 << 20;
    inst.store = mock_seed_load_mem(seed, strlen(seed), "exec",
                                    (int64_t)FAKE_NOW_MS, err, sizeof(err));
    return inst.store ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mock_store_free(inst.store);
    return 0;
}

/* ---- the client side ------------------------------------------------- */

struct client {
    int status, heads, ended, error_code, pauses, resumes_asked;
    char accept[64], protocol[64];
    struct mock_buf out; /* every byte after the head */
    size_t read_at;      /* frames already looked at */
    void *stream;
    /* the request: it stays valid until stream_close (driver.h) */
    struct fg_header h[3];
    struct fg_request_head head;
};

static void copy_value(char *dst, size_t len, const struct fg_header *h)
{
    snprintf(dst, len, "%.*s", (int)h->value_len, h->value);
}

static int cb_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    struct client *c = ctx;
    c->heads++;
    c->status = status;
    for (size_t i = 0; i < n; i++) {
        if (h[i].name_len == 20 &&
            memcmp(h[i].name, "sec-websocket-accept", 20) == 0)
            copy_value(c->accept, sizeof(c->accept), &h[i]);
        if (h[i].name_len == 22 &&
            memcmp(h[i].name, "sec-websocket-protocol", 22) == 0)
            copy_value(c->protocol, sizeof(c->protocol), &h[i]);
    }
    return 0;
}

static int cb_data(void *ctx, const void *buf, size_t len)
{
    struct client *c = ctx;
    assert_int_equal(c->ended, 0);
    mock_buf_add(&c->out, buf, len);
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
    struct client *c = ctx;
    c->error_code = code;
}

static void cb_pause(void *ctx)
{
    ((struct client *)ctx)->pauses++;
}

static void cb_resume(void *ctx)
{
    ((struct client *)ctx)->resumes_asked++;
}

static const struct fg_stream_callbacks callbacks = {
    .head = cb_head,
    .data = cb_data,
    .end = cb_end,
    .error = cb_error,
    .body_pause = cb_pause,
    .body_resume = cb_resume,
};

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define V5 "v5.channel.k8s.io, v4.channel.k8s.io"

/* Opens and ends a request for exec of POD with QUERY, as the core hands
 * it: upgrade "websocket" (or UPGRADE), the handshake headers. */
static void open_exec(struct client *c, const char *path, const char *query,
                      const char *upgrade, const char *protocols)
{
    memset(c, 0, sizeof(*c));
    c->h[0] = (struct fg_header){"sec-websocket-key", 17, KEY, strlen(KEY)};
    c->h[1] = (struct fg_header){"sec-websocket-version", 21, "13", 2};
    c->h[2] = (struct fg_header){"sec-websocket-protocol", 22, protocols,
                                 protocols ? strlen(protocols) : 0};
    c->head = (struct fg_request_head){
        .method = "GET",
        .path = path,
        .query = query,
        .headers = c->h,
        .n_headers = protocols ? 3 : 2,
        .content_length = -1,
        .http_version = 11,
        .upgrade = upgrade,
    };
    fake_set_info(&c->head);
    c->stream = mock_driver_ops.stream_open(&inst, &c->head, &callbacks, c);
    assert_non_null(c->stream);
    mock_driver_ops.stream_end(c->stream);
}

static void close_client(struct client *c)
{
    mock_driver_ops.stream_close(c->stream);
    mock_buf_free(&c->out);
    assert_int_equal(fake_timers_alive(), 0);
}

/* Appends one masked client frame. */
static void client_frame(struct mock_buf *b, int fin, int op, const void *p,
                         size_t len)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t h[14];
    size_t n = 0;
    h[n++] = (uint8_t)((fin ? 0x80 : 0) | op);
    if (len < 126) {
        h[n++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        h[n++] = 0x80 | 126;
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        h[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            h[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(h + n, mask, 4);
    n += 4;
    mock_buf_add(b, (const char *)h, n);
    for (size_t i = 0; i < len; i++) {
        char m = (char)(((const uint8_t *)p)[i] ^ mask[i & 3]);
        mock_buf_add(b, &m, 1);
    }
}

static void channel_frame(struct mock_buf *b, int ch, const char *s)
{
    char buf[256];
    size_t n = strlen(s);
    buf[0] = (char)ch;
    memcpy(buf + 1, s, n);
    client_frame(b, 1, MOCK_WS_OP_BINARY, buf, n + 1);
}

/* Writes B to the stream in pieces of STEP bytes (0: all at once). */
static void send_bytes(struct client *c, const struct mock_buf *b, size_t step)
{
    size_t off = 0;
    while (off < b->len) {
        size_t n = step && b->len - off > step ? step : b->len - off;
        assert_int_equal(mock_driver_ops.stream_write(c->stream, b->p + off, n),
                         0);
        off += n;
    }
}

struct frame {
    int op;
    const uint8_t *p;
    size_t len;
};

/* The next server frame in c->out, or 0 when there is none. */
static int next_frame(struct client *c, struct frame *f)
{
    if (!c->out.p)
        return 0;
    const uint8_t *d = (const uint8_t *)c->out.p + c->read_at;
    size_t left = c->out.len - c->read_at;
    if (left < 2)
        return 0;
    assert_int_equal(d[0] & 0xf0, 0x80); /* FIN, no RSV */
    assert_int_equal(d[1] & 0x80, 0);    /* servers never mask */
    size_t len = d[1] & 0x7f, at = 2;
    if (len == 126) {
        len = (size_t)d[2] << 8 | d[3];
        at = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | d[2 + i];
        at = 10;
    }
    assert_true(left >= at + len);
    f->op = d[0] & 0x0f;
    f->p = d + at;
    f->len = len;
    c->read_at += at + len;
    return 1;
}

/* Expects a binary message on channel CH with payload TEXT. */
static void expect_channel(struct client *c, int ch, const char *text)
{
    struct frame f;
    assert_true(next_frame(c, &f));
    assert_int_equal(f.op, MOCK_WS_OP_BINARY);
    assert_true(f.len >= 1);
    assert_int_equal(f.p[0], ch);
    char buf[2048];
    snprintf(buf, sizeof(buf), "%.*s", (int)(f.len - 1), f.p + 1);
    assert_string_equal(buf, text);
}

static void expect_close(struct client *c, unsigned code)
{
    struct frame f;
    assert_true(next_frame(c, &f));
    assert_int_equal(f.op, MOCK_WS_OP_CLOSE);
    assert_true(f.len >= 2);
    assert_int_equal((unsigned)f.p[0] << 8 | f.p[1], code);
}

static void expect_no_frame(struct client *c)
{
    struct frame f;
    assert_int_equal(next_frame(c, &f), 0);
}

#define SUCCESS "{\"metadata\":{},\"status\":\"Success\"}"
#define PATH "/api/v1/namespaces/shop/pods/web/exec"

/* ---- tests -------------------------------------------------------------- */

static void test_accept_key(void **state)
{
    (void)state;
    char accept[29];
    assert_int_equal(mock_ws_accept(KEY, strlen(KEY), accept), 0);
    assert_string_equal(accept, ACCEPT); /* RFC 6455 1.3 */
    assert_int_equal(mock_ws_accept("short", 5, accept), -1);
    assert_int_equal(mock_ws_accept("dGhlIHNhbXBsZSBub25jZQ!!", 24, accept),
                     -1);
}

static void test_echo_v5(void **state)
{
    (void)state;
    struct client c;
    open_exec(&c, PATH,
              "command=echo&command=hi&command=there&container=c&stdin=false&"
              "stdout=true&stderr=true&tty=false",
              "websocket", V5);
    assert_int_equal(c.status, 101);
    assert_string_equal(c.accept, ACCEPT);
    assert_string_equal(c.protocol, "v5.channel.k8s.io");
    expect_channel(&c, 1, "hi there\n");
    expect_channel(&c, 3, SUCCESS);
    expect_close(&c, 1000);
    expect_no_frame(&c);
    assert_int_equal(c.ended, 1); /* the server closes first */
    close_client(&c);
}

static void test_v4_only(void **state)
{
    (void)state;
    struct client c;
    open_exec(&c, PATH, "command=hostname&stdout=true", "websocket",
              "v4.channel.k8s.io");
    assert_int_equal(c.status, 101);
    assert_string_equal(c.protocol, "v4.channel.k8s.io");
    expect_channel(&c, 1, "web\n");
    expect_channel(&c, 3, SUCCESS);
    expect_close(&c, 1000);
    assert_int_equal(c.ended, 1);
    assert_int_equal(fake_run_one_timer(), 0);
    close_client(&c);
}

/* The pod is named by the request info: its segments percent-decoded. The
 * pretend process starts after exec_start_delay, and reads the name in
 * place then. */
static void test_encoded_path_delayed_start(void **state)
{
    (void)state;
    struct client c;
    inst.exec_start_ms = 50;
    open_exec(&c, "/api/v1/namespaces/%73hop/pods/w%65b/exec",
              "command=hostname&stdout=true", "websocket", V5);
    inst.exec_start_ms = 0;
    assert_int_equal(c.status, 101);
    expect_no_frame(&c);
    assert_int_equal(fake_run_one_timer(), 1);
    expect_channel(&c, 1, "web\n");
    expect_channel(&c, 3, SUCCESS);
    expect_close(&c, 1000);
    assert_int_equal(c.ended, 1);
    close_client(&c);
}

static void test_exit_code_status(void **state)
{
    (void)state;
    struct client c;
    open_exec(&c, PATH, "command=sh&command=-c&command=exit%203&stdout=true",
              "websocket", V5);
    assert_int_equal(c.status, 101);
    expect_channel(&c, 3,
                   "{\"metadata\":{},\"status\":\"Failure\",\"message\":"
                   "\"command terminated with non-zero exit code: error "
                   "executing command [sh -c exit 3], exit code 3\","
                   "\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":"
                   "[{\"reason\":\"ExitCode\",\"message\":\"3\"}]}}");
    expect_close(&c, 1000);
    assert_int_equal(c.ended, 1);
    close_client(&c);
}

static void test_unknown_command(void **state)
{
    (void)state;
    struct client c;
    open_exec(&c, PATH, "command=frobnicate&command=x&stdout=true&stderr=true",
              "websocket", V5);
    expect_channel(&c, 2, "frobnicate: command not found\n");
    struct frame f;
    assert_true(next_frame(&c, &f));
    assert_int_equal(f.p[0], 3);
    assert_non_null(memmem(f.p, f.len, "exit code 127", 13));
    assert_non_null(memmem(f.p, f.len, "\"message\":\"127\"", 15));
    expect_close(&c, 1000);
    assert_int_equal(c.ended, 1);
    close_client(&c);
}

static void test_env_and_sh_quoting(void **state)
{
    (void)state;
    struct client c;
    open_exec(&c, PATH, "command=env&stdout=true", "websocket", V5);
    struct mock_buf all = {0};
    struct frame f;
    while (next_frame(&c, &f) && f.op == MOCK_WS_OP_BINARY && f.p[0] == 1)
        mock_buf_add(&all, (const char *)f.p + 1, f.len - 1);
    assert_non_null(strstr(all.p, "HOSTNAME=web\n"));
    assert_non_null(strstr(all.p, "\nFOO=bar\n"));
    assert_null(strstr(all.p, "SECRET"));
    mock_buf_free(&all);
    assert_int_equal(c.ended, 1);
    close_client(&c);

    open_exec(
        &c, PATH,
        "command=/bin/sh&command=-c&command=echo%20'a%20%20b'%20\"c\\\"d\"",
        "websocket", V5);
    expect_channel(&c, 1, "a  b c\"d\n");
    expect_channel(&c, 3, SUCCESS);
    assert_int_equal(c.ended, 1);
    close_client(&c);

    open_exec(&c, PATH, "command=sh&command=-c&command=echo%20a;%20exit%201",
              "websocket", V5);
    assert_true(next_frame(&c, &f));
    assert_int_equal(f.p[0], 2); /* one simple command only */
    assert_int_equal(c.ended, 1);
    close_client(&c);
}

/* cat over v5: stdin in frames cut at every byte boundary and in odd
 * pieces, a fragmented message with a ping in the middle, then the close
 * of stream 0. */
static void test_cat_v5_odd_splits(void **state)
{
    (void)state;
    for (size_t step = 0; step <= 7; step++) {
        struct client c;
        open_exec(&c, PATH, "command=cat&stdin=true&stdout=true", "websocket",
                  V5);
        assert_int_equal(c.status, 101);
        expect_no_frame(&c);
        struct mock_buf b = {0};
        channel_frame(&b, 0, "hello ");
        client_frame(&b, 0, MOCK_WS_OP_BINARY, "\0wor", 4);
        client_frame(&b, 1, MOCK_WS_OP_PING, "p!", 2);
        client_frame(&b, 1, MOCK_WS_OP_CONT, "ld\n", 3);
        send_bytes(&c, &b, step);
        mock_buf_free(&b);
        expect_channel(&c, 1, "hello ");
        struct frame f;
        assert_true(next_frame(&c, &f));
        assert_int_equal(f.op, MOCK_WS_OP_PONG);
        assert_int_equal(f.len, 2);
        assert_memory_equal(f.p, "p!", 2);
        expect_channel(&c, 1, "world\n");
        expect_no_frame(&c);

        /* resize is ignored; the close of stdin ends cat */
        b = (struct mock_buf){0};
        channel_frame(&b, 4, "{\"Width\":80,\"Height\":24}");
        uint8_t close_stdin[2] = {255, 0};
        client_frame(&b, 1, MOCK_WS_OP_BINARY, close_stdin, 2);
        send_bytes(&c, &b, step);
        mock_buf_free(&b);
        expect_channel(&c, 3, SUCCESS);
        expect_close(&c, 1000);
        assert_int_equal(c.ended, 1);
        close_client(&c);
    }
}

/* v4 has no close of a single stream: the client's close frame ends
 * stdin, and the session answers it after the status. */
static void test_cat_v4_client_close(void **state)
{
    (void)state;
    struct client c;
    open_exec(&c, PATH, "command=cat&stdin=true&stdout=true", "websocket",
              "v4.channel.k8s.io");
    struct mock_buf b = {0};
    channel_frame(&b, 0, "abc");
    uint8_t code[2] = {0x03, 0xe8};
    client_frame(&b, 1, MOCK_WS_OP_CLOSE, code, 2);
    channel_frame(&b, 0, "after the close");
    send_bytes(&c, &b, 1);
    mock_buf_free(&b);
    expect_channel(&c, 1, "abc");
    expect_channel(&c, 3, SUCCESS);
    expect_close(&c, 1000);
    expect_no_frame(&c);
    assert_int_equal(c.ended, 1);
    close_client(&c);
}

static void test_oversized_and_unmasked(void **state)
{
    (void)state;
    struct client c;
    open_exec(&c, PATH, "command=cat&stdin=true", "websocket", V5);
    /* A header announcing 2 MiB is refused before any payload. */
    uint8_t big[14] = {0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0x20, 0, 0, 1, 2, 3, 4};
    assert_int_equal(mock_driver_ops.stream_write(c.stream, big, sizeof(big)),
                     0);
    expect_close(&c, 1009);
    assert_int_equal(c.ended, 1);
    close_client(&c);

    open_exec(&c, PATH, "command=cat&stdin=true", "websocket", V5);
    uint8_t unmasked[4] = {0x82, 2, 0, 'x'};
    mock_driver_ops.stream_write(c.stream, unmasked, sizeof(unmasked));
    expect_close(&c, 1002);
    assert_int_equal(c.ended, 1);
    close_client(&c);

    /* fragments adding up past the limit */
    open_exec(&c, PATH, "command=cat&stdin=true", "websocket", V5);
    struct mock_buf b = {0};
    char *chunk = calloc(1, 600 * 1024);
    client_frame(&b, 0, MOCK_WS_OP_BINARY, chunk, 600 * 1024);
    client_frame(&b, 1, MOCK_WS_OP_CONT, chunk, 600 * 1024);
    free(chunk);
    send_bytes(&c, &b, 65536);
    mock_buf_free(&b);
    expect_close(&c, 1009);
    close_client(&c);
}

static void expect_status(struct client *c, int code, const char *needle)
{
    assert_int_equal(c->status, code);
    assert_int_equal(c->ended, 1);
    assert_non_null(c->out.p);
    if (!strstr(c->out.p, needle))
        fail_msg("\"%s\" not in %s", needle, c->out.p);
}

static void test_refusals(void **state)
{
    (void)state;
    struct client c;
    open_exec(&c, "/api/v1/namespaces/shop/pods/nope/exec", "command=echo",
              "websocket", V5);
    expect_status(&c, 404, "pods \\\"nope\\\" not found");
    close_client(&c);

    open_exec(&c, PATH, "command=echo&container=x", "websocket", V5);
    expect_status(&c, 400, "container x is not valid for pod web");
    close_client(&c);

    open_exec(&c, "/api/v1/namespaces/shop/pods/multi/exec", "command=echo",
              "websocket", V5);
    expect_status(&c, 400, "choose one of: [a b]");
    close_client(&c);

    open_exec(&c, PATH, "command=echo", NULL, V5);
    expect_status(&c, 400, "Upgrade request required");
    close_client(&c);

    /* SPDY without a stream protocol the mock speaks: kube-apiserver's 403 */
    open_exec(&c, PATH, "command=echo", "SPDY/3.1", NULL);
    expect_status(&c, 403, "unable to negotiate protocol");
    close_client(&c);

    open_exec(&c, PATH, "container=c", "websocket", V5);
    expect_status(&c, 400, "at least 1 command");
    close_client(&c);

    open_exec(&c, PATH, "command=echo", "websocket", "base64.channel.k8s.io");
    expect_status(&c, 400, "subprotocols");
    close_client(&c);

    open_exec(&c, "/api/v1/namespaces/shop/pods/web/attach",
              "stdin=true&stdout=true", "websocket", V5);
    expect_status(&c, 400, "attach is not supported");
    close_client(&c);
}

/* Output under FG_PAUSE pauses stdin; the resume lets it go on. */
static int paused_data(void *ctx, const void *buf, size_t len)
{
    cb_data(ctx, buf, len);
    return FG_PAUSE;
}

static void test_backpressure(void **state)
{
    (void)state;
    struct fg_stream_callbacks cbs = callbacks;
    cbs.data = paused_data;
    struct client c;
    memset(&c, 0, sizeof(c));
    struct fg_header h[2] = {
        {"sec-websocket-key", 17, KEY, strlen(KEY)},
        {"sec-websocket-version", 21, "13", 2},
    };
    struct fg_request_head head = {
        .method = "GET",
        .path = PATH,
        .query = "command=cat&stdin=true",
        .headers = h,
        .n_headers = 2,
        .content_length = -1,
        .http_version = 11,
        .upgrade = "websocket",
    };
    fake_set_info(&head);
    c.stream = mock_driver_ops.stream_open(&inst, &head, &cbs, &c);
    mock_driver_ops.stream_end(c.stream);
    assert_int_equal(c.status, 101);
    assert_string_equal(c.protocol, ""); /* none offered: channel.k8s.io */
    struct mock_buf b = {0};
    channel_frame(&b, 0, "x");
    send_bytes(&c, &b, 0);
    mock_buf_free(&b);
    assert_int_equal(c.pauses, 1);
    mock_driver_ops.stream_resume(c.stream);
    assert_int_equal(c.resumes_asked, 1);
    expect_channel(&c, 1, "x");
    mock_driver_ops.stream_close(c.stream); /* the client went away */
    mock_buf_free(&c.out);
    assert_int_equal(fake_timers_alive(), 0);
}

/* Whether the mock hands PATH to exec.c, going by the request info. */
static int match(const char *path)
{
    struct fg_request_head head = {.method = "GET", .path = path};
    fake_set_info(&head);
    return mock_exec_match(head.info);
}

static void test_match(void **state)
{
    (void)state;
    assert_true(match("/api/v1/namespaces/a/pods/b/exec"));
    assert_true(match("/api/v1/namespaces/a/pods/b/attach"));
    assert_true(match("/api/v1/namespaces/a/pods/b%2D1/exec"));
    assert_false(match("/api/v1/namespaces/a/pods/b/log"));
    assert_false(match("/api/v1/namespaces/a/pods/b"));
    assert_false(match("/api/v1/namespaces/a/pods/b/exec/x"));
    assert_false(match("/api/v1/namespaces/a/services/b/exec"));
    assert_false(match("/api/v1/pods/b/exec"));
    assert_false(match("/api/v2/namespaces/a/pods/b/exec"));
    assert_false(match("/apis/x/v1/namespaces/a/pods/b/exec"));
    assert_false(match("/api/v1/watch/namespaces/a/pods/b/exec"));
    assert_false(match("/api/v1/proxy/namespaces/a/pods/b/exec"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_encoded_path_delayed_start),
        cmocka_unit_test(test_echo_v5),
        cmocka_unit_test(test_v4_only),
        cmocka_unit_test(test_exit_code_status),
        cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_env_and_sh_quoting),
        cmocka_unit_test(test_cat_v5_odd_splits),
        cmocka_unit_test(test_cat_v4_client_close),
        cmocka_unit_test(test_oversized_and_unmasked),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_backpressure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
