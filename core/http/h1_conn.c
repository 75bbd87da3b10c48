/* The HTTP/1.1 codec on a client connection: feeds the bytes read to the
 * strict parser, runs one exchange per request (pipelined requests wait in
 * the input buffer until the previous answer is written), frames the
 * answer (content-length, chunked, or close-delimited for HTTP/1.0), and
 * enforces the head and idle timeouts.
 *
 * Upgrades (driver.h, "Upgrades"): a request with "Connection: upgrade" and
 * an Upgrade the gateway allows, on a path Kubernetes upgrades (upgrade.h),
 * is the last one on the connection. What the client sends after its head
 * goes to the byte pipe (pipe.h), which drops it until a 101 and then
 * passes it on. A 101 turns the connection into that pipe with no timers:
 * an exec session may rightly stay quiet for hours, and its end is the
 * driver's or the client's to decide; once its last bytes are written the
 * connection lingers and closes as after any last answer. Any other answer
 * is followed by the close. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "config/config.h"
#include "net/conn.h"
#include "request/exchange.h"
#include "http/body_ref.h"
#include "http/h1_parser.h"
#include "http/pipe.h"
#include "base/log.h"
#include "request/status.h"
#include "request/upgrade.h"
#include "net/write_soon.h"

/* Bytes handed to the parser at a time: a body pause (or an error) takes
 * effect within this many bytes. */
#define H1_FEED_MAX 16384

/* How long a half-closed connection waits for the client to close: enough
 * for the answer's last bytes to be read on any sane path, short enough
 * that a client which waits for our close (the Python WebSocket client
 * does) or a drain on SIGTERM is not held up. */
#define H1_HALF_CLOSED_MS 1000

enum h1_phase {
    PH_IDLE,    /* waiting for, or reading, a request head */
    PH_REQUEST, /* an exchange is live */
    PH_DISCARD, /* answered before the request body ended: reading the rest
                   of it to drop it, then closing */
    PH_REFUSED, /* a refused head's Status is being written; then close */
    PH_LINGER,  /* the last answer is written and our side half-closed:
                   input is dropped until the client closes (or
                   TM_HALF_CLOSED) */
    PH_CLOSED,  /* fg_conn_close was called */
};

enum h1_timer {
    TM_NONE,
    TM_HEAD,   /* a request head must be complete in header_timeout */
    TM_IDLE,   /* keep-alive: the next request must start in idle_timeout */
    TM_LINGER, /* closing: give up on the client after header_timeout */
    TM_HALF_CLOSED, /* half-closed: give up after H1_HALF_CLOSED_MS */
};

/* Work the deferred event does on the next loop turn. */
enum {
    P_WRITE = 1 << 0, /* look at the output: drained, or response done */
    P_INPUT = 1 << 1, /* process buffered input */
    P_CLOSE = 1 << 2, /* close the connection */
};

struct h1_conn {
    struct fg_conn *conn;
    struct bufferevent *bev;
    const struct fg_limits *lim;
    struct fg_h1_parser *parser;
    struct event *timer;
    struct event *deferred;
    struct fg_exchange *ex;
    enum h1_phase phase;
    enum h1_timer timer_kind;
    size_t write_lowmark;
    unsigned pending; /* P_* for the deferred event */
    int busy;         /* entry points active on the stack */
    int free_pending; /* destroy came while busy: free on the way out */
    int draining;
    int close_after;  /* close once the current response is written */
    int input_broken; /* the request body cannot be parsed any further */

    /* The current request. */
    int req_done; /* its message, body included, was read */
    int req_head; /* HEAD: the answer has no body */
    int http10;
    int expect_continue;
    int body_paused;
    struct fg_pipe pipe; /* the switch it asked for, if any */
    int feeding;         /* inside fg_h1_parser_feed */
    int drop_after_feed; /* a 101 came from inside the feed: the bytes after
                            the head arrived before it and are dropped */

    /* The current response. */
    int resp_started;
    int resp_ended;
    int resp_body; /* 0: no body may be sent (HEAD, 204, 304) */
    int resp_chunked;
    int resp_until_close; /* HTTP/1.0 client, length unknown */
    int64_t resp_remaining;
    int reset;
};

/* Bytes on their way to the parser: one buffer per worker
 * thread rather than one per connection, so an idle connection holds
 * none. FEED_BUSY keeps it from being used re-entrantly. */
static _Thread_local char feed[H1_FEED_MAX];
static _Thread_local int feed_busy;

static const struct fg_codec_ops h1_ops;
static void process_input(struct h1_conn *h);
static void free_state(struct h1_conn *h);

/* ---- re-entry -------------------------------------------------------------
 */

/* Every entry point (bufferevent, timer and deferred callbacks, codec ops,
 * drain) runs between enter and leave, so that a destroy arriving while
 * one is on the stack only marks the state, and the outermost leave frees
 * it. */
static void enter(struct h1_conn *h)
{
    h->busy++;
}

/* What an operation queued is written in this loop turn (write_soon.h):
 * no write event armed and disarmed through epoll per response. */
static void leave(struct h1_conn *h)
{
    if (--h->busy != 0)
        return;
    if (h->free_pending)
        free_state(h);
    else if (h->phase != PH_CLOSED)
        fg_write_soon(h->bev);
}

static void schedule(struct h1_conn *h, unsigned what)
{
    if (h->phase == PH_CLOSED)
        return;
    h->pending |= what;
    event_active(h->deferred, EV_TIMEOUT, 0);
}

static void arm_timer(struct h1_conn *h, enum h1_timer kind)
{
    uint64_t ms = 0;
    if (kind == TM_IDLE)
        ms = fg_conn_idle_timeout_ms(h->conn);
    else if (kind == TM_HALF_CLOSED)
        ms = H1_HALF_CLOSED_MS;
    else if (kind != TM_NONE)
        ms = h->lim->header_timeout_ms;
    h->timer_kind = kind;
    evtimer_del(h->timer);
    if (ms == 0)
        return; /* a zero timeout disables the timer */
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(h->timer, &tv);
}

/* Closes the connection: the exchange, if any, learns the client is gone.
 * The state lives on until destroy; nothing touches the bev after this. */
static void do_close(struct h1_conn *h)
{
    if (h->phase == PH_CLOSED)
        return;
    h->phase = PH_CLOSED;
    evtimer_del(h->timer);
    event_del(h->deferred);
    struct fg_exchange *ex = h->ex;
    h->ex = NULL;
    if (ex)
        fg_exchange_finish(ex, 0);
    fg_conn_close(h->conn);
}

/* Closing a socket with unread input makes the kernel answer with a
 * reset, which can destroy the end of the answer still on its way (a
 * kubectl exec lost its output this way when its WebSocket close reply
 * arrived just before our close). So the last answer is followed by TLS
 * close_notify and a half-close, and the connection closes when the client
 * closes its side or TM_HALF_CLOSED ends. Called once the output is empty: the
 * TLS layer holds nothing unwritten. */
static void linger_close(struct h1_conn *h)
{
    h->phase = PH_LINGER;
    struct evbuffer *in = bufferevent_get_input(h->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    SSL *ssl = bufferevent_openssl_get_ssl(h->bev);
    if (ssl)
        SSL_shutdown(ssl);
    evutil_socket_t fd = bufferevent_getfd(h->bev);
    if (fd < 0 || shutdown(fd, SHUT_WR) != 0) {
        do_close(h);
        return;
    }
    bufferevent_disable(h->bev, EV_WRITE);
    arm_timer(h, TM_HALF_CLOSED);
}

static struct evbuffer *output(struct h1_conn *h)
{
    return bufferevent_get_output(h->bev);
}

static void reset_response(struct h1_conn *h)
{
    h->resp_started = h->resp_ended = 0;
    h->resp_body = h->resp_chunked = h->resp_until_close = 0;
    h->resp_remaining = 0;
    h->reset = 0;
}

/* ---- refusing a request ------------------------------------------------- */

/* Answers a request that has no exchange with a Kubernetes Status, then
 * closes: after a refused head, nothing on the connection can be trusted
 * to be where a next request would start. */
static void refuse(struct h1_conn *h, int status, const char *message)
{
    fg_debug("%s: refused request: %d %s", h->conn->peer, status, message);
    h->phase = PH_REFUSED;
    h->close_after = 1;
    h->req_head = 0;
    h->http10 = 0;
    reset_response(h);
    struct evbuffer *in = bufferevent_get_input(h->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    arm_timer(h, TM_LINGER);
    if (fg_codec_send_status(&h1_ops, h, status, NULL, message) != 0)
        do_close(h);
}

static void parse_failed(struct h1_conn *h)
{
    const struct fg_h1_error *e = fg_h1_parser_error(h->parser);
    int status = e ? e->status : 400;
    const char *message = e ? e->message : "malformed request";
    if (h->phase == PH_IDLE) {
        refuse(h, status, message);
    } else if (h->phase == PH_REQUEST && h->resp_ended) {
        /* Answered already: let the answer out, then close. */
        h->input_broken = 1;
        h->close_after = 1;
    } else if (h->phase == PH_REQUEST && h->ex && !h->resp_started) {
        /* The body broke (too large, bad chunking): answer, then close,
         * since the rest of the input has no known framing. */
        fg_debug("%s: refused request body: %d %s", h->conn->peer, status,
                 message);
        h->input_broken = 1;
        h->close_after = 1;
        fg_exchange_fail(h->ex, status, NULL, "%s", message);
    } else {
        do_close(h);
    }
}

/* ---- parser callbacks -----------------------------------------------------
 */

static int token_is(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/* Splits a comma-separated header value: the next trimmed element after
 * *POS, or 0 at the end. */
static int next_element(const struct fg_header *f, size_t *pos,
                        const char **tok, size_t *len)
{
    const char *v = f->value;
    size_t i = *pos, n = f->value_len;
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
        i++;
    if (i == n) {
        *pos = i;
        return 0;
    }
    size_t start = i;
    while (i < n && v[i] != ',')
        i++;
    size_t end = i;
    while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
        end--;
    *tok = v + start;
    *len = end - start;
    *pos = i;
    return 1;
}

/* The protocol an HTTP/1.1 request asks to switch to: it needs a path
 * Kubernetes upgrades, the "upgrade" option in Connection and one Upgrade
 * header, of which the first protocol the gateway allows is taken. NULL
 * otherwise (h2c and every other protocol included): the request is then
 * an ordinary one, whose Upgrade the exchange drops with the other
 * hop-by-hop headers. */
static const char *upgrade_offer(const struct h1_conn *h,
                                 const struct fg_request_in *req)
{
    if (!fg_upgrade_allowed(req->method, req->target, strlen(req->target),
                            h->lim->max_uri_bytes))
        return NULL;
    int conn_upgrade = 0, n_upgrade = 0;
    const struct fg_header *up = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct fg_header *f = &req->headers[i];
        const char *tok;
        size_t len, pos = 0;
        if (token_is(f->name, f->name_len, "connection")) {
            while (next_element(f, &pos, &tok, &len))
                if (token_is(tok, len, "upgrade"))
                    conn_upgrade = 1;
        } else if (token_is(f->name, f->name_len, "upgrade")) {
            n_upgrade++;
            up = f;
        }
    }
    if (!conn_upgrade || n_upgrade != 1)
        return NULL;
    const char *tok;
    size_t len, pos = 0;
    while (next_element(up, &pos, &tok, &len)) {
        char proto[32];
        if (len >= sizeof(proto))
            continue;
        memcpy(proto, tok, len);
        proto[len] = '\0';
        const char *p = fg_upgrade_protocol(proto);
        if (p)
            return p;
    }
    return NULL;
}

static int on_head(void *arg, const struct fg_request_in *req, unsigned flags)
{
    struct h1_conn *h = arg;
    if (h->phase != PH_IDLE)
        return 0; /* a discarded request's head cannot come: one message */
    const char *upgrade = NULL;
    if ((flags & FG_H1_UPGRADE) && !(flags & FG_H1_HTTP10))
        upgrade = upgrade_offer(h, req);
    if (upgrade && req->has_body) {
        /* The bytes after the head are the new protocol's: a body would
         * leave no telling where one ends and the other begins. */
        fg_h1_parser_set_error(h->parser, 400,
                               "a request to switch protocols must not "
                               "have a body");
        return -1;
    }
    arm_timer(h, TM_NONE);
    struct fg_exchange *ex = fg_exchange_new(h->conn, &h1_ops, h, NULL);
    if (!ex) {
        fg_h1_parser_set_error(h->parser, 503, "the gateway is out of memory");
        return -1;
    }
    h->ex = ex;
    h->phase = PH_REQUEST;
    h->req_done = 0;
    h->req_head = strcmp(req->method, "HEAD") == 0;
    h->http10 = (flags & FG_H1_HTTP10) != 0;
    h->expect_continue = (flags & FG_H1_EXPECT_CONTINUE) != 0;
    h->body_paused = 0;
    h->input_broken = 0;
    fg_pipe_offer(&h->pipe, upgrade);
    reset_response(h);
    if (!(flags & FG_H1_KEEP_ALIVE) || h->draining || upgrade)
        h->close_after = 1; /* an upgrade request is the last, whatever
                               the answer */
    struct fg_request_in r = *req;
    r.upgrade = upgrade;
    fg_exchange_start(ex, &r);
    /* The client waits for this before sending a large body; an exchange
     * that has answered already wants no body at all. */
    if (h->ex == ex && h->expect_continue && !h->resp_started && !h->reset &&
        h->phase == PH_REQUEST)
        evbuffer_add(output(h), "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return 0;
}

static int on_body(void *arg, const void *buf, size_t len)
{
    struct h1_conn *h = arg;
    if (h->phase == PH_REQUEST && h->ex)
        fg_exchange_body(h->ex, buf, len);
    return 0;
}

static int on_complete(void *arg)
{
    struct h1_conn *h = arg;
    h->req_done = 1;
    if (h->phase == PH_REQUEST && h->ex)
        fg_exchange_body_end(h->ex);
    return 0;
}

static const struct fg_h1_callbacks parser_callbacks = {on_head, on_body,
                                                        on_complete};

/* ---- input ----------------------------------------------------------------
 */

/* Where the pipe may hand the client's bytes: nowhere while the driver
 * paused the body or the connection is going away. */
static struct fg_exchange *pipe_receiver(void *cs)
{
    struct h1_conn *h = cs;
    if (h->phase != PH_REQUEST || h->reset || h->body_paused)
        return NULL;
    return h->ex;
}

/* Input after an upgrade request's head. A paused pipe leaves it in the
 * input buffer, whose read high-water mark stops reading. */
static void upgrade_input(struct h1_conn *h, struct evbuffer *in)
{
    switch (fg_pipe_input(&h->pipe, in, pipe_receiver, h)) {
    case FG_PIPE_IN_OK:
        break;
    case FG_PIPE_IN_AGAIN:
        schedule(h, P_INPUT);
        break;
    case FG_PIPE_IN_OVERRUN:
        fg_debug("%s: closed: %zu bytes sent before the answer to an "
                 "upgrade request",
                 h->conn->peer, h->pipe.discarded);
        do_close(h);
        break;
    }
}

static void process_input(struct h1_conn *h)
{
    struct evbuffer *in = bufferevent_get_input(h->bev);
    if (feed_busy) {
        schedule(h, P_INPUT); /* another connection's bytes are in FEED */
        return;
    }
    for (;;) {
        if (h->phase == PH_CLOSED)
            return;
        size_t len = evbuffer_get_length(in);
        if (len == 0)
            return;
        if (h->phase == PH_REFUSED || h->phase == PH_LINGER ||
            h->input_broken) {
            evbuffer_drain(in, len);
            return;
        }
        if (h->phase == PH_REQUEST && h->pipe.state != FG_PIPE_NONE &&
            h->req_done) {
            upgrade_input(h, in);
            return;
        }
        /* One request at a time: the next one waits in the buffer (and the
         * read high-water mark stops reading when it fills). */
        if (h->phase == PH_REQUEST && (h->req_done || h->body_paused))
            return;
        /* A copy, not a pointer into the buffer: a TLS write made by the
         * exchange from inside the feed may read into it and move data. */
        size_t n = len < H1_FEED_MAX ? len : H1_FEED_MAX;
        if (evbuffer_copyout(in, feed, n) != (ssize_t)n)
            return;
        /* Until a head is handed over, the parser also checks the framing
         * of everything buffered after this piece: no head leaves before
         * the body that arrived with it is known to be well formed. It
         * reads that view before anything can write (and so read) again. */
        const char *ahead = NULL;
        if (h->phase == PH_IDLE && len > n) {
            const unsigned char *all = evbuffer_pullup(in, (ssize_t)len);
            if (!all) {
                do_close(h);
                return;
            }
            ahead = (const char *)all + n;
        }
        enum fg_h1_state before = fg_h1_parser_state(h->parser);
        h->feeding = 1;
        feed_busy = 1;
        ssize_t r = fg_h1_parser_feed_ahead(h->parser, feed, n, ahead,
                                            ahead ? len - n : 0);
        feed_busy = 0;
        h->feeding = 0;
        if (h->phase == PH_CLOSED)
            return;
        if (r < 0) {
            parse_failed(h);
            return;
        }
        evbuffer_drain(in, (size_t)r);
        if (h->drop_after_feed) {
            /* what followed the head arrived before the 101 */
            h->drop_after_feed = 0;
            evbuffer_drain(in, evbuffer_get_length(in));
        }
        if (h->phase == PH_IDLE && h->timer_kind == TM_IDLE &&
            (before == FG_H1_IDLE || before == FG_H1_DONE) &&
            fg_h1_parser_state(h->parser) == FG_H1_HEAD)
            arm_timer(h, TM_HEAD); /* a new request began: slowloris clock */
        if (h->phase == PH_DISCARD && h->req_done) {
            do_close(h);
            return;
        }
        if (r == 0)
            return;
    }
}

/* ---- output ---------------------------------------------------------------
 */

/* The response is fully written: finish the exchange and go on with the
 * next request, or close. */
static void complete_response(struct h1_conn *h)
{
    if (h->phase == PH_REFUSED) {
        linger_close(h);
        return;
    }
    struct fg_exchange *ex = h->ex;
    h->ex = NULL;
    if (ex)
        fg_exchange_finish(ex, 1);
    reset_response(h);
    if (!h->req_done && !h->input_broken) {
        /* Answered before the body ended (an early 401, a 413): read and
         * drop the rest so that closing does not reset the connection
         * under the answer, then close. */
        h->phase = PH_DISCARD;
        h->close_after = 1;
        h->body_paused = 0;
        arm_timer(h, TM_LINGER);
        process_input(h);
        return;
    }
    if (h->close_after || h->draining || h->input_broken) {
        linger_close(h);
        return;
    }
    h->phase = PH_IDLE;
    bufferevent_setwatermark(h->bev, EV_WRITE, h->write_lowmark, 0);
    arm_timer(h, TM_IDLE);
    process_input(h);
}

static void after_write(struct h1_conn *h)
{
    if (h->phase != PH_REQUEST && h->phase != PH_REFUSED)
        return;
    size_t len = evbuffer_get_length(output(h));
    if (h->resp_ended) {
        if (len == 0)
            complete_response(h);
    } else if (h->ex && h->resp_started && len <= h->write_lowmark) {
        fg_exchange_output_drained(h->ex);
    }
}

/* ---- bufferevent, timer and deferred callbacks ----------------------------
 */

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct h1_conn *h = arg;
    enter(h);
    if (h->busy > 1)
        schedule(h, P_INPUT); /* never feed the parser re-entrantly */
    else if (h->phase != PH_CLOSED)
        process_input(h);
    leave(h);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct h1_conn *h = arg;
    enter(h);
    /* A write inside one of our ops can trigger this synchronously; the
     * exchange must not be called back from inside its own call. */
    if (h->busy > 1)
        schedule(h, P_WRITE);
    else if (h->phase != PH_CLOSED)
        after_write(h);
    leave(h);
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
    (void)bev;
    struct h1_conn *h = arg;
    enter(h);
    if (h->phase != PH_CLOSED &&
        (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))) {
        if (h->busy > 1)
            schedule(h, P_CLOSE);
        else
            do_close(h); /* the exchange, if any, hears completed = 0 */
    }
    leave(h);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct h1_conn *h = arg;
    enter(h);
    if (h->phase == PH_IDLE && fg_h1_parser_state(h->parser) == FG_H1_HEAD) {
        char msg[128];
        snprintf(msg, sizeof(msg),
                 "the request head was not received within %llu ms",
                 (unsigned long long)h->lim->header_timeout_ms);
        refuse(h, 408, msg);
    } else if (h->phase != PH_REQUEST && h->phase != PH_CLOSED) {
        do_close(h); /* idle, or lingering for a client that went quiet */
    }
    leave(h);
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct h1_conn *h = arg;
    enter(h);
    unsigned p = h->pending;
    h->pending = 0;
    if (h->phase == PH_CLOSED) {
        /* nothing */
    } else if ((p & P_CLOSE) || h->reset) {
        do_close(h);
    } else {
        if (p & P_WRITE)
            after_write(h);
        if ((p & P_INPUT) && h->phase != PH_CLOSED)
            process_input(h);
    }
    leave(h);
}

/* ---- codec ops ------------------------------------------------------------
 */

static int valid_field(const struct fg_header *f)
{
    if (f->name_len == 0)
        return 0;
    for (size_t i = 0; i < f->name_len; i++) {
        unsigned char c = (unsigned char)f->name[i];
        if (c <= 0x20 || c >= 0x7f || c == ':')
            return 0;
    }
    for (size_t i = 0; i < f->value_len; i++) {
        unsigned char c = (unsigned char)f->value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

static int name_is(const struct fg_header *f, const char *lit)
{
    size_t n = strlen(lit);
    return f->name_len == n && strncasecmp(f->name, lit, n) == 0;
}

/* Writes the 101 for the protocol the client offered and makes the
 * connection a pipe. Our own connection and upgrade headers replace the
 * driver's, which cannot name another protocol than the one offered. */
static int switch_protocols(struct h1_conn *h, const struct fg_header *headers,
                            size_t n_headers)
{
    if (h->phase != PH_REQUEST || fg_pipe_open(&h->pipe) != 0)
        return -1;
    struct evbuffer *out = output(h);
    evbuffer_add_printf(out,
                        "HTTP/1.1 101 Switching Protocols\r\n"
                        "connection: upgrade\r\nupgrade: %s\r\n",
                        h->pipe.protocol);
    for (size_t i = 0; i < n_headers; i++) {
        const struct fg_header *f = &headers[i];
        if (!valid_field(f) || !fg_pipe_answer_field(f))
            continue;
        evbuffer_add(out, f->name, f->name_len);
        evbuffer_add(out, ": ", 2);
        evbuffer_add(out, f->value, f->value_len);
        evbuffer_add(out, "\r\n", 2);
    }
    evbuffer_add(out, "\r\n", 2);
    h->resp_started = 1;
    h->resp_body = 1;
    /* Whatever the client sent so far was sent before this answer: it is
     * not part of the pipe. From inside the feed, the bytes in the input
     * buffer still include the head, so the feed's caller drops them. */
    if (h->feeding) {
        h->drop_after_feed = 1;
    } else {
        struct evbuffer *in = bufferevent_get_input(h->bev);
        evbuffer_drain(in, evbuffer_get_length(in));
    }
    return 0;
}

static int h1_send_head(void *cs, int status, const struct fg_header *headers,
                        size_t n_headers, int64_t content_length,
                        int end_stream)
{
    struct h1_conn *h = cs;
    int rc = -1;
    enter(h);
    if (h->phase == PH_CLOSED || h->reset || h->resp_started)
        goto out;
    if (status == 101) {
        rc = switch_protocols(h, headers, n_headers);
        goto out;
    }
    if (status >= 100 && status < 200) {
        rc = 0; /* other interim answers are not relayed */
        goto out;
    }
    if (status < 200 || status > 999)
        goto out;

    struct evbuffer *out = output(h);
    const char *phrase = fg_http_reason_phrase(status);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
                        phrase ? phrase : "");
    for (size_t i = 0; i < n_headers; i++) {
        const struct fg_header *f = &headers[i];
        /* Framing is ours to write; a header that could split the head
         * (CR, LF, NUL) is dropped rather than forwarded. */
        if (!valid_field(f) || name_is(f, "content-length") ||
            name_is(f, "transfer-encoding") || name_is(f, "connection") ||
            name_is(f, "keep-alive"))
            continue;
        evbuffer_add(out, f->name, f->name_len);
        evbuffer_add(out, ": ", 2);
        evbuffer_add(out, f->value, f->value_len);
        evbuffer_add(out, "\r\n", 2);
    }

    /* A connection that never authenticated gets no second try after its
     * 401: guessing credentials costs a new connection (h2: GOAWAY). */
    if (status == 401 && !h->conn->authenticated)
        h->close_after = 1;
    int body_allowed = !h->req_head && status != 204 && status != 304;
    h->resp_body = body_allowed && !end_stream;
    if (!body_allowed) {
        /* HEAD and 304 may state the length the body would have had */
        if (content_length >= 0 && status != 204)
            evbuffer_add_printf(out, "content-length: %lld\r\n",
                                (long long)content_length);
    } else if (end_stream) {
        evbuffer_add(out, "content-length: 0\r\n", 19);
    } else if (content_length >= 0) {
        evbuffer_add_printf(out, "content-length: %lld\r\n",
                            (long long)content_length);
        h->resp_remaining = content_length;
    } else if (h->http10) {
        /* HTTP/1.0 knows no chunking: the end of the body is the close */
        h->resp_until_close = 1;
        h->close_after = 1;
    } else {
        evbuffer_add(out, "transfer-encoding: chunked\r\n", 28);
        h->resp_chunked = 1;
    }
    if (h->close_after || h->draining) {
        h->close_after = 1;
        evbuffer_add(out, "connection: close\r\n", 19);
    } else if (h->http10) {
        evbuffer_add(out, "connection: keep-alive\r\n", 24);
    }
    evbuffer_add(out, "\r\n", 2);
    h->resp_started = 1;
    if (end_stream) {
        h->resp_ended = 1;
        bufferevent_setwatermark(h->bev, EV_WRITE, 0, 0);
        schedule(h, P_WRITE);
    }
    rc = 0;
out:
    leave(h);
    return rc;
}

/* Body bytes, copied, or with FREE_FN taken over (fg_body_add): what is
 * not queued is given back before this returns. */
static int send_body(struct h1_conn *h, const void *buf, size_t len,
                     fg_buffer_free_fn free_fn, void *arg)
{
    int rc = -1;
    enter(h);
    if (h->phase == PH_CLOSED || h->reset || !h->resp_started || h->resp_ended)
        goto out;
    rc = 0;
    if (len == 0 || !h->resp_body)
        goto out; /* HEAD, 204, 304: the body is dropped */
    struct evbuffer *out = output(h);
    if (h->resp_chunked) {
        evbuffer_add_printf(out, "%zx\r\n", len);
        fg_body_add(out, buf, len, free_fn, arg);
        evbuffer_add(out, "\r\n", 2);
    } else if (h->resp_until_close || fg_pipe_switched(&h->pipe)) {
        fg_body_add(out, buf, len, free_fn, arg);
    } else if ((uint64_t)len > (uint64_t)h->resp_remaining) {
        /* More than announced would be read as the next response. */
        h->close_after = 1;
        rc = -1;
        goto out;
    } else {
        fg_body_add(out, buf, len, free_fn, arg);
        h->resp_remaining -= (int64_t)len;
    }
    free_fn = NULL; /* the buffer is the output's now */
out:
    if (free_fn)
        free_fn(arg, buf, len);
    leave(h);
    return rc;
}

static int h1_send_data(void *cs, const void *buf, size_t len)
{
    return send_body(cs, buf, len, NULL, NULL);
}

static int h1_send_data_ref(void *cs, const void *buf, size_t len,
                            fg_buffer_free_fn free_fn, void *arg)
{
    return send_body(cs, buf, len, free_fn, arg);
}

static int h1_send_end(void *cs)
{
    struct h1_conn *h = cs;
    int rc = -1;
    enter(h);
    if (h->phase == PH_CLOSED || h->reset || !h->resp_started)
        goto out;
    rc = 0;
    if (h->resp_ended)
        goto out;
    if (h->resp_chunked)
        evbuffer_add(output(h), "0\r\n\r\n", 5);
    else if (h->resp_body && !h->resp_until_close && h->resp_remaining > 0)
        h->close_after = 1; /* short body: only the close can tell */
    h->resp_ended = 1;
    fg_pipe_end(&h->pipe);
    /* The write callback now fires only once everything is written. */
    bufferevent_setwatermark(h->bev, EV_WRITE, 0, 0);
    schedule(h, P_WRITE);
out:
    leave(h);
    return rc;
}

static void h1_reset(void *cs)
{
    struct h1_conn *h = cs;
    enter(h);
    if (h->phase != PH_CLOSED) {
        h->reset = 1;
        fg_pipe_end(&h->pipe);
        schedule(h, P_CLOSE); /* finishing the exchange here would re-enter */
    }
    leave(h);
}

static size_t h1_buffered(void *cs)
{
    struct h1_conn *h = cs;
    if (h->phase == PH_CLOSED)
        return 0;
    return evbuffer_get_length(output(h));
}

/* A paused body is not fed to the parser; what the client sends meanwhile
 * waits in the input buffer until the read high-water mark stops reading.
 * Reading stays enabled below it so a client that goes away is noticed. */
static void h1_pause_body(void *cs)
{
    struct h1_conn *h = cs;
    h->body_paused = 1;
}

static void h1_resume_body(void *cs)
{
    struct h1_conn *h = cs;
    enter(h);
    if (h->body_paused) {
        h->body_paused = 0;
        schedule(h, P_INPUT);
    }
    leave(h);
}

/* The rest of the body is dropped as it comes, and the connection closed
 * once the answer is written: a client that stalled mid-body will not
 * finish it in time for a next request. */
static void h1_abandon_body(void *cs)
{
    struct h1_conn *h = cs;
    h->input_broken = 1;
    h->close_after = 1;
}

static const struct fg_codec_ops h1_ops = {
    .send_head = h1_send_head,
    .send_data = h1_send_data,
    .send_data_ref = h1_send_data_ref,
    .send_end = h1_send_end,
    .reset = h1_reset,
    .buffered = h1_buffered,
    .pause_body = h1_pause_body,
    .resume_body = h1_resume_body,
    .abandon_body = h1_abandon_body,
};

/* ---- the codec ------------------------------------------------------------
 */

static void free_state(struct h1_conn *h)
{
    struct fg_exchange *ex = h->ex;
    h->ex = NULL;
    if (ex)
        fg_exchange_finish(ex, 0);
    if (h->timer)
        event_free(h->timer);
    if (h->deferred)
        event_free(h->deferred);
    fg_h1_parser_free(h->parser);
    free(h);
}

static void *h1_attach(struct fg_conn *conn, struct bufferevent *bev)
{
    struct h1_conn *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->conn = conn;
    h->bev = bev;
    h->lim = fg_conn_limits(conn);
    struct event_base *base = bufferevent_get_base(bev);
    h->parser = fg_h1_parser_new(h->lim, &parser_callbacks, h);
    h->timer = evtimer_new(base, on_timer, h);
    h->deferred = event_new(base, -1, 0, on_deferred, h);
    if (!h->parser || !h->timer || !h->deferred) {
        free_state(h);
        return NULL;
    }
    size_t sb =
        h->lim->stream_buffer_bytes ? h->lim->stream_buffer_bytes : 262144;
    h->write_lowmark = sb / 2;
    h->phase = PH_IDLE;
    bufferevent_setcb(bev, on_read, on_write, on_event, h);
    bufferevent_setwatermark(bev, EV_READ, 0, sb);
    bufferevent_setwatermark(bev, EV_WRITE, h->write_lowmark, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    /* The first request must arrive as fast as any later head. */
    arm_timer(h, TM_HEAD);
    if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        schedule(h, P_INPUT);
    return h;
}

static void h1_drain(void *state)
{
    struct h1_conn *h = state;
    enter(h);
    h->draining = 1;
    if (h->phase == PH_IDLE && fg_h1_parser_state(h->parser) != FG_H1_HEAD)
        schedule(h, P_CLOSE); /* idle: nothing to finish */
    else if (h->phase == PH_REQUEST)
        h->close_after = 1; /* "connection: close", or close after it */
    leave(h);
}

static void h1_destroy(void *state)
{
    struct h1_conn *h = state;
    bufferevent_setcb(h->bev, NULL, NULL, NULL, NULL);
    h->phase = PH_CLOSED;
    if (h->busy)
        h->free_pending = 1;
    else
        free_state(h);
}

const struct fg_codec fg_h1_codec = {"h1", h1_attach, h1_drain, h1_destroy};
