/* Tests of fedgatectl's reading of the gateway's answers
 * (tools/fedgatectl/answers.c): which rules are the ones every user
 * holds, over the shapes of rule a review can list, and NamespaceLists;
 * broken and truncated texts are refused, never misread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"

/* What conf.d/rbac/05-discovery.yaml grants, as the gateway lists it. */
#define BASIC_RES                                                              \
    "{\"verbs\":[\"create\"],\"apiGroups\":[\"authorization.k8s.io\"],"        \
    "\"resources\":[\"selfsubjectaccessreviews\","                             \
    "\"selfsubjectrulesreviews\"]},"                                           \
    "{\"verbs\":[\"create\"],\"apiGroups\":[\"authentication.k8s.io\"],"       \
    "\"resources\":[\"selfsubjectreviews\"]}"
#define BASIC_NON                                                              \
    "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api\",\"/api/*\","           \
    "\"/apis\",\"/apis/*\",\"/healthz\",\"/livez\",\"/readyz\",\"/openapi\","  \
    "\"/openapi/*\",\"/version\",\"/version/\"]}"

static int reaches(const char *res, const char *non, const char *more)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "{\"kind\":\"SelfSubjectRulesReview\",\"status\":{"
             "\"resourceRules\":[%s],\"nonResourceRules\":[%s]%s}}",
             res, non, more);
    return fg_ctl_review_reaches(text, strlen(text));
}

static void test_basic_rules_reach_nothing(void **state)
{
    (void)state;
    assert_int_equal(reaches(BASIC_RES, BASIC_NON, ""), 0);
    assert_int_equal(reaches("", "", ""), 0);
    assert_int_equal(reaches("", "", ",\"incomplete\":false"), 0);
    /* fewer verbs or URLs, a resource name, an empty list: still basic */
    assert_int_equal(reaches("{\"verbs\":[\"create\"],\"apiGroups\":"
                             "[\"authentication.k8s.io\"],\"resources\":"
                             "[\"selfsubjectreviews\"],\"resourceNames\":"
                             "[\"x\"]}",
                             "{\"verbs\":[],\"nonResourceURLs\":[\"/livez\"]}",
                             ""),
                     0);
    const char *empty = "{\"status\":{}}";
    assert_int_equal(fg_ctl_review_reaches(empty, strlen(empty)), 0);
}

static void test_any_other_rule_reaches(void **state)
{
    (void)state;
    /* each rule differs from a basic one in one field */
    static const char *const res[] = {
        "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}",
        "{\"verbs\":[\"*\"],\"apiGroups\":[\"authorization.k8s.io\"],"
        "\"resources\":[\"selfsubjectaccessreviews\"]}",
        "{\"verbs\":[\"create\"],\"apiGroups\":[\"*\"],"
        "\"resources\":[\"selfsubjectaccessreviews\"]}",
        "{\"verbs\":[\"create\"],\"apiGroups\":[\"authorization.k8s.io\"],"
        "\"resources\":[\"*\"]}",
        "{\"verbs\":[\"create\"],\"apiGroups\":[\"authorization.k8s.io\"],"
        "\"resources\":[\"subjectaccessreviews\"]}",
        "{\"verbs\":[\"create\",\"delete\"],\"apiGroups\":"
        "[\"authorization.k8s.io\"],\"resources\":[\"selfsubjectreviews\"]}",
    };
    static const char *const non[] = {
        "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/metrics\"]}",
        "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"*\"]}",
        "{\"verbs\":[\"post\"],\"nonResourceURLs\":[\"/version\"]}",
        "{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"/api\"]}",
        "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz/etcd\"]}",
    };
    char list[2048];
    for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
        snprintf(list, sizeof(list), BASIC_RES ",%s", res[i]);
        assert_int_equal(reaches(list, BASIC_NON, ""), 1);
        assert_int_equal(reaches(res[i], "", ""), 1);
    }
    for (size_t i = 0; i < sizeof(non) / sizeof(non[0]); i++) {
        snprintf(list, sizeof(list), "%s," BASIC_NON, non[i]);
        assert_int_equal(reaches(BASIC_RES, list, ""), 1);
    }
    /* an incomplete list might hide such a rule */
    assert_int_equal(reaches(BASIC_RES, BASIC_NON, ",\"incomplete\":true"), 1);
}

static void test_unreadable_reviews(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "{\"status\":[]}",
        "{\"status\":{\"resourceRules\":{}}}",
        "{\"status\":{\"resourceRules\":[1]}}",
        "{\"status\":{\"nonResourceRules\":[{\"verbs\":\"get\"}]}}",
        "{\"status\":{\"nonResourceRules\":[{\"verbs\":[1]}]}}",
        "{\"status\":{\"resourceRules\":[{\"resources\":[null]}]}}",
        "{\"status\":{}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(fg_ctl_review_reaches(bad[i], strlen(bad[i])), -1);
    char deep[200];
    memset(deep, '[', sizeof(deep));
    assert_int_equal(fg_ctl_review_reaches(deep, sizeof(deep)), -1);
    /* every cut of a good answer is refused: none is a whole review */
    char text[4096];
    snprintf(text, sizeof(text),
             "{\"status\":{\"resourceRules\":[" BASIC_RES
             "],\"nonResourceRules\":[" BASIC_NON "]}}");
    size_t len = strlen(text);
    assert_int_equal(fg_ctl_review_reaches(text, len), 0);
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(fg_ctl_review_reaches(text, cut), -1);
}

static void test_namespace_names(void **state)
{
    (void)state;
    const char *list =
        "{\"kind\":\"NamespaceList\",\"apiVersion\":\"v1\",\"items\":["
        "{\"metadata\":{\"name\":\"default\"}},"
        "{\"metadata\":{\"name\":\"shop\",\"labels\":{}}},"
        "{\"metadata\":{\"name\":\"kube-system\"},\"status\":{}}]}";
    char **names;
    assert_int_equal(fg_ctl_namespace_names(list, strlen(list), &names), 3);
    assert_string_equal(names[0], "default");
    assert_string_equal(names[1], "shop");
    assert_string_equal(names[2], "kube-system");
    fg_ctl_names_free(names, 3);
    const char *none = "{\"kind\":\"NamespaceList\",\"items\":[]}";
    assert_int_equal(fg_ctl_namespace_names(none, strlen(none), &names), 0);
    fg_ctl_names_free(names, 0);

    static const char *const bad[] = {
        "{\"kind\":\"PodList\",\"items\":[]}",
        "{\"items\":[]}",
        "{\"kind\":\"NamespaceList\"}",
        "{\"kind\":\"NamespaceList\",\"items\":{}}",
        "{\"kind\":\"NamespaceList\",\"items\":[{}]}",
        "{\"kind\":\"NamespaceList\",\"items\":[{\"metadata\":{\"name\":1}}]}",
        "{\"kind\":\"NamespaceList\",\"items\":[{\"metadata\":{\"name\":"
        "\"Shop\"}}]}",
        "{\"kind\":\"NamespaceList\",\"items\":[{\"metadata\":{\"name\":"
        "\"a/b\"}}]}",
        "{\"kind\":\"NamespaceList\",\"items\":[{\"metadata\":{\"name\":"
        "\"ok\"}},{\"metadata\":{}}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fg_ctl_namespace_names(bad[i], strlen(bad[i]), &names),
                         -1);
        assert_null(names);
    }
    for (size_t cut = 0; cut < strlen(list); cut++) {
        assert_int_equal(fg_ctl_namespace_names(list, cut, &names), -1);
        assert_null(names);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_rules_reach_nothing),
        cmocka_unit_test(test_any_other_rule_reaches),
        cmocka_unit_test(test_unreadable_reviews),
        cmocka_unit_test(test_namespace_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
