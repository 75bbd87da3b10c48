/* Unit tests of list paging in the mock driver (json_stream.c): limit and
 * continue walk every object exactly once, in order, for lists, Tables,
 * namespaces and selectors; remainingItemCount; tokens that are not ours
 * (400) or from before the watch log's horizon (410). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake.h"

#define N_PODS 23

static char *seed_path;
static struct mock_instance *in;

static int setup(void **state)
{
    (void)state;
    struct mock_buf b = {0};
    mock_buf_adds(&b, "{\"objects\":[");
    for (int i = 0; i < N_PODS; i++) {
        char one[512];
        snprintf(one, sizeof(one),
                 "%s{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
                 "\"name\":\"pod-%02d\",\"namespace\":\"ns-%d\",\"labels\":{"
                 "\"app\":\"a%d\"}},\"spec\":{\"containers\":[{\"name\":"
                 "\"c\",\"image\":\"x\"}]}}",
                 i ? "," : "", i, i % 3, i % 2);
        mock_buf_adds(&b, one);
    }
    mock_buf_adds(&b, "]}");
    seed_path = fake_temp_file(b.p);
    mock_buf_free(&b);
    struct fake_section fs;
    char err[256];
    fake_section_init(&fs, seed_path, NULL);
    in = mock_driver_ops.instance_new(&fake_host, &fs.s, err, sizeof(err));
    return in ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mock_driver_ops.instance_free(in);
    unlink(seed_path);
    free(seed_path);
    return 0;
}

/* Walks PATH page by page with LIMIT; returns the names seen, in order,
 * comma-separated, and the number of pages. */
static int walk(const char *path, const char *extra, int limit,
                const char *accept, char *names, size_t len)
{
    char cont[2048] = "";
    int pages = 0;
    names[0] = '\0';
    for (;;) {
        char q[4096];
        snprintf(q, sizeof(q), "limit=%d%s%s%s%s", limit, extra[0] ? "&" : "",
                 extra, cont[0] ? "&continue=" : "", cont);
        struct fake_client c = {0};
        fake_request(in, "GET", path, q, accept, &c);
        assert_int_equal(c.status, 200);
        cJSON *d = cJSON_Parse(c.body.p);
        assert_non_null(d);
        const cJSON *items = cJSON_GetObjectItem(d, accept ? "rows" : "items");
        assert_true(cJSON_GetArraySize(items) <= limit);
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            size_t used = strlen(names);
            snprintf(names + used, len - used, "%s%s", used ? "," : "",
                     mock_json_str(
                         it, accept ? "object.metadata.name" : "metadata.name",
                         "?"));
        }
        pages++;
        const char *next = mock_json_str(d, "metadata.continue", "");
        const cJSON *rem = fg_json_path(d, "metadata.remainingItemCount");
        if (next[0] && !extra[0])
            assert_non_null(rem);
        if (!next[0])
            assert_null(rem);
        snprintf(cont, sizeof(cont), "%s", next);
        cJSON_Delete(d);
        fake_client_free(&c);
        if (!cont[0])
            break;
        assert_true(pages < 100);
    }
    return pages;
}

static void expect_all(const char *names, int ns_only, int app)
{
    char want[2048] = "";
    /* Store order: namespace, then name. */
    for (int ns = 0; ns < 3; ns++) {
        for (int i = 0; i < N_PODS; i++) {
            if (i % 3 != ns || (ns_only >= 0 && ns != ns_only) ||
                (app >= 0 && i % 2 != app))
                continue;
            size_t used = strlen(want);
            snprintf(want + used, sizeof(want) - used, "%spod-%02d",
                     used ? "," : "", i);
        }
    }
    assert_string_equal(names, want);
}

static void test_walk_all(void **state)
{
    (void)state;
    char names[2048];
    assert_int_equal(walk("/api/v1/pods", "", 5, NULL, names, sizeof(names)),
                     5);
    expect_all(names, -1, -1);
    walk("/api/v1/pods", "", 1, NULL, names, sizeof(names));
    expect_all(names, -1, -1);
    assert_int_equal(
        walk("/api/v1/pods", "", N_PODS, NULL, names, sizeof(names)), 1);
    expect_all(names, -1, -1);
    walk("/api/v1/namespaces/ns-1/pods", "", 3, NULL, names, sizeof(names));
    expect_all(names, 1, -1);
    walk("/api/v1/pods", "labelSelector=app%3Da1", 4, NULL, names,
         sizeof(names));
    expect_all(names, -1, 1);
    walk("/api/v1/pods", "", 5, "application/json;as=Table;v=v1;g=meta.k8s.io",
         names, sizeof(names));
    expect_all(names, -1, -1);
}

static void test_first_page_metadata(void **state)
{
    (void)state;
    struct fake_client c = {0};
    fake_request(in, "GET", "/api/v1/pods", "limit=5", NULL, &c);
    cJSON *d = cJSON_Parse(c.body.p);
    assert_non_null(d);
    assert_int_equal(mock_json_int(d, "metadata.remainingItemCount", -1),
                     N_PODS - 5);
    char rv[24];
    snprintf(rv, sizeof(rv), "%llu", (unsigned long long)in->store->rv);
    assert_string_equal(mock_json_str(d, "metadata.resourceVersion", ""), rv);
    struct mock_continue tok;
    assert_int_equal(
        mock_continue_decode(mock_json_str(d, "metadata.continue", ""), &tok),
        0);
    assert_string_equal(tok.ns, "ns-0");
    assert_string_equal(tok.name, "pod-12");
    cJSON_Delete(d);
    fake_client_free(&c);
}

static void test_bad_tokens(void **state)
{
    (void)state;
    const char *bad[] = {"x", "%%%", "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ",
                         "bm90IGpzb24"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char q[256];
        snprintf(q, sizeof(q), "limit=5&continue=%s", bad[i]);
        struct fake_client c = {0};
        fake_request(in, "GET", "/api/v1/pods", q, NULL, &c);
        assert_int_equal(c.status, 400);
        assert_non_null(strstr(c.body.p, "BadRequest"));
        fake_client_free(&c);
    }
    /* A token for another namespace's list. */
    struct mock_continue t = {.rv = in->store->rv};
    snprintf(t.ns, sizeof(t.ns), "ns-2");
    snprintf(t.name, sizeof(t.name), "pod-02");
    char *tok = mock_continue_encode(&t);
    char q[512];
    snprintf(q, sizeof(q), "limit=5&continue=%s", tok);
    struct fake_client c = {0};
    fake_request(in, "GET", "/api/v1/namespaces/ns-1/pods", q, NULL, &c);
    assert_int_equal(c.status, 400);
    fake_client_free(&c);
    free(tok);
}

static void test_expired_token(void **state)
{
    (void)state;
    struct mock_continue t = {.rv = in->store->rv};
    snprintf(t.ns, sizeof(t.ns), "ns-0");
    snprintf(t.name, sizeof(t.name), "pod-03");
    char *tok = mock_continue_encode(&t);
    /* The event log moves past the token's revision. */
    mock_watch_hub_free(in->watch);
    in->watch = mock_watch_hub_new(in, 2);
    const struct mock_kind *k = mock_kind_by_resource("", "v1", "pods");
    for (int i = 0; i < 3; i++) {
        cJSON *o =
            mock_obj_json(mock_store_get(in->store, k, "ns-0", "pod-00"));
        struct mock_doc *old = NULL;
        assert_int_equal(
            mock_store_put(in->store, k, "ns-0", "pod-00", o, &old), 0);
        const struct mock_obj *s =
            mock_store_get(in->store, k, "ns-0", "pod-00");
        mock_watch_record(in, k, MOCK_EVENT_MODIFIED, old, s->doc, s->rv);
        mock_doc_unref(old);
    }
    char q[512];
    snprintf(q, sizeof(q), "limit=5&continue=%s", tok);
    struct fake_client c = {0};
    fake_request(in, "GET", "/api/v1/pods", q, NULL, &c);
    assert_int_equal(c.status, 410);
    assert_non_null(strstr(c.body.p, "\"Expired\""));
    assert_non_null(strstr(c.body.p, "continue parameter is too old"));
    fake_client_free(&c);
    free(tok);
}

static void test_token_round_trip(void **state)
{
    (void)state;
    struct mock_continue t = {.rv = 42}, back;
    snprintf(t.name, sizeof(t.name), "node-1.example");
    char *tok = mock_continue_encode(&t);
    assert_non_null(tok);
    assert_null(strpbrk(tok, "+/="));
    assert_int_equal(mock_continue_decode(tok, &back), 0);
    assert_int_equal(back.rv, 42);
    assert_string_equal(back.ns, "");
    assert_string_equal(back.name, "node-1.example");
    free(tok);
}

static void test_bad_limit(void **state)
{
    (void)state;
    struct fake_client c = {0};
    fake_request(in, "GET", "/api/v1/pods", "limit=abc", NULL, &c);
    assert_int_equal(c.status, 400);
    fake_client_free(&c);
    memset(&c, 0, sizeof(c));
    fake_request(in, "GET", "/api/v1/pods", "resourceVersionMatch=Exact", NULL,
                 &c);
    assert_int_equal(c.status, 400);
    fake_client_free(&c);
    memset(&c, 0, sizeof(c));
    fake_request(in, "GET", "/api/v1/pods",
                 "resourceVersion=0&resourceVersionMatch=NotOlderThan", NULL,
                 &c);
    assert_int_equal(c.status, 200);
    fake_client_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_all),
        cmocka_unit_test(test_first_page_metadata),
        cmocka_unit_test(test_bad_tokens),
        cmocka_unit_test(test_token_round_trip),
        cmocka_unit_test(test_bad_limit),
        cmocka_unit_test(test_expired_token),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
