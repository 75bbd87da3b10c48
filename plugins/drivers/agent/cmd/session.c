/* One tunnel seen from the agent: an nghttp2 server session over the TLS
 * connection it dialled. The first two streams are the handshake
 * (tunnel.h); every later one is a request the agent makes to its own
 * kube-apiserver through the core's client, adding its own Authorization
 * and passing on only the host's Impersonate-* headers. Flow control is
 * HTTP/2's both ways: a stream's window reopens only as the apiserver
 * takes its body, and an answer is pulled from the apiserver only as the
 * host's window lets it out (FG_PAUSE / resume). Upgrades (exec, attach,
 * port-forward) arrive as extended CONNECT streams (RFC 8441, :protocol
 * websocket or SPDY/3.1): the agent makes the HTTP/1.1 upgrade to its
 * apiserver with the client's method (fedgate-method, tunnel.h), and only
 * on its 101 answers 200, after which the stream's DATA is the byte pipe;
 * any other answer goes back as it is. Keepalive: a PING every ping
 * interval, and a host silent for 3 intervals (not a byte, not even a PING
 * answer) is dead: the session ends and the agent dials again, as the
 * host's side drops it after the same bound. nghttp2 is only entered
 * from the socket's callbacks and the flush event, never from inside a
 * client callback, so neither side re-enters the other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "base/log.h"
#include "client/client.h"
#include "fedgate_agent.h"

/* Answer bytes held per stream before the apiserver's answer is paused. */
#define OUT_HIGH (256 * 1024)
#define OUT_LOW (64 * 1024)
/* Socket output queued before nghttp2 is asked for more. */
#define SOCK_HIGH (64 * 1024)
#define STREAM_WINDOW (256 * 1024)
#define MAX_STREAMS 250
/* Body bytes the host may have in flight over all streams: every stream's
 * whole window, so streams whose apiserver stopped taking their body (a
 * stalled port-forward or exec stdin) hold only their own window and never
 * the connection's (HTTP/2's default of 64 KiB, which one such stream
 * filled, stopping every upload and upgrade on the tunnel). What a stream
 * holds stays bounded by its own window. */
#define CONN_WINDOW (MAX_STREAMS * STREAM_WINDOW)
#define MAX_HEADERS 100
#define MAX_HEADER_BYTES (64 * 1024)

enum kind { K_HELLO, K_VERDICT, K_PROXY, K_LOCAL };

struct sstream {
    struct agent_session *s;
    int32_t id;
    enum kind kind;
    char *method, *path, *query;
    char *protocol;       /* extended CONNECT's :protocol */
    char *upgrade_method; /* its fedgate-method: the client's (tunnel.h) */
    struct fg_header *h;
    size_t n, header_bytes;
    int too_large;
    struct fg_client_stream *cs;
    struct evbuffer *out;
    int head_sent, ended, deferred;
    int client_paused; /* data() said FG_PAUSE: resume once drained */
    int want_resume;
    int body_paused;
    size_t unconsumed; /* body bytes not yet returned to the window */
    struct sstream *next;
};

struct agent_session {
    struct agent *a;
    struct bufferevent *bev;
    nghttp2_session *ng;
    struct event *flush_ev;
    struct event *ping_ev;
    unsigned silent; /* ping intervals with nothing from the host */
    struct sstream *streams;
    size_t n_streams; /* in the list; logged as each closes (debug) */
    char offered[TUNNEL_HOST_ID_LEN + 1]; /* the hello's host id */
    int joined;
    int ending;
};

static void kick(struct agent_session *s)
{
    event_active(s->flush_ev, 0, 0);
}

static void stream_free(struct sstream *st)
{
    struct sstream **p = &st->s->streams;
    while (*p != st)
        p = &(*p)->next;
    *p = st->next;
    st->s->n_streams--;
    if (st->cs)
        fg_client_stream_close(st->cs);
    for (size_t i = 0; i < st->n; i++) {
        free((char *)st->h[i].name);
        free((char *)st->h[i].value);
    }
    free(st->h);
    free(st->method);
    free(st->path);
    free(st->query);
    free(st->protocol);
    free(st->upgrade_method);
    if (st->out)
        evbuffer_free(st->out);
    free(st);
}

static ssize_t read_out(nghttp2_session *ng, int32_t id, uint8_t *buf,
                        size_t len, uint32_t *flags, nghttp2_data_source *src,
                        void *user)
{
    (void)ng;
    (void)id;
    (void)user;
    struct sstream *st = src->ptr;
    int n = evbuffer_remove(st->out, buf, len);
    if (n < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (st->client_paused && evbuffer_get_length(st->out) < OUT_LOW) {
        st->client_paused = 0;
        st->want_resume = 1; /* from the flush event, not from here */
    }
    if (evbuffer_get_length(st->out) == 0 && st->ended)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    else if (n == 0) {
        st->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    return n;
}

/* Submits a response head for ST with STATUS and H (N), the body from
 * ST->out. */
static void respond(struct sstream *st, int status, const struct fg_header *h,
                    size_t n)
{
    nghttp2_nv *nv = calloc(n + 1, sizeof(*nv));
    if (!nv) {
        nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
                                  NGHTTP2_INTERNAL_ERROR);
        return;
    }
    char code[4] = {(char)('0' + status / 100 % 10),
                    (char)('0' + status / 10 % 10), (char)('0' + status % 10),
                    0};
    nv[0] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)code, 7, 3,
                         NGHTTP2_NV_FLAG_NONE};
    size_t k = 1;
    for (size_t i = 0; i < n; i++) {
        if (fg_header_is_hop_by_hop(h[i].name, h[i].name_len))
            continue;
        nv[k++] =
            (nghttp2_nv){(uint8_t *)h[i].name, (uint8_t *)h[i].value,
                         h[i].name_len, h[i].value_len, NGHTTP2_NV_FLAG_NONE};
    }
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_out};
    st->head_sent = 1;
    if (nghttp2_submit_response(st->s->ng, st->id, nv, k, &prd) != 0)
        nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
                                  NGHTTP2_INTERNAL_ERROR);
    free(nv);
    kick(st->s);
}

/* A complete answer of the agent's own: STATUS, headers H, BODY. */
static void answer(struct sstream *st, int status, const struct fg_header *h,
                   size_t n, const char *body, size_t len)
{
    evbuffer_add(st->out, body, len);
    st->ended = 1;
    respond(st, status, h, n);
}

static void answer_status(struct sstream *st, int code, const char *message)
{
    struct fg_status status = {.code = code, .message = message};
    size_t len = 0;
    char *body = fg_status_build(&status, &len);
    static const struct fg_header ct = {"content-type", 12, "application/json",
                                        16};
    answer(st, code, &ct, 1, body ? body : "", body ? len : 0);
    free(body);
}

/* ---- answers from the kube-apiserver ---------------------------------- */

static int c_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    struct sstream *st = ctx;
    /* the apiserver switched protocols: the CONNECT tunnel is up */
    respond(st, st->protocol && status == 101 ? 200 : status, h, n);
    return 0;
}

static void wake(struct sstream *st)
{
    if (st->deferred) {
        st->deferred = 0;
        nghttp2_session_resume_data(st->s->ng, st->id);
    }
    kick(st->s);
}

static int c_data(void *ctx, const void *buf, size_t len)
{
    struct sstream *st = ctx;
    if (evbuffer_add(st->out, buf, len) != 0)
        return -1;
    wake(st);
    if (evbuffer_get_length(st->out) < OUT_HIGH)
        return 0;
    st->client_paused = 1;
    return FG_PAUSE;
}

static void c_end(void *ctx)
{
    struct sstream *st = ctx;
    st->ended = 1;
    wake(st);
}

static void c_error(void *ctx, int code, const char *reason,
                    const char *message)
{
    (void)reason;
    struct sstream *st = ctx;
    if (!st->head_sent) {
        answer_status(st, code, message ? message : "the request failed");
        return;
    }
    nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
                              NGHTTP2_INTERNAL_ERROR);
    kick(st->s);
}

static void consume(struct sstream *st)
{
    if (st->unconsumed && !st->body_paused) {
        nghttp2_session_consume(st->s->ng, st->id, st->unconsumed);
        st->unconsumed = 0;
        kick(st->s);
    }
}

static void c_body_pause(void *ctx)
{
    struct sstream *st = ctx;
    st->body_paused = 1;
}

static void c_body_resume(void *ctx)
{
    struct sstream *st = ctx;
    st->body_paused = 0;
    consume(st);
}

static const struct fg_stream_callbacks api_cb = {
    .head = c_head,
    .data = c_data,
    .end = c_end,
    .error = c_error,
    .body_pause = c_body_pause,
    .body_resume = c_body_resume,
};

/* ---- requests from the host -------------------------------------------- */

static struct fg_header header(const char *name, const char *value)
{
    return (struct fg_header){name, strlen(name), value, strlen(value)};
}

static void hello(struct sstream *st)
{
    struct agent *a = st->s->a;
    struct tunnel_hello v;
    char err[128];
    if (tunnel_hello_read(st->h, st->n, &v, err, sizeof(err)) != 0 ||
        !v.host_id[0]) {
        fg_warn("tunnel: the host's hello is not valid: %s",
                v.host_id[0] ? err : "no host id");
        answer_status(st, 400, "the hello carries no valid host id");
        return;
    }
    if (a->bound[0] && strcmp(a->bound, v.host_id) != 0) {
        char why[TUNNEL_REASON_MAX + 1];
        snprintf(why, sizeof(why),
                 "this agent is bound to host %s, not %s; run fedgate-agent "
                 "--forget-host to join another host",
                 a->bound, v.host_id);
        fg_error_log("tunnel refused: %s", why);
        struct fg_header h = header(TUNNEL_H_REASON, why);
        answer(st, 409, &h, 1, "", 0);
        return;
    }
    memcpy(st->s->offered, v.host_id, sizeof(st->s->offered));
    /* with a client certificate (no token), its CN proves the name */
    const struct fg_header h[] = {
        header(TUNNEL_H_MEMBER, a->name),
        header(TUNNEL_H_TOKEN, a->token ? a->token : "")};
    answer(st, 200, h, a->token ? 2 : 1, "", 0);
}

static void verdict(struct sstream *st)
{
    struct agent_session *s = st->s;
    struct tunnel_hello v;
    char err[128];
    if (tunnel_hello_read(st->h, st->n, &v, err, sizeof(err)) != 0 ||
        !v.verdict[0]) {
        answer_status(st, 400, "the verdict is not valid");
        return;
    }
    if (strcmp(v.verdict, "joined") != 0) {
        fg_error_log("tunnel refused by the host: %s",
                     v.reason[0] ? v.reason : "no reason given");
        answer(st, 200, NULL, 0, "", 0);
        return;
    }
    if (!s->offered[0] || agent_joined(s->a, s->offered) != 0) {
        answer_status(st, 500, "the agent cannot record the host id");
        s->ending = 1;
        return;
    }
    s->joined = 1;
    answer(st, 200, NULL, 0, "", 0);
}

/* The host's request to pass on: the pseudo-headers are the request line,
 * Impersonate-* become the agent's own extra headers (the client drops
 * identity headers from the head), and the host's Authorization, were it
 * ever sent, goes nowhere: the agent's own credential replaces it. */
static void forward(struct sstream *st)
{
    struct agent *a = st->s->a;
    size_t n_extra = 0;
    struct fg_header *extra = calloc(st->n + 1, sizeof(*extra));
    if (!extra) {
        answer_status(st, 503, "the agent is out of memory");
        return;
    }
    const char *auth = agent_api_auth(a); /* NULL: a client certificate */
    if (auth)
        extra[n_extra++] = header("authorization", auth);
    int64_t length = -1;
    for (size_t i = 0; i < st->n; i++) {
        const struct fg_header *h = &st->h[i];
        if (fg_header_name_folds_to(h->name, h->name_len, "impersonate-", 1))
            extra[n_extra++] = *h;
        else if (fg_header_name_folds_to(h->name, h->name_len, "content-length",
                                         0))
            length = strtoll(h->value, NULL, 10);
    }
    struct fg_request_head head = {
        .method = st->method,
        .path = st->path,
        .query = st->query,
        .headers = st->h,
        .n_headers = st->n,
        .content_length = length,
        .http_version = 20,
        .base_path = "",
    };
    if (st->protocol) {
        /* the HTTP/1.1 upgrade the host's caller asked for, with its
         * method (a host without fedgate-method only ever sent GET's) */
        head.method = st->upgrade_method ? st->upgrade_method : "GET";
        head.upgrade = st->protocol;
    }
    st->cs = fg_client_stream_open(a->api, &head, extra, n_extra, &api_cb, st);
    free(extra);
    if (!st->cs)
        answer_status(st, 503, "the agent is out of memory");
}

/* Whether ST is a request the agent can pass on: an upgrade only as
 * extended CONNECT for websocket or SPDY/3.1, with GET or POST as its
 * method, and no CONNECT else (where a fedgate-method is dropped). */
static int upgrade_ok(const struct sstream *st)
{
    int connect = strcmp(st->method, "CONNECT") == 0;
    if (!st->protocol)
        return !connect;
    const char *m = st->upgrade_method;
    return connect &&
           (strcasecmp(st->protocol, "websocket") == 0 ||
            strcasecmp(st->protocol, "SPDY/3.1") == 0) &&
           (!m || strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0);
}

static void dispatch(struct sstream *st, int end_stream)
{
    struct agent_session *s = st->s;
    if (!st->method || !st->path || st->too_large || !upgrade_ok(st)) {
        answer_status(st, 400, "the request head is not valid");
        st->kind = K_LOCAL;
    } else if (!s->joined && strcmp(st->path, TUNNEL_HELLO_PATH) == 0) {
        st->kind = K_HELLO;
        hello(st);
    } else if (!s->joined && strcmp(st->path, TUNNEL_VERDICT_PATH) == 0) {
        st->kind = K_VERDICT;
        verdict(st);
    } else if (!s->joined) {
        st->kind = K_LOCAL;
        answer_status(st, 403, "the tunnel has not joined");
    } else {
        st->kind = K_PROXY;
        forward(st);
    }
    if (end_stream && st->cs)
        fg_client_stream_end_body(st->cs);
}

/* ---- nghttp2's callbacks ------------------------------------------------ */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f,
                            void *user)
{
    struct agent_session *s = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct sstream *st = calloc(1, sizeof(*st));
    if (!st || !(st->out = evbuffer_new()) ||
        !(st->h = calloc(MAX_HEADERS, sizeof(*st->h)))) {
        if (st && st->out)
            evbuffer_free(st->out);
        free(st);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    st->s = s;
    st->id = f->hd.stream_id;
    st->next = s->streams;
    s->streams = st;
    s->n_streams++;
    nghttp2_session_set_stream_user_data(ng, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f,
                     const uint8_t *name, size_t nlen, const uint8_t *value,
                     size_t vlen, uint8_t flags, void *user)
{
    (void)flags;
    (void)user;
    struct sstream *st =
        nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (!st || f->hd.type != NGHTTP2_HEADERS)
        return 0;
    st->header_bytes += nlen + vlen;
    if (st->header_bytes > MAX_HEADER_BYTES) {
        st->too_large = 1;
        return 0;
    }
    const char *n = (const char *)name, *v = (const char *)value;
    char **slot = NULL;
    if (nlen == 7 && memcmp(n, ":method", 7) == 0)
        slot = &st->method;
    else if (nlen == 5 && memcmp(n, ":path", 5) == 0)
        slot = &st->path;
    else if (nlen == 9 && memcmp(n, ":protocol", 9) == 0)
        slot = &st->protocol;
    else if (nlen == sizeof(TUNNEL_H_METHOD) - 1 &&
             memcmp(n, TUNNEL_H_METHOD, nlen) == 0)
        slot = &st->upgrade_method; /* the tunnel's, never the apiserver's */
    if (slot) {
        if (*slot)
            st->too_large = 1;
        else if (!(*slot = strndup(v, vlen)))
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        if (slot == &st->path) {
            char *q = strchr(st->path, '?');
            if (q) {
                *q = 0;
                if (!(st->query = strdup(q + 1)))
                    return NGHTTP2_ERR_CALLBACK_FAILURE;
            }
        }
        return 0;
    }
    if (nlen && n[0] == ':')
        return 0; /* :scheme, :authority: the apiserver's are the client's */
    if (st->n == MAX_HEADERS) {
        st->too_large = 1;
        return 0;
    }
    char *cn = strndup(n, nlen), *cv = strndup(v, vlen);
    if (!cn || !cv) {
        free(cn);
        free(cv);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    st->h[st->n++] = (struct fg_header){cn, nlen, cv, vlen};
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f,
                         void *user)
{
    (void)user;
    struct sstream *st =
        nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (!st)
        return 0;
    int end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
        dispatch(st, end);
    else if (f->hd.type == NGHTTP2_DATA && end && st->cs)
        fg_client_stream_end_body(st->cs);
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id,
                         const uint8_t *data, size_t len, void *user)
{
    (void)flags;
    (void)user;
    struct sstream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st || !st->cs) {
        nghttp2_session_consume(ng, id, len); /* not for anyone: drop it */
        return 0;
    }
    st->unconsumed += len;
    if (fg_client_stream_write(st->cs, data, len) != 0)
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    consume(st);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code,
                           void *user)
{
    (void)code;
    struct agent_session *s = user;
    struct sstream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (st) {
        stream_free(st);
        fg_debug("tunnel: stream %d closed (%zu open)", (int)id, s->n_streams);
    }
    return 0;
}

/* ---- the connection ----------------------------------------------------- */

static void end_session(struct agent_session *s)
{
    struct agent *a = s->a;
    agent_session_free(s);
    agent_session_lost(a);
}

static void flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct agent_session *s = arg;
    for (struct sstream *st = s->streams; st; st = st->next)
        if (st->want_resume && st->cs) {
            st->want_resume = 0;
            fg_client_stream_resume(st->cs);
        }
    struct evbuffer *out = bufferevent_get_output(s->bev);
    while (evbuffer_get_length(out) < SOCK_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(s->ng, &data);
        if (n < 0) {
            end_session(s);
            return;
        }
        if (n == 0)
            break;
        evbuffer_add(out, data, (size_t)n);
    }
    if (evbuffer_get_length(out) == 0 &&
        (s->ending || (!nghttp2_session_want_read(s->ng) &&
                       !nghttp2_session_want_write(s->ng))))
        end_session(s);
}

static void ping(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct agent_session *s = arg;
    if (++s->silent >= 3) {
        fg_warn("tunnel: nothing from the host for 3 ping intervals (%u ms "
                "each): the tunnel is dead",
                s->a->ping_ms);
        end_session(s);
        return;
    }
    nghttp2_submit_ping(s->ng, NGHTTP2_FLAG_NONE, NULL);
    kick(s);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct agent_session *s = arg;
    s->silent = 0;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    const uint8_t *data = evbuffer_pullup(in, (ssize_t)len);
    ssize_t n = nghttp2_session_mem_recv(s->ng, data, len);
    if (n < 0) {
        fg_warn("tunnel: the host broke HTTP/2: %s", nghttp2_strerror((int)n));
        end_session(s);
        return;
    }
    evbuffer_drain(in, (size_t)n);
    kick(s);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    kick(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct agent_session *s = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        fg_warn("tunnel: the connection to the host closed");
        end_session(s);
    }
}

struct agent_session *agent_session_new(struct agent *a,
                                        struct bufferevent *bev)
{
    struct agent_session *s = calloc(1, sizeof(*s));
    nghttp2_session_callbacks *cbs = NULL;
    nghttp2_option *opt = NULL;
    if (!s || nghttp2_session_callbacks_new(&cbs) != 0 ||
        nghttp2_option_new(&opt) != 0) {
        free(s);
        nghttp2_session_callbacks_del(cbs);
        return NULL;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs,
                                                            on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
                                                              on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
                                                           on_stream_close);
    /* the window reopens only as the apiserver takes the body */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    int rc = nghttp2_session_server_new2(&s->ng, cbs, s, opt);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    s->a = a;
    s->bev = bev;
    s->flush_ev = event_new(a->base, -1, 0, flush, s);
    s->ping_ev = event_new(a->base, -1, EV_PERSIST, ping, s);
    struct timeval every = {(time_t)(a->ping_ms / 1000),
                            (suseconds_t)(a->ping_ms % 1000) * 1000};
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
        {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
    };
    if (rc != 0 || !s->flush_ev || !s->ping_ev ||
        event_add(s->ping_ev, &every) != 0 ||
        nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, settings, 3) != 0 ||
        nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0,
                                              CONN_WINDOW) != 0) {
        if (rc == 0)
            nghttp2_session_del(s->ng);
        if (s->flush_ev)
            event_free(s->flush_ev);
        if (s->ping_ev)
            event_free(s->ping_ev);
        free(s);
        return NULL;
    }
    bufferevent_setcb(bev, on_read, on_write, on_event, s);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    /* The host speaks first (preface, SETTINGS, the hello) as soon as its
     * side of TLS is done: those bytes may have been read while the
     * connected callback waited its turn, and no read event comes for
     * them again; the hello would wait for the next byte from the host. */
    size_t early = evbuffer_get_length(bufferevent_get_input(bev));
    if (early > 0) {
        fg_debug("tunnel: %zu bytes from the host came before the session",
                 early);
        bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
    }
    kick(s);
    return s;
}

void agent_session_free(struct agent_session *s)
{
    if (!s)
        return;
    while (s->streams)
        stream_free(s->streams);
    nghttp2_session_del(s->ng);
    event_free(s->flush_ev);
    event_free(s->ping_ev);
    bufferevent_free(s->bev);
    free(s);
}
