/* Unit tests of the mock's writes (plugins/drivers/mock/write.c and the
 * request body path of plugin.c): create with generateName and its
 * errors, updates with optimistic concurrency, deletes (one object, a
 * namespace with its contents, a collection), the scale subresource, the
 * persisted store, and the fields an update may not change. */
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

/* METHOD PATH?QUERY with BODY of content type CT; returns the parsed
 * answer and checks its status. */
static cJSON *req(void *in, const char *method, const char *path,
                  const char *query, const char *ct, const char *body, int want)
{
    struct fake_client c = {0};
    struct fg_header h[2];
    size_t nh = 0;
    if (ct)
        h[nh++] = (struct fg_header){"content-type", 12, ct, strlen(ct)};
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
    if (body) {
        /* In two pieces, as bodies arrive. */
        size_t n = strlen(body), half = n / 2;
        assert_int_equal(mock_driver_ops.stream_write(s, body, half), 0);
        assert_int_equal(mock_driver_ops.stream_write(s, body + half, n - half),
                         0);
    }
    mock_driver_ops.stream_end(s);
    while (!c.ended && fake_run_one_timer())
        ;
    mock_driver_ops.stream_close(s);
    mock_buf_add(&c.body, "", 0);
    if (c.status != want)
        fail_msg("%s %s: status %d, want %d: %s", method, path, c.status, want,
                 c.body.p);
    cJSON *d = cJSON_Parse(c.body.p);
    if (!d)
        fail_msg("%s %s: not JSON: %s", method, path, c.body.p);
    fake_client_free(&c);
    return d;
}

#define JSON "application/json"

static void expect_message(cJSON *d, const char *reason, const char *msg)
{
    assert_string_equal(mock_json_str(d, "kind", ""), "Status");
    assert_string_equal(mock_json_str(d, "reason", ""), reason);
    assert_string_equal(mock_json_str(d, "message", ""), msg);
    cJSON_Delete(d);
}

static void test_create(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    cJSON *d = req(in, "POST", "/api/v1/namespaces", NULL, JSON,
                   "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                   "\"metadata\":{\"name\":\"team-a\"}}",
                   201);
    assert_string_equal(mock_json_str(d, "status.phase", ""), "Active");
    const cJSON *labels = fg_json_path(d, "metadata.labels");
    assert_string_equal(
        cJSON_GetObjectItem(labels, "kubernetes.io/metadata.name")->valuestring,
        "team-a");
    const char *uid = mock_json_str(d, "metadata.uid", "");
    assert_int_equal(strlen(uid), 36);
    assert_int_equal(uid[14], '4');
    assert_string_equal(mock_json_str(d, "metadata.creationTimestamp", ""),
                        "2026-11-25T00:00:00Z");
    assert_non_null(mock_json_str(d, "metadata.resourceVersion", NULL));
    cJSON_Delete(d);

    /* generateName, and kind and apiVersion filled in from the URL. */
    d = req(in, "POST", "/api/v1/namespaces/team-a/configmaps", NULL, NULL,
            "{\"metadata\":{\"generateName\":\"cfg-\"},\"data\":{\"a\":\"1\"}}",
            201);
    const char *name = mock_json_str(d, "metadata.name", "");
    assert_int_equal(strlen(name), 9);
    assert_memory_equal(name, "cfg-", 4);
    assert_string_equal(mock_json_str(d, "kind", ""), "ConfigMap");
    assert_string_equal(mock_json_str(d, "apiVersion", ""), "v1");
    assert_null(fg_json_path(d, "metadata.generation"));
    cJSON_Delete(d);

    d = req(in, "POST", "/apis/apps/v1/namespaces/team-a/deployments", NULL,
            JSON,
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
            "\"matchLabels\":{\"app\":\"web\"}},\"template\":{}},\"status\":{"
            "\"replicas\":9}}",
            201);
    assert_int_equal(mock_json_int(d, "metadata.generation", 0), 1);
    assert_int_equal(mock_json_int(d, "spec.replicas", 0), 1);
    assert_null(fg_json_path(d, "status.replicas"));
    cJSON_Delete(d);

    expect_message(req(in, "POST",
                       "/apis/apps/v1/namespaces/team-a/"
                       "deployments",
                       NULL, JSON, "{\"metadata\":{\"name\":\"web\"}}", 409),
                   "AlreadyExists", "deployments.apps \"web\" already exists");
    expect_message(req(in, "POST", "/api/v1/namespaces/nope/configmaps", NULL,
                       JSON, "{\"metadata\":{\"name\":\"x\"}}", 404),
                   "NotFound", "namespaces \"nope\" not found");
    d = req(in, "POST", "/api/v1/namespaces/team-a/configmaps", NULL, JSON,
            "{\"metadata\":{\"name\":\"Bad_Name\"}}", 422);
    assert_string_equal(mock_json_str(d, "reason", ""), "Invalid");
    assert_non_null(strstr(mock_json_str(d, "message", ""),
                           "ConfigMap \"Bad_Name\" is invalid: metadata.name: "
                           "Invalid value: \"Bad_Name\": a lowercase RFC 1123 "
                           "subdomain"));
    assert_string_equal(mock_json_str(d, "details.kind", ""), "ConfigMap");
    cJSON_Delete(d);
    expect_message(
        req(in, "POST", "/api/v1/namespaces/team-a/configmaps", NULL, JSON,
            "{\"metadata\":{}}", 422),
        "Invalid",
        "ConfigMap \"\" is invalid: metadata.name: Required value: name or "
        "generateName is required");
    expect_message(
        req(in, "POST", "/api/v1/namespaces", NULL, JSON,
            "{\"metadata\":{\"name\":\"a.b\"}}", 422),
        "Invalid",
        "Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": "
        "a lowercase RFC 1123 label must consist of lower case alphanumeric "
        "characters or '-', and must start and end with an alphanumeric "
        "character (e.g. 'my-name',  or '123-abc', regex used for validation "
        "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
    expect_message(
        req(in, "POST", "/api/v1/namespaces/team-a/configmaps", NULL, JSON,
            "{\"metadata\":{\"name\":\"x\",\"namespace\":\"shop\"}}", 400),
        "BadRequest",
        "the namespace of the provided object does not match the "
        "namespace sent on the request");
    expect_message(req(in, "POST", "/api/v1/namespaces/team-a/configmaps", NULL,
                       JSON,
                       "{\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":"
                       "\"x\"}}",
                       400),
                   "BadRequest",
                   "the API version in the data (apps/v1) does not match the "
                   "expected API version (v1)");
    d = req(in, "POST", "/api/v1/namespaces/team-a/configmaps", NULL, JSON,
            "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"x\"}}", 400);
    cJSON_Delete(d);
    d = req(in, "POST", "/api/v1/namespaces/team-a/configmaps", NULL, JSON,
            "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":1}}}", 400);
    cJSON_Delete(d);
    d = req(in, "POST", "/api/v1/namespaces/team-a/configmaps", NULL, JSON,
            "{not json", 400);
    cJSON_Delete(d);
    d = req(in, "POST", "/api/v1/namespaces/team-a/configmaps", NULL,
            "application/yaml", "metadata: {}", 415);
    cJSON_Delete(d);

    /* A dry run answers without storing. */
    d = req(in, "POST", "/api/v1/namespaces/team-a/configmaps", "dryRun=All",
            JSON, "{\"metadata\":{\"name\":\"dry\"}}", 201);
    cJSON_Delete(d);
    d = req(in, "GET", "/api/v1/namespaces/team-a/configmaps/dry", NULL, NULL,
            NULL, 404);
    cJSON_Delete(d);

    /* Secrets fold stringData into data. */
    d = req(in, "POST", "/api/v1/namespaces/team-a/secrets", NULL, JSON,
            "{\"metadata\":{\"name\":\"s\"},\"stringData\":{\"pw\":"
            "\"hunter2\"}}",
            201);
    assert_string_equal(mock_json_str(d, "data.pw", ""), "aHVudGVyMg==");
    assert_string_equal(mock_json_str(d, "type", ""), "Opaque");
    assert_null(fg_json_path(d, "stringData"));
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

static void test_update(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    cJSON *d = req(in, "GET", "/apis/apps/v1/namespaces/shop/deployments/cart",
                   NULL, NULL, NULL, 200);
    char rv[32], uid[64], created[40];
    snprintf(rv, sizeof(rv), "%s",
             mock_json_str(d, "metadata.resourceVersion", ""));
    snprintf(uid, sizeof(uid), "%s", mock_json_str(d, "metadata.uid", ""));
    snprintf(created, sizeof(created), "%s",
             mock_json_str(d, "metadata.creationTimestamp", ""));
    int64_t gen = mock_json_int(d, "metadata.generation", 0);
    int64_t ready = mock_json_int(d, "status.readyReplicas", -1);

    /* Same content: no write, the resourceVersion stays. */
    char *text = cJSON_PrintUnformatted(d);
    cJSON *same = req(in, "PUT",
                      "/apis/apps/v1/namespaces/shop/deployments/"
                      "cart",
                      NULL, JSON, text, 200);
    free(text);
    assert_string_equal(mock_json_str(same, "metadata.resourceVersion", ""),
                        rv);
    cJSON_Delete(same);

    /* A spec change bumps generation; status, uid and creation time are
     * the server's. */
    cJSON *spec = cJSON_GetObjectItem(d, "spec");
    cJSON_ReplaceItemInObject(spec, "replicas", cJSON_CreateNumber(7));
    cJSON *meta = cJSON_GetObjectItem(d, "metadata");
    cJSON_DeleteItemFromObject(meta, "uid");
    cJSON_ReplaceItemInObject(meta, "creationTimestamp",
                              cJSON_CreateString("2000-01-01T00:00:00Z"));
    cJSON_DeleteItemFromObject(d, "status");
    text = cJSON_PrintUnformatted(d);
    cJSON *up = req(in, "PUT", "/apis/apps/v1/namespaces/shop/deployments/cart",
                    NULL, JSON, text, 200);
    assert_int_equal(mock_json_int(up, "spec.replicas", 0), 7);
    assert_int_equal(mock_json_int(up, "metadata.generation", 0), gen + 1);
    assert_int_equal(mock_json_int(up, "status.readyReplicas", -1), ready);
    assert_string_equal(mock_json_str(up, "metadata.uid", ""), uid);
    assert_string_equal(mock_json_str(up, "metadata.creationTimestamp", ""),
                        created);
    assert_string_not_equal(mock_json_str(up, "metadata.resourceVersion", ""),
                            rv);
    cJSON_Delete(up);

    /* The same body again carries a stale resourceVersion now. */
    expect_message(req(in, "PUT",
                       "/apis/apps/v1/namespaces/shop/deployments/cart", NULL,
                       JSON, text, 409),
                   "Conflict",
                   "Operation cannot be fulfilled on deployments.apps "
                   "\"cart\": the object has been modified; please apply "
                   "your changes to the latest version and try again");
    free(text);
    cJSON_Delete(d);

    expect_message(req(in, "PUT", "/api/v1/namespaces/shop/configmaps/nope",
                       NULL, JSON, "{\"metadata\":{\"name\":\"nope\"}}", 404),
                   "NotFound", "configmaps \"nope\" not found");
    expect_message(req(in, "PUT", "/api/v1/namespaces/shop/pods/redis-0", NULL,
                       JSON, "{\"metadata\":{\"name\":\"other\"}}", 400),
                   "BadRequest",
                   "the name of the object (other) does not match the name "
                   "on the URL (redis-0)");
    d = req(in, "PUT", "/api/v1/namespaces/shop/pods/redis-0", NULL, JSON,
            "{\"metadata\":{\"name\":\"redis-0\",\"uid\":\"x\"}}", 422);
    cJSON_Delete(d);

    /* Patches: label by merge patch, a stale resourceVersion, 415. */
    d = req(in, "PATCH", "/api/v1/namespaces/shop/pods/redis-0", NULL,
            "application/merge-patch+json",
            "{\"metadata\":{\"labels\":{\"tier\":\"cache\"}}}", 200);
    assert_string_equal(mock_json_str(d, "metadata.labels.tier", ""), "cache");
    assert_string_equal(mock_json_str(d, "status.phase", ""), "Running");
    cJSON_Delete(d);
    d = req(in, "PATCH", "/api/v1/namespaces/shop/pods/redis-0", NULL,
            "application/merge-patch+json",
            "{\"metadata\":{\"resourceVersion\":\"1\"}}", 409);
    cJSON_Delete(d);
    d = req(in, "PATCH", "/api/v1/namespaces/shop/pods/redis-0", NULL,
            "application/strategic-merge-patch+json",
            "{\"metadata\":{\"name\":\"x\"}}", 400);
    cJSON_Delete(d);
    d = req(in, "PATCH", "/api/v1/namespaces/shop/pods/redis-0", NULL, JSON,
            "{}", 415);
    cJSON_Delete(d);
    d = req(in, "PATCH", "/api/v1/namespaces/shop/pods/redis-0", NULL,
            "application/json-patch+json",
            "[{\"op\":\"test\",\"path\":\"/kind\",\"value\":\"Node\"}]", 422);
    cJSON_Delete(d);

    /* The status subresource changes status only. */
    d = req(in, "PUT", "/api/v1/namespaces/shop/pods/redis-0/status", NULL,
            JSON,
            "{\"metadata\":{\"name\":\"redis-0\",\"labels\":{}},\"status\":{"
            "\"phase\":\"Failed\"}}",
            200);
    assert_string_equal(mock_json_str(d, "status.phase", ""), "Failed");
    assert_string_equal(mock_json_str(d, "metadata.labels.tier", ""), "cache");
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

static void test_scale(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    cJSON *d = req(in, "GET",
                   "/apis/apps/v1/namespaces/shop/deployments/frontend/scale",
                   NULL, NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "Scale");
    assert_string_equal(mock_json_str(d, "apiVersion", ""), "autoscaling/v1");
    assert_non_null(mock_json_str(d, "status.selector", NULL));
    char rv[32];
    snprintf(rv, sizeof(rv), "%s",
             mock_json_str(d, "metadata.resourceVersion", ""));
    cJSON_Delete(d);
    /* kubectl scale: a merge patch of the Scale. */
    d = req(in, "PATCH",
            "/apis/apps/v1/namespaces/shop/deployments/frontend/scale", NULL,
            "application/merge-patch+json", "{\"spec\":{\"replicas\":5}}", 200);
    assert_int_equal(mock_json_int(d, "spec.replicas", 0), 5);
    cJSON_Delete(d);
    d = req(in, "GET", "/apis/apps/v1/namespaces/shop/deployments/frontend",
            NULL, NULL, NULL, 200);
    assert_int_equal(mock_json_int(d, "spec.replicas", 0), 5);
    cJSON_Delete(d);
    char body[160];
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"name\":\"frontend\",\"resourceVersion\":\"%s\"},"
             "\"spec\":{\"replicas\":1}}",
             rv);
    d = req(in, "PUT",
            "/apis/apps/v1/namespaces/shop/deployments/frontend/"
            "scale",
            NULL, JSON, body, 409);
    cJSON_Delete(d);
    d = req(in, "PATCH",
            "/apis/apps/v1/namespaces/shop/deployments/frontend/scale", NULL,
            "application/merge-patch+json", "{\"spec\":{\"replicas\":-1}}",
            422);
    cJSON_Delete(d);
    d = req(in, "GET", "/apis/apps/v1/namespaces/shop/daemonsets/x/scale", NULL,
            NULL, NULL, 404);
    cJSON_Delete(d);

    /* Discovery lists the subresources. */
    d = req(in, "GET", "/apis/apps/v1", NULL, NULL, NULL, 200);
    int found = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(d, "resources"))
    {
        if (strcmp(mock_json_str(r, "name", ""), "deployments/scale") == 0) {
            found = 1;
            assert_string_equal(mock_json_str(r, "group", ""), "autoscaling");
            assert_string_equal(mock_json_str(r, "kind", ""), "Scale");
        }
    }
    assert_true(found);
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

static void test_delete(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    struct mock_instance *mi = in;
    const struct mock_kind *cm = mock_kind_by_resource("", "v1", "configmaps");
    const struct mock_kind *pods = mock_kind_by_resource("", "v1", "pods");
    const struct mock_kind *nsk = mock_kind_by_resource("", "v1", "namespaces");
    assert_non_null(mock_store_get(mi->store, cm, "shop", "kube-root-ca.crt"));

    cJSON *d = req(in, "DELETE",
                   "/api/v1/namespaces/shop/configmaps/"
                   "kube-root-ca.crt",
                   NULL, JSON,
                   "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                   "\"propagationPolicy\":\"Background\"}",
                   200);
    assert_string_equal(mock_json_str(d, "status", ""), "Success");
    assert_string_equal(mock_json_str(d, "details.kind", ""), "configmaps");
    assert_non_null(mock_json_str(d, "details.uid", NULL));
    cJSON_Delete(d);
    assert_null(mock_store_get(mi->store, cm, "shop", "kube-root-ca.crt"));

    d = req(in, "DELETE", "/api/v1/namespaces/shop/pods/redis-0", NULL, JSON,
            "{\"preconditions\":{\"uid\":\"wrong\"}}", 409);
    cJSON_Delete(d);
    /* A pod is Terminating for its grace (30 s by default), removed after
     * at most pod_termination (1 s here). */
    uint64_t before = mi->store->rv;
    d = req(in, "DELETE", "/api/v1/namespaces/shop/pods/redis-0", NULL, NULL,
            NULL, 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "Pod");
    assert_string_equal(mock_json_str(d, "metadata.deletionTimestamp", ""),
                        "2026-11-25T00:00:30Z");
    assert_int_equal(mock_json_int(d, "metadata.deletionGracePeriodSeconds", 0),
                     30);
    assert_int_equal(mi->store->rv, before + 1);
    cJSON_Delete(d);
    d = req(in, "DELETE", "/api/v1/namespaces/shop/pods/redis-0", NULL, NULL,
            NULL, 200);
    assert_int_equal(mi->store->rv, before + 1);
    cJSON_Delete(d);
    fake_now_ms += 999;
    assert_true(fake_run_one_timer());
    assert_non_null(mock_store_get(mi->store, pods, "shop", "redis-0"));
    fake_now_ms += 1;
    assert_true(fake_run_one_timer());
    assert_null(mock_store_get(mi->store, pods, "shop", "redis-0"));
    assert_int_equal(mi->store->rv, before + 2);
    fake_now_ms = FAKE_NOW_MS;
    d = req(in, "DELETE", "/api/v1/namespaces/shop/pods/redis-0", NULL, NULL,
            NULL, 404);
    cJSON_Delete(d);
    /* gracePeriodSeconds=0: at once. */
    const char *other = mock_store_bucket(mi->store, pods)->v[0]->name;
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s",
             mock_store_bucket(mi->store, pods)->v[0]->ns, other);
    d = req(in, "DELETE", path, "gracePeriodSeconds=0", NULL, NULL, 200);
    assert_null(fg_json_path(d, "metadata.deletionTimestamp"));
    cJSON_Delete(d);
    d = req(in, "DELETE", path, NULL, NULL, NULL, 404);
    cJSON_Delete(d);

    /* Finalizers hold an object, marked, until an update removes them. */
    d = req(in, "POST", "/api/v1/namespaces/shop/configmaps", NULL, JSON,
            "{\"metadata\":{\"name\":\"held\",\"finalizers\":[\"x/y\"]}}", 201);
    cJSON_Delete(d);
    d = req(in, "DELETE", "/api/v1/namespaces/shop/configmaps/held", NULL, NULL,
            NULL, 200);
    assert_string_equal(mock_json_str(d, "metadata.deletionTimestamp", ""),
                        "2026-11-25T00:00:00Z");
    cJSON_Delete(d);
    d = req(in, "PATCH", "/api/v1/namespaces/shop/configmaps/held", NULL,
            "application/merge-patch+json", "{\"data\":{\"a\":\"b\"}}", 200);
    assert_string_equal(mock_json_str(d, "metadata.deletionTimestamp", ""),
                        "2026-11-25T00:00:00Z");
    cJSON_Delete(d);
    assert_non_null(mock_store_get(mi->store, cm, "shop", "held"));
    d = req(in, "PATCH", "/api/v1/namespaces/shop/configmaps/held", NULL,
            "application/merge-patch+json",
            "{\"metadata\":{\"finalizers\":null}}", 200);
    cJSON_Delete(d);
    assert_null(mock_store_get(mi->store, cm, "shop", "held"));

    /* deletecollection with a label selector. */
    size_t n_pods = mock_store_bucket(mi->store, pods)->n;
    d = req(in, "DELETE", "/api/v1/namespaces/shop/pods",
            "labelSelector=app%3Dnot-there", NULL, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "items")), 0);
    cJSON_Delete(d);
    assert_int_equal(mock_store_bucket(mi->store, pods)->n, n_pods);

    /* A namespace takes everything in it along. */
    d = req(in, "DELETE", "/api/v1/namespaces/shop", NULL, NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "status.phase", ""), "Terminating");
    assert_non_null(mock_json_str(d, "metadata.deletionTimestamp", NULL));
    cJSON_Delete(d);
    assert_null(mock_store_get(mi->store, nsk, "", "shop"));
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        const struct mock_bucket *b = mock_store_bucket(mi->store, k);
        for (size_t j = 0; j < b->n; j++)
            assert_string_not_equal(b->v[j]->ns, "shop");
    }
    expect_message(
        req(in, "DELETE", "/api/v1/namespaces/default", NULL, NULL, NULL, 403),
        "Forbidden",
        "namespaces \"default\" is forbidden: this namespace may "
        "not be deleted");
    d = req(in, "DELETE", "/api/v1/namespaces", NULL, NULL, NULL, 405);
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

/* What `kubectl apply` of packaging/kubernetes/host sends for its
 * ServiceAccount: a server-side dry run stores nothing, a create does, and
 * a strategic merge patch adds to secrets (merged by name) instead of
 * replacing them. */
static void test_serviceaccount(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    const char *sa = "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
                     "\"metadata\":{\"name\":\"fedgate\"},"
                     "\"automountServiceAccountToken\":false,"
                     "\"secrets\":[{\"name\":\"a\"}]}";
    cJSON *d = req(in, "POST", "/api/v1/namespaces/shop/serviceaccounts",
                   "dryRun=All&fieldValidation=Strict", JSON, sa, 201);
    assert_string_equal(mock_json_str(d, "kind", ""), "ServiceAccount");
    cJSON_Delete(d);
    d = req(in, "GET", "/api/v1/namespaces/shop/serviceaccounts/fedgate", NULL,
            NULL, NULL, 404);
    cJSON_Delete(d);

    d = req(in, "POST", "/api/v1/namespaces/shop/serviceaccounts",
            "fieldValidation=Strict", JSON, sa, 201);
    cJSON_Delete(d);
    d = req(in, "PATCH", "/api/v1/namespaces/shop/serviceaccounts/fedgate",
            NULL, "application/strategic-merge-patch+json",
            "{\"secrets\":[{\"name\":\"b\"}]}", 200);
    assert_string_equal(fake_item_str(d, "secrets", 0, "name"), "a");
    assert_string_equal(fake_item_str(d, "secrets", 1, "name"), "b");
    cJSON_Delete(d);
    d = req(in, "GET", "/api/v1/namespaces/shop/serviceaccounts/fedgate", NULL,
            NULL, NULL, 200);
    assert_true(cJSON_IsFalse(fg_json_path(d, "automountServiceAccountToken")));
    cJSON_Delete(d);
    d = req(in, "GET", "/api/v1/serviceaccounts", NULL, NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "ServiceAccountList");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "items")), 1);
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

/* A store saved and loaded again keeps objects and resourceVersions. */
static void test_persist(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    struct mock_instance *mi = in;
    cJSON *d = req(in, "POST", "/api/v1/namespaces/shop/configmaps", NULL, JSON,
                   "{\"metadata\":{\"name\":\"kept\"}}", 201);
    cJSON_Delete(d);
    char path[] = "/tmp/fedgate-mock-persist-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[512];
    assert_int_equal(mock_persist_save(mi->store, path, err, sizeof(err)), 0);
    struct mock_store *s =
        mock_persist_load(path, (int64_t)FAKE_NOW_MS, err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    assert_int_equal(s->rv, mi->store->rv);
    const struct mock_kind *cm = mock_kind_by_resource("", "v1", "configmaps");
    const struct mock_obj *a = mock_store_get(mi->store, cm, "shop", "kept");
    const struct mock_obj *b = mock_store_get(s, cm, "shop", "kept");
    assert_non_null(b);
    assert_int_equal(a->rv, b->rv);
    assert_int_equal(a->doc->len, b->doc->len);
    assert_memory_equal(a->doc->json, b->doc->json, a->doc->len);
    mock_store_free(s);
    unlink(path);
    mock_driver_ops.instance_free(in);
}

/* Services get a free address of 10.96.0.0/12, keep it, and cannot take
 * one in use or change it; headless stays None. */
static void test_cluster_ip(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    static const char path[] = "/api/v1/namespaces/shop/services";
    char seen[8][20];
    for (int i = 0; i < 8; i++) {
        char body[160];
        snprintf(body, sizeof(body),
                 "{\"metadata\":{\"name\":\"s%d\"},\"spec\":{\"ports\":"
                 "[{\"port\":80}]}}",
                 i);
        cJSON *d = req(in, "POST", path, NULL, JSON, body, 201);
        const char *ip = mock_json_str(d, "spec.clusterIP", "");
        assert_true(strncmp(ip, "10.", 3) == 0);
        int a, b, c, e;
        assert_int_equal(sscanf(ip, "%d.%d.%d.%d", &a, &b, &c, &e), 4);
        assert_true(b >= 96 && b <= 111);
        assert_string_equal(
            cJSON_GetArrayItem(fg_json_path(d, "spec.clusterIPs"), 0)
                ->valuestring,
            ip);
        assert_string_equal(mock_json_str(d, "spec.ipFamilyPolicy", ""),
                            "SingleStack");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[j], ip);
        snprintf(seen[i], sizeof(seen[i]), "%s", ip);
        cJSON_Delete(d);
    }
    char body[200];
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"name\":\"dup\"},\"spec\":{\"clusterIP\":"
             "\"%s\"}}",
             seen[0]);
    cJSON *d = req(in, "POST", path, NULL, JSON, body, 422);
    assert_non_null(strstr(mock_json_str(d, "message", ""),
                           "provided IP is already allocated"));
    cJSON_Delete(d);
    d = req(in, "POST", path, NULL, JSON,
            "{\"metadata\":{\"name\":\"out\"},\"spec\":{\"clusterIP\":"
            "\"192.168.0.1\"}}",
            422);
    assert_non_null(strstr(mock_json_str(d, "message", ""),
                           "The range of valid IPs is 10.96.0.0/12"));
    cJSON_Delete(d);
    d = req(in, "POST", path, NULL, JSON,
            "{\"metadata\":{\"name\":\"mine\"},\"spec\":{\"clusterIP\":"
            "\"10.96.200.7\"}}",
            201);
    assert_string_equal(mock_json_str(d, "spec.clusterIP", ""), "10.96.200.7");
    cJSON_Delete(d);
    d = req(in, "POST", path, NULL, JSON,
            "{\"metadata\":{\"name\":\"hl\"},\"spec\":{\"clusterIP\":"
            "\"None\"}}",
            201);
    assert_string_equal(mock_json_str(d, "spec.clusterIP", ""), "None");
    cJSON_Delete(d);
    /* An update without it keeps it; one that changes it is refused. */
    d = req(in, "PUT", "/api/v1/namespaces/shop/services/mine", NULL, JSON,
            "{\"metadata\":{\"name\":\"mine\"},\"spec\":{\"ports\":"
            "[{\"port\":81}]}}",
            200);
    assert_string_equal(mock_json_str(d, "spec.clusterIP", ""), "10.96.200.7");
    cJSON_Delete(d);
    d = req(in, "PUT", "/api/v1/namespaces/shop/services/mine", NULL, JSON,
            "{\"metadata\":{\"name\":\"mine\"},\"spec\":{\"clusterIP\":"
            "\"10.96.200.8\"}}",
            422);
    assert_non_null(
        strstr(mock_json_str(d, "message", ""), "may not change once set"));
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

#define MERGE "application/merge-patch+json"

/* A merge patch BODY of the object at PATH must be refused with MESSAGE
 * and causes at FIELDS (a NULL-terminated list), and leaves it as it was. */
static void refused(void *in, const char *path, const char *body,
                    const char *message, const char *const *fields)
{
    cJSON *before = req(in, "GET", path, NULL, NULL, NULL, 200);
    cJSON *d = req(in, "PATCH", path, NULL, MERGE, body, 422);
    assert_string_equal(mock_json_str(d, "reason", ""), "Invalid");
    assert_int_equal(mock_json_int(d, "code", 0), 422);
    const cJSON *causes = fg_json_path(d, "details.causes");
    int n = 0;
    while (fields[n]) {
        assert_string_equal(fake_item_str(d, "details.causes", n, "field"),
                            fields[n]);
        n++;
    }
    assert_int_equal(cJSON_GetArraySize(causes), n);
    expect_message(d, "Invalid", message);
    cJSON *after = req(in, "GET", path, NULL, NULL, NULL, 200);
    assert_true(cJSON_Compare(before, after, 1));
    cJSON_Delete(before);
    cJSON_Delete(after);
}

static void accepted(void *in, const char *path, const char *body)
{
    cJSON_Delete(req(in, "PATCH", path, NULL, MERGE, body, 200));
}

/* Fields kube-apiserver's validation keeps as they were: every workload's
 * selector, a StatefulSet's spec beyond what it lets change, a Job's
 * selector and template, a Secret's type, and an immutable ConfigMap's or
 * Secret's contents (and its immutable flag); the fields beside them still
 * change. */
static void test_immutable(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    static const char pod[] =
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"a\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}";
    static const char *const workloads[][2] = {
        {"deployments", "Deployment"},
        {"replicasets", "ReplicaSet"},
        {"daemonsets", "DaemonSet"},
    };
    static const char *const selector[] = {"spec.selector", NULL};
    char path[160], body[600], msg[600];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "/apis/apps/v1/namespaces/shop/%s",
                 workloads[i][0]);
        snprintf(body, sizeof(body),
                 "{\"metadata\":{\"name\":\"w\"},\"spec\":{\"selector\":"
                 "{\"matchLabels\":{\"app\":\"a\"}},%s}}",
                 pod);
        cJSON_Delete(req(in, "POST", path, NULL, JSON, body, 201));
        strcat(path, "/w");
        snprintf(msg, sizeof(msg),
                 "%s.apps \"w\" is invalid: spec.selector: Invalid value: "
                 "v1.LabelSelector{MatchLabels:map[string]string{\"app\":"
                 "\"a\", \"b\":\"c\"}, MatchExpressions:[]v1."
                 "LabelSelectorRequirement(nil)}: field is immutable",
                 workloads[i][1]);
        refused(in, path,
                "{\"spec\":{\"selector\":{\"matchLabels\":{\"b\":\"c\"}}}}",
                msg, selector);
        snprintf(msg, sizeof(msg),
                 "%s.apps \"w\" is invalid: spec.selector: Invalid value: "
                 "v1.LabelSelector{MatchLabels:map[string]string(nil), "
                 "MatchExpressions:[]v1.LabelSelectorRequirement{v1."
                 "LabelSelectorRequirement{Key:\"app\", Operator:\"In\", "
                 "Values:[]string{\"a\", \"b\"}}}}: field is immutable",
                 workloads[i][1]);
        refused(in, path,
                "{\"spec\":{\"selector\":{\"matchLabels\":null,"
                "\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\","
                "\"values\":[\"a\",\"b\"]}]}}}",
                msg, selector);
        accepted(in, path, "{\"spec\":{\"minReadySeconds\":5}}");
    }

    snprintf(body, sizeof(body),
             "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"serviceName\":\"s\","
             "\"selector\":{\"matchLabels\":{\"app\":\"a\"}},%s}}",
             pod);
    cJSON_Delete(req(in, "POST", "/apis/apps/v1/namespaces/shop/statefulsets",
                     NULL, JSON, body, 201));
    static const char sts[] = "/apis/apps/v1/namespaces/shop/statefulsets/s";
    static const char *const spec[] = {"spec", NULL};
    static const char forbidden_sts[] =
        "StatefulSet.apps \"s\" is invalid: spec: Forbidden: updates to "
        "statefulset spec for fields other than 'replicas', 'ordinals', "
        "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
        "and 'minReadySeconds' are forbidden";
    refused(in, sts, "{\"spec\":{\"serviceName\":\"t\"}}", forbidden_sts, spec);
    refused(in, sts,
            "{\"spec\":{\"selector\":{\"matchLabels\":{\"b\":\"c\"}}}}",
            forbidden_sts, spec);
    accepted(in, sts, "{\"spec\":{\"replicas\":3,\"minReadySeconds\":2}}");

    snprintf(body, sizeof(body),
             "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"selector\":"
             "{\"matchLabels\":{\"app\":\"a\"}},%s}}",
             pod);
    cJSON_Delete(req(in, "POST", "/apis/batch/v1/namespaces/shop/jobs", NULL,
                     JSON, body, 201));
    static const char job[] = "/apis/batch/v1/namespaces/shop/jobs/j";
    cJSON *d = req(in, "PATCH", job, NULL, MERGE,
                   "{\"spec\":{\"selector\":{\"matchLabels\":{\"b\":\"c\"}},"
                   "\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                   "\"image\":\"j\"}]}}}}",
                   422);
    assert_string_equal(fake_item_str(d, "details.causes", 0, "field"),
                        "spec.selector");
    assert_string_equal(fake_item_str(d, "details.causes", 1, "field"),
                        "spec.template");
    const char *m = mock_json_str(d, "message", "");
    assert_true(
        strncmp(m, "Job.batch \"j\" is invalid: [spec.selector: ", 42) == 0);
    assert_non_null(strstr(m, ", spec.template: Invalid value: {"));
    assert_non_null(strstr(m, "\"image\":\"j\""));
    assert_non_null(strstr(m, "}: field is immutable]"));
    cJSON_Delete(d);
    accepted(in, job, "{\"spec\":{\"parallelism\":2}}");

    /* ConfigMaps and Secrets: free until marked immutable, then frozen */
    static const char *const objs[][3] = {
        {"configmaps", "ConfigMap", "{\"data\":{\"k\":\"v\"}}"},
        {"secrets", "Secret", "{\"stringData\":{\"k\":\"v\"}}"},
    };
    static const char frozen[] =
        "Forbidden: field is immutable when `immutable` is set";
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "/api/v1/namespaces/shop/%s", objs[i][0]);
        cJSON_Delete(req(in, "POST", path, NULL, JSON,
                         "{\"metadata\":{\"name\":\"c\"}}", 201));
        strcat(path, "/c");
        accepted(in, path, objs[i][2]);
        accepted(in, path, "{\"immutable\":true}");
        snprintf(msg, sizeof(msg), "%s \"c\" is invalid: data: %s", objs[i][1],
                 frozen);
        static const char *const data[] = {"data", NULL};
        refused(in, path, "{\"data\":{\"k\":\"dw==\"}}", msg, data);
        refused(in, path, "{\"data\":null}", msg, data);
        snprintf(msg, sizeof(msg),
                 "%s \"c\" is invalid: [immutable: %s, data: %s]", objs[i][1],
                 frozen, frozen);
        static const char *const flag_data[] = {"immutable", "data", NULL};
        refused(in, path, "{\"immutable\":false,\"data\":{\"k\":\"dw==\"}}",
                msg, flag_data);
        accepted(in, path, "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}");
    }
    static const char *const bin[] = {"binaryData", NULL};
    snprintf(msg, sizeof(msg), "ConfigMap \"c\" is invalid: binaryData: %s",
             frozen);
    refused(in, "/api/v1/namespaces/shop/configmaps/c",
            "{\"binaryData\":{\"b\":\"AA==\"}}", msg, bin);
    static const char secret[] = "/api/v1/namespaces/shop/secrets/c";
    static const char *const data[] = {"data", NULL};
    snprintf(msg, sizeof(msg), "Secret \"c\" is invalid: data: %s", frozen);
    refused(in, secret, "{\"stringData\":{\"k\":\"w\"}}", msg, data);
    /* the same value through stringData changes nothing */
    accepted(in, secret, "{\"stringData\":{\"k\":\"v\"}}");
    static const char *const type[] = {"type", NULL};
    refused(in, secret, "{\"type\":\"kubernetes.io/tls\"}",
            "Secret \"c\" is invalid: type: Invalid value: "
            "\"kubernetes.io/tls\": field is immutable",
            type);
    mock_driver_ops.instance_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_persist),
        cmocka_unit_test(test_serviceaccount),
        cmocka_unit_test(test_cluster_ip),
        cmocka_unit_test(test_immutable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
