/* Connecting to a server: name resolution on the loop (evdns; IP literals
 * skip it), a non-blocking TCP connect and the TLS handshake, all within
 * connect_timeout, ending in a verified bufferevent or a one-line reason
 * ("connection refused", "certificate verify failed: ..."). */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "client/client.h"
#include "net/tls_read.h"

struct fg_client_connect {
    struct fg_client *in;
    int allow_h2;
    fg_client_connected_fn ok;
    fg_client_connect_failed_fn fail;
    void *arg;
    struct evdns_getaddrinfo_request *dns;
    struct bufferevent *tcp; /* phase 1: the TCP connect, errno intact */
    struct bufferevent *bev; /* phase 2: TLS on the connected socket */
    struct fg_timer *timer;
    struct event *kick; /* reports an early failure on the next turn */
    char early[160];
    int cancelling;
};

static void finish_fail(struct fg_client_connect *c, const char *reason,
                        int timeout)
{
    fg_client_connect_failed_fn fail = c->fail;
    void *arg = c->arg;
    char why[256];
    snprintf(why, sizeof(why), "%s", reason);
    fg_client_connect_cancel(c);
    fail(arg, why, timeout);
}

/* "Connection refused" -> "connection refused": Kubernetes' own wording. */
static void errno_reason(int e, char *out, size_t len)
{
    snprintf(out, len, "%s", strerror(e));
    if (out[0] && isupper((unsigned char)out[0]) &&
        !(out[1] && isupper((unsigned char)out[1])))
        out[0] = (char)tolower((unsigned char)out[0]);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct fg_client_connect *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        const unsigned char *alpn = NULL;
        unsigned alpn_len = 0;
        SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
        int is_h2 = c->allow_h2 && alpn_len == 2 && memcmp(alpn, "h2", 2) == 0;
        evutil_socket_t fd = bufferevent_getfd(bev);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
        c->bev = NULL;
        fg_client_connected_fn ok = c->ok;
        void *okarg = c->arg;
        fg_client_connect_cancel(c);
        ok(okarg, bev, is_h2);
        return;
    }
    char why[256] = "";
    int sock_err = EVUTIL_SOCKET_ERROR();
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    unsigned long e, last = 0;
    while ((e = bufferevent_get_openssl_error(bev)) != 0)
        last = e;
    if (vr != X509_V_OK) {
        snprintf(why, sizeof(why), "certificate verify failed: %s",
                 X509_verify_cert_error_string(vr));
    } else if (last && ERR_GET_LIB(last) == ERR_LIB_SYS) {
        errno_reason(ERR_GET_REASON(last), why, sizeof(why));
    } else if (last) {
        const char *r = ERR_reason_error_string(last);
        if (r)
            snprintf(why, sizeof(why), "TLS handshake failed: %s", r);
        else
            snprintf(why, sizeof(why), "TLS handshake failed: error %lx", last);
    } else if ((what & BEV_EVENT_ERROR) && sock_err) {
        errno_reason(sock_err, why, sizeof(why));
    } else {
        snprintf(why, sizeof(why),
                 "the connection closed during the TLS "
                 "handshake");
    }
    ERR_clear_error();
    finish_fail(c, why, 0);
}

static void on_timeout(void *arg)
{
    struct fg_client_connect *c = arg;
    char why[128];
    snprintf(why, sizeof(why), "no connection within %llums",
             (unsigned long long)c->in->cfg.connect_timeout_ms);
    finish_fail(c, why, 1);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_client_connect *c = arg;
    finish_fail(c, c->early, 0);
}

/* Reports REASON on the next loop turn: callers never see a callback from
 * inside fg_client_connect_start. */
static void fail_later(struct fg_client_connect *c, const char *reason)
{
    size_t n = strnlen(reason, sizeof(c->early) - 1);
    memcpy(c->early, reason, n);
    c->early[n] = '\0';
    if (!c->kick)
        c->kick = event_new(c->in->base, -1, 0, on_kick, c);
    if (c->kick)
        event_active(c->kick, 0, 0);
}

/* TCP is up: TLS starts on the same socket. Done in two steps so that a
 * refused connection reads "connection refused", not an SSL error code. */
static void on_tcp_event(struct bufferevent *tcp, short what, void *arg)
{
    struct fg_client_connect *c = arg;
    if (!(what & BEV_EVENT_CONNECTED)) {
        char why[160];
        int e = EVUTIL_SOCKET_ERROR();
        if (e)
            errno_reason(e, why, sizeof(why));
        else
            snprintf(why, sizeof(why), "connection failed");
        finish_fail(c, why, 0);
        return;
    }
    evutil_socket_t fd = bufferevent_getfd(tcp);
    bufferevent_free(tcp); /* without CLOSE_ON_FREE: FD stays open */
    c->tcp = NULL;
    struct fg_client *in = c->in;
    SSL *ssl = fg_client_tls_ssl_new(in->ctx, &in->cfg, c->allow_h2);
    if (ssl)
        c->bev = bufferevent_openssl_socket_new(
            in->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
            BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!c->bev) {
        if (ssl)
            SSL_free(ssl);
        evutil_closesocket(fd);
        finish_fail(c, "out of memory", 0);
        return;
    }
    /* Members may close without close_notify; framing tells truncation. */
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    fg_tls_read_ahead(c->bev);
    bufferevent_setcb(c->bev, NULL, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void connect_addr(struct fg_client_connect *c, const struct sockaddr *sa,
                         socklen_t len)
{
    c->tcp = bufferevent_socket_new(c->in->base, -1, 0);
    if (!c->tcp) {
        fail_later(c, "out of memory");
        return;
    }
    bufferevent_setcb(c->tcp, NULL, NULL, on_tcp_event, c);
    if (bufferevent_socket_connect(c->tcp, sa, (int)len) != 0) {
        char why[128];
        errno_reason(errno ? errno : ECONNREFUSED, why, sizeof(why));
        evutil_socket_t fd = bufferevent_getfd(c->tcp);
        bufferevent_free(c->tcp);
        c->tcp = NULL;
        if (fd >= 0)
            evutil_closesocket(fd);
        fail_later(c, why);
    }
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    struct fg_client_connect *c = arg;
    if (result == EVUTIL_EAI_CANCEL)
        return; /* fg_client_connect_cancel is freeing C */
    c->dns = NULL;
    if (result != 0 || !res) {
        char why[300];
        snprintf(why, sizeof(why), "cannot resolve \"%s\": %s",
                 c->in->cfg.url.host, evutil_gai_strerror(result));
        if (res)
            evutil_freeaddrinfo(res);
        fail_later(c, why);
        return;
    }
    connect_addr(c, res->ai_addr, (socklen_t)res->ai_addrlen);
    evutil_freeaddrinfo(res);
}

struct fg_client_connect *
fg_client_connect_start(struct fg_client *in, int allow_h2,
                        fg_client_connected_fn ok,
                        fg_client_connect_failed_fn fail, void *arg)
{
    struct fg_client_connect *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->in = in;
    c->allow_h2 = allow_h2 && in->cfg.http2;
    c->ok = ok;
    c->fail = fail;
    c->arg = arg;
    c->timer = in->host->timer_new(in->host, on_timeout, c);
    if (!c->timer) {
        free(c);
        return NULL;
    }
    in->host->timer_arm(c->timer, in->cfg.connect_timeout_ms);
    const struct fg_client_url *u = &in->cfg.url;
    if (u->is_ip) {
        connect_addr(c, (const struct sockaddr *)&u->addr, u->addr_len);
        return c;
    }
    if (!in->dns)
        in->dns =
            evdns_base_new(in->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                         EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (!in->dns) {
        fail_later(c, "cannot set up name resolution");
        return c;
    }
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
    char port[8];
    snprintf(port, sizeof(port), "%u", u->port);
    /* The answer may come from inside this call (hosts file, cache). */
    struct evdns_getaddrinfo_request *r =
        evdns_getaddrinfo(in->dns, u->host, port, &hints, on_resolved, c);
    if (r && !c->tcp && !c->bev && !c->kick)
        c->dns = r;
    return c;
}

void fg_client_connect_cancel(struct fg_client_connect *c)
{
    if (!c || c->cancelling)
        return;
    c->cancelling = 1;
    if (c->dns)
        evdns_getaddrinfo_cancel(c->dns);
    if (c->tcp) {
        evutil_socket_t fd = bufferevent_getfd(c->tcp);
        bufferevent_free(c->tcp);
        if (fd >= 0)
            evutil_closesocket(fd);
    }
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->timer)
        c->in->host->timer_free(c->timer);
    if (c->kick)
        event_free(c->kick);
    free(c);
}
