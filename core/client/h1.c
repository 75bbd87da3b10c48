/* HTTP/1.1 towards a server: a keep-alive pool bounded by max_streams,
 * one request at a time per connection, request bodies streamed with
 * backpressure, responses relayed as they are parsed (reading stops while
 * the client is full), and a dedicated connection for each upgrade. A
 * connection whose exchange did not end cleanly is closed, never reused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/client.h"
#include "net/tls_read.h"
#include "net/write_soon.h"

struct fg_client_h1 {
    struct fg_client *in;
    LIST_ENTRY(fg_client_h1) link;
    struct fg_client_connect *connecting;
    struct bufferevent *bev;
    struct fg_client_stream *st;
    struct fg_client_response *resp;
    struct fg_timer *idle;
    int upgrade;      /* made for one upgrade; never pooled */
    int head_written; /* request head is in the output */
    int body_mode;    /* 0 none, 1 content-length, 2 chunked */
    int body_done;    /* the whole request is in the output */
    int complete;     /* the response ended (parser callback) */
    int keep_alive;
    int reused;     /* served a request before this one */
    int in_process; /* inside process(): frees are deferred */
    int doomed;     /* free once process() returns */
    int eof;        /* the member closed; input may still be queued */
};

static void process(struct fg_client_h1 *c);

static void conn_free(struct fg_client_h1 *c)
{
    if (c->in_process) {
        c->doomed = 1;
        return;
    }
    LIST_REMOVE(c, link);
    c->in->n_h1--;
    if (c->st) {
        c->st->h1 = NULL;
        c->st = NULL;
    }
    if (c->connecting)
        fg_client_connect_cancel(c->connecting);
    if (c->bev) {
        bufferevent_free(c->bev);
        fg_client_conn_closed(c->in);
    }
    fg_client_response_free(c->resp);
    if (c->idle)
        c->in->host->timer_free(c->idle);
    free(c);
}

struct bufferevent *fg_client_h1_bev(struct fg_client_h1 *c)
{
    return c->bev;
}

static void on_idle_timeout(void *arg)
{
    struct fg_client_h1 *c = arg;
    if (!c->st)
        conn_free(c);
}

static struct fg_client_h1 *conn_new(struct fg_client *in)
{
    struct fg_client_h1 *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->in = in;
    c->idle = in->host->timer_new(in->host, on_idle_timeout, c);
    if (!c->idle) {
        free(c);
        return NULL;
    }
    LIST_INSERT_HEAD(&in->h1, c, link);
    in->n_h1++;
    return c;
}

/* Detaches the finished stream; the connection goes back to the pool or
 * is closed. */
static void release(struct fg_client_h1 *c, int reusable)
{
    if (c->st) {
        c->st->h1 = NULL;
        c->st = NULL;
    }
    fg_client_response_free(c->resp);
    c->resp = NULL;
    if (!reusable || c->upgrade || !c->bev || c->eof) {
        conn_free(c);
        return;
    }
    c->reused = 1;
    c->head_written = c->body_done = c->complete = c->keep_alive = 0;
    bufferevent_enable(c->bev, EV_READ);
    fg_tls_read_pending(c->bev);
    c->in->host->timer_arm(c->idle, c->in->cfg.connection_idle_timeout_ms);
}

/* ---- writing the request ---------------------------------------------- */

static int body_methods(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
           strcmp(m, "PATCH") == 0;
}

/* Moves as much request as fits into the output. */
static void pump_request(struct fg_client_h1 *c)
{
    struct fg_client_stream *st = c->st;
    if (!st || !c->bev || c->body_done)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (!c->head_written) {
        if (c->upgrade) {
            c->body_mode = 0;
        } else if (st->content_length > 0) {
            c->body_mode = 1;
        } else if (st->content_length == 0 ||
                   (st->body_ended && st->body_bytes == 0)) {
            c->body_mode = body_methods(st->method) ? 1 : 0;
        } else if (st->body_bytes > 0 || st->body_ended) {
            c->body_mode = 2;
        } else {
            return; /* no way to tell yet if a body follows */
        }
        int64_t len = st->content_length > 0 ? st->content_length : 0;
        if (fg_client_h1_head_write(out, st->method, st->target,
                                    c->in->cfg.url.authority, &st->headers,
                                    c->body_mode, len, st->upgrade) != 0) {
            fg_client_stream_unavailable(st, "out of memory");
            return;
        }
        c->head_written = 1;
    }
    if (c->body_mode == 0) {
        c->body_done = 1;
        fg_write_soon(c->bev); /* written in this loop turn */
        return;
    }
    while (evbuffer_get_length(st->body) > 0 &&
           evbuffer_get_length(out) < FG_CLIENT_BODY_HIGH) {
        size_t n = evbuffer_get_length(st->body);
        if (n > 65536)
            n = 65536;
        if (c->body_mode == 2)
            evbuffer_add_printf(out, "%zx\r\n", n);
        evbuffer_remove_buffer(st->body, out, n);
        if (c->body_mode == 2)
            evbuffer_add(out, "\r\n", 2);
    }
    if (st->body_ended && evbuffer_get_length(st->body) == 0) {
        if (c->body_mode == 2)
            evbuffer_add(out, "0\r\n\r\n", 5);
        c->body_done = 1;
    }
    fg_write_soon(c->bev);
    fg_client_stream_body_drained(st);
}

void fg_client_h1_body(struct fg_client_h1 *c)
{
    pump_request(c);
}

/* ---- reading the response ----------------------------------------------- */

static int resp_head(void *arg, int status, const struct fg_header *h, size_t n)
{
    struct fg_client_h1 *c = arg;
    if (!c->st)
        return -1;
    if (status == 101 && !c->upgrade)
        return -1;
    return fg_client_stream_head(c->st, status, h, n);
}

static int resp_body(void *arg, const char *buf, size_t len)
{
    struct fg_client_h1 *c = arg;
    if (!c->st)
        return -1;
    return fg_client_stream_data(c->st, buf, len);
}

static void resp_complete(void *arg, int keep_alive)
{
    struct fg_client_h1 *c = arg;
    c->complete = 1;
    c->keep_alive = keep_alive;
}

static const struct fg_client_response_callbacks resp_cb = {
    resp_head, resp_body, resp_complete};

/* The exchange broke: the client learns it, the connection is closed. */
static void broken(struct fg_client_h1 *c, const char *why)
{
    struct fg_client_stream *st = c->st;
    if (st) {
        c->st = NULL;
        st->h1 = NULL;
        char msg[384];
        if (!st->head_sent) {
            snprintf(msg, sizeof(msg),
                     "the member cluster \"%s\" sent an invalid answer: %s",
                     c->in->cfg.name, why);
            fg_client_stream_fail(st, 502, "BadGateway", msg);
        } else {
            snprintf(msg, sizeof(msg), "the member cluster \"%s\": %s",
                     c->in->cfg.name, why);
            fg_client_stream_fail(st, 502, "BadGateway", msg);
        }
    }
    conn_free(c);
}

/* The response ended: end the client's answer, recycle the connection. */
static void completed(struct fg_client_h1 *c)
{
    struct fg_client_stream *st = c->st;
    int reusable = c->keep_alive && c->body_done && !c->upgrade &&
                   evbuffer_get_length(bufferevent_get_input(c->bev)) == 0;
    struct fg_client *in = c->in;
    if (st) {
        c->st = NULL;
        st->h1 = NULL;
        fg_client_stream_end(st);
    }
    release(c, reusable); /* may free C */
    fg_client_dispatch(in);
}

static void process(struct fg_client_h1 *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    c->in_process = 1;
    while (c->st && !c->doomed) {
        struct fg_client_stream *st = c->st;
        if (st->piping) {
            fg_client_upgrade_pump(st, c->bev);
            break;
        }
        if (st->client_paused) {
            bufferevent_disable(c->bev, EV_READ);
            break;
        }
        size_t avail = evbuffer_get_length(in);
        if (avail == 0)
            break;
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t used = 0;
        enum fg_client_parse_result rc =
            fg_client_response_feed(c->resp, v.iov_base, v.iov_len, &used);
        evbuffer_drain(in, used);
        if (c->doomed || !c->st)
            break;
        if (rc == FG_CLIENT_PARSE_ERROR) {
            c->in_process = 0;
            broken(c, fg_client_response_error(c->resp));
            return;
        }
        if (rc == FG_CLIENT_PARSE_DONE) {
            if (c->upgrade && st->head_sent && c->complete &&
                st->state != FG_CLIENT_ST_DONE && c->st == st &&
                fg_client_response_status_101(c->resp)) {
                /* switched: from here on bytes are the pipe's */
                st->piping = 1;
                continue;
            }
            c->in_process = 0;
            completed(c);
            return;
        }
        if (rc == FG_CLIENT_PARSE_PAUSED || st->client_paused) {
            bufferevent_disable(c->bev, EV_READ);
            break;
        }
    }
    c->in_process = 0;
    if (c->doomed)
        conn_free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct fg_client_h1 *c = arg;
    if (!c->st) {
        /* nothing was asked: an idle connection must stay silent */
        evbuffer_drain(bufferevent_get_input(bev), (size_t)-1);
        conn_free(c);
        return;
    }
    process(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct fg_client_h1 *c = arg;
    if (!c->st)
        return;
    if (c->st->piping)
        fg_client_upgrade_drained(c->st, c->bev);
    else
        pump_request(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    struct fg_client_h1 *c = arg;
    struct fg_client_stream *st = c->st;
    if (!st) {
        conn_free(c);
        return;
    }
    c->eof = 1;
    /* let the parser see what is left, then the end */
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 &&
        !st->client_paused) {
        process(c);
        if (st->h1 != c)
            return; /* finished (and C freed) or moved on */
    }
    if (st->piping) {
        /* the member closed the pipe: the client's side ends too, once
         * what is buffered was delivered */
        if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
            return; /* resume delivers the rest and ends */
        c->st = NULL;
        st->h1 = NULL;
        fg_client_stream_end(st);
        conn_free(c);
        return;
    }
    if (st->client_paused &&
        evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        return; /* resume delivers the rest, then comes back here */
    enum fg_client_parse_result rc = fg_client_response_eof(c->resp);
    if (rc == FG_CLIENT_PARSE_DONE) {
        c->keep_alive = 0;
        completed(c);
        return;
    }
    if (c->reused && !st->head_sent && st->body_bytes == 0 && !c->upgrade) {
        /* the member closed an idle connection as we reused it: the
         * request never started there, so it goes again elsewhere */
        c->st = NULL;
        st->h1 = NULL;
        conn_free(c);
        fg_client_stream_enqueue(st);
        fg_client_dispatch(st->in);
        return;
    }
    c->st = NULL;
    st->h1 = NULL;
    if (!st->head_sent)
        fg_client_stream_unavailable(st, "the connection closed before an "
                                         "answer");
    else
        fg_client_stream_fail(st, 502, "BadGateway",
                              "the member closed the connection mid-response");
    conn_free(c);
}

/* ---- connecting and serving --------------------------------------------- */

static void start(struct fg_client_h1 *c)
{
    struct fg_client_stream *st = c->st;
    c->resp = fg_client_response_new(&resp_cb, c, st->is_head);
    if (!c->resp) {
        c->st = NULL;
        st->h1 = NULL;
        fg_client_stream_unavailable(st, "out of memory");
        release(c, 1);
        return;
    }
    c->in->host->timer_cancel(c->idle);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    fg_tls_read_pending(c->bev);
    pump_request(c);
}

static void attach(struct fg_client_h1 *c)
{
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, FG_CLIENT_BODY_LOW, 0);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    fg_tls_read_pending(c->bev);
}

static void on_connected(void *arg, struct bufferevent *bev, int is_h2)
{
    (void)is_h2;
    struct fg_client_h1 *c = arg;
    c->connecting = NULL;
    c->bev = bev;
    attach(c);
    fg_client_conn_opened(c->in);
    if (c->st)
        start(c);
    else
        release(c, 1);
}

static void on_connect_failed(void *arg, const char *reason, int timeout)
{
    (void)timeout;
    struct fg_client_h1 *c = arg;
    c->connecting = NULL;
    struct fg_client_stream *st = c->st;
    struct fg_client *in = c->in;
    c->st = NULL;
    if (st)
        st->h1 = NULL;
    conn_free(c);
    if (st)
        fg_client_stream_unavailable(st, reason);
    /* others waiting would meet the same: tell them now */
    fg_client_fail_pending(in, reason);
}

int fg_client_h1_serve(struct fg_client *in, struct fg_client_stream *st)
{
    struct fg_client_h1 *c = NULL;
    if (!st->upgrade) {
        LIST_FOREACH(c, &in->h1, link)
        {
            if (!c->st && c->bev && !c->upgrade && !c->doomed)
                break;
        }
    }
    if (c) {
        c->st = st;
        st->h1 = c;
        start(c);
        return 0;
    }
    size_t busy = 0;
    LIST_FOREACH(c, &in->h1, link)
    {
        if (!c->upgrade)
            busy++;
    }
    if (!st->upgrade && busy >= (size_t)in->cfg.max_streams)
        return 1;
    c = conn_new(in);
    if (!c)
        return -1;
    c->upgrade = st->upgrade != NULL;
    c->st = st;
    st->h1 = c;
    c->connecting =
        fg_client_connect_start(in, 0, on_connected, on_connect_failed, c);
    if (!c->connecting) {
        c->st = NULL;
        st->h1 = NULL;
        conn_free(c);
        return -1;
    }
    return 0;
}

void fg_client_h1_adopt(struct fg_client *in, struct bufferevent *bev)
{
    struct fg_client_h1 *c = conn_new(in);
    if (!c) {
        bufferevent_free(bev);
        fg_client_conn_closed(in);
        return;
    }
    c->bev = bev;
    attach(c);
    release(c, 1);
}

void fg_client_h1_close_idle(struct fg_client *in)
{
    struct fg_client_h1 *c = LIST_FIRST(&in->h1), *next;
    for (; c; c = next) {
        next = LIST_NEXT(c, link);
        if (!c->st && !c->connecting && !c->in_process)
            conn_free(c);
    }
}

void fg_client_h1_resume(struct fg_client_h1 *c)
{
    if (!c->st || !c->bev)
        return;
    bufferevent_enable(c->bev, EV_READ);
    fg_tls_read_pending(c->bev);
    struct fg_client_stream *st = c->st;
    process(c);
    if (st->h1 == c && c->eof && !st->client_paused)
        on_event(c->bev, BEV_EVENT_EOF, c);
}

void fg_client_h1_cancel(struct fg_client_h1 *c)
{
    /* the exchange cannot be finished: only closing stops the member */
    if (c->st) {
        c->st->h1 = NULL;
        c->st = NULL;
    }
    conn_free(c);
}

void fg_client_h1_free_all(struct fg_client *in)
{
    while (!LIST_EMPTY(&in->h1))
        conn_free(LIST_FIRST(&in->h1));
}

int fg_client_h1_connected(const struct fg_client *in)
{
    const struct fg_client_h1 *c;
    LIST_FOREACH(c, &in->h1, link)
    {
        if (c->bev)
            return 1;
    }
    return 0;
}
