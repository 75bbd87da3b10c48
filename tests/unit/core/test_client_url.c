/* Tests of the server URLs a dialling client takes (core/client/url.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "client/client.h"

static void urls(void **state)
{
    (void)state;
    struct fg_client_url u;
    char err[256];
    assert_int_equal(
        fg_client_url_parse("https://10.0.0.1:6443", &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "10.0.0.1");
    assert_int_equal(u.port, 6443);
    assert_true(u.is_ip);
    assert_string_equal(u.authority, "10.0.0.1:6443");

    assert_int_equal(
        fg_client_url_parse("https://api.example.com/", &u, err, sizeof(err)),
        0);
    assert_string_equal(u.host, "api.example.com");
    assert_int_equal(u.port, 443);
    assert_false(u.is_ip);
    assert_string_equal(u.authority, "api.example.com");

    assert_int_equal(
        fg_client_url_parse("https://[::1]:8443", &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "::1");
    assert_true(u.is_ip);
    assert_string_equal(u.authority, "[::1]:8443");

    static const char *const bad[] = {
        "http://10.0.0.1",
        "https://",
        "https://h:0",
        "https://h:65536",
        "https://h:x",
        "https://h/path",
        "https://u@h",
        "https://h?q",
        "https://[::1",
        "https://a b",
        "https://h:6443/clusters/x",
        "https://::1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_int_equal(fg_client_url_parse(bad[i], &u, err, sizeof(err)), -1);
        assert_true(err[0] != 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
