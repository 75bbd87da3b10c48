/* TLS listeners lent to plugins (host.h listen): the core accepts on the
 * calling instance's loop, bounds the connections and the handshake time,
 * verifies client certificates when a CA is configured, and hands each
 * handshaken connection to the plugin as an opaque fg_tls_conn, which the
 * plugin adopts (a client over it, client.c) or closes. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/error.h"
#include "client/client.h"
#include "client/listen.h"
#include "net/tls.h"
#include "net/tls_read.h"

#define LISTEN_DEFAULT_MAX_CONNS 1024
#define LISTEN_DEFAULT_HANDSHAKE_MS 10000
/* Failed handshakes logged per second at most: anyone can fail one. */
#define LISTEN_FAILURES_LOGGED 10

struct fg_tls_conn {
    const struct fg_host *host;
    struct fg_listener *l; /* NULL once the listener is gone */
    LIST_ENTRY(fg_tls_conn) link;
    struct bufferevent *bev; /* NULL once a session took it */
    struct fg_timer *timer;  /* the handshake's deadline */
    int handed;              /* handshaken and given to the plugin */
    char peer[64];
};

struct fg_listener {
    const struct fg_host *host;
    struct evconnlistener *lev;
    SSL_CTX *ctx;
    fg_accept_cb accept;
    void *arg;
    uint32_t max_conns, n_conns;
    uint64_t handshake_ms;
    LIST_HEAD(, fg_tls_conn) conns;
    time_t log_second;        /* the second the failures below were in */
    unsigned logged, dropped; /* failures logged in it, and not logged */
};

static void format_addr(const struct sockaddr *sa, char *out, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        evutil_inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
        port = ntohs(v4->sin_port);
        snprintf(out, len, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        evutil_inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
        port = ntohs(v6->sin6_port);
        snprintf(out, len, "[%s]:%u", ip, port);
    } else {
        snprintf(out, len, "?");
    }
}

void fg_tls_conn_close(struct fg_tls_conn *conn)
{
    if (conn->l) {
        LIST_REMOVE(conn, link);
        conn->l->n_conns--;
    }
    if (conn->bev)
        bufferevent_free(conn->bev);
    if (conn->timer)
        conn->host->timer_free(conn->timer);
    free(conn);
}

struct bufferevent *fg_tls_conn_take(struct fg_tls_conn *conn)
{
    struct bufferevent *bev = conn->bev;
    conn->bev = NULL;
    return bev;
}

const char *fg_tls_conn_peer(const struct fg_tls_conn *conn)
{
    return conn->peer;
}

/* The handshake is done: the plugin gets the connection. */
static void hand_over(struct fg_tls_conn *conn)
{
    struct fg_listener *l = conn->l;
    conn->host->timer_free(conn->timer);
    conn->timer = NULL;
    conn->handed = 1;
    bufferevent_setcb(conn->bev, NULL, NULL, NULL, NULL);
    SSL *ssl = bufferevent_openssl_get_ssl(conn->bev);
    char alpn[32] = "";
    const unsigned char *proto = NULL;
    unsigned proto_len = 0;
    SSL_get0_alpn_selected(ssl, &proto, &proto_len);
    if (proto && proto_len < sizeof(alpn)) { /* NULL: no ALPN at all */
        memcpy(alpn, proto, proto_len);
        alpn[proto_len] = 0;
    }
    unsigned char *der = NULL;
    int der_len = 0;
    X509 *cert = SSL_get_peer_certificate(ssl);
    if (cert) {
        der_len = i2d_X509(cert, &der);
        X509_free(cert);
    }
    struct fg_tls_peer peer = {
        .address = conn->peer,
        .cert_der = der_len > 0 ? der : NULL,
        .cert_der_len = der_len > 0 ? (size_t)der_len : 0,
        .alpn = alpn,
    };
    l->accept(l->arg, conn, &peer);
    OPENSSL_free(der);
}

/* A handshake failed: the operator learns why (the alert a peer sent,
 * such as "tlsv1 alert unknown ca" from an agent that does not trust this
 * host's certificate), at most LISTEN_FAILURES_LOGGED lines a second. */
static void log_failure(struct fg_tls_conn *conn, const char *why)
{
    struct fg_listener *l = conn->l;
    if (!l) /* closing with its listener */
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec != l->log_second) {
        if (l->dropped)
            conn->host->log(conn->host, FG_LOG_WARN,
                            "%u more TLS handshakes failed (not logged)",
                            l->dropped);
        l->log_second = now.tv_sec;
        l->logged = l->dropped = 0;
    }
    if (l->logged++ < LISTEN_FAILURES_LOGGED)
        conn->host->log(conn->host, FG_LOG_WARN,
                        "the TLS handshake with %s failed: %s", conn->peer,
                        why);
    else
        l->dropped++;
}

static void on_handshake(struct bufferevent *bev, short what, void *arg)
{
    struct fg_tls_conn *conn = arg;
    if (what & BEV_EVENT_CONNECTED) {
        hand_over(conn);
        return;
    }
    /* a refused certificate, a reset, garbage: the plugin never knows */
    unsigned long e, first = 0;
    while ((e = bufferevent_get_openssl_error(bev)) != 0)
        if (!first)
            first = e;
    const char *why = first ? ERR_reason_error_string(first) : NULL;
    if (!why)
        why = what & BEV_EVENT_EOF
                  ? "the peer closed the connection"
                  : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
    log_failure(conn, why);
    ERR_clear_error();
    fg_tls_conn_close(conn);
}

static void on_handshake_timeout(void *arg)
{
    log_failure(arg, "no handshake within the handshake timeout");
    fg_tls_conn_close(arg);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
                      struct sockaddr *sa, int socklen, void *arg)
{
    (void)lev;
    (void)socklen;
    struct fg_listener *l = arg;
    if (l->n_conns >= l->max_conns) {
        evutil_closesocket(fd);
        return;
    }
    struct fg_tls_conn *conn = calloc(1, sizeof(*conn));
    SSL *ssl = conn ? SSL_new(l->ctx) : NULL;
    if (ssl)
        conn->bev = bufferevent_openssl_socket_new(
            evconnlistener_get_base(l->lev), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
            BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (conn && conn->bev)
        conn->timer = l->host->timer_new(l->host, on_handshake_timeout, conn);
    if (!conn || !conn->bev || !conn->timer) {
        if (conn && conn->bev)
            bufferevent_free(conn->bev);
        else if (ssl)
            SSL_free(ssl);
        if (!conn || !conn->bev)
            evutil_closesocket(fd);
        free(conn);
        return;
    }
    conn->host = l->host;
    conn->l = l;
    LIST_INSERT_HEAD(&l->conns, conn, link);
    l->n_conns++;
    format_addr(sa, conn->peer, sizeof(conn->peer));
    /* peers may close without close_notify; HTTP/2 frames tell the end */
    bufferevent_openssl_set_allow_dirty_shutdown(conn->bev, 1);
    fg_tls_read_ahead(conn->bev);
    bufferevent_setcb(conn->bev, NULL, NULL, on_handshake, conn);
    bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
    l->host->timer_arm(conn->timer, l->handshake_ms);
}

/* "ADDR:PORT" or "[V6]:PORT", port 0 allowed (libevent's parser refuses
 * it). 0, or -1 when it is not that. */
static int parse_address(const char *text, struct sockaddr_storage *ss,
                         int *len)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text)
        return -1;
    char host[INET6_ADDRSTRLEN + 2];
    size_t hlen = (size_t)(colon - text);
    if (text[0] == '[') {
        if (hlen < 3 || text[hlen - 1] != ']')
            return -1;
        text++;
        hlen -= 2;
    }
    if (hlen >= sizeof(host))
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || port < 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (evutil_inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
    } else if (evutil_inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
    } else {
        return -1;
    }
    return 0;
}

struct fg_listener *fg_listen(const struct fg_host *h,
                              const struct fg_listen_config *cfg,
                              const char *default_cert, const char *default_key,
                              fg_accept_cb accept, void *arg, char *err,
                              size_t err_len)
{
    if (cfg->struct_size < sizeof(*cfg)) {
        snprintf(err, err_len, "the listener configuration is too short");
        return NULL;
    }
    struct sockaddr_storage ss;
    int sslen = 0;
    if (!cfg->address || parse_address(cfg->address, &ss, &sslen) != 0) {
        snprintf(err, err_len, "\"%s\" is not an address ADDR:PORT",
                 cfg->address ? cfg->address : "");
        return NULL;
    }
    const char *cert = cfg->cert_file ? cfg->cert_file : default_cert;
    const char *key = cfg->cert_file ? cfg->key_file : default_key;
    if (!cert || !key) {
        snprintf(err, err_len, "no serving certificate and key to listen with");
        return NULL;
    }
    struct fg_listener *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    l->host = h;
    l->accept = accept;
    l->arg = arg;
    l->max_conns =
        cfg->max_connections ? cfg->max_connections : LISTEN_DEFAULT_MAX_CONNS;
    l->handshake_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms
                                                : LISTEN_DEFAULT_HANDSHAKE_MS;
    LIST_INIT(&l->conns);
    struct fg_error e = {{0}};
    l->ctx = fg_tls_server_ctx(cert, key, cfg->client_ca_file, &e);
    if (!l->ctx) {
        snprintf(err, err_len, "%s", e.msg);
        free(l);
        return NULL;
    }
    if (cfg->client_ca_file)
        SSL_CTX_set_verify(
            l->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    l->lev =
        evconnlistener_new_bind(h->event_base(h), on_accept, l,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
                                    LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT,
                                -1, (struct sockaddr *)&ss, sslen);
    if (!l->lev) {
        snprintf(err, err_len, "cannot listen on %s: %s", cfg->address,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        SSL_CTX_free(l->ctx);
        free(l);
        return NULL;
    }
    return l;
}

void fg_listener_address(const struct fg_listener *l, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(evconnlistener_get_fd(l->lev), (struct sockaddr *)&ss,
                    &sl) != 0) {
        snprintf(buf, len, "?");
        return;
    }
    format_addr((struct sockaddr *)&ss, buf, len);
}

void fg_listener_free(struct fg_listener *l)
{
    if (!l)
        return;
    evconnlistener_free(l->lev);
    struct fg_tls_conn *conn;
    while ((conn = LIST_FIRST(&l->conns)) != NULL) {
        if (conn->handed) {
            /* the plugin's now: it lives on without its listener */
            LIST_REMOVE(conn, link);
            conn->l = NULL;
        } else {
            fg_tls_conn_close(conn);
        }
    }
    SSL_CTX_free(l->ctx);
    free(l);
}
