/* Tests of the strict HTTP/1.1 request parser (core/http/h1_parser.c): what it
 * accepts, every way of smuggling a request it refuses, and the status
 * each refusal answers with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "http/h1_parser.h"

/* What the callbacks saw, copied (the parser's strings live only until the
 * next message). */
struct seen {
    int heads, completes;
    char method[32], target[256], authority[128];
    int has_authority;
    char headers[1024]; /* "name=value\n" each */
    size_t n_headers;
    int64_t content_length;
    int has_body, http_version;
    unsigned flags;
    char body[4096];
    size_t body_len;
    int fail_head; /* make on_head refuse */
};

static int on_head(void *arg, const struct fg_request_in *req, unsigned flags)
{
    struct seen *s = arg;
    s->heads++;
    snprintf(s->method, sizeof(s->method), "%s", req->method);
    snprintf(s->target, sizeof(s->target), "%s", req->target);
    s->has_authority = req->authority != NULL;
    snprintf(s->authority, sizeof(s->authority), "%s",
             req->authority ? req->authority : "");
    s->headers[0] = '\0';
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct fg_header *h = &req->headers[i];
        size_t l = strlen(s->headers);
        snprintf(s->headers + l, sizeof(s->headers) - l, "%.*s=%.*s\n",
                 (int)h->name_len, h->name, (int)h->value_len, h->value);
    }
    s->n_headers = req->n_headers;
    s->content_length = req->content_length;
    s->has_body = req->has_body;
    s->http_version = req->http_version;
    s->flags = flags;
    return s->fail_head ? -1 : 0;
}

static int on_body(void *arg, const void *buf, size_t len)
{
    struct seen *s = arg;
    assert_true(s->body_len + len <= sizeof(s->body));
    memcpy(s->body + s->body_len, buf, len);
    s->body_len += len;
    return 0;
}

static int on_complete(void *arg)
{
    struct seen *s = arg;
    s->completes++;
    return 0;
}

static const struct fg_h1_callbacks callbacks = {on_head, on_body, on_complete};

static struct fg_limits default_limits(void)
{
    struct fg_limits l;
    memset(&l, 0, sizeof(l));
    l.max_header_bytes = 65536;
    l.max_headers = 128;
    l.max_uri_bytes = 8192;
    l.max_request_body_bytes = 10485760;
    l.stream_buffer_bytes = 262144;
    return l;
}

/* Feeds IN in pieces of STEP bytes (0: all at once) until one message
 * completes or the parser refuses; all of IN has arrived, so each feed
 * shows the parser the rest as its look-ahead. Returns the bytes consumed
 * by that message, or -1 (then *STATUS is the refusal's status). */
static ssize_t feed_one(struct fg_h1_parser *p, const char *in, size_t len,
                        size_t step, int *status)
{
    size_t off = 0;
    *status = 0;
    while (off < len) {
        size_t n = step && len - off > step ? step : len - off;
        ssize_t r = fg_h1_parser_feed_ahead(p, in + off, n, in + off + n,
                                            len - off - n);
        if (r < 0) {
            const struct fg_h1_error *e = fg_h1_parser_error(p);
            assert_non_null(e);
            assert_true(e->message[0] != '\0');
            *status = e->status;
            return -1;
        }
        off += (size_t)r;
        if (fg_h1_parser_state(p) == FG_H1_DONE)
            return (ssize_t)off;
    }
    return (ssize_t)off;
}

/* Parses IN (a single request) with LIMITS; returns its status: 0 when a
 * whole message was accepted. */
static int parse_with(const struct fg_limits *limits, const char *in,
                      size_t len, size_t step, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    struct fg_h1_parser *p = fg_h1_parser_new(limits, &callbacks, s);
    assert_non_null(p);
    int status;
    ssize_t r = feed_one(p, in, len, step, &status);
    if (r >= 0) {
        if (fg_h1_parser_state(p) != FG_H1_DONE)
            status = -2; /* incomplete */
        else
            assert_int_equal(r, len);
    } else {
        /* a refused parser stays refused */
        assert_int_equal(fg_h1_parser_feed(p, "x", 1), -1);
        assert_int_equal(fg_h1_parser_state(p), FG_H1_ERROR);
    }
    fg_h1_parser_free(p);
    return status;
}

static int parse(const char *in, struct seen *s)
{
    struct fg_limits l = default_limits();
    return parse_with(&l, in, strlen(in), 0, s);
}

/* The status, and that the byte-by-byte feed agrees with the whole feed. */
static int status_of(const char *in)
{
    struct seen s;
    struct fg_limits l = default_limits();
    int whole = parse_with(&l, in, strlen(in), 0, &s);
    int bytewise = parse_with(&l, in, strlen(in), 1, &s);
    if (whole != bytewise)
        fail_msg("%s: whole feed %d, byte by byte %d", in, whole, bytewise);
    return whole;
}

#define EXPECT_STATUS(want, in)                                                \
    do {                                                                       \
        int got_ = status_of(in);                                              \
        if (got_ != (want))                                                    \
            fail_msg("line %d: status %d, want %d", __LINE__, got_, want);     \
    } while (0)

/* ---- accepted requests --------------------------------------------------- */

static void test_simple_get(void **state)
{
    (void)state;
    struct seen s;
    assert_int_equal(parse("GET /api/v1/pods?watch=1 HTTP/1.1\r\n"
                           "Host: gw.example:6443\r\n"
                           "User-Agent: kubectl/v1.32\r\n"
                           "Accept:   application/json  \r\n"
                           "X-Mixed-CASE: \xc3\xa9t\xc3\xa9\r\n"
                           "\r\n",
                           &s),
                     0);
    assert_int_equal(s.heads, 1);
    assert_int_equal(s.completes, 1);
    assert_string_equal(s.method, "GET");
    assert_string_equal(s.target, "/api/v1/pods?watch=1");
    assert_string_equal(s.authority, "gw.example:6443");
    assert_string_equal(s.headers, "user-agent=kubectl/v1.32\n"
                                   "accept=application/json\n"
                                   "x-mixed-case=\xc3\xa9t\xc3\xa9\n");
    assert_int_equal(s.content_length, 0);
    assert_int_equal(s.has_body, 0);
    assert_int_equal(s.http_version, 11);
    assert_int_equal(s.flags, FG_H1_KEEP_ALIVE);
    assert_int_equal(s.body_len, 0);
}

static void test_keep_alive(void **state)
{
    (void)state;
    struct seen s;
    assert_int_equal(
        parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &s), 0);
    assert_int_equal(s.flags & FG_H1_KEEP_ALIVE, 0);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n"
                           "Connection: foo, Close\r\n\r\n",
                           &s),
                     0);
    assert_int_equal(s.flags & FG_H1_KEEP_ALIVE, 0);
    /* HTTP/1.0: Host is optional, keep-alive only on request */
    assert_int_equal(parse("GET /x HTTP/1.0\r\n\r\n", &s), 0);
    assert_int_equal(s.flags, FG_H1_HTTP10);
    assert_int_equal(s.has_authority, 0);
    assert_int_equal(
        parse("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &s), 0);
    assert_int_equal(s.flags, FG_H1_KEEP_ALIVE | FG_H1_HTTP10);
    assert_int_equal(s.http_version, 11);
    /* HTTP/1.0 ignores Expect */
    assert_int_equal(
        parse("POST /x HTTP/1.0\r\nExpect: foo\r\nContent-Length: 1\r\n\r\n"
              "a",
              &s),
        0);
    assert_int_equal(s.flags, FG_H1_HTTP10);
}

static void test_pipelined(void **state)
{
    (void)state;
    struct fg_limits l = default_limits();
    struct seen s;
    memset(&s, 0, sizeof(s));
    struct fg_h1_parser *p = fg_h1_parser_new(&l, &callbacks, &s);
    const char *first = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                        "\r\nabc";
    const char *second = "GET /b HTTP/1.1\r\nHost: b\r\n\r\n";
    char both[512];
    snprintf(both, sizeof(both), "%s%s", first, second);
    assert_int_equal(fg_h1_parser_state(p), FG_H1_IDLE);
    ssize_t r = fg_h1_parser_feed(p, both, strlen(both));
    assert_int_equal(r, strlen(first));
    assert_int_equal(fg_h1_parser_state(p), FG_H1_DONE);
    assert_int_equal(s.completes, 1);
    assert_string_equal(s.target, "/a");
    assert_int_equal(s.body_len, 3);
    r = fg_h1_parser_feed(p, both + strlen(first), strlen(second));
    assert_int_equal(r, strlen(second));
    assert_int_equal(s.heads, 2);
    assert_int_equal(s.completes, 2);
    assert_string_equal(s.target, "/b");
    assert_string_equal(s.authority, "b");
    /* a CRLF between requests is ignored and the parser stays idle */
    r = fg_h1_parser_feed(p, "\r\n", 2);
    assert_int_equal(r, 2);
    assert_int_equal(fg_h1_parser_state(p), FG_H1_IDLE);
    r = fg_h1_parser_feed(p, "GE", 2);
    assert_int_equal(r, 2);
    assert_int_equal(fg_h1_parser_state(p), FG_H1_HEAD);
    fg_h1_parser_free(p);
}

static void test_chunked_bytewise(void **state)
{
    (void)state;
    static const char in[] = "POST /api/v1/namespaces HTTP/1.1\r\n"
                             "Host: a\r\n"
                             "Transfer-Encoding: Chunked\r\n"
                             "\r\n"
                             "1\r\nh\r\n"
                             "a;name=value\r\n0123456789\r\n"
                             "11\r\nabcdefghijklmnopq\r\n"
                             "0\r\n"
                             "X-Trailer: t\r\n"
                             "\r\n";
    struct fg_limits l = default_limits();
    for (size_t step = 1; step <= 7; step++) {
        struct seen s;
        assert_int_equal(parse_with(&l, in, sizeof(in) - 1, step, &s), 0);
        assert_int_equal(s.completes, 1);
        assert_int_equal(s.has_body, 1);
        assert_int_equal(s.content_length, -1);
        assert_int_equal(s.body_len, 28);
        assert_memory_equal(s.body, "h0123456789abcdefghijklmnopq", 28);
        /* the transfer-encoding header is passed on for the exchange */
        assert_string_equal(s.headers, "transfer-encoding=Chunked\n");
    }
}

static void test_content_length_body(void **state)
{
    (void)state;
    static const char in[] = "PUT /x HTTP/1.1\r\nHost: a\r\n"
                             "Content-Length: 010\r\n\r\n0123456789";
    struct fg_limits l = default_limits();
    for (size_t step = 0; step <= 5; step++) {
        struct seen s;
        assert_int_equal(parse_with(&l, in, sizeof(in) - 1, step, &s), 0);
        assert_int_equal(s.content_length, 10);
        assert_int_equal(s.has_body, 1);
        assert_int_equal(s.body_len, 10);
        assert_memory_equal(s.body, "0123456789", 10);
    }
    struct seen s;
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
                           "\r\n",
                           &s),
                     0);
    assert_int_equal(s.has_body, 0);
    assert_int_equal(s.content_length, 0);
}

static void test_upgrade_and_expect(void **state)
{
    (void)state;
    struct seen s;
    /* an upgrade request is served as an ordinary request, and the parser
     * goes on with the next one */
    struct fg_limits l = default_limits();
    memset(&s, 0, sizeof(s));
    struct fg_h1_parser *p = fg_h1_parser_new(&l, &callbacks, &s);
    static const char in[] = "POST /exec HTTP/1.1\r\nHost: a\r\n"
                             "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                             "Content-Length: 2\r\n\r\nhi"
                             "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
    ssize_t r = fg_h1_parser_feed(p, in, sizeof(in) - 1);
    assert_true(r > 0);
    assert_int_equal(s.flags, FG_H1_KEEP_ALIVE | FG_H1_UPGRADE);
    assert_int_equal(s.body_len, 2);
    assert_int_equal(fg_h1_parser_feed(p, in + r, sizeof(in) - 1 - (size_t)r),
                     sizeof(in) - 1 - (size_t)r);
    assert_string_equal(s.target, "/next");
    assert_int_equal(s.completes, 2);
    fg_h1_parser_free(p);

    assert_int_equal(parse("GET /ws HTTP/1.1\r\nHost: a\r\n"
                           "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
                           &s),
                     0);
    assert_int_equal(s.flags, FG_H1_KEEP_ALIVE | FG_H1_UPGRADE);

    assert_int_equal(parse("PUT / HTTP/1.1\r\nHost: a\r\n"
                           "Expect: 100-Continue\r\nContent-Length: 1\r\n\r\n"
                           "x",
                           &s),
                     0);
    assert_int_equal(s.flags, FG_H1_KEEP_ALIVE | FG_H1_EXPECT_CONTINUE);
    /* nothing to wait for without a body */
    assert_int_equal(
        parse("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", &s),
        0);
    assert_int_equal(s.flags, FG_H1_KEEP_ALIVE);
}

static void test_hosts_accepted(void **state)
{
    (void)state;
    EXPECT_STATUS(0, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
    EXPECT_STATUS(0, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    EXPECT_STATUS(0, "GET / HTTP/1.1\r\nHost: my-gw.example.com:443\r\n\r\n");
    EXPECT_STATUS(0, "GET / HTTP/1.1\r\nHost:a\r\n\r\n");
}

/* ---- refusals --------------------------------------------------------------
 */

static void test_framing_refusals(void **state)
{
    (void)state;
    /* CL and TE together */
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"
                       "\r\n0\r\n\r\n");
    /* two Content-Length, even equal; lists; not digits */
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                       "Content-Length: 3\r\n\r\nabc");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n"
                       "\r\nabc");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n"
                       "\r\nabc");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3a\r\n"
                       "\r\nabc");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n"
                       "\r\nabc");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3 3\r\n"
                       "\r\nabc");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n"
                       "\r\n");
    /* a length that does not fit in 63 bits is malformed, not large
     * (kube-apiserver answers it with 400) */
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Content-Length: 99999999999999999999999\r\n\r\n");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Content-Length: 9223372036854775808\r\n\r\n");
    EXPECT_STATUS(413, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Content-Length: 9223372036854775807\r\n\r\n");
    EXPECT_STATUS(413, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Content-Length: 10485761\r\n\r\n");
    /* Transfer-Encoding other than exactly chunked */
    EXPECT_STATUS(501, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Transfer-Encoding: gzip\r\n\r\n");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Transfer-Encoding: gzip, chunked\r\n\r\n");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Transfer-Encoding: chunked, chunked\r\n\r\n");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Transfer-Encoding: gzip\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Transfer-Encoding: chunked\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n");
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Transfer-Encoding:\r\n\r\n");
    /* chunked on HTTP/1.0 */
    EXPECT_STATUS(400, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "0\r\n\r\n");
    /* obs-fold inside Transfer-Encoding */
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n"
                       " chunked\r\n\r\n0\r\n\r\n");
}

static void test_header_syntax_refusals(void **state)
{
    (void)state;
    /* obs-fold */
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\t2\r\n\r\n");
    /* whitespace before the colon */
    EXPECT_STATUS(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n"
                       "\r\nhello");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n");
    /* empty and non-token names, no colon */
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: 1\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n");
    /* control characters in values */
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n");
    {
        static const char nul[] =
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
        struct seen s;
        struct fg_limits l = default_limits();
        assert_int_equal(parse_with(&l, nul, sizeof(nul) - 1, 0, &s), 400);
    }
    /* bare LF anywhere in the head */
    EXPECT_STATUS(400, "GET / HTTP/1.1\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\n\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n");
    EXPECT_STATUS(400, "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    /* Expect other than 100-continue */
    EXPECT_STATUS(417, "GET / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\n\r\n");
}

static void test_host_refusals(void **state)
{
    (void)state;
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: \r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a:\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: []\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1\r\nHost: a%2fb\r\n\r\n");
}

static void test_request_line_refusals(void **state)
{
    (void)state;
    /* target forms other than origin-form */
    EXPECT_STATUS(400, "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n");
    EXPECT_STATUS(400, "CONNECT /a HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    /* bytes in the target */
    EXPECT_STATUS(400, "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET /a\x80 HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET  / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.1 \r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET /\r\nHost: a\r\n\r\n");
    /* methods */
    EXPECT_STATUS(400, "G(T / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, " GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(501, "FOO / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(501, "get / HTTP/1.1\r\nHost: a\r\n\r\n");
    /* versions */
    EXPECT_STATUS(505, "GET / HTTP/2.0\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(505, "GET / HTTP/1.2\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(505, "GET / HTTP/0.9\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/11\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET / http/1.1\r\nHost: a\r\n\r\n");
    EXPECT_STATUS(400, "GET / HTTP/1.10\r\nHost: a\r\n\r\n");
}

static void test_limits(void **state)
{
    (void)state;
    struct fg_limits l = default_limits();
    l.max_header_bytes = 256;
    l.max_headers = 3;
    l.max_uri_bytes = 32;
    l.max_request_body_bytes = 20;
    struct seen s;
    char buf[2048];

#define LIMIT_STATUS(want, str)                                                \
    do {                                                                       \
        const char *in_ = (str);                                               \
        int a_ = parse_with(&l, in_, strlen(in_), 0, &s);                      \
        int b_ = parse_with(&l, in_, strlen(in_), 1, &s);                      \
        if (a_ != (want) || b_ != (want))                                      \
            fail_msg("line %d: status %d/%d, want %d", __LINE__, a_, b_,       \
                     want);                                                    \
    } while (0)

    /* URI: 32 bytes pass, 33 do not */
    LIMIT_STATUS(0, "GET /2345678901234567890123456789012 HTTP/1.1\r\n"
                    "Host: a\r\n\r\n");
    LIMIT_STATUS(414, "GET /23456789012345678901234567890123 HTTP/1.1\r\n"
                      "Host: a\r\n\r\n");
    /* a huge URI is refused as a URI, before the head limit */
    memset(buf, 'a', sizeof(buf));
    memcpy(buf, "GET /", 5);
    buf[sizeof(buf) - 1] = '\0';
    LIMIT_STATUS(414, buf);
    /* headers: three pass, four do not (Host counts) */
    LIMIT_STATUS(0, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n");
    LIMIT_STATUS(431, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n"
                      "\r\n");
    /* head bytes */
    snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\nX: %0240d\r\n\r\n",
             0);
    LIMIT_STATUS(431, buf);
    /* exactly at the limit passes */
    {
        const char *pre = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
        size_t fill = 256 - strlen(pre) - 4;
        snprintf(buf, sizeof(buf), "%s%0*d\r\n\r\n", pre, (int)fill, 0);
        assert_int_equal(strlen(buf), 256);
        LIMIT_STATUS(0, buf);
        snprintf(buf, sizeof(buf), "%s%0*d\r\n\r\n", pre, (int)fill + 1, 0);
        LIMIT_STATUS(431, buf);
    }
    /* leading empty lines count towards the head limit */
    memset(buf, 0, sizeof(buf));
    for (int i = 0; i < 200; i++)
        memcpy(buf + 2 * i, "\r\n", 2);
    strcat(buf, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    LIMIT_STATUS(431, buf);
    /* body: declared and streamed */
    LIMIT_STATUS(0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n"
                    "01234567890123456789");
    LIMIT_STATUS(413, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 21\r\n\r\n"
                      "012345678901234567890");
    LIMIT_STATUS(0, "POST / HTTP/1.1\r\nHost: a\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"
                    "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
    LIMIT_STATUS(413, "POST / HTTP/1.1\r\nHost: a\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "a\r\n0123456789\r\na\r\n0123456789\r\n1\r\nx\r\n"
                      "0\r\n\r\n");
    LIMIT_STATUS(413, "POST / HTTP/1.1\r\nHost: a\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "ffffffff\r\n0123456789");
#undef LIMIT_STATUS
}

static void test_chunk_refusals(void **state)
{
    (void)state;
    const char *pre = "POST / HTTP/1.1\r\nHost: a\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n";
    char buf[16384];
    snprintf(buf, sizeof(buf), "%szz\r\nabc\r\n0\r\n\r\n", pre);
    EXPECT_STATUS(400, buf);
    snprintf(buf, sizeof(buf), "%s3\nabc\r\n0\r\n\r\n", pre);
    EXPECT_STATUS(400, buf);
    snprintf(buf, sizeof(buf), "%s3\r\nabc\n0\r\n\r\n", pre);
    EXPECT_STATUS(400, buf);
    snprintf(buf, sizeof(buf), "%s3\r\nabc\r\n0\r\n\n", pre);
    EXPECT_STATUS(400, buf);
    snprintf(buf, sizeof(buf), "%s3\r\nabc\r\n0\r\nX: 1\n\r\n", pre);
    EXPECT_STATUS(400, buf);
    snprintf(buf, sizeof(buf), "%s3\r\nabcd\r\n0\r\n\r\n", pre);
    EXPECT_STATUS(400, buf);
    /* an overlong chunk extension */
    size_t n = (size_t)snprintf(buf, sizeof(buf), "%s3;x=", pre);
    memset(buf + n, 'e', 5000);
    snprintf(buf + n + 5000, sizeof(buf) - n - 5000, "\r\nabc\r\n0\r\n\r\n");
    EXPECT_STATUS(400, buf);
    /* a short one is fine */
    snprintf(buf, sizeof(buf), "%s3;a=b;c\r\nabc\r\n0;z\r\nT: 1\r\n\r\n", pre);
    EXPECT_STATUS(0, buf);
}

/* The chunked grammar of RFC 9112 7.1, clause by clause: every way to get
 * a chunk wrong is a 400, and a head that arrived together with its
 * malformed body is never delivered (whole, or byte by byte with the rest
 * already arrived). */
static void test_chunk_grammar(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* the CRLF after chunk-data: the smuggling case and its kin */
        "5\r\nhelloXX0\r\n\r\n",
        "5\r\nhello0\r\n\r\n",
        "5\r\nhelloX\r\n0\r\n\r\n",
        "5\r\nhello\rX0\r\n\r\n",
        "5\r\nhello\n0\r\n\r\n",
        "5\r\nhello\r\r\n0\r\n\r\n",
        "3\r\nabcd\r\n0\r\n\r\n",
        /* chunk-size: 1*HEXDIG, nothing else */
        "-5\r\nhello\r\n0\r\n\r\n",
        "+5\r\nhello\r\n0\r\n\r\n",
        "0x5\r\nhello\r\n0\r\n\r\n",
        "0X5\r\nhello\r\n0\r\n\r\n",
        " 5\r\nhello\r\n0\r\n\r\n",
        "\t5\r\nhello\r\n0\r\n\r\n",
        "5 \r\nhello\r\n0\r\n\r\n",
        "5\t\r\nhello\r\n0\r\n\r\n",
        "\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n\r\n",
        "g\r\nhello\r\n0\r\n\r\n",
        "5.0\r\nhello\r\n0\r\n\r\n",
        "5,5\r\nhello\r\n0\r\n\r\n",
        "00000000000000005\r\nhello\r\n0\r\n\r\n",
        /* the chunk line's end */
        "5\nhello\r\n0\r\n\r\n",
        "5\r\rhello\r\n0\r\n\r\n",
        "5\r hello\r\n0\r\n\r\n",
        "0\r\n\n",
        "0\n\r\n",
        /* chunk-ext */
        "5;\r\nhello\r\n0\r\n\r\n",
        "5; \r\nhello\r\n0\r\n\r\n",
        "5;=x\r\nhello\r\n0\r\n\r\n",
        "5;a=\r\nhello\r\n0\r\n\r\n",
        "5;a =\r\nhello\r\n0\r\n\r\n",
        "5;a b\r\nhello\r\n0\r\n\r\n",
        "5;a=b c\r\nhello\r\n0\r\n\r\n",
        "5;a=b\x01\r\nhello\r\n0\r\n\r\n",
        "5;a=\"x\r\nhello\r\n0\r\n\r\n",
        "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n",
        "5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n",
        "5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n",
        "5;a=\"x\"\"y\"\r\nhello\r\n0\r\n\r\n",
        "5;a(b)\r\nhello\r\n0\r\n\r\n",
        "5;a=b\nhello\r\n0\r\n\r\n",
        "5 x\r\nhello\r\n0\r\n\r\n",
        /* trailer-section: strict field lines */
        "0\r\nX : 1\r\n\r\n",
        "0\r\n folded: 1\r\n\r\n",
        "0\r\nX: 1\r\n continued\r\n\r\n",
        "0\r\n: v\r\n\r\n",
        "0\r\nX\r\n\r\n",
        "0\r\nX: a\x01\r\n\r\n",
        "0\r\nX: 1\n\r\n",
        "0\r\nX: 1\r\r\n\r\n",
        "0\r\n\rX",
        "0\r\nX(: 1\r\n\r\n",
    };
    const char *pre = "POST /clusters/m1/x HTTP/1.1\r\nHost: a\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n";
    struct fg_limits l = default_limits();
    char buf[1024];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), "%s%s", pre, bad[i]);
        for (size_t step = 0; step <= 1; step++) {
            struct seen s;
            int st = parse_with(&l, buf, strlen(buf), step, &s);
            if (st != 400 || s.heads != 0)
                fail_msg("case %zu (step %zu): status %d, %d heads, want 400 "
                         "and none",
                         i, step, st, s.heads);
        }
    }
    /* a size beyond the body limit, up to one that overflows 64 bits, is
     * refused as too large as soon as its digits say so */
    snprintf(buf, sizeof(buf), "%s10000000000000000\r\nhello", pre);
    EXPECT_STATUS(413, buf);
    snprintf(buf, sizeof(buf), "%sffffffffffffffffffff\r\nhello", pre);
    EXPECT_STATUS(413, buf);
    /* extensions over the cap, in every part of the grammar */
    static const char *const ext_fill[] = {";", ";a", ";a=", ";a=\"", " "};
    for (size_t i = 0; i < sizeof(ext_fill) / sizeof(ext_fill[0]); i++) {
        int n = snprintf(buf, sizeof(buf), "%s5%s", pre, ext_fill[i]);
        memset(buf + n, i == 4 ? ' ' : 'e', 300);
        snprintf(buf + n + 300, sizeof(buf) - (size_t)n - 300,
                 "%s\r\nhello\r\n0\r\n\r\n", i == 3 ? "\"" : "");
        EXPECT_STATUS(400, buf);
    }

    static const char *const good[] = {
        "5\r\nhello\r\n0\r\n\r\n",
        "0005\r\nhello\r\n000\r\n\r\n",
        "A\r\n0123456789\r\n0\r\n\r\n",
        "a\r\n0123456789\r\n0\r\n\r\n",
        "5;a\r\nhello\r\n0\r\n\r\n",
        "5;a=b;c=\"d e\"\r\nhello\r\n0;z\r\n\r\n",
        "5 ;a=b\r\nhello\r\n0\r\n\r\n",
        "5\t; a\t=\t\"q\\\"x\" ;b\r\nhello\r\n0\r\n\r\n",
        "5;a=\"\x80\xff\"\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n0\r\nX-T: 1\r\nY:\r\nZ: a b\t\r\n\r\n",
        "5\r\nhe\r\n\r\r\n0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(buf, sizeof(buf), "%s%s", pre, good[i]);
        struct seen s;
        int st = parse_with(&l, buf, strlen(buf), 1, &s);
        if (st != 0 || s.heads != 1 || s.completes != 1 || s.body_len < 5)
            fail_msg("good case %zu: status %d", i, st);
        EXPECT_STATUS(0, buf);
    }
}

/* Feeds IN's head alone, with the rest of IN as already arrived. */
static ssize_t feed_head_ahead(struct fg_h1_parser *p, const char *in)
{
    size_t hl = (size_t)(strstr(in, "\r\n\r\n") - in) + 4;
    return fg_h1_parser_feed_ahead(p, in, hl, in + hl, strlen(in) - hl);
}

/* The validation covers what has arrived: a head whose body is still on
 * its way is delivered, and the malformed chunk that comes later refuses
 * the request. A pipelined request after a smuggling attempt is never
 * delivered. */
static void test_chunk_arrival(void **state)
{
    (void)state;
    struct fg_limits l = default_limits();
    struct seen s;
    memset(&s, 0, sizeof(s));
    struct fg_h1_parser *p = fg_h1_parser_new(&l, &callbacks, &s);
    const char *head = "POST / HTTP/1.1\r\nHost: a\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n5\r\nhel";
    assert_int_equal(fg_h1_parser_feed(p, head, strlen(head)),
                     (ssize_t)strlen(head));
    assert_int_equal(s.heads, 1);
    assert_int_equal(fg_h1_parser_feed(p, "loXX0\r\n\r\n", 9), -1);
    assert_int_equal(fg_h1_parser_error(p)->status, 400);
    assert_int_equal(s.completes, 0);
    fg_h1_parser_free(p);

    /* the head arrives alone; its malformed body has arrived by the time
     * the head is fed: nothing is delivered */
    memset(&s, 0, sizeof(s));
    p = fg_h1_parser_new(&l, &callbacks, &s);
    const char *all = "POST / HTTP/1.1\r\nHost: a\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhelloXX0\r\n\r\n"
                      "GET /clusters/m1/smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(feed_head_ahead(p, all), -1);
    assert_int_equal(s.heads, 0);
    assert_int_equal(fg_h1_parser_error(p)->status, 400);
    fg_h1_parser_free(p);

    /* a valid body followed by a pipelined request: the look-ahead stops
     * at the end of the message */
    memset(&s, 0, sizeof(s));
    p = fg_h1_parser_new(&l, &callbacks, &s);
    const char *two = "POST / HTTP/1.1\r\nHost: a\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n0\r\n\r\n"
                      "GET /b HTTP/1.1\r\nHost: b\r\n\r\n";
    assert_int_equal(feed_head_ahead(p, two),
                     (ssize_t)(strstr(two, "\r\n\r\n") - two + 4));
    assert_int_equal(s.heads, 1);
    fg_h1_parser_free(p);
}

static void test_callback_refusal(void **state)
{
    (void)state;
    struct fg_limits l = default_limits();
    struct seen s;
    memset(&s, 0, sizeof(s));
    s.fail_head = 1;
    struct fg_h1_parser *p = fg_h1_parser_new(&l, &callbacks, &s);
    const char *in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(fg_h1_parser_feed(p, in, strlen(in)), -1);
    assert_int_equal(fg_h1_parser_error(p)->status, 500);
    assert_int_equal(s.completes, 0);
    fg_h1_parser_free(p);

    /* set_error from outside wins over later problems */
    memset(&s, 0, sizeof(s));
    p = fg_h1_parser_new(&l, &callbacks, &s);
    assert_null(fg_h1_parser_error(p));
    fg_h1_parser_set_error(p, 408, "too slow");
    assert_int_equal(fg_h1_parser_feed(p, in, strlen(in)), -1);
    assert_int_equal(fg_h1_parser_error(p)->status, 408);
    assert_string_equal(fg_h1_parser_error(p)->message, "too slow");
    fg_h1_parser_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_chunked_bytewise),
        cmocka_unit_test(test_content_length_body),
        cmocka_unit_test(test_upgrade_and_expect),
        cmocka_unit_test(test_hosts_accepted),
        cmocka_unit_test(test_framing_refusals),
        cmocka_unit_test(test_header_syntax_refusals),
        cmocka_unit_test(test_host_refusals),
        cmocka_unit_test(test_request_line_refusals),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_chunk_refusals),
        cmocka_unit_test(test_chunk_grammar),
        cmocka_unit_test(test_chunk_arrival),
        cmocka_unit_test(test_callback_refusal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
