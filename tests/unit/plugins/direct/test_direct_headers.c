/* Tests of the direct driver's request header builder (headers.c): what a
 * member receives for an identity and the client's headers, and what is
 * refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "direct.h"
#include "fake.h"

#define H(n, v)                                                                \
    {                                                                          \
        n, sizeof(n) - 1, v, sizeof(v) - 1                                     \
    }

static size_t count(const struct direct_headers *h, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].name_len == strlen(name) &&
            memcmp(h->v[i].name, name, h->v[i].name_len) == 0)
            n++;
    return n;
}

static const char *value(const struct direct_headers *h, const char *name,
                         size_t nth)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->v[i].name, name) == 0 && nth-- == 0)
            return h->v[i].value;
    return NULL;
}

static void identity_becomes_impersonation(void **state)
{
    (void)state;
    static const char *const groups[] = {"dev", "system:authenticated"};
    struct fg_identity id = {
        .user = "alice", .uid = "u-1", .groups = groups, .n_groups = 2};
    struct fg_header in[] = {H("accept", "application/json")};
    struct fg_request_head head = {.method = "GET",
                                   .path = "/api",
                                   .headers = in,
                                   .n_headers = 1,
                                   .identity = &id};
    struct direct_header_opts o = {"tok", 1};
    struct direct_headers h;
    char err[128];
    assert_int_equal(direct_headers_build(&head, &o, &h, err, sizeof(err)), 0);
    assert_string_equal(value(&h, "authorization", 0), "Bearer tok");
    assert_string_equal(value(&h, "impersonate-user", 0), "alice");
    assert_string_equal(value(&h, "impersonate-uid", 0), "u-1");
    assert_int_equal(count(&h, "impersonate-group"), 2);
    assert_string_equal(value(&h, "impersonate-group", 0), "dev");
    assert_string_equal(value(&h, "impersonate-group", 1),
                        "system:authenticated");
    assert_string_equal(value(&h, "accept", 0), "application/json");
    direct_headers_free(&h);

    /* impersonate = false, client certificate: neither is sent */
    struct direct_header_opts none = {NULL, 0};
    assert_int_equal(direct_headers_build(&head, &none, &h, err, sizeof(err)),
                     0);
    assert_int_equal(count(&h, "authorization"), 0);
    assert_int_equal(count(&h, "impersonate-user"), 0);
    direct_headers_free(&h);
}

static void client_identity_headers_never_pass(void **state)
{
    (void)state;
    struct fg_identity id = {
        .user = "alice", .uid = NULL, .groups = NULL, .n_groups = 0};
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
                                   .n_headers = sizeof(in) / sizeof(in[0]),
                                   .identity = &id};
    struct direct_header_opts o = {"tok", 1};
    struct direct_headers h;
    char err[128];
    assert_int_equal(direct_headers_build(&head, &o, &h, err, sizeof(err)), 0);
    assert_int_equal(h.n, 3);
    assert_string_equal(value(&h, "user-agent", 0), "kubectl");
    assert_string_equal(value(&h, "authorization", 0), "Bearer tok");
    assert_string_equal(value(&h, "impersonate-user", 0), "alice");
    direct_headers_free(&h);
}

static void cr_lf_nul_are_refused(void **state)
{
    (void)state;
    struct fg_identity id = {
        .user = "alice", .uid = NULL, .groups = NULL, .n_groups = 0};
    struct fg_header bad[][1] = {
        {H("x-a", "a\r\nImpersonate-User: root")},
        {H("x-a", "a\nb")},
        {{"x-a", 3, "a\0b", 3}},
        {H("x a", "b")},
        {H("x:a", "b")},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fg_request_head head = {.method = "GET",
                                       .path = "/",
                                       .headers = bad[i],
                                       .n_headers = 1,
                                       .identity = &id};
        struct direct_header_opts o = {"tok", 1};
        struct direct_headers h;
        char err[128];
        assert_int_equal(direct_headers_build(&head, &o, &h, err, sizeof(err)),
                         -1);
    }
    static const char *const groups[] = {"ok", "bad\r\ngroup"};
    struct fg_identity bad_id = {
        .user = "alice", .uid = NULL, .groups = groups, .n_groups = 2};
    struct fg_request_head head = {
        .method = "GET", .path = "/", .identity = &bad_id};
    struct direct_header_opts o = {"tok", 1};
    struct direct_headers h;
    char err[128];
    assert_int_equal(direct_headers_build(&head, &o, &h, err, sizeof(err)), -1);
    struct fg_identity bad_user = {
        .user = "a\nb", .uid = NULL, .groups = NULL, .n_groups = 0};
    head.identity = &bad_user;
    assert_int_equal(direct_headers_build(&head, &o, &h, err, sizeof(err)), -1);
}

static void h1_head_is_serialised(void **state)
{
    (void)state;
    struct fg_identity id = {
        .user = "alice", .uid = NULL, .groups = NULL, .n_groups = 0};
    struct fg_header in[] = {H("sec-websocket-key", "k")};
    struct fg_request_head head = {.method = "GET",
                                   .path = "/x",
                                   .headers = in,
                                   .n_headers = 1,
                                   .identity = &id};
    struct direct_header_opts o = {"tok", 1};
    struct direct_headers h;
    char err[128];
    assert_int_equal(direct_headers_build(&head, &o, &h, err, sizeof(err)), 0);
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(direct_h1_head_write(b, "GET", "/x?y=1", "10.0.0.1:6443",
                                          &h, 0, 0, "websocket"),
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
    assert_int_equal(direct_h1_head_write(b, "POST", "/", "h", &h, 2, 0, NULL),
                     0);
    struct evbuffer_ptr at =
        evbuffer_search(b, "transfer-encoding: chunked\r\n", 28, NULL);
    assert_true(at.pos >= 0);
    evbuffer_free(b);
    direct_headers_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identity_becomes_impersonation),
        cmocka_unit_test(client_identity_headers_never_pass),
        cmocka_unit_test(cr_lf_nul_are_refused),
        cmocka_unit_test(h1_head_is_serialised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
