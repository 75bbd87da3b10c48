/* Tests of the OpenAPI v3 index rewrite (openapi.c) and of how a stream
 * holds that one answer until it is whole (stream.c): the URLs get the
 * client's prefix, the length is recomputed, and anything else passes
 * unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "direct.h"
#include "fake.h"

static char *rewrite(const char *in, const char *base, int *rc)
{
    char *out = NULL;
    size_t len = 0;
    *rc = direct_openapi_rewrite(in, strlen(in), base, &out, &len);
    if (*rc == 0)
        assert_int_equal(len, strlen(out));
    return out;
}

static void test_prefixes_server_relative_urls(void **state)
{
    (void)state;
    const char *in =
        "{\"paths\":{\"api/v1\":{\"serverRelativeURL\":\"/openapi/v3/api/"
        "v1?hash=AB\"},\"apis/apps/v1\":{\"serverRelativeURL\" : "
        "\"/openapi/v3/apis/apps/v1?hash=CD\"}}}";
    int rc;
    char *out = rewrite(in, "/clusters/edge", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(
        out, "{\"paths\":{\"api/v1\":{\"serverRelativeURL\":\"/clusters/edge/"
             "openapi/v3/api/v1?hash=AB\"},\"apis/apps/v1\":{"
             "\"serverRelativeURL\" : \"/clusters/edge/openapi/v3/apis/apps/"
             "v1?hash=CD\"}}}");
    free(out);
}

static void test_leaves_everything_else(void **state)
{
    (void)state;
    /* other keys, values outside /openapi/, the key's name as a value,
     * escaped quotes inside strings, a key that is not a string value */
    const char *in =
        "{\"paths\":{\"x\\\"serverRelativeURL\\\"\":{\"serverRelativeURL\":"
        "\"/other/v3\"},\"y\":{\"url\":\"/openapi/v3/a\",\"k\":"
        "\"serverRelativeURL\"},\"z\":{\"serverRelativeURL\":1},\"w\":["
        "\"serverRelativeURL\",\"/openapi/v3/b\"]}}";
    int rc;
    char *out = rewrite(in, "/clusters/edge", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, in);
    free(out);
}

static void test_refuses_what_is_not_a_document(void **state)
{
    (void)state;
    int rc;
    char *out = rewrite("{\"serverRelativeURL\":\"/openapi/v3", "/c/x", &rc);
    assert_int_equal(rc, -1);
    assert_null(out);
    out = rewrite("{\"paths\":{\"a", "/c/x", &rc);
    assert_int_equal(rc, -1);
    /* a base that would need escaping is never inserted */
    out = rewrite("{\"serverRelativeURL\":\"/openapi/v3/a\"}", "/c/\"x", &rc);
    assert_int_equal(rc, -1);
    out = rewrite("{\"serverRelativeURL\":\"/openapi/v3/a\"}", "/c/\\x", &rc);
    assert_int_equal(rc, -1);
}

static void test_which_requests_and_answers(void **state)
{
    (void)state;
    struct fg_request_head h = {
        .method = "GET", .path = "/openapi/v3", .base_path = "/clusters/edge"};
    assert_true(direct_openapi_wanted(&h));
    h.base_path = "";
    assert_false(direct_openapi_wanted(&h));
    h.base_path = NULL;
    assert_false(direct_openapi_wanted(&h));
    h.base_path = "/clusters/edge";
    h.path = "/openapi/v3/apis/apps/v1";
    assert_false(direct_openapi_wanted(&h));
    h.path = "/openapi/v3";
    h.method = "HEAD";
    assert_false(direct_openapi_wanted(&h));

    struct fg_header json[] = {{"content-type", 12, "application/json", 16},
                               {"content-length", 14, "10", 2}};
    assert_true(direct_openapi_answer_ok(200, json, 2));
    assert_false(direct_openapi_answer_ok(304, json, 2));
    assert_false(direct_openapi_answer_ok(200, json + 1, 1));
    struct fg_header big[] = {{"content-type", 12, "application/json", 16},
                              {"content-length", 14, "1048577", 7}};
    assert_false(direct_openapi_answer_ok(200, big, 2));
    struct fg_header gz[] = {{"content-type", 12, "application/json", 16},
                             {"content-encoding", 16, "gzip", 4}};
    assert_false(direct_openapi_answer_ok(200, gz, 2));
    struct fg_header pb[] = {
        {"content-type", 12, "application/jsonx", 17},
    };
    assert_false(direct_openapi_answer_ok(200, pb, 1));
}

/* ---- a stream holding the index --------------------------------------- */

struct seen {
    int status, heads, ends, errors, error_code;
    char clen[24];
    int n_clen;
    char etag[32];
    struct evbuffer *body;
    int pause;
};

static int cb_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    struct seen *s = ctx;
    s->status = status;
    s->heads++;
    for (size_t i = 0; i < n; i++) {
        if (h[i].name_len == 14 && !memcmp(h[i].name, "content-length", 14)) {
            s->n_clen++;
            snprintf(s->clen, sizeof(s->clen), "%.*s", (int)h[i].value_len,
                     h[i].value);
        }
        if (h[i].name_len == 4 && !memcmp(h[i].name, "etag", 4))
            snprintf(s->etag, sizeof(s->etag), "%.*s", (int)h[i].value_len,
                     h[i].value);
    }
    return 0;
}

static int cb_data(void *ctx, const void *buf, size_t len)
{
    struct seen *s = ctx;
    assert_int_equal(s->heads, 1);
    evbuffer_add(s->body, buf, len);
    return s->pause ? FG_PAUSE : 0;
}

static void cb_end(void *ctx)
{
    ((struct seen *)ctx)->ends++;
}

static void cb_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    (void)reason;
    (void)message;
    struct seen *s = ctx;
    s->errors++;
    s->error_code = code;
}

static void cb_nop(void *ctx)
{
    (void)ctx;
}

static const struct fg_stream_callbacks cbs = {
    .head = cb_head,
    .data = cb_data,
    .end = cb_end,
    .error = cb_error,
    .body_pause = cb_nop,
    .body_resume = cb_nop,
};

static struct direct_rewrite *new_stream(struct seen *s)
{
    memset(s, 0, sizeof(*s));
    s->body = evbuffer_new();
    return direct_rewrite_new("/clusters/edge", &cbs, s);
}

static void free_stream(struct direct_rewrite *rw, struct seen *s)
{
    direct_rewrite_free(rw);
    evbuffer_free(s->body);
}

/* The client's answers, as they reach the rewrite. */
static const struct fg_stream_callbacks *const client =
    &direct_rewrite_callbacks;

static const char doc[] =
    "{\"paths\":{\"api/v1\":{\"serverRelativeURL\":\"/openapi/v3/api/v1?"
    "hash=AB\"}}}";
static const char want[] =
    "{\"paths\":{\"api/v1\":{\"serverRelativeURL\":\"/clusters/edge/"
    "openapi/v3/api/v1?hash=AB\"}}}";

static void test_stream_rewrites_and_sets_the_length(void **state)
{
    (void)state;
    struct seen s;
    struct direct_rewrite *st = new_stream(&s);
    char clen[8];
    snprintf(clen, sizeof(clen), "%zu", strlen(doc));
    struct fg_header h[] = {{"content-type", 12, "application/json", 16},
                            {"etag", 4, "\"X\"", 3},
                            {"content-length", 14, clen, strlen(clen)}};
    assert_int_equal(client->head(st, 200, h, 3), 0);
    assert_int_equal(s.heads, 0); /* held */
    /* in pieces, as a member sends it */
    assert_int_equal(client->data(st, doc, 20), 0);
    assert_int_equal(client->data(st, doc + 20, strlen(doc) - 20), 0);
    assert_int_equal(s.heads, 0);
    s.pause = 1; /* a full client does not change what is sent */
    client->end(st);
    assert_int_equal(s.heads, 1);
    assert_int_equal(s.ends, 1);
    assert_int_equal(s.status, 200);
    assert_int_equal(s.n_clen, 1);
    char n[24];
    snprintf(n, sizeof(n), "%zu", strlen(want));
    assert_string_equal(s.clen, n);
    assert_string_equal(s.etag, "\"X\"");
    assert_int_equal(evbuffer_get_length(s.body), strlen(want));
    assert_memory_equal(evbuffer_pullup(s.body, -1), want, strlen(want));
    free_stream(st, &s);
}

static void test_stream_relays_a_large_answer_unchanged(void **state)
{
    (void)state;
    struct seen s;
    struct direct_rewrite *st = new_stream(&s);
    struct fg_header h[] = {{"content-type", 12, "application/json", 16}};
    assert_int_equal(client->head(st, 200, h, 1), 0);
    size_t chunk = 64 * 1024, total = 0;
    char *buf = malloc(chunk);
    memset(buf, ' ', chunk);
    memcpy(buf, doc, strlen(doc));
    while (total <= DIRECT_OPENAPI_MAX_BODY) {
        assert_int_equal(client->data(st, buf, chunk), 0);
        total += chunk;
        memset(buf, ' ', strlen(doc));
    }
    assert_int_equal(s.heads, 1); /* given up: relayed as it came */
    assert_int_equal(s.n_clen, 0);
    assert_int_equal(evbuffer_get_length(s.body), total);
    assert_int_equal(client->data(st, "}", 1), 0);
    client->end(st);
    assert_int_equal(s.ends, 1);
    assert_int_equal(evbuffer_get_length(s.body), total + 1);
    assert_memory_equal(evbuffer_pullup(s.body, -1), doc, strlen(doc));
    free(buf);
    free_stream(st, &s);
}

static void test_stream_other_answers_pass(void **state)
{
    (void)state;
    struct seen s;
    struct direct_rewrite *st = new_stream(&s);
    struct fg_header h[] = {{"content-type", 12, "application/json", 16}};
    assert_int_equal(client->head(st, 403, h, 1), 0);
    assert_int_equal(s.heads, 1);
    assert_int_equal(client->data(st, doc, strlen(doc)), 0);
    client->end(st);
    assert_int_equal(evbuffer_get_length(s.body), strlen(doc));
    free_stream(st, &s);
}

static void test_stream_cut_while_held_is_a_status(void **state)
{
    (void)state;
    struct seen s;
    struct direct_rewrite *st = new_stream(&s);
    struct fg_header h[] = {{"content-type", 12, "application/json", 16}};
    assert_int_equal(client->head(st, 200, h, 1), 0);
    assert_int_equal(client->data(st, doc, 10), 0);
    client->error(st, 502, "BadGateway", "cut");
    /* the client saw no head: the core answers a Status */
    assert_int_equal(s.heads, 0);
    assert_int_equal(s.errors, 1);
    assert_int_equal(s.error_code, 502);
    free_stream(st, &s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefixes_server_relative_urls),
        cmocka_unit_test(test_leaves_everything_else),
        cmocka_unit_test(test_refuses_what_is_not_a_document),
        cmocka_unit_test(test_which_requests_and_answers),
        cmocka_unit_test(test_stream_rewrites_and_sets_the_length),
        cmocka_unit_test(test_stream_relays_a_large_answer_unchanged),
        cmocka_unit_test(test_stream_other_answers_pass),
        cmocka_unit_test(test_stream_cut_while_held_is_a_status),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fake_host_done();
    return rc;
}
