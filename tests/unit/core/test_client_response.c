/* Tests of the client's HTTP/1.1 response parser (core/client/response.c):
 * framing a member's answer, and refusing the ambiguous ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client.h"

struct got {
    int status, heads, complete, keep_alive;
    char body[256];
    size_t body_len;
    char ctype[64];
    int pause;
};

static int on_head(void *arg, int status, const struct fg_header *h, size_t n)
{
    struct got *g = arg;
    g->status = status;
    g->heads++;
    for (size_t i = 0; i < n; i++)
        if (h[i].name_len == 12 && memcmp(h[i].name, "content-type", 12) == 0)
            memcpy(g->ctype, h[i].value, h[i].value_len);
    return 0;
}

static int on_body(void *arg, const char *buf, size_t len)
{
    struct got *g = arg;
    memcpy(g->body + g->body_len, buf, len);
    g->body_len += len;
    return g->pause ? FG_PAUSE : 0;
}

static void on_complete(void *arg, int keep_alive)
{
    struct got *g = arg;
    g->complete++;
    g->keep_alive = keep_alive;
}

static const struct fg_client_response_callbacks cb = {on_head, on_body,
                                                       on_complete};

/* Feeds TEXT one byte at a time; returns the last result. */
static enum fg_client_parse_result bytewise(const char *text, size_t len,
                                            struct got *g, size_t *rest)
{
    struct fg_client_response *r = fg_client_response_new(&cb, g, 0);
    enum fg_client_parse_result rc = FG_CLIENT_PARSE_MORE;
    size_t off = 0;
    while (off < len) {
        size_t used;
        rc = fg_client_response_feed(r, text + off, 1, &used);
        off += used;
        if (rc == FG_CLIENT_PARSE_ERROR || rc == FG_CLIENT_PARSE_DONE)
            break;
    }
    if (rc == FG_CLIENT_PARSE_MORE)
        rc = fg_client_response_eof(r);
    if (rest)
        *rest = len - off;
    fg_client_response_free(r);
    return rc;
}

#define S(x) x, sizeof(x) - 1

static void framing(void **state)
{
    (void)state;
    struct got g = {0};
    assert_int_equal(bytewise(S("HTTP/1.1 200 OK\r\nContent-Type: "
                                "application/json\r\nContent-Length: 2\r\n"
                                "\r\n{}"),
                              &g, NULL),
                     FG_CLIENT_PARSE_DONE);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.ctype, "application/json");
    assert_int_equal(g.body_len, 2);
    assert_true(g.keep_alive);

    memset(&g, 0, sizeof(g));
    assert_int_equal(bytewise(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                "chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n"
                                "\r\n"),
                              &g, NULL),
                     FG_CLIENT_PARSE_DONE);
    assert_int_equal(g.body_len, 5);
    assert_memory_equal(g.body, "abcde", 5);

    /* close-delimited: complete only at the end of the connection */
    memset(&g, 0, sizeof(g));
    assert_int_equal(bytewise(S("HTTP/1.1 200 OK\r\n\r\nall of it"), &g, NULL),
                     FG_CLIENT_PARSE_DONE);
    assert_int_equal(g.body_len, 9);
    assert_false(g.keep_alive);

    /* interim answers are skipped */
    memset(&g, 0, sizeof(g));
    assert_int_equal(bytewise(S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 "
                                "No Content\r\n\r\n"),
                              &g, NULL),
                     FG_CLIENT_PARSE_DONE);
    assert_int_equal(g.status, 204);
    assert_int_equal(g.heads, 1);

    /* 101: the bytes after the head are the new protocol's */
    memset(&g, 0, sizeof(g));
    size_t rest = 0;
    assert_int_equal(bytewise(S("HTTP/1.1 101 Switching Protocols\r\n"
                                "Upgrade: websocket\r\nConnection: Upgrade"
                                "\r\n\r\nRAW"),
                              &g, &rest),
                     FG_CLIENT_PARSE_DONE);
    assert_int_equal(g.status, 101);
    assert_int_equal(rest, 3);
}

static void truncation_is_an_error(void **state)
{
    (void)state;
    struct got g = {0};
    assert_int_equal(bytewise(S("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
                                "\r\nabc"),
                              &g, NULL),
                     FG_CLIENT_PARSE_ERROR);
    memset(&g, 0, sizeof(g));
    assert_int_equal(bytewise(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                "chunked\r\n\r\n3\r\nabc\r\n"),
                              &g, NULL),
                     FG_CLIENT_PARSE_ERROR);
    memset(&g, 0, sizeof(g));
    assert_int_equal(bytewise(S("HTTP/1.1 200 OK\r\nContent-"), &g, NULL),
                     FG_CLIENT_PARSE_ERROR);
    assert_int_equal(g.heads, 0);
}

static void ambiguous_heads_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: "
        "chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:"
        " chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n",
    };
    static const size_t lens[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 49};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct got g = {0};
        size_t len = lens[i] ? lens[i] : strlen(bad[i]);
        enum fg_client_parse_result rc = bytewise(bad[i], len, &g, NULL);
        if (rc != FG_CLIENT_PARSE_ERROR)
            fail_msg("case %zu accepted", i);
        assert_int_equal(g.heads, 0);
    }
}

static void pause_stops_and_resumes(void **state)
{
    (void)state;
    static const char text[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"
                               "abcdef";
    struct got g = {0};
    g.pause = 1;
    struct fg_client_response *r = fg_client_response_new(&cb, &g, 0);
    size_t used;
    size_t head = sizeof(text) - 1 - 6;
    assert_int_equal(fg_client_response_feed(r, text, head + 3, &used),
                     FG_CLIENT_PARSE_PAUSED);
    assert_int_equal(g.body_len, 3);
    size_t off = used;
    g.pause = 0;
    enum fg_client_parse_result rc =
        fg_client_response_feed(r, text + off, sizeof(text) - 1 - off, &used);
    assert_int_equal(rc, FG_CLIENT_PARSE_DONE);
    assert_int_equal(g.body_len, 6);
    assert_int_equal(g.complete, 1);
    fg_client_response_free(r);

    /* a HEAD answer has no body whatever its length says */
    memset(&g, 0, sizeof(g));
    r = fg_client_response_new(&cb, &g, 1);
    assert_int_equal(fg_client_response_feed(r, text, head, &used),
                     FG_CLIENT_PARSE_DONE);
    assert_int_equal(g.body_len, 0);
    fg_client_response_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(framing),
        cmocka_unit_test(truncation_is_an_error),
        cmocka_unit_test(ambiguous_heads_are_refused),
        cmocka_unit_test(pause_stops_and_resumes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
