/* The rule files: YAML with several documents, JSON, a List, a directory
 * of files whose bindings name roles of other files, and the class of
 * bad input, each refused with the file and line that say it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"

#define HDR "apiVersion: rbac.authorization.k8s.io/v1\n"
#define VIEW                                                                   \
    HDR "kind: ClusterRole\nmetadata: {name: view}\n"                          \
        "rules: [{verbs: [get], apiGroups: [''], resources: [pods]}]\n"

static void test_json_and_lists(void **state)
{
    (void)state;
    char err[512] = "";
    struct rbac_policy *p = policy_from(
        "{\n\t\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n"
        "\t{\"apiVersion\": \"rbac.authorization.k8s.io/v1\",\n"
        "\t \"kind\": \"Role\",\n"
        "\t \"metadata\": {\"name\": \"r\", \"namespace\": \"ns\"},\n"
        "\t \"rules\": [{\"verbs\": [\"get\"], \"apiGroups\": [\"\"],\n"
        "\t             \"resources\": [\"pods\"]}]},\n"
        "\t{\"apiVersion\": \"rbac.authorization.k8s.io/v1\",\n"
        "\t \"kind\": \"RoleBinding\",\n"
        "\t \"metadata\": {\"name\": \"b\", \"namespace\": \"ns\",\n"
        "\t   \"annotations\": {\"fedgate.io/clusters\": \"demo\"}},\n"
        "\t \"roleRef\": {\"kind\": \"Role\", \"name\": \"r\"},\n"
        "\t \"subjects\": [{\"kind\": \"User\", \"name\": \"u\"}]}\n"
        "]}\n",
        err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    assert_int_equal(p->n_roles, 1);
    assert_int_equal(p->n_bindings, 1);
    assert_int_equal(p->bindings[0].line, 8);
    assert_true(
        allowed(p, "u", "", "demo", "GET", "/api/v1/namespaces/ns/pods/p"));
    rbac_policy_free(p);
    /* a JSON array, an empty document and a null rules list */
    p = policy_from("---\n---\n[" VIEW "]\n", err, sizeof(err));
    assert_null(p); /* YAML block inside a flow sequence is not YAML */
    p = policy_from("---\n---\n" VIEW "---\n" HDR
                    "kind: ClusterRole\nmetadata: {name: none}\nrules:\n",
                    err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    assert_int_equal(p->n_roles, 2);
    assert_int_equal(p->roles[1].n_rules, 0);
    rbac_policy_free(p);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A directory: *.yaml, *.yml and *.json in lexical order; other files
 * and subdirectories are not read; a role may live in another file. */
static void test_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/fg-rbac-dir-XXXXXX", err[512], sub[300];
    assert_non_null(mkdtemp(dir));
    write_file(dir, "b-binding.yml",
               HDR "kind: ClusterRoleBinding\nmetadata:\n  name: b\n"
                   "  annotations: {fedgate.io/clusters: demo}\n"
                   "roleRef: {kind: ClusterRole, name: view}\n"
                   "subjects: [{kind: User, name: u}]\n");
    write_file(dir, "a-role.json",
               "{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", "
               "\"kind\": \"ClusterRole\", \"metadata\": {\"name\": "
               "\"view\"}, \"rules\": [{\"verbs\": [\"list\"], "
               "\"apiGroups\": [\"\"], \"resources\": [\"pods\"]}]}");
    write_file(dir, "README.md", "not rules: {");
    write_file(dir, ".hidden.yaml", "not: [rules");
    snprintf(sub, sizeof(sub), "%s/sub.yaml", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    struct rbac_policy *p = rbac_load(dir, 1 << 20, err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    assert_true(allowed(p, "u", "", "demo", "GET", "/api/v1/pods"));
    assert_string_equal(p->bindings[0].role->file + strlen(dir),
                        "/a-role.json");
    rbac_policy_free(p);
    /* the limit on a file's size */
    assert_null(rbac_load(dir, 64, err, sizeof(err)));
    assert_non_null(strstr(err, "a-role.json: must be a regular file of at "
                                "most 64 bytes"));
    write_file(dir, "c-bad.yaml", "kind: [\n");
    assert_null(rbac_load(dir, 1 << 20, err, sizeof(err)));
    assert_non_null(strstr(err, "/c-bad.yaml:2: "));
    char path[300];
    snprintf(path, sizeof(path), "%s/c-bad.yaml", dir);
    unlink(path);
    rmdir(sub);
    snprintf(path, sizeof(path), "%s/a-role.json", dir);
    unlink(path);
    assert_null(rbac_load(dir, 1 << 20, err, sizeof(err)));
    assert_non_null(strstr(err, "/b-binding.yml:1: roleRef names ClusterRole "
                                "\"view\", which no rule file defines"));
    static const char *const rest[] = {"b-binding.yml", "README.md",
                                       ".hidden.yaml"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, rest[i]);
        unlink(path);
    }
    rmdir(dir);
    assert_null(rbac_load(dir, 1 << 20, err, sizeof(err)));
    assert_non_null(strstr(err, "No such file"));
}

/* Bad input, each refused at the line that says it. */
static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"a: [b\n", "rules.yaml:2: did not find expected ',' or ']'"},
        {"a: &x [b]\nc: *x\n", "rules.yaml:2: aliases are not accepted"},
        {"\n\n- x\n", "rules.yaml:3: expected a Kubernetes object"},
        {"kind: Pod\n", "rules.yaml:1: kind must be Role, ClusterRole, "
                        "RoleBinding, ClusterRoleBinding or List, not \"Pod\""},
        {"apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\n",
         "rules.yaml:1: apiVersion must be rbac.authorization.k8s.io/v1"},
        {HDR "kind: Role\nmetadata: {name: r}\n",
         "rules.yaml:3: a Role needs metadata.namespace"},
        {HDR "kind: ClusterRole\nmetadata: {}\n",
         "rules.yaml:3: a ClusterRole needs metadata.name"},
        {HDR "kind: ClusterRole\nmetadata: {name: r}\nrules:\n- verbs: []\n"
             "  apiGroups: ['']\n  resources: [pods]\n",
         "rules.yaml:5: verbs must contain at least one value"},
        {HDR "kind: ClusterRole\nmetadata: {name: r}\nrules:\n"
             "- {verbs: [get], resources: [pods]}\n",
         "rules.yaml:5: resource rules must supply at least one api group"},
        {HDR "kind: ClusterRole\nmetadata: {name: r}\nrules:\n"
             "- {verbs: [get], apiGroups: ['']}\n",
         "rules.yaml:5: resource rules must supply at least one resource"},
        {HDR "kind: ClusterRole\nmetadata: {name: r}\nrules:\n"
             "- {verbs: [get], apiGroups: [''], nonResourceURLs: [/x]}\n",
         "rules.yaml:5: rules cannot apply to both regular resources and "
         "non-resource URLs"},
        {HDR "kind: Role\nmetadata: {name: r, namespace: n}\nrules:\n"
             "- {verbs: [get], nonResourceURLs: [/x]}\n",
         "rules.yaml:5: namespaced rules cannot apply to non-resource URLs"},
        {HDR "kind: ClusterRole\nmetadata: {name: r}\nrules:\n"
             "- verbs: [get]\n  apiGroups: ['']\n  resource: [pods]\n",
         "rules.yaml:7: unknown field \"resource\" in a rule"},
        {HDR "kind: ClusterRole\nmetadata: {name: r}\nrules:\n"
             "- {verbs: get, apiGroups: [''], resources: [pods]}\n",
         "rules.yaml:5: verbs must be a list of strings"},
        {HDR "kind: ClusterRole\nmetadata: {name: r}\nrules:\n"
             "- {verbs: [[get]], apiGroups: [''], resources: [pods]}\n",
         "rules.yaml:5: verbs must be a list of strings"},
        {HDR "kind: ClusterRole\nmetadata: {name: r}\naggregationRule: {}\n",
         "rules.yaml:4: aggregated ClusterRoles are not supported"},
        {HDR "kind: ClusterRole\nmetadata:\n  name: r\n  annotations:\n"
             "    fedgate.io/clusters: demo\n",
         "rules.yaml:6: fedgate.io/clusters belongs on bindings"},
        {VIEW "---\n" VIEW,
         "rules.yaml:6: ClusterRole \"view\" is defined again (first at "},
        {HDR "kind: ClusterRoleBinding\nmetadata: {name: b}\n",
         "rules.yaml:1: a binding needs a roleRef"},
        {HDR "kind: ClusterRoleBinding\nmetadata: {name: b}\n"
             "roleRef: {kind: Role, name: r}\n",
         "rules.yaml:4: roleRef.kind is ClusterRole"},
        {HDR "kind: RoleBinding\nmetadata: {name: b, namespace: n}\n"
             "roleRef: {kind: Group, name: r}\n",
         "rules.yaml:4: roleRef.kind is Role or ClusterRole"},
        {HDR "kind: ClusterRoleBinding\nmetadata: {name: b}\n"
             "roleRef: {apiGroup: x.io, kind: ClusterRole, name: r}\n",
         "rules.yaml:4: roleRef.apiGroup is rbac.authorization.k8s.io"},
        {HDR "kind: ClusterRoleBinding\nmetadata: {name: b}\n"
             "roleRef: {kind: ClusterRole, name: r}\n"
             "subjects:\n- {kind: Robot, name: x}\n",
         "rules.yaml:6: a subject's kind is User, Group or ServiceAccount"},
        {HDR "kind: ClusterRoleBinding\nmetadata: {name: b}\n"
             "roleRef: {kind: ClusterRole, name: r}\n"
             "subjects:\n- {kind: ServiceAccount, name: x}\n",
         "rules.yaml:6: a ServiceAccount subject of a ClusterRoleBinding "
         "needs a namespace"},
        {HDR "kind: ClusterRoleBinding\nmetadata: {name: b}\n"
             "roleRef: {kind: ClusterRole, name: r}\n"
             "subjects:\n- {kind: User}\n",
         "rules.yaml:6: a subject needs a name"},
        {HDR "kind: ClusterRoleBinding\nmetadata:\n  name: b\n"
             "  annotations: {fedgate.io/clusters: ', ,'}\n"
             "roleRef: {kind: ClusterRole, name: r}\n",
         "rules.yaml:5: fedgate.io/clusters names no cluster"},
        {HDR "kind: ClusterRoleBinding\nmetadata: {name: b}\n"
             "roleRef: {kind: ClusterRole, name: r}\n",
         "rules.yaml:1: roleRef names ClusterRole \"r\", which no rule file "
         "defines"},
        {VIEW "---\n" HDR "kind: RoleBinding\nmetadata: {name: b, "
              "namespace: n}\nroleRef: {kind: Role, name: view}\n",
         "rules.yaml:6: roleRef names Role \"view\" in namespace \"n\""},
        {"kind: List\nitems:\n- kind: List\n  items: []\n",
         "rules.yaml:3: kind must be Role"},
        {"a: \"x\\0y\"\n", "rules.yaml:1: a value holds a NUL character"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char err[512] = "";
        struct rbac_policy *p = policy_from(cases[i].yaml, err, sizeof(err));
        if (p) {
            rbac_policy_free(p);
            fail_msg("case %zu: accepted", i);
        }
        if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s...\"", i, err,
                     cases[i].want);
    }
}

/* Nesting is bounded before anything is built from it. */
static void test_deep_nesting(void **state)
{
    (void)state;
    char text[256], err[512];
    memset(text, '[', 100);
    text[100] = '\0';
    assert_null(policy_from(text, err, sizeof(err)));
    assert_non_null(strstr(err, "rules.yaml:1: nested too deep"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_and_lists),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_deep_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
