/* Tests of the headers the direct driver adds (headers.c): its bearer
 * token, and the impersonation of the authenticated user. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "direct.h"

static size_t count(const struct fg_header *h, size_t n, const char *name)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (h[i].name_len == strlen(name) &&
            memcmp(h[i].name, name, h[i].name_len) == 0)
            k++;
    return k;
}

static const char *value(const struct fg_header *h, size_t n, const char *name,
                         size_t nth)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].name, name) == 0 && nth-- == 0)
            return h[i].value;
    return NULL;
}

static void identity_becomes_impersonation(void **state)
{
    (void)state;
    static const char *const groups[] = {"dev", "system:authenticated"};
    struct fg_identity id = {
        .user = "alice", .uid = "u-1", .groups = groups, .n_groups = 2};
    assert_int_equal(direct_extra_max(&id), 5);
    struct fg_header h[5];
    char names[1];
    assert_int_equal(direct_extra_names_bytes(&id), 1);
    size_t n = direct_extra_headers("Bearer tok", 1, &id, h, names);
    assert_int_equal(n, 5);
    assert_string_equal(value(h, n, "authorization", 0), "Bearer tok");
    assert_string_equal(value(h, n, "impersonate-user", 0), "alice");
    assert_string_equal(value(h, n, "impersonate-uid", 0), "u-1");
    assert_int_equal(count(h, n, "impersonate-group"), 2);
    assert_string_equal(value(h, n, "impersonate-group", 0), "dev");
    assert_string_equal(value(h, n, "impersonate-group", 1),
                        "system:authenticated");

    /* impersonate = false, client certificate: neither is sent */
    assert_int_equal(direct_extra_headers(NULL, 0, &id, h, names), 0);
    /* no identity (the health probe): the token only */
    assert_int_equal(direct_extra_max(NULL), 3);
    n = direct_extra_headers("Bearer tok", 1, NULL, h, names);
    assert_int_equal(n, 1);
    assert_string_equal(value(h, n, "authorization", 0), "Bearer tok");
}

/* Extra attributes become Impersonate-Extra-KEY, one header per value,
 * KEY lower-case and percent-encoded where a header name cannot hold it. */
static void extra_becomes_impersonate_extra(void **state)
{
    (void)state;
    static const char *const scopes[] = {"view", "edit"};
    static const char *const one[] = {"x y"};
    const struct fg_identity_extra extra[] = {
        {"Scopes.Example.com/v1", scopes, 2},
        {"a%b c\x01", one, 1},
        {"", one, 1}, /* no key: nothing to send */
    };
    struct fg_identity id = {.user = "alice", .extra = extra, .n_extra = 3};
    size_t max = direct_extra_max(&id);
    assert_int_equal(max, 3 + 2 + 1 + 1);
    struct fg_header h[8];
    char names[256];
    assert_true(direct_extra_names_bytes(&id) <= sizeof(names));
    size_t n = direct_extra_headers(NULL, 1, &id, h, names);
    assert_int_equal(n, 4);
    const char *k1 = "impersonate-extra-scopes.example.com%2Fv1";
    assert_int_equal(count(h, n, k1), 2);
    assert_string_equal(value(h, n, k1, 0), "view");
    assert_string_equal(value(h, n, k1, 1), "edit");
    assert_string_equal(value(h, n, "impersonate-extra-a%25b%20c%01", 0),
                        "x y");
    for (size_t i = 0; i < n; i++)
        assert_int_equal(h[i].name_len, strlen(h[i].name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identity_becomes_impersonation),
        cmocka_unit_test(extra_becomes_impersonate_extra),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
