/* Tests of plugins/services/federation/rsp.c: the Webster split, its
 * minimums, maximums and ties, and the preference read from JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "rsp.h"

static void test_weights(void **state)
{
    (void)state;
    struct fed_share s[] = {{"m1", 1, 0, -1}, {"m2", 2, 0, -1}};
    long out[2];
    fed_webster(s, 2, 9, out);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 6);
    fed_webster(s, 1, 9, out);
    assert_int_equal(out[0], 9);
    fed_webster(s, 2, 0, out);
    assert_int_equal(out[0] + out[1], 0);
}

static void test_ties_go_by_name(void **state)
{
    (void)state;
    struct fed_share s[] = {{"b", 1, 0, -1}, {"a", 1, 0, -1}, {"c", 1, 0, -1}};
    long out[3];
    fed_webster(s, 3, 4, out);
    assert_int_equal(out[1], 2); /* a */
    assert_int_equal(out[0], 1); /* b */
    assert_int_equal(out[2], 1); /* c */
}

static void test_min_and_max(void **state)
{
    (void)state;
    struct fed_share s[] = {{"m1", 1, 4, -1}, {"m2", 10, 0, 2}};
    long out[2];
    fed_webster(s, 2, 9, out);
    assert_int_equal(out[0], 7);
    assert_int_equal(out[1], 2);
    /* every cluster full: the rest stays unplaced */
    struct fed_share full[] = {{"m1", 1, 0, 1}, {"m2", 0, 0, -1}};
    fed_webster(full, 2, 5, out);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 0);
    /* minimums beyond the total are cut, in order */
    struct fed_share mins[] = {{"m1", 1, 3, -1}, {"m2", 1, 3, -1}};
    fed_webster(mins, 2, 4, out);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 1);
}

/* The split is the Webster apportionment: for every pair, moving one
 * replica from one to the other does not make their quotients fairer. */
static void test_apportionment_property(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "b", "c", "d", "e"};
    for (long total = 0; total < 60; total++)
        for (unsigned seed = 1; seed < 30; seed++) {
            struct fed_share s[5];
            long out[5], sum = 0;
            for (size_t i = 0; i < 5; i++)
                s[i] = (struct fed_share){
                    names[i], (long)((seed * (i + 3)) % 7) + 1, 0, -1};
            fed_webster(s, 5, total, out);
            for (size_t i = 0; i < 5; i++)
                sum += out[i];
            assert_int_equal(sum, total);
            for (size_t i = 0; i < 5; i++)
                for (size_t k = 0; k < 5; k++)
                    if (i != k && out[i] > 0) /* i's last vs k's next */
                        assert_true(s[i].weight * (2 * out[k] + 1) >=
                                    s[k].weight * (2 * out[i] - 1));
        }
}

static void test_from_json(void **state)
{
    (void)state;
    const char *names[] = {"m1", "m2", "m3"};
    long out[3];
    cJSON *rsp = cJSON_Parse(
        "{\"spec\":{\"totalReplicas\":10,\"clusters\":{\"m1\":{\"weight\":"
        "1},\"*\":{\"weight\":2,\"maxReplicas\":3}}}}");
    assert_int_equal(fed_rsp_split(rsp, names, 3, out), 0);
    assert_int_equal(out[0], 4);
    assert_int_equal(out[1], 3);
    assert_int_equal(out[2], 3);
    cJSON_Delete(rsp);
    rsp = cJSON_Parse("{\"spec\":{\"totalReplicas\":7}}");
    assert_int_equal(fed_rsp_split(rsp, names, 3, out), 0);
    assert_int_equal(out[0] + out[1] + out[2], 7);
    assert_int_equal(out[0], 3); /* equal weights: ties by name */
    cJSON_Delete(rsp);
    rsp = cJSON_Parse("{\"spec\":{}}");
    assert_int_equal(fed_rsp_split(rsp, names, 3, out), -1);
    cJSON_Delete(rsp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_ties_go_by_name),
        cmocka_unit_test(test_min_and_max),
        cmocka_unit_test(test_apportionment_property),
        cmocka_unit_test(test_from_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
