/* Unit tests of the mock driver's OpenAPI documents (openapi.c): the v3
 * index points at documents that exist, every $ref resolves, each kind has
 * a schema with its group-version-kind, PATCH operations list
 * fieldValidation (what kubectl looks for), and /openapi/v2 is Swagger 2.0
 * JSON even when protobuf is asked for. */
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

static char *seed_path;
static struct mock_instance *in;

static int setup(void **state)
{
    (void)state;
    seed_path = fake_temp_file("{\"objects\":[]}");
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

static cJSON *get_json(const char *path, const char *query, const char *accept)
{
    struct fake_client c = {0};
    fake_request(in, "GET", path, query, accept, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.content_type, "application/json");
    cJSON *d = cJSON_Parse(c.body.p);
    fake_client_free(&c);
    assert_non_null(d);
    return d;
}

/* Every "$ref" under NODE names an entry of SCHEMAS. */
static void check_refs(const cJSON *node, const cJSON *schemas,
                       const char *prefix)
{
    const cJSON *child;
    cJSON_ArrayForEach(child, node)
    {
        if (child->string && strcmp(child->string, "$ref") == 0) {
            assert_true(cJSON_IsString(child));
            size_t n = strlen(prefix);
            assert_int_equal(strncmp(child->valuestring, prefix, n), 0);
            if (!cJSON_GetObjectItemCaseSensitive(schemas,
                                                  child->valuestring + n))
                fail_msg("dangling $ref %s", child->valuestring);
        }
        check_refs(child, schemas, prefix);
    }
}

static void check_gv_doc(const cJSON *d, const char *group)
{
    assert_string_equal(mock_json_str(d, "openapi", ""), "3.0.0");
    const cJSON *schemas = fg_json_path(d, "components.schemas");
    assert_true(cJSON_IsObject(schemas));
    check_refs(d, schemas, "#/components/schemas/");
    int patches = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, fg_json_path(d, "paths"))
    {
        const cJSON *patch = cJSON_GetObjectItemCaseSensitive(item, "patch");
        if (!patch)
            continue;
        patches++;
        assert_string_equal(
            mock_json_str(patch, "x-kubernetes-group-version-kind.group", "?"),
            group);
        int has = 0;
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(patch, "parameters"))
        {
            has |=
                strcmp(mock_json_str(p, "name", ""), "fieldValidation") == 0 &&
                strcmp(mock_json_str(p, "in", ""), "query") == 0;
        }
        assert_true(has);
    }
    assert_true(patches > 0);
}

static void test_index_and_documents(void **state)
{
    (void)state;
    cJSON *idx = get_json("/openapi/v3", NULL, NULL);
    const cJSON *paths = cJSON_GetObjectItem(idx, "paths");
    /* core, apps, batch and rbac.authorization.k8s.io, each at v1 */
    assert_int_equal(cJSON_GetArraySize(paths), 4);
    const cJSON *e;
    cJSON_ArrayForEach(e, paths)
    {
        const char *url = mock_json_str(e, "serverRelativeURL", "");
        /* Behind the gateway: under the member's prefix. */
        const char *pre = "/clusters/test/openapi/v3/";
        assert_int_equal(strncmp(url, pre, strlen(pre)), 0);
        const char *q = strchr(url, '?');
        assert_non_null(q);
        assert_int_equal(strncmp(q, "?hash=", 6), 0);
        char path[128];
        snprintf(path, sizeof(path), "/openapi/v3/%.*s",
                 (int)(q - url - strlen(pre)), url + strlen(pre));
        cJSON *d = get_json(path, q + 1, NULL);
        /* "apis/GROUP/v1" or "api/v1" */
        char group[64] = "";
        if (strncmp(e->string, "apis/", 5) == 0)
            snprintf(group, sizeof(group), "%.*s",
                     (int)(strrchr(e->string, '/') - e->string - 5),
                     e->string + 5);
        check_gv_doc(d, group);
        cJSON_Delete(d);
    }
    cJSON_Delete(idx);
}

static void test_kinds_have_schemas(void **state)
{
    (void)state;
    cJSON *core = get_json("/openapi/v3/api/v1", NULL, NULL);
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        char name[128], path[128];
        snprintf(name, sizeof(name), "%s.%s", mock_kind_group(k)->pkg, k->kind);
        snprintf(path, sizeof(path), "/openapi/v3/apis/%s/v1", k->group);
        cJSON *doc = k->group[0] ? get_json(path, NULL, NULL) : core;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(
            fg_json_path(doc, "components.schemas"), name);
        if (!s)
            fail_msg("no schema %s", name);
        const cJSON *gvk = cJSON_GetArrayItem(
            cJSON_GetObjectItem(s, "x-kubernetes-group-version-kind"), 0);
        assert_string_equal(mock_json_str(gvk, "kind", ""), k->kind);
        assert_string_equal(mock_json_str(gvk, "group", "?"), k->group);
        assert_non_null(fg_json_path(s, "properties.metadata"));
        if (doc != core)
            cJSON_Delete(doc);
    }
    /* the operations of a group named as kube-apiserver names them */
    cJSON *rbac =
        get_json("/openapi/v3/apis/rbac.authorization.k8s.io/v1", NULL, NULL);
    const cJSON *op = fg_json_path(
        cJSON_GetObjectItemCaseSensitive(
            fg_json_path(rbac, "paths"),
            "/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles"),
        "post");
    assert_string_equal(mock_json_str(op, "operationId", ""),
                        "createRbacAuthorizationV1NamespacedRole");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
                            cJSON_GetObjectItem(op, "tags"), 0)),
                        "rbacAuthorization_v1");
    cJSON_Delete(rbac);
    /* Patch metadata kubectl's strategic merge relies on. */
    const cJSON *containers = fg_json_path(core, "components.schemas");
    containers = cJSON_GetObjectItemCaseSensitive(containers,
                                                  "io.k8s.api.core.v1.PodSpec");
    containers = fg_json_path(containers, "properties.containers");
    assert_string_equal(
        mock_json_str(containers, "x-kubernetes-patch-merge-key", ""), "name");
    assert_string_equal(
        mock_json_str(containers, "x-kubernetes-patch-strategy", ""), "merge");
    cJSON_Delete(core);
}

static void test_v2_and_misses(void **state)
{
    (void)state;
    cJSON *d = get_json("/openapi/v2", NULL,
                        "application/com.github.proto-openapi.spec.v2@v1.0+"
                        "protobuf");
    assert_string_equal(mock_json_str(d, "swagger", ""), "2.0");
    const cJSON *defs = cJSON_GetObjectItem(d, "definitions");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(
        defs, "io.k8s.api.apps.v1.Deployment"));
    check_refs(d, defs, "#/definitions/");
    cJSON_Delete(d);
    const char *missing[] = {"/openapi/v3/apis/policy/v1", "/openapi/v3/api",
                             "/openapi/v4"};
    for (size_t i = 0; i < 3; i++) {
        struct fake_client c = {0};
        fake_request(in, "GET", missing[i], NULL, NULL, &c);
        assert_int_equal(c.status, 404);
        fake_client_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_and_documents),
        cmocka_unit_test(test_kinds_have_schemas),
        cmocka_unit_test(test_v2_and_misses),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
