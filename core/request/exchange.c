/* One request/response: routing (gateway endpoint or member), header
 * hygiene towards members, the relay of a driver's answer to the codec
 * with backpressure both ways, and the request body's idle timeout, the
 * same for every codec and driver. */
#include "request/exchange_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <fedgate/util.h>
#include <openssl/rand.h>

#include "net/conn.h"
#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "base/fmt.h"
#include "base/log.h"
#include "fleet/fleet.h"
#include "request/exchange_gen.h"
#include "request/fanout.h"
#include "request/policy_chain.h"
#include "request/review.h"
#include "request/service_route.h"
#include "request/status.h"
#include "request/request_info.h"

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct fg_exchange *fg_exchange_new(struct fg_conn *conn,
                                    const struct fg_codec_ops *ops, void *cs,
                                    struct fg_arena *arena)
{
    struct fg_exchange *ex = calloc(1, sizeof(*ex));
    if (!ex)
        return NULL;
    ex->arena = arena ? arena : fg_arena_new(0);
    if (!ex->arena) {
        free(ex);
        return NULL;
    }
    ex->conn = conn;
    ex->worker = conn->worker;
    ex->ops = ops;
    ex->cs = cs;
    ex->started_us = now_us();
    ex->verb = "OTHER";
    fg_exchange_gen_hold(ex);
    ex->body_limit = ex->gen->cfg->limits.max_request_body_bytes;
    ex->worker->in_flight++;
    conn->requests++;
    atomic_fetch_add_explicit(&ex->worker->metrics.in_flight, 1,
                              memory_order_relaxed);
    return ex;
}

static int send_head(struct fg_exchange *ex, int status,
                     const struct fg_header *h, size_t n, int64_t length,
                     int end)
{
    ex->head_sent = 1;
    ex->status = status;
    fg_policy_response_started(ex, status);
    return ex->ops->send_head(ex->cs, status, h, n, length, end);
}

void fg_exchange_reply(struct fg_exchange *ex, int status,
                       const char *content_type, const void *body, size_t len)
{
    fg_exchange_reply_with(ex, status, NULL, content_type, body, len);
}

void fg_exchange_reply_with(struct fg_exchange *ex, int status,
                            const struct fg_header *extra,
                            const char *content_type, const void *body,
                            size_t len)
{
    fg_exchange_reply_headers(ex, status, extra, extra ? 1 : 0, content_type,
                              body, len);
}

void fg_exchange_reply_headers(struct fg_exchange *ex, int status,
                               const struct fg_header *extra, size_t n_extra,
                               const char *content_type, const void *body,
                               size_t len)
{
    struct fg_header *h = fg_arena_alloc(ex->arena, (n_extra + 2) * sizeof(*h));
    if (!h) {
        ex->ops->reset(ex->cs);
        return;
    }
    h[0] = (struct fg_header){"content-type", 12, content_type,
                              strlen(content_type)};
    h[1] = (struct fg_header){"cache-control", 13, "no-cache, private", 17};
    for (size_t i = 0; i < n_extra; i++)
        h[2 + i] = extra[i];
    ex->driver_done = 1;
    int bodyless = ex->is_head_request || len == 0;
    if (send_head(ex, status, h, n_extra + 2, (int64_t)len, bodyless) != 0)
        return;
    if (!bodyless && ex->ops->send_data(ex->cs, body, len) == 0)
        ex->ops->send_end(ex->cs);
}

int fg_codec_send_status(const struct fg_codec_ops *ops, void *cs, int code,
                         const char *reason, const char *message)
{
    size_t len;
    char *json = fg_status_json(code, reason, message, &len);
    if (!json)
        return -1;
    struct fg_header h = {"content-type", 12, "application/json", 16};
    int rc = ops->send_head(cs, code, &h, 1, (int64_t)len, 0);
    if (rc == 0)
        rc = ops->send_data(cs, json, len);
    if (rc == 0)
        rc = ops->send_end(cs);
    free(json);
    return rc;
}

void fg_exchange_not_found(struct fg_exchange *ex, const char *message,
                           const char *name, const char *kind)
{
    size_t len;
    char *json =
        fg_status_json_details(404, "NotFound", message, name, kind, &len);
    if (json)
        fg_exchange_reply(ex, 404, "application/json", json, len);
    else
        fg_exchange_fail(ex, 404, "NotFound", "%s", message);
    free(json);
}

void fg_exchange_fail(struct fg_exchange *ex, int code, const char *reason,
                      const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (ex->head_sent) {
        ex->ops->reset(ex->cs);
        return;
    }
    size_t len;
    char *json = fg_status_json(code, reason, message, &len);
    if (!json) {
        ex->ops->reset(ex->cs);
        return;
    }
    fg_exchange_reply(ex, code, "application/json", json, len);
    free(json);
}

/* ---- headers towards a member ---------------------------------------- */

/* What never crosses the gateway is the SDK's list (fedgate/util.h):
 * drivers check the same one. */
/* The headers a member may see, in the request's arena (the strings
 * copied there unless the codec built them there already). */
const struct fg_header *
fg_exchange_member_headers(struct fg_exchange *ex,
                           const struct fg_request_in *req, size_t *n_out)
{
    struct fg_header *out =
        fg_arena_alloc(ex->arena, (req->n_headers + 1) * sizeof(*out));
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct fg_header *h = &req->headers[i];
        if (fg_header_is_protected(req->headers, req->n_headers, h))
            continue;
        out[n] = *h;
        if (!req->in_arena) {
            out[n].name = fg_arena_strndup(ex->arena, h->name, h->name_len);
            out[n].value = fg_arena_strndup(ex->arena, h->value, h->value_len);
            if (!out[n].name || !out[n].value)
                return NULL;
        }
        n++;
    }
    *n_out = n;
    return out;
}

/* A UUID-shaped id, unique per process: a random base drawn once per
 * thread, and a counter. */
static const char *request_id(struct fg_arena *arena)
{
    static _Thread_local uint64_t base[2], counter;
    static _Thread_local int seeded;
    if (!seeded) {
        if (RAND_bytes((unsigned char *)base, sizeof(base)) != 1)
            base[0] = (uint64_t)now_us() ^ (uint64_t)(uintptr_t)&counter;
        seeded = 1;
    }
    uint64_t lo = base[1] + ++counter;
    char *id = fg_arena_alloc(arena, 37);
    if (id) {
        /* 8-4-4-4-12 hex digits, version 4, variant 10 */
        char *p = fg_fmt_hex(id, base[0] >> 32, 8);
        *p++ = '-';
        p = fg_fmt_hex(p, base[0] >> 16, 4);
        *p++ = '-';
        *p++ = '4';
        p = fg_fmt_hex(p, base[0], 3);
        *p++ = '-';
        p = fg_fmt_hex(p, 0x8000 | ((lo >> 48) & 0x3fff), 4);
        *p++ = '-';
        p = fg_fmt_hex(p, lo, 12);
        *p = '\0';
    }
    return id ? id : "";
}

/* ---- driver callbacks --------------------------------------------------- */

const char *fg_upgrade_protocol(const char *offer)
{
    if (offer && strcasecmp(offer, "websocket") == 0)
        return "websocket";
    if (offer && strcasecmp(offer, "SPDY/3.1") == 0)
        return "SPDY/3.1";
    return NULL;
}

/* Member heads up to this many headers are filtered on the stack. */
#define RELAY_STACK_HEADERS 32

static int relay_head(void *ctx, int status, const struct fg_header *headers,
                      size_t n)
{
    struct fg_exchange *ex = ctx;
    if (ex->head_sent || status < 100 || status > 999)
        return -1;
    /* A switch only when the client asked for one the gateway allows. */
    if ((status < 200 && status != 101) || (status == 101 && !ex->upgrade))
        return -1;
    /* a member's usual dozen headers are filtered on the stack */
    struct fg_header out_stack[RELAY_STACK_HEADERS];
    struct fg_header *out =
        n <= RELAY_STACK_HEADERS ? out_stack : calloc(n, sizeof(*out));
    if (!out)
        return -1;
    int64_t length = -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fg_header *h = &headers[i];
        if (h->name_len == 14 &&
            strncasecmp(h->name, "content-length", 14) == 0) {
            char num[24];
            if (h->value_len == 0 || h->value_len >= sizeof(num))
                continue;
            memcpy(num, h->value, h->value_len);
            num[h->value_len] = 0;
            char *end;
            long long v = strtoll(num, &end, 10);
            if (*end == 0 && v >= 0)
                length = v;
            continue;
        }
        if (fg_header_is_protected(headers, n, h))
            continue;
        out[m++] = *h;
    }
    int end = ex->is_head_request || status == 204 || status == 304;
    int rc = send_head(ex, status, out, m, length, end);
    if (out != out_stack)
        free(out);
    if (end)
        ex->driver_done = 1;
    return rc;
}

/* data() and data_ref(): the codec copies the bytes, or with FREE_FN
 * takes the driver's buffer over. Past stream_buffer_bytes queued the
 * driver is asked to pause, whichever way the bytes came. */
static int relay_body(struct fg_exchange *ex, const void *buf, size_t len,
                      fg_buffer_free_fn free_fn, void *arg)
{
    if (!ex->head_sent || ex->driver_done) {
        if (free_fn)
            free_fn(arg, buf, len);
        return -1;
    }
    int rc = free_fn ? ex->ops->send_data_ref(ex->cs, buf, len, free_fn, arg)
                     : ex->ops->send_data(ex->cs, buf, len);
    if (rc != 0)
        return -1;
    const struct fg_limits *lim = &ex->gen->cfg->limits;
    if (ex->ops->buffered(ex->cs) > lim->stream_buffer_bytes) {
        ex->driver_paused = 1;
        return FG_PAUSE;
    }
    return 0;
}

static int relay_data(void *ctx, const void *buf, size_t len)
{
    return relay_body(ctx, buf, len, NULL, NULL);
}

static void relay_end(void *ctx)
{
    struct fg_exchange *ex = ctx;
    if (ex->driver_done)
        return;
    ex->driver_done = 1;
    if (!ex->head_sent) {
        fg_exchange_fail(ex, 502, "InternalError",
                         "the member's driver ended without an answer");
        return;
    }
    ex->ops->send_end(ex->cs);
}

static void relay_error(void *ctx, int code, const char *reason,
                        const char *message)
{
    struct fg_exchange *ex = ctx;
    if (ex->driver_done)
        return;
    if (code < 400 || code > 599)
        code = 502;
    fg_exchange_fail(ex, code, reason, "%s", message ? message : "");
    ex->driver_done = 1;
}

static void relay_body_pause(void *ctx)
{
    struct fg_exchange *ex = ctx;
    if (!ex->body_paused)
        ex->body_paused_us = now_us();
    ex->body_paused = 1;
    ex->ops->pause_body(ex->cs);
}

static void relay_body_resume(void *ctx)
{
    struct fg_exchange *ex = ctx;
    uint64_t now = now_us();
    if (ex->body_paused) /* the client's clocks start again */
        ex->body_start_us += now - ex->body_paused_us;
    ex->body_paused = 0;
    ex->body_last_us = now;
    ex->ops->resume_body(ex->cs);
}

/* The codec writes from the driver's buffer and gives it back once the
 * bytes are written or dropped, on this loop (the cross-loop proxy copies
 * instead, since its driver's buffer must go back on the owner loop). */
static int relay_data_ref(void *ctx, const void *buf, size_t len,
                          fg_buffer_free_fn free_fn, void *arg)
{
    return relay_body(ctx, buf, len, free_fn, arg);
}

/* ---- the callbacks as the driver calls them ------------------------------
 *
 * driver.h promises that no driver op runs inside a driver callback. The
 * codecs already defer what a write could set off, but the exchange holds
 * the promise itself: while a callback runs, a finish or a resume that
 * arrives is put off to the loop (run_deferred), and once the codec is
 * done with the exchange no callback reaches the codec again. */

static void run_deferred(evutil_socket_t fd, short what, void *arg);

static int enter_cb(struct fg_exchange *ex)
{
    if (ex->finish_deferred)
        return -1; /* the codec has let go of the exchange */
    ex->in_callback++;
    return 0;
}

static void leave_cb(struct fg_exchange *ex)
{
    if (--ex->in_callback == 0 && ex->deferred_ev &&
        (ex->finish_deferred || ex->resume_deferred))
        event_active(ex->deferred_ev, EV_TIMEOUT, 0);
}

static int defer(struct fg_exchange *ex)
{
    if (!ex->deferred_ev)
        ex->deferred_ev = event_new(ex->worker->base, -1, 0, run_deferred, ex);
    return ex->deferred_ev ? 0 : -1;
}

void fg_exchange_hold(struct fg_exchange *ex)
{
    ex->in_callback++;
}

void fg_exchange_unhold(struct fg_exchange *ex)
{
    leave_cb(ex);
}

int fg_exchange_stream_head(struct fg_exchange *ex, const char *content_type)
{
    struct fg_header h[2] = {
        {"content-type", 12, content_type, strlen(content_type)},
        {"cache-control", 13, "no-cache, private", 17},
    };
    return send_head(ex, 200, h, 2, -1, 0);
}

int fg_exchange_stream_data(struct fg_exchange *ex, const void *buf, size_t len)
{
    if (ex->driver_done || ex->finish_deferred)
        return -1;
    return ex->ops->send_data(ex->cs, buf, len);
}

void fg_exchange_stream_end(struct fg_exchange *ex)
{
    if (ex->driver_done || ex->finish_deferred)
        return;
    ex->driver_done = 1;
    ex->ops->send_end(ex->cs);
}

static int cb_head(void *ctx, int status, const struct fg_header *headers,
                   size_t n)
{
    if (enter_cb(ctx) != 0)
        return -1;
    int rc = relay_head(ctx, status, headers, n);
    leave_cb(ctx);
    return rc;
}

static int cb_data(void *ctx, const void *buf, size_t len)
{
    if (enter_cb(ctx) != 0)
        return -1;
    int rc = relay_data(ctx, buf, len);
    leave_cb(ctx);
    return rc;
}

static int cb_data_ref(void *ctx, const void *buf, size_t len,
                       fg_buffer_free_fn free_fn, void *arg)
{
    if (enter_cb(ctx) != 0) {
        free_fn(arg, buf, len);
        return -1;
    }
    int rc = relay_data_ref(ctx, buf, len, free_fn, arg);
    leave_cb(ctx);
    return rc;
}

static void cb_end(void *ctx)
{
    if (enter_cb(ctx) != 0)
        return;
    relay_end(ctx);
    leave_cb(ctx);
}

static void cb_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    if (enter_cb(ctx) != 0)
        return;
    relay_error(ctx, code, reason, message);
    leave_cb(ctx);
}

static void cb_body_pause(void *ctx)
{
    if (enter_cb(ctx) != 0)
        return;
    relay_body_pause(ctx);
    leave_cb(ctx);
}

static void cb_body_resume(void *ctx)
{
    if (enter_cb(ctx) != 0)
        return;
    relay_body_resume(ctx);
    leave_cb(ctx);
}

static void *cb_alloc(void *ctx, size_t len)
{
    struct fg_exchange *ex = ctx;
    return fg_arena_alloc(ex->arena, len);
}

static const struct fg_stream_callbacks stream_callbacks = {
    cb_head,       cb_data,        cb_end,      cb_error,
    cb_body_pause, cb_body_resume, cb_data_ref, cb_alloc,
};

/* ---- the request body's idle timeout --------------------------------------
 */

static void arm_body_timer(struct fg_exchange *ex, uint64_t us)
{
    struct timeval tv = {(time_t)(us / 1000000u), (suseconds_t)(us % 1000000u)};
    evtimer_add(ex->body_timer, &tv);
}

/* A body that stops arriving, or trickles in, holds a driver stream and a
 * slot for ever: after body_idle_timeout without a byte, or body_timeout
 * since the head (time the driver held the body paused not counted), the
 * request is answered 408 (reset when the answer has begun) and its driver
 * stream closed. Each byte only notes the time; the timer re-arms itself
 * for what is left, so a fast body costs no timer operations. */
static void body_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_exchange *ex = arg;
    const struct fg_limits *lim = &ex->gen->cfg->limits;
    uint64_t now = now_us();
    if (ex->body_ended)
        return;
    if (ex->body_paused) {
        arm_body_timer(ex, lim->body_idle_timeout_ms * 1000u);
        return;
    }
    uint64_t idle_end = ex->body_last_us + lim->body_idle_timeout_ms * 1000u;
    uint64_t end = idle_end;
    if (lim->body_timeout_ms &&
        ex->body_start_us + lim->body_timeout_ms * 1000u < end)
        end = ex->body_start_us + lim->body_timeout_ms * 1000u;
    if (now < end) {
        arm_body_timer(ex, end - now);
        return;
    }
    fg_debug("%s: request body stalled (%lld byte(s) in %llu ms): 408",
             ex->conn->peer, (long long)ex->body_bytes,
             (unsigned long long)((now - ex->body_start_us) / 1000u));
    ex->body_ended = 1;
    ex->ops->abandon_body(ex->cs); /* first: the 408 then says close */
    if (end == idle_end)
        fg_exchange_fail(ex, 408, "Timeout",
                         "no request body was received for %llu ms",
                         (unsigned long long)lim->body_idle_timeout_ms);
    else
        fg_exchange_fail(ex, 408, "Timeout",
                         "the request body was not received within %llu ms",
                         (unsigned long long)lim->body_timeout_ms);
    ex->driver_done = 1;
    if (ex->stream) {
        ex->member->ops->stream_close(ex->stream);
        ex->stream = NULL;
    }
}

static void start_body_timer(struct fg_exchange *ex)
{
    const struct fg_limits *lim = &ex->gen->cfg->limits;
    ex->body_timer = evtimer_new(ex->worker->base, body_timeout, ex);
    if (!ex->body_timer)
        return; /* out of memory: the idle timeout of the codec remains */
    ex->body_start_us = ex->body_last_us = now_us();
    uint64_t ms = lim->body_idle_timeout_ms;
    if (lim->body_timeout_ms && lim->body_timeout_ms < ms)
        ms = lim->body_timeout_ms;
    arm_body_timer(ex, ms * 1000u);
}

/* ---- routing ------------------------------------------------------------- */

void fg_exchange_to_member(struct fg_exchange *ex, struct fg_member_rt *m,
                           const struct fg_request_in *req,
                           const struct fg_target *t)
{
    /* The head lives in the request's arena until the exchange is freed,
     * after stream_close: the driver reads it in place (driver.h). */
    struct fg_arena *a = ex->arena;
    struct fg_request_head *head = fg_arena_alloc(a, sizeof(*head));
    size_t n_headers = 0;
    const struct fg_header *headers =
        fg_exchange_member_headers(ex, req, &n_headers);
    size_t member_len = strlen(t->member);
    char *base_path = fg_arena_alloc(a, member_len + 11);
    const char *method =
        req->in_arena ? req->method
                      : fg_arena_strndup(a, req->method, strlen(req->method));
    if (!head || !headers || !base_path || !method) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    base_path[0] = '\0';
    if (t->member_ref == FG_MEMBER_NAMED || t->member_ref == FG_MEMBER_ALL) {
        memcpy(base_path, "/clusters/", 10);
        memcpy(base_path + 10, t->member, member_len + 1);
    }
    *head = (struct fg_request_head){
        .method = method,
        .path = ex->path,
        .query = ex->query,
        .headers = headers,
        .n_headers = n_headers,
        .identity = ex->identity,
        .info = ex->info,
        .request_id = ex->request_id,
        .content_length = req->content_length,
        .http_version = req->http_version,
        .upgrade = req->upgrade && fg_request_info_is_upgradable(ex->info)
                       ? fg_upgrade_protocol(req->upgrade)
                       : NULL,
        .base_path = base_path,
    };
    ex->member = m;
    ex->upgrade = head->upgrade != NULL;
    ex->stream = m->ops->stream_open(m->instance, head, &stream_callbacks, ex);
    if (!ex->stream) {
        if (!ex->head_sent)
            fg_exchange_fail(ex, 503, NULL,
                             "the %s \"%s\" is unavailable: its %s refused "
                             "the request",
                             m->service ? "service" : "member cluster",
                             m->section->name,
                             m->service ? "plugin" : "driver");
        return;
    }
    if (!req->has_body) {
        ex->body_ended = 1;
        m->ops->stream_end(ex->stream);
    } else if (!ex->body_ended) {
        start_body_timer(ex);
    }
}

/* Reads once what the request asks (the member's path, its request info,
 * an id) into the arena, for the policy chain and the driver alike.
 * Returns 0, 1 when a service says the path is none of its own, or -1
 * when out of memory. */
static int describe(struct fg_exchange *ex, const char *method,
                    const struct fg_target *t)
{
    struct fg_arena *a = ex->arena;
    struct fg_request_info *info = fg_arena_alloc(a, sizeof(*info));
    char *path = fg_arena_strndup(a, t->rest, strlen(t->rest));
    char *query =
        t->query ? fg_arena_strndup(a, t->query, strlen(t->query)) : NULL;
    if (!info || !path || (t->query && !query) ||
        fg_request_info_parse(a, method, path, query, info) != 0)
        return -1;
    int said =
        t->member_ref == FG_MEMBER_NONE && ex->gen->cfg->role == FG_ROLE_HOST
            ? fg_service_describe(ex->gen, a, method, path, query, info)
            : 0;
    if (said < 0)
        return 1;
    ex->anonymous_ok = said == 1;
    ex->path = path;
    ex->query = query;
    ex->info = info;
    ex->request_id = request_id(a);
    return 0;
}

void fg_exchange_start(struct fg_exchange *ex, const struct fg_request_in *req)
{
    const struct fg_config *cfg = ex->gen->cfg;
    struct fg_error err = {{0}};
    struct fg_target t;

    ex->is_head_request = strcmp(req->method, "HEAD") == 0;
    int code = fg_target_parse(req->target, strlen(req->target),
                               cfg->limits.max_uri_bytes, &t, &err);
    if (code != 0) {
        fg_exchange_fail(ex, code, NULL, "%s", err.msg);
        return;
    }
    /* a service may take other bodies than the gateway's (charts) */
    struct fg_member_rt *svc =
        t.member_ref == FG_MEMBER_NONE && cfg->role == FG_ROLE_HOST
            ? fg_service_for(ex->gen, t.path)
            : NULL;
    if (svc && svc->service->max_request_body_bytes > 0)
        ex->body_limit = svc->service->max_request_body_bytes;
    if (req->content_length > ex->body_limit) {
        fg_exchange_fail(ex, 413, NULL,
                         "the request body is larger than %lld bytes",
                         (long long)ex->body_limit);
        fg_target_free(&t);
        return;
    }
    ex->verb = fg_metrics_verb(req->method, t.query);
    int described = describe(ex, req->method, &t);
    if (described != 0) {
        if (described > 0)
            fg_exchange_fail(ex, 404, "NotFound",
                             "the server could not find the requested "
                             "resource");
        else
            fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        fg_target_free(&t);
        return;
    }

    /* The probes answer anyone, before any policy phase. */
    if (t.member_ref == FG_MEMBER_NONE && fg_endpoints_is_probe(t.path)) {
        fg_endpoints_serve(ex, req->method, t.path);
        fg_target_free(&t);
        return;
    }
    fg_policy_start(ex, req, &t);
}

void fg_exchange_route(struct fg_exchange *ex, const struct fg_request_in *req,
                       const struct fg_target *t)
{
    int host_role = ex->gen->cfg->role == FG_ROLE_HOST;
    if (t->member_ref == FG_MEMBER_NONE &&
        fg_endpoints_owns(t->path, host_role)) {
        fg_endpoints_serve(ex, req->method, t->path);
        return;
    }
    if (t->member_ref == FG_MEMBER_ALL) {
        fg_fanout_start(ex, req, t);
        return;
    }
    struct fg_member_rt *m = NULL;
    if (t->member_ref == FG_MEMBER_NAMED) {
        m = fg_gen_member(ex->gen, t->member);
    } else if (t->member_ref == FG_MEMBER_NONE && !host_role &&
               ex->gen->n_members == 1) {
        /* the member role serves its own cluster at unprefixed paths */
        m = ex->gen->members[0];
    } else if (t->member_ref == FG_MEMBER_NONE && host_role &&
               (m = fg_service_for(ex->gen, t->path)) != NULL) {
        fg_exchange_to_member(ex, m, req, t);
        return;
    } else if (t->member_ref == FG_MEMBER_NONE && host_role &&
               ex->worker->gw->fleet) {
        fg_fleet_serve(ex, req);
        if (ex->fleet_write && req->has_body && !ex->body_ended &&
            !ex->driver_done)
            start_body_timer(ex);
        return;
    } else if (t->member_ref == FG_MEMBER_NONE) {
        fg_exchange_fail(ex, 404, "NotFound",
                         "the server could not find the requested resource");
        return;
    }
    enum fg_review_kind review = fg_review_kind_of(ex->info);
    if (m && review) {
        fg_review_start(ex, review, req);
        if (req->has_body && !ex->body_ended && !ex->driver_done)
            start_body_timer(ex);
        return;
    }
    if (!m) {
        char msg[128];
        snprintf(msg, sizeof(msg), "clusters \"%s\" not found", t->member);
        fg_exchange_not_found(ex, msg, t->member, "clusters");
        return;
    }
    fg_exchange_to_member(ex, m, req, t);
}

void fg_exchange_body(struct fg_exchange *ex, const void *buf, size_t len)
{
    if (fg_policy_hold_body(ex, buf, len))
        return; /* a verdict is pending: replayed once it allows */
    ex->body_bytes += (int64_t)len;
    ex->body_last_us = now_us();
    if (ex->driver_done)
        return; /* answered already: the codec discards what is left */
    if (ex->review) {
        fg_review_body(ex, buf, len);
        return;
    }
    if (ex->fleet_write) {
        fg_fleet_write_body(ex, buf, len);
        return;
    }
    if (!ex->stream)
        return;
    /* A tunnel (after 101) has no body limit: it is a session. */
    if (ex->status != 101 && ex->body_bytes > ex->body_limit) {
        fg_exchange_fail(ex, 413, NULL,
                         "the request body is larger than %lld bytes",
                         (long long)ex->body_limit);
        return;
    }
    if (ex->member->ops->stream_write(ex->stream, buf, len) != 0 &&
        !ex->driver_done)
        fg_exchange_fail(ex, 502, NULL, "the member's driver failed");
}

void fg_exchange_body_end(struct fg_exchange *ex)
{
    if (ex->body_ended || fg_policy_hold_body(ex, NULL, 0))
        return;
    ex->body_ended = 1;
    if (ex->body_timer)
        evtimer_del(ex->body_timer);
    if (ex->review && !ex->driver_done)
        fg_review_body_end(ex);
    else if (ex->fleet_write && !ex->driver_done)
        fg_fleet_write_body_end(ex);
    else if (ex->stream && !ex->driver_done)
        ex->member->ops->stream_end(ex->stream);
}

void fg_exchange_output_drained(struct fg_exchange *ex)
{
    if (ex->in_callback) {
        ex->resume_deferred = defer(ex) == 0;
        return;
    }
    if (ex->driver_paused && ex->stream && !ex->driver_done) {
        ex->driver_paused = 0;
        ex->member->ops->stream_resume(ex->stream);
    }
}

static void finish_now(struct fg_exchange *ex, int completed);

static void run_deferred(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_exchange *ex = arg;
    if (ex->finish_deferred) {
        finish_now(ex, ex->finish_deferred - 1);
        return;
    }
    ex->resume_deferred = 0;
    fg_exchange_output_drained(ex);
}

void fg_exchange_finish(struct fg_exchange *ex, int completed)
{
    if (ex->in_callback && defer(ex) == 0) {
        ex->finish_deferred = completed + 1;
        return;
    }
    finish_now(ex, completed);
}

static void finish_now(struct fg_exchange *ex, int completed)
{
    struct fg_worker *w = ex->worker;
    if (ex->deferred_ev)
        event_free(ex->deferred_ev);
    if (ex->body_timer)
        event_free(ex->body_timer);
    if (ex->stream)
        ex->member->ops->stream_close(ex->stream);
    int code = ex->status ? ex->status : 499; /* client went away */
    if (!completed && ex->status && !ex->driver_done)
        code = 499;
    fg_policy_finish(ex, code, now_us() - ex->started_us);
    fg_review_finish(ex);
    /* a list across members is counted as the member "*" */
    /* a service is the host's own, as the Cluster API is */
    const char *member = ex->member && !ex->member->service
                             ? ex->member->section->name
                         : ex->fanout ? "*"
                                      : NULL;
    fg_fanout_finish(ex);
    fg_fleet_finish(ex);
    fg_fleet_write_finish(ex);
    fg_metrics_record(&w->metrics, member, ex->verb, code,
                      now_us() - ex->started_us);
    fg_exchange_gen_release(ex);
    atomic_fetch_sub_explicit(&w->metrics.in_flight, 1, memory_order_relaxed);
    w->in_flight--;
    ex->conn->requests--;
    fg_arena_free(ex->arena);
    free(ex);
    if (w->draining)
        fg_worker_check_drained(w);
}
