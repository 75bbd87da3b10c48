/* Tests of the audit Policy (plugins/policy/audit/policy.c, yaml_tree.c):
 * rule matching as kube-apiserver's policy checker matches (users, groups,
 * verbs, namespaces, group resources with their wildcards and names,
 * non-resource URLs, first match, omitStages), the same policy in YAML and
 * JSON, and every kind of mistake refused with its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"

static struct audit_policy *parse(const char *text)
{
    char err[512] = "";
    struct audit_policy *p =
        audit_policy_parse("policy.yaml", text, strlen(text), err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    return p;
}

/* A request's attributes: "verb group/version/resource/sub ns name" for
 * a resource request, "verb /path" for a non-resource one. */
struct req {
    const char *user;
    const char *groups; /* comma-separated */
    const char *verb;
    const char *group, *resource, *sub, *ns, *name;
    const char *path; /* set: non-resource */
};

static enum audit_level level_of(const struct audit_policy *p,
                                 const struct req *r, unsigned *omit)
{
    const char *groups[8];
    size_t n = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", r->groups ? r->groups : "");
    for (char *save, *g = strtok_r(buf, ",", &save); g && n < 8;
         g = strtok_r(NULL, ",", &save))
        groups[n++] = g;
    const struct fg_identity id = {
        .user = r->user, .groups = groups, .n_groups = n};
    const struct fg_request_info info = {
        .is_resource = r->path == NULL,
        .verb = r->verb,
        .api_prefix = r->path ? "" : "api",
        .api_group = r->group ? r->group : "",
        .api_version = "v1",
        .namespace_ = r->ns ? r->ns : "",
        .resource = r->resource ? r->resource : "",
        .subresource = r->sub ? r->sub : "",
        .name = r->name ? r->name : "",
        .path = r->path ? r->path : "/api/v1/x",
    };
    unsigned o;
    return audit_policy_level(p, r->user ? &id : NULL, &info, omit ? omit : &o);
}

#define M AUDIT_LEVEL_METADATA
#define N AUDIT_LEVEL_NONE
#define R AUDIT_LEVEL_REQUEST

struct match_case {
    const char *rule; /* one rule's YAML fields, a flow map */
    struct req req;
    enum audit_level want; /* the rule's level M when it matches, else N */
};

static const struct match_case cases[] = {
    /* users and groups */
    {"{level: Metadata, users: [alice]}", {"alice", "", "get"}, M},
    {"{level: Metadata, users: [alice]}", {"bob", "", "get"}, N},
    {"{level: Metadata, users: [alice]}", {NULL, NULL, "get"}, N},
    {"{level: Metadata, userGroups: [ops, dev]}", {"x", "a,dev", "get"}, M},
    {"{level: Metadata, userGroups: [ops]}", {"x", "a,dev", "get"}, N},
    {"{level: Metadata, userGroups: [ops]}", {"x", "", "get"}, N},
    {"{level: Metadata, users: [x], userGroups: [ops]}",
     {"x", "dev", "get"},
     N},
    /* verbs */
    {"{level: Metadata, verbs: [watch, list]}", {"x", "", "watch"}, M},
    {"{level: Metadata, verbs: [get]}", {"x", "", "list"}, N},
    /* namespaces: "" is the cluster scope; resource requests only */
    {"{level: Metadata, namespaces: [kube-system]}",
     {"x", "", "get", "", "pods", "", "kube-system"},
     M},
    {"{level: Metadata, namespaces: [kube-system]}",
     {"x", "", "get", "", "pods", "", "default"},
     N},
    {"{level: Metadata, namespaces: [\"\"]}",
     {"x", "", "get", "", "nodes", "", ""},
     M},
    {"{level: Metadata, namespaces: [\"\"]}",
     {"x", "", "get", "", "pods", "", "default"},
     N},
    {"{level: Metadata, namespaces: [default]}",
     {"x", "", "get", .path = "/api"},
     N},
    /* resources: group, resource, subresource wildcards, names */
    {"{level: Metadata, resources: [{group: \"\", resources: [pods]}]}",
     {"x", "", "get", "", "pods"},
     M},
    {"{level: Metadata, resources: [{group: \"\", resources: [pods]}]}",
     {"x", "", "get", "", "pods", "log"},
     N},
    {"{level: Metadata, resources: [{resources: [pods/log]}]}",
     {"x", "", "get", "", "pods", "log"},
     M},
    {"{level: Metadata, resources: [{resources: [pods/log]}]}",
     {"x", "", "get", "", "pods", "exec"},
     N},
    {"{level: Metadata, resources: [{resources: [\"pods/*\"]}]}",
     {"x", "", "create", "", "pods", "exec"},
     M},
    {"{level: Metadata, resources: [{resources: [\"pods/*\"]}]}",
     {"x", "", "get", "", "pods"},
     N},
    {"{level: Metadata, resources: [{resources: [\"*/scale\"]}]}",
     {"x", "", "update", "apps", "deployments", "scale"},
     N}, /* group "apps" is not the core group */
    {"{level: Metadata, resources: [{group: apps, resources: [\"*/scale\"]}]}",
     {"x", "", "update", "apps", "deployments", "scale"},
     M},
    {"{level: Metadata, resources: [{group: apps, resources: [\"*/scale\"]}]}",
     {"x", "", "update", "apps", "deployments"},
     N},
    {"{level: Metadata, resources: [{resources: [\"*\"]}]}",
     {"x", "", "get", "", "secrets", "status"},
     M},
    {"{level: Metadata, resources: [{group: apps}]}",
     {"x", "", "get", "apps", "replicasets", "scale"},
     M},
    {"{level: Metadata, resources: [{group: apps}]}",
     {"x", "", "get", "", "pods"},
     N},
    {"{level: Metadata, resources: [{resources: [configmaps], resourceNames: "
     "[cfg]}]}",
     {"x", "", "get", "", "configmaps", "", "ns", "cfg"},
     M},
    {"{level: Metadata, resources: [{resources: [configmaps], resourceNames: "
     "[cfg]}]}",
     {"x", "", "get", "", "configmaps", "", "ns", "other"},
     N},
    {"{level: Metadata, resources: [{group: x}, {resources: [pods]}]}",
     {"x", "", "get", "", "pods"},
     M},
    {"{level: Metadata, resources: [{resources: [pods]}]}",
     {"x", "", "get", .path = "/api/v1/pods"},
     N},
    /* non-resource URLs */
    {"{level: Metadata, nonResourceURLs: [/metrics]}",
     {"x", "", "get", .path = "/metrics"},
     M},
    {"{level: Metadata, nonResourceURLs: [/metrics]}",
     {"x", "", "get", .path = "/metrics/x"},
     N},
    {"{level: Metadata, nonResourceURLs: [\"/healthz*\"]}",
     {"x", "", "get", .path = "/healthz/etcd"},
     M},
    {"{level: Metadata, nonResourceURLs: [\"*\"]}",
     {"x", "", "get", .path = "/version"},
     M},
    {"{level: Metadata, nonResourceURLs: [\"*\"]}",
     {"x", "", "get", "", "pods"},
     N},
    /* a rule of nothing but a level matches everything */
    {"{level: Metadata}", {NULL, NULL, "get", .path = "/"}, M},
    {"{level: Metadata, verbs: [], users: null}",
     {"x", "", "get", "", "pods"},
     M},
};

static void test_matching_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), "rules: [%s]\n", cases[i].rule);
        struct audit_policy *p = parse(text);
        enum audit_level got = level_of(p, &cases[i].req, NULL);
        if (got != cases[i].want)
            fail_msg("case %zu (%s, user %s verb %s resource %s/%s): got %s", i,
                     cases[i].rule, cases[i].req.user, cases[i].req.verb,
                     cases[i].req.resource, cases[i].req.sub,
                     audit_level_name(got));
        audit_policy_free(p);
    }
}

static const char kube_style[] =
    "apiVersion: audit.k8s.io/v1\n"
    "kind: Policy\n"
    "metadata:\n"
    "  name: fleet\n"
    "omitStages:\n"
    "  - RequestReceived\n"
    "rules:\n"
    "  # nothing about the watch of system users\n"
    "  - level: None\n"
    "    userGroups: [\"system:nodes\"]\n"
    "    verbs: [\"watch\"]\n"
    "  - level: Request\n"
    "    resources:\n"
    "    - group: \"\"\n"
    "      resources: [\"secrets\", \"configmaps\"]\n"
    "    omitStages: [ResponseStarted]\n"
    "  - level: Metadata\n"
    "    omitManagedFields: true\n";

static const char kube_style_json[] =
    "{\"apiVersion\":\"audit.k8s.io/v1\",\"kind\":\"Policy\","
    "\"metadata\":{\"name\":\"fleet\"},\"omitStages\":[\"RequestReceived\"],"
    "\"rules\":[{\"level\":\"None\",\"userGroups\":[\"system:nodes\"],"
    "\"verbs\":[\"watch\"]},{\"level\":\"Request\",\"resources\":[{\"group\":"
    "\"\",\"resources\":[\"secrets\",\"configmaps\"]}],\"omitStages\":["
    "\"ResponseStarted\"]},{\"level\":\"Metadata\",\"omitManagedFields\":"
    "true}]}";

/* The first matching rule wins; omitStages of the policy and the rule add. */
static void test_first_rule_and_stages(void **state)
{
    (void)state;
    const char *texts[] = {kube_style, kube_style_json};
    for (int t = 0; t < 2; t++) {
        struct audit_policy *p = parse(texts[t]);
        unsigned omit;
        const struct req node_watch = {"n", "system:nodes", "watch", "",
                                       "secrets"};
        assert_int_equal(level_of(p, &node_watch, &omit), N);
        const struct req secret = {"u", "dev", "get", "", "secrets", "", "ns"};
        assert_int_equal(level_of(p, &secret, &omit), R);
        assert_int_equal(omit, AUDIT_STAGE_RECEIVED | AUDIT_STAGE_STARTED);
        const struct req pods = {"u", "dev", "watch", "", "pods", "", "ns"};
        assert_int_equal(level_of(p, &pods, &omit), M);
        assert_int_equal(omit, AUDIT_STAGE_RECEIVED);
        assert_true(audit_policy_wants_bodies(p));
        audit_policy_free(p);
    }
    struct audit_policy *p = parse("rules: [{level: Metadata}]");
    assert_false(audit_policy_wants_bodies(p));
    audit_policy_free(p);
}

struct bad_case {
    const char *text;
    const char *want; /* in the error, after "policy.yaml:" */
};

static const struct bad_case bad_cases[] = {
    {"", "the file is empty"},
    {"rules: [", "policy.yaml:2: did not find expected node content"},
    {"- level: None\n", "policy.yaml:1: the policy must be a map"},
    {"kind: Policy\n", "policy.yaml:1: the policy needs a list of rules"},
    {"rules: []\n", "policy.yaml:1: rules must be a list of at least one"},
    {"rules: x\n", "rules must be a list"},
    {"apiVersion: audit.k8s.io/v1beta1\nrules: [{level: None}]\n",
     "policy.yaml:1: apiVersion \"audit.k8s.io/v1beta1\" is not"},
    {"kind: ClusterRole\nrules: [{level: None}]\n",
     "policy.yaml:1: kind \"ClusterRole\" is not Policy"},
    {"kind: Policy\nrule: []\n", "policy.yaml:2: unknown field \"rule\""},
    {"rules:\n- level: None\n- verbs: [get]\n",
     "policy.yaml:3: a rule needs a level"},
    {"rules:\n- level: Verbose\n", "policy.yaml:2: level \"Verbose\" is not"},
    {"rules:\n- level: None\n  verb: [get]\n",
     "policy.yaml:3: unknown field \"verb\" in a rule"},
    {"rules:\n- level: None\n  level: Metadata\n",
     "policy.yaml:3: \"level\" is given twice"},
    {"rules:\n- level: None\n  users: alice\n",
     "policy.yaml:3: users must be a list"},
    {"rules:\n- level: None\n  users: [[a]]\n", "users must be a value"},
    {"rules:\n- level: None\n  omitStages: [Done]\n",
     "omitStages: \"Done\" is not a stage"},
    {"rules:\n- level: None\n  omitManagedFields: maybe\n",
     "omitManagedFields must be true or false"},
    {"rules:\n- level: None\n  resources: [{resourceNames: [x]}]\n",
     "resourceNames requires resources"},
    {"rules:\n- level: None\n  resources: [{kind: Pod}]\n",
     "unknown field \"kind\" in a resources entry"},
    {"rules:\n- level: None\n  resources: [pods]\n",
     "a resources entry must be a map"},
    {"rules:\n- level: None\n  nonResourceURLs: [/a]\n  namespaces: [x]\n",
     "policy.yaml:2: a rule matches resources or nonResourceURLs, not both"},
    {"rules:\n- level: None\n  nonResourceURLs: [\"/a*/b\"]\n",
     "'*' only as the last character"},
    {"rules: &r [{level: None}]\nx: *r\n", "aliases are not accepted"},
    {"rules: [{level: None}]\n---\nrules: [{level: None}]\n",
     "more than one document"},
    {"? [a]\n: b\n", "a map key must be a plain value"},
    {"rules: [{level: None}]\nmetadata: x\n", "metadata must be a map"},
};

static void test_mistakes_name_their_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        char err[512] = "";
        const char *t = bad_cases[i].text;
        struct audit_policy *p =
            audit_policy_parse("policy.yaml", t, strlen(t), err, sizeof(err));
        if (p || !strstr(err, bad_cases[i].want) ||
            strncmp(err, "policy.yaml:", 12) != 0)
            fail_msg("case %zu: %s: got %s", i, t, p ? "a policy" : err);
    }
}

static void test_depth_is_bounded(void **state)
{
    (void)state;
    char text[512] = "rules: [{level: None, users: ";
    for (int i = 0; i < 40; i++)
        strcat(text, "[");
    for (int i = 0; i < 40; i++)
        strcat(text, "]");
    strcat(text, "}]");
    char err[256];
    assert_null(audit_policy_parse("p", text, strlen(text), err, sizeof(err)));
    assert_non_null(strstr(err, "nested too deep"));
}

static void test_load_from_file(void **state)
{
    (void)state;
    char path[] = "/tmp/fedgate-audit-policy-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, kube_style, strlen(kube_style)),
                     (ssize_t)strlen(kube_style));
    close(fd);
    char err[256];
    struct audit_policy *p = audit_policy_load(path, 1 << 20, err, sizeof(err));
    assert_non_null(p);
    audit_policy_free(p);
    assert_null(audit_policy_load(path, 16, err, sizeof(err)));
    assert_non_null(strstr(err, "larger than 16 bytes"));
    unlink(path);
    assert_null(audit_policy_load(path, 1 << 20, err, sizeof(err)));
    assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching_table),
        cmocka_unit_test(test_first_rule_and_stages),
        cmocka_unit_test(test_mistakes_name_their_line),
        cmocka_unit_test(test_depth_is_bounded),
        cmocka_unit_test(test_load_from_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
