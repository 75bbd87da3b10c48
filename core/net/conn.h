/* A client connection after TLS: owns the bufferevent, picks the codec by
 * ALPN, enforces connection-level timeouts and counts, and drains on
 * shutdown. */
#ifndef FG_CONN_H
#define FG_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "net/conn_sources.h"

struct bufferevent;
struct sockaddr;
struct fg_worker;
struct fg_limits;
struct fg_conn;

/* A protocol codec running on a connection. */
struct fg_codec {
    const char *name; /* "h1" or "h2" */
    /* Takes over the bufferevent callbacks; returns codec state or NULL. */
    void *(*attach)(struct fg_conn *conn, struct bufferevent *bev);
    /* Graceful shutdown: finish requests in flight, accept no new ones
     * (h1: Connection: close, close when idle; h2: GOAWAY). */
    void (*drain)(void *state);
    /* Frees the codec state and everything it owns, except the bev. */
    void (*destroy)(void *state);
};

struct fg_conn {
    struct fg_worker *worker;
    struct bufferevent *bev;
    const struct fg_codec *codec;
    void *codec_state;
    char peer[64]; /* "127.0.0.1:54321", for logs */
    int draining;
    int closing; /* fg_conn_close was called: the free is pending */
    /* A request on it carried valid credentials: limits meant for
     * anonymous connections (slots, head budgets, GOAWAY after 401s) no
     * longer apply. */
    int authenticated;
    int requests;                /* exchanges in flight (exchange.c counts) */
    struct fg_source source;     /* for max_connections_per_source */
    struct fg_conn *prev, *next; /* the worker's list, oldest first */
};

extern const struct fg_codec fg_h1_codec;
extern const struct fg_codec fg_h2_codec;

/* The worker's limits, for codecs. */
const struct fg_limits *fg_conn_limits(const struct fg_conn *conn);

/* How long the connection may stay without a request: idle_timeout, or
 * unauthenticated_idle_timeout until a request on it was authenticated. */
uint64_t fg_conn_idle_timeout_ms(const struct fg_conn *conn);

/* Closes the connection now: the codec is destroyed, the bev freed. Safe to
 * call from the codec's own bufferevent callbacks (the free is deferred to
 * the next loop turn). */
void fg_conn_close(struct fg_conn *conn);

#endif

/* Takes an accepted socket FD on worker W: TLS handshake, then the codec
 * ALPN chose. Closes FD on failure. */
void fg_conn_accept(struct fg_worker *w, int fd, const struct sockaddr *addr,
                    int addrlen);

/* Asks every connection of W to drain (see fg_codec.drain). */
void fg_conn_drain_all(struct fg_worker *w);
/* Closes every connection of W now. */
void fg_conn_close_all(struct fg_worker *w);
