/* Lists across every member (see fanout.h): the questions to the policy
 * chain, one driver stream per member with its answer gathered in a
 * bounded buffer, the merge, and paging through the members in order.
 *
 * Driver callbacks only note what happened and wake STEP on the loop:
 * streams are closed, answers merged and the client answered from there,
 * so no driver op ever runs inside a driver callback (driver.h). */
#include "request/fanout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fedgate/util.h>

#include "base/log.h"
#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "request/exchange_internal.h"
#include "request/fanout_merge.h"
#include "request/fanout_token.h"
#include "request/policy_chain.h"
#include "request/status.h"

/* Warning headers at most; the answer's failedClusters lists them all. */
#define MAX_WARNINGS 16

enum leg_state { LEG_IDLE, LEG_OPEN, LEG_DONE, LEG_COLLECTED };

struct leg {
    struct fg_fanout *fo;
    struct fg_member_rt *m;
    const char *name;
    int allowed;
    enum leg_state state;
    void *stream;
    struct event *timer;
    struct evbuffer *body;
    int status;        /* the member's, 0 before its head */
    int resumed;       /* opened with a member continue token */
    char failure[256]; /* "" while it has not failed */
};

struct fg_fanout {
    struct fg_exchange *ex;
    const struct fg_request_in *req;
    const struct fg_target *t;
    struct leg *legs; /* the generation's members, by name */
    size_t n_legs;
    size_t asking; /* the leg the policy chain is asked about */
    int in_ask, answered_now;
    int discovery; /* a non-resource GET: the first allowed member */
    /* What members are asked: the client's headers (Accept made JSON's)
     * and query without limit and continue. */
    const struct fg_header *headers;
    size_t n_headers;
    char *query;
    int paging;      /* limit or continue given: one member at a time */
    long long limit; /* 0: none */
    struct fg_fanout_cursor cursor;
    size_t current; /* paging: the leg open now */
    int64_t bytes;  /* member answer bytes held */
    struct fg_fanout_merge *merge;
    char *cont; /* the page's own continue token */
    struct event *step;
    int answered; /* the client has its answer */
    /* The first refusal, for when no member answered at all. */
    int refusal_code;
    char refusal[340];
};

/* ---- small helpers -------------------------------------------------------
 */

static int by_name(const void *a, const void *b)
{
    const struct leg *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* The "message" of a Kubernetes Status in BODY, or "". */
static void status_message(struct evbuffer *body, char *out, size_t len)
{
    out[0] = '\0';
    size_t n = body ? evbuffer_get_length(body) : 0;
    const char *text = n ? (const char *)evbuffer_pullup(body, -1) : NULL;
    if (!text ||
        fg_json_depth(text, n, FG_FANOUT_MAX_DEPTH) > FG_FANOUT_MAX_DEPTH)
        return;
    cJSON *o = cJSON_ParseWithLength(text, n);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
    if (cJSON_IsString(m))
        snprintf(out, len, "%s", m->valuestring);
    cJSON_Delete(o);
}

/* A Warning header's value (RFC 7234 5.5 as kube-apiserver writes it:
 * 299 - "text") for CLUSTER's FAILURE, in A: what came from a member is
 * reduced to visible ASCII and escaped, so nothing it sends can end the
 * header or start another. */
static const char *warning(struct fg_arena *a, const char *cluster,
                           const char *failure, size_t *len)
{
    char text[320];
    snprintf(text, sizeof(text), "cluster %s: %s", cluster, failure);
    char *out = fg_arena_alloc(a, 2 * sizeof(text) + 8);
    if (!out)
        return NULL;
    size_t n = (size_t)sprintf(out, "299 - \"");
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            out[n++] = '\\';
        out[n++] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
    }
    out[n++] = '"';
    out[n] = '\0';
    *len = n;
    return out;
}

static void answer_status(struct fg_fanout *fo, int code, const char *reason,
                          const char *message)
{
    fo->answered = 1;
    fg_exchange_fail(fo->ex, code, reason, "%s", message);
}

/* ---- the answer ----------------------------------------------------------
 */

static void reply(struct fg_fanout *fo)
{
    struct fg_exchange *ex = fo->ex;
    fo->answered = 1;
    /* a later page on which no member answered is still that list */
    if (!fg_fanout_merge_answers(fo->merge) && fo->cursor.token &&
        fg_fanout_merge_empty(fo->merge, fo->cursor.kind,
                              fo->cursor.api_version) != 0) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    if (!fg_fanout_merge_answers(fo->merge) && !fo->cursor.token) {
        char msg[1024];
        size_t n = 0;
        msg[0] = '\0';
        for (size_t i = 0; i < fo->n_legs && n < sizeof(msg); i++)
            if (fo->legs[i].failure[0])
                n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%s: %s",
                                      n ? "; " : "", fo->legs[i].name,
                                      fo->legs[i].failure);
        if (fo->refusal_code)
            fg_exchange_fail(ex, fo->refusal_code, NULL, "%s", fo->refusal);
        else
            fg_exchange_fail(ex, 503, "ServiceUnavailable",
                             "no member cluster answered: %s", msg);
        return;
    }
    struct fg_header w[MAX_WARNINGS];
    size_t nw = 0;
    for (size_t i = 0; i < fo->n_legs && nw < MAX_WARNINGS; i++) {
        struct leg *l = &fo->legs[i];
        if (!l->failure[0])
            continue;
        size_t len;
        const char *v = warning(ex->arena, l->name, l->failure, &len);
        if (v)
            w[nw++] = (struct fg_header){"warning", 7, v, len};
    }
    size_t len = 0;
    char *json = fg_fanout_merge_finish(fo->merge, fo->cont, &len);
    if (!json) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    fg_exchange_reply_headers(ex, 200, w, nw, "application/json", json, len);
    free(json);
}

/* ---- one member's stream -------------------------------------------------
 */

static void wake(struct fg_fanout *fo)
{
    event_active(fo->step, EV_TIMEOUT, 0);
}

/* L is over: FAILURE (printf) says why, NULL when it answered. */
static void leg_over(struct leg *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void leg_over(struct leg *l, const char *fmt, ...)
{
    if (l->state != LEG_OPEN)
        return;
    l->state = LEG_DONE;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->failure, sizeof(l->failure), fmt, ap);
        va_end(ap);
    }
    if (l->timer)
        evtimer_del(l->timer);
    wake(l->fo);
}

static int cb_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    (void)h;
    (void)n;
    struct leg *l = ctx;
    if (l->state != LEG_OPEN)
        return -1;
    l->status = status;
    return 0;
}

static int cb_data(void *ctx, const void *buf, size_t len)
{
    struct leg *l = ctx;
    struct fg_fanout *fo = l->fo;
    if (l->state != LEG_OPEN)
        return -1;
    int64_t max = fo->ex->gen->cfg->limits.max_fanout_bytes;
    if (fo->bytes + (int64_t)len > max) {
        leg_over(l,
                 "its answer takes the list past max_fanout_bytes (%lld "
                 "bytes): list in pages (limit, kubectl --chunk-size)",
                 (long long)max);
        return -1;
    }
    if (evbuffer_add(l->body, buf, len) != 0) {
        leg_over(l, "the gateway is out of memory");
        return -1;
    }
    fo->bytes += (int64_t)len;
    return 0;
}

static int cb_data_ref(void *ctx, const void *buf, size_t len,
                       fg_buffer_free_fn free_fn, void *arg)
{
    int rc = cb_data(ctx, buf, len);
    free_fn(arg, buf, len);
    return rc;
}

static void cb_end(void *ctx)
{
    leg_over(ctx, NULL);
}

static void cb_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    (void)reason;
    leg_over(ctx, "unavailable (%d): %s", code, message ? message : "");
}

static void cb_body(void *ctx)
{
    (void)ctx; /* a list has no request body to pace */
}

static void *cb_alloc(void *ctx, size_t len)
{
    struct leg *l = ctx;
    return fg_arena_alloc(l->fo->ex->arena, len);
}

static const struct fg_stream_callbacks leg_callbacks = {
    cb_head, cb_data, cb_end, cb_error, cb_body, cb_body, cb_data_ref, cb_alloc,
};

static void leg_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct leg *l = arg;
    leg_over(l, "no answer within %llu ms",
             (unsigned long long)l->fo->ex->gen->cfg->limits.fanout_timeout_ms);
}

/* Bytes of a query value that go as they are (RFC 3986 unreserved). */
static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* The query L's member is asked with: the client's, then limit and the
 * member's continue TOKEN ("" none), in the arena. */
static const char *leg_query(struct fg_fanout *fo, long long limit,
                             const char *token)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t cap = (fo->query ? strlen(fo->query) : 0) + 3 * strlen(token) + 64;
    char *q = fg_arena_alloc(fo->ex->arena, cap);
    if (!q)
        return NULL;
    size_t n = (size_t)snprintf(q, cap, "%s", fo->query ? fo->query : "");
    if (limit > 0)
        n += (size_t)snprintf(q + n, cap - n, "%slimit=%lld", n ? "&" : "",
                              limit);
    if (*token) {
        n += (size_t)snprintf(q + n, cap - n, "%scontinue=", n ? "&" : "");
        for (const char *p = token; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (unreserved(c)) {
                q[n++] = (char)c;
            } else {
                q[n++] = '%';
                q[n++] = hex[c >> 4];
                q[n++] = hex[c & 15];
            }
        }
        q[n] = '\0';
    }
    return n ? q : NULL;
}

/* Opens L's stream, asking for LIMIT items (0: all) from its member's
 * continue TOKEN ("": the start). */
static void leg_open(struct leg *l, long long limit, const char *token)
{
    struct fg_fanout *fo = l->fo;
    struct fg_exchange *ex = fo->ex;
    struct fg_arena *a = ex->arena;
    struct fg_request_head *head = fg_arena_alloc(a, sizeof(*head));
    char *base = fg_arena_alloc(a, strlen(l->name) + 11);
    const char *query = leg_query(fo, limit, token);
    l->state = LEG_OPEN;
    l->resumed = *token != '\0';
    l->body = evbuffer_new();
    l->timer = evtimer_new(ex->worker->base, leg_timeout, l);
    if (!head || !base || (!query && (fo->query || limit > 0 || *token)) ||
        !l->body || !l->timer) {
        leg_over(l, "the gateway is out of memory");
        return;
    }
    sprintf(base, "/clusters/%s", l->name);
    *head = (struct fg_request_head){
        .method = "GET",
        .path = ex->path,
        .query = query,
        .headers = fo->headers,
        .n_headers = fo->n_headers,
        .identity = ex->identity,
        .info = ex->info,
        .request_id = ex->request_id,
        .content_length = 0,
        .http_version = fo->req->http_version,
        .base_path = base,
    };
    uint64_t ms = ex->gen->cfg->limits.fanout_timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(l->timer, &tv);
    l->stream = l->m->ops->stream_open(l->m->instance, head, &leg_callbacks, l);
    if (!l->stream) {
        leg_over(l, "unavailable: its driver refused the request");
        return;
    }
    l->m->ops->stream_end(l->stream);
}

/* ---- collecting answers ----------------------------------------------------
 */

/* Merges what L answered; returns the member's continue token (malloc'd)
 * when it gave one. A member's 410 on a continue token ends the request
 * (returns NULL and answers). */
static char *collect(struct fg_fanout *fo, struct leg *l)
{
    struct fg_worker *w = fo->ex->worker;
    char *cont = NULL;
    l->state = LEG_COLLECTED;
    if (!l->failure[0] && (l->status < 200 || l->status > 299)) {
        char msg[256];
        status_message(l->body, msg, sizeof(msg));
        if (l->status == 410 && l->resumed) {
            char text[400];
            snprintf(text, sizeof(text),
                     "the continue token expired on the member cluster "
                     "\"%.63s\": %.250s",
                     l->name, msg);
            answer_status(fo, 410, "Expired", text);
            return NULL;
        }
        snprintf(l->failure, sizeof(l->failure), "answered %d: %.200s",
                 l->status, msg[0] ? msg : fg_http_reason_phrase(l->status));
        if (!fo->refusal_code && l->status >= 400 && l->status < 500) {
            fo->refusal_code = l->status;
            snprintf(fo->refusal, sizeof(fo->refusal),
                     "the member cluster \"%.63s\" %.250s", l->name,
                     l->failure);
        }
    }
    if (!l->failure[0]) {
        struct fg_error err = {{0}};
        size_t n = evbuffer_get_length(l->body);
        const char *body = (const char *)evbuffer_pullup(l->body, -1);
        if (fg_fanout_merge_add(fo->merge, l->name, body ? body : "", n, &cont,
                                &err) != 0)
            snprintf(l->failure, sizeof(l->failure), "%.250s", err.msg);
    }
    fo->bytes -= (int64_t)evbuffer_get_length(l->body);
    evbuffer_free(l->body);
    l->body = NULL;
    if (l->failure[0]) {
        atomic_fetch_add_explicit(&w->metrics.fanout_member_failures, 1,
                                  memory_order_relaxed);
        fg_warn("cross-cluster list %s: member cluster \"%s\": %s",
                fo->ex->request_id, l->name, l->failure);
        fg_fanout_merge_fail(fo->merge, l->name, l->failure);
    }
    return cont;
}

/* The next allowed leg after index I, or n_legs. */
static size_t next_allowed(const struct fg_fanout *fo, size_t i)
{
    while (i < fo->n_legs && !fo->legs[i].allowed)
        i++;
    return i;
}

/* The continue token for the page that starts at CLUSTER's TOKEN. */
static char *page_token(const struct fg_fanout *fo, const char *cluster,
                        const char *token, struct fg_error *err)
{
    struct fg_fanout_cursor c = {.token = (char *)token};
    snprintf(c.cluster, sizeof(c.cluster), "%s", cluster);
    snprintf(c.kind, sizeof(c.kind), "%s", fg_fanout_merge_kind(fo->merge));
    snprintf(c.api_version, sizeof(c.api_version), "%s",
             fg_fanout_merge_api_version(fo->merge));
    return fg_fanout_token_encode(&c, err);
}

/* Paging: the leg open now is collected; the page ends with it or goes on
 * with the next member, for what the limit leaves. */
static void page_step(struct fg_fanout *fo)
{
    struct leg *l = &fo->legs[fo->current];
    char *cont = collect(fo, l);
    if (fo->answered) {
        free(cont);
        return;
    }
    struct fg_error err = {{0}};
    size_t got = fg_fanout_merge_items(fo->merge);
    size_t next = next_allowed(fo, fo->current + 1);
    if (cont) {
        fo->cont = page_token(fo, l->name, cont, &err);
        free(cont);
        if (!fo->cont)
            snprintf(l->failure, sizeof(l->failure), "%.250s", err.msg);
        reply(fo);
        return;
    }
    if (next == fo->n_legs) {
        reply(fo);
        return;
    }
    if (fo->limit > 0 && (long long)got >= fo->limit) {
        if (!(fo->cont = page_token(fo, fo->legs[next].name, "", &err)))
            answer_status(fo, 503, NULL, err.msg);
        else
            reply(fo);
        return;
    }
    fo->current = next;
    leg_open(&fo->legs[next], fo->limit > 0 ? fo->limit - (long long)got : 0,
             "");
}

static void step(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_fanout *fo = arg;
    if (fo->answered)
        return;
    size_t open = 0;
    for (size_t i = 0; i < fo->n_legs; i++) {
        struct leg *l = &fo->legs[i];
        if (l->state == LEG_DONE && l->stream) {
            l->m->ops->stream_close(l->stream);
            l->stream = NULL;
        }
        open += l->state == LEG_OPEN;
    }
    if (fo->paging) {
        if (fo->legs[fo->current].state == LEG_DONE)
            page_step(fo);
        return;
    }
    if (open)
        return;
    for (size_t i = 0; i < fo->n_legs; i++)
        if (fo->legs[i].state == LEG_DONE)
            free(collect(fo, &fo->legs[i]));
    reply(fo);
}

/* ---- the policy chain's answers ---------------------------------------------
 */

static void forbidden(struct fg_fanout *fo)
{
    const struct fg_request_info *ri = fo->ex->info;
    const char *user = fo->ex->identity ? fo->ex->identity->user : "";
    char msg[512];
    if (ri->is_resource)
        snprintf(msg, sizeof(msg),
                 "%s is forbidden: User \"%s\" cannot %s resource \"%s\" in "
                 "API group \"%s\" on any member cluster",
                 ri->resource, user, ri->verb, ri->resource, ri->api_group);
    else
        snprintf(msg, sizeof(msg),
                 "forbidden: User \"%s\" cannot %s path \"%s\" on any member "
                 "cluster",
                 user, ri->verb, ri->path);
    answer_status(fo, 403, "Forbidden", msg);
}

/* Every allowed member is known: open what the request needs. */
static void start_streams(struct fg_fanout *fo)
{
    struct fg_exchange *ex = fo->ex;
    size_t first = next_allowed(fo, 0);
    if (first == fo->n_legs) {
        forbidden(fo);
        return;
    }
    if (fo->discovery) {
        fo->answered = 1;
        fg_exchange_to_member(ex, fo->legs[first].m, fo->req, fo->t);
        return;
    }
    atomic_fetch_add_explicit(&ex->worker->metrics.fanout_requests, 1,
                              memory_order_relaxed);
    if (!fo->paging) {
        for (size_t i = first; i < fo->n_legs; i = next_allowed(fo, i + 1))
            leg_open(&fo->legs[i], 0, "");
        return;
    }
    /* The cursor's member, or the first after it when it is gone or now
     * out of the caller's reach: members are paged in name order. */
    const char *token = "";
    if (fo->cursor.token) {
        while (first < fo->n_legs &&
               strcmp(fo->legs[first].name, fo->cursor.cluster) < 0)
            first = next_allowed(fo, first + 1);
        if (first == fo->n_legs) {
            reply(fo);
            return;
        }
        if (strcmp(fo->legs[first].name, fo->cursor.cluster) == 0)
            token = fo->cursor.token;
    }
    fo->current = first;
    leg_open(&fo->legs[first], fo->limit, token);
}

static void ask_next(struct fg_fanout *fo);

static void answered(struct fg_exchange *ex, enum fg_verdict v,
                     const char *reason)
{
    (void)reason; /* a member the caller may not read is left out */
    struct fg_fanout *fo = ex->fanout;
    struct leg *l = &fo->legs[fo->asking++];
    l->allowed = v == FG_ALLOW;
    if (fo->in_ask)
        fo->answered_now = 1;
    else
        ask_next(fo);
}

/* Asks about each member in turn; a verdict given at once loops here, a
 * later one comes back through answered(). */
static void ask_next(struct fg_fanout *fo)
{
    while (fo->asking < fo->n_legs) {
        /* discovery needs one member only */
        if (fo->discovery && fo->asking && fo->legs[fo->asking - 1].allowed)
            break;
        fo->in_ask = 1;
        fo->answered_now = 0;
        fg_policy_ask(fo->ex, fo->legs[fo->asking].name, fo->ex->info,
                      answered);
        fo->in_ask = 0;
        if (!fo->answered_now)
            return;
    }
    start_streams(fo);
}

/* ---- the request -----------------------------------------------------------
 */

/* The media types of ACCEPT a JSON list can answer, comma-joined, in A;
 * "" when none. */
static char *json_accept(struct fg_arena *a, const char *accept, size_t len)
{
    char *out = fg_arena_alloc(a, len + 32);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && accept[end] != ',')
            end++;
        size_t s = i;
        while (s < end && (accept[s] == ' ' || accept[s] == '\t'))
            s++;
        size_t type_end = s;
        while (type_end < end && accept[type_end] != ';' &&
               accept[type_end] != ' ')
            type_end++;
        size_t tl = type_end - s;
        const char *t = accept + s;
        int json = tl == 16 && strncasecmp(t, "application/json", 16) == 0;
        int any = (tl == 3 && memcmp(t, "*/*", 3) == 0) ||
                  (tl == 13 && strncasecmp(t, "application/*", 13) == 0);
        if (json || any) {
            if (n)
                out[n++] = ',';
            if (json) {
                memcpy(out + n, t, end - s);
                n += end - s;
            } else {
                memcpy(out + n, "application/json", 16);
                n += 16;
            }
        }
        i = end + 1;
    }
    out[n] = '\0';
    return out;
}

/* The client's headers as members get them: Accept reduced to JSON (and
 * Tables), no Accept-Encoding (answers are read here). Returns 0, 406
 * when Accept offers nothing JSON, or 503. */
static int member_headers(struct fg_fanout *fo)
{
    struct fg_exchange *ex = fo->ex;
    size_t n = 0;
    const struct fg_header *in = fg_exchange_member_headers(ex, fo->req, &n);
    struct fg_header *out =
        in ? fg_arena_alloc(ex->arena, (n + 1) * sizeof(*out)) : NULL;
    if (!out)
        return 503;
    size_t k = 0;
    char *accept = NULL;
    int offered = 0;
    for (size_t i = 0; i < n; i++) {
        if (fg_header_name_folds_to(in[i].name, in[i].name_len,
                                    "accept-encoding", 0))
            continue;
        if (!fg_header_name_folds_to(in[i].name, in[i].name_len, "accept", 0)) {
            out[k++] = in[i];
            continue;
        }
        offered = 1;
        char *j = json_accept(ex->arena, in[i].value, in[i].value_len);
        if (!j)
            return 503;
        if (*j && !accept)
            accept = j;
    }
    if (offered && !accept)
        return 406;
    if (accept)
        out[k++] = (struct fg_header){"accept", 6, accept, strlen(accept)};
    fo->headers = out;
    fo->n_headers = k;
    return 0;
}

/* Reads limit and continue from the query and keeps the rest. Returns 0,
 * or 400 / 503 with ERR set. */
static int read_query(struct fg_fanout *fo, struct fg_error *err)
{
    const char *q = fo->ex->query;
    if (!q)
        return 0;
    size_t qlen = strlen(q);
    fo->query = fg_arena_alloc(fo->ex->arena, qlen + 1);
    char *key = fg_arena_alloc(fo->ex->arena, qlen + 1);
    char *val = fg_arena_alloc(fo->ex->arena, qlen + 1);
    if (!fo->query || !key || !val)
        return 503;
    size_t n = 0;
    for (const char *p = q; *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        fg_percent_decode(key, qlen + 1, p, klen, FG_PCT_PLUS_SPACE);
        const char *v = eq ? eq + 1 : p + len;
        long vlen = fg_percent_decode(val, qlen + 1, v, (size_t)(p + len - v),
                                      FG_PCT_PLUS_SPACE);
        if (strcmp(key, "limit") == 0) {
            char *stop;
            fo->limit = strtoll(val, &stop, 10);
            if (!*val || *stop)
                return fg_error_set(err, "limit must be an integer"), 400;
            fo->paging |= fo->limit > 0;
            if (fo->limit < 0)
                fo->limit = 0;
        } else if (strcmp(key, "continue") == 0) {
            if (vlen > 0) {
                fg_fanout_cursor_free(&fo->cursor);
                if (fg_fanout_token_decode(val, (size_t)vlen, &fo->cursor,
                                           err) != 0)
                    return 400;
                fo->paging = 1;
            }
        } else if (len) {
            if (n)
                fo->query[n++] = '&';
            memcpy(fo->query + n, p, len);
            n += len;
        }
        p = end ? end + 1 : p + len;
    }
    fo->query[n] = '\0';
    if (!n)
        fo->query = NULL;
    return 0;
}

/* Whether the request is one fanout serves; else answered with 405 or
 * 404. */
static int servable(struct fg_exchange *ex, const struct fg_request_in *req)
{
    const struct fg_request_info *ri = ex->info;
    if (ex->gen->cfg->role != FG_ROLE_HOST) {
        fg_exchange_fail(ex, 404, "NotFound",
                         "a member gateway serves its own cluster only");
        return 0;
    }
    int get = strcmp(req->method, "GET") == 0;
    if (get && !req->upgrade &&
        (!ri->is_resource || strcmp(ri->verb, "list") == 0))
        return 1;
    fg_exchange_fail(ex, 405, "MethodNotAllowed",
                     "/clusters/*/ serves lists only (GET of a collection: "
                     "kubectl get, list_*), and discovery; %s %s%s%s is "
                     "not supported across clusters: use /clusters/NAME/",
                     ri->is_resource ? ri->verb : req->method,
                     ri->is_resource ? ri->resource : ri->path,
                     ri->is_resource && *ri->subresource ? "/" : "",
                     ri->is_resource ? ri->subresource : "");
    return 0;
}

void fg_fanout_start(struct fg_exchange *ex, const struct fg_request_in *req,
                     const struct fg_target *t)
{
    if (!servable(ex, req))
        return;
    const struct fg_worker_gen *g = ex->gen;
    struct fg_fanout *fo = calloc(1, sizeof(*fo));
    if (!fo || !(fo->legs = calloc(g->n_members + 1, sizeof(*fo->legs))) ||
        !(fo->merge = fg_fanout_merge_new()) ||
        !(fo->step = event_new(ex->worker->base, -1, 0, step, fo))) {
        if (fo) {
            free(fo->legs);
            fg_fanout_merge_free(fo->merge);
        }
        free(fo);
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    ex->fanout = fo;
    fo->ex = ex;
    fo->req = req;
    fo->t = t;
    fo->discovery = !ex->info->is_resource;
    fo->n_legs = g->n_members;
    for (size_t i = 0; i < g->n_members; i++)
        fo->legs[i] = (struct leg){
            .fo = fo, .m = g->members[i], .name = g->members[i]->section->name};
    qsort(fo->legs, fo->n_legs, sizeof(*fo->legs), by_name);

    struct fg_error err = {{0}};
    int code = fo->discovery ? 0 : member_headers(fo);
    if (code == 406) {
        answer_status(fo, 406, "NotAcceptable",
                      "a list across clusters is answered in JSON (a List "
                      "or a Table): the Accept header offers neither");
        return;
    }
    if (code == 0 && !fo->discovery)
        code = read_query(fo, &err);
    if (code == 400) {
        answer_status(fo, 400, "BadRequest", err.msg);
        return;
    }
    if (code != 0) {
        answer_status(fo, 503, NULL, "the gateway is out of memory");
        return;
    }
    ask_next(fo);
}

void fg_fanout_finish(struct fg_exchange *ex)
{
    struct fg_fanout *fo = ex->fanout;
    if (!fo)
        return;
    for (size_t i = 0; i < fo->n_legs; i++) {
        struct leg *l = &fo->legs[i];
        if (l->stream)
            l->m->ops->stream_close(l->stream);
        if (l->timer)
            event_free(l->timer);
        if (l->body)
            evbuffer_free(l->body);
    }
    event_free(fo->step);
    fg_fanout_merge_free(fo->merge);
    fg_fanout_cursor_free(&fo->cursor);
    free(fo->cont);
    free(fo->legs);
    free(fo);
    ex->fanout = NULL;
}
