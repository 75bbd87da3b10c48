/* What the core lends a plugin: logging, timers on the worker's loop, read
 * access to the plugin's own validated configuration section, and (ABI 2.0)
 * the core's networking: an HTTP/1.1 + HTTP/2 client and TLS listeners.
 * Every function here must be called on the loop thread that owns the
 * object it is given (the thread that called the plugin). */
#ifndef FEDGATE_HOST_H
#define FEDGATE_HOST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fg_log_level {
    FG_LOG_ERROR = 0,
    FG_LOG_WARN = 1,
    FG_LOG_INFO = 2,
    FG_LOG_DEBUG = 3,
};

/** A one-shot timer on the worker loop; re-arm it from its callback to repeat.
 */
struct fg_timer;
typedef void (*fg_timer_cb)(void *arg);

/** A configuration section after the core validated it against the plugin's
 * fg_config_key list: every key has its default applied, paths are absolute.*/
struct fg_section {
    const char *name; /**< the member (or plugin) name */
    const char *file; /**< ini file the section came from */
    int line;         /**< line of the section header */
    const void *core; /**< the core's own data; do not touch */
    /** Value of KEY, or NULL when unset without a default. */
    const char *(*get)(const struct fg_section *s, const char *key);
    /** INT, BOOL (0/1) and DURATION (ms) values; DEF when unset. */
    int64_t (*get_int)(const struct fg_section *s, const char *key,
                       int64_t def);
};

/* ---- networking lent by the core (ABI 2.0) ------------------------------
 *
 * The client. A `struct fg_client` calls one server the way kubectl would:
 * over TLS, HTTP/2 when the server offers it (a multiplexed connection,
 * and up to max_connections when the server's MAX_CONCURRENT_STREAMS
 * fills each; at most max_streams streams, the rest queued until one
 * ends), HTTP/1.1
 * otherwise (a keep-alive pool of at most max_streams connections) and
 * always for upgrades (a connection of its own per upgrade). It dials
 * lazily, on the first stream, and again after a lost connection. Or it
 * runs the HTTP/2 client role over one connection a plugin's listener
 * accepted (client_adopt): it never dials then, and once that connection
 * is gone every stream fails with 503. An adopted client sends an upgrade
 * as an extended CONNECT stream (RFC 8441; ABI 2.1) when the peer's
 * SETTINGS enable it (else 503): the peer's 2xx answer is the caller's
 * 101 and the stream's DATA the byte pipe.
 *
 * Client streams have the shape of driver streams (driver.h): open with a
 * request head, callbacks and their context, then write ... end, resume
 * after FG_PAUSE, and close exactly once. A driver forwards a request with
 * one call, passing the core's callbacks and context straight through;
 * the client adds nothing of its own but the framing (Host / :authority,
 * content-length or chunked, connection/upgrade for upgrades).
 *
 * Errors. Before the head the client answers through the callbacks as the
 * core would answer a caller: 503 ServiceUnavailable (with a retry-after
 * header, as a head + body) when no connection can be had or it was lost,
 * 504 Timeout after request_timeout (or idle_timeout without a byte on a
 * long-lived stream: watch, follow, upgrade), 502 BadGateway for an
 * invalid answer, 400 BadRequest for a head that cannot be sent. After the
 * head, error() resets the caller's stream.
 *
 * Threads and re-entry: the rule of driver.h, one level down. Everything
 * runs on the loop of the host the client was made with. The client may
 * call any stream's callbacks from the loop or from inside any client op
 * but client_free (client_stream_open may answer error() at once; closing
 * one stream may end another). The caller never calls a client op from inside a
 * client callback: what it would do then (close the stream, resume it) waits
 * until the callback returned (a timer armed with 0 ms), as the core does
 * for drivers. So neither side needs re-entry guards. */
struct fg_client;
struct fg_client_stream;
struct fg_member_call;
struct fg_header;
struct fg_request_head;
struct fg_stream_callbacks;

/** What a client is to call and how. Strings are copied by client_new. */
struct fg_client_config {
    uint32_t struct_size; /**< sizeof(struct fg_client_config) */
    /** Named in error messages: `the member cluster "NAME" ...`. */
    const char *name;
    /** https://HOST[:PORT][/] (port 443 by default). For an adopted client
     * optional: only its authority is used (default: the peer address). */
    const char *server;
    const char *ca_file;     /**< PEM CA bundle; required unless insecure */
    const char *cert_file;   /**< PEM client certificate, or NULL */
    const char *key_file;    /**< its key; with cert_file only */
    const char *server_name; /**< name to verify and send as SNI */
    int insecure;            /**< 1: do not verify the server at all */
    int http2;               /**< 1: offer h2 (preferred), 0: HTTP/1.1 only */
    uint64_t connect_timeout_ms; /**< resolve + connect + TLS; 0: 5 s */
    uint64_t request_timeout_ms; /**< whole request; 0: 60 s */
    uint64_t idle_timeout_ms;    /**< long-lived streams; 0: 90 s */
    int max_streams; /**< concurrent streams / connections; 0: 100 */
    /** A dialled connection (HTTP/2 or a pooled HTTP/1.1 one) that has
     * carried no request for this long is closed; the next request dials
     * again. 0: 5 s. ABI 2.3: a plugin built before leaves it out. */
    uint64_t connection_idle_timeout_ms;
    /** HTTP/2 connections to the server: another is dialled when each one
     * is at the server's MAX_CONCURRENT_STREAMS and fewer than max_streams
     * streams run in all; extra ones close after
     * connection_idle_timeout like the first. 0: 4. ABI 2.4. */
    int max_connections;
};

/** What a client can tell of its connections. */
struct fg_client_state {
    uint64_t connections; /**< connections made so far */
    int connected;        /**< 1 when one is up now */
};

/* Member calls (ABI 2.3). A service acting for a user (an app store
 * installing a release, federation applying an object) calls a member the
 * way that user would through /clusters/MEMBER/...: the policy chain
 * authorizes the request for the user (authentication is skipped: the
 * service vouches for the identity it got from its own caller), audit
 * records it, and the member's driver impersonates the user. A refusal
 * arrives as any answer does: head(403) with a Kubernetes Status body.
 * The callbacks, backpressure and re-entry rules are those of client
 * streams; cb->alloc and cb->data_ref are not used. Only a service's
 * instance may call a member (on its owner loop). */

/* The listener. A plugin-owned TLS listener on the calling instance's
 * loop: the core accepts, enforces the limits and completes the TLS
 * handshake (client certificate verified when a CA is configured), then
 * hands the connection over. Each instance of a per-worker driver may
 * listen on the same address: the socket has SO_REUSEPORT and the kernel
 * spreads connections over the loops. */
struct fg_listener;
/** An accepted, handshaken TLS connection; opaque. The plugin either
 * adopts it (client_adopt) or closes it (tls_conn_close), exactly once,
 * in the accept callback or later on the same loop. */
struct fg_tls_conn;

struct fg_listen_config {
    uint32_t struct_size; /**< sizeof(struct fg_listen_config) */
    /** "ADDR:PORT" ("[v6]:PORT"), an IP address; port 0 picks one. */
    const char *address;
    /** Serving certificate and key (PEM); both NULL: the gateway's own. */
    const char *cert_file;
    const char *key_file;
    /** Set: a peer must present a certificate chaining to this CA, or the
     * handshake fails and the plugin never sees it. NULL: none asked. */
    const char *client_ca_file;
    uint32_t max_connections;      /**< handshaking + handed over; 0: 1024 */
    uint64_t handshake_timeout_ms; /**< accept to handshake done; 0: 10 s */
};

/** Who connected; valid during the accept callback only. */
struct fg_tls_peer {
    const char *address;           /**< "ADDR:PORT" */
    const unsigned char *cert_der; /**< verified client certificate, or NULL */
    size_t cert_der_len;
    const char *alpn; /**< "h2", "http/1.1", or "" when none was agreed */
};

/** A connection was accepted and its handshake completed. */
typedef void (*fg_accept_cb)(void *arg, struct fg_tls_conn *conn,
                             const struct fg_tls_peer *peer);

struct fg_host {
    uint32_t struct_size; /**< sizeof(struct fg_host) of the core */
    const void *core;     /**< the core's own data; do not touch */

    /** printf-style log line, prefixed by the core with the plugin name. */
    void (*log)(const struct fg_host *h, enum fg_log_level level,
                const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;

    /** A timer on the calling worker's loop. NULL when out of memory. */
    struct fg_timer *(*timer_new)(const struct fg_host *h, fg_timer_cb cb,
                                  void *arg);
    /** (Re)arms T to fire once after MS milliseconds (0: next loop turn). */
    void (*timer_arm)(struct fg_timer *t, uint64_t ms);
    /** Disarms T; its callback will not run until armed again. */
    void (*timer_cancel)(struct fg_timer *t);
    /** Disarms and frees T. */
    void (*timer_free)(struct fg_timer *t);

    /** Wall-clock time in milliseconds since the epoch, cached per loop turn.*/
    uint64_t (*now_ms)(const struct fg_host *h);

    /** The worker's event loop: a libevent 2.1 `struct event_base *`, for
     * drivers that do their own network I/O (sockets, bufferevents, evdns)
     * on the worker's thread. Never block it. */
    void *(*event_base)(const struct fg_host *h);

    /* ---- ABI 2.0: the client (see "The client" above) ---- */

    /** A client for CFG on the calling loop; nothing is dialled yet. NULL
     * with a one-line reason in ERR (a bad URL, an unreadable CA or client
     * certificate). Free it with client_free. */
    struct fg_client *(*client_new)(const struct fg_host *h,
                                    const struct fg_client_config *cfg,
                                    char *err, size_t err_len);
    /** Re-reads the CA and client certificate files (SIGHUP): new
     * connections use them, live ones keep theirs. 0, or -1 with ERR and
     * the old ones kept. */
    int (*client_reload)(struct fg_client *c, char *err, size_t err_len);
    /** Closes C's connections. Close every stream of C first. */
    void (*client_free)(struct fg_client *c);
    /** Fills OUT with what C knows of its connections. */
    void (*client_state)(const struct fg_client *c,
                         struct fg_client_state *out);

    /** Opens a stream for HEAD (read during the call only), adding EXTRA
     * headers (N_EXTRA; copied; e.g. authorization, impersonate-*) after
     * HEAD's own, of which identity, hop-by-hop and framing headers are
     * dropped in any spelling. CB and CTX as in driver.h; cb->alloc and
     * cb->data_ref are not used. Returns the stream (which may already
     * have failed through cb->error), or NULL when out of memory. */
    struct fg_client_stream *(*client_stream_open)(
        struct fg_client *c, const struct fg_request_head *head,
        const struct fg_header *extra, size_t n_extra,
        const struct fg_stream_callbacks *cb, void *ctx);
    /** Request body bytes (after a 101: bytes for the pipe). 0, or
     * negative when the stream cannot take them. */
    int (*client_stream_write)(struct fg_client_stream *s, const void *buf,
                               size_t len);
    /** The request body is complete (call it even when there was none). */
    void (*client_stream_end)(struct fg_client_stream *s);
    /** The caller has room again after data() returned FG_PAUSE. */
    void (*client_stream_resume)(struct fg_client_stream *s);
    /** Frees S, stopping its work (a reset or a closed connection when it
     * had not ended). No callback of S runs after it. */
    void (*client_stream_close)(struct fg_client_stream *s);

    /* ---- ABI 2.0: listening (see "The listener" above) ---- */

    /** Listens on CFG->address on the calling loop; ACCEPT(ARG, ...) runs
     * for each handshaken connection. NULL with ERR (address in use, no
     * certificate). */
    struct fg_listener *(*listen)(const struct fg_host *h,
                                  const struct fg_listen_config *cfg,
                                  fg_accept_cb accept, void *arg, char *err,
                                  size_t err_len);
    /** The bound address as "ADDR:PORT" into BUF (for port 0). */
    void (*listener_address)(const struct fg_listener *l, char *buf,
                             size_t len);
    /** Stops listening; connections still handshaking are closed, those
     * handed over live on. */
    void (*listener_free)(struct fg_listener *l);
    /** Runs the HTTP/2 client role over CONN (the peer is the HTTP/2
     * server, whatever ALPN said) and returns the client, used and freed
     * as any other; CONN belongs to it from then on, even on failure. NULL
     * with ERR. */
    struct fg_client *(*client_adopt)(const struct fg_host *h,
                                      struct fg_tls_conn *conn,
                                      const struct fg_client_config *cfg,
                                      char *err, size_t err_len);
    /** Closes CONN instead of adopting it. */
    void (*tls_conn_close)(struct fg_tls_conn *conn);

    /** The gateway's state directory (absolute): where the core keeps its
     * CA, serving certificate and admin.token (ABI 2.0). */
    const char *state_dir;

    /* ---- ABI 2.1 ---- */

    /** The gateway's [tunnel] section (listen, handshake_timeout,
     * max_connections, checked by the core), or NULL when there is none:
     * what a driver serving agent-connected members listens with. */
    const struct fg_section *tunnel;
    /** Keepalive for C's HTTP/2 connection (dialled or adopted): sends a
     * PING now; unless a PING is answered within DEADLINE_MS of the oldest
     * unanswered one (0: no deadline), the connection is lost as if it had
     * closed (its streams fail, client_state says not connected). Returns
     * 1 when every earlier PING was answered, 0 when one still waits, -1
     * when C has no HTTP/2 connection up. Call it from a timer. */
    int (*client_ping)(struct fg_client *c, uint64_t deadline_ms);

    /* ---- ABI 2.3 (check struct_size before use) ---- */

    /** Closes C's dialled connections that carry no stream now, as Go's
     * Transport.CloseIdleConnections does: for a caller that knows no
     * request of its own follows soon (a health probe of a quiet member),
     * rather than waiting for connection_idle_timeout. The next request
     * dials again. Call it from a timer, not from a stream callback. */
    void (*client_close_idle)(struct fg_client *c);

    /* calls to members as a user (see "Member calls") */

    /** Sends HEAD to the member cluster MEMBER as HEAD->identity (required)
     * and streams the answer to CB/CTX. HEAD->path is the member's path
     * (/api/..., /apis/...) and query its query; method, headers and
     * content_length as for a client stream; info, request_id, base_path
     * and upgrade are ignored. The core copies what it keeps. Returns the
     * call (which may already have been answered, e.g. 403), or NULL with
     * a one-line reason in ERR (out of memory, no worker here). */
    struct fg_member_call *(*member_call)(const struct fg_host *h,
                                          const char *member,
                                          const struct fg_request_head *head,
                                          const struct fg_stream_callbacks *cb,
                                          void *ctx, char *err, size_t err_len);
    /** Request body bytes; 0, or negative when the call cannot take them. */
    int (*member_call_write)(struct fg_member_call *c, const void *buf,
                             size_t len);
    /** The request body is complete (call it even when there was none). */
    void (*member_call_end)(struct fg_member_call *c);
    /** The caller has room again after data() returned FG_PAUSE. */
    void (*member_call_resume)(struct fg_member_call *c);
    /** Frees C, stopping its work. No callback of C runs after it. */
    void (*member_call_close)(struct fg_member_call *c);

    /* ---- ABI 2.4: the fleet (host role; check struct_size before use) */

    /** The member clusters as the host's Cluster API shows them (what
     * `kubectl get clusters` lists): malloc'd JSON text, to be free()d, of
     * an array in configuration order of
     * {"name":N,"labels":{K:V,...},"ready":true|false}, labels as the
     * members' ini sections give them (and the host's own label), ready
     * as the Cluster's Ready condition. *VERSION gets the version of that
     * view. NULL when out of memory or in the member role. Any thread. */
    char *(*fleet_members)(const struct fg_host *h, uint64_t *version);
    /** The fleet's version now, cheap: it moves whenever a member comes
     * or goes, its labels change (SIGHUP) or its readiness changes (and on
     * other changes of the Cluster objects). A service polls it from a
     * timer and reads fleet_members again when it moved. 0 in the member
     * role. */
    uint64_t (*fleet_version)(const struct fg_host *h);
};

#ifdef __cplusplus
}
#endif
#endif
