/* The HTTP/2 codec: an nghttp2 server session on a connection. Each stream
 * becomes an exchange; its response is queued in a per-stream buffer that
 * nghttp2 pulls from as flow control allows. We count what nghttp2 does not
 * limit itself (control frames, its outbound queue) and end the connection
 * before memory grows. Nothing here calls nghttp2_session_mem_send from an
 * exchange op: sends happen on a deferred event, so an op never re-enters
 * the session or the exchange. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "config/config.h"
#include "net/conn.h"
#include "net/write_soon.h"
#include "request/arena.h"
#include "request/exchange.h"
#include "daemon/gateway.h"
#include "http/body_ref.h"
#include "http/h2_mem.h"
#include "base/fmt.h"
#include "base/log.h"

/* Write to the socket only while less than this is waiting in it. */
#define H2_OUTPUT_HIGH (64 * 1024)
#define H2_GLITCH_WINDOW_MS 10000
#define H2_INITIAL_WINDOW (1024 * 1024)
#define H2_DEFLATE_TABLE_SIZE 1024
/* A connection idle this long gives its frame buffer's pages back (a
 * busy one would only fault them in again). */
#define H2_RELEASE_AFTER_MS 1000
/* WINDOW_UPDATEs a peer may send beyond those its DATA frames earn (the
 * proportion follows Envoy's default of 10 per DATA frame sent). */
#define H2_FREE_WINDOW_UPDATES 100
#define H2_WINDOW_UPDATES_PER_DATA_FRAME 10

struct h2_conn;

struct h2_stream {
    struct h2_conn *hc;
    int32_t id;
    struct fg_exchange *ex;
    struct h2_stream *prev, *next; /* the connection's list */

    /* request head, while it arrives: the strings in ARENA, which the
     * exchange adopts (the head then lives as long as the request) */
    struct fg_arena *arena;
    char *method, *path, *authority, *scheme, *protocol;
    struct fg_header *headers;
    size_t n_headers, cap_headers;
    size_t header_bytes;
    int head_too_large;
    int64_t content_length;

    /* response */
    struct evbuffer *out;
    int out_ended;
    int deferred;     /* nghttp2 waits for data: resume when some arrives */
    int completed;    /* the last DATA (or HEADERS) with END_STREAM went out */
    int goaway_after; /* a 401 on a never-authenticated connection */
    int drained;      /* queued for fg_exchange_output_drained */
    struct h2_stream *next_drained;

    int body_paused;
    int body_abandoned; /* reset the stream once the answer is sent */
    size_t unconsumed;  /* body bytes not yet returned to the window */
};

struct h2_conn {
    struct fg_conn *conn;
    struct bufferevent *bev;
    nghttp2_session *session;
    struct event *flush_ev;
    struct event *idle_ev;
    int released; /* the idle timer's first stage ran (arm_idle) */
    struct fg_h2_mem mem;
    struct h2_stream *streams;
    size_t n_streams;
    struct h2_stream *drained; /* streams whose buffers fell below low water */
    uint32_t glitches;
    uint64_t glitch_window_start;
    uint64_t data_frames_sent; /* earns the peer WINDOW_UPDATEs */
    uint64_t window_updates;
    int closing;
};

static const struct fg_codec_ops h2_ops;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void schedule_flush(struct h2_conn *hc)
{
    if (!hc->closing)
        event_active(hc->flush_ev, EV_WRITE, 0);
}

static void add_timer(struct event *ev, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_add(ev, &tv);
}

/* The connection has no stream: in two stages, its buffers are given
 * back after H2_RELEASE_AFTER_MS, and it is closed after idle_timeout. */
static void arm_idle(struct h2_conn *hc)
{
    uint64_t ms = fg_conn_idle_timeout_ms(hc->conn);
    hc->released = ms <= H2_RELEASE_AFTER_MS;
    add_timer(hc->idle_ev, hc->released ? ms : H2_RELEASE_AFTER_MS);
}

static void close_conn(struct h2_conn *hc)
{
    if (hc->closing)
        return;
    hc->closing = 1;
    fg_conn_close(hc->conn);
}

/* ---- streams ------------------------------------------------------------ */

static void free_head(struct h2_stream *st)
{
    free(st->headers);
    st->headers = NULL;
    st->n_headers = st->cap_headers = 0;
    fg_arena_free(st->arena); /* NULL once the exchange adopted it */
    st->arena = NULL;
    st->method = st->path = st->authority = st->scheme = st->protocol = NULL;
}

static struct h2_stream *stream_new(struct h2_conn *hc, int32_t id)
{
    struct h2_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->out = evbuffer_new();
    if (!st->out) {
        free(st);
        return NULL;
    }
    st->hc = hc;
    st->id = id;
    st->content_length = -1;
    st->next = hc->streams;
    if (hc->streams)
        hc->streams->prev = st;
    hc->streams = st;
    hc->n_streams++;
    event_del(hc->idle_ev);
    return st;
}

static void stream_free(struct h2_stream *st, int completed)
{
    struct h2_conn *hc = st->hc;
    if (st->ex)
        fg_exchange_finish(st->ex, completed);
    st->ex = NULL;
    if (st->prev)
        st->prev->next = st->next;
    else
        hc->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    for (struct h2_stream **p = &hc->drained; *p; p = &(*p)->next_drained)
        if (*p == st) {
            *p = st->next_drained;
            break;
        }
    hc->n_streams--;
    free_head(st);
    evbuffer_free(st->out);
    free(st);
    if (hc->n_streams == 0 && !hc->closing)
        arm_idle(hc);
}

/* ---- misbehaviour accounting --------------------------------------------- */

/* Counts a frame that costs us work but carries no request progress. Too
 * many in a window ends the connection (rapid reset, PING/SETTINGS floods,
 * empty DATA frames and the like). */
static int glitch(struct h2_conn *hc)
{
    uint64_t now = mono_ms();
    if (now - hc->glitch_window_start > H2_GLITCH_WINDOW_MS) {
        hc->glitch_window_start = now;
        hc->glitches = 0;
    }
    if (++hc->glitches > fg_conn_limits(hc->conn)->h2_max_control_frames) {
        fg_warn("%s: HTTP/2 flood (%u control frames in %d s), closing",
                hc->conn->peer, hc->glitches, H2_GLITCH_WINDOW_MS / 1000);
        nghttp2_session_terminate_session(hc->session,
                                          NGHTTP2_ENHANCE_YOUR_CALM);
        return -1;
    }
    return 0;
}

/* ---- nghttp2 callbacks --------------------------------------------------- */

static int on_begin_headers(nghttp2_session *session,
                            const nghttp2_frame *frame, void *user_data)
{
    struct h2_conn *hc = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2_stream *st = stream_new(hc, frame->hd.stream_id);
    if (!st)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    st->arena = fg_arena_new(0);
    if (!st->arena)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, st);
    return 0;
}

static char *dup_n(struct h2_stream *st, const uint8_t *s, size_t n)
{
    return fg_arena_strndup(st->arena, (const char *)s, n);
}

static int set_pseudo(struct h2_stream *st, char **slot, const uint8_t *v,
                      size_t n)
{
    if (*slot)
        return -1; /* nghttp2 refuses duplicates already; be sure */
    *slot = dup_n(st, v, n);
    return *slot ? 0 : -1;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
                     const uint8_t *name, size_t namelen, const uint8_t *value,
                     size_t valuelen, uint8_t flags, void *user_data)
{
    (void)flags;
    (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2_stream *st =
        nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!st || st->head_too_large)
        return 0;
    const struct fg_limits *lim = fg_conn_limits(st->hc->conn);
    st->header_bytes += namelen + valuelen + 32; /* RFC 9113 6.5.2 */
    if (st->header_bytes > lim->max_header_bytes ||
        st->n_headers >= lim->max_headers) {
        st->head_too_large = 1;
        return 0;
    }
    if (namelen > 0 && name[0] == ':') {
        char **slot = NULL;
        if (namelen == 7 && memcmp(name, ":method", 7) == 0)
            slot = &st->method;
        else if (namelen == 5 && memcmp(name, ":path", 5) == 0)
            slot = &st->path;
        else if (namelen == 10 && memcmp(name, ":authority", 10) == 0)
            slot = &st->authority;
        else if (namelen == 7 && memcmp(name, ":scheme", 7) == 0)
            slot = &st->scheme;
        else if (namelen == 9 && memcmp(name, ":protocol", 9) == 0)
            slot = &st->protocol;
        if (!slot || set_pseudo(st, slot, value, valuelen) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        return 0;
    }
    if (namelen == 14 && memcmp(name, "content-length", 14) == 0) {
        /* nghttp2 checked it is a number and matches the DATA sent. */
        st->content_length = strtoll((const char *)value, NULL, 10);
    }
    if (st->n_headers == st->cap_headers) {
        size_t cap = st->cap_headers ? st->cap_headers * 2 : 16;
        struct fg_header *h = realloc(st->headers, cap * sizeof(*h));
        if (!h)
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        st->headers = h;
        st->cap_headers = cap;
    }
    struct fg_header *h = &st->headers[st->n_headers];
    h->name = dup_n(st, name, namelen);
    h->value = dup_n(st, value, valuelen);
    if (!h->name || !h->value)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    h->name_len = namelen;
    h->value_len = valuelen;
    st->n_headers++;
    return 0;
}

static void start_request(struct h2_conn *hc, struct h2_stream *st,
                          int end_stream)
{
    if (st->head_too_large) {
        fg_codec_send_status(&h2_ops, st, 431, "BadRequest",
                             "the request head is larger than the "
                             "gateway allows");
        free_head(st);
        return;
    }
    if (st->method && strcmp(st->method, "CONNECT") == 0) {
        /* Upgrades (extended CONNECT) arrive with the exec/attach work. */
        fg_codec_send_status(&h2_ops, st, 405, "MethodNotAllowed",
                             "CONNECT is not supported");
        free_head(st);
        return;
    }
    st->ex = fg_exchange_new(hc->conn, &h2_ops, st, st->arena);
    if (!st->ex) {
        nghttp2_submit_rst_stream(hc->session, NGHTTP2_FLAG_NONE, st->id,
                                  NGHTTP2_INTERNAL_ERROR);
        free_head(st);
        return;
    }
    st->arena = NULL; /* the exchange's now, and the head's strings in it */
    struct fg_request_in req = {
        .method = st->method,
        .target = st->path,
        .authority = st->authority,
        .headers = st->headers,
        .n_headers = st->n_headers,
        .content_length = st->content_length,
        .has_body = !end_stream,
        .http_version = 20,
        .in_arena = 1,
    };
    fg_exchange_start(st->ex, &req);
    free_head(st);
    if (end_stream && st->ex)
        fg_exchange_body_end(st->ex);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                         void *user_data)
{
    struct h2_conn *hc = user_data;
    struct h2_stream *st =
        frame->hd.stream_id
            ? nghttp2_session_get_stream_user_data(session, frame->hd.stream_id)
            : NULL;
    int end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
        if (st && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
            start_request(hc, st, end_stream);
        else if (st && st->ex && end_stream)
            fg_exchange_body_end(st->ex); /* trailers end the body */
        break;
    case NGHTTP2_DATA:
        if (frame->hd.length == 0 && !end_stream && glitch(hc) != 0)
            return 0;
        if (st && st->ex && end_stream)
            fg_exchange_body_end(st->ex);
        break;
    case NGHTTP2_SETTINGS:
        if (!(frame->hd.flags & NGHTTP2_FLAG_ACK))
            glitch(hc);
        break;
    case NGHTTP2_WINDOW_UPDATE:
        /* A client reading a large answer sends these all along: they are
         * earned by the DATA frames we send, not counted as a flood. */
        if (++hc->window_updates >
            H2_FREE_WINDOW_UPDATES +
                H2_WINDOW_UPDATES_PER_DATA_FRAME * hc->data_frames_sent) {
            fg_warn("%s: HTTP/2 WINDOW_UPDATE flood, closing", hc->conn->peer);
            nghttp2_session_terminate_session(hc->session,
                                              NGHTTP2_ENHANCE_YOUR_CALM);
        }
        break;
    case NGHTTP2_PING:
    case NGHTTP2_PRIORITY:
    case NGHTTP2_RST_STREAM:
        glitch(hc);
        break;
    default:
        break;
    }
    return 0;
}

static int on_invalid_frame(nghttp2_session *session,
                            const nghttp2_frame *frame, int lib_error_code,
                            void *user_data)
{
    (void)session;
    (void)frame;
    (void)lib_error_code;
    glitch(user_data);
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags,
                         int32_t stream_id, const uint8_t *data, size_t len,
                         void *user_data)
{
    (void)flags;
    (void)user_data;
    struct h2_stream *st =
        nghttp2_session_get_stream_user_data(session, stream_id);
    if (st && st->ex)
        fg_exchange_body(st->ex, data, len);
    if (st && st->body_paused) {
        st->unconsumed += len; /* the window stays shut: backpressure */
        return 0;
    }
    nghttp2_session_consume(session, stream_id, len);
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id,
                           uint32_t error_code, void *user_data)
{
    (void)user_data;
    struct h2_stream *st =
        nghttp2_session_get_stream_user_data(session, stream_id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    stream_free(st, error_code == NGHTTP2_NO_ERROR && st->completed);
    return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame,
                         void *user_data)
{
    struct h2_conn *hc = user_data;
    if (frame->hd.type == NGHTTP2_DATA)
        hc->data_frames_sent++;
    if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        struct h2_stream *st =
            nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
        if (st)
            st->completed = 1;
        /* RFC 9113 8.1: a complete answer, then RST_STREAM(NO_ERROR)
         * tells the client to stop sending the request. */
        if (st && st->body_abandoned)
            nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE,
                                      frame->hd.stream_id, NGHTTP2_NO_ERROR);
        /* After the answer, not before it: a client may drop DATA that
         * follows a GOAWAY, though RFC 9113 6.8 lets it come. */
        if (st && st->goaway_after)
            nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, st->id,
                                  NGHTTP2_NO_ERROR, NULL, 0);
    }
    return 0;
}

/* ---- response body provider ---------------------------------------------- */

/* Tells nghttp2 how much of the stream's buffer the next DATA frame
 * carries; send_data() then copies those bytes behind their frame header
 * in the socket's buffer, not through nghttp2's own (NO_COPY). */
static ssize_t read_body(nghttp2_session *session, int32_t stream_id,
                         uint8_t *buf, size_t length, uint32_t *data_flags,
                         nghttp2_data_source *source, void *user_data)
{
    (void)session;
    (void)stream_id;
    (void)buf;
    struct h2_conn *hc = user_data;
    struct h2_stream *st = source->ptr;
    size_t avail = evbuffer_get_length(st->out);
    size_t n = avail < length ? avail : length;
    if (n == avail && st->out_ended)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    else if (n == 0) {
        st->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    if (n > 0)
        *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (st->ex && !st->drained &&
        avail - n < fg_conn_limits(hc->conn)->stream_buffer_bytes / 2) {
        st->drained = 1;
        st->next_drained = hc->drained;
        hc->drained = st;
    }
    return (ssize_t)n;
}

/* A DATA frame's header and payload in one TLS record: libevent's OpenSSL
 * bufferevent makes each chunk of the socket's buffer an SSL_write of its
 * own, so a header queued apart from its payload left as a 9-byte record
 * and write(). The frame is copied into one contiguous reservation, which
 * frame_length() keeps within a record's 16 KiB. */
static int send_data(nghttp2_session *session, nghttp2_frame *frame,
                     const uint8_t *framehd, size_t length,
                     nghttp2_data_source *source, void *user_data)
{
    (void)session;
    struct h2_conn *hc = user_data;
    struct h2_stream *st = source->ptr;
    struct evbuffer *out = bufferevent_get_output(hc->bev);
    size_t pad = frame->data.padlen;
    size_t total = 9 + length + pad;
    struct evbuffer_iovec vec;
    if (evbuffer_reserve_space(out, (ev_ssize_t)total, &vec, 1) != 1 ||
        vec.iov_len < total)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    uint8_t *p = vec.iov_base;
    memcpy(p, framehd, 9);
    p += 9;
    if (pad > 0)
        *p++ = (uint8_t)(pad - 1);
    if (evbuffer_remove(st->out, p, length) != (int)length)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (pad > 1)
        memset(p + length, 0, pad - 1);
    vec.iov_len = total;
    if (evbuffer_commit_space(out, &vec, 1) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return 0;
}

/* The largest DATA payload whose frame fills one TLS record (16,384 bytes
 * of plaintext) with its 9-byte header, so that no frame's tail leaves as
 * a record and write() of its own. */
#define H2_DATA_PAYLOAD_MAX (16384 - 9)

static ssize_t frame_length(nghttp2_session *session, uint8_t frame_type,
                            int32_t stream_id, int32_t session_window,
                            int32_t stream_window, uint32_t peer_frame_max,
                            void *user_data)
{
    (void)session;
    (void)frame_type;
    (void)stream_id;
    (void)user_data;
    ssize_t n = H2_DATA_PAYLOAD_MAX;
    if (session_window < n)
        n = session_window;
    if (stream_window < n)
        n = stream_window;
    if ((ssize_t)peer_frame_max < n)
        n = (ssize_t)peer_frame_max;
    return n;
}

/* ---- sending ---------------------------------------------------------------
 */

static void maybe_finished(struct h2_conn *hc)
{
    if (!hc->closing && !nghttp2_session_want_read(hc->session) &&
        !nghttp2_session_want_write(hc->session) &&
        evbuffer_get_length(bufferevent_get_output(hc->bev)) == 0)
        close_conn(hc);
}

static void flush(struct h2_conn *hc)
{
    struct evbuffer *out = bufferevent_get_output(hc->bev);
    while (!hc->closing && evbuffer_get_length(out) < H2_OUTPUT_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(hc->session, &data);
        if (n < 0) {
            close_conn(hc);
            return;
        }
        if (n == 0)
            break;
        evbuffer_add(out, data, (size_t)n);
    }
    if (!hc->closing)
        fg_write_soon(hc->bev);
    /* Tell producers outside nghttp2's callbacks that they may go on. */
    while (!hc->closing && hc->drained) {
        struct h2_stream *st = hc->drained;
        hc->drained = st->next_drained;
        st->drained = 0;
        if (st->ex)
            fg_exchange_output_drained(st->ex);
    }
    maybe_finished(hc);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    flush(arg);
}

static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct h2_conn *hc = arg;
    if (hc->n_streams > 0)
        return;
    if (!hc->released) {
        hc->released = 1;
        if (!nghttp2_session_want_write(hc->session))
            fg_h2_mem_release(&hc->mem);
        uint64_t ms = fg_conn_idle_timeout_ms(hc->conn); /* a reload? */
        add_timer(hc->idle_ev,
                  ms > H2_RELEASE_AFTER_MS ? ms - H2_RELEASE_AFTER_MS : 0);
        return;
    }
    nghttp2_session_terminate_session(hc->session, NGHTTP2_NO_ERROR);
    flush(hc);
}

/* ---- bufferevent callbacks ----------------------------------------------- */

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct h2_conn *hc = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    unsigned char *data = evbuffer_pullup(in, -1);
    ssize_t n = nghttp2_session_mem_recv(hc->session, data, len);
    if (n < 0) {
        fg_debug("%s: HTTP/2 error: %s", hc->conn->peer,
                 nghttp2_strerror((int)n));
        if (n == NGHTTP2_ERR_BAD_CLIENT_MAGIC || n == NGHTTP2_ERR_NOMEM) {
            close_conn(hc);
            return;
        }
        nghttp2_session_terminate_session(hc->session, NGHTTP2_PROTOCOL_ERROR);
    }
    evbuffer_drain(in, len);
    if (nghttp2_session_get_outbound_queue_size(hc->session) >
        4 * (size_t)fg_conn_limits(hc->conn)->max_streams_per_connection +
            1000) {
        fg_warn("%s: HTTP/2 peer does not read what it asks for, closing",
                hc->conn->peer);
        close_conn(hc);
        return;
    }
    flush(hc);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    flush(arg);
}

static void event_cb(struct bufferevent *bev, short events, void *arg)
{
    (void)bev;
    struct h2_conn *hc = arg;
    if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        close_conn(hc);
}

/* ---- exchange ops ----------------------------------------------------------
 */

/* Heads up to this many headers and name bytes are built on the stack;
 * larger ones (rare: a member's answer is a dozen headers) on the heap. */
#define HEAD_STACK_HEADERS 32
#define HEAD_STACK_NAMES 1024

static int op_send_head(void *cs, int status, const struct fg_header *headers,
                        size_t n, int64_t length, int end_stream)
{
    struct h2_stream *st = cs;
    struct h2_conn *hc = st->hc;
    /* three digits or nothing: :status is exactly three (RFC 9113 8.3.2) */
    if (status < 100 || status > 999)
        return -1;
    size_t names_len = 0;
    for (size_t i = 0; i < n; i++)
        names_len += headers[i].name_len;
    nghttp2_nv nv_stack[HEAD_STACK_HEADERS + 2];
    char names_stack[HEAD_STACK_NAMES];
    nghttp2_nv *nv =
        n <= HEAD_STACK_HEADERS ? nv_stack : calloc(n + 2, sizeof(*nv));
    char *names =
        names_len <= HEAD_STACK_NAMES ? names_stack : malloc(names_len);
    if (!nv || !names) {
        if (nv != nv_stack)
            free(nv);
        if (names != names_stack)
            free(names);
        return -1;
    }
    char status_s[FG_FMT_DEC_MAX], length_s[FG_FMT_DEC_MAX];
    fg_fmt_u64(status_s, (uint64_t)status);
    size_t k = 0, off = 0;
    nv[k++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)status_s, 7, 3,
                           NGHTTP2_NV_FLAG_NONE};
    for (size_t i = 0; i < n; i++) {
        /* HTTP/2 field names are lower-case. */
        for (size_t j = 0; j < headers[i].name_len; j++)
            names[off + j] = (char)tolower((unsigned char)headers[i].name[j]);
        nv[k++] = (nghttp2_nv){(uint8_t *)names + off,
                               (uint8_t *)headers[i].value, headers[i].name_len,
                               headers[i].value_len, NGHTTP2_NV_FLAG_NONE};
        off += headers[i].name_len;
    }
    if (length >= 0 && status != 204 && status != 304) {
        size_t len = fg_fmt_i64(length_s, length);
        nv[k++] = (nghttp2_nv){(uint8_t *)"content-length", (uint8_t *)length_s,
                               14, len, NGHTTP2_NV_FLAG_NONE};
    }
    nghttp2_data_provider provider = {{.ptr = st}, read_body};
    if (end_stream)
        st->out_ended = 1;
    int rc = nghttp2_submit_response(hc->session, st->id, nv, k,
                                     end_stream ? NULL : &provider);
    /* A connection that never authenticated gets no second try after its
     * 401, as HTTP/1.1 closes: once this answer is out, GOAWAY (see
     * on_frame_send), then the connection ends (maybe_finished). */
    if (rc == 0 && status == 401 && !hc->conn->authenticated)
        st->goaway_after = 1;
    if (nv != nv_stack)
        free(nv);
    if (names != names_stack)
        free(names);
    schedule_flush(hc);
    return rc == 0 ? 0 : -1;
}

static void resume(struct h2_stream *st)
{
    if (st->deferred) {
        st->deferred = 0;
        nghttp2_session_resume_data(st->hc->session, st->id);
    }
    schedule_flush(st->hc);
}

/* Body bytes into the stream's buffer, which read_body hands to nghttp2:
 * copied, or with FREE_FN taken over (fg_body_add), and then given back
 * when send_data has moved them out and they are written, or when the
 * stream or the connection goes with them unsent. */
static int queue_body(struct h2_stream *st, const void *buf, size_t len,
                      fg_buffer_free_fn free_fn, void *arg)
{
    if (st->out_ended) {
        if (free_fn)
            free_fn(arg, buf, len);
        return -1;
    }
    if (fg_body_add(st->out, buf, len, free_fn, arg) != 0)
        return -1;
    resume(st);
    return 0;
}

static int op_send_data(void *cs, const void *buf, size_t len)
{
    return queue_body(cs, buf, len, NULL, NULL);
}

static int op_send_data_ref(void *cs, const void *buf, size_t len,
                            fg_buffer_free_fn free_fn, void *arg)
{
    return queue_body(cs, buf, len, free_fn, arg);
}

static int op_send_end(void *cs)
{
    struct h2_stream *st = cs;
    st->out_ended = 1;
    resume(st);
    return 0;
}

static void op_reset(void *cs)
{
    struct h2_stream *st = cs;
    nghttp2_submit_rst_stream(st->hc->session, NGHTTP2_FLAG_NONE, st->id,
                              NGHTTP2_INTERNAL_ERROR);
    schedule_flush(st->hc);
}

static size_t op_buffered(void *cs)
{
    struct h2_stream *st = cs;
    return evbuffer_get_length(st->out);
}

static void op_pause_body(void *cs)
{
    struct h2_stream *st = cs;
    st->body_paused = 1;
}

static void op_resume_body(void *cs)
{
    struct h2_stream *st = cs;
    st->body_paused = 0;
    if (st->unconsumed) {
        nghttp2_session_consume(st->hc->session, st->id, st->unconsumed);
        st->unconsumed = 0;
        schedule_flush(st->hc);
    }
}

static void op_abandon_body(void *cs)
{
    struct h2_stream *st = cs;
    st->body_abandoned = 1;
}

static const struct fg_codec_ops h2_ops = {
    .send_head = op_send_head,
    .send_data = op_send_data,
    .send_data_ref = op_send_data_ref,
    .send_end = op_send_end,
    .reset = op_reset,
    .buffered = op_buffered,
    .pause_body = op_pause_body,
    .resume_body = op_resume_body,
    .abandon_body = op_abandon_body,
};

/* ---- codec
 * ------------------------------------------------------------------- */

static void *h2_attach(struct fg_conn *conn, struct bufferevent *bev)
{
    struct h2_conn *hc = calloc(1, sizeof(*hc));
    if (!hc)
        return NULL;
    hc->conn = conn;
    hc->bev = bev;
    hc->glitch_window_start = mono_ms();
    const struct fg_limits *lim = fg_conn_limits(conn);

    nghttp2_session_callbacks *cbs;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cbs) != 0) {
        free(hc);
        return NULL;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs,
                                                            on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(
        cbs, on_invalid_frame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
                                                              on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
                                                           on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
    nghttp2_session_callbacks_set_send_data_callback(cbs, send_data);
    nghttp2_session_callbacks_set_data_source_read_length_callback(
        cbs, frame_length);
    int rc = nghttp2_option_new(&opt);
    if (rc == 0) {
        nghttp2_option_set_no_auto_window_update(opt, 1);
        nghttp2_option_set_max_outbound_ack(opt, 1000);
        nghttp2_option_set_max_settings(opt, 32);
        nghttp2_option_set_max_continuations(opt, 16);
        /* Our answers repeat few header fields: a quarter of the default
         * table compresses them as well, for a quarter of the memory. */
        nghttp2_option_set_max_deflate_dynamic_table_size(
            opt, H2_DEFLATE_TABLE_SIZE);
        nghttp2_option_set_stream_reset_rate_limit(
            opt, lim->h2_max_control_frames, 33);
        fg_h2_mem_init(&hc->mem);
        rc = nghttp2_session_server_new3(&hc->session, cbs, hc, opt,
                                         &hc->mem.mem);
        fg_h2_mem_made(&hc->mem);
        nghttp2_option_del(opt);
    }
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) {
        free(hc);
        return NULL;
    }
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
         lim->max_streams_per_connection},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_INITIAL_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, lim->max_header_bytes},
    };
    nghttp2_submit_settings(hc->session, NGHTTP2_FLAG_NONE, settings, 3);
    nghttp2_session_set_local_window_size(hc->session, NGHTTP2_FLAG_NONE, 0,
                                          4 * H2_INITIAL_WINDOW);

    struct event_base *base = bufferevent_get_base(bev);
    hc->flush_ev = event_new(base, -1, 0, flush_cb, hc);
    hc->idle_ev = event_new(base, -1, 0, idle_cb, hc);
    if (!hc->flush_ev || !hc->idle_ev) {
        if (hc->flush_ev)
            event_free(hc->flush_ev);
        if (hc->idle_ev)
            event_free(hc->idle_ev);
        nghttp2_session_del(hc->session);
        free(hc);
        return NULL;
    }
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, hc);
    bufferevent_setwatermark(bev, EV_WRITE, H2_OUTPUT_HIGH / 2, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    arm_idle(hc);
    schedule_flush(hc);
    /* Bytes that arrived with the handshake are already waiting. */
    if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        read_cb(bev, hc);
    return hc;
}

static void h2_drain(void *state)
{
    struct h2_conn *hc = state;
    nghttp2_submit_goaway(hc->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(hc->session),
                          NGHTTP2_NO_ERROR, NULL, 0);
    schedule_flush(hc);
}

static void h2_destroy(void *state)
{
    struct h2_conn *hc = state;
    hc->closing = 1;
    while (hc->streams)
        stream_free(hc->streams, 0);
    nghttp2_session_del(hc->session);
    event_free(hc->flush_ev);
    event_free(hc->idle_ev);
    free(hc);
}

const struct fg_codec fg_h2_codec = {"h2", h2_attach, h2_drain, h2_destroy};
