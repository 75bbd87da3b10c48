/* Unit tests of the mock driver's seed loader (plugins/drivers/mock/seed.c)
 * and the helpers it relies on: acceptance of the demo seeds, the filled
 * metadata, and a one-line refusal for each kind of bad seed. */
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

static struct mock_store *load(const char *text, char *err, size_t len)
{
    return mock_seed_load_mem(text, strlen(text), "/x/demo.json",
                              (int64_t)FAKE_NOW_MS, err, len);
}

static size_t count(const struct mock_store *s, const char *group,
                    const char *res)
{
    return mock_store_bucket(s, mock_kind_by_resource(group, "v1", res))->n;
}

static void test_demo_seeds_load(void **state)
{
    (void)state;
    const char *files[] = {"demo.json", "host.json"};
    for (size_t i = 0; i < 2; i++) {
        char path[1024], err[512] = "";
        snprintf(path, sizeof(path), "%s/conf.d/seeds/%s", FG_TEST_SOURCE_DIR,
                 files[i]);
        struct mock_store *s =
            mock_seed_load_file(path, (int64_t)FAKE_NOW_MS, err, sizeof(err));
        if (!s)
            fail_msg("%s", err);
        assert_true(count(s, "", "pods") >= 10);
        assert_true(count(s, "", "nodes") >= 3);
        assert_true(count(s, "apps", "deployments") >= 2);
        assert_non_null(
            mock_store_get(s, mock_kind_by_resource("", "v1", "namespaces"), "",
                           "kube-system"));
        mock_store_free(s);
    }
}

static void test_fills_metadata(void **state)
{
    (void)state;
    char err[512] = "";
    struct mock_store *s =
        load("{\"objects\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
             "\"metadata\":{\"name\":\"a\",\"namespace\":\"shop\"}},"
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
             "\"metadata\":{\"name\":\"c\"}}]}",
             err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    const struct mock_kind *pods = mock_kind_by_resource("", "v1", "pods");
    struct mock_obj *o = mock_store_get(s, pods, "shop", "a");
    assert_non_null(o);
    assert_int_equal(o->rv, 1);
    cJSON *j = mock_obj_json(o);
    assert_string_equal(mock_json_str(j, "metadata.resourceVersion", ""), "1");
    assert_string_equal(mock_json_str(j, "metadata.creationTimestamp", ""),
                        "2026-11-25T00:00:00Z");
    assert_int_equal(strlen(mock_json_str(j, "metadata.uid", "")), 36);
    /* The doc's index says the same without parsing. */
    char uid[MOCK_UID_MAX];
    assert_string_equal(mock_doc_uid(o->doc, uid, sizeof(uid)),
                        mock_json_str(j, "metadata.uid", ""));
    assert_int_equal(o->doc->created_ms,
                     mock_time_parse("2026-11-25T00:00:00Z"));
    assert_int_equal(o->doc->rv_len, 1);
    assert_int_equal(o->doc->json[o->doc->rv_off], '1');
    cJSON_Delete(j);
    /* ConfigMap without a namespace lands in default. */
    const struct mock_kind *cms = mock_kind_by_resource("", "v1", "configmaps");
    o = mock_store_get(s, cms, "default", "c");
    assert_non_null(o);
    j = mock_obj_json(o);
    assert_string_equal(mock_json_str(j, "metadata.namespace", ""), "default");
    cJSON_Delete(j);
    /* Both namespaces were created, labelled and Active. */
    const struct mock_kind *nsk = mock_kind_by_resource("", "v1", "namespaces");
    o = mock_store_get(s, nsk, "", "shop");
    assert_non_null(o);
    j = mock_obj_json(o);
    assert_string_equal(mock_json_str(j, "status.phase", ""), "Active");
    const cJSON *labels = fg_json_path(j, "metadata.labels");
    const cJSON *l =
        cJSON_GetObjectItemCaseSensitive(labels, "kubernetes.io/metadata.name");
    assert_true(cJSON_IsString(l));
    assert_string_equal(l->valuestring, "shop");
    assert_string_equal(mock_doc_label(o->doc, "kubernetes.io/metadata.name"),
                        "shop");
    cJSON_Delete(j);
    assert_non_null(mock_store_get(s, nsk, "", "default"));
    assert_int_equal(s->rv, 4);
    mock_store_free(s);
}

static void test_uid_is_stable(void **state)
{
    (void)state;
    const char *seed = "{\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"Node\","
                       "\"metadata\":{\"name\":\"n1\"}}]}";
    char err[256];
    struct mock_store *a = load(seed, err, sizeof(err));
    struct mock_store *b = load(seed, err, sizeof(err));
    assert_non_null(a);
    assert_non_null(b);
    const struct mock_kind *k = mock_kind_by_resource("", "v1", "nodes");
    char ua[MOCK_UID_MAX], ub[MOCK_UID_MAX];
    assert_string_equal(
        mock_doc_uid(mock_store_get(a, k, "", "n1")->doc, ua, sizeof(ua)),
        mock_doc_uid(mock_store_get(b, k, "", "n1")->doc, ub, sizeof(ub)));
    mock_store_free(a);
    mock_store_free(b);
}

struct refusal {
    const char *seed;
    const char *error;
};

#define POD(meta)                                                              \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":" meta "}"
#define OK_POD POD("{\"name\":\"ok\"}")

static const struct refusal refusals[] = {
    {"", "seed /x/demo.json: not valid JSON"},
    {"{\"objects\":[", "seed /x/demo.json: not valid JSON"},
    {"{\"objects\":[]} x", "trailing data"},
    {"[]", "seed /x/demo.json: expected an object with an \"objects\" array"},
    {"{\"objects\":{}}", "expected an object with an \"objects\" array"},
    {"{\"objects\":[1]}", "seed /x/demo.json: objects[0]: not an object"},
    {"{\"objects\":[" OK_POD ",{\"kind\":\"Pod\",\"metadata\":{}}]}",
     "seed /x/demo.json: objects[1]: missing apiVersion"},
    {"{\"objects\":[{\"apiVersion\":\"v1\",\"metadata\":{}}]}",
     "objects[0]: missing kind"},
    {"{\"objects\":[{\"apiVersion\":\"v1\",\"kind\":\"Foo\"}]}",
     "objects[0]: unknown kind Foo in v1"},
    {"{\"objects\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Pod\"}]}",
     "objects[0]: unknown kind Pod in apps/v1"},
    {"{\"objects\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}]}",
     "objects[0]: missing metadata"},
    {"{\"objects\":[" POD("{\"name\":\"a\"}") "," POD(
         "{\"name\":\"b\"}") "," POD("{\"name\":\"c\"}") "," POD("{}") "]}",
     "seed /x/demo.json: objects[3]: missing metadata.name"},
    {"{\"objects\":[" POD("{\"name\":\"Bad_Name\"}") "]}",
     "objects[0]: metadata.name is not a valid pod name"},
    {"{\"objects\":[" POD("{\"name\":7}") "]}",
     "objects[0]: metadata.name is not a valid pod name"},
    {"{\"objects\":[" POD("{\"name\":\"a\",\"namespace\":\"a.b\"}") "]}",
     "objects[0]: Pod \"a\": metadata.namespace is not a valid namespace"},
    {"{\"objects\":[{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{"
     "\"name\":\"n\",\"namespace\":\"default\"}}]}",
     "objects[0]: Node \"n\" is cluster-scoped but has metadata.namespace"},
    {"{\"objects\":[" OK_POD "," OK_POD "]}",
     "objects[1]: duplicate Pod default/ok"},
    {"{\"items\":[" POD("{\"name\":\"a\",\"labels\":{\"x\":1}}") "]}",
     "seed /x/demo.json: items[0]: metadata.labels.x is not a string"},
    {"{\"objects\":[" POD("{\"name\":\"a\",\"annotations\":[]}") "]}",
     "objects[0]: metadata.annotations is not an object"},
    {"{\"objects\":[" POD(
         "{\"name\":\"a\",\"creationTimestamp\":\"yesterday\"}") "]}",
     "objects[0]: metadata.creationTimestamp is not an RFC 3339 time"},
    {"{\"objects\":[" POD("{\"name\":\"a\",\"uid\":5}") "]}",
     "objects[0]: metadata.uid is not a string"},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        char err[512] = "";
        struct mock_store *s = load(refusals[i].seed, err, sizeof(err));
        if (s) {
            mock_store_free(s);
            fail_msg("seed %zu accepted: %s", i, refusals[i].seed);
        }
        if (!strstr(err, refusals[i].error))
            fail_msg("seed %zu: got \"%s\", want \"%s\"", i, err,
                     refusals[i].error);
        assert_null(strchr(err, '\n'));
    }
}

static char *nested(int depth)
{
    char *p = malloc((size_t)depth * 2 + 32);
    size_t o = 0;
    o += (size_t)sprintf(p, "{\"objects\":");
    for (int i = 1; i < depth; i++)
        p[o++] = '[';
    for (int i = 1; i < depth; i++)
        p[o++] = ']';
    p[o++] = '}';
    p[o] = '\0';
    return p;
}

static void test_depth_limit(void **state)
{
    (void)state;
    char err[256];
    char *ok = nested(MOCK_SEED_MAX_DEPTH);
    char *deep = nested(MOCK_SEED_MAX_DEPTH + 1);
    char *huge = nested(100000);
    /* At the limit the shape is what fails, not the depth. */
    assert_null(load(ok, err, sizeof(err)));
    assert_non_null(strstr(err, "objects[0]: not an object"));
    assert_null(load(deep, err, sizeof(err)));
    assert_non_null(strstr(err, "nested deeper than 64"));
    assert_null(load(huge, err, sizeof(err)));
    assert_non_null(strstr(err, "nested deeper than 64"));
    /* Brackets inside strings do not count. */
    assert_int_equal(fg_json_depth("{\"a\":\"[[[[{{{{\\\"[[\"}", 20, 64), 1);
    free(ok);
    free(deep);
    free(huge);
}

static void test_file_errors(void **state)
{
    (void)state;
    char err[512];
    assert_null(
        mock_seed_load_file("/nonexistent/seed.json", 0, err, sizeof(err)));
    assert_string_equal(
        err, "seed /nonexistent/seed.json: No such file or directory");
    assert_null(mock_seed_load_file("/tmp", 0, err, sizeof(err)));
    assert_string_equal(err, "seed /tmp: not a regular file");
    char *path = fake_temp_file("{\"objects\":[{}]}");
    assert_non_null(path);
    assert_null(mock_seed_load_file(path, 0, err, sizeof(err)));
    char want[512];
    snprintf(want, sizeof(want), "seed %s: objects[0]: missing apiVersion",
             path);
    assert_string_equal(err, want);
    unlink(path);
    free(path);
}

static void test_time_helpers(void **state)
{
    (void)state;
    assert_int_equal(mock_time_parse("2026-11-25T00:00:00Z"),
                     (int64_t)FAKE_NOW_MS);
    assert_int_equal(mock_time_parse("2026-11-25T01:00:00.5+01:00"),
                     (int64_t)FAKE_NOW_MS + 500);
    assert_int_equal(mock_time_parse("2026-11-25 00:00:00Z"), -1);
    assert_int_equal(mock_time_parse("2026-13-25T00:00:00Z"), -1);
    assert_int_equal(mock_time_parse(NULL), -1);
    char buf[32];
    mock_time_format((int64_t)FAKE_NOW_MS, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-25T00:00:00Z");
    struct {
        int64_t s;
        const char *want;
    } d[] = {
        {-5, "<invalid>"},
        {-1, "0s"},
        {0, "0s"},
        {119, "119s"},
        {120, "2m"},
        {125, "2m5s"},
        {600, "10m"},
        {3 * 3600 + 60, "3h1m"},
        {5 * 3600, "5h"},
        {9 * 3600, "9h"},
        {50 * 3600, "2d2h"},
        {48 * 3600, "2d"},
        {10 * 86400, "10d"},
        {800 * 86400, "2y70d"},
        {3000 * 86400, "8y"},
    };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        fg_human_duration(d[i].s * 1000, buf, sizeof(buf));
        assert_string_equal(buf, d[i].want);
    }
}

static enum mock_table_version accept_table(const char *value)
{
    return mock_accept_table(value, strlen(value));
}

static void test_query_and_accept(void **state)
{
    (void)state;
    char v[32];
    assert_int_equal(fg_query_get("a=1&watch=True&b", "watch", v, sizeof(v)),
                     1);
    assert_string_equal(v, "True");
    assert_int_equal(mock_parse_bool(v), 1);
    assert_int_equal(fg_query_get("a=1&b", "b", v, sizeof(v)), 1);
    assert_string_equal(v, "");
    assert_int_equal(fg_query_get("x=a%3Db+c", "x", v, sizeof(v)), 1);
    assert_string_equal(v, "a=b c");
    assert_int_equal(fg_query_get("ab=1", "a", v, sizeof(v)), 0);
    assert_int_equal(fg_query_get(NULL, "a", v, sizeof(v)), 0);
    assert_int_equal(fg_query_get("a=0123456789", "a", v, 4), -1);
    assert_int_equal(mock_parse_bool("yes"), -1);
    assert_int_equal(
        accept_table("application/json;as=Table;v=v1;g=meta.k8s.io,"
                     "application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                     "application/json"),
        MOCK_TABLE_V1);
    assert_int_equal(accept_table("application/json; as=Table; "
                                  "v=v1beta1; g=meta.k8s.io"),
                     MOCK_TABLE_V1BETA1);
    assert_int_equal(accept_table("application/json"), MOCK_TABLE_NONE);
    assert_int_equal(accept_table("application/json;g=apidiscovery.k8s.io;"
                                  "v=v2;as=APIGroupDiscoveryList"),
                     MOCK_TABLE_NONE);
    /* Only LEN bytes count: the value is a header's, not NUL-terminated. */
    assert_int_equal(
        mock_accept_table("application/json;as=Table;v=v1;g=meta.k8s.io", 16),
        MOCK_TABLE_NONE);
    assert_int_equal(mock_accept_table(NULL, 0), MOCK_TABLE_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_seeds_load),
        cmocka_unit_test(test_fills_metadata),
        cmocka_unit_test(test_uid_is_stable),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_time_helpers),
        cmocka_unit_test(test_query_and_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
