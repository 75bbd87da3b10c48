/* Tests of the hand-written number formatting (core/base/fmt.c): every
 * result must equal what printf writes, across each digit count, both
 * ends of the range, and pseudo-random values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"

static uint64_t next(uint64_t *s)
{
    /* splitmix64: fixed seed, the same values on every run */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* V printed as unsigned, or as signed when SIGNED_. */
static void check(uint64_t v, int signed_)
{
    char want[32], got[FG_FMT_DEC_MAX];
    memset(got, 'x', sizeof(got));
    int n = signed_ ? snprintf(want, sizeof(want), "%" PRId64, (int64_t)v)
                    : snprintf(want, sizeof(want), "%" PRIu64, v);
    size_t len = signed_ ? fg_fmt_i64(got, (int64_t)v) : fg_fmt_u64(got, v);
    assert_int_equal(len, (size_t)n);
    assert_string_equal(got, want);
}

static void check_u(uint64_t v)
{
    check(v, 0);
}

static void check_i(int64_t v)
{
    check((uint64_t)v, 1);
}

static void test_decimal(void **state)
{
    (void)state;
    /* each power of ten and its neighbours: every digit count */
    uint64_t p = 1;
    for (int i = 0; i < 20; i++, p *= 10) {
        check_u(p - 1);
        check_u(p);
        check_u(p + 1);
        check_i((int64_t)(p - 1));
        check_i(-(int64_t)(p - 1));
        check_i(-(int64_t)p);
    }
    check_u(0);
    check_u(UINT64_MAX);
    check_i(0);
    check_i(-1);
    check_i(INT64_MAX);
    check_i(INT64_MIN);
    uint64_t s = 20;
    for (int i = 0; i < 10000; i++) {
        uint64_t v = next(&s) >> (i % 64);
        check_u(v);
        check_i((int64_t)v);
    }
}

static void test_hex(void **state)
{
    (void)state;
    uint64_t s = 16;
    for (unsigned w = 1; w <= 16; w++) {
        for (int i = 0; i < 1000; i++) {
            uint64_t v = i == 0 ? 0 : i == 1 ? UINT64_MAX : next(&s);
            char want[32], got[20];
            memset(got, 'x', sizeof(got));
            uint64_t low = w == 16 ? v : v & ((1ULL << (4 * w)) - 1);
            snprintf(want, sizeof(want), "%0*" PRIx64, (int)w, low);
            char *end = fg_fmt_hex(got, v, w);
            assert_ptr_equal(end, got + w);
            assert_int_equal(got[w], 'x'); /* nothing past WIDTH */
            *end = '\0';
            assert_string_equal(got, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
