/* Tests of the per-source connection counts (core/net/conn_sources.c): what
 * counts as one source, the cap, and that releases in any order keep every
 * other source findable (deletion by backward shift). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "net/conn_sources.h"

static struct fg_source v4(const char *addr)
{
    struct sockaddr_in in = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, addr, &in.sin_addr), 1);
    return fg_source_of((struct sockaddr *)&in);
}

static struct fg_source v6(const char *addr)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, addr, &in6.sin6_addr), 1);
    return fg_source_of((struct sockaddr *)&in6);
}

static int same(struct fg_source a, struct fg_source b)
{
    return a.family == b.family && a.bits == b.bits;
}

static void test_what_is_one_source(void **state)
{
    (void)state;
    assert_true(same(v6("2001:db8:1:2::1"), v6("2001:db8:1:2:ffff::9")));
    assert_false(same(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1")));
    assert_true(same(v4("192.0.2.7"), v6("::ffff:192.0.2.7")));
    assert_false(same(v4("192.0.2.7"), v4("192.0.2.8")));
    /* ::/64 holds ::1 and the mapped range: IPv4 must not fall in it */
    assert_false(same(v4("0.0.0.1"), v6("::1")));
    struct sockaddr_un_like {
        sa_family_t family;
    } other = {AF_UNIX};
    assert_int_equal(fg_source_of((struct sockaddr *)&other).family, 0);
}

static void test_cap(void **state)
{
    (void)state;
    struct fg_source_table t;
    assert_int_equal(fg_source_table_init(&t, 16), 0);
    struct fg_source a = v4("10.0.0.1"), b = v4("10.0.0.2");
    for (int i = 0; i < 3; i++)
        assert_int_equal(fg_source_take(&t, &a, 3), 0);
    assert_int_equal(fg_source_take(&t, &a, 3), -1);
    assert_int_equal(fg_source_take(&t, &b, 3), 0);
    assert_int_equal(fg_source_count(&t, &a), 3);
    fg_source_release(&t, &a);
    assert_int_equal(fg_source_take(&t, &a, 3), 0);
    assert_int_equal(fg_source_take(&t, &a, 0), 0); /* 0: no cap */
    assert_int_equal(fg_source_count(&t, &a), 4);
    fg_source_table_free(&t);
}

/* Many sources in a small table collide; releasing them in a scrambled
 * order must leave every count that remains intact. */
static void test_release_keeps_the_others(void **state)
{
    (void)state;
    enum { N = 200 };
    struct fg_source_table t;
    assert_int_equal(fg_source_table_init(&t, N), 0);
    struct fg_source s[N];
    for (int i = 0; i < N; i++) {
        struct sockaddr_in in = {.sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(0x0a000000u + i)};
        s[i] = fg_source_of((struct sockaddr *)&in);
        for (int k = 0; k <= i % 3; k++)
            assert_int_equal(fg_source_take(&t, &s[i], 0), 0);
    }
    int gone[N] = {0};
    for (int step = 0; step < N; step++) {
        int i = (step * 73) % N; /* 73 is prime to 200: each once */
        for (int k = 0; k <= i % 3; k++)
            fg_source_release(&t, &s[i]);
        gone[i] = 1;
        if (step % 17)
            continue;
        for (int j = 0; j < N; j++)
            assert_int_equal(fg_source_count(&t, &s[j]),
                             gone[j] ? 0 : (uint32_t)(j % 3 + 1));
    }
    for (size_t i = 0; i <= t.mask; i++)
        assert_int_equal(t.entries[i].count, 0);
    fg_source_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_is_one_source),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_release_keeps_the_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
