/* Member calls (member_call.h): the service's request becomes an exchange
 * on a connection of its own that no socket carries, whose codec hands the
 * answer to the service's callbacks. So the call takes the path a user's
 * request to /clusters/MEMBER/... takes (target checks, the policy chain
 * from authorize on, routing, the member's driver, audit, metrics). */
#include "request/member_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <fedgate/util.h>

#include "daemon/gateway.h"
#include "net/conn.h"
#include "request/exchange_internal.h"
#include "request/policy_chain.h"

struct fg_member_call {
    struct fg_conn conn; /* the exchange's connection: no socket */
    struct fg_member_call *next, *prev; /* the worker's open calls */
    struct fg_exchange *ex;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    struct event *finish_ev; /* fg_exchange_finish, from the loop */
    int finished;            /* the exchange is gone */
    int completed;           /* the answer ended, not reset */
    int paused;              /* cb->data said FG_PAUSE */
    int body_dropped;        /* the exchange reads no more body */
    int draining;            /* 1: a watch the drain ends; 2: ending now */
};

static void unlink_call(struct fg_member_call *c)
{
    struct fg_worker *w = c->conn.worker;
    if (c->prev)
        c->prev->next = c->next;
    else if (w->member_calls == c)
        w->member_calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

static void finish_now(struct fg_member_call *c)
{
    if (c->finished)
        return;
    c->finished = 1;
    event_del(c->finish_ev);
    struct fg_exchange *ex = c->ex;
    c->ex = NULL; /* freed by the finish below */
    fg_exchange_finish(ex, c->completed);
}

static void finish_from_loop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    finish_now(arg);
}

/* The codec ops may not call into the exchange: its finish waits. */
static void finish_later(struct fg_member_call *c, int completed)
{
    c->completed = completed;
    event_active(c->finish_ev, EV_TIMEOUT, 0);
}

static int send_data(void *cs, const void *buf, size_t len)
{
    struct fg_member_call *c = cs;
    int r = c->cb->data(c->ctx, buf, len);
    if (r == FG_PAUSE)
        c->paused = 1;
    return r < 0 ? -1 : 0;
}

static int send_end(void *cs)
{
    struct fg_member_call *c = cs;
    c->cb->end(c->ctx);
    finish_later(c, 1);
    return 0;
}

static int send_head(void *cs, int status, const struct fg_header *headers,
                     size_t n_headers, int64_t content_length, int end_stream)
{
    struct fg_member_call *c = cs;
    (void)content_length;
    if (c->cb->head(c->ctx, status, headers, n_headers) != 0)
        return -1;
    return end_stream ? send_end(cs) : 0;
}

static int send_data_ref(void *cs, const void *buf, size_t len,
                         fg_buffer_free_fn free_fn, void *arg)
{
    int r = send_data(cs, buf, len);
    free_fn(arg, buf, len);
    return r;
}

static void reset(void *cs)
{
    struct fg_member_call *c = cs;
    c->cb->error(c->ctx, 502, "BadGateway",
                 "the member's answer broke off before its end");
    finish_later(c, 0);
}

/* What the exchange counts against stream_buffer_bytes: all of it while
 * the service asked for a pause, nothing otherwise (it took the bytes). */
static size_t buffered(void *cs)
{
    struct fg_member_call *c = cs;
    return c->paused ? (size_t)-1 / 2 : 0;
}

static void pause_body(void *cs)
{
    struct fg_member_call *c = cs;
    c->cb->body_pause(c->ctx);
}

static void resume_body(void *cs)
{
    struct fg_member_call *c = cs;
    c->cb->body_resume(c->ctx);
}

static void abandon_body(void *cs)
{
    struct fg_member_call *c = cs;
    c->body_dropped = 1;
}

static const struct fg_codec_ops call_codec = {
    .send_head = send_head,
    .send_data = send_data,
    .send_data_ref = send_data_ref,
    .send_end = send_end,
    .reset = reset,
    .buffered = buffered,
    .pause_body = pause_body,
    .resume_body = resume_body,
    .abandon_body = abandon_body,
};

/* "/clusters/MEMBER" PATH ["?" QUERY] in the exchange's arena. */
static char *target_of(struct fg_arena *a, const char *member,
                       const struct fg_request_head *head)
{
    size_t len = strlen(member) + strlen(head->path) + 16 +
                 (head->query ? strlen(head->query) : 0);
    char *t = fg_arena_alloc(a, len);
    if (t)
        snprintf(t, len, "/clusters/%s%s%s%s", member, head->path,
                 head->query ? "?" : "", head->query ? head->query : "");
    return t;
}

struct fg_member_call *fg_member_call_open(struct fg_worker *w,
                                           const char *caller,
                                           const char *member,
                                           const struct fg_request_head *head,
                                           const struct fg_stream_callbacks *cb,
                                           void *ctx, char *err, size_t err_len)
{
    if (w->draining) {
        snprintf(err, err_len, "the gateway is stopping");
        return NULL;
    }
    if (!head->identity || !head->identity->user || !*head->identity->user ||
        !head->path || head->path[0] != '/') {
        snprintf(err, err_len, "a member call needs an identity and a path");
        return NULL;
    }
    for (size_t i = 0; i < head->n_headers; i++)
        if (fg_header_is_identity(head->headers[i].name,
                                  head->headers[i].name_len)) {
            snprintf(err, err_len,
                     "header \"%.*s\" is the core's: the call runs as "
                     "head->identity",
                     (int)head->headers[i].name_len, head->headers[i].name);
            return NULL;
        }
    struct fg_member_call *c = calloc(1, sizeof(*c));
    if (!c ||
        !(c->finish_ev = event_new(w->base, -1, 0, finish_from_loop, c))) {
        free(c);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    c->conn.worker = w;
    c->conn.authenticated = 1;
    c->next = w->member_calls;
    if (c->next)
        c->next->prev = c;
    w->member_calls = c;
    snprintf(c->conn.peer, sizeof(c->conn.peer), "service:%s", caller);
    c->cb = cb;
    c->ctx = ctx;
    c->ex = fg_exchange_new(&c->conn, &call_codec, c, NULL);
    const char *target = c->ex ? target_of(c->ex->arena, member, head) : NULL;
    const struct fg_identity *as =
        target ? fg_policy_identity_dup(c->ex->arena, head->identity) : NULL;
    if (!as) {
        if (c->ex)
            fg_exchange_finish(c->ex, 0);
        unlink_call(c);
        event_free(c->finish_ev);
        free(c);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    c->ex->acting_as = as;
    struct fg_request_in req = {
        .method = head->method,
        .target = target,
        .headers = head->headers,
        .n_headers = head->n_headers,
        .content_length = head->content_length,
        .has_body = head->content_length != 0,
        .http_version = 20,
    };
    fg_exchange_start(c->ex, &req);
    return c;
}

int fg_member_call_write(struct fg_member_call *c, const void *buf, size_t len)
{
    if (c->finished || c->body_dropped)
        return -1;
    fg_exchange_body(c->ex, buf, len);
    return 0;
}

void fg_member_call_end(struct fg_member_call *c)
{
    if (!c->finished && !c->body_dropped)
        fg_exchange_body_end(c->ex);
}

void fg_member_call_resume(struct fg_member_call *c)
{
    if (c->finished || !c->paused)
        return;
    c->paused = 0;
    fg_exchange_output_drained(c->ex);
}

void fg_member_call_close(struct fg_member_call *c)
{
    if (!c)
        return;
    finish_now(c);
    unlink_call(c);
    event_free(c->finish_ev);
    free(c);
}

static int is_listed(struct fg_worker *w, const struct fg_member_call *c)
{
    for (const struct fg_member_call *o = w->member_calls; o; o = o->next)
        if (o == c)
            return 1;
    return 0;
}

/* The error callback may close this call or any other, and open new ones,
 * so the watches to end are marked first and the list is walked again from
 * its head after each callback. */
void fg_member_calls_drain(struct fg_worker *w)
{
    for (struct fg_member_call *c = w->member_calls; c; c = c->next) {
        const struct fg_request_info *info = c->ex ? c->ex->info : NULL;
        c->draining = !c->finished && info && strcmp(info->verb, "watch") == 0;
    }
    for (;;) {
        struct fg_member_call *c = w->member_calls;
        while (c && c->draining != 1)
            c = c->next;
        if (!c)
            return;
        c->draining = 2; /* a new call at the same address would be 0 */
        c->cb->error(c->ctx, 503, "ServiceUnavailable",
                     "the gateway is stopping");
        if (is_listed(w, c) && c->draining == 2) {
            c->draining = 0;
            finish_now(c);
        }
    }
}
