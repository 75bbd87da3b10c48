/* The rule matcher against the cases of Kubernetes' own tests
 * (plugin/pkg/auth/authorizer/rbac/rbac_test.go TestRuleMatches and the
 * helpers of pkg/apis/rbac/v1/evaluation_helpers.go): verbs, API groups,
 * resources with subresources and "* /sub", resource names, and
 * non-resource URLs with a trailing '*'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

/* S split at ',' into OUT, as kube's tests split it ("" is one empty
 * value, the core API group); NULL is no value. */
static void split(const char *s, struct rbac_strings *out)
{
    memset(out, 0, sizeof(*out));
    while (s) {
        size_t n = strcspn(s, ",");
        assert_int_equal(rbac_strings_add(out, s, n), 0);
        s = s[n] ? s + n + 1 : NULL;
    }
}

static void strings_drop(struct rbac_strings *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

struct rule_spec {
    const char *verbs, *groups, *resources, *names, *urls;
};

struct attr_spec {
    int is_resource;
    const char *verb, *group, *resource, *subresource, *name, *url;
};

static int allows(const struct rule_spec *rs, const struct attr_spec *as)
{
    struct rbac_rule r;
    split(rs->verbs, &r.verbs);
    split(rs->groups, &r.api_groups);
    split(rs->resources, &r.resources);
    split(rs->names, &r.resource_names);
    split(rs->urls, &r.urls);
    struct rbac_attrs a = {.user = "u",
                           .is_resource = as->is_resource,
                           .verb = as->verb,
                           .api_group = as->group ? as->group : "",
                           .resource = as->resource ? as->resource : "",
                           .subresource =
                               as->subresource ? as->subresource : "",
                           .name = as->name ? as->name : "",
                           .namespace_ = "",
                           .path = as->url ? as->url : ""};
    int ok = rbac_rule_allows(&a, &r);
    strings_drop(&r.verbs);
    strings_drop(&r.api_groups);
    strings_drop(&r.resources);
    strings_drop(&r.resource_names);
    strings_drop(&r.urls);
    return ok;
}

#define RES(v, g, r, s, n)                                                     \
    {                                                                          \
        1, v, g, r, s, n, NULL                                                 \
    }
#define URL(v, u)                                                              \
    {                                                                          \
        0, v, NULL, NULL, NULL, NULL, u                                        \
    }

static const struct {
    const char *name;
    struct rule_spec rule;
    struct attr_spec req;
    int want;
} cases[] = {
    /* star verb, exact match other */
    {"star verb",
     {"*", "group1", "resource1", NULL, NULL},
     RES("verb1", "group1", "resource1", NULL, NULL),
     1},
    {"star verb",
     {"*", "group1", "resource1", NULL, NULL},
     RES("verb1", "group2", "resource1", NULL, NULL),
     0},
    {"star verb",
     {"*", "group1", "resource1", NULL, NULL},
     RES("verb1", "group1", "resource2", NULL, NULL),
     0},
    {"star verb",
     {"*", "group1", "resource1", NULL, NULL},
     RES("verb2", "group1", "resource1", NULL, NULL),
     1},
    {"star verb",
     {"*", "group1", "resource1", NULL, NULL},
     RES("verb2", "group2", "resource2", NULL, NULL),
     0},
    /* star group, exact match other */
    {"star group",
     {"verb1", "*", "resource1", NULL, NULL},
     RES("verb1", "group1", "resource1", NULL, NULL),
     1},
    {"star group",
     {"verb1", "*", "resource1", NULL, NULL},
     RES("verb1", "group2", "resource1", NULL, NULL),
     1},
    {"star group",
     {"verb1", "*", "resource1", NULL, NULL},
     RES("verb1", "group1", "resource2", NULL, NULL),
     0},
    {"star group",
     {"verb1", "*", "resource1", NULL, NULL},
     RES("verb2", "group1", "resource1", NULL, NULL),
     0},
    /* star resource, exact match other */
    {"star resource",
     {"verb1", "group1", "*", NULL, NULL},
     RES("verb1", "group1", "resource1", NULL, NULL),
     1},
    {"star resource",
     {"verb1", "group1", "*", NULL, NULL},
     RES("verb1", "group1", "resource2", NULL, NULL),
     1},
    {"star resource",
     {"verb1", "group1", "*", NULL, NULL},
     RES("verb1", "group2", "resource1", NULL, NULL),
     0},
    {"star resource",
     {"verb1", "group1", "*", NULL, NULL},
     RES("verb2", "group1", "resource1", NULL, NULL),
     0},
    /* tuple expansion */
    {"tuple",
     {"verb1,verb2", "group1,group2", "resource1,resource2", NULL, NULL},
     RES("verb1", "group1", "resource1", NULL, NULL),
     1},
    {"tuple",
     {"verb1,verb2", "group1,group2", "resource1,resource2", NULL, NULL},
     RES("verb2", "group2", "resource1", NULL, NULL),
     1},
    {"tuple",
     {"verb1,verb2", "group1,group2", "resource1,resource2", NULL, NULL},
     RES("verb1", "group2", "resource2", NULL, NULL),
     1},
    {"tuple",
     {"verb1,verb2", "group1,group2", "resource1,resource2", NULL, NULL},
     RES("verb3", "group1", "resource1", NULL, NULL),
     0},
    /* subresource expansion */
    {"subresource",
     {"*", "*", "resource1/subresource1", NULL, NULL},
     RES("verb1", "group1", "resource1", "subresource1", NULL),
     1},
    {"subresource",
     {"*", "*", "resource1/subresource1", NULL, NULL},
     RES("verb1", "group2", "resource1", "subresource2", NULL),
     0},
    {"subresource",
     {"*", "*", "resource1/subresource1", NULL, NULL},
     RES("verb1", "group1", "resource2", "subresource1", NULL),
     0},
    {"subresource",
     {"*", "*", "resource1/subresource1", NULL, NULL},
     RES("verb1", "group1", "resource1", NULL, NULL),
     0},
    /* TestAuthorizer: "pods" does not cover pods/status, nor the reverse */
    {"resource only",
     {"*", "*", "pods", NULL, NULL},
     RES("get", "", "pods", "status", NULL),
     0},
    {"subresource only",
     {"*", "*", "pods/status", NULL, NULL},
     RES("get", "", "pods", NULL, NULL),
     0},
    {"star covers subresources",
     {"get", "", "*", NULL, NULL},
     RES("get", "", "pods", "exec", NULL),
     1},
    /* ResourceMatches: "* /subresource" */
    {"star scale",
     {"get", "*", "*/scale", NULL, NULL},
     RES("get", "apps", "deployments", "scale", NULL),
     1},
    {"star scale",
     {"get", "*", "*/scale", NULL, NULL},
     RES("get", "apps", "deployments", NULL, NULL),
     0},
    {"star scale",
     {"get", "*", "*/scale", NULL, NULL},
     RES("get", "apps", "deployments", "status", NULL),
     0},
    {"star scale",
     {"get", "*", "*/scale", NULL, NULL},
     RES("get", "apps", "deployments", "xscale", NULL),
     0},
    {"exec",
     {"create", "", "pods/exec", NULL, NULL},
     RES("create", "", "pods", "exec", NULL),
     1},
    {"exec",
     {"create", "", "pods/exec", NULL, NULL},
     RES("get", "", "pods", "exec", NULL),
     0},
    {"exec",
     {"create", "", "pods/exec", NULL, NULL},
     RES("create", "", "pods", "attach", NULL),
     0},
    {"core group",
     {"get", "", "pods", NULL, NULL},
     RES("get", "apps", "pods", NULL, NULL),
     0},
    /* ResourceNameMatches */
    {"names",
     {"get", "", "configmaps", "one,two", NULL},
     RES("get", "", "configmaps", NULL, "two"),
     1},
    {"names",
     {"get", "", "configmaps", "one,two", NULL},
     RES("get", "", "configmaps", NULL, "three"),
     0},
    {"names",
     {"get", "", "configmaps", "one,two", NULL},
     RES("get", "", "configmaps", NULL, ""),
     0},
    {"no names",
     {"get", "", "configmaps", NULL, NULL},
     RES("get", "", "configmaps", NULL, "any"),
     1},
    /* star nonresource, exact match other */
    {"star url", {"verb1", NULL, NULL, NULL, "*"}, URL("verb1", "/foo"), 1},
    {"star url",
     {"verb1", NULL, NULL, NULL, "*"},
     URL("verb1", "/foo/bar/one"),
     1},
    {"star url", {"verb1", NULL, NULL, NULL, "*"}, URL("verb2", "/foo"), 0},
    /* star nonresource subpath */
    {"url prefix",
     {"verb1", NULL, NULL, NULL, "/foo/*"},
     URL("verb1", "/foo"),
     0},
    {"url prefix",
     {"verb1", NULL, NULL, NULL, "/foo/*"},
     URL("verb1", "/foo/bar"),
     1},
    {"url prefix",
     {"verb1", NULL, NULL, NULL, "/foo/*"},
     URL("verb1", "/foo/baz/one"),
     1},
    {"url prefix",
     {"verb1", NULL, NULL, NULL, "/foo/*"},
     URL("verb1", "/notfoo/bar"),
     0},
    {"url prefix",
     {"verb1", NULL, NULL, NULL, "/foo*"},
     URL("verb1", "/foobar"),
     1},
    /* star verb, exact nonresource */
    {"exact url",
     {"*", NULL, NULL, NULL, "/foo,/foo/bar/one"},
     URL("verb1", "/foo"),
     1},
    {"exact url",
     {"*", NULL, NULL, NULL, "/foo,/foo/bar/one"},
     URL("verb1", "/foo/bar"),
     0},
    {"exact url",
     {"*", NULL, NULL, NULL, "/foo,/foo/bar/one"},
     URL("verb2", "/foo/bar/one"),
     1},
    /* a resource rule never covers a path, nor the reverse */
    {"kinds apart", {"get", "*", "*", NULL, NULL}, URL("get", "/healthz"), 0},
    {"kinds apart",
     {"get", NULL, NULL, NULL, "*"},
     RES("get", "", "pods", NULL, NULL),
     0},
};

static void test_kubernetes_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        if (allows(&cases[i].rule, &cases[i].req) != cases[i].want)
            fail_msg("case %zu (%s): want %d", i, cases[i].name, cases[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubernetes_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
