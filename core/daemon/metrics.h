/* Prometheus metrics: requests by member, verb and code, a latency
 * histogram per member, requests in flight, members configured. Each worker
 * writes only its own shard (relaxed atomics, no lock on the hot path); the
 * /metrics handler sums the shards. */
#ifndef FG_METRICS_H
#define FG_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct fg_gateway;

#define FG_METRICS_BUCKETS 12

/* Members are named, not numbered: a reload adds and removes members while
 * their counters live on. */
#define FG_METRICS_MEMBER_BYTES 64

struct fg_metrics_counter {
    char member[FG_METRICS_MEMBER_BYTES]; /* "": the gateway's endpoints */
    char verb[12]; /* GET, LIST? no: HTTP-level verbs, see metrics.c */
    int code;
    atomic_uint_fast64_t count;
    struct fg_metrics_counter *next;
};

struct fg_metrics_histogram {
    char member[FG_METRICS_MEMBER_BYTES]; /* "": the gateway's endpoints */
    struct fg_metrics_histogram *next;
    atomic_uint_fast64_t buckets[FG_METRICS_BUCKETS + 1]; /* last: +Inf */
    atomic_uint_fast64_t sum_us;
    atomic_uint_fast64_t count;
};

struct fg_metrics_shard {
    pthread_mutex_t lock; /* guards the counter list's shape only */
    struct fg_metrics_counter *counters;
    struct fg_metrics_histogram *latency; /* one per member seen */
    atomic_int_fast64_t in_flight;
    /* Connections (conn.c, fd_guard.c) */
    atomic_int_fast64_t conns_open;
    atomic_uint_fast64_t accept_errors;
    atomic_int accept_paused;           /* the listener waits out a backoff */
    atomic_uint_fast64_t conns_shed;    /* closed at once: no descriptors */
    atomic_uint_fast64_t conns_full;    /* refused: max_connections, nothing
                                           to evict */
    atomic_uint_fast64_t conns_source;  /* refused: per-source cap */
    atomic_uint_fast64_t conns_evicted; /* idle unauthenticated, closed
                                           for a newcomer */
    /* Cross-cluster lists (fanout.c) and the member answers they lacked. */
    atomic_uint_fast64_t fanout_requests;
    atomic_uint_fast64_t fanout_member_failures;
};

int fg_metrics_shard_init(struct fg_metrics_shard *s);
void fg_metrics_shard_free(struct fg_metrics_shard *s);

/* The kube-style verb of a request: GET, WATCH, POST, PUT, PATCH, DELETE,
 * HEAD, OPTIONS, or OTHER. QUERY may be NULL. */
const char *fg_metrics_verb(const char *method, const char *query);

/* MEMBER: the member's name, NULL for the gateway's own endpoints. */
void fg_metrics_record(struct fg_metrics_shard *s, const char *member,
                       const char *verb, int code, uint64_t latency_us);

struct fg_worker;
/* Appends the health its drivers report for each of W's members
 * (fedgate_member_ready, _probe_rtt_seconds, _info). Runs on W's loop. */
int fg_metrics_render_members(const struct fg_worker *w, struct evbuffer *out);

/* Appends the Prometheus text exposition of every shard to OUT, and the
 * configuration W serves with (members configured, generations). */
int fg_metrics_render(const struct fg_worker *w, struct evbuffer *out);

#endif
