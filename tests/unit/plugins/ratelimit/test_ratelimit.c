/* Tests of the ratelimit plugin's parts (plugins/policy/ratelimit/): token
 * bucket arithmetic over time (refill, the burst cap, the wait to the next
 * token), the bounded table that forgets only idle entries, and the
 * limiter's decisions: rates per user and per member, in-flight caps with
 * long-running requests apart, refusals that cost no token, and state
 * shared by instances of one section across threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

#define S 1000000ull /* a second in µs */

static void test_bucket_math(void **state)
{
    (void)state;
    struct rl_bucket b;
    rl_bucket_init(&b, 3, 10 * S);
    /* qps 2, burst 3: three at once, then one every 500 ms */
    for (int i = 0; i < 3; i++) {
        rl_bucket_refill(&b, 2, 3, 10 * S);
        assert_true(rl_bucket_has(&b));
        b.tokens -= 1;
    }
    rl_bucket_refill(&b, 2, 3, 10 * S);
    assert_false(rl_bucket_has(&b));
    assert_int_equal(rl_bucket_wait_s(&b, 2), 1);
    rl_bucket_refill(&b, 2, 3, 10 * S + 499999);
    assert_false(rl_bucket_has(&b));
    rl_bucket_refill(&b, 2, 3, 10 * S + 500000);
    assert_true(rl_bucket_has(&b));
    /* a long pause refills to the burst, never past it */
    rl_bucket_refill(&b, 2, 3, 1000 * S);
    assert_true(rl_bucket_full(&b, 3));
    assert_true(b.tokens <= 3.0);
    /* time that goes backwards grants nothing */
    b.tokens = 0;
    rl_bucket_refill(&b, 2, 3, 999 * S);
    assert_false(rl_bucket_has(&b));
    /* slow rates wait whole seconds, rounded up */
    b.tokens = 0;
    assert_int_equal(rl_bucket_wait_s(&b, 1), 1);
    b.tokens = -4.5; /* owed */
    assert_int_equal(rl_bucket_wait_s(&b, 2), 3);
    assert_int_equal(rl_bucket_wait_s(&b, 1000), 1);
}

static void test_table_forgets_only_idle_entries(void **state)
{
    (void)state;
    struct rl_table t;
    assert_int_equal(rl_table_init(&t, 4), 0);
    struct rl_entry *e[4];
    char key[16];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "u%d", i);
        e[i] = rl_table_get(&t, key, 1, 5, 0);
        assert_non_null(e[i]);
        assert_ptr_equal(rl_table_get(&t, key, 1, 5, 0), e[i]);
    }
    e[0]->in_flight = 1;
    e[1]->long_running = 1;
    e[2]->bucket.tokens = 0; /* has to refill: its state matters */
    /* full: only u3 (idle, full bucket) may go */
    struct rl_entry *n = rl_table_get(&t, "new", 1, 5, 0);
    assert_non_null(n);
    assert_int_equal(t.n, 4);
    assert_ptr_equal(rl_table_get(&t, "u0", 1, 5, 0), e[0]);
    /* full again and nothing idle: refused */
    n->in_flight = 1;
    assert_null(rl_table_get(&t, "other", 1, 5, 0));
    /* 5 s later u2's bucket is full again and it may go */
    assert_non_null(rl_table_get(&t, "other", 1, 5, 5 * S));
    assert_int_equal(t.n, 4);
    rl_table_free(&t);
}

static const struct rl_limits limits = {
    .user_qps = 10,
    .user_burst = 20,
    .member_qps = 0,
    .member_burst = 0,
    .max_in_flight = 3,
    .max_long_running = 2,
    .max_keys = 100,
};

static struct rl_limiter *limiter(const char *name, struct rl_limits lim)
{
    char err[128];
    struct rl_limiter *l = rl_limiter_acquire(name, &lim, err, sizeof(err));
    assert_non_null(l);
    return l;
}

static enum rl_result admit(struct rl_limiter *l, const char *user,
                            const char *member, int long_running, uint64_t now,
                            struct rl_decision *d)
{
    rl_limiter_admit(l, user, member, long_running, now, d);
    return d->result;
}

/* A user's rate: the burst at once, then QPS a second; others unaffected;
 * what is refused takes no token. */
static void test_user_rate(void **state)
{
    (void)state;
    struct rl_limits lim = limits;
    lim.max_in_flight = 0;
    struct rl_limiter *l = limiter("rate", lim);
    struct rl_decision d;
    uint64_t t0 = 100 * S;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(admit(l, "alice", "m", 0, t0, &d), RL_OK);
        rl_limiter_done(l, d.entry, 0);
    }
    assert_int_equal(admit(l, "alice", "m", 0, t0, &d), RL_USER_RATE);
    assert_int_equal(d.retry_after, 1);
    assert_int_equal(admit(l, "bob", "m", 0, t0, &d), RL_OK);
    rl_limiter_done(l, d.entry, 0);
    /* in the next second ten more, however many were refused */
    int ok = 0;
    for (int i = 0; i < 50; i++)
        if (admit(l, "alice", "m", 0, t0 + S / 2, &d) == RL_OK) {
            rl_limiter_done(l, d.entry, 0);
            ok++;
        }
    assert_int_equal(ok, 5);
    while (admit(l, "alice", "m", 0, t0 + S, &d) == RL_OK) {
        rl_limiter_done(l, d.entry, 0);
        ok++;
    }
    assert_int_equal(ok, 10);
    rl_limiter_release(l);
}

/* A member's rate counts every user's requests; the gateway's own paths
 * (no member) are not a member's. */
static void test_member_rate(void **state)
{
    (void)state;
    struct rl_limits lim = limits;
    lim.user_qps = 0;
    lim.max_in_flight = 0;
    lim.member_qps = 1;
    lim.member_burst = 4;
    struct rl_limiter *l = limiter("member", lim);
    struct rl_decision d;
    const char *users[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(admit(l, users[i], "prod", 0, 0, &d), RL_OK);
        rl_limiter_done(l, d.entry, 0);
    }
    assert_int_equal(admit(l, "e", "prod", 0, 0, &d), RL_MEMBER_RATE);
    assert_int_equal(d.limit, 1);
    assert_int_equal(admit(l, "e", "dev", 0, 0, &d), RL_OK);
    rl_limiter_done(l, d.entry, 0);
    assert_int_equal(admit(l, "e", NULL, 0, 0, &d), RL_OK);
    rl_limiter_done(l, d.entry, 0);
    rl_limiter_release(l);
}

/* In-flight caps: short and long-running requests counted apart, given
 * back when done, and a refusal by a cap takes no token. */
static void test_in_flight_caps(void **state)
{
    (void)state;
    struct rl_limiter *l = limiter("caps", limits);
    struct rl_decision d;
    struct rl_entry *held[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(admit(l, "u", "m", 0, 0, &d), RL_OK);
        held[i] = d.entry;
    }
    assert_int_equal(admit(l, "u", "m", 0, 0, &d), RL_IN_FLIGHT);
    assert_int_equal(d.limit, 3);
    assert_int_equal(d.retry_after, 1);
    /* watches have their own cap */
    assert_int_equal(admit(l, "u", "m", 1, 0, &d), RL_OK);
    struct rl_entry *watch = d.entry;
    assert_int_equal(admit(l, "u", "m", 1, 0, &d), RL_OK);
    assert_int_equal(admit(l, "u", "m", 1, 0, &d), RL_LONG_RUNNING);
    assert_int_equal(d.limit, 2);
    rl_limiter_done(l, watch, 1);
    assert_int_equal(admit(l, "u", "m", 1, 0, &d), RL_OK);
    rl_limiter_done(l, held[0], 0);
    assert_int_equal(admit(l, "u", "m", 0, 0, &d), RL_OK);
    /* 7 admitted from a burst of 20: the 2 refused took nothing */
    assert_true(d.entry->bucket.tokens > 12.9 && d.entry->bucket.tokens < 13.1);
    rl_limiter_release(l);
}

struct worker {
    struct rl_limiter *l;
    int ok;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    struct rl_decision d;
    for (int i = 0; i < 1000; i++)
        if (admit(w->l, "shared", "m", 0, 5 * S, &d) == RL_OK) {
            w->ok++;
            rl_limiter_done(w->l, d.entry, 0);
        }
    return NULL;
}

/* Instances of one section share one limiter: across four threads the
 * burst is granted once in all. */
static void test_shared_across_instances(void **state)
{
    (void)state;
    struct rl_limits lim = limits;
    lim.max_in_flight = 0;
    struct worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){limiter("shared", lim), 0};
        assert_ptr_equal(w[i].l, w[0].l);
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    assert_int_equal(ok, 20);
    struct rl_limiter *other = limiter("other", lim);
    assert_ptr_not_equal(other, w[0].l);
    rl_limiter_release(other);
    for (int i = 0; i < 4; i++)
        rl_limiter_release(w[i].l);
}

static void test_too_many_users(void **state)
{
    (void)state;
    struct rl_limits lim = limits;
    lim.max_keys = 16;
    struct rl_limiter *l = limiter("keys", lim);
    struct rl_decision d;
    char user[16];
    for (int i = 0; i < 16; i++) {
        snprintf(user, sizeof(user), "u%d", i);
        assert_int_equal(admit(l, user, "m", 0, 0, &d), RL_OK);
    }
    assert_int_equal(admit(l, "late", "m", 0, 0, &d), RL_TOO_MANY_KEYS);
    rl_limiter_release(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_math),
        cmocka_unit_test(test_table_forgets_only_idle_entries),
        cmocka_unit_test(test_user_rate),
        cmocka_unit_test(test_member_rate),
        cmocka_unit_test(test_in_flight_caps),
        cmocka_unit_test(test_shared_across_instances),
        cmocka_unit_test(test_too_many_users),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
