/* Unit tests of the mock driver's answers (plugins/drivers/mock/serve.c,
 * route.c, discovery.c, table.c, status.c, plugin.c): discovery documents,
 * lists, gets, Tables and the Status documents kube-apiserver would send,
 * and the routes read from the core's request info. */
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

static char demo_path[1024];

#define TABLE_ACCEPT                                                           \
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;"  \
    "v=v1beta1;g=meta.k8s.io,application/json"

static cJSON *get_json(void *in, const char *path, const char *query,
                       const char *accept, int want_status)
{
    struct fake_client c = {0};
    fake_request(in, "GET", path, query, accept, &c);
    if (c.status != want_status)
        fail_msg("GET %s: status %d, want %d: %s", path, c.status, want_status,
                 c.body.p);
    assert_int_equal(c.ended, 1);
    assert_int_equal(c.error_code, 0);
    cJSON *doc = cJSON_Parse(c.body.p);
    if (!doc)
        fail_msg("GET %s: not JSON: %s", path, c.body.p);
    fake_client_free(&c);
    return doc;
}

static const cJSON *find_by(const cJSON *arr, const char *key,
                            const char *value)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (strcmp(mock_json_str(e, key, ""), value) == 0)
            return e;
    }
    return NULL;
}

static void test_version(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    cJSON *d = get_json(in, "/version", NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "gitVersion", ""), "v1.32.0");
    assert_string_equal(mock_json_str(d, "major", ""), "1");
    assert_string_equal(mock_json_str(d, "minor", ""), "32");
    assert_string_equal(mock_json_str(d, "platform", ""), "linux/amd64");
    assert_non_null(mock_json_str(d, "goVersion", NULL));
    cJSON_Delete(d);
    struct fg_member_health h;
    mock_driver_ops.health(in, &h);
    assert_int_equal(h.ready, 1);
    assert_string_equal(h.version, "v1.32.0");
    mock_driver_ops.instance_free(in);

    in = fake_demo_instance("v1.31.4-eks.1");
    d = get_json(in, "/version", NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "minor", ""), "31");
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

static void test_instance_errors(void **state)
{
    (void)state;
    struct fake_section fs;
    char err[512];
    fake_section_init(&fs, NULL, NULL);
    assert_null(
        mock_driver_ops.instance_new(&fake_host, &fs.s, err, sizeof(err)));
    assert_string_equal(err, "seed is required");
    snprintf(demo_path, sizeof(demo_path), "%s/conf.d/seeds/demo.json",
             FG_TEST_SOURCE_DIR);
    fake_section_init(&fs, demo_path, "1.32");
    assert_null(
        mock_driver_ops.instance_new(&fake_host, &fs.s, err, sizeof(err)));
    assert_non_null(strstr(err, "version \"1.32\""));
    fake_section_init(&fs, "/nonexistent.json", NULL);
    assert_null(
        mock_driver_ops.instance_new(&fake_host, &fs.s, err, sizeof(err)));
    assert_string_equal(err,
                        "seed /nonexistent.json: No such file or directory");
}

static void test_discovery(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    const char *aggregated =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as="
        "APIGroupDiscoveryList,application/json";
    /* Aggregated discovery when the client asks for it first, as
     * kube-apiserver 1.30+ answers client-go and kubectl. */
    struct fake_client c = {0};
    fake_request(in, "GET", "/api", "timeout=32s", aggregated, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.content_type, "application/json;g=apidiscovery.k8s."
                                        "io;v=v2;as=APIGroupDiscoveryList");
    cJSON *d = cJSON_Parse(c.body.p);
    assert_string_equal(mock_json_str(d, "kind", ""), "APIGroupDiscoveryList");
    assert_string_equal(mock_json_str(d, "apiVersion", ""),
                        "apidiscovery.k8s.io/v2");
    const cJSON *core = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "items"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "items")), 1);
    assert_null(fg_json_path(core, "metadata.name"));
    const cJSON *v1 =
        cJSON_GetArrayItem(cJSON_GetObjectItem(core, "versions"), 0);
    assert_string_equal(mock_json_str(v1, "version", ""), "v1");
    const cJSON *res_i, *pods = NULL;
    cJSON_ArrayForEach(res_i, cJSON_GetObjectItem(v1, "resources"))
    {
        if (strcmp(mock_json_str(res_i, "resource", ""), "pods") == 0)
            pods = res_i;
    }
    assert_non_null(pods);
    assert_string_equal(mock_json_str(pods, "scope", ""), "Namespaced");
    const cJSON *exec =
        cJSON_GetArrayItem(cJSON_GetObjectItem(pods, "subresources"), 1);
    assert_string_equal(mock_json_str(exec, "subresource", ""), "exec");
    assert_string_equal(mock_json_str(exec, "responseKind.kind", ""),
                        "PodExecOptions");
    cJSON_Delete(d);
    fake_client_free(&c);
    /* /apis lists the groups; plain JSON first keeps the legacy form. */
    memset(&c, 0, sizeof(c));
    fake_request(in, "GET", "/apis", NULL,
                 "application/json;g=apidiscovery.k8s.io;v=v2beta1;"
                 "as=APIGroupDiscoveryList",
                 &c);
    d = cJSON_Parse(c.body.p);
    assert_string_equal(mock_json_str(d, "apiVersion", ""),
                        "apidiscovery.k8s.io/v2beta1");
    assert_string_equal(
        mock_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "items"), 0),
                      "metadata.name", ""),
        "apps");
    cJSON_Delete(d);
    fake_client_free(&c);
    memset(&c, 0, sizeof(c));
    fake_request(in, "GET", "/api", NULL,
                 "application/json, application/json;g=apidiscovery.k8s.io;"
                 "v=v2;as=APIGroupDiscoveryList",
                 &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.content_type, "application/json");
    d = cJSON_Parse(c.body.p);
    assert_string_equal(mock_json_str(d, "kind", ""), "APIVersions");
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItem(d, "versions"), 0)->valuestring,
        "v1");
    cJSON_Delete(d);
    fake_client_free(&c);

    d = get_json(in, "/api/v1", NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "APIResourceList");
    assert_string_equal(mock_json_str(d, "groupVersion", ""), "v1");
    const cJSON *res = cJSON_GetObjectItem(d, "resources");
    struct {
        const char *name, *kind, *singular, *shortname;
        int namespaced;
    } want[] = {
        {"pods", "Pod", "pod", "po", 1},
        {"services", "Service", "service", "svc", 1},
        {"configmaps", "ConfigMap", "configmap", "cm", 1},
        {"namespaces", "Namespace", "namespace", "ns", 0},
        {"nodes", "Node", "node", "no", 0},
        {"events", "Event", "event", "ev", 1},
        {"secrets", "Secret", "secret", NULL, 1},
        {"serviceaccounts", "ServiceAccount", "serviceaccount", "sa", 1},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const cJSON *r = find_by(res, "name", want[i].name);
        assert_non_null(r);
        assert_string_equal(mock_json_str(r, "kind", ""), want[i].kind);
        assert_string_equal(mock_json_str(r, "singularName", ""),
                            want[i].singular);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(r, "namespaced")),
                         want[i].namespaced);
        const cJSON *sn = cJSON_GetObjectItem(r, "shortNames");
        if (want[i].shortname)
            assert_string_equal(cJSON_GetArrayItem(sn, 0)->valuestring,
                                want[i].shortname);
        else
            assert_null(sn);
        /* kube-apiserver's order: create, delete, deletecollection, get,
         * list, patch, update, watch (namespaces: no deletecollection). */
        const cJSON *verbs = cJSON_GetObjectItem(r, "verbs");
        assert_string_equal(cJSON_GetArrayItem(verbs, 0)->valuestring,
                            "create");
        assert_string_equal(cJSON_GetArrayItem(verbs, 3)->valuestring,
                            strcmp(want[i].name, "namespaces") == 0 ? "list"
                                                                    : "get");
    }
    /* The pods' subresources with kube-apiserver's kinds and verbs, right
     * after pods, in its order. */
    struct {
        const char *name, *kind, *verbs;
    } subs[] = {
        {"pods/attach", "PodAttachOptions", "[\"create\",\"get\"]"},
        {"pods/exec", "PodExecOptions", "[\"create\",\"get\"]"},
        {"pods/log", "Pod", "[\"get\"]"},
        {"pods/portforward", "PodPortForwardOptions", "[\"create\",\"get\"]"},
        {"pods/status", "Pod", "[\"get\",\"patch\",\"update\"]"},
    };
    const cJSON *pod = find_by(res, "name", "pods");
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        pod = pod->next;
        assert_non_null(pod);
        assert_string_equal(mock_json_str(pod, "name", ""), subs[i].name);
        assert_string_equal(mock_json_str(pod, "kind", ""), subs[i].kind);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(pod, "namespaced")));
        char *v = cJSON_PrintUnformatted(cJSON_GetObjectItem(pod, "verbs"));
        assert_string_equal(v, subs[i].verbs);
        free(v);
    }
    assert_string_equal(
        cJSON_GetArrayItem(
            cJSON_GetObjectItem(find_by(res, "name", "pods"), "categories"), 0)
            ->valuestring,
        "all");
    assert_null(find_by(res, "name", "deployments"));
    cJSON_Delete(d);

    d = get_json(in, "/apis", NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "APIGroupList");
    const cJSON *apps =
        find_by(cJSON_GetObjectItem(d, "groups"), "name", "apps");
    assert_non_null(apps);
    assert_string_equal(
        mock_json_str(apps, "preferredVersion.groupVersion", ""), "apps/v1");
    /* apps, batch, rbac.authorization.k8s.io */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "groups")), 3);
    assert_non_null(find_by(cJSON_GetObjectItem(d, "groups"), "name",
                            "rbac.authorization.k8s.io"));
    cJSON_Delete(d);

    d = get_json(in, "/apis/apps", NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "APIGroup");
    assert_string_equal(mock_json_str(d, "name", ""), "apps");
    cJSON_Delete(d);

    d = get_json(in, "/apis/apps/v1", NULL, NULL, 200);
    res = cJSON_GetObjectItem(d, "resources");
    const char *apps_names[][3] = {{"deployments", "Deployment", "deploy"},
                                   {"replicasets", "ReplicaSet", "rs"},
                                   {"statefulsets", "StatefulSet", "sts"},
                                   {"daemonsets", "DaemonSet", "ds"}};
    for (size_t i = 0; i < 4; i++) {
        const cJSON *r = find_by(res, "name", apps_names[i][0]);
        assert_non_null(r);
        assert_string_equal(mock_json_str(r, "kind", ""), apps_names[i][1]);
        assert_string_equal(
            cJSON_GetArrayItem(cJSON_GetObjectItem(r, "shortNames"), 0)
                ->valuestring,
            apps_names[i][2]);
    }
    cJSON_Delete(d);

    cJSON_Delete(get_json(in, "/apis/apps/v2", NULL, NULL, 404));
    cJSON_Delete(get_json(in, "/apis/policy/v1", NULL, NULL, 404));
    cJSON_Delete(get_json(in, "/apis/policy", NULL, NULL, 404));
    mock_driver_ops.instance_free(in);
}

static void test_lists_and_gets(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    struct fake_client c = {0};
    fake_request(in, "GET", "/api/v1/pods", "limit=500", NULL, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.content_type, "application/json");
    assert_int_equal(c.has_length, 0);
    cJSON *d = cJSON_Parse(c.body.p);
    fake_client_free(&c);
    assert_string_equal(mock_json_str(d, "kind", ""), "PodList");
    assert_string_equal(mock_json_str(d, "apiVersion", ""), "v1");
    assert_true(*mock_json_str(d, "metadata.resourceVersion", ""));
    const cJSON *items = cJSON_GetObjectItem(d, "items");
    assert_true(cJSON_GetArraySize(items) >= 25);
    const cJSON *it;
    const char *prev = "";
    cJSON_ArrayForEach(it, items)
    {
        assert_string_equal(mock_json_str(it, "kind", ""), "Pod");
        assert_string_equal(mock_json_str(it, "apiVersion", ""), "v1");
        assert_true(strcmp(prev, mock_json_str(it, "metadata.namespace", "")) <=
                    0);
        prev = mock_json_str(it, "metadata.namespace", "");
    }
    cJSON_Delete(d);

    d = get_json(in, "/api/v1/namespaces/shop/pods", NULL, NULL, 200);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(d, "items")) assert_string_equal(
        mock_json_str(it, "metadata.namespace", ""), "shop");
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(d, "items")) >= 10);
    cJSON_Delete(d);

    /* kube-apiserver lists an unknown namespace as empty. */
    d = get_json(in, "/api/v1/namespaces/nope/pods", NULL, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "items")), 0);
    cJSON_Delete(d);

    d = get_json(in, "/apis/apps/v1/namespaces/shop/deployments", NULL, NULL,
                 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "DeploymentList");
    assert_string_equal(mock_json_str(d, "apiVersion", ""), "apps/v1");
    cJSON_Delete(d);

    c = (struct fake_client){0};
    fake_request(in, "GET", "/api/v1/namespaces/shop/pods/redis-0", NULL,
                 "application/json", &c);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.has_length, 1);
    d = cJSON_Parse(c.body.p);
    fake_client_free(&c);
    assert_string_equal(mock_json_str(d, "metadata.name", ""), "redis-0");
    assert_string_equal(mock_json_str(d, "status.phase", ""), "Running");
    cJSON_Delete(d);

    d = get_json(in, "/api/v1/nodes/demo-cp-1", NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "Node");
    cJSON_Delete(d);
    d = get_json(in, "/api/v1/namespaces/shop", NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "Namespace");
    cJSON_Delete(d);
    mock_driver_ops.instance_free(in);
}

static void expect_body(void *in, const char *method, const char *path,
                        const char *query, int status, const char *body)
{
    struct fake_client c = {0};
    fake_request(in, method, path, query, NULL, &c);
    assert_int_equal(c.status, status);
    assert_string_equal(c.content_type, "application/json");
    assert_string_equal(c.body.p, body);
    fake_client_free(&c);
}

#define GENERIC_404                                                            \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"   \
    "\"Failure\",\"message\":\"the server could not find the requested "       \
    "resource\",\"reason\":\"NotFound\",\"details\":{},\"code\":404}"
#define METHOD_405                                                             \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"   \
    "\"Failure\",\"message\":\"the server does not allow this method on the "  \
    "requested resource\",\"reason\":\"MethodNotAllowed\",\"details\":{},"     \
    "\"code\":405}"

static void test_errors(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    expect_body(in, "GET", "/api/v1/namespaces/default/pods/x", NULL, 404,
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                "\"status\":\"Failure\",\"message\":\"pods \\\"x\\\" not "
                "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"x\","
                "\"kind\":\"pods\"},\"code\":404}");
    expect_body(in, "GET", "/apis/apps/v1/namespaces/shop/deployments/x", NULL,
                404,
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                "\"status\":\"Failure\",\"message\":\"deployments.apps "
                "\\\"x\\\" not found\",\"reason\":\"NotFound\",\"details\":{"
                "\"name\":\"x\",\"group\":\"apps\",\"kind\":\"deployments\"},"
                "\"code\":404}");
    expect_body(in, "GET", "/api/v1/namespaces/nope/pods/redis-0", NULL, 404,
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                "\"status\":\"Failure\",\"message\":\"pods \\\"redis-0\\\" "
                "not found\",\"reason\":\"NotFound\",\"details\":{\"name\":"
                "\"redis-0\",\"kind\":\"pods\"},\"code\":404}");
    const char *nowhere[] = {
        "/api/v1/foos",
        "/api/v1/namespaces/shop/nodes",
        "/api/v1/pods/redis-0",
        "/api/v2/pods",
        "/apis/apps/v1/pods",
        "/nope",
        "/",
        "/api/v1//pods",
        "/openapi/v4",
    };
    for (size_t i = 0; i < sizeof(nowhere) / sizeof(nowhere[0]); i++)
        expect_body(in, "GET", nowhere[i], NULL, 404, GENERIC_404);
    /* Writes are test_mock_write's; these have no meaning. */
    expect_body(in, "POST", "/api/v1/namespaces/shop/pods/redis-0", NULL, 405,
                METHOD_405);
    expect_body(in, "PUT", "/api/v1/namespaces/shop/pods", NULL, 405,
                METHOD_405);
    expect_body(in, "PATCH", "/api/v1/namespaces/shop/pods", NULL, 405,
                METHOD_405);
    expect_body(in, "HEAD", "/api/v1/namespaces/shop/pods/redis-0", NULL, 405,
                METHOD_405);
    expect_body(in, "HEAD", "/api/v1/namespaces/shop/pods", NULL, 405,
                METHOD_405);
    expect_body(in, "POST", "/version", NULL, 405, METHOD_405);

    struct fake_client c = {0};
    /* Watches (test_mock_watch.c): one from before the seed ends at once
     * with an Expired event. */
    fake_request(in, "GET", "/api/v1/pods", "watch=True&resourceVersion=1",
                 NULL, &c);
    assert_int_equal(c.status, 200);
    assert_non_null(strstr(c.body.p, "\"Expired\""));
    fake_client_free(&c);
    c = (struct fake_client){0};
    fake_request(in, "GET", "/api/v1/watch/pods", "resourceVersion=1", NULL,
                 &c);
    assert_int_equal(c.status, 200);
    fake_client_free(&c);
    c = (struct fake_client){0};
    fake_request(in, "GET", "/api/v1/pods", "watch=false", NULL, &c);
    assert_int_equal(c.status, 200);
    fake_client_free(&c);
    c = (struct fake_client){0};
    fake_request(in, "GET", "/api/v1/pods", "includeObject=All", TABLE_ACCEPT,
                 &c);
    assert_int_equal(c.status, 400);
    fake_client_free(&c);
    mock_driver_ops.instance_free(in);
}

/* What mock_serve decides for METHOD PATH?QUERY: the status, and whether
 * the answer is a watch (a producer) rather than a document or a list. */
static int serve_status(void *in, const char *method, const char *path,
                        const char *query, int *watch)
{
    struct fg_request_head head = {
        .method = method, .path = path, .query = query};
    fake_set_info(&head);
    struct mock_answer a;
    assert_int_equal(mock_serve(in, &head, NULL, 0, &a), 0);
    *watch = a.producer != NULL;
    if (a.producer)
        a.producer->free(a.producer);
    mock_list_free(a.list);
    free(a.body);
    return a.status;
}

static void expect_route(void *in, const char *path, const char *query,
                         int status, int watch)
{
    int got_watch;
    int got = serve_status(in, "GET", path, query, &got_watch);
    if (got != status || got_watch != watch)
        fail_msg("GET %s?%s: %d (watch %d), want %d (watch %d)", path,
                 query ? query : "", got, got_watch, status, watch);
}

static void test_routes(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    /* A named API group's resource with a subresource. */
    cJSON *d =
        get_json(in, "/apis/apps/v1/namespaces/shop/deployments/frontend/scale",
                 NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "Scale");
    assert_string_equal(mock_json_str(d, "metadata.name", ""), "frontend");
    assert_string_equal(mock_json_str(d, "metadata.namespace", ""), "shop");
    cJSON_Delete(d);
    /* Segments are percent-decoded, as kube-apiserver decodes them. */
    d = get_json(in,
                 "/apis/apps/v1/namespaces/%73hop/deployments/front%65nd/"
                 "scale",
                 NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "metadata.name", ""), "frontend");
    cJSON_Delete(d);
    d = get_json(in, "/api/v1/namespaces/shop/pods/redis%2D0", NULL, NULL, 200);
    assert_string_equal(mock_json_str(d, "metadata.name", ""), "redis-0");
    cJSON_Delete(d);
    expect_body(in, "GET", "/api/v1/namespaces/shop/pods/a%20b", NULL, 404,
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                "\"status\":\"Failure\",\"message\":\"pods \\\"a b\\\" not "
                "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"a "
                "b\",\"kind\":\"pods\"},\"code\":404}");
    /* A name from a field selector is no name in the path: still a list. */
    d = get_json(in, "/api/v1/namespaces/shop/pods",
                 "fieldSelector=metadata.name%3Dredis-0", NULL, 200);
    assert_string_equal(mock_json_str(d, "kind", ""), "PodList");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "items")), 1);
    cJSON_Delete(d);

    /* Watches: the legacy segment, or the query on a collection. */
    expect_route(in, "/apis/apps/v1/watch/namespaces/shop/deployments/frontend",
                 NULL, 200, 1);
    expect_route(in, "/apis/apps/v1/namespaces/shop/deployments", "watch=1",
                 200, 1);
    expect_route(in, "/api/v1/watch/namespaces/shop", NULL, 200, 1);
    expect_route(in, "/api/v1/namespaces/shop", "watch=true", 200, 1);
    expect_route(in, "/api/v1/namespaces/shop", NULL, 200, 0);
    expect_route(in, "/api/v1/namespaces/shop/status", NULL, 200, 0);

    /* Shapes the request info reads past but kube-apiserver's router
     * serves nothing for. */
    const char *nowhere[][2] = {
        {"/apis/apps/v1/namespaces/shop/deployments/frontend/scale/x", NULL},
        {"/apis/apps/v1/watch/namespaces/shop/deployments/frontend/scale",
         NULL},
        {"/api/v1/namespaces/shop/pods/redis-0/exec/x", NULL},
        {"/api/v1/proxy/namespaces/shop/pods/redis-0", NULL},
        {"/api/v1/watch", NULL},
        {"/api/v1/namespaces/shop/finalize", NULL},
        {"/api/v1/namespaces/shop/namespaces", NULL},
        {"/api/v1/namespaces/shop/namespaces/shop", NULL},
        /* The same request info as /api/v1/watch/namespaces/shop. */
        {"/api/v1/namespaces/shop/namespaces",
         "fieldSelector=metadata.name%3Dshop&watch=1"},
    };
    for (size_t i = 0; i < sizeof(nowhere) / sizeof(nowhere[0]); i++)
        expect_body(in, "GET", nowhere[i][0], nowhere[i][1], 404, GENERIC_404);
    expect_body(in, "PUT", "/api/v1/watch/namespaces/shop/pods", NULL, 405,
                METHOD_405);

    /* The core always gives the request info; without it, a 500. */
    struct fake_client c = {0};
    struct fg_request_head head = {.method = "GET", .path = "/version"};
    void *s = mock_driver_ops.stream_open(in, &head, &fake_callbacks, &c);
    assert_non_null(s);
    mock_driver_ops.stream_end(s);
    assert_int_equal(c.status, 500);
    mock_buf_add(&c.body, "", 0);
    assert_non_null(strstr(c.body.p, "\"reason\":\"InternalError\""));
    mock_driver_ops.stream_close(s);
    fake_client_free(&c);
    mock_driver_ops.instance_free(in);
}

static void test_body_limit(void **state)
{
    (void)state;
    snprintf(demo_path, sizeof(demo_path), "%s/conf.d/seeds/demo.json",
             FG_TEST_SOURCE_DIR);
    struct fake_section fs;
    fake_section_init(&fs, demo_path, NULL);
    fs.max_body = 10;
    char err[256];
    void *in =
        mock_driver_ops.instance_new(&fake_host, &fs.s, err, sizeof(err));
    assert_non_null(in);
    struct fake_client c = {0};
    struct fg_request_head head = {.method = "GET", .path = "/version"};
    fake_set_info(&head);
    void *s = mock_driver_ops.stream_open(in, &head, &fake_callbacks, &c);
    assert_int_equal(mock_driver_ops.stream_write(s, "0123456789", 10), 0);
    assert_int_equal(c.heads, 0); /* nothing before the body is complete */
    assert_int_equal(mock_driver_ops.stream_write(s, "x", 1), 0);
    mock_driver_ops.stream_end(s);
    assert_int_equal(c.status, 413);
    assert_non_null(strstr(c.body.p, "\"reason\":\"RequestEntityTooLarge\""));
    assert_int_equal(c.ended, 1);
    mock_driver_ops.stream_close(s);
    fake_client_free(&c);

    c = (struct fake_client){0};
    s = mock_driver_ops.stream_open(in, &head, &fake_callbacks, &c);
    assert_int_equal(mock_driver_ops.stream_write(s, "0123456789", 10), 0);
    mock_driver_ops.stream_end(s);
    assert_int_equal(c.status, 200);
    mock_driver_ops.stream_close(s);
    fake_client_free(&c);
    mock_driver_ops.instance_free(in);
}

static const cJSON *column(const cJSON *table, size_t i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(table, "columnDefinitions"),
                              (int)i);
}

static void expect_columns(const cJSON *t, const char *const *names)
{
    size_t n = 0;
    for (; names[n]; n++)
        assert_string_equal(mock_json_str(column(t, n), "name", ""), names[n]);
}

static const cJSON *row_named(const cJSON *t, const char *name)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(t, "rows"))
    {
        if (strcmp(mock_json_str(r, "object.metadata.name", ""), name) == 0)
            return r;
    }
    return NULL;
}

static const char *cell(const cJSON *row, int i)
{
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(row, "cells"), i);
    static char buf[64];
    if (cJSON_IsNumber(c)) {
        snprintf(buf, sizeof(buf), "%d", c->valueint);
        return buf;
    }
    return cJSON_IsString(c) ? c->valuestring : "?";
}

static void test_tables(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    struct fake_client c = {0};
    fake_request(in, "GET", "/api/v1/pods", "limit=500", TABLE_ACCEPT, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.content_type,
                        "application/json;as=Table;v=v1;g=meta.k8s.io");
    cJSON *t = cJSON_Parse(c.body.p);
    fake_client_free(&c);
    assert_non_null(t);
    assert_string_equal(mock_json_str(t, "kind", ""), "Table");
    assert_string_equal(mock_json_str(t, "apiVersion", ""), "meta.k8s.io/v1");
    const char *pod_cols[] = {"Name", "Ready", "Status", "Restarts",
                              "Age",  "IP",    "Node",   NULL};
    expect_columns(t, pod_cols);
    assert_int_equal(mock_json_int(column(t, 4), "priority", -1), 0);
    assert_int_equal(mock_json_int(column(t, 5), "priority", -1), 1);
    assert_string_equal(mock_json_str(column(t, 0), "format", ""), "name");
    const cJSON *r = row_named(t, "redis-0");
    assert_non_null(r);
    assert_string_equal(mock_json_str(r, "object.kind", ""),
                        "PartialObjectMetadata");
    assert_string_equal(mock_json_str(r, "object.metadata.namespace", ""),
                        "shop");
    assert_null(fg_json_path(r, "object.spec"));
    assert_string_equal(cell(r, 1), "1/1");
    assert_string_equal(cell(r, 2), "Running");
    assert_string_equal(cell(r, 3), "0");
    /* Seed time 2026-11-19T16:08Z, clock 2026-11-25T00:00Z. */
    assert_string_equal(cell(r, 4), "5d7h");
    assert_string_equal(cell(r, 6), "demo-worker-1");
    /* The CrashLoopBackOff and Pending pods. */
    int crash = 0, pending = 0;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(t, "rows"))
    {
        if (strcmp(cell(r, 2), "CrashLoopBackOff") == 0) {
            crash++;
            assert_string_equal(cell(r, 1), "0/1");
            assert_non_null(strstr(cell(r, 3), "17 ("));
        }
        if (strcmp(cell(r, 2), "Pending") == 0) {
            pending++;
            assert_string_equal(cell(r, 5), "<none>");
        }
    }
    assert_int_equal(crash, 1);
    assert_int_equal(pending, 1);
    cJSON_Delete(t);

    t = get_json(in, "/api/v1/nodes", NULL, TABLE_ACCEPT, 200);
    const char *node_cols[] = {"Name", "Status",  "Roles",
                               "Age",  "Version", NULL};
    expect_columns(t, node_cols);
    r = row_named(t, "demo-cp-1");
    assert_string_equal(cell(r, 1), "Ready");
    assert_string_equal(cell(r, 2), "control-plane");
    assert_string_equal(cell(r, 4), "v1.32.0");
    assert_string_equal(cell(row_named(t, "demo-worker-1"), 2), "<none>");
    assert_null(fg_json_path(r, "object.metadata.namespace"));
    cJSON_Delete(t);

    t = get_json(in, "/apis/apps/v1/deployments", NULL, TABLE_ACCEPT, 200);
    const char *dep_cols[] = {"Name",      "Ready", "Up-to-date",
                              "Available", "Age",   NULL};
    expect_columns(t, dep_cols);
    r = row_named(t, "checkout");
    assert_string_equal(cell(r, 1), "1/2");
    assert_string_equal(cell(r, 2), "2");
    assert_string_equal(cell(r, 3), "1");
    assert_string_equal(cell(r, 7), "app=checkout");
    cJSON_Delete(t);

    t = get_json(in, "/api/v1/services", NULL, TABLE_ACCEPT, 200);
    const char *svc_cols[] = {"Name",    "Type", "Cluster-IP", "External-IP",
                              "Port(s)", "Age",  NULL};
    expect_columns(t, svc_cols);
    r = row_named(t, "frontend");
    assert_string_equal(cell(r, 1), "LoadBalancer");
    assert_string_equal(cell(r, 3), "172.19.255.20");
    assert_non_null(strstr(cell(r, 4), "80:"));
    r = row_named(t, "redis");
    assert_string_equal(cell(r, 2), "None");
    assert_string_equal(cell(r, 4), "6379/TCP");
    cJSON_Delete(t);

    t = get_json(in, "/api/v1/namespaces", NULL, TABLE_ACCEPT, 200);
    const char *ns_cols[] = {"Name", "Status", "Age", NULL};
    expect_columns(t, ns_cols);
    assert_string_equal(cell(row_named(t, "shop"), 1), "Active");
    cJSON_Delete(t);

    t = get_json(in, "/api/v1/namespaces/shop/configmaps", NULL, TABLE_ACCEPT,
                 200);
    const char *cm_cols[] = {"Name", "Data", "Age", NULL};
    expect_columns(t, cm_cols);
    assert_string_equal(cell(row_named(t, "frontend-config"), 1), "3");
    cJSON_Delete(t);

    const char *others[][2] = {
        {"/api/v1/secrets", "Type"},
        {"/api/v1/events", "Last Seen"},
        {"/apis/apps/v1/replicasets", "Desired"},
        {"/apis/apps/v1/statefulsets", "Ready"},
        {"/apis/apps/v1/daemonsets", "Desired"},
    };
    for (size_t i = 0; i < 5; i++) {
        t = get_json(in, others[i][0], NULL, TABLE_ACCEPT, 200);
        assert_string_equal(
            mock_json_str(column(t, i == 1 ? 0 : 1), "name", ""), others[i][1]);
        assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(t, "rows")) > 0);
        cJSON_Delete(t);
    }

    t = get_json(in, "/api/v1/serviceaccounts", NULL, TABLE_ACCEPT, 200);
    const char *sa_cols[] = {"Name", "Secrets", "Age", NULL};
    expect_columns(t, sa_cols);
    cJSON_Delete(t);

    /* A Table of one object, the full object, and v1beta1. */
    t = get_json(in, "/api/v1/namespaces/shop/pods/redis-1",
                 "includeObject=Object", TABLE_ACCEPT, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(t, "rows")), 1);
    r = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "rows"), 0);
    assert_string_equal(mock_json_str(r, "object.kind", ""), "Pod");
    assert_string_equal(mock_json_str(r, "object.status.phase", ""), "Running");
    cJSON_Delete(t);
    t = get_json(in, "/api/v1/namespaces/shop/pods", "includeObject=None",
                 "application/json;as=Table;v=v1beta1;g=meta.k8s.io", 200);
    assert_string_equal(mock_json_str(t, "apiVersion", ""),
                        "meta.k8s.io/v1beta1");
    r = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "rows"), 0);
    assert_null(cJSON_GetObjectItem(r, "object"));
    cJSON_Delete(t);
    mock_driver_ops.instance_free(in);
}

/* The Table row of a stored object at NOW, as a list of Tables makes it. */
static cJSON *row_at(const struct mock_store *s, const struct mock_kind *k,
                     const char *ns, const char *name, int64_t now,
                     enum mock_include inc)
{
    struct mock_buf b = {0};
    assert_int_equal(mock_table_row_append(&b, k,
                                           mock_store_get(s, k, ns, name)->doc,
                                           now, inc, MOCK_TABLE_V1),
                     0);
    cJSON *r = cJSON_ParseWithLength(b.p, b.len);
    mock_buf_free(&b);
    assert_non_null(r);
    return r;
}

static cJSON *stored_row(const struct mock_store *s, const struct mock_kind *k,
                         const char *ns, const char *name)
{
    return row_at(s, k, ns, name, (int64_t)FAKE_NOW_MS, MOCK_INCLUDE_NONE);
}

static void test_table_cells_edge_cases(void **state)
{
    (void)state;
    char err[256];
    const char *seed =
        "{\"objects\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
        "\"name\":\"init\",\"creationTimestamp\":\"2026-11-24T23:58:00Z\"},"
        "\"spec\":{\"initContainers\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
        "\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Pending\","
        "\"initContainerStatuses\":[{\"name\":\"a\",\"state\":{\"terminated\":"
        "{\"exitCode\":0}}},{\"name\":\"b\",\"state\":{\"running\":{}}}]}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
        "\"oom\","
        "\"deletionTimestamp\":\"2026-11-24T23:59:00Z\"},\"spec\":{"
        "\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Running\","
        "\"containerStatuses\":[{\"name\":\"c\",\"state\":{\"terminated\":{"
        "\"exitCode\":137,\"signal\":9}}}]}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n\","
        "\"labels\":{\"node-role.kubernetes.io/worker\":\"\","
        "\"node-role.kubernetes.io/infra\":\"\"}},\"spec\":{\"unschedulable\":"
        "true},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":"
        "\"False\"}]}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
        "\"odd\"},"
        "\"spec\":{\"containers\":{}},\"status\":{\"containerStatuses\":7}}"
        "]}";
    struct mock_store *s =
        mock_seed_load_mem(seed, strlen(seed), "t", 0, err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    const struct mock_kind *pk = mock_kind_by_resource("", "v1", "pods");
    const struct mock_kind *nk = mock_kind_by_resource("", "v1", "nodes");
    cJSON *r = stored_row(s, pk, "default", "init");
    assert_string_equal(cell(r, 2), "Init:1/2");
    assert_string_equal(cell(r, 4), "2m");
    cJSON_Delete(r);
    r = stored_row(s, pk, "default", "oom");
    assert_string_equal(cell(r, 2), "Terminating");
    cJSON_Delete(r);
    r = stored_row(s, pk, "default", "odd");
    assert_string_equal(cell(r, 1), "0/0");
    cJSON_Delete(r);
    r = stored_row(s, nk, "", "n");
    assert_string_equal(cell(r, 1), "NotReady,SchedulingDisabled");
    assert_string_equal(cell(r, 2), "infra,worker");
    cJSON_Delete(r);
    mock_store_free(s);
}

/* Cells are prepared when an object is stored and filled in when a row is
 * sent: the times against the clock of the request, the name from the
 * index; cells too long to keep are computed from the object instead, and
 * both give the same row. Strings holding control bytes (the marks of the
 * prepared text) come out as they went in. */
static void test_table_cells_kept(void **state)
{
    (void)state;
    char err[256], sel[2048] = "", svc[4096];
    for (int i = 0; i < 40; i++)
        snprintf(sel + strlen(sel), sizeof(sel) - strlen(sel),
                 "%s\"label-key-%02d\":\"value-%02d\"", i ? "," : "", i, i);
    snprintf(svc, sizeof(svc),
             "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
             "\"name\":\"wide\",\"namespace\":\"a\"},\"spec\":{\"selector\":"
             "{%s}}},"
             "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
             "\"name\":\"narrow\",\"namespace\":\"a\"},\"spec\":{\"selector\":"
             "{\"label-key-00\":\"value-00\"}}}",
             sel);
    char seed[8192];
    snprintf(
        seed, sizeof(seed),
        "{\"objects\":[%s,"
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
        "\"crashy\",\"namespace\":\"a\",\"creationTimestamp\":"
        "\"2026-11-24T23:55:00Z\"},\"spec\":{\"containers\":[{\"name\":\"c\"}]"
        "},\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":"
        "\"c\",\"ready\":true,\"restartCount\":3,\"state\":{\"running\":{}},"
        "\"lastState\":{\"terminated\":{\"finishedAt\":"
        "\"2026-11-24T23:59:00Z\"}}}]}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":"
        "\"e1\",\"namespace\":\"a\"},\"lastTimestamp\":"
        "\"2026-11-24T23:50:00Z\",\"message\":\"say \\\"hi\\\"\\n\\u0001"
        "\\u0002\\u0003 done\",\"involvedObject\":{\"kind\":\"Pod\","
        "\"name\":\"crashy\"}}]}",
        svc);
    struct mock_store *s =
        mock_seed_load_mem(seed, strlen(seed), "t", 0, err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    const struct mock_kind *pk = mock_kind_by_resource("", "v1", "pods");
    const struct mock_kind *sk = mock_kind_by_resource("", "v1", "services");
    const struct mock_kind *ek = mock_kind_by_resource("", "v1", "events");

    assert_true(mock_store_get(s, pk, "a", "crashy")->doc->cells_len > 0);
    cJSON *r = stored_row(s, pk, "a", "crashy");
    assert_string_equal(cell(r, 0), "crashy");
    assert_string_equal(cell(r, 1), "1/1");
    assert_string_equal(cell(r, 3), "3 (60s ago)");
    assert_string_equal(cell(r, 4), "5m");
    cJSON_Delete(r);
    /* An hour later, from the same prepared cells. */
    r = row_at(s, pk, "a", "crashy", (int64_t)FAKE_NOW_MS + 3600000,
               MOCK_INCLUDE_METADATA);
    assert_string_equal(cell(r, 3), "3 (61m ago)");
    assert_string_equal(cell(r, 4), "65m");
    assert_string_equal(mock_json_str(r, "object.kind", ""),
                        "PartialObjectMetadata");
    assert_string_equal(mock_json_str(r, "object.metadata.name", ""), "crashy");
    assert_null(fg_json_path(r, "object.spec"));
    cJSON_Delete(r);

    r = stored_row(s, ek, "a", "e1");
    assert_string_equal(cell(r, 0), "10m");
    assert_string_equal(cell(r, 6), "say \"hi\"\n\x01\x02\x03 done");
    assert_string_equal(cell(r, 7), "<unknown>");
    assert_string_equal(cell(r, 9), "e1");
    cJSON_Delete(r);

    /* 40 selector pairs make cells too long to keep: computed per row. */
    assert_int_equal(mock_store_get(s, sk, "a", "wide")->doc->cells_len, 0);
    assert_true(mock_store_get(s, sk, "a", "narrow")->doc->cells_len > 0);
    r = row_at(s, sk, "a", "wide", (int64_t)FAKE_NOW_MS, MOCK_INCLUDE_OBJECT);
    assert_string_equal(cell(r, 0), "wide");
    char age[64];
    snprintf(age, sizeof(age), "%s", cell(r, 5));
    const char *wide = cell(r, 6);
    assert_int_equal(strlen(wide), 40 * strlen("label-key-00=value-00,") - 1);
    assert_int_equal(strncmp(wide, "label-key-00=value-00,label-key-01=", 35),
                     0);
    assert_string_equal(mock_json_str(r, "object.metadata.name", ""), "wide");
    cJSON_Delete(r);
    r = stored_row(s, sk, "a", "narrow");
    assert_string_equal(cell(r, 6), "label-key-00=value-00");
    assert_string_equal(cell(r, 1), "ClusterIP");
    assert_string_equal(cell(r, 5), age); /* both loaded at the same time */
    cJSON_Delete(r);
    mock_store_free(s);
}

static int count_items(void *in, const char *path, const char *query)
{
    cJSON *d = get_json(in, path, query, NULL, 200);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(d, "items"));
    cJSON_Delete(d);
    return n;
}

static void test_selectors(void **state)
{
    (void)state;
    void *in = fake_demo_instance(NULL);
    assert_int_equal(
        count_items(in, "/api/v1/pods", "labelSelector=app%3Dredis"), 3);
    assert_int_equal(
        count_items(in, "/api/v1/pods", "labelSelector=app+in+(redis,cart)"),
        5);
    assert_int_equal(count_items(in, "/api/v1/namespaces/shop/pods",
                                 "labelSelector=app!%3Dredis,app"),
                     7);
    assert_int_equal(
        count_items(in, "/api/v1/pods", "labelSelector=!app,!k8s-app"), 4);
    assert_int_equal(count_items(in, "/api/v1/pods",
                                 "fieldSelector=spec.nodeName%3Ddemo-cp-1"),
                     8);
    assert_int_equal(count_items(in, "/api/v1/pods",
                                 "fieldSelector=status.phase%3D%3DPending"),
                     1);
    assert_int_equal(
        count_items(in, "/api/v1/namespaces/shop/events",
                    "fieldSelector=involvedObject.name%3Dfrontend,"
                    "involvedObject.namespace%3Dshop,involvedObject.kind%3D"
                    "Deployment"),
        1);
    assert_int_equal(count_items(in, "/api/v1/pods", "labelSelector="), 28);
    const char *bad[] = {"labelSelector=app+in+redis", "labelSelector=a%3Db,",
                         "fieldSelector=spec.nodeName", "labelSelector=(x)"};
    for (size_t i = 0; i < 4; i++) {
        struct fake_client c = {0};
        fake_request(in, "GET", "/api/v1/pods", bad[i], NULL, &c);
        if (c.status != 400)
            fail_msg("%s: status %d", bad[i], c.status);
        fake_client_free(&c);
    }
    /* The Python client asks for "/version/". */
    cJSON_Delete(get_json(in, "/version/", NULL, NULL, 200));
    mock_driver_ops.instance_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_instance_errors),
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_lists_and_gets),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_table_cells_edge_cases),
        cmocka_unit_test(test_table_cells_kept),
        cmocka_unit_test(test_selectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
