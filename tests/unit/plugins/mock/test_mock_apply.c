/* Unit tests of server-side apply and managedFields in the mock
 * (fieldset.c, managed.c, apply.c): field sets of objects along the
 * schema, their algebra and names, Update entries of creates and updates,
 * apply's create, no-op, merge by key, conflicts with kube's message,
 * force, removal of fields no longer applied, and the request's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake.h"

/* METHOD PATH?QUERY with BODY of content type CT from user agent UA (may
 * be NULL); checks the status and returns the parsed answer. */
static cJSON *req(void *in, const char *method, const char *path,
                  const char *query, const char *ct, const char *ua,
                  const char *body, int want)
{
    struct fake_client c = {0};
    struct fg_header h[2];
    size_t nh = 0;
    if (ct)
        h[nh++] = (struct fg_header){"content-type", 12, ct, strlen(ct)};
    if (ua)
        h[nh++] = (struct fg_header){"user-agent", 10, ua, strlen(ua)};
    struct fg_request_head head = {
        .method = method,
        .path = path,
        .query = query,
        .headers = h,
        .n_headers = nh,
        .content_length = body ? (int64_t)strlen(body) : 0,
        .http_version = 20,
    };
    fake_set_info(&head);
    void *s = mock_driver_ops.stream_open(in, &head, &fake_callbacks, &c);
    assert_non_null(s);
    if (body)
        assert_int_equal(mock_driver_ops.stream_write(s, body, strlen(body)),
                         0);
    mock_driver_ops.stream_end(s);
    while (!c.ended && fake_run_one_timer())
        ;
    mock_driver_ops.stream_close(s);
    mock_buf_add(&c.body, "", 0);
    if (c.status != want)
        fail_msg("%s %s?%s: status %d, want %d: %s", method, path,
                 query ? query : "", c.status, want, c.body.p);
    cJSON *d = cJSON_Parse(c.body.p);
    if (!d)
        fail_msg("%s %s: not JSON: %s", method, path, c.body.p);
    fake_client_free(&c);
    return d;
}

#define APPLY "application/apply-patch+yaml"
#define CM_PATH "/api/v1/namespaces/shop/configmaps/ssa"

static char *print(const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    assert_non_null(s);
    return s;
}

/* The fieldsV1 of OBJ's entry for MANAGER and OP, printed, or "" (a
 * static buffer). */
static const char *fields_of(const cJSON *obj, const char *manager,
                             const char *op)
{
    static char buf[2048];
    buf[0] = '\0';
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_json_path(obj, "metadata.managedFields"))
    {
        if (strcmp(mock_json_str(e, "manager", ""), manager) == 0 &&
            strcmp(mock_json_str(e, "operation", ""), op) == 0) {
            char *s = print(cJSON_GetObjectItemCaseSensitive(e, "fieldsV1"));
            snprintf(buf, sizeof(buf), "%s", s);
            free(s);
            assert_string_equal(mock_json_str(e, "fieldsType", ""), "FieldsV1");
            assert_string_equal(mock_json_str(e, "time", ""),
                                "2026-11-25T00:00:00Z");
        }
    }
    return buf;
}

static int n_entries(const cJSON *obj)
{
    return cJSON_GetArraySize(fg_json_path(obj, "metadata.managedFields"));
}

static const char deploy[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
    "\"name\":\"d\",\"namespace\":\"shop\",\"uid\":\"u\",\"labels\":{\"app\":"
    "\"d\"}},\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":"
    "\"d\"}},\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
    "\"image\":\"nginx\",\"args\":[\"a\",\"b\"],\"ports\":[{"
    "\"containerPort\":80}]}]}}},\"status\":{\"replicas\":2}}";

static void test_fieldset(void **state)
{
    (void)state;
    const struct mock_kind *k =
        mock_kind_by_resource("apps", "v1", "deployments");
    cJSON *obj = cJSON_Parse(deploy);
    cJSON *fs = mock_fs_of(k, NULL, obj);
    char *s = print(fs);
    /* No server-set metadata, no status (its own subresource), list items
     * by key with ".", atomic lists as leaves. */
    assert_string_equal(
        s,
        "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{"
        "\"f:replicas\":{},\"f:selector\":{\"f:matchLabels\":{\"f:app\":{}}"
        "},\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":"
        "\\\"web\\\"}\":{\".\":{},\"f:name\":{},\"f:image\":{},\"f:args\":{},"
        "\"f:ports\":{\"k:{\\\"containerPort\\\":80}\":{\".\":{},"
        "\"f:containerPort\":{}}}}}}}}}");
    free(s);
    cJSON *paths = mock_fs_paths(fs);
    s = print(paths);
    assert_string_equal(
        s,
        "[\".metadata.labels.app\",\".spec.replicas\",\".spec.selector."
        "matchLabels.app\",\".spec.template.spec.containers[name=\\\"web\\\"]"
        "\",\".spec.template.spec.containers[name=\\\"web\\\"].name\",\".spec."
        "template.spec.containers[name=\\\"web\\\"].image\",\".spec.template."
        "spec.containers[name=\\\"web\\\"].args\",\".spec.template.spec."
        "containers[name=\\\"web\\\"].ports[containerPort=80]\",\".spec."
        "template.spec.containers[name=\\\"web\\\"].ports[containerPort=80]."
        "containerPort\"]");
    free(s);
    cJSON_Delete(paths);

    /* The status subresource's part is status alone. */
    cJSON *st = mock_fs_of(k, "status", obj);
    s = print(st);
    assert_string_equal(s, "{\"f:status\":{\"f:replicas\":{}}}");
    free(s);
    cJSON_Delete(st);

    /* What changed: a new image, one more arg (atomic: the list). */
    cJSON *next = cJSON_Duplicate(obj, 1);
    cJSON *c0 = cJSON_GetArrayItem(
        (cJSON *)fg_json_path(next, "spec.template.spec.containers"), 0);
    cJSON_ReplaceItemInObject(c0, "image", cJSON_CreateString("httpd"));
    cJSON_AddItemToArray(cJSON_GetObjectItem(c0, "args"),
                         cJSON_CreateString("c"));
    cJSON *ch = mock_fs_changed(k, NULL, obj, next);
    s = print(ch);
    assert_string_equal(
        s, "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{"
           "\"k:{\\\"name\\\":\\\"web\\\"}\":{\"f:image\":{},\"f:args\":{}}}}}}"
           "}");
    free(s);

    /* Algebra: subtract and intersect. */
    cJSON *inter = mock_fs_intersect(fs, ch);
    assert_true(cJSON_Compare(inter, ch, 1));
    cJSON_Delete(inter);
    mock_fs_subtract(fs, ch);
    inter = mock_fs_intersect(fs, ch);
    assert_null(inter->child);
    cJSON_Delete(inter);
    assert_int_equal(mock_fs_union(fs, ch), 0);
    cJSON *again = mock_fs_of(k, NULL, obj);
    assert_true(cJSON_Compare(fg_json_path(again, "f:spec.f:replicas"),
                              fg_json_path(fs, "f:spec.f:replicas"), 1));
    cJSON_Delete(again);

    /* Removing a set's fields: the container item, a label. */
    cJSON *rm = cJSON_Parse(
        "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{"
        "\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":"
        "\\\"web\\\"}\":{\".\":{}}}}}}}");
    mock_fs_remove(next, rm);
    assert_null(fg_json_path(next, "metadata.labels.app"));
    assert_int_equal(
        cJSON_GetArraySize(fg_json_path(next, "spec.template.spec.containers")),
        0);
    cJSON_Delete(rm);
    cJSON_Delete(ch);
    cJSON_Delete(next);
    cJSON_Delete(fs);
    cJSON_Delete(obj);
}

static void test_update_entries(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    cJSON *d = req(in, "POST", "/api/v1/namespaces/shop/configmaps",
                   "fieldManager=kubectl-create", "application/json", NULL,
                   "{\"metadata\":{\"name\":\"u\",\"labels\":{\"a\":\"1\"}},"
                   "\"data\":{\"x\":\"1\",\"y\":\"2\"}}",
                   201);
    assert_int_equal(n_entries(d), 1);
    assert_string_equal(fields_of(d, "kubectl-create", "Update"),
                        "{\"f:metadata\":{\"f:labels\":{\"f:a\":{}}},"
                        "\"f:data\":{\"f:x\":{},\"f:y\":{}}}");
    assert_string_equal(
        mock_json_str(
            cJSON_GetArrayItem(fg_json_path(d, "metadata.managedFields"), 0),
            "apiVersion", ""),
        "v1");
    cJSON_Delete(d);
    /* Without fieldManager: the user agent's first word. A field removed
     * is no one's; the one changed moves to the updater. */
    d = req(in, "PATCH", "/api/v1/namespaces/shop/configmaps/u", NULL,
            "application/merge-patch+json", "kubectl/v1.32.0 (linux/amd64)",
            "{\"data\":{\"x\":\"9\",\"y\":null}}", 200);
    assert_int_equal(n_entries(d), 2);
    assert_string_equal(fields_of(d, "kubectl-create", "Update"),
                        "{\"f:metadata\":{\"f:labels\":{\"f:a\":{}}}}");
    assert_string_equal(fields_of(d, "kubectl", "Update"),
                        "{\"f:data\":{\"f:x\":{}}}");
    const char *rv = mock_json_str(d, "metadata.resourceVersion", "");
    char rv1[32];
    snprintf(rv1, sizeof(rv1), "%s", rv);
    cJSON_Delete(d);
    /* An update that changes nothing changes no entry: no write. */
    d = req(in, "PATCH", "/api/v1/namespaces/shop/configmaps/u", NULL,
            "application/merge-patch+json", "other/1",
            "{\"data\":{\"x\":\"9\"}}", 200);
    assert_string_equal(mock_json_str(d, "metadata.resourceVersion", ""), rv1);
    assert_int_equal(n_entries(d), 2);
    cJSON_Delete(d);
    /* Apply now conflicts with the updaters, named as kube names them. */
    d = req(in, "PATCH", "/api/v1/namespaces/shop/configmaps/u",
            "fieldManager=ssa", APPLY, NULL,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
            "\"name\":\"u\",\"labels\":{\"a\":\"2\"}},\"data\":{\"x\":\"3\"}}",
            409);
    assert_string_equal(mock_json_str(d, "reason", ""), "Conflict");
    assert_string_equal(
        mock_json_str(d, "message", ""),
        "Apply failed with 2 conflicts: conflicts with \"kubectl-create\" "
        "using v1:\n- .metadata.labels.a\nconflicts with \"kubectl\" using "
        "v1:\n- .data.x");
    const cJSON *causes = fg_json_path(d, "details.causes");
    assert_int_equal(cJSON_GetArraySize(causes), 2);
    assert_string_equal(fake_item_str(d, "details.causes", 1, "reason"),
                        "FieldManagerConflict");
    assert_string_equal(fake_item_str(d, "details.causes", 1, "message"),
                        "conflict with \"kubectl\" using v1");
    assert_string_equal(fake_item_str(d, "details.causes", 1, "field"),
                        ".data.x");
    cJSON_Delete(d);
    /* An empty managedFields from the client resets the entries. */
    d = req(in, "PATCH", "/api/v1/namespaces/shop/configmaps/u", NULL,
            "application/merge-patch+json", "reset/1",
            "{\"metadata\":{\"managedFields\":[]},\"data\":{\"z\":\"1\"}}",
            200);
    assert_int_equal(n_entries(d), 1);
    assert_string_equal(fields_of(d, "reset", "Update"),
                        "{\"f:data\":{\"f:z\":{}}}");
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

static void test_apply(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    /* Absent: created (201), YAML body, the Apply entry. */
    cJSON *d = req(in, "PATCH", CM_PATH, "fieldManager=a", APPLY, NULL,
                   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n"
                   "data:\n  x: \"1\"\n  y: \"2\"\n",
                   201);
    assert_string_equal(fields_of(d, "a", "Apply"),
                        "{\"f:data\":{\"f:x\":{},\"f:y\":{}}}");
    assert_string_equal(mock_json_str(d, "metadata.namespace", ""), "shop");
    char rv[32];
    snprintf(rv, sizeof(rv), "%s",
             mock_json_str(d, "metadata.resourceVersion", ""));
    cJSON_Delete(d);
    /* The same again (as JSON): nothing changes. */
    static const char same[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
        "\"ssa\"},\"data\":{\"x\":\"1\",\"y\":\"2\"}}";
    d = req(in, "PATCH", CM_PATH, "fieldManager=a", APPLY, NULL, same, 200);
    assert_string_equal(mock_json_str(d, "metadata.resourceVersion", ""), rv);
    cJSON_Delete(d);
    /* Another manager, same value: shared, no conflict. */
    d = req(in, "PATCH", CM_PATH, "fieldManager=b", APPLY, NULL,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
            "\"name\":\"ssa\"},\"data\":{\"y\":\"2\"}}",
            200);
    assert_string_equal(fields_of(d, "b", "Apply"),
                        "{\"f:data\":{\"f:y\":{}}}");
    cJSON_Delete(d);
    /* A different value: 409, one conflict. */
    d = req(in, "PATCH", CM_PATH, "fieldManager=b&force=false", APPLY, NULL,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
            "\"name\":\"ssa\"},\"data\":{\"x\":\"7\",\"y\":\"2\"}}",
            409);
    assert_string_equal(mock_json_str(d, "message", ""),
                        "Apply failed with 1 conflict: conflict with \"a\": "
                        ".data.x");
    cJSON_Delete(d);
    /* Forced: taken over. */
    d = req(in, "PATCH", CM_PATH, "fieldManager=b&force=true", APPLY, NULL,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
            "\"name\":\"ssa\"},\"data\":{\"x\":\"7\",\"y\":\"2\"}}",
            200);
    assert_string_equal(mock_json_str(d, "data.x", ""), "7");
    assert_string_equal(fields_of(d, "a", "Apply"),
                        "{\"f:data\":{\"f:y\":{}}}");
    assert_string_equal(fields_of(d, "b", "Apply"),
                        "{\"f:data\":{\"f:x\":{},\"f:y\":{}}}");
    cJSON_Delete(d);
    /* a no longer applies y: b still owns it, it stays; b drops x and y:
     * x goes (no one else owns it), y goes (a gave it up). */
    d = req(in, "PATCH", CM_PATH, "fieldManager=a", APPLY, NULL,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
            "\"name\":\"ssa\",\"labels\":{\"l\":\"1\"}}}",
            200);
    assert_string_equal(mock_json_str(d, "data.y", ""), "2");
    cJSON_Delete(d);
    d = req(in, "PATCH", CM_PATH, "fieldManager=b", APPLY, NULL,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
            "\"name\":\"ssa\"}}",
            200);
    assert_null(fg_json_path(d, "data.x"));
    assert_null(fg_json_path(d, "data.y"));
    assert_string_equal(mock_json_str(d, "metadata.labels.l", ""), "1");
    assert_int_equal(n_entries(d), 1);
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

static void test_apply_merge_keys(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    static const char path[] = "/apis/apps/v1/namespaces/shop/deployments/m";
    cJSON *d = req(in, "PATCH", path, "fieldManager=one", APPLY, NULL,
                   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                   "  name: m\nspec:\n  replicas: 2\n  selector:\n"
                   "    matchLabels: {app: m}\n  template:\n    metadata:\n"
                   "      labels: {app: m}\n    spec:\n      containers:\n"
                   "      - name: web\n        image: nginx\n"
                   "        ports: [{containerPort: 80}]\n",
                   201);
    assert_int_equal(mock_json_int(d, "spec.replicas", 0), 2);
    assert_int_equal(mock_json_int(d, "metadata.generation", 0), 1);
    cJSON_Delete(d);
    /* A second manager adds a container: merged by name, not replaced. */
    d = req(in, "PATCH", path, "fieldManager=two", APPLY, NULL,
            "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":"
            "{\"name\":\"m\"},\"spec\":{\"template\":{\"spec\":{\"containers\":"
            "[{\"name\":\"side\",\"image\":\"busybox\"}]}}}}",
            200);
    assert_string_equal(
        fake_item_str(d, "spec.template.spec.containers", 0, "name"), "web");
    assert_string_equal(
        fake_item_str(d, "spec.template.spec.containers", 1, "name"), "side");
    assert_int_equal(mock_json_int(d, "metadata.generation", 0), 2);
    cJSON_Delete(d);
    /* Its replicas are the first manager's. */
    d = req(in, "PATCH", path, "fieldManager=two", APPLY, NULL,
            "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":"
            "{\"name\":\"m\"},\"spec\":{\"replicas\":5,\"template\":{\"spec\":{"
            "\"containers\":[{\"name\":\"side\",\"image\":\"busybox\"}]}}}}",
            409);
    assert_string_equal(mock_json_str(d, "message", ""),
                        "Apply failed with 1 conflict: conflict with \"one\": "
                        ".spec.replicas");
    cJSON_Delete(d);
    /* kubectl scale is an Update: the scale subresource's manager. */
    d = req(in, "PATCH", "/apis/apps/v1/namespaces/shop/deployments/m/scale",
            "fieldManager=kubectl-scale", "application/merge-patch+json", NULL,
            "{\"spec\":{\"replicas\":3}}", 200);
    cJSON_Delete(d);
    d = req(in, "GET", path, NULL, NULL, NULL, NULL, 200);
    const cJSON *e;
    int found = 0;
    cJSON_ArrayForEach(e, fg_json_path(d, "metadata.managedFields"))
    {
        if (strcmp(mock_json_str(e, "manager", ""), "kubectl-scale") == 0) {
            found = 1;
            assert_string_equal(mock_json_str(e, "subresource", ""), "scale");
        }
    }
    assert_true(found);
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

static void test_apply_errors(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    static const char cm[] = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                             "\"metadata\":{\"name\":\"ssa\"}}";
    cJSON *d = req(in, "PATCH", CM_PATH, NULL, APPLY, NULL, cm, 422);
    assert_string_equal(mock_json_str(d, "message", ""),
                        "PatchOptions.meta.k8s.io \"\" is invalid: "
                        "fieldManager: Required value: is required for apply "
                        "patch");
    assert_string_equal(mock_json_str(d, "details.kind", ""), "PatchOptions");
    cJSON_Delete(d);
    d = req(in, "PATCH", CM_PATH, "fieldManager=a", APPLY, NULL, "a: [unclosed",
            400);
    assert_non_null(strstr(mock_json_str(d, "message", ""),
                           "error converting YAML to JSON"));
    cJSON_Delete(d);
    d = req(in, "PATCH", CM_PATH, "fieldManager=a", APPLY, NULL,
            "metadata: {name: ssa}", 400);
    cJSON_Delete(d);
    d = req(in, "PATCH", CM_PATH, "fieldManager=a", APPLY, NULL,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
            "\"name\":\"other\"}}",
            400);
    assert_string_equal(mock_json_str(d, "message", ""),
                        "the name of the object (other) does not match the "
                        "name on the URL (ssa)");
    cJSON_Delete(d);
    d = req(in, "PATCH", CM_PATH, "fieldManager=a&force=maybe", APPLY, NULL, cm,
            400);
    cJSON_Delete(d);
    char q[200];
    memset(q, 'm', sizeof(q));
    memcpy(q, "fieldManager=", 13);
    q[13 + 129] = '\0';
    d = req(in, "PATCH", CM_PATH, q, APPLY, NULL, cm, 422);
    cJSON_Delete(d);
    d = req(in, "PATCH", CM_PATH, "force=true", "application/merge-patch+json",
            NULL, "{}", 422);
    assert_string_equal(mock_json_str(d, "message", ""),
                        "PatchOptions.meta.k8s.io \"\" is invalid: force: "
                        "Forbidden: may not be specified for non-apply patch");
    cJSON_Delete(d);
    /* YAML 1.1 scalars as sigs.k8s.io/yaml reads them. */
    cJSON *v = NULL;
    char err[256];
    static const char y[] = "a: yes\nb: 3\nc: ~\nd: \"3\"\ne: 1.5\nf: x1\n";
    assert_int_equal(mock_apply_parse(y, strlen(y), &v, err, sizeof(err)), 0);
    char *s = print(v);
    assert_string_equal(
        s,
        "{\"a\":true,\"b\":3,\"c\":null,\"d\":\"3\",\"e\":1.5,\"f\":\"x1\"}");
    free(s);
    cJSON_Delete(v);
    assert_int_equal(mock_apply_parse("a: 1\na: 2\n", 10, &v, err, sizeof(err)),
                     -1);
    mock_driver_ops.instance_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fieldset),
        cmocka_unit_test(test_update_entries),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_apply_merge_keys),
        cmocka_unit_test(test_apply_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
