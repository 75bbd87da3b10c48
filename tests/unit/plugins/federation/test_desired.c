/* Tests of plugins/services/federation/desired.c: what a member gets for
 * a federated object (template, overrides, replicas, then the service's
 * name, namespace, label and owner, which no override can change), and
 * when a member object counts as the service's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#include "desired.h"

#define OWNER "federateddeployments/ns1/web"

static const char fed[] =
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns1\"},\"spec\":{"
    "\"template\":{\"metadata\":{\"name\":\"other\",\"namespace\":\"x\","
    "\"resourceVersion\":\"7\",\"labels\":{\"app\":\"web\"}},\"spec\":{"
    "\"replicas\":2},\"status\":{\"readyReplicas\":2}},"
    "\"overrides\":[{\"clusterName\":\"m2\",\"clusterOverrides\":["
    "{\"path\":\"/spec/replicas\",\"value\":5},"
    "{\"path\":\"/metadata/name\",\"value\":\"moved\"},"
    "{\"path\":\"/metadata/labels\",\"op\":\"remove\"}]}]}}";

static const char *str(const cJSON *o, const char *path)
{
    const cJSON *v = fg_json_path(o, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *path)
{
    const cJSON *v = fg_json_path(o, path);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void test_built_for_each_cluster(void **state)
{
    (void)state;
    cJSON *f = cJSON_Parse(fed);
    char err[256];
    cJSON *d = fed_desired(f, &fed_targets[FED_DEPLOYMENTS], OWNER, "m1", -1,
                           err, sizeof(err));
    assert_non_null(d);
    assert_string_equal(str(d, "apiVersion"), "apps/v1");
    assert_string_equal(str(d, "kind"), "Deployment");
    assert_string_equal(str(d, "metadata.name"), "web");
    assert_string_equal(str(d, "metadata.namespace"), "ns1");
    assert_string_equal(str(d, "metadata.labels.app"), "web");
    assert_string_equal(str(d, "metadata.labels.kubefed\\.io/managed"), "true");
    assert_null(fg_json_path(d, "metadata.resourceVersion"));
    assert_null(fg_json_path(d, "status"));
    assert_true(num(d, "spec.replicas") == 2);
    assert_true(fed_owned(d, OWNER));
    assert_false(fed_owned(d, "federateddeployments/ns1/other"));
    cJSON_Delete(d);
    /* m2's overrides, and still the service's name and label */
    d = fed_desired(f, &fed_targets[FED_DEPLOYMENTS], OWNER, "m2", -1, err,
                    sizeof(err));
    assert_true(num(d, "spec.replicas") == 5);
    assert_string_equal(str(d, "metadata.name"), "web");
    assert_null(fg_json_path(d, "metadata.labels.app"));
    assert_true(fed_owned(d, OWNER));
    cJSON_Delete(d);
    /* a scheduled count wins over the override */
    d = fed_desired(f, &fed_targets[FED_DEPLOYMENTS], OWNER, "m2", 3, err,
                    sizeof(err));
    assert_true(num(d, "spec.replicas") == 3);
    cJSON_Delete(d);
    /* a FederatedNamespace's object is its namespace */
    d = fed_desired(f, &fed_targets[0], OWNER, "m1", -1, err, sizeof(err));
    assert_string_equal(str(d, "kind"), "Namespace");
    assert_string_equal(str(d, "metadata.name"), "ns1");
    assert_null(fg_json_path(d, "metadata.namespace"));
    cJSON_Delete(d);
    cJSON_Delete(f);
}

static void test_failed_override(void **state)
{
    (void)state;
    cJSON *f = cJSON_Parse(
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},\"spec\":{"
        "\"overrides\":[{\"clusterName\":\"m1\",\"clusterOverrides\":[{"
        "\"path\":\"/spec/x/y\",\"value\":1}]}]}}");
    char err[256];
    assert_null(
        fed_desired(f, &fed_targets[1], "o", "m1", -1, err, sizeof(err)));
    assert_non_null(strstr(err, "/spec/x/y"));
    cJSON_Delete(f);
}

static void test_paths(void **state)
{
    (void)state;
    char buf[128];
    assert_int_equal(fed_target_path(&fed_targets[FED_DEPLOYMENTS], "ns", "web",
                                     buf, sizeof(buf)),
                     0);
    assert_string_equal(buf, "/apis/apps/v1/namespaces/ns/deployments/web");
    assert_int_equal(
        fed_target_path(&fed_targets[1], "ns", "", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/api/v1/namespaces/ns/configmaps");
    assert_int_equal(
        fed_target_path(&fed_targets[0], "", "ns", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/api/v1/namespaces/ns");
    assert_int_equal(fed_target_path(&fed_targets[1], "ns", "x", buf, 10), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_built_for_each_cluster),
        cmocka_unit_test(test_failed_override),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
