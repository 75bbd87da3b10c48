/* Unit tests of the mock driver's streaming (plugins/drivers/mock/plugin.c
 * and json_stream.c): a 10,000-pod list and Table sent in bounded chunks
 * under FG_PAUSE backpressure, stream_close in the middle, a client that
 * goes away, and resumes arriving from inside data(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake.h"

#define N_PODS 10000
#define CHUNK_LIMIT (20 * 1024)

static struct mock_instance inst;

static int setup(void **state)
{
    (void)state;
    struct mock_buf b = {0};
    mock_buf_adds(&b, "{\"objects\":[");
    for (int i = 0; i < N_PODS; i++) {
        char one[1024];
        snprintf(one, sizeof(one),
                 "%s{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
                 "\"name\":\"pod-%05d\",\"namespace\":\"ns-%d\",\"labels\":{"
                 "\"app\":\"a%d\"}},\"spec\":{\"nodeName\":\"n1\","
                 "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]},"
                 "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.%d.%d\","
                 "\"containerStatuses\":[{\"name\":\"c\",\"ready\":true,"
                 "\"restartCount\":%d,\"state\":{\"running\":{}}}]}}",
                 i ? "," : "", i, i % 10, i % 7, i / 250, i % 250, i % 3);
        mock_buf_adds(&b, one);
    }
    mock_buf_adds(&b, "]}");
    char err[256];
    inst.host = &fake_host;
    snprintf(inst.git_version, sizeof(inst.git_version), "v1.32.0");
    inst.max_body = 1 << 20;
    inst.store = mock_seed_load_mem(b.p, b.len, "big", (int64_t)FAKE_NOW_MS,
                                    err, sizeof(err));
    mock_buf_free(&b);
    return inst.store ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mock_store_free(inst.store);
    return 0;
}

static void check_list(struct fake_client *c, const char *items_key,
                       const char *name_path)
{
    assert_int_equal(c->status, 200);
    assert_int_equal(c->ended, 1);
    assert_int_equal(c->error_code, 0);
    assert_int_equal(c->calls_after_close, 0);
    assert_true(c->max_chunk <= CHUNK_LIMIT);
    assert_true(c->data_calls > 20);
    cJSON *d = cJSON_Parse(c->body.p);
    assert_non_null(d);
    const cJSON *items = cJSON_GetObjectItem(d, items_key);
    assert_int_equal(cJSON_GetArraySize(items), N_PODS);
    /* Sorted by namespace, then name; every pod exactly once. */
    char prev[64] = "";
    const cJSON *it;
    int n = 0;
    cJSON_ArrayForEach(it, items)
    {
        char key[64];
        snprintf(key, sizeof(key), "%s/%s",
                 mock_json_str(it, "object.metadata.namespace",
                               mock_json_str(it, "metadata.namespace", "")),
                 mock_json_str(it, name_path, ""));
        assert_true(strcmp(prev, key) < 0);
        snprintf(prev, sizeof(prev), "%s", key);
        n++;
    }
    assert_int_equal(n, N_PODS);
    cJSON_Delete(d);
}

static void test_list_with_pauses(void **state)
{
    (void)state;
    struct fake_client c = {.pause_every = 3};
    fake_request(&inst, "GET", "/api/v1/pods", NULL, NULL, &c);
    check_list(&c, "items", "metadata.name");
    assert_int_equal(fake_timers_alive(), 0);
    fake_client_free(&c);
}

static void test_list_without_pauses_yields(void **state)
{
    (void)state;
    /* No backpressure at all: the driver still returns to the loop every
     * few chunks through its timer. */
    struct fake_client c = {0};
    struct fg_request_head head = {.method = "GET", .path = "/api/v1/pods"};
    fake_set_info(&head);
    void *s = mock_driver_ops.stream_open(&inst, &head, &fake_callbacks, &c);
    mock_driver_ops.stream_end(s);
    assert_int_equal(c.ended, 0);
    size_t turns = 0;
    while (!c.ended && fake_run_one_timer())
        turns++;
    assert_true(turns > 2);
    mock_driver_ops.stream_close(s);
    c.closed = 1;
    mock_buf_add(&c.body, "", 0);
    check_list(&c, "items", "metadata.name");
    fake_client_free(&c);
}

static void test_table_with_pauses(void **state)
{
    (void)state;
    struct fake_client c = {.pause_every = 2};
    fake_request(&inst, "GET", "/api/v1/pods", NULL,
                 "application/json;as=Table;v=v1;g=meta.k8s.io", &c);
    check_list(&c, "rows", "object.metadata.name");
    cJSON *d = cJSON_Parse(c.body.p);
    const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "rows"), 3);
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItem(row, "cells"), 2)->valuestring,
        "Running");
    cJSON_Delete(d);
    fake_client_free(&c);
}

static void test_namespace_list(void **state)
{
    (void)state;
    struct fake_client c = {.pause_every = 1};
    fake_request(&inst, "GET", "/api/v1/namespaces/ns-3/pods", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    cJSON *d = cJSON_Parse(c.body.p);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "items")),
                     N_PODS / 10);
    cJSON_Delete(d);
    fake_client_free(&c);
}

static void test_close_while_paused(void **state)
{
    (void)state;
    struct fake_client c = {.pause_every = 2};
    struct fg_request_head head = {.method = "GET", .path = "/api/v1/pods"};
    fake_set_info(&head);
    void *s = mock_driver_ops.stream_open(&inst, &head, &fake_callbacks, &c);
    mock_driver_ops.stream_end(s);
    assert_int_equal(c.heads, 1);
    assert_int_equal(c.data_calls, 2);
    assert_int_equal(c.ended, 0);
    mock_driver_ops.stream_close(s);
    c.closed = 1;
    while (fake_run_one_timer())
        ;
    assert_int_equal(c.calls_after_close, 0);
    assert_int_equal(fake_timers_alive(), 0);
    fake_client_free(&c);
}

static void test_close_with_timer_armed(void **state)
{
    (void)state;
    struct fake_client c = {0};
    struct fg_request_head head = {.method = "GET", .path = "/api/v1/pods"};
    fake_set_info(&head);
    void *s = mock_driver_ops.stream_open(&inst, &head, &fake_callbacks, &c);
    mock_driver_ops.stream_end(s);
    assert_true(fake_run_one_timer());
    assert_int_equal(fake_timers_alive(), 1);
    size_t sent = c.data_calls;
    mock_driver_ops.stream_close(s);
    c.closed = 1;
    assert_int_equal(fake_timers_alive(), 0);
    assert_false(fake_run_one_timer());
    assert_int_equal(c.data_calls, sent);
    assert_int_equal(c.calls_after_close, 0);
    fake_client_free(&c);
}

static void test_close_before_end(void **state)
{
    (void)state;
    struct fake_client c = {0};
    struct fg_request_head head = {.method = "GET", .path = "/api/v1/pods"};
    fake_set_info(&head);
    void *s = mock_driver_ops.stream_open(&inst, &head, &fake_callbacks, &c);
    assert_int_equal(mock_driver_ops.stream_write(s, "abc", 3), 0);
    mock_driver_ops.stream_close(s);
    assert_int_equal(c.heads, 0);
}

static void test_client_gone(void **state)
{
    (void)state;
    struct fake_client c = {.gone_after = 5};
    struct fg_request_head head = {.method = "GET", .path = "/api/v1/pods"};
    fake_set_info(&head);
    void *s = mock_driver_ops.stream_open(&inst, &head, &fake_callbacks, &c);
    mock_driver_ops.stream_end(s);
    while (fake_run_one_timer())
        ;
    mock_driver_ops.stream_resume(s);
    assert_int_equal(c.data_calls, 5);
    assert_int_equal(c.ended, 0);
    mock_driver_ops.stream_close(s);
    fake_client_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_with_pauses),
        cmocka_unit_test(test_list_without_pauses_yields),
        cmocka_unit_test(test_table_with_pauses),
        cmocka_unit_test(test_namespace_list),
        cmocka_unit_test(test_close_while_paused),
        cmocka_unit_test(test_close_with_timer_armed),
        cmocka_unit_test(test_close_before_end),
        cmocka_unit_test(test_client_gone),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
