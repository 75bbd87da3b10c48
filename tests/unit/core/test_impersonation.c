/* Tests of the impersonation attributes (core/request/impersonation.c): the
 * questions kube-apiserver's impersonation filter asks for each kind of
 * Impersonate-* header, in its order, and the identity it builds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "request/impersonation.h"

#define H(n, v)                                                                \
    {                                                                          \
        n, sizeof(n) - 1, v, sizeof(v) - 1                                     \
    }

struct want_q {
    const char *group, *resource, *sub, *ns, *name;
};

struct imp_case {
    const char *what;
    struct fg_header headers[6];
    size_t n_headers;
    int rc;
    struct want_q q[6];
    size_t n_q;
    const char *user, *uid;
    const char *groups[5];
    size_t n_groups;
};

static const struct imp_case cases[] = {
    {"nothing asked",
     {H("authorization", "Bearer x")},
     1,
     0,
     {{0}},
     0,
     NULL,
     NULL,
     {NULL},
     0},
    {"a user",
     {H("Impersonate-User", "bob")},
     1,
     1,
     {{"", "users", "", "", "bob"}},
     1,
     "bob",
     NULL,
     {"system:authenticated"},
     1},
    {"the first user header counts",
     {H("impersonate-user", "bob"), H("impersonate-user", "eve")},
     2,
     1,
     {{"", "users", "", "", "bob"}},
     1,
     "bob",
     NULL,
     {"system:authenticated"},
     1},
    {"a service account",
     {H("Impersonate-User", "system:serviceaccount:ns1:robot")},
     1,
     1,
     {{"", "serviceaccounts", "", "ns1", "robot"}},
     1,
     "system:serviceaccount:ns1:robot",
     NULL,
     {"system:serviceaccounts", "system:serviceaccounts:ns1",
      "system:authenticated"},
     3},
    {"a service account with groups: those, not its own",
     {H("Impersonate-User", "system:serviceaccount:ns1:robot"),
      H("Impersonate-Group", "g")},
     2,
     1,
     {{"", "serviceaccounts", "", "ns1", "robot"}, {"", "groups", "", "", "g"}},
     2,
     "system:serviceaccount:ns1:robot",
     NULL,
     {"g", "system:authenticated"},
     2},
    {"not a valid service account name: a user",
     {H("Impersonate-User", "system:serviceaccount:NS:x:y")},
     1,
     1,
     {{"", "users", "", "", "system:serviceaccount:NS:x:y"}},
     1,
     "system:serviceaccount:NS:x:y",
     NULL,
     {"system:authenticated"},
     1},
    {"groups, extras and uid in kube's order",
     {H("Impersonate-Uid", "42"), H("Impersonate-Extra-Scopes%2Fx", "a"),
      H("Impersonate-Group", "g1"), H("Impersonate-User", "u"),
      H("impersonate-extra-scopes%2fx", "b"), H("Impersonate-Group", "g2")},
     6,
     1,
     {{"", "users", "", "", "u"},
      {"", "groups", "", "", "g1"},
      {"", "groups", "", "", "g2"},
      {"authentication.k8s.io", "userextras", "scopes/x", "", "a"},
      {"authentication.k8s.io", "userextras", "scopes/x", "", "b"},
      {"authentication.k8s.io", "uids", "", "", "42"}},
     6,
     "u",
     "42",
     {"g1", "g2", "system:authenticated"},
     3},
    {"a bad escape keeps the key as sent",
     {H("Impersonate-User", "u"), H("Impersonate-Extra-A%zz", "v")},
     2,
     1,
     {{"", "users", "", "", "u"},
      {"authentication.k8s.io", "userextras", "a%zz", "", "v"}},
     2,
     "u",
     NULL,
     {"system:authenticated"},
     1},
    {"system:authenticated asked: not added twice",
     {H("Impersonate-User", "u"),
      H("Impersonate-Group", "system:authenticated")},
     2,
     1,
     {{"", "users", "", "", "u"},
      {"", "groups", "", "", "system:authenticated"}},
     2,
     "u",
     NULL,
     {"system:authenticated"},
     1},
    {"anonymous is unauthenticated",
     {H("Impersonate-User", "system:anonymous")},
     1,
     1,
     {{"", "users", "", "", "system:anonymous"}},
     1,
     "system:anonymous",
     NULL,
     {"system:unauthenticated"},
     1},
    {"a group without a user",
     {H("Impersonate-Group", "g")},
     1,
     -1,
     {{0}},
     0,
     NULL,
     NULL,
     {NULL},
     0},
    {"an empty user with an extra",
     {H("Impersonate-User", ""), H("Impersonate-Extra-k", "v")},
     2,
     -1,
     {{0}},
     0,
     NULL,
     NULL,
     {NULL},
     0},
    {"a uid without a user",
     {H("Impersonate-Uid", "1")},
     1,
     -1,
     {{0}},
     0,
     NULL,
     NULL,
     {NULL},
     0},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct imp_case *k = &cases[c];
        struct fg_arena *a = fg_arena_new(0);
        struct fg_impersonation imp;
        char err[256] = "";
        int rc = fg_impersonation_read(a, k->headers, k->n_headers, &imp, err,
                                       sizeof(err));
        if (rc != k->rc)
            fail_msg("%s: rc %d, want %d (%s)", k->what, rc, k->rc, err);
        if (rc == -1)
            assert_non_null(strstr(err, "without impersonating a user"));
        if (rc != 1) {
            fg_arena_free(a);
            continue;
        }
        assert_int_equal(imp.n_questions, k->n_q);
        for (size_t i = 0; i < k->n_q; i++) {
            const struct fg_request_info *q = &imp.questions[i];
            const struct want_q *w = &k->q[i];
            assert_true(q->is_resource);
            assert_string_equal(q->verb, "impersonate");
            assert_string_equal(q->api_group, w->group);
            assert_string_equal(q->resource, w->resource);
            assert_string_equal(q->subresource, w->sub);
            assert_string_equal(q->namespace_, w->ns);
            assert_string_equal(q->name, w->name);
        }
        assert_string_equal(imp.identity.user, k->user);
        if (k->uid)
            assert_string_equal(imp.identity.uid, k->uid);
        else
            assert_null(imp.identity.uid);
        assert_int_equal(imp.identity.n_groups, k->n_groups);
        for (size_t i = 0; i < k->n_groups; i++)
            assert_string_equal(imp.identity.groups[i], k->groups[i]);
        fg_arena_free(a);
    }
}

static void test_extras_grouped_by_key(void **state)
{
    (void)state;
    const struct fg_header h[] = {
        H("Impersonate-User", "u"), H("Impersonate-Extra-a", "1"),
        H("Impersonate-Extra-b", "2"), H("Impersonate-Extra-A", "3")};
    struct fg_arena *a = fg_arena_new(0);
    struct fg_impersonation imp;
    char err[64];
    assert_int_equal(fg_impersonation_read(a, h, 4, &imp, err, sizeof(err)), 1);
    assert_int_equal(imp.identity.n_extra, 2);
    assert_string_equal(imp.identity.extra[0].key, "a");
    assert_int_equal(imp.identity.extra[0].n_values, 2);
    assert_string_equal(imp.identity.extra[0].values[0], "1");
    assert_string_equal(imp.identity.extra[0].values[1], "3");
    assert_string_equal(imp.identity.extra[1].key, "b");
    assert_int_equal(imp.identity.extra[1].n_values, 1);
    fg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_extras_grouped_by_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
