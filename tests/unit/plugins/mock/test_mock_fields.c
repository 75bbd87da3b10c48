/* Unit tests of the mock's field validation (plugins/drivers/mock/fields.c
 * and its use by the writes): the demo seed agrees with the schemas,
 * unknown fields at any depth are refused with Strict, named in a Warning
 * header with Warn (the default), dropped with Ignore; a value of the
 * wrong type is a 400 whatever the mode; a bad mode is a 422. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake.h"

struct answer {
    cJSON *doc;
    char warning[1024];
};

/* METHOD PATH?QUERY with the JSON BODY of content type CT; checks the
 * status; the answer and its Warning header (or ""). */
static struct answer req(void *in, const char *method, const char *path,
                         const char *query, const char *ct, const char *body,
                         int want)
{
    struct fake_client c = {0};
    struct fg_header h[1] = {{"content-type", 12, ct, strlen(ct)}};
    struct fg_request_head head = {
        .method = method,
        .path = path,
        .query = query,
        .headers = h,
        .n_headers = 1,
        .content_length = (int64_t)strlen(body),
        .http_version = 20,
    };
    fake_set_info(&head);
    void *s = mock_driver_ops.stream_open(in, &head, &fake_callbacks, &c);
    assert_non_null(s);
    assert_int_equal(mock_driver_ops.stream_write(s, body, strlen(body)), 0);
    mock_driver_ops.stream_end(s);
    while (!c.ended && fake_run_one_timer())
        ;
    mock_driver_ops.stream_close(s);
    mock_buf_add(&c.body, "", 0);
    if (c.status != want)
        fail_msg("%s %s?%s: status %d, want %d: %s", method, path,
                 query ? query : "", c.status, want, c.body.p);
    struct answer a = {cJSON_Parse(c.body.p), ""};
    snprintf(a.warning, sizeof(a.warning), "%s", c.warning);
    assert_non_null(a.doc);
    fake_client_free(&c);
    return a;
}

#define JSON "application/json"
#define CMS "/api/v1/namespaces/shop/configmaps"

static void test_seed_agrees(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    const struct mock_store *st = ((struct mock_instance *)in)->store;
    size_t n = 0;
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        const struct mock_bucket *b = mock_store_bucket(st, k);
        for (size_t j = 0; j < b->n; j++) {
            cJSON *copy = mock_obj_json(b->v[j]);
            cJSON *unknown = NULL;
            char err[512];
            assert_int_equal(
                mock_fields_check(k, copy, &unknown, err, sizeof(err)), 0);
            if (unknown->child) {
                char *p = cJSON_PrintUnformatted(unknown);
                fail_msg("%s %s: unknown %s", k->kind, b->v[j]->name, p);
            }
            cJSON_Delete(unknown);
            cJSON_Delete(copy);
            n++;
        }
    }
    assert_true(n > 10);
    mock_driver_ops.instance_free(in);
}

static void test_modes(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    static const char bogus[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
        "\"%s\",\"bogus2\":1},\"bogus\":1,\"data\":{\"a\":\"b\"}}";
    char body[256];
    snprintf(body, sizeof(body), bogus, "s");
    struct answer a =
        req(in, "POST", CMS, "fieldValidation=Strict", JSON, body, 400);
    assert_string_equal(mock_json_str(a.doc, "message", ""),
                        "ConfigMap in version \"v1\" cannot be handled as a "
                        "ConfigMap: strict decoding error: unknown field "
                        "\"metadata.bogus2\", unknown field \"bogus\"");
    assert_string_equal(mock_json_str(a.doc, "reason", ""), "BadRequest");
    cJSON_Delete(a.doc);
    snprintf(body, sizeof(body), bogus, "w");
    a = req(in, "POST", CMS, NULL, JSON, body, 201);
    assert_string_equal(a.warning,
                        "299 - \"unknown field \\\"metadata.bogus2\\\"\", "
                        "299 - \"unknown field \\\"bogus\\\"\"");
    assert_null(cJSON_GetObjectItem(a.doc, "bogus"));
    assert_null(fg_json_path(a.doc, "metadata.bogus2"));
    cJSON_Delete(a.doc);
    snprintf(body, sizeof(body), bogus, "i");
    a = req(in, "POST", CMS, "fieldValidation=Ignore", JSON, body, 201);
    assert_string_equal(a.warning, "");
    assert_null(cJSON_GetObjectItem(a.doc, "bogus"));
    cJSON_Delete(a.doc);

    /* Wrong types: 400 in every mode. */
    a = req(in, "POST", CMS, "fieldValidation=Ignore", JSON,
            "{\"metadata\":{\"name\":\"t\"},\"data\":{\"x\":1}}", 400);
    assert_string_equal(mock_json_str(a.doc, "message", ""),
                        "ConfigMap in version \"v1\" cannot be handled as a "
                        "ConfigMap: json: cannot unmarshal number into Go "
                        "struct field ConfigMap.data of type string");
    cJSON_Delete(a.doc);

    /* Deep: a container's field, through a patch and an update. */
    a = req(in, "PATCH", "/apis/apps/v1/namespaces/shop/deployments/frontend",
            "fieldValidation=Strict", "application/strategic-merge-patch+json",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
            "\"frontend\",\"imagee\":\"x\"}]}}}}",
            400);
    assert_non_null(strstr(mock_json_str(a.doc, "message", ""),
                           "unknown field \"spec.template.spec.containers[0]."
                           "imagee\""));
    cJSON_Delete(a.doc);
    a = req(in, "PATCH", "/apis/apps/v1/namespaces/shop/deployments/frontend",
            "fieldValidation=Strict", "application/merge-patch+json",
            "{\"spec\":{\"replicas\":\"two\"}}", 400);
    assert_non_null(strstr(mock_json_str(a.doc, "message", ""),
                           "cannot unmarshal string into Go struct field "
                           "Deployment.spec.replicas of type int32"));
    cJSON_Delete(a.doc);
    a = req(in, "PUT", CMS "/w", "fieldValidation=Strict", JSON,
            "{\"metadata\":{\"name\":\"w\"},\"data\":{},\"x\":{\"y\":1}}", 400);
    cJSON_Delete(a.doc);
    /* A field name a header cannot carry is escaped in the warning. */
    a = req(in, "PUT", CMS "/w", NULL, JSON,
            "{\"metadata\":{\"name\":\"w\"},\"a\\r\\n\\\"b\":1}", 200);
    assert_string_equal(a.warning,
                        "299 - \"unknown field \\\"a??\\\\\\\"b\\\"\"");
    cJSON_Delete(a.doc);

    a = req(in, "POST", CMS, "fieldValidation=strict", JSON,
            "{\"metadata\":{\"name\":\"m\"}}", 422);
    assert_string_equal(mock_json_str(a.doc, "message", ""),
                        "CreateOptions.meta.k8s.io \"\" is invalid: "
                        "fieldValidation: Unsupported value: \"strict\": "
                        "supported values: \"\", \"Ignore\", \"Strict\", "
                        "\"Warn\"");
    cJSON_Delete(a.doc);
    mock_driver_ops.instance_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_agrees),
        cmocka_unit_test(test_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
