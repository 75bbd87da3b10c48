/* Tests of plugins/services/federation/placement.c: clusters by name, by
 * a selector over the members' labels (every operator), names before a
 * selector, and selectors refused rather than read loosely. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "placement.h"

static const char members[] =
    "[{\"name\":\"m1\",\"labels\":{\"env\":\"prod\",\"zone\":\"a\"},"
    "\"ready\":true},{\"name\":\"m2\",\"labels\":{\"env\":\"dev\"},"
    "\"ready\":true},{\"name\":\"m3\",\"labels\":{},\"ready\":false}]";

static int add(void *arg, const char *name)
{
    char *out = arg;
    strcat(out, name);
    strcat(out, " ");
    return 0;
}

/* The names PLACEMENT (JSON) selects, space-separated, or "refused". */
static void expect(const char *placement, const char *want)
{
    char obj[2048], got[256] = "", err[256] = "";
    snprintf(obj, sizeof(obj), "{\"spec\":{\"placement\":%s}}", placement);
    cJSON *fed = cJSON_Parse(obj);
    cJSON *m = cJSON_Parse(members);
    assert_non_null(fed);
    int rc = fed_placement(fed, m, add, got, err, sizeof(err));
    if (rc < 0) {
        assert_true(strlen(err) > 0);
        snprintf(got, sizeof(got), "refused");
    }
    if (strcmp(got, want) != 0)
        fail_msg("%s: want \"%s\", got \"%s\" (%s)", placement, want, got, err);
    cJSON_Delete(fed);
    cJSON_Delete(m);
}

static void test_by_name(void **state)
{
    (void)state;
    expect("{\"clusters\":[{\"name\":\"m2\"},{\"name\":\"x\"}]}", "m2 x ");
    expect("{\"clusters\":[]}", "");
    /* names win over a selector */
    expect("{\"clusters\":[{\"name\":\"m3\"}],\"clusterSelector\":{}}", "m3 ");
    expect("{}", "");
}

static void test_by_selector(void **state)
{
    (void)state;
    expect("{\"clusterSelector\":{}}", "m1 m2 m3 ");
    expect("{\"clusterSelector\":{\"matchLabels\":{\"env\":\"prod\"}}}", "m1 ");
    expect("{\"clusterSelector\":{\"matchExpressions\":[{\"key\":\"env\","
           "\"operator\":\"In\",\"values\":[\"dev\",\"prod\"]}]}}",
           "m1 m2 ");
    expect("{\"clusterSelector\":{\"matchExpressions\":[{\"key\":\"env\","
           "\"operator\":\"NotIn\",\"values\":[\"dev\"]}]}}",
           "m1 m3 ");
    expect("{\"clusterSelector\":{\"matchExpressions\":[{\"key\":\"zone\","
           "\"operator\":\"Exists\"}]}}",
           "m1 ");
    expect("{\"clusterSelector\":{\"matchExpressions\":[{\"key\":\"env\","
           "\"operator\":\"DoesNotExist\"}]}}",
           "m3 ");
    expect("{\"clusterSelector\":{\"matchLabels\":{\"env\":\"prod\"},"
           "\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\","
           "\"values\":[\"a\"]}]}}",
           "");
}

static void test_refused(void **state)
{
    (void)state;
    /* a value may not smuggle a term of its own in */
    expect("{\"clusterSelector\":{\"matchLabels\":{\"env\":\"dev,zone\"}}}",
           "refused");
    expect("{\"clusterSelector\":{\"matchLabels\":{\"env\":\"x)\"}}}",
           "refused");
    expect("{\"clusterSelector\":{\"matchLabels\":{\"a b\":\"x\"}}}",
           "refused");
    expect("{\"clusterSelector\":{\"matchLabels\":{\"env\":1}}}", "refused");
    expect("{\"clusterSelector\":{\"matchExpressions\":[{\"key\":\"env\","
           "\"operator\":\"Near\"}]}}",
           "refused");
    expect("{\"clusterSelector\":{\"matchExpressions\":[{\"key\":\"env\","
           "\"operator\":\"In\",\"values\":[]}]}}",
           "refused");
    expect("{\"clusterSelector\":{\"matchExpressions\":[{\"key\":\"env\","
           "\"operator\":\"In\",\"values\":[\"a,b\"]}]}}",
           "refused");
    expect("{\"clusterSelector\":{\"matchExpressions\":[{\"operator\":"
           "\"Exists\"}]}}",
           "refused");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_name),
        cmocka_unit_test(test_by_selector),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
