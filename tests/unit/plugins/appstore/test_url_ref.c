/* The app store's URL references (url_ref.c): an index's chart URLs and a
 * redirect's Location resolved against the URL they came from, in every
 * form RFC 3986 gives a reference, and bases without a path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "url_ref.h"

static void expect_resolved(const char *base, const char *ref, const char *want)
{
    char *got = appstore_url_resolve(base, ref);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_forms_of_reference(void **state)
{
    (void)state;
    const char *b = "https://charts.example:8443/stable/index.yaml";
    expect_resolved(b, "https://cdn.example/a.tgz",
                    "https://cdn.example/a.tgz");
    expect_resolved(b, "http://cdn.example/a.tgz", "http://cdn.example/a.tgz");
    expect_resolved(b, "HTTPS://cdn.example/a", "HTTPS://cdn.example/a");
    expect_resolved(b, "ftp://x/y", "ftp://x/y"); /* the caller refuses it */
    expect_resolved(b, "//mirror.example/a.tgz",
                    "https://mirror.example/a.tgz");
    expect_resolved(b, "/other/a.tgz",
                    "https://charts.example:8443/other/a.tgz");
    expect_resolved(b, "a-1.0.0.tgz",
                    "https://charts.example:8443/stable/a-1.0.0.tgz");
    expect_resolved(b, "charts/a.tgz",
                    "https://charts.example:8443/stable/charts/a.tgz");
    expect_resolved(b, "?page=2",
                    "https://charts.example:8443/stable/index.yaml?page=2");
    /* a colon after a slash is a path, not a scheme */
    expect_resolved(b, "", "https://charts.example:8443/stable/index.yaml");
    expect_resolved("https://h/i?q#f", "", "https://h/i?q");
    expect_resolved(b, "a/b:c", "https://charts.example:8443/stable/a/b:c");
    expect_resolved(b, "1a:b", "https://charts.example:8443/stable/1a:b");
}

static void test_bases_without_a_path(void **state)
{
    (void)state;
    expect_resolved("https://h", "a.tgz", "https://h/a.tgz");
    expect_resolved("https://h", "/a.tgz", "https://h/a.tgz");
    expect_resolved("https://h?q=1", "a.tgz", "https://h/a.tgz");
    expect_resolved("https://h#f", "/x", "https://h/x");
    expect_resolved("https://h/", "a.tgz", "https://h/a.tgz");
    /* the base's query and fragment never reach a relative result */
    expect_resolved("https://h/d/i.yaml?x=/y/z#/w", "a.tgz",
                    "https://h/d/a.tgz");
}

static void test_bases_that_are_not_absolute(void **state)
{
    (void)state;
    expect_resolved("", "a", NULL);
    expect_resolved("/index.yaml", "a", NULL);
    expect_resolved("https:/h/i", "a", NULL);
    expect_resolved("://h/i", "a", NULL);
}

static void test_locations(void **state)
{
    (void)state;
    assert_int_equal(appstore_location_ok("/a", 2, 10), 1);
    assert_int_equal(appstore_location_ok("", 0, 10), 0);
    assert_int_equal(appstore_location_ok("/a b", 4, 10), 0);
    assert_int_equal(appstore_location_ok("/a\r\nX: y", 8, 10), 0);
    assert_int_equal(appstore_location_ok("/a\x7f", 3, 10), 0);
    assert_int_equal(appstore_location_ok("/\xc3\xa9", 3, 10), 0);
    assert_int_equal(appstore_location_ok("/abcdefghij", 11, 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_of_reference),
        cmocka_unit_test(test_bases_without_a_path),
        cmocka_unit_test(test_bases_that_are_not_absolute),
        cmocka_unit_test(test_locations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
