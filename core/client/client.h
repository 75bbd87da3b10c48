/* The core's HTTP client, lent to plugins through fg_host (host.h): it
 * calls one server over TLS, HTTP/2 when offered (multiplexed
 * connections, a few more when one is at the server's stream limit,
 * streams beyond all limits queued), HTTP/1.1 otherwise and
 * always for upgrades; or it runs the HTTP/2 client role over one
 * connection that a plugin's listener accepted (listen.c). One client per
 * caller per loop; everything runs on that loop. */
#ifndef FG_CLIENT_H
#define FG_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <fedgate/fedgate.h>

struct bufferevent;
struct evbuffer;
struct event_base;
struct evdns_base;
struct ssl_ctx_st;
struct ssl_st;

/* Request body bytes buffered per stream before the client is paused. */
#define FG_CLIENT_BODY_HIGH (256 * 1024)
#define FG_CLIENT_BODY_LOW (64 * 1024)
/* Largest response head accepted from a server. */
#define FG_CLIENT_MAX_RESPONSE_HEAD (64 * 1024)
#define FG_CLIENT_MAX_RESPONSE_HEADERS 256
/* Seconds a caller is told to wait after a 503. */
#define FG_CLIENT_RETRY_AFTER "1"

/* ---- configuration (url.c, client.c) ----------------------------------- */

/* A parsed `https://HOST[:PORT][/]` value. */
struct fg_client_url {
    char host[256];      /* without brackets */
    char authority[300]; /* Host / :authority: host[:port], v6 bracketed */
    uint16_t port;
    int is_ip;
    struct sockaddr_storage addr; /* when is_ip */
    socklen_t addr_len;
};

/* Parses URL; 0, or -1 with a one-line reason in ERR. */
int fg_client_url_parse(const char *url, struct fg_client_url *out, char *err,
                        size_t err_len);

/* fg_client_config copied, defaults applied. */
struct fg_client_cfg {
    char name[128]; /* named in error messages */
    struct fg_client_url url;
    char *ca_file, *cert_file, *key_file, *server_name;
    int insecure, http2;
    uint64_t connect_timeout_ms, request_timeout_ms, idle_timeout_ms;
    uint64_t connection_idle_timeout_ms;
    int max_streams;
    int max_connections; /* HTTP/2 connections when each is full */
};

/* ---- TLS (tls.c) ------------------------------------------------------- */

/* A client context verifying against CFG's CA, with CFG's client
 * certificate, shared with every client whose files hold the same bytes;
 * NULL with ERR. Give it back with fg_client_tls_ctx_put. */
struct ssl_ctx_st *fg_client_tls_ctx_get(const struct fg_client_cfg *cfg,
                                         char *err, size_t err_len);
void fg_client_tls_ctx_put(struct ssl_ctx_st *ctx);
/* A new client SSL for one connection: SNI, name check, ALPN (h2 offered
 * only when ALLOW_H2). NULL when out of memory. */
struct ssl_st *fg_client_tls_ssl_new(struct ssl_ctx_st *ctx,
                                     const struct fg_client_cfg *cfg,
                                     int allow_h2);

/* ---- connecting (connect.c) -------------------------------------------- */

struct fg_client_connect;

/* Connected and verified: BEV is now the receiver's (callbacks unset),
 * IS_H2 says what ALPN chose. */
typedef void (*fg_client_connected_fn)(void *arg, struct bufferevent *bev,
                                       int is_h2);
/* Failed: REASON is one line; TIMEOUT when connect_timeout passed. */
typedef void (*fg_client_connect_failed_fn)(void *arg, const char *reason,
                                            int timeout);

/* Resolves (evdns; IP literals skip it), connects and handshakes within
 * connect_timeout. Exactly one of the callbacks runs later, never from
 * inside this call, unless fg_client_connect_cancel comes first. NULL when
 * out of memory. */
struct fg_client_connect *
fg_client_connect_start(struct fg_client *in, int allow_h2,
                        fg_client_connected_fn ok,
                        fg_client_connect_failed_fn fail, void *arg);
void fg_client_connect_cancel(struct fg_client_connect *c);

/* ---- request headers (headers.c) --------------------------------------- */

/* The header block sent to the server, names lower-case; the headers'
 * text lives in V's own allocation, after the array. */
struct fg_client_headers {
    struct fg_header *v;
    size_t n;
};

/* Whether a caller's header NAME must never reach the server, whatever the
 * core did before: identity, hop-by-hop and framing headers. */
int fg_client_header_forbidden(const char *name, size_t len);

/* Builds the server's header block: HEAD's headers but the forbidden ones,
 * then EXTRA (the caller's credentials, impersonation) as they are.
 * Returns 0, or -1 with a reason in ERR when a name or value cannot be
 * sent (400). */
int fg_client_headers_build(const struct fg_request_head *head,
                            const struct fg_header *extra, size_t n_extra,
                            struct fg_client_headers *out, char *err,
                            size_t err_len);
void fg_client_headers_free(struct fg_client_headers *h);

/* Whether V[0..N) can be sent as a header value: no CR, LF or NUL. */
int fg_client_value_ok(const char *v, size_t n);

/* Appends an HTTP/1.1 request head to OUT. BODY_MODE: 0 none, 1
 * content-length LENGTH, 2 chunked. UPGRADE: protocol or NULL. */
int fg_client_h1_head_write(struct evbuffer *out, const char *method,
                            const char *target, const char *authority,
                            const struct fg_client_headers *h, int body_mode,
                            int64_t length, const char *upgrade);

/* ---- response parsing (response.c) ------------------------------------- */

struct fg_client_response;

struct fg_client_response_callbacks {
    /* The head: status, headers (lower-case names). Returns 0 or -1. */
    int (*head)(void *arg, int status, const struct fg_header *h, size_t n);
    /* Body bytes. Returns 0, FG_PAUSE to stop parsing, or -1. */
    int (*body)(void *arg, const char *buf, size_t len);
    /* The message is complete; KEEP_ALIVE says if the connection may be
     * reused. */
    void (*complete)(void *arg, int keep_alive);
};

enum fg_client_parse_result {
    FG_CLIENT_PARSE_MORE = 0,   /* consumed what it could, wants more */
    FG_CLIENT_PARSE_PAUSED = 1, /* body() asked to stop */
    FG_CLIENT_PARSE_DONE = 2,   /* message complete (or 101: the rest is raw) */
    FG_CLIENT_PARSE_ERROR = -1,
};

/* NO_BODY: a HEAD request (the response has no body whatever it says). */
struct fg_client_response *
fg_client_response_new(const struct fg_client_response_callbacks *cb, void *arg,
                       int no_body);
void fg_client_response_free(struct fg_client_response *r);
/* Feeds BUF; *USED is set to the bytes consumed. */
enum fg_client_parse_result
fg_client_response_feed(struct fg_client_response *r, const char *buf,
                        size_t len, size_t *used);
/* The connection ended: completes a close-delimited body, else error. */
enum fg_client_parse_result
fg_client_response_eof(struct fg_client_response *r);
/* Whether the complete answer was a 101 (the rest is the new protocol). */
int fg_client_response_status_101(const struct fg_client_response *r);
/* Why the last feed failed. */
const char *fg_client_response_error(const struct fg_client_response *r);

/* ---- the client, its streams (client.c, stream.c) ---------------------- */

enum fg_client_proto {
    FG_CLIENT_PROTO_UNKNOWN,
    FG_CLIENT_PROTO_H1,
    FG_CLIENT_PROTO_H2
};

struct fg_client_h1;
struct fg_client_h2;
struct fg_client_loop;
struct fg_client_h2_handle;
struct fg_tls_conn;

TAILQ_HEAD(fg_client_stream_queue, fg_client_stream);
LIST_HEAD(fg_client_h1_list, fg_client_h1);
TAILQ_HEAD(fg_client_h2_list, fg_client_h2);

struct fg_client {
    const struct fg_host *host;
    struct event_base *base;
    struct evdns_base *dns; /* made on first use */
    struct fg_client_cfg cfg;
    struct ssl_ctx_st *ctx; /* replaced by reload; connections keep theirs */
    enum fg_client_proto proto;
    struct fg_client_stream_queue pending; /* waiting for a connection */
    size_t n_pending_upgrades;             /* of them, upgrades */
    struct fg_client_h2_list h2;           /* multiplexed connections */
    size_t n_h2;
    uint64_t h2_dial_failed_ms;  /* an extra connection failed then */
    struct fg_client_h1_list h1; /* HTTP/1.1 connections */
    size_t n_h1;
    int adopted;                 /* over an accepted connection: never dials */
    struct fg_client_loop *loop; /* dialling: its loop's connection count */
    uint64_t connections;        /* connections made so far */
    int freeing;
};

enum fg_client_stream_state {
    FG_CLIENT_ST_PENDING, /* queued for a connection */
    FG_CLIENT_ST_ACTIVE,  /* bound to a connection */
    FG_CLIENT_ST_DONE,    /* end or error delivered */
};

struct fg_client_stream {
    struct fg_client *in;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    enum fg_client_stream_state state;
    int queued; /* in in->pending */
    TAILQ_ENTRY(fg_client_stream) link;

    /* the request */
    char *method; /* both in TEXT */
    char *target; /* path[?query] */
    struct fg_client_headers headers;
    int64_t content_length;
    const char *upgrade; /* static "websocket" / "SPDY/3.1" */
    int is_head;
    int long_lived; /* watch, follow, upgrade: idle limit, no deadline */
    struct evbuffer *body;
    uint64_t body_bytes; /* request body bytes seen */
    int body_ended;
    int body_paused; /* told the caller to stop */

    /* the answer */
    int head_sent;
    int client_paused; /* data() said FG_PAUSE */
    int piping;        /* upgraded: a raw byte pipe */
    struct fg_timer *timer;

    /* the connection serving it */
    struct fg_client_h1 *h1;
    struct fg_client_h2 *h2;
    struct fg_client_h2_handle *h2_handle;
    int32_t h2_id;
    struct fg_buf rh; /* h2 response headers: name\0value\0 ... */
    size_t rh_n;
    int rh_status;
    struct evbuffer *held; /* h2 DATA received while the caller is full */
    int h2_closed;         /* h2 stream closed, end pending on HELD */
    int peer_ended;        /* h2: the peer ended the pipe; our side ends */
    uint32_t h2_error;

    char text[]; /* method\0target\0, sized at open */
};

/* Serves the pending queue. */
void fg_client_dispatch(struct fg_client *in);
/* Puts a stream back in the pending queue. */
void fg_client_stream_enqueue(struct fg_client_stream *st);

/* The answers, each a no-op once the stream is DONE. */
int fg_client_stream_head(struct fg_client_stream *st, int status,
                          const struct fg_header *h, size_t n);
int fg_client_stream_data(struct fg_client_stream *st, const void *buf,
                          size_t len);
void fg_client_stream_end(struct fg_client_stream *st);
/* Fails the stream: before head a Status (503 with retry-after, others
 * through cb->error); after head the caller's stream is reset. */
void fg_client_stream_fail(struct fg_client_stream *st, int code,
                           const char *reason, const char *message);
/* 503 ServiceUnavailable "the member cluster NAME is unavailable: WHY". */
void fg_client_stream_unavailable(struct fg_client_stream *st, const char *why);
/* The server's answer started / bytes moved: restarts the idle limit. */
void fg_client_stream_touch(struct fg_client_stream *st);
/* Request body was drained below the low mark: the caller may go on. */
void fg_client_stream_body_drained(struct fg_client_stream *st);

/* A connection of IN was made / closed: counts it (client_state) and, for
 * dialled ones, the loop's open connections, so that many closing
 * together give their memory back. */
void fg_client_conn_opened(struct fg_client *in);
void fg_client_conn_closed(struct fg_client *in);

/* Fails every queued stream but upgrades: the connection they waited for
 * could not be made. */
void fg_client_fail_pending(struct fg_client *in, const char *why);

/* The lent client (client.c) and its streams (stream.c): see host.h. */
struct fg_client *fg_client_new(const struct fg_host *h,
                                const struct fg_client_config *cfg, char *err,
                                size_t err_len);
struct fg_client *fg_client_adopt(const struct fg_host *h,
                                  struct fg_tls_conn *conn,
                                  const struct fg_client_config *cfg, char *err,
                                  size_t err_len);
int fg_client_reload(struct fg_client *c, char *err, size_t err_len);
void fg_client_free(struct fg_client *c);
void fg_client_state(const struct fg_client *c, struct fg_client_state *out);
int fg_client_ping(struct fg_client *c, uint64_t deadline_ms);
void fg_client_close_idle(struct fg_client *c);
struct fg_client_stream *
fg_client_stream_open(struct fg_client *c, const struct fg_request_head *head,
                      const struct fg_header *extra, size_t n_extra,
                      const struct fg_stream_callbacks *cb, void *ctx);
int fg_client_stream_write(struct fg_client_stream *st, const void *buf,
                           size_t len);
void fg_client_stream_end_body(struct fg_client_stream *st);
void fg_client_stream_resume(struct fg_client_stream *st);
void fg_client_stream_close(struct fg_client_stream *st);

/* ---- HTTP/1.1 (h1.c) --------------------------------------------------- */

/* Serves ST on an idle connection, or a new one. Returns 0, or 1 when
 * none can be had now (the pool is full): ST stays pending; -1 when out of
 * memory. */
int fg_client_h1_serve(struct fg_client *in, struct fg_client_stream *st);
/* Takes a connected BEV whose ALPN chose HTTP/1.1 as an idle connection. */
void fg_client_h1_adopt(struct fg_client *in, struct bufferevent *bev);
/* Stream-side events. */
void fg_client_h1_body(struct fg_client_h1 *c);   /* more body / body ended */
void fg_client_h1_resume(struct fg_client_h1 *c); /* the caller has room */
void fg_client_h1_cancel(struct fg_client_h1 *c); /* the caller went away */
void fg_client_h1_free_all(struct fg_client *in);
/* Closes the pooled connections that serve no stream. */
void fg_client_h1_close_idle(struct fg_client *in);
/* Whether any connection is up. */
int fg_client_h1_connected(const struct fg_client *in);

/* ---- upgrades (upgrade.c) ---------------------------------------------- */

/* After the server's 101: pipes BEV's input to the caller. */
void fg_client_upgrade_pump(struct fg_client_stream *st,
                            struct bufferevent *bev);
/* Caller bytes after the 101 go to the server as they are. */
int fg_client_upgrade_write(struct fg_client_stream *st, const void *buf,
                            size_t len);
/* The server's side drained: the caller may send again. */
void fg_client_upgrade_drained(struct fg_client_stream *st,
                               struct bufferevent *bev);
/* The connection of ST's pipe (h1.c). */
struct bufferevent *fg_client_h1_bev(struct fg_client_h1 *c);

/* ---- HTTP/2 (h2.c) ----------------------------------------------------- */

/* A session that takes one more stream now, or NULL: *RC is 1 when the
 * stream is to wait (a connection is being dialled, or every one is at
 * its limit and no other may be opened), -1 when out of memory, 2 when an
 * adopted client's connection is gone. Dials a first connection, and
 * another (up to max_connections) when each is at the peer's
 * MAX_CONCURRENT_STREAMS while fewer than max_streams streams run. */
struct fg_client_h2 *fg_client_h2_pick(struct fg_client *in, int *rc);
/* Runs the session over an accepted connection (client_adopt). */
int fg_client_h2_start_adopted(struct fg_client *in, struct fg_tls_conn *conn,
                               struct bufferevent *bev);
/* Whether a connection is up. */
int fg_client_h2_connected(const struct fg_client *in);
/* Submits ST; 0 or -1 (ST was failed). */
int fg_client_h2_submit(struct fg_client_h2 *s, struct fg_client_stream *st);
void fg_client_h2_body(struct fg_client_stream *st);
void fg_client_h2_resume(struct fg_client_stream *st);
void fg_client_h2_cancel(struct fg_client_stream *st);
/* Frees every session that takes streams. */
void fg_client_h2_free_all(struct fg_client *in);
/* Closes the dialled sessions that carry no stream. */
void fg_client_h2_close_idle(struct fg_client *in);
/* Sends a PING on the oldest session (the one an adopted client has, the
 * one a dialling client keeps longest); it is lost unless one is answered
 * within DEADLINE_MS (0: no deadline). 1 when every earlier PING was
 * answered, 0 when one still waits, -1 when no session can take it. */
int fg_client_h2_ping(struct fg_client *in, uint64_t deadline_ms);

/* ---- accepted connections (listen.c) ----------------------------------- */

/* Takes the connection's bufferevent (callbacks unset) for a session;
 * fg_tls_conn_close (listen.h) ends CONN once the session is over. */
struct bufferevent *fg_tls_conn_take(struct fg_tls_conn *conn);
/* The peer's address, "ADDR:PORT". */
const char *fg_tls_conn_peer(const struct fg_tls_conn *conn);

#endif
