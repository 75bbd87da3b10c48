/* Tests of the request arena (core/request/arena.c): every piece aligned,
 * distinct and intact across the first chunk (which shares the arena's
 * own allocation) and the chunks added after it; ASan checks the frees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdalign.h>
#include <string.h>

#include "request/arena.h"

/* Fills an arena with pieces of growing sizes, each stamped with its own
 * byte, then checks alignment and that no piece overwrote another. */
static void fill_and_check(size_t first, size_t pieces)
{
    struct fg_arena *a = fg_arena_new(first);
    assert_non_null(a);
    unsigned char *p[64];
    size_t len[64], total = 0;
    assert_true(pieces <= 64);
    for (size_t i = 0; i < pieces; i++) {
        len[i] = 1 + i * 37 % 700 + (i % 9 == 0 ? 3000 : 0);
        p[i] = fg_arena_alloc(a, len[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % alignof(max_align_t), 0);
        memset(p[i], (int)i + 1, len[i]);
        total += len[i];
        assert_int_equal(fg_arena_used(a), total);
    }
    for (size_t i = 0; i < pieces; i++)
        for (size_t k = 0; k < len[i]; k++)
            assert_int_equal(p[i][k], (unsigned char)(i + 1));
    fg_arena_free(a);
}

static void test_first_chunk_only(void **state)
{
    (void)state;
    fill_and_check(0, 1);
    fill_and_check(64 * 1024, 40);
}

static void test_many_chunks(void **state)
{
    (void)state;
    fill_and_check(0, 64);
    fill_and_check(1, 64);
    fill_and_check(100, 64);
}

static void test_strndup(void **state)
{
    (void)state;
    struct fg_arena *a = fg_arena_new(16);
    assert_non_null(a);
    char *s = fg_arena_strndup(a, "cluster-one/rest", 11);
    char *t = fg_arena_strndup(a, "", 0);
    assert_string_equal(s, "cluster-one");
    assert_string_equal(t, "");
    assert_null(fg_arena_alloc(a, SIZE_MAX));
    fg_arena_free(a);
    fg_arena_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_chunk_only),
        cmocka_unit_test(test_many_chunks),
        cmocka_unit_test(test_strndup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
