/* The ratelimit plugin's internal interface: token buckets (bucket.c), the
 * bounded table of per-key state (table.c) and the limiter shared by the
 * per-worker instances of one [plugin] section (limiter.c). */
#ifndef FG_RATELIMIT_H
#define FG_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

/* ---- a token bucket (bucket.c) ----------------------------------------- */

/* QPS tokens a second up to BURST; one request takes one. */
struct rl_bucket {
    double tokens;
    uint64_t last_us; /* of the last refill, monotonic */
};

/* A full bucket at NOW_US. */
void rl_bucket_init(struct rl_bucket *b, int64_t burst, uint64_t now_us);
/* Adds what accrued since the last refill, up to BURST. */
void rl_bucket_refill(struct rl_bucket *b, int64_t qps, int64_t burst,
                      uint64_t now_us);
/* After a refill: whether a token is there. */
int rl_bucket_has(const struct rl_bucket *b);
/* After a refill: whole seconds until a token is there (at least 1). */
unsigned rl_bucket_wait_s(const struct rl_bucket *b, int64_t qps);
/* After a refill: whether the bucket is as a new one (nothing to keep). */
int rl_bucket_full(const struct rl_bucket *b, int64_t burst);

/* ---- per-key state (table.c) ------------------------------------------- */

struct rl_entry {
    struct rl_entry *next; /* hash chain */
    struct rl_bucket bucket;
    int64_t in_flight, long_running;
    char key[]; /* user or member name */
};

/* A map from names to entries holding at most MAX_KEYS; not locked (the
 * limiter locks it). */
struct rl_table {
    struct rl_entry **slots;
    size_t n_slots, n, max_keys;
};

int rl_table_init(struct rl_table *t, size_t max_keys);
void rl_table_free(struct rl_table *t);
/* KEY's entry, made (with a full bucket) when missing. When the table is
 * full, the entries IDLE says may go (with QPS, BURST and NOW_US for
 * their buckets) are evicted first; NULL when none may, or out of memory. */
struct rl_entry *rl_table_get(struct rl_table *t, const char *key, int64_t qps,
                              int64_t burst, uint64_t now_us);

/* ---- the limiter (limiter.c) ------------------------------------------- */

struct rl_limits {
    int64_t user_qps, user_burst;     /* 0 qps: no per-user rate */
    int64_t member_qps, member_burst; /* 0 qps: no per-member rate */
    int64_t max_in_flight;            /* per user, 0: none */
    int64_t max_long_running;         /* per user, 0: none */
    int64_t max_keys;                 /* users (and members) remembered */
};

enum rl_result {
    RL_OK,
    RL_USER_RATE,
    RL_MEMBER_RATE,
    RL_IN_FLIGHT,
    RL_LONG_RUNNING,
    RL_TOO_MANY_KEYS,
};

struct rl_decision {
    enum rl_result result;
    unsigned retry_after;   /* seconds */
    struct rl_entry *entry; /* RL_OK: the user's, for rl_limiter_done */
    int64_t limit;          /* the limit that was hit */
};

struct rl_limiter;

/* The limiter of [plugin] section NAME, shared by every instance of it in
 * the process (refcounted). NULL with ERR when out of memory. */
struct rl_limiter *rl_limiter_acquire(const char *name,
                                      const struct rl_limits *limits, char *err,
                                      size_t err_len);
void rl_limiter_release(struct rl_limiter *l);
/* Whether USER may start a request to MEMBER (NULL: the gateway's own)
 * now; on RL_OK it counts as in flight until rl_limiter_done. */
void rl_limiter_admit(struct rl_limiter *l, const char *user,
                      const char *member, int long_running, uint64_t now_us,
                      struct rl_decision *out);
/* The request admitted with ENTRY finished. */
void rl_limiter_done(struct rl_limiter *l, struct rl_entry *entry,
                     int long_running);
const struct rl_limits *rl_limiter_limits(const struct rl_limiter *l);

#endif
