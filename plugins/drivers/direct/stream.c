/* Streams of the direct driver: the driver ops the core calls per request,
 * the queue of requests waiting for a connection, deadlines, and the
 * answers sent back (including the gateway's own Status errors: a 503
 * carries retry-after). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "direct.h"

/* ---- Status documents ----------------------------------------------- */

char *direct_status_json(int code, const char *reason, const char *message,
                         size_t *len)
{
    struct evbuffer *b = evbuffer_new();
    if (!b)
        return NULL;
    evbuffer_add_printf(b, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                           "\"metadata\":{},\"status\":\"Failure\","
                           "\"message\":\"");
    for (const unsigned char *p = (const unsigned char *)message; *p; p++) {
        if (*p == '"' || *p == '\\')
            evbuffer_add_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            evbuffer_add_printf(b, "\\u%04x", *p);
        else
            evbuffer_add(b, p, 1);
    }
    evbuffer_add_printf(b, "\",\"reason\":\"%s\",\"code\":%d}\n", reason, code);
    *len = evbuffer_get_length(b);
    char *out = malloc(*len + 1);
    if (out) {
        evbuffer_remove(b, out, *len);
        out[*len] = 0;
    }
    evbuffer_free(b);
    return out;
}

/* ---- binding to connections ------------------------------------------ */

void direct_stream_enqueue(struct direct_stream *st)
{
    if (st->queued || st->state == DIRECT_ST_DONE)
        return;
    st->state = DIRECT_ST_PENDING;
    st->queued = 1;
    TAILQ_INSERT_TAIL(&st->in->pending, st, link);
}

static void unqueue(struct direct_stream *st)
{
    if (st->queued) {
        TAILQ_REMOVE(&st->in->pending, st, link);
        st->queued = 0;
    }
}

/* Stops whatever connection work is still going on for ST. */
static void detach(struct direct_stream *st)
{
    unqueue(st);
    if (st->h1)
        direct_h1_cancel(st->h1);
    if (st->h2)
        direct_h2_cancel(st);
}

void direct_dispatch(struct direct_instance *in)
{
    if (in->freeing)
        return;
    struct direct_stream *st = TAILQ_FIRST(&in->pending), *next;
    for (; st; st = next) {
        next = TAILQ_NEXT(st, link);
        int rc;
        if (st->upgrade || !in->cfg.http2 || in->proto == DIRECT_PROTO_H1) {
            rc = direct_h1_serve(in, st);
        } else {
            struct direct_h2 *s = direct_h2_get(in);
            if (!s)
                rc = -1;
            else if (!direct_h2_ready(s) || !direct_h2_can_take(s))
                rc = 1;
            else
                rc = 0;
            if (rc == 0) {
                unqueue(st);
                st->state = DIRECT_ST_ACTIVE;
                direct_h2_submit(s, st);
                /* the queue may have changed under a failing submit */
                next = TAILQ_FIRST(&in->pending);
                continue;
            }
        }
        if (rc == 0) {
            unqueue(st);
            st->state = DIRECT_ST_ACTIVE;
        } else if (rc < 0) {
            unqueue(st);
            direct_stream_unavailable(st, "out of memory");
            next = TAILQ_FIRST(&in->pending);
        }
    }
}

/* ---- answers ------------------------------------------------------------ */

static void finish(struct direct_stream *st)
{
    st->state = DIRECT_ST_DONE;
    if (st->timer)
        st->in->host->timer_cancel(st->timer);
    detach(st);
}

/* Keeps the member's head of an OpenAPI index until its body is whole:
 * one allocation, with room for one more header (the new length). */
static int hold_head(struct direct_stream *st, int status,
                     const struct fg_header *h, size_t n)
{
    size_t bytes = (n + 1) * sizeof(*h);
    for (size_t i = 0; i < n; i++)
        bytes += h[i].name_len + h[i].value_len;
    char *mem = malloc(bytes);
    st->rw_body = evbuffer_new();
    if (!mem || !st->rw_body) {
        free(mem);
        if (st->rw_body)
            evbuffer_free(st->rw_body);
        st->rw_body = NULL;
        return -1;
    }
    struct fg_header *v = (struct fg_header *)(void *)mem;
    char *p = mem + (n + 1) * sizeof(*h);
    for (size_t i = 0; i < n; i++) {
        memcpy(p, h[i].name, h[i].name_len);
        v[i].name = p;
        v[i].name_len = h[i].name_len;
        p += h[i].name_len;
        memcpy(p, h[i].value, h[i].value_len);
        v[i].value = p;
        v[i].value_len = h[i].value_len;
        p += h[i].value_len;
    }
    st->rw_head = v;
    st->rw_n = n;
    st->rw_status = status;
    return 0;
}

int direct_stream_head(struct direct_stream *st, int status,
                       const struct fg_header *h, size_t n)
{
    if (st->state == DIRECT_ST_DONE || st->head_sent)
        return -1;
    if (status == 101 && !st->upgrade)
        return -1;
    st->head_sent = 1;
    direct_stream_touch(st);
    /* the OpenAPI v3 index is the one proxied body the gateway edits
     * (openapi.c): its head waits until the whole body is here */
    if (st->rewrite_base && direct_openapi_answer_ok(status, h, n) &&
        hold_head(st, status, h, n) == 0) {
        st->rewriting = 1;
        return 0;
    }
    st->delivering++;
    int rc = st->cb->head(st->ctx, status, h, n);
    st->delivering--;
    return rc;
}

static int deliver(struct direct_stream *st, const void *buf, size_t len)
{
    if (st->long_lived)
        direct_stream_touch(st);
    st->resumed_inside = 0;
    st->delivering++;
    int rc = st->cb->data(st->ctx, buf, len);
    st->delivering--;
    if (rc == FG_PAUSE) {
        if (st->resumed_inside)
            return 0;
        st->client_paused = 1;
    }
    return rc;
}

/* The held head goes out; with CLEN, as the content-length. */
static int send_held_head(struct direct_stream *st, const char *clen)
{
    struct fg_header *h = st->rw_head;
    size_t n = st->rw_n;
    if (clen) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!(h[i].name_len == 14 &&
                  memcmp(h[i].name, "content-length", 14) == 0))
                h[k++] = h[i];
        h[k].name = "content-length";
        h[k].name_len = 14;
        h[k].value = clen;
        h[k].value_len = strlen(clen);
        n = k + 1;
    }
    st->delivering++;
    int rc = st->cb->head(st->ctx, st->rw_status, h, n);
    st->delivering--;
    return rc;
}

/* Too large for an index: what was held goes out unchanged, with BUF. */
static int release_held(struct direct_stream *st, const void *buf, size_t len)
{
    st->rewriting = 0;
    if (send_held_head(st, NULL) < 0 || evbuffer_add(st->rw_body, buf, len))
        return -1;
    size_t n = evbuffer_get_length(st->rw_body);
    int rc = deliver(st, evbuffer_pullup(st->rw_body, -1), n);
    evbuffer_free(st->rw_body);
    st->rw_body = NULL;
    return rc;
}

/* The whole index arrived: rewritten (or as it came when it is not one
 * to edit), with its new length. */
static int send_rewritten(struct direct_stream *st)
{
    st->rewriting = 0;
    size_t len = evbuffer_get_length(st->rw_body);
    const char *body =
        len ? (const char *)evbuffer_pullup(st->rw_body, -1) : NULL;
    char *edited = NULL;
    size_t elen = 0;
    if (len && direct_openapi_rewrite(body, len, st->rewrite_base, &edited,
                                      &elen) == 0) {
        body = edited;
        len = elen;
    }
    char clen[24];
    snprintf(clen, sizeof(clen), "%zu", len);
    int rc = send_held_head(st, clen);
    if (rc == 0 && len > 0 && deliver(st, body, len) < 0)
        rc = -1;
    free(edited);
    return rc;
}

int direct_stream_data(struct direct_stream *st, const void *buf, size_t len)
{
    if (st->state == DIRECT_ST_DONE)
        return -1;
    if (st->rewriting) {
        if (evbuffer_get_length(st->rw_body) + len > DIRECT_OPENAPI_MAX_BODY)
            return release_held(st, buf, len);
        return evbuffer_add(st->rw_body, buf, len) == 0 ? 0 : -1;
    }
    return deliver(st, buf, len);
}

void direct_stream_end(struct direct_stream *st)
{
    if (st->state == DIRECT_ST_DONE)
        return;
    if (st->rewriting && send_rewritten(st) != 0) {
        direct_stream_fail(st, 502, "BadGateway", "the client went away");
        return;
    }
    finish(st);
    st->cb->end(st->ctx);
}

/* 503 with retry-after: the core's Status has no header of its own. */
static void answer_503(struct direct_stream *st, const char *message)
{
    size_t len;
    char *json = direct_status_json(503, "ServiceUnavailable", message, &len);
    if (!json) {
        st->cb->error(st->ctx, 503, "ServiceUnavailable", message);
        return;
    }
    char clen[24];
    snprintf(clen, sizeof(clen), "%zu", len);
    const struct fg_header h[] = {
        {"content-type", 12, "application/json", 16},
        {"retry-after", 11, DIRECT_RETRY_AFTER, strlen(DIRECT_RETRY_AFTER)},
        {"content-length", 14, clen, strlen(clen)},
    };
    st->head_sent = 1;
    if (st->cb->head(st->ctx, 503, h, 3) == 0 &&
        st->cb->data(st->ctx, json, len) >= 0)
        st->cb->end(st->ctx);
    free(json);
}

void direct_stream_fail(struct direct_stream *st, int code, const char *reason,
                        const char *message)
{
    if (st->state == DIRECT_ST_DONE)
        return;
    int head_sent = st->head_sent;
    finish(st);
    if (code == 503 && !head_sent)
        answer_503(st, message);
    else
        st->cb->error(st->ctx, code, reason, message);
}

void direct_stream_unavailable(struct direct_stream *st, const char *why)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "the member cluster \"%s\" is unavailable: %s",
             st->in->cfg.name, why);
    direct_stream_fail(st, 503, "ServiceUnavailable", msg);
}

static void on_deadline(void *arg)
{
    struct direct_stream *st = arg;
    if (st->state == DIRECT_ST_DONE)
        return;
    char msg[256];
    if (st->long_lived)
        snprintf(msg, sizeof(msg),
                 "the member cluster \"%s\" sent nothing for %llums",
                 st->in->cfg.name,
                 (unsigned long long)st->in->cfg.idle_timeout_ms);
    else
        snprintf(msg, sizeof(msg),
                 "the member cluster \"%s\" did not answer within %llums",
                 st->in->cfg.name,
                 (unsigned long long)st->in->cfg.request_timeout_ms);
    direct_stream_fail(st, 504, "Timeout", msg);
}

void direct_stream_touch(struct direct_stream *st)
{
    if (st->long_lived && st->timer && st->state != DIRECT_ST_DONE)
        st->in->host->timer_arm(st->timer, st->in->cfg.idle_timeout_ms);
}

void direct_stream_body_drained(struct direct_stream *st)
{
    if (st->body_paused && st->state != DIRECT_ST_DONE &&
        evbuffer_get_length(st->body) < DIRECT_BODY_LOW) {
        st->body_paused = 0;
        st->cb->body_resume(st->ctx);
    }
}

/* ---- opening ------------------------------------------------------------ */

static int has_param(const char *query, const char *name)
{
    size_t n = strlen(name);
    for (const char *q = query; q && *q;) {
        if (strncmp(q, name, n) == 0 && q[n] == '=') {
            const char *v = q + n + 1;
            if (strncmp(v, "1", 1) == 0 || strncasecmp(v, "true", 4) == 0)
                return 1;
        }
        q = strchr(q, '&');
        if (q)
            q++;
    }
    return 0;
}

/* Request-target bytes that could split or bend the request line. */
static int target_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static int method_ok(const char *m)
{
    if (!*m)
        return 0;
    for (; *m; m++)
        if (!((*m >= 'A' && *m <= 'Z') || *m == '-' || *m == '_'))
            return 0;
    return 1;
}

static struct direct_stream *open_stream(struct direct_instance *in,
                                         const struct fg_request_head *head,
                                         const struct fg_stream_callbacks *cb,
                                         void *ctx)
{
    struct direct_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->in = in;
    st->cb = cb;
    st->ctx = ctx;
    st->body = evbuffer_new();
    st->timer = in->host->timer_new(in->host, on_deadline, st);
    size_t plen = strlen(head->path),
           qlen = head->query ? strlen(head->query) + 1 : 0;
    st->target = malloc(plen + qlen + 1);
    st->method = strdup(head->method);
    if (!st->body || !st->timer || !st->target || !st->method) {
        if (st->timer)
            in->host->timer_free(st->timer);
        if (st->body)
            evbuffer_free(st->body);
        free(st->target);
        free(st->method);
        free(st);
        return NULL;
    }
    memcpy(st->target, head->path, plen + 1);
    if (head->query) {
        st->target[plen] = '?';
        memcpy(st->target + plen + 1, head->query, qlen);
    }
    st->content_length = head->content_length;
    st->is_head = strcmp(head->method, "HEAD") == 0;
    if (head->upgrade && strcasecmp(head->upgrade, "websocket") == 0)
        st->upgrade = "websocket";
    else if (head->upgrade && strcasecmp(head->upgrade, "SPDY/3.1") == 0)
        st->upgrade = "SPDY/3.1";
    st->long_lived = st->upgrade || has_param(head->query, "watch") ||
                     has_param(head->query, "follow") ||
                     strncmp(head->path, "/api/v1/watch/", 14) == 0 ||
                     (strncmp(head->path, "/apis/", 6) == 0 &&
                      strstr(head->path, "/watch/") != NULL);

    char err[256];
    if (!method_ok(head->method) || head->path[0] != '/' ||
        !target_ok(st->target)) {
        st->state = DIRECT_ST_DONE;
        cb->error(ctx, 400, "BadRequest",
                  "the request line cannot be sent to the member");
        return st;
    }
    struct direct_header_opts o = {in->creds.token, in->cfg.impersonate};
    if (direct_headers_build(head, &o, &st->headers, err, sizeof(err)) != 0) {
        st->state = DIRECT_ST_DONE;
        cb->error(ctx, 400, "BadRequest", err);
        return st;
    }
    if (direct_openapi_wanted(head))
        st->rewrite_base = strdup(head->base_path); /* NULL: relay as is */
    in->host->timer_arm(st->timer, st->long_lived ? in->cfg.idle_timeout_ms
                                                  : in->cfg.request_timeout_ms);
    direct_stream_enqueue(st);
    direct_dispatch(in);
    return st;
}

static void *stream_open(void *instance, const struct fg_request_head *head,
                         const struct fg_stream_callbacks *cb, void *ctx)
{
    return open_stream(instance, head, cb, ctx);
}

struct direct_stream *
direct_stream_open_internal(struct direct_instance *in, const char *path,
                            const struct fg_stream_callbacks *cb, void *ctx)
{
    static const struct fg_header accept = {"accept", 6, "application/json",
                                            16};
    struct fg_request_head head = {
        .method = "GET",
        .path = path,
        .headers = &accept,
        .n_headers = 1,
        .content_length = 0,
        .http_version = 11,
    };
    struct direct_stream *st = open_stream(in, &head, cb, ctx);
    if (st) {
        st->body_ended = 1;
        if (st->h1)
            direct_h1_body(st->h1);
        if (st->h2)
            direct_h2_body(st);
    }
    return st;
}

static int stream_write(void *stream, const void *buf, size_t len)
{
    struct direct_stream *st = stream;
    if (st->state == DIRECT_ST_DONE || len == 0)
        return 0;
    if (st->upgrade) {
        /* only after the member's 101 (the core discards earlier bytes,
         * and so do we): the pipe writes straight to the connection */
        if (st->h1 && st->piping)
            return direct_upgrade_write(st, buf, len);
        return 0;
    }
    if (st->body_ended)
        return -1;
    if (evbuffer_add(st->body, buf, len) != 0)
        return -1;
    st->body_bytes += len;
    if (st->h1)
        direct_h1_body(st->h1);
    else if (st->h2)
        direct_h2_body(st);
    if (st->state != DIRECT_ST_DONE && !st->body_paused &&
        evbuffer_get_length(st->body) > DIRECT_BODY_HIGH) {
        st->body_paused = 1;
        st->cb->body_pause(st->ctx);
    }
    return 0;
}

static void stream_end(void *stream)
{
    struct direct_stream *st = stream;
    if (st->body_ended)
        return;
    st->body_ended = 1;
    if (st->state == DIRECT_ST_DONE)
        return;
    if (st->h1)
        direct_h1_body(st->h1);
    else if (st->h2)
        direct_h2_body(st);
}

static void stream_resume(void *stream)
{
    struct direct_stream *st = stream;
    if (st->delivering) {
        /* from inside data(): the FG_PAUSE it returns is already over */
        st->resumed_inside = 1;
        st->client_paused = 0;
        return;
    }
    if (!st->client_paused)
        return;
    st->client_paused = 0;
    if (st->state == DIRECT_ST_DONE)
        return;
    if (st->h1)
        direct_h1_resume(st->h1);
    else
        direct_h2_resume(st);
}

static void stream_close(void *stream)
{
    struct direct_stream *st = stream;
    if (st->state != DIRECT_ST_DONE) {
        /* the client went away: the member's work stops now */
        st->state = DIRECT_ST_DONE;
        detach(st);
    }
    unqueue(st);
    st->in->host->timer_free(st->timer);
    evbuffer_free(st->body);
    if (st->held)
        evbuffer_free(st->held);
    if (st->rh)
        evbuffer_free(st->rh);
    if (st->rw_body)
        evbuffer_free(st->rw_body);
    free(st->rw_head);
    free(st->rewrite_base);
    direct_headers_free(&st->headers);
    free(st->method);
    free(st->target);
    free(st);
}

void direct_stream_close_internal(struct direct_stream *st)
{
    stream_close(st);
}

/* The stream half of the ops table; plugin.c completes it. */
void *direct_op_stream_open(void *instance, const struct fg_request_head *h,
                            const struct fg_stream_callbacks *cb, void *ctx)
{
    return stream_open(instance, h, cb, ctx);
}
int direct_op_stream_write(void *stream, const void *buf, size_t len)
{
    return stream_write(stream, buf, len);
}
void direct_op_stream_end(void *stream)
{
    stream_end(stream);
}
void direct_op_stream_resume(void *stream)
{
    stream_resume(stream);
}
void direct_op_stream_close(void *stream)
{
    stream_close(stream);
}

void direct_fail_pending(struct direct_instance *in, const char *why)
{
    for (;;) {
        struct direct_stream *st;
        TAILQ_FOREACH(st, &in->pending, link)
        {
            if (!st->upgrade)
                break;
        }
        if (!st)
            return;
        /* one at a time: answering may run other code */
        unqueue(st);
        direct_stream_unavailable(st, why);
    }
}
