/* The direct driver's internal interface: the host calls a member's
 * kube-apiserver itself over TLS, HTTP/2 when offered, HTTP/1.1 otherwise
 * and always for upgrades. One instance per member per worker loop. */
#ifndef FG_DIRECT_H
#define FG_DIRECT_H

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
#define DIRECT_BODY_HIGH (256 * 1024)
#define DIRECT_BODY_LOW (64 * 1024)
/* Largest response head accepted from a member. */
#define DIRECT_MAX_RESPONSE_HEAD (64 * 1024)
#define DIRECT_MAX_RESPONSE_HEADERS 256
/* Seconds a client is told to wait after a 503. */
#define DIRECT_RETRY_AFTER "1"
/* Health probe period. */
#define DIRECT_PROBE_MS 10000
/* Largest OpenAPI v3 index rewritten (openapi.c); larger ones pass as is. */
#define DIRECT_OPENAPI_MAX_BODY (1024 * 1024)

/* ---- configuration (config.c) ------------------------------------------ */

/* A parsed `server = https://HOST[:PORT][/]` value. */
struct direct_url {
    char host[256];      /* without brackets */
    char authority[300]; /* Host / :authority: host[:port], v6 bracketed */
    uint16_t port;
    int is_ip;
    struct sockaddr_storage addr; /* when is_ip */
    socklen_t addr_len;
};

/* Parses URL; 0, or -1 with a one-line reason in ERR. */
int direct_url_parse(const char *url, struct direct_url *out, char *err,
                     size_t err_len);

struct direct_config {
    char name[128]; /* member name */
    struct direct_url url;
    char *ca_file, *token_file, *cert_file, *key_file, *server_name;
    int insecure, impersonate, http2;
    uint64_t connect_timeout_ms, request_timeout_ms, idle_timeout_ms;
    int max_streams;
};

/* Reads the member section S into CFG; 0 or -1 with ERR. */
int direct_config_load(struct direct_config *cfg, const struct fg_section *s,
                       char *err, size_t err_len);
void direct_config_free(struct direct_config *cfg);

/* Reads a whole small file; the content is trimmed of surrounding white
 * space. Returns malloc'd text, or NULL with ERR naming the file. */
char *direct_read_token(const char *path, char *err, size_t err_len);

/* What SIGHUP may replace: the bearer token and the TLS context (CA,
 * client certificate). Live connections keep the context they were made
 * with (OpenSSL reference-counts it). */
struct direct_creds {
    char *token; /* NULL when a client certificate is used */
    struct ssl_ctx_st *ctx;
};

/* Loads the credentials named by CFG; 0 or -1 with ERR. */
int direct_creds_load(const struct direct_config *cfg, struct direct_creds *out,
                      char *err, size_t err_len);
void direct_creds_free(struct direct_creds *c);

/* ---- TLS (tls.c) ------------------------------------------------------- */

/* A client context verifying against CFG's CA, with CFG's client
 * certificate; NULL with ERR. */
struct ssl_ctx_st *direct_tls_ctx_new(const struct direct_config *cfg,
                                      char *err, size_t err_len);
/* A new client SSL for one connection: SNI, name check, ALPN (h2 offered
 * only when ALLOW_H2). NULL when out of memory. */
struct ssl_st *direct_tls_ssl_new(struct ssl_ctx_st *ctx,
                                  const struct direct_config *cfg,
                                  int allow_h2);

/* ---- connecting (connect.c) -------------------------------------------- */

struct direct_instance;
struct direct_connect;

/* Connected and verified: BEV is now the receiver's (callbacks unset),
 * IS_H2 says what ALPN chose. */
typedef void (*direct_connected_fn)(void *arg, struct bufferevent *bev,
                                    int is_h2);
/* Failed: REASON is one line; TIMEOUT when connect_timeout passed. */
typedef void (*direct_connect_failed_fn)(void *arg, const char *reason,
                                         int timeout);

/* Resolves (evdns; IP literals skip it), connects and handshakes within
 * connect_timeout. Exactly one of the callbacks runs later, never from
 * inside this call, unless direct_connect_cancel comes first. NULL when
 * out of memory. */
struct direct_connect *direct_connect_start(struct direct_instance *in,
                                            int allow_h2,
                                            direct_connected_fn ok,
                                            direct_connect_failed_fn fail,
                                            void *arg);
void direct_connect_cancel(struct direct_connect *c);

/* ---- request headers (headers.c) --------------------------------------- */

/* The header block sent to the member, names lower-case. */
struct direct_headers {
    struct fg_header *v;
    size_t n;
    char *storage;
};

struct direct_header_opts {
    const char *token; /* Authorization: Bearer TOKEN when set */
    int impersonate;   /* add Impersonate-* from the identity */
};

/* Whether a client header NAME must never reach a member, whatever the
 * core did before: identity, hop-by-hop and framing headers. */
int direct_header_forbidden(const char *name, size_t len);

/* Builds the member's header block from HEAD and O. Returns 0, or -1 with
 * a reason in ERR when a name or value cannot be sent (400). */
int direct_headers_build(const struct fg_request_head *head,
                         const struct direct_header_opts *o,
                         struct direct_headers *out, char *err, size_t err_len);
void direct_headers_free(struct direct_headers *h);

/* Whether V[0..N) can be sent as a header value: no CR, LF or NUL. */
int direct_value_ok(const char *v, size_t n);

/* Appends an HTTP/1.1 request head to OUT. BODY_MODE: 0 none, 1
 * content-length LENGTH, 2 chunked. UPGRADE: protocol or NULL. */
int direct_h1_head_write(struct evbuffer *out, const char *method,
                         const char *target, const char *authority,
                         const struct direct_headers *h, int body_mode,
                         int64_t length, const char *upgrade);

/* ---- response parsing (response.c) ------------------------------------- */

struct direct_response;

struct direct_response_callbacks {
    /* The head: status, headers (lower-case names). Returns 0 or -1. */
    int (*head)(void *arg, int status, const struct fg_header *h, size_t n);
    /* Body bytes. Returns 0, FG_PAUSE to stop parsing, or -1. */
    int (*body)(void *arg, const char *buf, size_t len);
    /* The message is complete; KEEP_ALIVE says if the connection may be
     * reused. */
    void (*complete)(void *arg, int keep_alive);
};

enum direct_parse_result {
    DIRECT_PARSE_MORE = 0,   /* consumed what it could, wants more */
    DIRECT_PARSE_PAUSED = 1, /* body() asked to stop */
    DIRECT_PARSE_DONE = 2,   /* message complete (or 101: the rest is raw) */
    DIRECT_PARSE_ERROR = -1,
};

/* NO_BODY: a HEAD request (the response has no body whatever it says). */
struct direct_response *
direct_response_new(const struct direct_response_callbacks *cb, void *arg,
                    int no_body);
void direct_response_free(struct direct_response *r);
/* Feeds BUF; *USED is set to the bytes consumed. */
enum direct_parse_result direct_response_feed(struct direct_response *r,
                                              const char *buf, size_t len,
                                              size_t *used);
/* The connection ended: completes a close-delimited body, else error. */
enum direct_parse_result direct_response_eof(struct direct_response *r);
/* Whether the complete answer was a 101 (the rest is the new protocol). */
int direct_response_status_101(const struct direct_response *r);
/* Why the last feed failed. */
const char *direct_response_error(const struct direct_response *r);

/* ---- instance, streams (plugin.c, stream.c) ---------------------------- */

enum direct_proto { DIRECT_PROTO_UNKNOWN, DIRECT_PROTO_H1, DIRECT_PROTO_H2 };

struct direct_stream;
struct direct_h1;
struct direct_h2;
struct direct_h2_handle;
struct direct_health;

TAILQ_HEAD(direct_stream_queue, direct_stream);
LIST_HEAD(direct_h1_list, direct_h1);

struct direct_instance {
    const struct fg_host *host;
    struct event_base *base;
    struct evdns_base *dns; /* made on first use */
    struct direct_config cfg;
    struct direct_creds creds;
    enum direct_proto proto;
    struct direct_stream_queue pending; /* waiting for a connection */
    struct direct_h2 *h2;               /* the multiplexed connection */
    struct direct_h1_list h1;           /* HTTP/1.1 connections */
    size_t n_h1;
    struct direct_health *health;
    int freeing;
};

enum direct_stream_state {
    DIRECT_ST_PENDING, /* queued for a connection */
    DIRECT_ST_ACTIVE,  /* bound to a connection */
    DIRECT_ST_DONE,    /* end or error delivered */
};

struct direct_stream {
    struct direct_instance *in;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    enum direct_stream_state state;
    int queued; /* in in->pending */
    TAILQ_ENTRY(direct_stream) link;

    /* the request */
    char *method;
    char *target; /* path[?query] */
    struct direct_headers headers;
    int64_t content_length;
    const char *upgrade; /* static "websocket" / "SPDY/3.1" */
    int is_head;
    int long_lived; /* watch, follow, upgrade: idle limit, no deadline */
    struct evbuffer *body;
    uint64_t body_bytes; /* request body bytes seen */
    int body_ended;
    int body_paused; /* told the client to stop */

    /* the answer */
    int head_sent;
    int client_paused;  /* data() said FG_PAUSE */
    int delivering;     /* inside a callback (re-entry guard) */
    int resumed_inside; /* stream_resume came from inside data() */
    int piping;         /* upgraded: a raw byte pipe */
    struct fg_timer *timer;

    /* the connection serving it */
    struct direct_h1 *h1;
    struct direct_h2 *h2;
    struct direct_h2_handle *h2_handle;
    int32_t h2_id;
    struct evbuffer *rh; /* h2 response headers: name\0value\0 ... */
    size_t rh_n;
    int rh_status;
    struct evbuffer *held; /* h2 DATA received while the client is full */
    int h2_closed;         /* h2 stream closed, end pending on HELD */
    uint32_t h2_error;

    /* the OpenAPI v3 index being collected for its rewrite (openapi.c) */
    char *rewrite_base;        /* base path to insert; NULL: relay as is */
    int rewriting;             /* the head is held, the body collected */
    struct fg_header *rw_head; /* the held head (one allocation) */
    size_t rw_n;
    int rw_status;
    struct evbuffer *rw_body;
};

/* Puts a stream back in the pending queue and serves the queue. */
void direct_dispatch(struct direct_instance *in);
void direct_stream_enqueue(struct direct_stream *st);

/* The answers, each a no-op once the stream is DONE. */
int direct_stream_head(struct direct_stream *st, int status,
                       const struct fg_header *h, size_t n);
int direct_stream_data(struct direct_stream *st, const void *buf, size_t len);
void direct_stream_end(struct direct_stream *st);
/* Fails the stream: before head a Status (503 with retry-after, others
 * through cb->error); after head the client's stream is reset. */
void direct_stream_fail(struct direct_stream *st, int code, const char *reason,
                        const char *message);
/* 503 ServiceUnavailable "the member cluster NAME is unavailable: WHY". */
void direct_stream_unavailable(struct direct_stream *st, const char *why);
/* The member's answer started / bytes moved: restarts the idle limit. */
void direct_stream_touch(struct direct_stream *st);
/* Request body was drained below the low mark: the client may go on. */
void direct_stream_body_drained(struct direct_stream *st);

/* Builds the Status JSON document; malloc'd, *LEN set. */
char *direct_status_json(int code, const char *reason, const char *message,
                         size_t *len);

/* ---- the OpenAPI v3 index (openapi.c) ---------------------------------- */

/* Whether HEAD asks for the OpenAPI v3 index under a prefix. */
int direct_openapi_wanted(const struct fg_request_head *head);
/* Whether the member's answer is one to rewrite: a 200 JSON document,
 * not compressed, not announced larger than DIRECT_OPENAPI_MAX_BODY. */
int direct_openapi_answer_ok(int status, const struct fg_header *h, size_t n);
/* Prefixes with BASE every "serverRelativeURL" value of BODY that starts
 * with "/openapi/". Returns 0 with a malloc'd, NUL-terminated *OUT, or -1
 * when BODY is not a document to edit (unterminated string, BASE not
 * plain) or memory ran out: relay BODY unchanged. */
int direct_openapi_rewrite(const char *body, size_t len, const char *base,
                           char **out, size_t *out_len);

/* ---- HTTP/1.1 upstream (h1.c) ------------------------------------------ */

/* Serves ST on an idle connection, or a new one. Returns 0, or -1 when
 * none can be had now (the pool is full): ST stays pending. */
int direct_h1_serve(struct direct_instance *in, struct direct_stream *st);
/* Takes a connected BEV whose ALPN chose HTTP/1.1 as an idle connection. */
void direct_h1_adopt(struct direct_instance *in, struct bufferevent *bev);
/* Stream-side events. */
void direct_h1_body(struct direct_h1 *c);   /* more body / body ended */
void direct_h1_resume(struct direct_h1 *c); /* the client has room */
void direct_h1_cancel(struct direct_h1 *c); /* the client went away */
void direct_h1_free_all(struct direct_instance *in);

/* ---- upgrades (upgrade.c) ---------------------------------------------- */

/* After the member's 101: pipes BEV's input to the client. */
void direct_upgrade_pump(struct direct_stream *st, struct bufferevent *bev);
/* Client bytes after the 101 go to the member as they are. */
int direct_upgrade_write(struct direct_stream *st, const void *buf, size_t len);
/* The member's side drained: the client may send again. */
void direct_upgrade_drained(struct direct_stream *st, struct bufferevent *bev);
/* The connection of ST's pipe (h1.c). */
struct bufferevent *direct_h1_bev(struct direct_h1 *c);

/* ---- HTTP/2 upstream (h2.c) -------------------------------------------- */

/* The instance's session, connecting when needed. NULL when out of
 * memory. */
struct direct_h2 *direct_h2_get(struct direct_instance *in);
/* Whether the session is connected and may take one more stream. */
int direct_h2_can_take(struct direct_h2 *s);
int direct_h2_ready(struct direct_h2 *s);
/* Submits ST; 0 or -1 (ST was failed). */
int direct_h2_submit(struct direct_h2 *s, struct direct_stream *st);
void direct_h2_body(struct direct_stream *st);
void direct_h2_resume(struct direct_stream *st);
void direct_h2_cancel(struct direct_stream *st);
void direct_h2_free(struct direct_h2 *s);

/* ---- health (health.c) ------------------------------------------------- */

struct direct_health *direct_health_new(struct direct_instance *in);
void direct_health_free(struct direct_health *h);
void direct_health_get(struct direct_health *h, struct fg_member_health *out);
/* A new connection was made: fetch /version again at the next probe. */
void direct_health_reconnected(struct direct_health *h);

/* Opens an internal stream (probes) with CB/CTX: GET PATH, no identity. */
struct direct_stream *
direct_stream_open_internal(struct direct_instance *in, const char *path,
                            const struct fg_stream_callbacks *cb, void *ctx);
void direct_stream_close_internal(struct direct_stream *st);

/* The stream ops (stream.c), gathered into the table by plugin.c. */
void *direct_op_stream_open(void *instance, const struct fg_request_head *h,
                            const struct fg_stream_callbacks *cb, void *ctx);
int direct_op_stream_write(void *stream, const void *buf, size_t len);
void direct_op_stream_end(void *stream);
void direct_op_stream_resume(void *stream);
void direct_op_stream_close(void *stream);

/* Fails every queued stream but upgrades: the connection they waited for
 * could not be made. */
void direct_fail_pending(struct direct_instance *in, const char *why);

extern const struct fg_driver_ops direct_driver_ops;

#endif
