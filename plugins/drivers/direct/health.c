/* The member's health as this worker sees it: about every 10 s (7.5 to
 * 12.5, so that a fleet's probes spread over time) a GET /readyz
 * (falling back to /version when /readyz is forbidden or missing) through
 * the same connections as requests, recording ready / not ready, the last
 * error, the round trip, the member's gitVersion (fetched on the first
 * success and again after each new connection), and after each success
 * its node count from GET /api/v1/nodes?limit=1: one item at most and
 * metadata.remainingItemCount, so the answer's first bytes tell it
 * whatever the fleet's size. The probe does not keep a quiet member's
 * connection: when no request of a client used it within
 * connection_idle_timeout, it is closed once the probe is done. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "direct.h"

#define PROBE_BODY_MAX 4096

enum probe_kind {
    PROBE_READYZ,
    PROBE_VERSION_FALLBACK,
    PROBE_VERSION,
    PROBE_NODES
};

struct direct_health {
    struct direct_instance *in;
    struct fg_timer *timer;
    struct fg_client_stream *st; /* the probe in flight */
    enum probe_kind kind;
    int status;
    char body[PROBE_BODY_MAX];
    size_t body_len;
    uint64_t started_us;
    int need_version;
    uint64_t connections; /* the client's count when last looked at */
    int done;             /* the in-flight probe answered (end or error) */
    uint32_t spread;      /* xorshift state for the probe interval */
    struct fg_member_health now;
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* gitVersion from a /version document, without a JSON library: the value
 * is a plain string in every Kubernetes release. */
static void take_version(struct direct_health *h)
{
    h->body[h->body_len < PROBE_BODY_MAX ? h->body_len : PROBE_BODY_MAX - 1] =
        0;
    const char *p = strstr(h->body, "\"gitVersion\"");
    if (!p)
        return;
    p = strchr(p + 12, '"');
    if (!p)
        return;
    p++;
    size_t n = 0;
    while (p[n] && p[n] != '"' && p[n] != '\\' &&
           n < sizeof(h->now.version) - 1)
        n++;
    memcpy(h->now.version, p, n);
    h->now.version[n] = 0;
    h->need_version = 0;
}

/* The node count from the first bytes of a NodeList asked with limit=1:
 * kube-apiserver writes metadata (remainingItemCount, present only when
 * more follow) before items. Unknown when the prefix does not say. */
static void take_nodes(struct direct_health *h)
{
    h->body[h->body_len < PROBE_BODY_MAX ? h->body_len : PROBE_BODY_MAX - 1] =
        0;
    const char *items = strstr(h->body, "\"items\":");
    const char *rest = strstr(h->body, "\"remainingItemCount\":");
    h->now.node_count_known = 0;
    if (!items || (rest && rest > items))
        return;
    items += 8;
    while (*items == ' ')
        items++;
    if (strncmp(items, "null", 4) == 0 || strncmp(items, "[]", 2) == 0) {
        h->now.node_count = 0;
        h->now.node_count_known = 1;
        return;
    }
    if (*items != '[')
        return;
    char *end;
    unsigned long more = rest ? strtoul(rest + 21, &end, 10) : 0;
    if (rest && (end == rest + 21 || more >= UINT32_MAX))
        return;
    h->now.node_count = (uint32_t)more + 1;
    h->now.node_count_known = 1;
}

static int p_head(void *ctx, int status, const struct fg_header *hd, size_t n)
{
    (void)hd;
    (void)n;
    struct direct_health *h = ctx;
    h->status = status;
    return 0;
}

static int p_data(void *ctx, const void *buf, size_t len)
{
    struct direct_health *h = ctx;
    size_t room = PROBE_BODY_MAX - 1 - h->body_len;
    if (len > room)
        len = room;
    memcpy(h->body + h->body_len, buf, len);
    h->body_len += len;
    return 0;
}

static void next_probe(struct direct_health *h, uint64_t ms)
{
    h->in->host->timer_arm(h->timer, ms);
}

/* The probe round is over: the next one in DIRECT_PROBE_MS +- 25%, and the
 * connection closed unless clients use it. */
static void round_done(struct direct_health *h)
{
    struct direct_instance *in = h->in;
    const struct fg_host *host = in->host;
    h->spread ^= h->spread << 13;
    h->spread ^= h->spread >> 17;
    h->spread ^= h->spread << 5;
    next_probe(h, DIRECT_PROBE_MS * 3 / 4 + h->spread % (DIRECT_PROBE_MS / 2));
    int can_close =
        host->struct_size >= offsetof(struct fg_host, client_close_idle) +
                                 sizeof(host->client_close_idle) &&
        host->client_close_idle;
    if (can_close && in->user_streams == 0 &&
        host->now_ms(host) - in->user_last_ms >=
            in->cfg.client.connection_idle_timeout_ms)
        host->client_close_idle(in->client);
}

static void p_end(void *ctx)
{
    struct direct_health *h = ctx;
    h->done = 1;
    /* the stream is closed from the timer: not from inside a callback */
    next_probe(h, 0);
}

static void p_error(void *ctx, int code, const char *reason,
                    const char *message)
{
    (void)code;
    (void)reason;
    struct direct_health *h = ctx;
    h->status = -1;
    snprintf(h->now.last_error, sizeof(h->now.last_error), "%s",
             message ? message : "probe failed");
    h->done = 1;
    next_probe(h, 0);
}

static void p_nothing(void *ctx)
{
    (void)ctx;
}

/* The probe is the driver's own request: no arena, no data_ref. */
static const struct fg_stream_callbacks probe_cb = {
    .head = p_head,
    .data = p_data,
    .end = p_end,
    .error = p_error,
    .body_pause = p_nothing,
    .body_resume = p_nothing,
};

static void start(struct direct_health *h, enum probe_kind kind)
{
    h->kind = kind;
    h->status = 0;
    h->body_len = 0;
    h->done = 0;
    h->started_us = mono_us();
    static const struct fg_header accept = {"accept", 6, "application/json",
                                            16};
    struct fg_request_head head = {
        .method = "GET",
        .path = kind == PROBE_READYZ  ? "/readyz"
                : kind == PROBE_NODES ? "/api/v1/nodes"
                                      : "/version",
        .query = kind == PROBE_NODES ? "limit=1" : NULL,
        .headers = &accept,
        .n_headers = 1,
        .content_length = 0,
        .http_version = 11,
    };
    const struct fg_host *host = h->in->host;
    struct fg_header extra[1];
    size_t n = direct_extra_headers(h->in->authorization, 0, NULL, extra, NULL);
    h->st =
        host->client_stream_open(h->in->client, &head, extra, n, &probe_cb, h);
    if (!h->st) {
        snprintf(h->now.last_error, sizeof(h->now.last_error), "out of memory");
        h->now.ready = 0;
        round_done(h);
        return;
    }
    host->client_stream_end(h->st);
}

/* A probe ended: record it, and chain the next request if any. */
static void finished(struct direct_health *h)
{
    const struct fg_host *host = h->in->host;
    host->client_stream_close(h->st);
    h->st = NULL;
    /* a new connection may reach a restarted member: ask its version */
    struct fg_client_state cs;
    host->client_state(h->in->client, &cs);
    if (cs.connections != h->connections) {
        h->connections = cs.connections;
        h->need_version = 1;
    }
    uint64_t rtt = mono_us() - h->started_us;
    if (h->status < 0) {
        h->now.ready = 0;
        round_done(h);
        return;
    }
    if (h->kind == PROBE_READYZ && (h->status == 404 || h->status == 403)) {
        start(h, PROBE_VERSION_FALLBACK);
        return;
    }
    if (h->kind == PROBE_VERSION) {
        if (h->status == 200)
            take_version(h);
        start(h, PROBE_NODES);
        return;
    }
    if (h->kind == PROBE_NODES) {
        if (h->status == 200)
            take_nodes(h);
        else
            h->now.node_count_known = 0; /* e.g. not allowed to list */
        round_done(h);
        return;
    }
    h->now.rtt_us = rtt;
    if (h->status == 200) {
        h->now.ready = 1;
        h->now.last_error[0] = 0;
        if (h->kind == PROBE_VERSION_FALLBACK) {
            take_version(h);
        } else if (h->need_version || !h->now.version[0]) {
            start(h, PROBE_VERSION);
            return;
        }
        start(h, PROBE_NODES);
        return;
    } else {
        h->now.ready = 0;
        snprintf(h->now.last_error, sizeof(h->now.last_error), "%s answered %d",
                 h->kind == PROBE_READYZ ? "/readyz" : "/version", h->status);
    }
    round_done(h);
}

static void on_timer(void *arg)
{
    struct direct_health *h = arg;
    if (h->st && h->done) {
        finished(h);
        return;
    }
    if (h->st)
        return; /* still waiting: the stream's own deadline ends it */
    start(h, PROBE_READYZ);
}

struct direct_health *direct_health_new(struct direct_instance *in)
{
    struct direct_health *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->in = in;
    h->need_version = 1;
    h->spread = (uint32_t)(uintptr_t)h ^ (uint32_t)in->host->now_ms(in->host);
    if (!h->spread)
        h->spread = 1; /* xorshift stays at 0 */
    snprintf(h->now.last_error, sizeof(h->now.last_error), "not probed yet");
    h->timer = in->host->timer_new(in->host, on_timer, h);
    if (!h->timer) {
        free(h);
        return NULL;
    }
    next_probe(h, 0);
    return h;
}

void direct_health_free(struct direct_health *h)
{
    if (!h)
        return;
    if (h->st)
        h->in->host->client_stream_close(h->st);
    h->in->host->timer_free(h->timer);
    free(h);
}

void direct_health_get(struct direct_health *h, struct fg_member_health *out)
{
    if (!h) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = h->now;
}
