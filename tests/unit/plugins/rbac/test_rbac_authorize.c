/* The authorizer over bindings: the cases of Kubernetes' TestAuthorizer
 * (RoleBinding to a ClusterRole, users and groups, namespaces), service
 * account subjects, the clusters a binding names, what the core's request
 * info makes of real request paths, and the rules a SelfSubjectRulesReview
 * lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define HDR "apiVersion: rbac.authorization.k8s.io/v1\n"

static struct rbac_policy *must(const char *yaml)
{
    char err[512] = "";
    struct rbac_policy *p = policy_from(yaml, err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    return p;
}

/* TestAuthorizer's first case, on every cluster. */
static void test_role_binding_to_cluster_role(void **state)
{
    (void)state;
    struct rbac_policy *p =
        must(HDR "kind: ClusterRole\nmetadata: {name: admin}\n"
                 "rules: [{verbs: ['*'], apiGroups: ['*'], resources: ['*']}]\n"
                 "---\n" HDR "kind: RoleBinding\n"
                 "metadata:\n  name: admins\n  namespace: ns1\n"
                 "  annotations: {fedgate.io/clusters: '*'}\n"
                 "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: "
                 "ClusterRole, name: admin}\n"
                 "subjects:\n- {kind: User, name: admin}\n"
                 "- {kind: Group, name: admins}\n");
    const char *pods = "/api/v1/namespaces/ns1/pods";
    assert_true(allowed(p, "admin", "", "demo", "GET", pods));
    assert_true(allowed(p, "admin", "", "demo", "GET",
                        "/api/v1/namespaces/"
                        "ns1/pods?watch=1"));
    assert_true(allowed(p, "admin", "group1", "demo", "GET",
                        "/apis/foo.io/v1/namespaces/ns1/foobars"));
    assert_true(allowed(p, "joe", "admins", "demo", "GET", pods));
    assert_true(allowed(p, "joe", "group1,admins", "demo", "DELETE",
                        "/api/v1/namespaces/ns1/pods/x"));
    assert_false(
        allowed(p, "admin", "", "demo", "GET", "/api/v1/namespaces/ns2/pods"));
    assert_false(allowed(p, "admin", "", "demo", "GET", "/api/v1/nodes"));
    assert_false(allowed(p, "admin", "admins", "demo", "GET", "/api/v1/pods"));
    assert_false(allowed(p, "joe", "group1", "demo", "GET", pods));
    /* a RoleBinding never grants a path */
    assert_false(allowed(p, "admin", "", "demo", "GET", "/version"));
    rbac_policy_free(p);
}

/* TestAuthorizer's non-resource URL case. */
static void test_non_resource_urls(void **state)
{
    (void)state;
    struct rbac_policy *p = must(
        HDR "kind: ClusterRole\nmetadata: {name: getter}\n"
            "rules: [{verbs: [get], nonResourceURLs: [/apis]}]\n---\n" HDR
            "kind: ClusterRole\nmetadata: {name: prefix}\n"
            "rules: [{verbs: [get], nonResourceURLs: ['/apis/*']}]\n---\n" HDR
            "kind: ClusterRoleBinding\nmetadata:\n  name: getter\n"
            "  annotations: {fedgate.io/clusters: '*'}\n"
            "roleRef: {kind: ClusterRole, name: getter}\n"
            "subjects: [{kind: User, name: foo}, {kind: Group, name: bar}]\n"
            "---\n" HDR "kind: ClusterRoleBinding\nmetadata:\n"
            "  name: prefix\n  annotations: {fedgate.io/clusters: '*'}\n"
            "roleRef: {kind: ClusterRole, name: prefix}\n"
            "subjects: [{kind: User, name: prefixed}]\n");
    assert_true(allowed(p, "foo", "", "demo", "GET", "/apis"));
    assert_true(allowed(p, "x", "bar", "demo", "GET", "/apis"));
    assert_false(allowed(p, "foo", "", "demo", "POST", "/apis"));
    assert_false(allowed(p, "foo", "", "demo", "GET", "/api/v1"));
    assert_true(allowed(p, "prefixed", "", "demo", "GET", "/apis/v1/foobar"));
    assert_false(allowed(p, "prefixed", "", "demo", "GET", "/apis"));
    assert_false(allowed(p, "prefixed", "", "demo", "GET", "/api/v1"));
    rbac_policy_free(p);
}

/* A binding's clusters: globs over member names; without the annotation
 * the gateway's own API only, which "*" also covers. */
static void test_clusters(void **state)
{
    (void)state;
    struct rbac_policy *p =
        must(HDR "kind: ClusterRole\nmetadata: {name: view}\n"
                 "rules: [{verbs: [get, list], apiGroups: [''], resources: "
                 "[pods]}]\n---\n" HDR
                 "kind: ClusterRoleBinding\nmetadata:\n  name: some\n"
                 "  annotations:\n    fedgate.io/clusters: \"prod-*, demo\"\n"
                 "roleRef: {kind: ClusterRole, name: view}\n"
                 "subjects: [{kind: User, name: some}]\n---\n" HDR
                 "kind: ClusterRoleBinding\nmetadata:\n  name: all\n"
                 "  annotations:\n    fedgate.io/clusters: \"*\"\n"
                 "roleRef: {kind: ClusterRole, name: view}\n"
                 "subjects: [{kind: User, name: all}]\n---\n" HDR
                 "kind: ClusterRoleBinding\nmetadata: {name: bare}\n"
                 "roleRef: {kind: ClusterRole, name: view}\n"
                 "subjects: [{kind: User, name: bare}]\n");
    const char *pods = "/api/v1/pods";
    static const struct {
        const char *user, *member;
        int want;
    } cases[] = {
        {"some", "demo", 1},  {"some", "prod-eu", 1}, {"some", "prod", 0},
        {"some", "demo2", 0}, {"some", "host", 0},    {"some", NULL, 0},
        {"all", "demo", 1},   {"all", "anything", 1}, {"all", NULL, 1},
        {"bare", NULL, 1},    {"bare", "demo", 0},    {"bare", "host", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        if (allowed(p, cases[i].user, "", cases[i].member, "GET", pods) !=
            cases[i].want)
            fail_msg("case %zu: %s on %s: want %d", i, cases[i].user,
                     cases[i].member ? cases[i].member : "(gateway)",
                     cases[i].want);
    rbac_policy_free(p);
}

/* ServiceAccount subjects: system:serviceaccount:NS:NAME, NS defaulting
 * to a RoleBinding's own. */
static void test_service_accounts(void **state)
{
    (void)state;
    struct rbac_policy *p = must(
        HDR "kind: ClusterRole\nmetadata: {name: edit}\n"
            "rules: [{verbs: ['*'], apiGroups: [''], resources: "
            "[configmaps]}]\n---\n" HDR
            "kind: RoleBinding\nmetadata:\n  name: local\n  namespace: ci\n"
            "  annotations: {fedgate.io/clusters: demo}\n"
            "roleRef: {kind: ClusterRole, name: edit}\n"
            "subjects: [{kind: ServiceAccount, name: builder}]\n---\n" HDR
            "kind: ClusterRoleBinding\nmetadata:\n  name: remote\n"
            "  annotations: {fedgate.io/clusters: demo}\n"
            "roleRef: {kind: ClusterRole, name: edit}\n"
            "subjects: [{kind: ServiceAccount, name: deployer, namespace: "
            "tools}]\n");
    const char *ci = "/api/v1/namespaces/ci/configmaps";
    const char *other = "/api/v1/namespaces/other/configmaps";
    assert_true(
        allowed(p, "system:serviceaccount:ci:builder", "", "demo", "POST", ci));
    assert_false(allowed(p, "system:serviceaccount:ci:builder", "", "demo",
                         "POST", other));
    assert_false(allowed(p, "system:serviceaccount:other:builder", "", "demo",
                         "POST", ci));
    assert_false(allowed(p, "system:serviceaccount:ci:builder2", "", "demo",
                         "POST", ci));
    assert_false(allowed(p, "builder", "", "demo", "POST", ci));
    assert_true(allowed(p, "system:serviceaccount:tools:deployer", "", "demo",
                        "PUT", other));
    assert_false(allowed(p, "system:serviceaccount:tools:deployer", "", "other",
                         "PUT", other));
    assert_false(allowed(p, "system:serviceaccount:tool:sdeployer", "", "demo",
                         "PUT", other));
    rbac_policy_free(p);
}

/* What the core's request info makes of the requests kubectl sends, as
 * the attributes the rules are matched against. */
static void test_request_info_to_attributes(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path, *query;
        int is_resource;
        const char *verb, *group, *resource, *sub, *name, *ns;
    } cases[] = {
        {"GET", "/api/v1/namespaces/ns1/pods", NULL, 1, "list", "", "pods", "",
         "", "ns1"},
        {"GET", "/api/v1/namespaces/ns1/pods", "watch=true", 1, "watch", "",
         "pods", "", "", "ns1"},
        {"GET", "/api/v1/namespaces/ns1/pods/p1/log", "follow=true", 1, "get",
         "", "pods", "log", "p1", "ns1"},
        {"POST", "/api/v1/namespaces/ns1/pods/p1/exec", "command=ls", 1,
         "create", "", "pods", "exec", "p1", "ns1"},
        {"GET", "/api/v1/namespaces/ns1/pods/p1/exec", "command=ls", 1, "get",
         "", "pods", "exec", "p1", "ns1"},
        {"PATCH", "/apis/apps/v1/namespaces/web/deployments/d/scale", NULL, 1,
         "patch", "apps", "deployments", "scale", "d", "web"},
        {"DELETE", "/api/v1/namespaces/ns1/configmaps", NULL, 1,
         "deletecollection", "", "configmaps", "", "", "ns1"},
        {"GET", "/api/v1/nodes/n1", NULL, 1, "get", "", "nodes", "", "n1", ""},
        {"GET", "/api/v1/namespaces/ns1", NULL, 1, "get", "", "namespaces", "",
         "ns1", "ns1"},
        {"GET", "/healthz", NULL, 0, "get", "", "", "", "", ""},
        {"GET", "/version", NULL, 0, "get", "", "", "", "", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        const struct rbac_attrs *a =
            request("u", "g1,g2", "demo", cases[i].method, cases[i].path,
                    cases[i].query);
        assert_string_equal(a->user, "u");
        assert_int_equal(a->n_groups, 2);
        assert_string_equal(a->member, "demo");
        assert_int_equal(a->is_resource, cases[i].is_resource);
        assert_string_equal(a->verb, cases[i].verb);
        assert_string_equal(a->api_group, cases[i].group);
        assert_string_equal(a->resource, cases[i].resource);
        assert_string_equal(a->subresource, cases[i].sub);
        assert_string_equal(a->name, cases[i].name);
        assert_string_equal(a->namespace_, cases[i].ns);
        assert_string_equal(a->path, cases[i].path);
    }
}

/* The shipped rules (conf.d/rbac), as the README promises them. */
static void test_everyday_roles(void **state)
{
    (void)state;
    char err[512];
    struct rbac_policy *p =
        rbac_load(FG_TEST_SOURCE_DIR "/conf.d/rbac", 1 << 20, err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    const char *pods = "/api/v1/namespaces/shop/pods";
    const char *exec = "/api/v1/namespaces/shop/pods/p/exec";
    /* system:masters (the admin kubeconfig) and the platform admin:
     * everything everywhere, the gateway's own API too */
    assert_true(allowed(p, "fedgate:admin", "system:masters", "host", "DELETE",
                        "/api/v1/nodes/n1"));
    assert_true(
        allowed(p, "fedgate:admin", "system:masters", NULL, "GET", "/metrics"));
    /* every authenticated user: discovery and self-reviews, nothing else */
    assert_true(allowed(p, "x", "system:authenticated", "host", "GET",
                        "/apis/apps/v1"));
    assert_true(allowed(p, "x", "system:authenticated", "demo", "POST",
                        "/apis/authorization.k8s.io/v1/"
                        "selfsubjectaccessreviews"));
    assert_false(allowed(p, "x", "system:authenticated", "demo", "GET", pods));
    /* platform admin */
    assert_true(allowed(p, "ada", "platform-admins", "demo", "DELETE",
                        "/api/v1/nodes/n1"));
    assert_true(allowed(p, "ada", "platform-admins", NULL, "GET",
                        "/apis/cluster.fedgate.io/v1/clusters"));
    /* cluster admin of prod-* and demo */
    assert_true(allowed(p, "cleo", "cluster-admins", "demo", "POST", exec));
    assert_false(allowed(p, "cleo", "cluster-admins", "host", "GET", pods));
    /* cluster viewer of demo: reads, no writes, no secrets, no exec */
    assert_true(allowed(p, "vic", "demo-viewers", "demo", "GET", pods));
    assert_true(allowed(p, "vic", "demo-viewers", "demo", "GET",
                        "/api/v1/namespaces/shop/pods/p/log"));
    assert_false(allowed(p, "vic", "demo-viewers", "demo", "DELETE",
                         "/api/v1/namespaces/shop/pods/p"));
    assert_false(allowed(p, "vic", "demo-viewers", "demo", "POST", exec));
    assert_false(allowed(p, "vic", "demo-viewers", "demo", "GET",
                         "/api/v1/namespaces/shop/secrets"));
    assert_false(allowed(p, "vic", "demo-viewers", "host", "GET", pods));
    /* namespace admin of shop on demo */
    assert_true(allowed(p, "nia", "shop-admins", "demo", "POST", exec));
    assert_true(allowed(p, "nia", "shop-admins", "demo", "DELETE",
                        "/api/v1/namespaces/shop/pods/p"));
    assert_false(allowed(p, "nia", "shop-admins", "demo", "GET",
                         "/api/v1/namespaces/default/pods"));
    assert_false(
        allowed(p, "nia", "shop-admins", "demo", "GET", "/api/v1/nodes"));
    assert_false(allowed(p, "nia", "shop-admins", "host", "GET", pods));
    rbac_policy_free(p);
}

struct collected {
    char text[2048];
    int n;
};

static void join(char *out, size_t cap, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "",
                 v[i]);
}

static void collect(void *arg, const struct fg_policy_rule *r)
{
    struct collected *c = arg;
    char *t = c->text;
    size_t cap = sizeof(c->text);
    snprintf(t + strlen(t), cap - strlen(t), "%s", c->n++ ? " | " : "");
    join(t, cap, r->verbs, r->n_verbs);
    snprintf(t + strlen(t), cap - strlen(t), ";");
    join(t, cap, r->api_groups, r->n_api_groups);
    snprintf(t + strlen(t), cap - strlen(t), ";");
    join(t, cap, r->resources, r->n_resources);
    snprintf(t + strlen(t), cap - strlen(t), ";");
    join(t, cap, r->resource_names, r->n_resource_names);
    snprintf(t + strlen(t), cap - strlen(t), ";");
    join(t, cap, r->non_resource_urls, r->n_non_resource_urls);
}

/* RulesFor: cluster-wide bindings, then the namespace's, on that cluster. */
static void test_rules_for(void **state)
{
    (void)state;
    struct rbac_policy *p =
        must(HDR "kind: ClusterRole\nmetadata: {name: view}\n"
                 "rules:\n- {verbs: [get], apiGroups: [''], resources: [pods], "
                 "resourceNames: [a]}\n- {verbs: [get], nonResourceURLs: "
                 "['/healthz']}\n---\n" HDR
                 "kind: Role\nmetadata: {name: cm, namespace: ns1}\n"
                 "rules: [{verbs: [list], apiGroups: [''], resources: "
                 "[configmaps]}]\n---\n" HDR
                 "kind: ClusterRoleBinding\nmetadata:\n  name: view\n"
                 "  annotations: {fedgate.io/clusters: demo}\n"
                 "roleRef: {kind: ClusterRole, name: view}\n"
                 "subjects: [{kind: Group, name: g}]\n---\n" HDR
                 "kind: RoleBinding\nmetadata:\n  name: cm\n  namespace: ns1\n"
                 "  annotations: {fedgate.io/clusters: demo}\n"
                 "roleRef: {kind: Role, name: cm}\n"
                 "subjects: [{kind: User, name: u}]\n");
    const char *groups[] = {"g"};
    struct fg_identity id = {.user = "u", .groups = groups, .n_groups = 1};
    struct collected c = {.n = 0};
    rbac_rules_for(p, &id, "demo", "ns1", collect, &c);
    assert_string_equal(c.text, "get;;pods;a; | get;;;;/healthz | "
                                "list;;configmaps;;");
    memset(&c, 0, sizeof(c));
    rbac_rules_for(p, &id, "demo", "ns2", collect, &c);
    assert_string_equal(c.text, "get;;pods;a; | get;;;;/healthz");
    memset(&c, 0, sizeof(c));
    rbac_rules_for(p, &id, "other", "ns1", collect, &c);
    assert_string_equal(c.text, "");
    rbac_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_binding_to_cluster_role),
        cmocka_unit_test(test_non_resource_urls),
        cmocka_unit_test(test_clusters),
        cmocka_unit_test(test_service_accounts),
        cmocka_unit_test(test_request_info_to_attributes),
        cmocka_unit_test(test_everyday_roles),
        cmocka_unit_test(test_rules_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
