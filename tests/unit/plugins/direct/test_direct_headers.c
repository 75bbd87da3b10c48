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
    size_t n = direct_extra_headers("Bearer tok", 1, &id, h);
    assert_int_equal(n, 5);
    assert_string_equal(value(h, n, "authorization", 0), "Bearer tok");
    assert_string_equal(value(h, n, "impersonate-user", 0), "alice");
    assert_string_equal(value(h, n, "impersonate-uid", 0), "u-1");
    assert_int_equal(count(h, n, "impersonate-group"), 2);
    assert_string_equal(value(h, n, "impersonate-group", 0), "dev");
    assert_string_equal(value(h, n, "impersonate-group", 1),
                        "system:authenticated");

    /* impersonate = false, client certificate: neither is sent */
    assert_int_equal(direct_extra_headers(NULL, 0, &id, h), 0);
    /* no identity (the health probe): the token only */
    assert_int_equal(direct_extra_max(NULL), 3);
    n = direct_extra_headers("Bearer tok", 1, NULL, h);
    assert_int_equal(n, 1);
    assert_string_equal(value(h, n, "authorization", 0), "Bearer tok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identity_becomes_impersonation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
