/* Streams of the client: the ops a caller calls per request, the queue of
 * requests waiting for a connection, deadlines, and the answers sent back
 * (including the gateway's own Status errors: a 503 carries retry-after).*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "client/client.h"
#include "request/status.h"

/* ---- binding to connections ------------------------------------------ */

void fg_client_stream_enqueue(struct fg_client_stream *st)
{
    if (st->queued || st->state == FG_CLIENT_ST_DONE)
        return;
    st->state = FG_CLIENT_ST_PENDING;
    st->queued = 1;
    if (st->upgrade)
        st->in->n_pending_upgrades++;
    TAILQ_INSERT_TAIL(&st->in->pending, st, link);
}

static void unqueue(struct fg_client_stream *st)
{
    if (st->queued) {
        TAILQ_REMOVE(&st->in->pending, st, link);
        st->queued = 0;
        if (st->upgrade)
            st->in->n_pending_upgrades--;
    }
}

/* Stops whatever connection work is still going on for ST. */
static void detach(struct fg_client_stream *st)
{
    unqueue(st);
    if (st->h1)
        fg_client_h1_cancel(st->h1);
    if (st->h2)
        fg_client_h2_cancel(st);
}

void fg_client_dispatch(struct fg_client *in)
{
    if (in->freeing)
        return;
    struct fg_client_stream *st = TAILQ_FIRST(&in->pending), *next;
    /* Whether a plain request finds room depends on the connections
     * alone: once one found none, the next plain ones are not tried, and
     * without an upgrade waiting the walk stops, so a queue of hundreds
     * waiting for MAX_CONCURRENT_STREAMS costs nothing per answer. */
    int full = 0;
    for (; st; st = next) {
        next = TAILQ_NEXT(st, link);
        if (full && !st->upgrade) {
            if (!in->n_pending_upgrades)
                break;
            continue;
        }
        int rc;
        /* an adopted client upgrades over its connection (extended
         * CONNECT, h2.c), a dialling one on a connection of its own */
        if ((st->upgrade && !in->adopted) || !in->cfg.http2 ||
            in->proto == FG_CLIENT_PROTO_H1) {
            rc = fg_client_h1_serve(in, st);
        } else {
            struct fg_client_h2 *s = fg_client_h2_pick(in, &rc);
            if (rc == 2) {
                /* one accepted connection, never another */
                unqueue(st);
                fg_client_stream_unavailable(st, "the connection is gone");
                next = TAILQ_FIRST(&in->pending);
                continue;
            }
            if (s) {
                unqueue(st);
                st->state = FG_CLIENT_ST_ACTIVE;
                fg_client_h2_submit(s, st);
                /* the queue may have changed under a failing submit */
                next = TAILQ_FIRST(&in->pending);
                continue;
            }
        }
        if (rc == 0) {
            unqueue(st);
            st->state = FG_CLIENT_ST_ACTIVE;
        } else if (rc > 0) {
            full = full || !st->upgrade;
        } else {
            unqueue(st);
            fg_client_stream_unavailable(st, "out of memory");
            next = TAILQ_FIRST(&in->pending);
        }
    }
}

/* ---- answers ------------------------------------------------------------ */

static void finish(struct fg_client_stream *st)
{
    st->state = FG_CLIENT_ST_DONE;
    if (st->timer)
        st->in->host->timer_cancel(st->timer);
    detach(st);
}

int fg_client_stream_head(struct fg_client_stream *st, int status,
                          const struct fg_header *h, size_t n)
{
    if (st->state == FG_CLIENT_ST_DONE || st->head_sent)
        return -1;
    if (status == 101 && !st->upgrade)
        return -1;
    st->head_sent = 1;
    fg_client_stream_touch(st);
    return st->cb->head(st->ctx, status, h, n);
}

int fg_client_stream_data(struct fg_client_stream *st, const void *buf,
                          size_t len)
{
    if (st->state == FG_CLIENT_ST_DONE)
        return -1;
    if (st->long_lived)
        fg_client_stream_touch(st);
    int rc = st->cb->data(st->ctx, buf, len);
    if (rc == FG_PAUSE)
        st->client_paused = 1;
    return rc;
}

void fg_client_stream_end(struct fg_client_stream *st)
{
    if (st->state == FG_CLIENT_ST_DONE)
        return;
    finish(st);
    st->cb->end(st->ctx);
}

/* 503 with retry-after: the core's Status has no header of its own. */
static void answer_503(struct fg_client_stream *st, const char *message)
{
    size_t len;
    char *json = fg_status_json(503, "ServiceUnavailable", message, &len);
    if (!json) {
        st->cb->error(st->ctx, 503, "ServiceUnavailable", message);
        return;
    }
    char clen[24];
    snprintf(clen, sizeof(clen), "%zu", len);
    const struct fg_header h[] = {
        {"content-type", 12, "application/json", 16},
        {"retry-after", 11, FG_CLIENT_RETRY_AFTER,
         strlen(FG_CLIENT_RETRY_AFTER)},
        {"content-length", 14, clen, strlen(clen)},
    };
    st->head_sent = 1;
    if (st->cb->head(st->ctx, 503, h, 3) == 0 &&
        st->cb->data(st->ctx, json, len) >= 0)
        st->cb->end(st->ctx);
    free(json);
}

void fg_client_stream_fail(struct fg_client_stream *st, int code,
                           const char *reason, const char *message)
{
    if (st->state == FG_CLIENT_ST_DONE)
        return;
    int head_sent = st->head_sent;
    finish(st);
    if (code == 503 && !head_sent)
        answer_503(st, message);
    else
        st->cb->error(st->ctx, code, reason, message);
}

void fg_client_stream_unavailable(struct fg_client_stream *st, const char *why)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "the member cluster \"%s\" is unavailable: %s",
             st->in->cfg.name, why);
    fg_client_stream_fail(st, 503, "ServiceUnavailable", msg);
}

static void on_deadline(void *arg)
{
    struct fg_client_stream *st = arg;
    if (st->state == FG_CLIENT_ST_DONE)
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
    fg_client_stream_fail(st, 504, "Timeout", msg);
}

void fg_client_stream_touch(struct fg_client_stream *st)
{
    if (st->long_lived && st->timer && st->state != FG_CLIENT_ST_DONE)
        st->in->host->timer_arm(st->timer, st->in->cfg.idle_timeout_ms);
}

void fg_client_stream_body_drained(struct fg_client_stream *st)
{
    if (st->body_paused && st->state != FG_CLIENT_ST_DONE &&
        evbuffer_get_length(st->body) < FG_CLIENT_BODY_LOW) {
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

struct fg_client_stream *
fg_client_stream_open(struct fg_client *in, const struct fg_request_head *head,
                      const struct fg_header *extra, size_t n_extra,
                      const struct fg_stream_callbacks *cb, void *ctx)
{
    /* method and target live in the stream's own allocation, after it */
    size_t mlen = strlen(head->method) + 1, plen = strlen(head->path),
           qlen = head->query ? strlen(head->query) + 1 : 0;
    struct fg_client_stream *st =
        calloc(1, sizeof(*st) + mlen + plen + qlen + 1);
    if (!st)
        return NULL;
    st->in = in;
    st->cb = cb;
    st->ctx = ctx;
    st->body = evbuffer_new();
    st->timer = in->host->timer_new(in->host, on_deadline, st);
    if (!st->body || !st->timer) {
        if (st->timer)
            in->host->timer_free(st->timer);
        if (st->body)
            evbuffer_free(st->body);
        free(st);
        return NULL;
    }
    st->method = st->text;
    memcpy(st->method, head->method, mlen);
    st->target = st->text + mlen;
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
        st->state = FG_CLIENT_ST_DONE;
        cb->error(ctx, 400, "BadRequest",
                  "the request line cannot be sent to the member");
        return st;
    }
    if (fg_client_headers_build(head, extra, n_extra, &st->headers, err,
                                sizeof(err)) != 0) {
        st->state = FG_CLIENT_ST_DONE;
        cb->error(ctx, 400, "BadRequest", err);
        return st;
    }
    in->host->timer_arm(st->timer, st->long_lived ? in->cfg.idle_timeout_ms
                                                  : in->cfg.request_timeout_ms);
    fg_client_stream_enqueue(st);
    fg_client_dispatch(in);
    return st;
}

int fg_client_stream_write(struct fg_client_stream *st, const void *buf,
                           size_t len)
{
    if (st->state == FG_CLIENT_ST_DONE || len == 0)
        return 0;
    if (st->upgrade) {
        /* only after the server's 101 (the core discards earlier bytes,
         * and so do we): HTTP/1.1 writes straight to the connection, an
         * HTTP/2 tunnel sends them as the stream's DATA, below */
        if (!st->piping)
            return 0;
        if (st->h1)
            return fg_client_upgrade_write(st, buf, len);
    } else if (st->body_ended) {
        return -1;
    }
    if (evbuffer_add(st->body, buf, len) != 0)
        return -1;
    st->body_bytes += len;
    if (st->h1)
        fg_client_h1_body(st->h1);
    else if (st->h2)
        fg_client_h2_body(st);
    if (st->state != FG_CLIENT_ST_DONE && !st->body_paused &&
        evbuffer_get_length(st->body) > FG_CLIENT_BODY_HIGH) {
        st->body_paused = 1;
        st->cb->body_pause(st->ctx);
    }
    return 0;
}

void fg_client_stream_end_body(struct fg_client_stream *st)
{
    if (st->body_ended)
        return;
    st->body_ended = 1;
    if (st->state == FG_CLIENT_ST_DONE)
        return;
    if (st->h1)
        fg_client_h1_body(st->h1);
    else if (st->h2)
        fg_client_h2_body(st);
}

void fg_client_stream_resume(struct fg_client_stream *st)
{
    if (!st->client_paused)
        return;
    st->client_paused = 0;
    if (st->state == FG_CLIENT_ST_DONE)
        return;
    if (st->h1)
        fg_client_h1_resume(st->h1);
    else
        fg_client_h2_resume(st);
}

void fg_client_stream_close(struct fg_client_stream *st)
{
    if (st->state != FG_CLIENT_ST_DONE) {
        /* the caller went away: the server's work stops now */
        st->state = FG_CLIENT_ST_DONE;
        detach(st);
    }
    unqueue(st);
    st->in->host->timer_free(st->timer);
    evbuffer_free(st->body);
    if (st->held)
        evbuffer_free(st->held);
    free(st->rh.buf);
    fg_client_headers_free(&st->headers);
    free(st);
}

void fg_client_fail_pending(struct fg_client *in, const char *why)
{
    for (;;) {
        struct fg_client_stream *st;
        TAILQ_FOREACH(st, &in->pending, link)
        {
            if (!st->upgrade)
                break;
        }
        if (!st)
            return;
        /* one at a time: answering may run other code */
        unqueue(st);
        fg_client_stream_unavailable(st, why);
    }
}
