/* HTTP/2 towards a server: multiplexed connections, dialled, or one
 * adopted (an accepted connection whose peer plays the server). A dialling
 * client opens another connection when each it has is at the peer's
 * MAX_CONCURRENT_STREAMS, up to max_connections and while fewer than
 * max_streams streams run in all (one dial at a time; after a failed one
 * none for connect_timeout, the others serving meanwhile), as Go's
 * transport does without StrictMaxConcurrentStreams; streams beyond that
 * wait in the client's queue. New streams go to the oldest connection
 * with room, so extra ones fall idle and close first. Flow control is ours
 * (no automatic WINDOW_UPDATE): a stream's window reopens only when the
 * client took its bytes, so a paused client closes the member's window.
 * GOAWAY or a lost connection fails the streams it carried (503 before a
 * head, a reset after) and the next request opens a new connection.
 * Over an adopted connection an upgrade (websocket, SPDY/3.1) is an
 * extended CONNECT stream (RFC 8441, when the peer's SETTINGS allow it):
 * the peer's 2xx is the caller's 101, and from then on the stream's DATA
 * is the byte pipe both ways, until either side ends it (the peer's end
 * ends the caller's, as a member closing an HTTP/1.1 pipe does); any other
 * answer is relayed as it is, and ends the request side (the stream
 * closes with the answer).
 * client_ping is the keepalive: a PING unanswered past its deadline counts
 * as a lost connection, for a peer that vanished without closing.
 * A dialled connection that carried no stream for connection_idle_timeout
 * is closed (its TLS state, session and buffers are most of what an idle
 * member costs) and the next request dials again; an adopted one lives as
 * long as its peer keeps it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "client/client.h"
#include "base/fmt.h"
#include "client/listen.h"
#include "http/h2_mem.h"
#include "net/write_soon.h"
#include "net/tls_read.h"

/* Stream window we grant: bytes a paused client may leave us holding. */
#define FG_CLIENT_H2_STREAM_WINDOW (256 * 1024)
/* Output queued in the socket before nghttp2 is asked to wait. */
#define FG_CLIENT_H2_OUT_HIGH (1024 * 1024)
#define FG_CLIENT_H2_MAX_HEADER_BYTES (64 * 1024)
/* Request header blocks up to this many headers are built on the stack. */
#define SUBMIT_STACK_HEADERS 32

/* What nghttp2 holds as stream user data: outlives the core's stream
 * when the client goes away first. */
struct fg_client_h2_handle {
    struct fg_client_stream *st; /* NULL once the client went away */
    struct fg_client_h2 *s;
    LIST_ENTRY(fg_client_h2_handle) link;
};

struct fg_client_h2 {
    struct fg_client *in;
    TAILQ_ENTRY(fg_client_h2) link; /* in in->h2 while it takes streams */
    int listed;
    struct fg_client_connect *connecting;
    struct bufferevent *bev;
    struct fg_tls_conn *origin; /* adopted: the listener's connection */
    nghttp2_session *ng;
    struct fg_h2_mem mem; /* ng's allocator */
    LIST_HEAD(, fg_client_h2_handle) handles;
    size_t n_streams;
    int ready;   /* connected, the session started */
    int settled; /* the peer's SETTINGS arrived: streams may be sent */
    int goaway, dead;
    int in_ng; /* inside an nghttp2 call: sending must wait */
    int hold;  /* a frame of ours still uses the session: no free */
    int want_send;
    int want_free;
    struct fg_timer *idle; /* dialled: closes it when no stream is left */
    struct event *ping_ev; /* client_ping's deadline */
    int ping_waiting;      /* a PING of ours is unanswered */
    uint64_t ping_deadline_ms;
};

static void flush(struct fg_client_h2 *s);
static void session_lost(struct fg_client_h2 *s, const char *why);
static void run(struct fg_client_h2 *s, struct bufferevent *bev);

/* S takes no new stream from now on. */
static void unlist(struct fg_client_h2 *s)
{
    if (!s->listed)
        return;
    TAILQ_REMOVE(&s->in->h2, s, link);
    s->in->n_h2--;
    s->listed = 0;
}

static void list(struct fg_client_h2 *s)
{
    TAILQ_INSERT_TAIL(&s->in->h2, s, link);
    s->in->n_h2++;
    s->listed = 1;
}

static void h2_destroy(struct fg_client_h2 *s)
{
    unlist(s);
    struct fg_client_h2_handle *h;
    while ((h = LIST_FIRST(&s->handles)) != NULL) {
        LIST_REMOVE(h, link);
        if (h->st) {
            h->st->h2 = NULL;
            h->st->h2_handle = NULL;
        }
        free(h);
    }
    if (s->connecting)
        fg_client_connect_cancel(s->connecting);
    if (s->ping_ev)
        event_free(s->ping_ev);
    if (s->idle)
        s->in->host->timer_free(s->idle);
    if (s->ng)
        nghttp2_session_del(s->ng);
    if (s->bev) {
        bufferevent_free(s->bev);
        fg_client_conn_closed(s->in);
    }
    if (s->origin)
        fg_tls_conn_close(s->origin);
    free(s);
}

void fg_client_h2_free_all(struct fg_client *in)
{
    while (!TAILQ_EMPTY(&in->h2))
        h2_destroy(TAILQ_FIRST(&in->h2));
}

/* Frees S when it has no more work and is no longer the current one. */
static void maybe_free(struct fg_client_h2 *s)
{
    if (s->hold || s->in_ng) {
        s->want_free = 1;
        return;
    }
    s->want_free = 0;
    if (s->dead || (s->goaway && s->n_streams == 0))
        h2_destroy(s);
}

/* The idle limit starts when the last stream is gone. */
static void idle_arm(struct fg_client_h2 *s)
{
    if (s->idle && s->n_streams == 0)
        s->in->host->timer_arm(s->idle, s->in->cfg.connection_idle_timeout_ms);
}

static void close_if_idle(struct fg_client_h2 *s)
{
    /* from the loop, never inside nghttp2 (HOLD and IN_NG clear); a
     * session still dialling has a caller waiting */
    if (s->idle && s->n_streams == 0 && !s->connecting && !s->hold && !s->in_ng)
        h2_destroy(s);
}

void fg_client_h2_close_idle(struct fg_client *in)
{
    /* closing one touches no other (no dispatch) */
    struct fg_client_h2 *s = TAILQ_FIRST(&in->h2), *next;
    for (; s; s = next) {
        next = TAILQ_NEXT(s, link);
        close_if_idle(s);
    }
}

static void on_idle(void *arg)
{
    close_if_idle(arg);
}

static void unlink_handle(struct fg_client_h2_handle *h)
{
    LIST_REMOVE(h, link);
    if (h->st) {
        h->st->h2 = NULL;
        h->st->h2_handle = NULL;
    }
    h->s->n_streams--;
    idle_arm(h->s);
    free(h);
}

/* ---- nghttp2 callbacks -------------------------------------------------- */

static ssize_t cb_send(nghttp2_session *ng, const uint8_t *data, size_t len,
                       int flags, void *arg)
{
    (void)ng;
    (void)flags;
    struct fg_client_h2 *s = arg;
    struct evbuffer *out = bufferevent_get_output(s->bev);
    if (evbuffer_get_length(out) >= FG_CLIENT_H2_OUT_HIGH)
        return NGHTTP2_ERR_WOULDBLOCK;
    if (evbuffer_add(out, data, len) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return (ssize_t)len;
}

static int cb_header(nghttp2_session *ng, const nghttp2_frame *frame,
                     const uint8_t *name, size_t nlen, const uint8_t *value,
                     size_t vlen, uint8_t flags, void *arg)
{
    (void)flags;
    (void)arg;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    struct fg_client_h2_handle *h =
        nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (!h || !h->st)
        return 0;
    struct fg_client_stream *st = h->st;
    if (st->head_sent)
        return 0; /* trailers: not relayed */
    if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
        int code = 0;
        for (size_t i = 0; i < vlen && i < 4; i++)
            code = code * 10 + (value[i] - '0');
        st->rh_status = code;
        return 0;
    }
    if (nlen > 0 && name[0] == ':')
        return 0;
    if (st->rh_n >= FG_CLIENT_MAX_RESPONSE_HEADERS ||
        st->rh.len + nlen + vlen + 2 > FG_CLIENT_H2_MAX_HEADER_BYTES)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
    /* fg_buf_put ends the text with a NUL: each one is the separator */
    fg_buf_put(&st->rh, name, nlen);
    st->rh.len++;
    fg_buf_put(&st->rh, value, vlen);
    st->rh.len++;
    if (st->rh.oom)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* nothing is lost */
    st->rh_n++;
    return 0;
}

static void deliver_head(struct fg_client_stream *st)
{
    /* cb_header keeps RH_N within the bound */
    struct fg_header h[FG_CLIENT_MAX_RESPONSE_HEADERS];
    size_t n = st->rh_n;
    const char *p = st->rh.buf;
    for (size_t i = 0; i < n; i++) {
        h[i].name = p;
        h[i].name_len = strlen(p);
        p += h[i].name_len + 1;
        h[i].value = p;
        h[i].value_len = strlen(p);
        p += h[i].value_len + 1;
    }
    int status = st->rh_status;
    if (st->upgrade && status / 100 == 2) {
        /* the tunnel is up: the peer switched protocols (RFC 8441) */
        status = 101;
        st->piping = 1;
    } else if (st->upgrade && st->h2 && st->h2->ng) {
        /* refused: no byte of the caller's follows, so the request side
         * ends (read_body), and the stream closes once the answer did */
        nghttp2_session_resume_data(st->h2->ng, st->h2_id);
        st->h2->want_send = 1;
    }
    int rc = fg_client_stream_head(st, status, h, n);
    free(st->rh.buf);
    st->rh = (struct fg_buf){0};
    st->rh_n = 0;
    if (rc < 0)
        fg_client_stream_fail(st, 502, "BadGateway", "the client went away");
}

/* The peer ended a pipe (behind an agent, its apiserver closed the
 * upgraded connection): as over HTTP/1.1 the caller's side ends too. Ours
 * ends (read_body), the stream closes, and cb_stream_close ends the
 * caller's once what is held was delivered. */
static void pipe_ended(struct fg_client_h2 *s, struct fg_client_stream *st)
{
    st->peer_ended = 1;
    nghttp2_session_resume_data(s->ng, st->h2_id);
    s->want_send = 1;
}

static int cb_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame,
                         void *arg)
{
    struct fg_client_h2 *s = arg;
    if (frame->hd.type == NGHTTP2_SETTINGS &&
        !(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
        /* the peer's limits are known: streams may go (on_read's
         * dispatch), as many as its MAX_CONCURRENT_STREAMS says */
        s->settled = 1;
        return 0;
    }
    if (frame->hd.type == NGHTTP2_PING &&
        (frame->hd.flags & NGHTTP2_FLAG_ACK)) {
        s->ping_waiting = 0;
        if (s->ping_ev)
            evtimer_del(s->ping_ev);
        return 0;
    }
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        /* finish what it still serves; new requests go elsewhere */
        s->goaway = 1;
        unlist(s);
        return 0;
    }
    struct fg_client_h2_handle *h =
        nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (!h || !h->st)
        return 0;
    struct fg_client_stream *st = h->st;
    if (frame->hd.type == NGHTTP2_HEADERS &&
        frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
        if (st->rh_status >= 100 && st->rh_status < 200) {
            /* interim: the final answer follows */
            st->rh.len = 0;
            st->rh_n = 0;
            st->rh_status = 0;
            return 0;
        }
        if (!st->head_sent)
            deliver_head(st);
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && st->piping &&
        !st->peer_ended && st->state != FG_CLIENT_ST_DONE)
        pipe_ended(s, st);
    return 0;
}

static int cb_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *arg)
{
    (void)flags;
    (void)arg;
    nghttp2_session_consume_connection(ng, len);
    struct fg_client_h2_handle *h =
        nghttp2_session_get_stream_user_data(ng, stream_id);
    if (!h || !h->st) {
        nghttp2_session_consume_stream(ng, stream_id, len);
        return 0;
    }
    struct fg_client_stream *st = h->st;
    fg_client_stream_touch(st);
    if (st->client_paused || (st->held && evbuffer_get_length(st->held))) {
        /* bounded by the stream window we granted */
        if (!st->held)
            st->held = evbuffer_new();
        if (!st->held || evbuffer_add(st->held, data, len) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        return 0;
    }
    int rc = fg_client_stream_data(st, data, len);
    if (rc < 0) {
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, stream_id,
                                  NGHTTP2_CANCEL);
        return 0;
    }
    nghttp2_session_consume_stream(ng, stream_id, len);
    return 0;
}

static int cb_stream_close(nghttp2_session *ng, int32_t stream_id,
                           uint32_t error_code, void *arg)
{
    struct fg_client_h2 *s = arg;
    struct fg_client_h2_handle *h =
        nghttp2_session_get_stream_user_data(ng, stream_id);
    if (!h)
        return 0;
    struct fg_client_stream *st = h->st;
    unlink_handle(h);
    if (st && st->state != FG_CLIENT_ST_DONE) {
        if (error_code == NGHTTP2_NO_ERROR && st->head_sent) {
            if (st->held && evbuffer_get_length(st->held))
                st->h2_closed = 1; /* ends once the client took the rest */
            else
                fg_client_stream_end(st);
        } else if (!st->head_sent) {
            char why[128];
            snprintf(why, sizeof(why), "the member reset the stream (%s)",
                     nghttp2_http2_strerror(error_code));
            fg_client_stream_unavailable(st, why);
        } else {
            fg_client_stream_fail(st, 502, "BadGateway",
                                  "the member reset the stream");
        }
    }
    s->want_send = 1;
    return 0;
}

static ssize_t read_body(nghttp2_session *ng, int32_t stream_id, uint8_t *buf,
                         size_t length, uint32_t *data_flags,
                         nghttp2_data_source *source, void *arg)
{
    (void)ng;
    (void)stream_id;
    (void)arg;
    struct fg_client_h2_handle *h = source->ptr;
    struct fg_client_stream *st = h->st;
    if (!st) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
    }
    if (st->upgrade && st->head_sent && (!st->piping || st->peer_ended)) {
        /* a refused tunnel (any answer but 2xx): its request side ends at
         * the answer, with nothing of the caller's sent; an ended pipe's
         * with the peer's end (pipe_ended) */
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
    }
    int n = evbuffer_remove(st->body, buf, length);
    if (n < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    /* a tunnel's request side lasts as long as the stream */
    if (st->body_ended && !st->upgrade && evbuffer_get_length(st->body) == 0)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    else if (n == 0)
        return NGHTTP2_ERR_DEFERRED;
    fg_client_stream_body_drained(st);
    return n;
}

/* ---- the connection ------------------------------------------------------ */

static void flush(struct fg_client_h2 *s)
{
    if (s->dead || !s->ng)
        return;
    if (s->in_ng) {
        s->want_send = 1;
        return;
    }
    s->in_ng = 1;
    int rc;
    do {
        s->want_send = 0;
        rc = nghttp2_session_send(s->ng);
    } while (rc == 0 && s->want_send);
    s->in_ng = 0;
    if (rc != 0) {
        session_lost(s, nghttp2_strerror(rc));
        return;
    }
    fg_write_soon(s->bev);
    if (!nghttp2_session_want_read(s->ng) &&
        !nghttp2_session_want_write(s->ng) &&
        evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
        s->goaway = 1;
        unlist(s);
    }
    /* callers touch nothing of S after flush() */
    if (s->want_free || (s->goaway && s->n_streams == 0))
        maybe_free(s);
}

/* The connection is gone: every stream it carried fails. */
static void session_lost(struct fg_client_h2 *s, const char *why)
{
    if (s->dead)
        return;
    s->dead = 1;
    struct fg_client *in = s->in;
    unlist(s);
    struct fg_client_h2_handle *h;
    while ((h = LIST_FIRST(&s->handles)) != NULL) {
        struct fg_client_stream *st = h->st;
        unlink_handle(h);
        if (!st || st->state == FG_CLIENT_ST_DONE)
            continue;
        if (st->h2_closed)
            continue;
        if (!st->head_sent)
            fg_client_stream_unavailable(st, why);
        else
            fg_client_stream_fail(st, 502, "BadGateway", why);
    }
    maybe_free(s);
    fg_client_dispatch(in);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct fg_client_h2 *s = arg;
    struct fg_client *in = s->in;
    struct evbuffer *input = bufferevent_get_input(bev);
    s->hold++;
    while (evbuffer_get_length(input) > 0 && !s->dead) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(input, -1, NULL, &v, 1) < 1)
            break;
        s->in_ng = 1;
        ssize_t n = nghttp2_session_mem_recv(s->ng, v.iov_base, v.iov_len);
        s->in_ng = 0;
        if (n < 0) {
            session_lost(s, nghttp2_strerror((int)n));
            break;
        }
        evbuffer_drain(input, (size_t)n);
    }
    flush(s);
    s->hold--;
    int gone = s->dead || s->want_free || (s->goaway && s->n_streams == 0);
    if (gone)
        maybe_free(s);
    fg_client_dispatch(in);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    flush(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct fg_client_h2 *s = arg;
    session_lost(s, (what & BEV_EVENT_EOF)
                        ? "the member closed the connection"
                        : "the connection to the member was lost");
}

/* The connection window: room for every stream the connection may carry
 * (max_streams) to fill its stream window, so paused streams cannot
 * starve the rest, and what the member may have in flight follows the
 * configuration; bounded by HTTP/2's largest window. */
static int32_t conn_window(const struct fg_client *in)
{
    uint64_t w = (uint64_t)in->cfg.max_streams * FG_CLIENT_H2_STREAM_WINDOW;
    return w > NGHTTP2_MAX_WINDOW_SIZE ? NGHTTP2_MAX_WINDOW_SIZE : (int32_t)w;
}

static int session_start(struct fg_client_h2 *s)
{
    nghttp2_session_callbacks *cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0)
        return -1;
    nghttp2_session_callbacks_set_send_callback(cbs, cb_send);
    nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
                                                              cb_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
                                                           cb_stream_close);
    nghttp2_option *opt;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cbs);
        return -1;
    }
    nghttp2_option_set_no_auto_window_update(opt, 1);
    /* the core's allocator: the frame buffer nghttp2 reserves is mapped,
     * resident only as far as frames were written (h2_mem.h) */
    fg_h2_mem_init(&s->mem);
    int rc = nghttp2_session_client_new3(&s->ng, cbs, s, opt, &s->mem.mem);
    fg_h2_mem_made(&s->mem);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0)
        return -1;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, FG_CLIENT_H2_STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, FG_CLIENT_H2_MAX_HEADER_BYTES},
    };
    if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 3) != 0 ||
        nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0,
                                              conn_window(s->in)) != 0)
        return -1;
    return 0;
}

static void on_connected(void *arg, struct bufferevent *bev, int is_h2)
{
    struct fg_client_h2 *s = arg;
    struct fg_client *in = s->in;
    s->connecting = NULL;
    fg_client_conn_opened(in);
    if (!is_h2) {
        /* the member speaks HTTP/1.1 only: use that from now on */
        in->proto = FG_CLIENT_PROTO_H1;
        h2_destroy(s);
        fg_client_h1_adopt(in, bev);
        fg_client_dispatch(in);
        return;
    }
    in->proto = FG_CLIENT_PROTO_H2;
    run(s, bev);
}

/* The session speaks over BEV from now on. */
static void run(struct fg_client_h2 *s, struct bufferevent *bev)
{
    struct fg_client *in = s->in;
    s->bev = bev;
    bufferevent_setcb(bev, on_read, on_write, on_event, s);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    fg_tls_read_pending(bev);
    if (session_start(s) != 0) {
        session_lost(s, "cannot start an HTTP/2 session");
        return;
    }
    s->ready = 1;
    idle_arm(s);
    /* Bytes read before these callbacks were set (the peer's SETTINGS,
     * sent as soon as its side of TLS was done) get no read event of
     * their own. */
    if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
    flush(s);
    fg_client_dispatch(in);
}

int fg_client_h2_start_adopted(struct fg_client *in, struct fg_tls_conn *conn,
                               struct bufferevent *bev)
{
    struct fg_client_h2 *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->in = in;
    s->origin = conn;
    LIST_INIT(&s->handles);
    list(s);
    in->proto = FG_CLIENT_PROTO_H2;
    fg_client_conn_opened(in);
    run(s, bev);
    return 0;
}

static void on_connect_failed(void *arg, const char *reason, int timeout)
{
    (void)timeout;
    struct fg_client_h2 *s = arg;
    struct fg_client *in = s->in;
    s->connecting = NULL;
    h2_destroy(s);
    if (fg_client_h2_connected(in)) {
        /* an extra connection: the others keep serving the queue */
        in->h2_dial_failed_ms = in->host->now_ms(in->host);
        in->host->log(in->host, FG_LOG_WARN,
                      "%s (%s): another HTTP/2 connection failed: %s",
                      in->cfg.name, in->cfg.url.authority, reason);
        return;
    }
    fg_client_fail_pending(in, reason);
}

/* A new dialled session, listed; NULL when out of memory. */
static struct fg_client_h2 *dial(struct fg_client *in)
{
    struct fg_client_h2 *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->in = in;
    LIST_INIT(&s->handles);
    s->idle = in->host->timer_new(in->host, on_idle, s);
    if (!s->idle) {
        free(s);
        return NULL;
    }
    list(s);
    s->connecting =
        fg_client_connect_start(in, 1, on_connected, on_connect_failed, s);
    if (!s->connecting) {
        unlist(s);
        in->host->timer_free(s->idle);
        free(s);
        return NULL;
    }
    return s;
}

/* Streams S may carry: the peer's MAX_CONCURRENT_STREAMS and ours. */
static size_t stream_limit(struct fg_client_h2 *s)
{
    uint32_t peer = nghttp2_session_get_remote_settings(
        s->ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    size_t limit = (size_t)s->in->cfg.max_streams;
    return peer < limit ? peer : limit;
}

struct fg_client_h2 *fg_client_h2_pick(struct fg_client *in, int *rc)
{
    size_t running = 0;
    struct fg_client_h2 *s;
    *rc = 1;
    TAILQ_FOREACH(s, &in->h2, link)
    {
        if (!s->settled)
            return NULL; /* dialling or before its SETTINGS: wait */
        if (s->n_streams < stream_limit(s))
            return s;
        running += s->n_streams;
    }
    if (in->adopted) {
        if (TAILQ_EMPTY(&in->h2))
            *rc = 2;
        return NULL;
    }
    if (in->n_h2 >= (size_t)in->cfg.max_connections ||
        running >= (size_t)in->cfg.max_streams)
        return NULL;
    if (in->n_h2 > 0 && in->h2_dial_failed_ms &&
        in->host->now_ms(in->host) - in->h2_dial_failed_ms <
            in->cfg.connect_timeout_ms)
        return NULL;
    if (!dial(in))
        *rc = -1;
    return NULL;
}

static int ready(const struct fg_client_h2 *s)
{
    return s->ready && !s->dead && !s->goaway;
}

int fg_client_h2_connected(const struct fg_client *in)
{
    struct fg_client_h2 *s;
    TAILQ_FOREACH(s, &in->h2, link)
    if (ready(s))
        return 1;
    return 0;
}

static nghttp2_nv nv(const char *name, size_t nlen, const char *value,
                     size_t vlen)
{
    nghttp2_nv x = {(uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value,
                    nlen, vlen, NGHTTP2_NV_FLAG_NONE};
    return x;
}

int fg_client_h2_submit(struct fg_client_h2 *s, struct fg_client_stream *st)
{
    if (st->upgrade && !nghttp2_session_get_remote_settings(
                           s->ng, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL)) {
        fg_client_stream_unavailable(
            st, "its connection does not take upgrades (no extended CONNECT)");
        return -1;
    }
    /* a request of up to SUBMIT_STACK_HEADERS headers (nearly all) is
     * built on the stack: nghttp2 copies the block it is given */
    nghttp2_nv v_stack[SUBMIT_STACK_HEADERS + 6];
    nghttp2_nv *v = st->headers.n <= SUBMIT_STACK_HEADERS
                        ? v_stack
                        : calloc(st->headers.n + 6, sizeof(*v));
    struct fg_client_h2_handle *h = calloc(1, sizeof(*h));
    if (!v || !h) {
        if (v != v_stack)
            free(v);
        free(h);
        fg_client_stream_unavailable(st, "out of memory");
        return -1;
    }
    size_t k = 0;
    const char *auth = s->in->cfg.url.authority;
    if (st->upgrade) {
        v[k++] = nv(":method", 7, "CONNECT", 7);
        v[k++] = nv(":protocol", 9, st->upgrade, strlen(st->upgrade));
    } else {
        v[k++] = nv(":method", 7, st->method, strlen(st->method));
    }
    v[k++] = nv(":scheme", 7, "https", 5);
    v[k++] = nv(":authority", 10, auth, strlen(auth));
    v[k++] = nv(":path", 5, st->target, strlen(st->target));
    for (size_t i = 0; i < st->headers.n; i++) {
        const struct fg_header *x = &st->headers.v[i];
        v[k++] = nv(x->name, x->name_len, x->value, x->value_len);
    }
    char clen[FG_FMT_DEC_MAX];
    if (st->content_length >= 0 && !st->upgrade) {
        size_t clen_len = fg_fmt_i64(clen, st->content_length);
        v[k++] = nv("content-length", 14, clen, clen_len);
    }
    int has_body =
        st->upgrade || st->content_length > 0 ||
        (st->content_length < 0 && !(st->body_ended && st->body_bytes == 0));
    h->st = st;
    h->s = s;
    nghttp2_data_provider prd = {.source.ptr = h, .read_callback = read_body};
    int32_t id =
        nghttp2_submit_request(s->ng, NULL, v, k, has_body ? &prd : NULL, h);
    if (v != v_stack)
        free(v);
    if (id < 0) {
        free(h);
        fg_client_stream_unavailable(st, nghttp2_strerror(id));
        return -1;
    }
    LIST_INSERT_HEAD(&s->handles, h, link);
    if (s->n_streams++ == 0 && s->idle)
        s->in->host->timer_cancel(s->idle);
    st->h2 = s;
    st->h2_handle = h;
    st->h2_id = id;
    flush(s);
    return 0;
}

void fg_client_h2_body(struct fg_client_stream *st)
{
    struct fg_client_h2 *s = st->h2;
    if (!s || !s->ng)
        return;
    nghttp2_session_resume_data(s->ng, st->h2_id);
    flush(s);
}

void fg_client_h2_resume(struct fg_client_stream *st)
{
    /* deliver what arrived while the client was full, then reopen the
     * window by what the client took */
    while (st->held && evbuffer_get_length(st->held) > 0 &&
           !st->client_paused && st->state != FG_CLIENT_ST_DONE) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(st->held, -1, NULL, &v, 1) < 1)
            break;
        size_t len = v.iov_len;
        int rc = fg_client_stream_data(st, v.iov_base, len);
        evbuffer_drain(st->held, len);
        if (st->h2 && st->h2->ng)
            nghttp2_session_consume_stream(st->h2->ng, st->h2_id, len);
        if (rc < 0) {
            fg_client_stream_fail(st, 502, "BadGateway",
                                  "the client went away");
            return;
        }
    }
    if (st->state == FG_CLIENT_ST_DONE || st->client_paused)
        return;
    if (st->h2_closed && (!st->held || evbuffer_get_length(st->held) == 0)) {
        fg_client_stream_end(st);
        return;
    }
    if (st->h2)
        flush(st->h2);
}

void fg_client_h2_cancel(struct fg_client_stream *st)
{
    struct fg_client_h2 *s = st->h2;
    struct fg_client_h2_handle *h = st->h2_handle;
    st->h2 = NULL;
    st->h2_handle = NULL;
    if (!s || !h)
        return;
    /* the handle stays with nghttp2 until the stream closes */
    h->st = NULL;
    if (s->ng && !s->dead) {
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->h2_id,
                                  NGHTTP2_CANCEL);
        flush(s);
    }
}

/* No PING answer within the deadline: the peer is gone or stuck, and the
 * connection is treated as lost (it may never close on its own). */
static void ping_expired(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_client_h2 *s = arg;
    char why[96];
    snprintf(why, sizeof(why), "no answer to a PING within %llu ms",
             (unsigned long long)s->ping_deadline_ms);
    const struct fg_host *h = s->in->host;
    h->log(h, FG_LOG_WARN, "%s (%s): %s, the connection is dropped",
           s->in->cfg.name, s->in->cfg.url.authority, why);
    session_lost(s, why);
}

int fg_client_h2_ping(struct fg_client *in, uint64_t deadline_ms)
{
    struct fg_client_h2 *s = TAILQ_FIRST(&in->h2);
    if (!s || !ready(s))
        return -1;
    int answered = !s->ping_waiting;
    if (nghttp2_submit_ping(s->ng, NGHTTP2_FLAG_NONE, NULL) != 0)
        return -1;
    /* the deadline runs from the oldest unanswered PING */
    if (!s->ping_waiting && deadline_ms > 0) {
        if (!s->ping_ev &&
            !(s->ping_ev = evtimer_new(s->in->base, ping_expired, s)))
            return -1;
        s->ping_waiting = 1;
        s->ping_deadline_ms = deadline_ms;
        struct timeval tv = {(time_t)(deadline_ms / 1000),
                             (suseconds_t)(deadline_ms % 1000) * 1000};
        evtimer_add(s->ping_ev, &tv);
    }
    flush(s);
    return answered;
}
