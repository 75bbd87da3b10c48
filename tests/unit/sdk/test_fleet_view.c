/* fg_fleet_view (fedgate/fleet_view.h) against a fake host: the fleet is
 * read at once, read again only when its version moved, MOVED runs only
 * when what it says changed, a failed read keeps the last view, and a core
 * without a fleet view gives an unknown view that never polls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include <fedgate/fleet_view.h>

static struct fake {
    const char *members; /* what fleet_members answers; NULL: fails */
    uint64_t version;
    int reads, moved, timers;
    uint64_t armed_ms;
    fg_timer_cb cb;
    void *arg;
} fk;

static struct fg_timer *timer_new(const struct fg_host *h, fg_timer_cb cb,
                                  void *arg)
{
    (void)h;
    fk.cb = cb;
    fk.arg = arg;
    fk.timers++;
    return (struct fg_timer *)&fk;
}

static void timer_arm(struct fg_timer *t, uint64_t ms)
{
    (void)t;
    fk.armed_ms = ms;
}

static void timer_free(struct fg_timer *t)
{
    (void)t;
    fk.timers--;
}

static char *fleet_members(const struct fg_host *h, uint64_t *version)
{
    (void)h;
    fk.reads++;
    *version = fk.version;
    return fk.members ? strdup(fk.members) : NULL;
}

static uint64_t fleet_version(const struct fg_host *h)
{
    (void)h;
    return fk.version;
}

static struct fg_host host = {
    .struct_size = sizeof(struct fg_host),
    .timer_new = timer_new,
    .timer_arm = timer_arm,
    .timer_free = timer_free,
    .fleet_members = fleet_members,
    .fleet_version = fleet_version,
};

static void moved(void *arg)
{
    (void)arg;
    fk.moved++;
}

static int setup(void **state)
{
    (void)state;
    fk = (struct fake){
        .members = "[{\"name\":\"m1\",\"labels\":{},\"ready\":true}]",
        .version = 1,
    };
    return 0;
}

static const char *ready_of(const struct fg_fleet_view *v, const char *name)
{
    const cJSON *m = fg_fleet_view_member(v, name);
    if (!m)
        return "absent";
    return cJSON_IsTrue(cJSON_GetObjectItem(m, "ready")) ? "ready" : "not";
}

static void test_reads_when_the_version_moves(void **state)
{
    (void)state;
    struct fg_fleet_view *v = fg_fleet_view_new(&host, 250, moved, NULL);
    assert_non_null(v);
    assert_int_equal(fk.reads, 1);
    assert_int_equal(fk.armed_ms, 250);
    assert_string_equal(ready_of(v, "m1"), "ready");
    assert_string_equal(ready_of(v, "m2"), "absent");
    fk.cb(fk.arg); /* nothing moved: not read again */
    assert_int_equal(fk.reads, 1);
    assert_int_equal(fk.moved, 0);
    fk.version = 2; /* moved, but says the same: read, no MOVED */
    fk.cb(fk.arg);
    assert_int_equal(fk.reads, 2);
    assert_int_equal(fk.moved, 0);
    fk.version = 3;
    fk.members = "[{\"name\":\"m1\",\"labels\":{},\"ready\":false},"
                 "{\"name\":\"m2\",\"labels\":{\"env\":\"prod\"},"
                 "\"ready\":true}]";
    fk.cb(fk.arg);
    assert_int_equal(fk.moved, 1);
    assert_string_equal(ready_of(v, "m1"), "not");
    assert_string_equal(ready_of(v, "m2"), "ready");
    assert_int_equal(cJSON_GetArraySize(fg_fleet_view_members(v)), 2);
    assert_int_equal(fk.armed_ms, 250);
    fg_fleet_view_free(v);
    assert_int_equal(fk.timers, 0);
}

static void test_a_failed_read_keeps_the_last_view(void **state)
{
    (void)state;
    struct fg_fleet_view *v = fg_fleet_view_new(&host, 0, moved, NULL);
    assert_int_equal(fk.armed_ms, 1000);
    fk.version = 2;
    fk.members = NULL;
    fk.cb(fk.arg);
    assert_string_equal(ready_of(v, "m1"), "ready");
    fk.members = "{\"not\":\"an array\"}";
    fk.cb(fk.arg);
    assert_string_equal(ready_of(v, "m1"), "ready");
    assert_int_equal(fk.moved, 0);
    fk.members = "[]"; /* the next turn reads again, as the version moved */
    fk.cb(fk.arg);
    assert_int_equal(fk.moved, 1);
    assert_string_equal(ready_of(v, "m1"), "absent");
    fg_fleet_view_free(v);
}

static void test_no_fleet_view_in_the_core(void **state)
{
    (void)state;
    struct fg_host old = host;
    old.struct_size = offsetof(struct fg_host, fleet_members);
    struct fg_fleet_view *v = fg_fleet_view_new(&old, 0, moved, NULL);
    assert_non_null(v);
    assert_null(fg_fleet_view_members(v));
    assert_null(fg_fleet_view_member(v, "m1"));
    assert_int_equal(fk.timers, 0);
    assert_int_equal(fk.reads, 0);
    fg_fleet_view_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reads_when_the_version_moves, setup),
        cmocka_unit_test_setup(test_a_failed_read_keeps_the_last_view, setup),
        cmocka_unit_test_setup(test_no_fleet_view_in_the_core, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
