/* The limiter of one [plugin] section, shared by its per-worker instances
 * (a user's requests may land on any worker): per-user and per-member
 * token buckets and per-user counts of requests in flight, long-running
 * ones (watch, exec, attach, port-forward, logs -f) apart, under one mutex
 * held for a few arithmetic steps. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

struct rl_limiter {
    struct rl_limiter *next; /* the registry's list */
    int refs;                /* under the registry's lock */
    char *name;
    struct rl_limits limits;
    pthread_mutex_t mu;
    struct rl_table users, members;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rl_limiter *registry;

static void destroy(struct rl_limiter *l)
{
    rl_table_free(&l->users);
    rl_table_free(&l->members);
    pthread_mutex_destroy(&l->mu);
    free(l->name);
    free(l);
}

static struct rl_limiter *create(const char *name,
                                 const struct rl_limits *limits)
{
    struct rl_limiter *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    pthread_mutex_init(&l->mu, NULL);
    l->limits = *limits;
    l->name = strdup(name);
    int ok = l->name != NULL;
    ok = ok && rl_table_init(&l->users, (size_t)limits->max_keys) == 0;
    ok = ok && rl_table_init(&l->members, (size_t)limits->max_keys) == 0;
    if (!ok) {
        destroy(l);
        return NULL;
    }
    return l;
}

struct rl_limiter *rl_limiter_acquire(const char *name,
                                      const struct rl_limits *limits, char *err,
                                      size_t err_len)
{
    pthread_mutex_lock(&registry_mu);
    struct rl_limiter *l = registry;
    while (l && strcmp(l->name, name) != 0)
        l = l->next;
    if (l) {
        l->refs++;
    } else if ((l = create(name, limits))) {
        l->refs = 1;
        l->next = registry;
        registry = l;
    } else {
        snprintf(err, err_len, "out of memory");
    }
    pthread_mutex_unlock(&registry_mu);
    return l;
}

void rl_limiter_release(struct rl_limiter *l)
{
    pthread_mutex_lock(&registry_mu);
    int last = --l->refs == 0;
    if (last) {
        struct rl_limiter **p = &registry;
        while (*p != l)
            p = &(*p)->next;
        *p = l->next;
    }
    pthread_mutex_unlock(&registry_mu);
    if (last)
        destroy(l);
}

const struct rl_limits *rl_limiter_limits(const struct rl_limiter *l)
{
    return &l->limits;
}

/* The caps are checked before any token is taken, and tokens are taken
 * from the user's and the member's buckets only when both have one, so a
 * refused request costs nothing. */
static void decide(struct rl_limiter *l, const char *user, const char *member,
                   int long_running, uint64_t now_us, struct rl_decision *out)
{
    const struct rl_limits *lim = &l->limits;
    struct rl_entry *u =
        rl_table_get(&l->users, user, lim->user_qps, lim->user_burst, now_us);
    if (!u) {
        *out = (struct rl_decision){RL_TOO_MANY_KEYS, 1, NULL, lim->max_keys};
        return;
    }
    if (long_running && lim->max_long_running &&
        u->long_running >= lim->max_long_running) {
        *out = (struct rl_decision){RL_LONG_RUNNING, 1, NULL,
                                    lim->max_long_running};
        return;
    }
    if (!long_running && lim->max_in_flight &&
        u->in_flight >= lim->max_in_flight) {
        *out = (struct rl_decision){RL_IN_FLIGHT, 1, NULL, lim->max_in_flight};
        return;
    }
    if (lim->user_qps) {
        rl_bucket_refill(&u->bucket, lim->user_qps, lim->user_burst, now_us);
        if (!rl_bucket_has(&u->bucket)) {
            *out = (struct rl_decision){
                RL_USER_RATE, rl_bucket_wait_s(&u->bucket, lim->user_qps), NULL,
                lim->user_qps};
            return;
        }
    }
    struct rl_entry *m = NULL;
    if (member && lim->member_qps) {
        m = rl_table_get(&l->members, member, lim->member_qps,
                         lim->member_burst, now_us);
        if (!m) {
            *out =
                (struct rl_decision){RL_TOO_MANY_KEYS, 1, NULL, lim->max_keys};
            return;
        }
        rl_bucket_refill(&m->bucket, lim->member_qps, lim->member_burst,
                         now_us);
        if (!rl_bucket_has(&m->bucket)) {
            *out = (struct rl_decision){
                RL_MEMBER_RATE, rl_bucket_wait_s(&m->bucket, lim->member_qps),
                NULL, lim->member_qps};
            return;
        }
        m->bucket.tokens -= 1.0;
    }
    if (lim->user_qps)
        u->bucket.tokens -= 1.0;
    if (long_running)
        u->long_running++;
    else
        u->in_flight++;
    *out = (struct rl_decision){RL_OK, 0, u, 0};
}

void rl_limiter_admit(struct rl_limiter *l, const char *user,
                      const char *member, int long_running, uint64_t now_us,
                      struct rl_decision *out)
{
    pthread_mutex_lock(&l->mu);
    decide(l, user, member, long_running, now_us, out);
    pthread_mutex_unlock(&l->mu);
}

void rl_limiter_done(struct rl_limiter *l, struct rl_entry *entry,
                     int long_running)
{
    pthread_mutex_lock(&l->mu);
    if (long_running)
        entry->long_running--;
    else
        entry->in_flight--;
    pthread_mutex_unlock(&l->mu);
}
