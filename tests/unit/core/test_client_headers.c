/* Tests of the client's request header block (core/client/headers.c): what
 * a server receives of the caller's headers and extra headers, what never
 * passes, what is refused, and its HTTP/1.1 form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "client/client.h"

#define H(n, v)                                                                \
    {                                                                          \
        n, sizeof(n) - 1, v, sizeof(v) - 1                                     \
    }

static size_t count(const struct fg_client_headers *h, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].name_len == strlen(name) &&
            memcmp(h->v[i].name, name, h->v[i].name_len) == 0)
            n++;
    return n;
}

static const char *value(const struct fg_client_headers *h, const char *name,
                         size_t nth)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->v[i].name, name) == 0 && nth-- == 0)
            return h->v[i].value;
    return NULL;
}

/* What a driver adds: a bearer token and the impersonation of alice. */
static const struct fg_header extra[] = {
    H("authorization", "Bearer tok"),
    H("impersonate-user", "alice"),
};

static void extras_follow_the_callers_headers(void **state)
{
    (void)state;
    struct fg_header in[] = {H("Accept", "application/json")};
    struct fg_request_head head = {
        .method = "GET", .path = "/api", .headers = in, .n_headers = 1};
    struct fg_client_headers h;
    char err[128];
    assert_int_equal(
        fg_client_headers_build(&head, extra, 2, &h, err, sizeof(err)), 0);
    assert_int_equal(h.n, 3);
    assert_string_equal(h.v[0].name, "accept");
    assert_string_equal(value(&h, "accept", 0), "application/json");
    assert_string_equal(value(&h, "authorization", 0), "Bearer tok");
    assert_string_equal(value(&h, "impersonate-user", 0), "alice");
    fg_client_headers_free(&h);

    assert_int_equal(
        fg_client_headers_build(&head, NULL, 0, &h, err, sizeof(err)), 0);
    assert_int_equal(count(&h, "authorization"), 0);
    fg_client_headers_free(&h);
}

static void client_identity_headers_never_pass(void **state)
{
    (void)state;
    struct fg_header in[] = {
        H("Authorization", "Bearer stolen"),
        H("authorization", "Basic x"),
        H("Impersonate-User", "system:admin"),
        H("impersonate-group", "system:masters"),
        H("IMPERSONATE-EXTRA-scopes", "x"),
        H("impersonate-uid", "0"),
        H("connection", "Impersonate-User"),
        H("Proxy-Authorization", "x"),
        H("transfer-encoding", "chunked"),
        H("content-length", "5"),
        H("host", "evil"),
        H("upgrade", "h2c"),
        H("te", "trailers"),
        H("x-remote-user", "root"),
        H(":authority", "evil"),
        H("User-Agent", "kubectl"),
    };
    struct fg_request_head head = {.method = "GET",
                                   .path = "/api",
                                   .headers = in,
                                   .n_headers = sizeof(in) / sizeof(in[0])};
    struct fg_client_headers h;
    char err[128];
    assert_int_equal(
        fg_client_headers_build(&head, extra, 2, &h, err, sizeof(err)), 0);
    assert_int_equal(h.n, 3);
    assert_string_equal(value(&h, "user-agent", 0), "kubectl");
    assert_string_equal(value(&h, "authorization", 0), "Bearer tok");
    assert_string_equal(value(&h, "impersonate-user", 0), "alice");
    fg_client_headers_free(&h);
}

static void cr_lf_nul_are_refused(void **state)
{
    (void)state;
    struct fg_header bad[][1] = {
        {H("x-a", "a\r\nImpersonate-User: root")},
        {H("x-a", "a\nb")},
        {{"x-a", 3, "a\0b", 3}},
        {H("x a", "b")},
        {H("x:a", "b")},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fg_request_head head = {
            .method = "GET", .path = "/", .headers = bad[i], .n_headers = 1};
        struct fg_client_headers h;
        char err[128];
        assert_int_equal(
            fg_client_headers_build(&head, extra, 2, &h, err, sizeof(err)), -1);
        /* the same in an extra header: a bad group name, say */
        struct fg_request_head plain = {.method = "GET", .path = "/"};
        assert_int_equal(
            fg_client_headers_build(&plain, bad[i], 1, &h, err, sizeof(err)),
            -1);
    }
}

static void h1_head_is_serialised(void **state)
{
    (void)state;
    struct fg_header in[] = {H("sec-websocket-key", "k")};
    struct fg_request_head head = {
        .method = "GET", .path = "/x", .headers = in, .n_headers = 1};
    struct fg_client_headers h;
    char err[128];
    assert_int_equal(
        fg_client_headers_build(&head, extra, 2, &h, err, sizeof(err)), 0);
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(fg_client_h1_head_write(b, "GET", "/x?y=1",
                                             "10.0.0.1:6443", &h, 0, 0,
                                             "websocket"),
                     0);
    size_t len = evbuffer_get_length(b);
    char *text = calloc(1, len + 1);
    evbuffer_remove(b, text, len);
    assert_string_equal(text, "GET /x?y=1 HTTP/1.1\r\n"
                              "host: 10.0.0.1:6443\r\n"
                              "sec-websocket-key: k\r\n"
                              "authorization: Bearer tok\r\n"
                              "impersonate-user: alice\r\n"
                              "connection: Upgrade\r\n"
                              "upgrade: websocket\r\n\r\n");
    free(text);
    assert_int_equal(
        fg_client_h1_head_write(b, "POST", "/", "h", &h, 2, 0, NULL), 0);
    struct evbuffer_ptr at =
        evbuffer_search(b, "transfer-encoding: chunked\r\n", 28, NULL);
    assert_true(at.pos >= 0);
    evbuffer_free(b);
    fg_client_headers_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(extras_follow_the_callers_headers),
        cmocka_unit_test(client_identity_headers_never_pass),
        cmocka_unit_test(cr_lf_nul_are_refused),
        cmocka_unit_test(h1_head_is_serialised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
