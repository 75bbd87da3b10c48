/* Prometheus metrics: per-worker shards and their text rendering. */
#include "daemon/metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "daemon/gateway.h"
#include "daemon/generation.h"

/* Upper bounds of the latency buckets, in microseconds. */
static const uint64_t bucket_us[FG_METRICS_BUCKETS] = {
    1000,   2500,   5000,   10000,   25000,   50000,
    100000, 250000, 500000, 1000000, 5000000, 30000000,
};

int fg_metrics_shard_init(struct fg_metrics_shard *s)
{
    memset(s, 0, sizeof(*s));
    return pthread_mutex_init(&s->lock, NULL) != 0 ? -1 : 0;
}

void fg_metrics_shard_free(struct fg_metrics_shard *s)
{
    struct fg_metrics_counter *c = s->counters;
    while (c) {
        struct fg_metrics_counter *next = c->next;
        free(c);
        c = next;
    }
    struct fg_metrics_histogram *h = s->latency;
    while (h) {
        struct fg_metrics_histogram *next = h->next;
        free(h);
        h = next;
    }
    pthread_mutex_destroy(&s->lock);
    memset(s, 0, sizeof(*s));
}

const char *fg_metrics_verb(const char *method, const char *query)
{
    static const char *const plain[] = {"POST",   "PUT",  "PATCH",
                                        "DELETE", "HEAD", "OPTIONS"};
    if (strcmp(method, "GET") == 0) {
        /* watch=1, watch=true, watch=True: what clients send */
        for (const char *q = query; q && *q;) {
            if (strncmp(q, "watch=", 6) == 0 && q[6] && q[6] != '0' &&
                q[6] != 'f' && q[6] != 'F' && q[6] != '&')
                return "WATCH";
            q = strchr(q, '&');
            if (q)
                q++;
        }
        return "GET";
    }
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (strcmp(method, plain[i]) == 0)
            return plain[i];
    return "OTHER";
}

/* The histogram of MEMBER in S, made on first use. Only S's worker adds
 * (at the head, under the lock); renderers read from a snapshot of the head. */
static struct fg_metrics_histogram *histogram(struct fg_metrics_shard *s,
                                              const char *member)
{
    struct fg_metrics_histogram *h;
    for (h = s->latency; h; h = h->next)
        if (strcmp(h->member, member) == 0)
            return h;
    h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    snprintf(h->member, sizeof(h->member), "%s", member);
    pthread_mutex_lock(&s->lock);
    h->next = s->latency;
    s->latency = h;
    pthread_mutex_unlock(&s->lock);
    return h;
}

void fg_metrics_record(struct fg_metrics_shard *s, const char *member,
                       const char *verb, int code, uint64_t latency_us)
{
    if (!member)
        member = "";
    struct fg_metrics_counter *c;
    for (c = s->counters; c; c = c->next)
        if (c->code == code && strcmp(c->member, member) == 0 &&
            strcmp(c->verb, verb) == 0)
            break;
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return;
        snprintf(c->member, sizeof(c->member), "%s", member);
        c->code = code;
        strncpy(c->verb, verb, sizeof(c->verb) - 1);
        pthread_mutex_lock(&s->lock);
        c->next = s->counters;
        s->counters = c;
        pthread_mutex_unlock(&s->lock);
    }
    atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);

    struct fg_metrics_histogram *hist = histogram(s, member);
    if (!hist)
        return;
    size_t b = 0;
    while (b < FG_METRICS_BUCKETS && latency_us > bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&hist->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hist->sum_us, latency_us, memory_order_relaxed);
    atomic_fetch_add_explicit(&hist->count, 1, memory_order_relaxed);
}

static void render_requests(const struct fg_gateway *gw, struct evbuffer *out)
{
    evbuffer_add_printf(
        out, "# HELP fedgate_requests_total Requests answered, by member "
             "(empty: the gateway itself), verb and HTTP code.\n"
             "# TYPE fedgate_requests_total counter\n");
    for (unsigned w = 0; w < gw->n_workers; w++) {
        struct fg_metrics_shard *s = &gw->workers[w].metrics;
        pthread_mutex_lock(&s->lock);
        struct fg_metrics_counter *head = s->counters;
        pthread_mutex_unlock(&s->lock);
        for (struct fg_metrics_counter *c = head; c; c = c->next) {
            /* Shards are summed by the scraper over the worker label. */
            evbuffer_add_printf(
                out,
                "fedgate_requests_total{member=\"%s\",verb=\"%s\",code=\"%d\","
                "worker=\"%u\"} %llu\n",
                c->member, c->verb, c->code, w,
                (unsigned long long)atomic_load_explicit(&c->count,
                                                         memory_order_relaxed));
        }
    }
}

static struct fg_metrics_histogram *shard_latency(const struct fg_gateway *gw,
                                                  unsigned w)
{
    struct fg_metrics_shard *s = &gw->workers[w].metrics;
    pthread_mutex_lock(&s->lock);
    struct fg_metrics_histogram *head = s->latency;
    pthread_mutex_unlock(&s->lock);
    return head;
}

/* Whether MEMBER has a histogram in a shard before worker W, or before H
 * in W's: it was rendered then. */
static int rendered(const struct fg_gateway *gw, unsigned w,
                    const struct fg_metrics_histogram *h)
{
    for (unsigned i = 0; i < w; i++)
        for (const struct fg_metrics_histogram *o = shard_latency(gw, i); o;
             o = o->next)
            if (strcmp(o->member, h->member) == 0)
                return 1;
    return 0;
}

/* One histogram per member name, summed over the shards that have it. */
static void render_one_latency(const struct fg_gateway *gw, const char *label,
                               struct evbuffer *out)
{
    uint64_t buckets[FG_METRICS_BUCKETS + 1] = {0}, sum = 0, count = 0;
    for (unsigned w = 0; w < gw->n_workers; w++) {
        for (struct fg_metrics_histogram *h = shard_latency(gw, w); h;
             h = h->next) {
            if (strcmp(h->member, label) != 0)
                continue;
            for (size_t b = 0; b <= FG_METRICS_BUCKETS; b++)
                buckets[b] +=
                    atomic_load_explicit(&h->buckets[b], memory_order_relaxed);
            sum += atomic_load_explicit(&h->sum_us, memory_order_relaxed);
            count += atomic_load_explicit(&h->count, memory_order_relaxed);
        }
    }
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= FG_METRICS_BUCKETS; b++) {
        cumulative += buckets[b];
        if (b < FG_METRICS_BUCKETS)
            evbuffer_add_printf(out,
                                "fedgate_request_duration_seconds_bucket{"
                                "member=\"%s\",le=\"%g\"} %llu\n",
                                label, (double)bucket_us[b] / 1e6,
                                (unsigned long long)cumulative);
        else
            evbuffer_add_printf(out,
                                "fedgate_request_duration_seconds_bucket{"
                                "member=\"%s\",le=\"+Inf\"} %llu\n",
                                label, (unsigned long long)cumulative);
    }
    evbuffer_add_printf(
        out,
        "fedgate_request_duration_seconds_sum{member=\"%s\"} %.6f\n"
        "fedgate_request_duration_seconds_count{member=\"%s\"} %llu\n",
        label, (double)sum / 1e6, label, (unsigned long long)count);
}

static void render_latency(const struct fg_gateway *gw, struct evbuffer *out)
{
    evbuffer_add_printf(out,
                        "# HELP fedgate_request_duration_seconds Time from "
                        "request head to the end of the response.\n"
                        "# TYPE fedgate_request_duration_seconds histogram\n");
    for (unsigned w = 0; w < gw->n_workers; w++)
        for (struct fg_metrics_histogram *h = shard_latency(gw, w); h;
             h = h->next)
            if (!rendered(gw, w, h))
                render_one_latency(gw, h->member, out);
}

/* Tunnel counts, for the members whose driver reports them (H: the
 * health of each of W's members, in order). */
static void render_tunnels(const struct fg_worker *w,
                           const struct fg_member_health *h,
                           struct evbuffer *out)
{
    static const struct {
        const char *name, *help;
    } gauges[] = {
        {"fedgate_member_tunnels",
         "Connections the member's agents hold open to this host now."},
        {"fedgate_member_tunnels_expected",
         "Connections the configuration expects for the member."},
    };
    for (size_t g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
        int header = 0;
        for (size_t i = 0; i < w->gen->n_members; i++) {
            if (!h[i].tunnels_expected)
                continue;
            if (!header++)
                evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s gauge\n",
                                    gauges[g].name, gauges[g].help,
                                    gauges[g].name);
            uint32_t v = g == 0 ? h[i].tunnels_live : h[i].tunnels_expected;
            evbuffer_add_printf(out, "%s{member=\"%s\"} %u\n", gauges[g].name,
                                w->gen->members[i]->section->name, v);
        }
    }
}

int fg_metrics_render_members(const struct fg_worker *w, struct evbuffer *out)
{
    /* A driver instance lives on its worker's loop: ask only the instances
     * of the worker serving this scrape, on its own thread. */
    struct fg_member_health *all =
        calloc(w->gen->n_members ? w->gen->n_members : 1, sizeof(*all));
    if (!all)
        return -1;
    evbuffer_add_printf(
        out, "# HELP fedgate_member_ready Whether the member's driver last "
             "saw it ready.\n"
             "# TYPE fedgate_member_ready gauge\n");
    for (size_t i = 0; i < w->gen->n_members; i++) {
        const struct fg_member_rt *m = w->gen->members[i];
        if (!m->ops->health)
            continue;
        struct fg_member_health *h = &all[i];
        m->ops->health(m->instance, h);
        evbuffer_add_printf(out, "fedgate_member_ready{member=\"%s\"} %d\n",
                            m->section->name, h->ready ? 1 : 0);
        if (h->rtt_us)
            evbuffer_add_printf(
                out, "fedgate_member_probe_rtt_seconds{member=\"%s\"} %.6f\n",
                m->section->name, (double)h->rtt_us / 1e6);
        h->version[sizeof(h->version) - 1] = 0;
        int plain = h->version[0] != 0;
        for (const char *p = h->version; *p; p++)
            if (*p == '"' || *p == '\\' || *p == '\n')
                plain = 0;
        if (plain)
            evbuffer_add_printf(
                out, "fedgate_member_info{member=\"%s\",version=\"%s\"} 1\n",
                m->section->name, h->version);
    }
    render_tunnels(w, all, out);
    free(all);
    return 0;
}

static uint64_t sum_u64(const struct fg_gateway *gw, size_t offset)
{
    uint64_t sum = 0;
    for (unsigned w = 0; w < gw->n_workers; w++)
        sum += atomic_load_explicit(
            (atomic_uint_fast64_t *)((char *)&gw->workers[w].metrics + offset),
            memory_order_relaxed);
    return sum;
}

/* Client connections and what the gateway did to keep serving them. */
static void render_connections(const struct fg_gateway *gw,
                               struct evbuffer *out)
{
    int64_t open = 0;
    int paused = 0;
    for (unsigned w = 0; w < gw->n_workers; w++) {
        const struct fg_metrics_shard *s = &gw->workers[w].metrics;
        open += atomic_load_explicit(&s->conns_open, memory_order_relaxed);
        paused += atomic_load_explicit(&s->accept_paused, memory_order_relaxed);
    }
    evbuffer_add_printf(
        out,
        "# HELP fedgate_connections_open Client connections open.\n"
        "# TYPE fedgate_connections_open gauge\n"
        "fedgate_connections_open %lld\n"
        "# HELP fedgate_accept_errors_total accept() failures (out of file "
        "descriptors, memory, ...).\n"
        "# TYPE fedgate_accept_errors_total counter\n"
        "fedgate_accept_errors_total %llu\n"
        "# HELP fedgate_accept_paused Workers whose listener waits out a "
        "backoff after an accept error.\n"
        "# TYPE fedgate_accept_paused gauge\n"
        "fedgate_accept_paused %d\n"
        "# HELP fedgate_connections_rejected_total Connections closed at "
        "accept, by reason.\n"
        "# TYPE fedgate_connections_rejected_total counter\n"
        "fedgate_connections_rejected_total{reason=\"no_descriptors\"} %llu\n"
        "fedgate_connections_rejected_total{reason=\"max_connections\"} "
        "%llu\n"
        "fedgate_connections_rejected_total{reason=\"per_source\"} %llu\n"
        "# HELP fedgate_connections_evicted_total Idle unauthenticated "
        "connections closed to make room for a new one.\n"
        "# TYPE fedgate_connections_evicted_total counter\n"
        "fedgate_connections_evicted_total %llu\n"
        "# HELP fedgate_fanout_requests_total Lists across every member "
        "cluster (/clusters/%%2A).\n"
        "# TYPE fedgate_fanout_requests_total counter\n"
        "fedgate_fanout_requests_total %llu\n"
        "# HELP fedgate_fanout_member_failures_total Members whose part of "
        "such a list failed (reported as a Warning).\n"
        "# TYPE fedgate_fanout_member_failures_total counter\n"
        "fedgate_fanout_member_failures_total %llu\n",
        (long long)open,
        (unsigned long long)sum_u64(
            gw, offsetof(struct fg_metrics_shard, accept_errors)),
        paused,
        (unsigned long long)sum_u64(
            gw, offsetof(struct fg_metrics_shard, conns_shed)),
        (unsigned long long)sum_u64(
            gw, offsetof(struct fg_metrics_shard, conns_full)),
        (unsigned long long)sum_u64(
            gw, offsetof(struct fg_metrics_shard, conns_source)),
        (unsigned long long)sum_u64(
            gw, offsetof(struct fg_metrics_shard, conns_evicted)),
        (unsigned long long)sum_u64(
            gw, offsetof(struct fg_metrics_shard, fanout_requests)),
        (unsigned long long)sum_u64(
            gw, offsetof(struct fg_metrics_shard, fanout_member_failures)));
}

int fg_metrics_render(const struct fg_worker *w, struct evbuffer *out)
{
    const struct fg_gateway *gw = w->gw;
    render_requests(gw, out);
    render_latency(gw, out);

    int64_t in_flight = 0;
    for (unsigned i = 0; i < gw->n_workers; i++)
        in_flight += atomic_load_explicit(&gw->workers[i].metrics.in_flight,
                                          memory_order_relaxed);
    evbuffer_add_printf(out,
                        "# HELP fedgate_requests_in_flight Requests being "
                        "served now.\n"
                        "# TYPE fedgate_requests_in_flight gauge\n"
                        "fedgate_requests_in_flight %lld\n"
                        "# HELP fedgate_members_configured Member clusters "
                        "in the configuration.\n"
                        "# TYPE fedgate_members_configured gauge\n"
                        "fedgate_members_configured %zu\n",
                        (long long)in_flight, w->gen->n_members);
    render_connections(gw, out);
    fg_generation_render_metrics(gw, out);
    return 0;
}
