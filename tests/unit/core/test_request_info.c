/* Tests of request info (core/request/request_info.c): the requests
 * kubectl 1.32, client-go and the Python client send, and the shapes
 * kube-apiserver's own RequestInfo tests cover, with the attributes RBAC would
 * see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "request/request_info.h"

struct want {
    const char *method, *path, *query;
    int is_resource;
    const char *verb, *prefix, *group, *version, *ns, *resource, *sub, *name;
};

static void check(const struct want *w)
{
    struct fg_request_info ri;
    struct fg_arena *arena = fg_arena_new(0);
    assert_int_equal(
        fg_request_info_parse(arena, w->method, w->path, w->query, &ri), 0);
    const char *got[] = {ri.verb,        ri.api_prefix, ri.api_group,
                         ri.api_version, ri.namespace_, ri.resource,
                         ri.subresource, ri.name};
    const char *exp[] = {w->verb, w->prefix,   w->group, w->version,
                         w->ns,   w->resource, w->sub,   w->name};
    static const char *const field[] = {"verb",        "prefix",    "group",
                                        "version",     "namespace", "resource",
                                        "subresource", "name"};
    for (size_t i = 0; i < sizeof(got) / sizeof(got[0]); i++)
        if (strcmp(got[i], exp[i]) != 0)
            fail_msg("%s %s?%s: %s is \"%s\", want \"%s\"", w->method, w->path,
                     w->query ? w->query : "", field[i], got[i], exp[i]);
    if (ri.is_resource != w->is_resource)
        fail_msg("%s %s: is_resource %d", w->method, w->path, ri.is_resource);
    fg_arena_free(arena);
}

static void test_resource_requests(void **state)
{
    (void)state;
    static const struct want cases[] = {
        /* kubectl get pods -A / -n shop, get pod x, get -w */
        {"GET", "/api/v1/pods", "limit=500", 1, "list", "api", "", "v1", "",
         "pods", "", ""},
        {"GET", "/api/v1/namespaces/shop/pods", "limit=500", 1, "list", "api",
         "", "v1", "shop", "pods", "", ""},
        {"GET", "/api/v1/namespaces/shop/pods/web-1", NULL, 1, "get", "api", "",
         "v1", "shop", "pods", "", "web-1"},
        {"HEAD", "/api/v1/namespaces/shop/pods/web-1", NULL, 1, "get", "api",
         "", "v1", "shop", "pods", "", "web-1"},
        {"GET", "/api/v1/namespaces/shop/pods", "resourceVersion=12&watch=true",
         1, "watch", "api", "", "v1", "shop", "pods", "", ""},
        /* the Python client says True; 0 and false stay lists */
        {"GET", "/api/v1/pods", "watch=True", 1, "watch", "api", "", "v1", "",
         "pods", "", ""},
        {"GET", "/api/v1/pods", "watch=1", 1, "watch", "api", "", "v1", "",
         "pods", "", ""},
        {"GET", "/api/v1/pods", "watch=0", 1, "list", "api", "", "v1", "",
         "pods", "", ""},
        {"GET", "/api/v1/pods", "watch=FALSE", 1, "list", "api", "", "v1", "",
         "pods", "", ""},
        {"GET", "/api/v1/pods", "watch", 1, "watch", "api", "", "v1", "",
         "pods", "", ""},
        /* kubectl get pod x -w: a watch narrowed by a field selector */
        {"GET", "/api/v1/namespaces/shop/pods",
         "fieldSelector=metadata.name%3Dweb-1&watch=true", 1, "watch", "api",
         "", "v1", "shop", "pods", "", "web-1"},
        {"GET", "/api/v1/pods",
         "fieldSelector=spec.nodeName%3Dn1%2Cmetadata.name%3D%3Dp", 1, "list",
         "api", "", "v1", "", "pods", "", "p"},
        {"GET", "/api/v1/pods", "fieldSelector=metadata.name%21%3Dp", 1, "list",
         "api", "", "v1", "", "pods", "", ""},
        {"GET", "/api/v1/pods", "fieldSelector=metadata.name%3Da%5C%2Cb", 1,
         "list", "api", "", "v1", "", "pods", "", "a,b"},
        /* groups */
        {"GET", "/apis/apps/v1/namespaces/shop/deployments/web", NULL, 1, "get",
         "apis", "apps", "v1", "shop", "deployments", "", "web"},
        {"PATCH", "/apis/apps/v1/namespaces/shop/deployments/web/scale", NULL,
         1, "patch", "apis", "apps", "v1", "shop", "deployments", "scale",
         "web"},
        {"PUT", "/apis/apps/v1/namespaces/shop/deployments/web/status", NULL, 1,
         "update", "apis", "apps", "v1", "shop", "deployments", "status",
         "web"},
        {"POST", "/apis/apps/v1/namespaces/shop/deployments", NULL, 1, "create",
         "apis", "apps", "v1", "shop", "deployments", "", ""},
        {"DELETE", "/apis/apps/v1/namespaces/shop/deployments", NULL, 1,
         "deletecollection", "apis", "apps", "v1", "shop", "deployments", "",
         ""},
        {"DELETE", "/apis/apps/v1/namespaces/shop/deployments/web", NULL, 1,
         "delete", "apis", "apps", "v1", "shop", "deployments", "", "web"},
        /* KubeSphere's grouped prefix */
        {"PATCH",
         "/kapis/application.kubesphere.io/v2/applicationversions/a-1/status",
         NULL, 1, "patch", "kapis", "application.kubesphere.io", "v2", "",
         "applicationversions", "status", "a-1"},
        /* cluster-scoped, and namespaces themselves */
        {"GET", "/api/v1/nodes/n1", NULL, 1, "get", "api", "", "v1", "",
         "nodes", "", "n1"},
        {"GET", "/api/v1/namespaces", NULL, 1, "list", "api", "", "v1", "",
         "namespaces", "", ""},
        {"GET", "/api/v1/namespaces/shop", NULL, 1, "get", "api", "", "v1",
         "shop", "namespaces", "", "shop"},
        {"PUT", "/api/v1/namespaces/shop/finalize", NULL, 1, "update", "api",
         "", "v1", "shop", "namespaces", "finalize", "shop"},
        {"GET", "/api/v1/namespaces/shop/status", NULL, 1, "get", "api", "",
         "v1", "shop", "namespaces", "status", "shop"},
        {"POST", "/api/v1/namespaces", NULL, 1, "create", "api", "", "v1", "",
         "namespaces", "", ""},
        /* upgrades and logs, as kubectl sends them */
        {"GET", "/api/v1/namespaces/shop/pods/web-1/exec",
         "command=sh&stdin=true&stdout=true&tty=true", 1, "get", "api", "",
         "v1", "shop", "pods", "exec", "web-1"},
        {"POST", "/api/v1/namespaces/shop/pods/web-1/exec", "command=ls", 1,
         "create", "api", "", "v1", "shop", "pods", "exec", "web-1"},
        {"POST", "/api/v1/namespaces/shop/pods/web-1/portforward", NULL, 1,
         "create", "api", "", "v1", "shop", "pods", "portforward", "web-1"},
        {"GET", "/api/v1/namespaces/shop/pods/web-1/log", "follow=true", 1,
         "get", "api", "", "v1", "shop", "pods", "log", "web-1"},
        {"GET", "/api/v1/namespaces/shop/services/web:80/proxy/a/b", NULL, 1,
         "get", "api", "", "v1", "shop", "services", "proxy", "web:80"},
        /* SelfSubjectAccessReview (kubectl auth can-i) */
        {"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL,
         1, "create", "apis", "authorization.k8s.io", "v1", "",
         "selfsubjectaccessreviews", "", ""},
        /* special verbs of old paths */
        {"GET", "/api/v1/watch/namespaces/shop/pods", NULL, 1, "watch", "api",
         "", "v1", "shop", "pods", "", ""},
        {"GET", "/api/v1/proxy/namespaces/shop/pods/web-1/x/y", NULL, 1,
         "proxy", "api", "", "v1", "shop", "pods", "", "web-1"},
        /* escapes are decoded in the attributes */
        {"GET", "/api/v1/namespaces/sh%6Fp/pods", NULL, 1, "list", "api", "",
         "v1", "shop", "pods", "", ""},
        /* a method kube does not map */
        {"OPTIONS", "/api/v1/pods", NULL, 1, "", "api", "", "v1", "", "pods",
         "", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

static void test_non_resource_requests(void **state)
{
    (void)state;
    static const struct want cases[] = {
        {"GET", "/", NULL, 0, "get", "", "", "", "", "", "", ""},
        {"GET", "/api", NULL, 0, "get", "", "", "", "", "", "", ""},
        {"GET", "/api/v1", NULL, 0, "get", "", "", "", "", "", "", ""},
        {"GET", "/apis", NULL, 0, "get", "", "", "", "", "", "", ""},
        {"GET", "/apis/apps", NULL, 0, "get", "", "", "", "", "", "", ""},
        {"GET", "/kapis/application.kubesphere.io/v2", NULL, 0, "get", "kapis",
         "", "", "", "", "", ""},
        {"GET", "/apis/apps/v1", NULL, 0, "get", "apis", "", "", "", "", "",
         ""},
        {"GET", "/openapi/v3/apis/apps/v1", "hash=X", 0, "get", "", "", "", "",
         "", "", ""},
        {"GET", "/version", NULL, 0, "get", "", "", "", "", "", "", ""},
        {"POST", "/healthz", NULL, 0, "post", "", "", "", "", "", "", ""},
        /* a special verb with nothing after it: kube refuses to guess */
        {"GET", "/api/v1/watch", NULL, 1, "get", "api", "", "v1", "", "", "",
         ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

static void test_upgradable(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        int yes;
    } cases[] = {
        {"/api/v1/namespaces/a/pods/p/exec", 1},
        {"/api/v1/namespaces/a/pods/p/attach", 1},
        {"/api/v1/namespaces/a/pods/p/portforward", 1},
        {"/api/v1/namespaces/a/pods/p/proxy/x", 1},
        {"/api/v1/namespaces/a/services/s/proxy", 1},
        {"/api/v1/nodes/n/proxy/stats", 1},
        {"/api/v1/namespaces/a/pods", 0},
        {"/api/v1/namespaces/a/pods/p", 0},
        {"/api/v1/namespaces/a/pods/p/log", 0},
        {"/api/v1/namespaces/a/services/s/exec", 0},
        {"/apis/apps/v1/namespaces/a/pods/p/exec", 0},
        {"/api/v1/proxy/namespaces/a/pods/p", 0},
        {"/exec", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fg_request_info ri;
        struct fg_arena *arena = fg_arena_new(0);
        assert_int_equal(
            fg_request_info_parse(arena, "GET", cases[i].path, NULL, &ri), 0);
        if (fg_request_info_is_upgradable(&ri) != cases[i].yes)
            fail_msg("%s: upgradable %d", cases[i].path, !cases[i].yes);
        fg_arena_free(arena);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resource_requests),
        cmocka_unit_test(test_non_resource_requests),
        cmocka_unit_test(test_upgradable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
