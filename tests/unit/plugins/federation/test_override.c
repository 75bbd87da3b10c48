/* Tests of plugins/services/federation/override.c: JSON pointers over
 * objects and arrays, each op at each kind of place, and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "override.h"

/* Applies PATH OP VALUE (JSON text or NULL) to the JSON DOC and returns
 * the result as compact text (malloc'd), or NULL when it was refused. */
static char *edit(const char *doc, const char *path, const char *op,
                  const char *value)
{
    cJSON *obj = cJSON_Parse(doc);
    cJSON *v = value ? cJSON_Parse(value) : NULL;
    char err[256] = "";
    assert_non_null(obj);
    int rc = fed_override_apply(obj, path, op, v, err, sizeof(err));
    char *out = rc == 0 ? cJSON_PrintUnformatted(obj) : NULL;
    if (rc != 0)
        assert_true(strlen(err) > 0);
    cJSON_Delete(obj);
    cJSON_Delete(v);
    return out;
}

static void expect(const char *doc, const char *path, const char *op,
                   const char *value, const char *want)
{
    char *got = edit(doc, path, op, value);
    if (!want) {
        if (got)
            fail_msg("%s %s on %s: want refused, got %s", op, path, doc, got);
        return;
    }
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s %s on %s: want %s, got %s", op ? op : "(none)", path, doc,
                 want, got ? got : "refused");
    free(got);
}

static void test_objects(void **state)
{
    (void)state;
    const char *d = "{\"spec\":{\"replicas\":2}}";
    expect(d, "/spec/replicas", NULL, "5", "{\"spec\":{\"replicas\":5}}");
    expect(d, "/spec/replicas", "replace", "5", "{\"spec\":{\"replicas\":5}}");
    expect(d, "/spec/paused", "add", "true",
           "{\"spec\":{\"replicas\":2,\"paused\":true}}");
    expect(d, "/spec/replicas", "add", "3", "{\"spec\":{\"replicas\":3}}");
    expect(d, "/spec/replicas", "remove", NULL, "{\"spec\":{}}");
    expect(d, "/spec/paused", "replace", "true", NULL);
    expect(d, "/spec/paused", "remove", NULL, NULL);
    expect(d, "/status/x", "add", "1", NULL); /* no parent */
    expect(d, "/spec/replicas/x", "add", "1", NULL);
    /* escapes: ~1 is '/', ~0 is '~' */
    expect("{\"m\":{}}", "/m/a~1b~0c", "add", "\"v\"",
           "{\"m\":{\"a/b~c\":\"v\"}}");
    expect("{\"m\":{}}", "/m/a~2", "add", "1", NULL);
    expect("{\"m\":{}}", "/m/a~", "add", "1", NULL);
}

static void test_arrays(void **state)
{
    (void)state;
    const char *d = "{\"a\":[1,2,3]}";
    expect(d, "/a/0", "add", "0", "{\"a\":[0,1,2,3]}");
    expect(d, "/a/1", "add", "9", "{\"a\":[1,9,2,3]}");
    expect(d, "/a/2", "add", "9", "{\"a\":[1,2,9,3]}");
    expect(d, "/a/3", "add", "9", "{\"a\":[1,2,3,9]}");
    expect(d, "/a/-", "add", "9", "{\"a\":[1,2,3,9]}");
    expect(d, "/a/4", "add", "9", NULL);
    expect(d, "/a/1", "replace", "9", "{\"a\":[1,9,3]}");
    expect(d, "/a/3", "replace", "9", NULL);
    expect(d, "/a/-", "replace", "9", NULL);
    expect(d, "/a/0", "remove", NULL, "{\"a\":[2,3]}");
    expect(d, "/a/2", "remove", NULL, "{\"a\":[1,2]}");
    expect(d, "/a/3", "remove", NULL, NULL);
    expect(d, "/a/01", "replace", "9", NULL);
    expect(d, "/a/-1", "replace", "9", NULL);
    expect(d, "/a/x", "replace", "9", NULL);
    expect("{\"a\":[]}", "/a/0", "add", "1", "{\"a\":[1]}");
    /* into an element: a container's fields */
    expect("{\"c\":[{\"image\":\"a\"}]}", "/c/0/image", NULL, "\"b\"",
           "{\"c\":[{\"image\":\"b\"}]}");
}

static void test_refusals(void **state)
{
    (void)state;
    const char *d = "{\"a\":1}";
    expect(d, "", "add", "1", NULL);
    expect(d, "a", "add", "1", NULL);
    expect(d, "/a", "move", "1", NULL);
    expect(d, "/a", "replace", NULL, NULL);
    expect("5", "/a", "add", "1", NULL);
    char deep[2048];
    size_t n = 0;
    while (n + 2 < sizeof(deep)) {
        deep[n++] = '/';
        deep[n++] = 'x';
    }
    deep[n] = '\0';
    expect(d, deep, "add", "1", NULL);
    /* the reason is one line whatever the path holds */
    cJSON *obj = cJSON_Parse(d);
    cJSON *v = cJSON_CreateNumber(1);
    char err[256];
    assert_int_equal(
        fed_override_apply(obj, "/x\n/y\r", "add", v, err, sizeof(err)), -1);
    assert_null(strpbrk(err, "\r\n"));
    cJSON_Delete(v);
    cJSON_Delete(obj);
}

static void test_overrides_of_one_cluster(void **state)
{
    (void)state;
    cJSON *obj = cJSON_Parse("{\"spec\":{\"replicas\":1}}");
    cJSON *ovr = cJSON_Parse(
        "[{\"clusterName\":\"m1\",\"clusterOverrides\":[{\"path\":"
        "\"/spec/replicas\",\"value\":3}]},{\"clusterName\":\"m2\","
        "\"clusterOverrides\":[{\"path\":\"/spec/replicas\",\"value\":5},"
        "{\"path\":\"/spec/paused\",\"op\":\"add\",\"value\":true}]}]");
    char err[256];
    assert_int_equal(fed_overrides_apply(obj, ovr, "m2", err, sizeof(err)), 0);
    char *t = cJSON_PrintUnformatted(obj);
    assert_string_equal(t, "{\"spec\":{\"replicas\":5,\"paused\":true}}");
    free(t);
    assert_int_equal(fed_overrides_apply(obj, ovr, "m3", err, sizeof(err)), 0);
    cJSON *bad = cJSON_Parse("[{\"clusterName\":\"m3\",\"clusterOverrides\":"
                             "[{\"path\":\"/nope/x\",\"value\":1}]}]");
    assert_int_equal(fed_overrides_apply(obj, bad, "m3", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nope/x"));
    cJSON_Delete(bad);
    cJSON_Delete(ovr);
    cJSON_Delete(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_overrides_of_one_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
