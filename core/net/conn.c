/* Client connections: the slots they hold (max_connections, the cap per
 * source, evicting an idle unauthenticated one for a newcomer), TLS
 * accept, the handshake timeout, the codec ALPN picked, and closing
 * (always deferred to the next loop turn, so a codec may close its
 * connection from inside its own callbacks). */
#include "net/conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "base/log.h"
#include "net/tls.h"
#include "net/tls_read.h"

const struct fg_limits *fg_conn_limits(const struct fg_conn *conn)
{
    return &conn->worker->gen->cfg->limits;
}

uint64_t fg_conn_idle_timeout_ms(const struct fg_conn *conn)
{
    const struct fg_limits *lim = fg_conn_limits(conn);
    if (!conn->authenticated &&
        lim->unauthenticated_idle_timeout_ms < lim->idle_timeout_ms)
        return lim->unauthenticated_idle_timeout_ms;
    return lim->idle_timeout_ms;
}

static void link_conn(struct fg_worker *w, struct fg_conn *c)
{
    c->prev = w->conns_tail;
    c->next = NULL;
    if (w->conns_tail)
        w->conns_tail->next = c;
    else
        w->conns = c;
    w->conns_tail = c;
    w->n_conns++;
    atomic_fetch_add_explicit(&w->metrics.conns_open, 1, memory_order_relaxed);
}

static void unlink_conn(struct fg_conn *c)
{
    struct fg_worker *w = c->worker;
    if (c->prev)
        c->prev->next = c->next;
    else if (w->conns == c)
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else if (w->conns_tail == c)
        w->conns_tail = c->prev;
    c->prev = c->next = NULL;
    w->n_conns--;
    atomic_fetch_sub_explicit(&w->metrics.conns_open, 1, memory_order_relaxed);
    fg_source_release(&w->sources, &c->source);
}

static void free_conn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_conn *c = arg;
    struct fg_worker *w = c->worker;
    if (c->codec && c->codec_state)
        c->codec->destroy(c->codec_state);
    if (c->bev) {
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        if (ssl)
            SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN);
        bufferevent_free(c->bev);
    }
    free(c);
    fg_mem_trim_note_close(&w->mem_trim);
    if (w->draining)
        fg_worker_check_drained(w);
}

void fg_conn_close(struct fg_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    unlink_conn(c);
    if (c->bev)
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    /* Freed on the next loop turn: the caller may be inside a callback of
     * this very bufferevent. */
    if (event_base_once(c->worker->base, -1, EV_TIMEOUT, free_conn, c, NULL) !=
        0)
        free_conn(-1, 0, c);
}

static void handshake_event(struct bufferevent *bev, short events, void *arg)
{
    struct fg_conn *c = arg;
    if (events & BEV_EVENT_CONNECTED) {
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        c->codec = fg_tls_alpn_is_h2(ssl) ? &fg_h2_codec : &fg_h1_codec;
        bufferevent_set_timeouts(bev, NULL, NULL);
        c->codec_state = c->codec->attach(c, bev);
        if (!c->codec_state) {
            c->codec = NULL;
            fg_conn_close(c);
        } else if (c->worker->draining) {
            c->codec->drain(c->codec_state);
        } else {
            /* what the client sent behind its Finished is read already */
            fg_tls_read_pending(bev);
        }
        return;
    }
    unsigned long e = bufferevent_get_openssl_error(bev);
    if (e) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        fg_debug("%s: TLS handshake failed: %s", c->peer, buf);
    } else if (events & BEV_EVENT_TIMEOUT) {
        fg_debug("%s: TLS handshake timed out", c->peer);
    }
    fg_conn_close(c);
}

static void format_peer(const struct sockaddr *addr, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        snprintf(out, len, "%s:%u", host, port);
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(out, len, "[%s]:%u", host, port);
    } else {
        snprintf(out, len, "unknown");
    }
}

/* Makes room when every slot is taken: the oldest connection that has not
 * authenticated and has no request in flight (a slow handshake, a
 * half-sent head, a keep-alive after 401s) is closed. Returns 0, or -1
 * when every connection is authenticated or busy. */
static int evict_one(struct fg_worker *w)
{
    for (struct fg_conn *c = w->conns; c; c = c->next) {
        if (c->authenticated || c->requests > 0)
            continue;
        fg_debug("%s: closed to make room for a new connection (%u open)",
                 c->peer, w->n_conns);
        atomic_fetch_add_explicit(&w->metrics.conns_evicted, 1,
                                  memory_order_relaxed);
        fg_conn_close(c);
        return 0;
    }
    return -1;
}

void fg_conn_accept(struct fg_worker *w, int fd, const struct sockaddr *addr,
                    int addrlen)
{
    (void)addrlen;
    const struct fg_limits *lim = &w->gen->cfg->limits;
    if (w->draining) {
        close(fd);
        return;
    }
    struct fg_source source = fg_source_of(addr);
    if (fg_source_take(&w->sources, &source, lim->max_connections_per_source) !=
        0) {
        atomic_fetch_add_explicit(&w->metrics.conns_source, 1,
                                  memory_order_relaxed);
        close(fd);
        return;
    }
    if (w->n_conns >= lim->max_connections && evict_one(w) != 0) {
        fg_source_release(&w->sources, &source);
        atomic_fetch_add_explicit(&w->metrics.conns_full, 1,
                                  memory_order_relaxed);
        close(fd);
        return;
    }
    /* Responses go out in several writes (head, chunks): Nagle would hold
     * the last one for the peer's delayed ACK. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct fg_conn *c = calloc(1, sizeof(*c));
    SSL *ssl = c ? SSL_new(w->gen->gen->ssl_ctx) : NULL;
    if (!ssl) {
        free(c);
        fg_source_release(&w->sources, &source);
        close(fd);
        return;
    }
    c->worker = w;
    format_peer(addr, c->peer, sizeof(c->peer));
    c->bev = bufferevent_openssl_socket_new(
        w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!c->bev) {
        SSL_free(ssl);
        free(c);
        fg_source_release(&w->sources, &source);
        close(fd);
        return;
    }
    /* Clients often close without close_notify; that is not an error. */
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    fg_tls_read_ahead(c->bev);
    c->source = source;
    link_conn(w, c);

    struct timeval tv = {(time_t)(lim->header_timeout_ms / 1000),
                         (suseconds_t)(lim->header_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    bufferevent_setcb(c->bev, NULL, NULL, handshake_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

void fg_conn_drain_all(struct fg_worker *w)
{
    struct fg_conn *c = w->conns;
    while (c) {
        struct fg_conn *next = c->next; /* drain may close C */
        if (c->codec && c->codec_state && !c->draining) {
            c->draining = 1;
            c->codec->drain(c->codec_state);
        } else if (!c->codec) {
            fg_conn_close(c); /* still in its handshake */
        }
        c = next;
    }
}

void fg_conn_close_all(struct fg_worker *w)
{
    while (w->conns)
        fg_conn_close(w->conns);
}
