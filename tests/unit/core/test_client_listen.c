/* Tests of the lent listener and client_adopt (core/client/listen.c and
 * client.c): the core listens through fg_host, a test peer dials it over
 * TLS with a client certificate and plays the HTTP/2 SERVER (an nghttp2
 * server session) on that connection, and requests sent through the
 * adopted client get its answers. A peer without a certificate is refused
 * before the plugin sees it; a peer that vanishes mid-answer fails the
 * stream with error(), and later streams get a 503 at once; a peer that
 * stops answering PINGs (client_ping) is lost at the deadline; an upgrade
 * goes as an extended CONNECT stream whose 200 is the caller's 101 and
 * whose DATA is the pipe until the peer ends it, or 503 when the peer's
 * SETTINGS do not allow it; a refused one is relayed and ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fedgate/driver.h>

#include "plugin/host_api.h"

/* ---- certificates ------------------------------------------------------ */

struct pki {
    char ca[64], srv_cert[64], srv_key[64], cli_cert[64], cli_key[64];
};

static void write_pem(char *path, int is_key, void *obj)
{
    strcpy(path, "/tmp/fedgate-listen-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    if (is_key)
        PEM_write_PrivateKey(f, obj, NULL, NULL, 0, NULL, NULL);
    else
        PEM_write_X509(f, obj);
    fclose(f);
}

/* A certificate for CN signed by ISSUER (self-signed when NULL). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key, int serial)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
    X509_set_pubkey(x, key);
    if (!issuer) {
        /* OpenSSL takes a v3 certificate as a CA only when it says so */
        X509_EXTENSION *bc = X509V3_EXT_conf_nid(
            NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(x, bc, -1);
        X509_EXTENSION_free(bc);
    }
    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
    return x;
}

static void make_pki(struct pki *p)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256"),
             *cli_key = EVP_EC_gen("P-256");
    X509 *ca = make_cert("test-ca", ca_key, NULL, NULL, 1);
    X509 *srv = make_cert("gateway", srv_key, ca, ca_key, 2);
    X509 *cli = make_cert("member-agent", cli_key, ca, ca_key, 3);
    write_pem(p->ca, 0, ca);
    write_pem(p->srv_cert, 0, srv);
    write_pem(p->srv_key, 1, srv_key);
    write_pem(p->cli_cert, 0, cli);
    write_pem(p->cli_key, 1, cli_key);
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(cli_key);
}

static void unlink_pki(struct pki *p)
{
    unlink(p->ca);
    unlink(p->srv_cert);
    unlink(p->srv_key);
    unlink(p->cli_cert);
    unlink(p->cli_key);
}

/* ---- the peer: dials, then plays the HTTP/2 server --------------------- */

struct reply {
    char path[64];
    char method[16], protocol[16];
    char echo[64]; /* a tunnel's bytes, sent back as its body */
    int32_t id;
    const char *body;
    size_t len, off;
    int endless; /* some bytes, then nothing ever again */
};

struct peer {
    struct event_base *base;
    SSL_CTX *ctx;
    struct bufferevent *bev;
    nghttp2_session *ng;
    struct reply replies[8];
    size_t n_replies;
    int connect_ok;        /* SETTINGS_ENABLE_CONNECT_PROTOCOL */
    int connected, closed; /* the TLS handshake; an error or EOF after */
};

static ssize_t peer_send(nghttp2_session *ng, const uint8_t *data, size_t len,
                         int flags, void *arg)
{
    (void)ng;
    (void)flags;
    struct peer *p = arg;
    bufferevent_write(p->bev, data, len);
    return (ssize_t)len;
}

static struct reply *reply_of(struct peer *p, int32_t id)
{
    for (size_t i = 0; i < p->n_replies; i++)
        if (p->replies[i].id == id)
            return &p->replies[i];
    if (p->n_replies == 8)
        return NULL;
    struct reply *r = &p->replies[p->n_replies++];
    memset(r, 0, sizeof(*r));
    r->id = id;
    return r;
}

static int peer_header(nghttp2_session *ng, const nghttp2_frame *frame,
                       const uint8_t *name, size_t nlen, const uint8_t *value,
                       size_t vlen, uint8_t flags, void *arg)
{
    (void)ng;
    (void)flags;
    struct reply *r = reply_of(arg, frame->hd.stream_id);
    char *slot = NULL;
    size_t size = 0;
    if (r && nlen == 5 && memcmp(name, ":path", 5) == 0) {
        slot = r->path;
        size = sizeof(r->path);
    } else if (r && nlen == 7 && memcmp(name, ":method", 7) == 0) {
        slot = r->method;
        size = sizeof(r->method);
    } else if (r && nlen == 9 && memcmp(name, ":protocol", 9) == 0) {
        slot = r->protocol;
        size = sizeof(r->protocol);
    }
    if (slot && vlen < size) {
        memcpy(slot, value, vlen);
        slot[vlen] = 0;
    }
    return 0;
}

/* A tunnel's bytes go back as its body, for as long as it lasts. */
static int peer_data(nghttp2_session *ng, uint8_t flags, int32_t id,
                     const uint8_t *data, size_t len, void *arg)
{
    (void)flags;
    struct reply *r = reply_of(arg, id);
    assert_non_null(r);
    assert_true(r->len + len <= sizeof(r->echo));
    memcpy(r->echo + r->len, data, len);
    r->len += len;
    nghttp2_session_resume_data(ng, id);
    return 0;
}

static ssize_t peer_read_body(nghttp2_session *ng, int32_t id, uint8_t *buf,
                              size_t length, uint32_t *data_flags,
                              nghttp2_data_source *source, void *arg)
{
    (void)ng;
    (void)id;
    (void)arg;
    struct reply *r = source->ptr;
    size_t n = r->len - r->off < length ? r->len - r->off : length;
    memcpy(buf, r->body + r->off, n);
    r->off += n;
    if (r->off == r->len) {
        if (!r->endless)
            *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        else if (n == 0)
            return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

/* A whole request arrived: "hi PATH", or for /vanish a start and no end. */
static int peer_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame,
                           void *arg)
{
    struct peer *p = arg;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    struct reply *r = reply_of(p, frame->hd.stream_id);
    assert_non_null(r);
    if (strcmp(r->method, "CONNECT") == 0) {
        /* extended CONNECT: the tunnel is up at once and echoes; /refuse
         * is answered 403 "no", /bye is up and ends after "bye" */
        int refuse = strcmp(r->path, "/refuse") == 0;
        nghttp2_nv ok = {(uint8_t *)":status",
                         (uint8_t *)(refuse ? "403" : "200"), 7, 3,
                         NGHTTP2_NV_FLAG_NONE};
        if (refuse || strcmp(r->path, "/bye") == 0) {
            r->body = refuse ? "no" : "bye";
            r->len = strlen(r->body);
        } else {
            r->body = r->echo;
            r->endless = 1;
        }
        nghttp2_data_provider echo = {.source.ptr = r,
                                      .read_callback = peer_read_body};
        nghttp2_submit_response(ng, frame->hd.stream_id, &ok, 1, &echo);
        return 0;
    }
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    r->endless = strcmp(r->path, "/vanish") == 0;
    r->body = r->endless ? "partial" : "hi there";
    r->len = strlen(r->body);
    nghttp2_nv h[] = {
        {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-type", (uint8_t *)"text/plain", 12, 10,
         NGHTTP2_NV_FLAG_NONE},
    };
    nghttp2_data_provider prd = {.source.ptr = r,
                                 .read_callback = peer_read_body};
    nghttp2_submit_response(ng, frame->hd.stream_id, h, 2, &prd);
    return 0;
}

static void peer_read(struct bufferevent *bev, void *arg)
{
    struct peer *p = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    ssize_t n = nghttp2_session_mem_recv(p->ng, evbuffer_pullup(in, -1), len);
    assert_true(n == (ssize_t)len);
    evbuffer_drain(in, len);
    nghttp2_session_send(p->ng);
}

static void peer_start_h2(struct peer *p)
{
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_send_callback(cbs, peer_send);
    nghttp2_session_callbacks_set_on_header_callback(cbs, peer_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, peer_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, peer_data);
    nghttp2_session_server_new(&p->ng, cbs, p);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry connect = {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL,
                                      1};
    nghttp2_submit_settings(p->ng, NGHTTP2_FLAG_NONE, &connect,
                            p->connect_ok ? 1 : 0);
    nghttp2_session_send(p->ng);
}

static void peer_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct peer *p = arg;
    if (what & BEV_EVENT_CONNECTED) {
        p->connected = 1;
        if (p->ng == NULL)
            peer_start_h2(p);
        return;
    }
    p->closed = 1;
    event_base_loopbreak(p->base);
}

static void peer_close(struct peer *p)
{
    if (p->bev)
        bufferevent_free(p->bev);
    p->bev = NULL;
    if (p->ng)
        nghttp2_session_del(p->ng);
    p->ng = NULL;
    SSL_CTX_free(p->ctx);
    p->ctx = NULL;
}

/* Dials ADDRESS with the client certificate CERT/KEY (or none). */
static void peer_dial(struct peer *p, struct event_base *base,
                      const char *address, const char *cert, const char *key,
                      int connect_ok)
{
    memset(p, 0, sizeof(*p));
    p->connect_ok = connect_ok;
    p->base = base;
    p->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, NULL);
    if (cert) {
        assert_int_equal(
            SSL_CTX_use_certificate_file(p->ctx, cert, SSL_FILETYPE_PEM), 1);
        assert_int_equal(
            SSL_CTX_use_PrivateKey_file(p->ctx, key, SSL_FILETYPE_PEM), 1);
    }
    SSL *ssl = SSL_new(p->ctx);
    SSL_set_alpn_protos(ssl, (const unsigned char *)"\x02h2", 3);
    p->bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_openssl_set_allow_dirty_shutdown(p->bev, 1);
    bufferevent_setcb(p->bev, peer_read, NULL, peer_event, p);
    bufferevent_enable(p->bev, EV_READ | EV_WRITE);
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    assert_int_equal(
        evutil_parse_sockaddr_port(address, (struct sockaddr *)&ss, &sl), 0);
    assert_int_equal(
        bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss, sl), 0);
}

/* ---- the plugin's side: listen, adopt, send requests ------------------- */

struct answer {
    int status, heads, ends, errors, error_code;
    char body[512];
    size_t body_len;
};

struct plugin {
    struct fg_host host;
    struct fg_host_ctx ctx;
    struct event_base *base;
    struct fg_listener *listener;
    struct fg_client *client;
    struct fg_client_stream *st;
    struct answer answer;
    struct fg_timer *next; /* the next step, from the loop */
    int step;
    int accepted, peer_had_cert;
    enum mode { BASIC, KEEPALIVE, UPGRADE } mode; /* which steps run */
    char alpn[16];
    struct peer *peer; /* to make it vanish */
};

static int a_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    (void)h;
    (void)n;
    struct plugin *pl = ctx;
    pl->answer.status = status;
    pl->answer.heads++;
    if (pl->mode == UPGRADE)
        pl->host.timer_arm(pl->next, 0); /* a pipe has no end to wait for */
    return 0;
}

static int a_data(void *ctx, const void *buf, size_t len)
{
    struct plugin *pl = ctx;
    struct answer *a = &pl->answer;
    if (a->body_len + len < sizeof(a->body)) {
        memcpy(a->body + a->body_len, buf, len);
        a->body_len += len;
    }
    if (pl->mode == UPGRADE)
        pl->host.timer_arm(pl->next, 0);
    /* the peer vanishes mid-answer: not a client op, so allowed here */
    if (pl->step == 2 && pl->peer->bev) {
        bufferevent_free(pl->peer->bev);
        pl->peer->bev = NULL;
    }
    return 0;
}

static void a_end(void *ctx)
{
    struct plugin *pl = ctx;
    pl->answer.ends++;
    pl->host.timer_arm(pl->next, 0); /* no client op from a callback */
}

static void a_error(void *ctx, int code, const char *reason,
                    const char *message)
{
    (void)reason;
    (void)message;
    struct plugin *pl = ctx;
    pl->answer.errors++;
    pl->answer.error_code = code;
    pl->host.timer_arm(pl->next, 0);
}

static void a_nothing(void *ctx)
{
    (void)ctx;
}

static const struct fg_stream_callbacks answer_cb = {
    .head = a_head,
    .data = a_data,
    .end = a_end,
    .error = a_error,
    .body_pause = a_nothing,
    .body_resume = a_nothing,
};

static void request(struct plugin *pl, const char *path)
{
    memset(&pl->answer, 0, sizeof(pl->answer));
    struct fg_request_head head = {
        .method = "GET", .path = path, .content_length = 0, .http_version = 20};
    pl->st =
        pl->host.client_stream_open(pl->client, &head, NULL, 0, &answer_cb, pl);
    assert_non_null(pl->st);
    pl->host.client_stream_end(pl->st);
}

/* One step per answer: /hello, then /vanish, then a request after. */
static void on_next(void *arg)
{
    struct plugin *pl = arg;
    struct answer *a = &pl->answer;
    pl->host.client_stream_close(pl->st);
    pl->st = NULL;
    struct fg_client_state cs;
    pl->host.client_state(pl->client, &cs);
    switch (pl->step++) {
    case 1:
        assert_int_equal(a->status, 200);
        assert_int_equal(a->ends, 1);
        assert_int_equal(a->errors, 0);
        assert_string_equal(a->body, "hi there");
        assert_int_equal(cs.connected, 1);
        assert_int_equal(cs.connections, 1);
        request(pl, "/vanish");
        break;
    case 2:
        /* the head and some data came; then the connection went */
        assert_int_equal(a->heads, 1);
        assert_string_equal(a->body, "partial");
        assert_int_equal(a->errors, 1);
        assert_int_equal(a->error_code, 502);
        assert_int_equal(cs.connected, 0);
        request(pl, "/after");
        break;
    default:
        /* never another connection: a 503 Status with retry-after */
        assert_int_equal(a->status, 503);
        assert_int_equal(a->ends, 1);
        assert_non_null(strstr(a->body, "Status"));
        event_base_loopbreak(pl->base);
    }
}

static void on_accept(void *arg, struct fg_tls_conn *conn,
                      const struct fg_tls_peer *peer)
{
    struct plugin *pl = arg;
    pl->accepted++;
    pl->peer_had_cert = peer->cert_der != NULL && peer->cert_der_len > 0;
    snprintf(pl->alpn, sizeof(pl->alpn), "%s", peer->alpn);
    assert_non_null(strstr(peer->address, "127.0.0.1:"));
    struct fg_client_config cfg = {
        .struct_size = sizeof(cfg), .name = "edge", .request_timeout_ms = 5000};
    char err[256];
    pl->client = pl->host.client_adopt(&pl->host, conn, &cfg, err, sizeof(err));
    assert_non_null(pl->client);
    if (pl->mode != BASIC) {
        pl->step = pl->mode == KEEPALIVE ? 10 : 20;
        pl->host.timer_arm(pl->next, 0);
        return;
    }
    pl->step = 1;
    request(pl, "/hello");
}

/* PING deadline of the keepalive test, and the time between its steps. */
#define PING_DEADLINE_MS 1000
#define PING_STEP_MS 300

/* PINGs are answered while the peer reads; once it stops reading, the
 * deadline of the oldest unanswered PING loses the connection and the
 * stream it carried fails. */
static void on_ping_step(void *arg)
{
    struct plugin *pl = arg;
    struct fg_client_state cs;
    pl->host.client_state(pl->client, &cs);
    switch (pl->step++) {
    case 10: /* nothing sent yet: nothing waits */
        assert_int_equal(pl->host.client_ping(pl->client, PING_DEADLINE_MS), 1);
        request(pl, "/vanish");
        pl->host.timer_arm(pl->next, PING_STEP_MS);
        break;
    case 11: /* the peer answered; now it goes deaf */
        assert_int_equal(pl->host.client_ping(pl->client, PING_DEADLINE_MS), 1);
        bufferevent_disable(pl->peer->bev, EV_READ);
        pl->host.timer_arm(pl->next, PING_STEP_MS);
        break;
    case 12: /* unanswered, not yet due: still connected */
        assert_int_equal(pl->host.client_ping(pl->client, PING_DEADLINE_MS), 0);
        assert_int_equal(cs.connected, 1);
        break; /* the deadline fails /vanish, whose error() comes next */
    default:
        assert_int_equal(pl->answer.heads, 1);
        assert_int_equal(pl->answer.errors, 1);
        assert_int_equal(pl->answer.error_code, 502);
        assert_int_equal(cs.connected, 0);
        assert_int_equal(pl->host.client_ping(pl->client, PING_DEADLINE_MS),
                         -1);
        pl->host.client_stream_close(pl->st);
        pl->st = NULL;
        event_base_loopbreak(pl->base);
    }
}

static void give_up(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    fail_msg("the test did not finish in time");
}

/* Closes the stream in hand and asks for a websocket upgrade of PATH. */
static void upgrade(struct plugin *pl, const char *path)
{
    pl->host.client_stream_close(pl->st);
    memset(&pl->answer, 0, sizeof(pl->answer));
    struct fg_request_head head = {.method = "GET",
                                   .path = path,
                                   .upgrade = "websocket",
                                   .content_length = 0,
                                   .http_version = 11};
    pl->st =
        pl->host.client_stream_open(pl->client, &head, NULL, 0, &answer_cb, pl);
    assert_non_null(pl->st);
    pl->host.client_stream_end(pl->st); /* no body: the pipe stays */
}

/* Whether the answer in hand ended (else its step runs again on the next
 * callback), then that it was STATUS with BODY and no error. */
static int ended(struct plugin *pl, int status, const char *body)
{
    struct answer *a = &pl->answer;
    if (!a->ends) {
        pl->step--;
        return 0;
    }
    assert_int_equal(a->status, status);
    assert_int_equal(a->errors, 0);
    assert_int_equal(a->body_len, strlen(body));
    assert_memory_equal(a->body, body, strlen(body));
    return 1;
}

/* An upgrade through the adopted client: a plain request first (the
 * peer's SETTINGS are known once it is answered), then GET /exec asking
 * for websocket, which the peer takes as extended CONNECT and echoes; or,
 * from a peer that does not allow it, 503 at once. Then /refuse, which the
 * peer answers 403 (relayed, and ended), and /bye, which the peer ends
 * after a few bytes (the caller's pipe ends too). */
static void on_upgrade_step(void *arg)
{
    struct plugin *pl = arg;
    struct answer *a = &pl->answer;
    int connect_ok = pl->peer->connect_ok;
    switch (pl->step++) {
    case 20:
        request(pl, "/hello");
        break;
    case 21:
        if (!a->ends) {
            pl->step--; /* head and data come first */
            break;
        }
        assert_int_equal(a->status, 200);
        upgrade(pl, "/exec");
        break;
    case 22:
        if (!connect_ok) {
            assert_int_equal(a->status, 503);
            assert_int_equal(a->ends, 1);
            assert_non_null(strstr(a->body, "extended CONNECT"));
            pl->step = 30;
            pl->host.client_stream_close(pl->st);
            event_base_loopbreak(pl->base);
            break;
        }
        assert_int_equal(a->status, 101);
        assert_int_equal(a->heads, 1);
        assert_int_equal(pl->host.client_stream_write(pl->st, "ping", 4), 0);
        break;
    case 23: {
        assert_int_equal(a->body_len, 4);
        assert_memory_equal(a->body, "ping", 4);
        assert_int_equal(a->ends + a->errors, 0); /* still open */
        struct reply *r = &pl->peer->replies[1];
        assert_string_equal(r->method, "CONNECT");
        assert_string_equal(r->protocol, "websocket");
        assert_string_equal(r->path, "/exec");
        upgrade(pl, "/refuse");
        break;
    }
    case 24: /* relayed as it is, and ended (it never did) */
        if (ended(pl, 403, "no"))
            upgrade(pl, "/bye");
        break;
    default: /* the peer's end of a pipe ends the caller's (it never did) */
        if (ended(pl, 101, "bye")) {
            pl->host.client_stream_close(pl->st);
            event_base_loopbreak(pl->base);
        }
    }
}

static void plugin_init(struct plugin *pl, const struct pki *pki,
                        enum mode mode)
{
    static const fg_timer_cb steps[] = {on_next, on_ping_step, on_upgrade_step};
    memset(pl, 0, sizeof(*pl));
    pl->mode = mode;
    pl->base = event_base_new();
    pl->ctx.base = pl->base;
    pl->ctx.serving_cert_file = pki->srv_cert;
    pl->ctx.serving_key_file = pki->srv_key;
    snprintf(pl->ctx.prefix, sizeof(pl->ctx.prefix), "agent[edge]");
    fg_host_init(&pl->host, &pl->ctx);
    pl->next = pl->host.timer_new(&pl->host, steps[mode], pl);
    struct fg_listen_config lc = {.struct_size = sizeof(lc),
                                  .address = "127.0.0.1:0",
                                  .client_ca_file = pki->ca,
                                  .handshake_timeout_ms = 2000};
    char err[256];
    pl->listener =
        pl->host.listen(&pl->host, &lc, on_accept, pl, err, sizeof(err));
    if (!pl->listener)
        fail_msg("listen: %s", err);
}

static void plugin_done(struct plugin *pl)
{
    pl->host.listener_free(pl->listener);
    if (pl->client)
        pl->host.client_free(pl->client);
    /* a bufferevent freed with a deferred callback pending is freed by
     * the loop: one more turn, or it outlives its base */
    event_base_loop(pl->base, EVLOOP_NONBLOCK);
    pl->host.timer_free(pl->next);
    event_base_free(pl->base);
}

static void run_loop(struct event_base *base)
{
    struct timeval tv = {10, 0};
    struct event *guard = evtimer_new(base, give_up, NULL);
    evtimer_add(guard, &tv);
    event_base_dispatch(base);
    event_free(guard);
}

/* What a peer-driven test runs: the steps of MODE up to LAST, the peer
 * allowing extended CONNECT when CONNECT_OK. */
struct peer_case {
    enum mode mode;
    int connect_ok, last;
};

/* A peer with a client certificate dials the plugin, which adopts it and
 * runs the case's steps. */
static void run_with_peer(void **state)
{
    const struct peer_case *c = *state;
    struct pki pki;
    make_pki(&pki);
    struct plugin pl;
    plugin_init(&pl, &pki, c->mode);
    char address[64];
    pl.host.listener_address(pl.listener, address, sizeof(address));
    struct peer peer;
    pl.peer = &peer;
    peer_dial(&peer, pl.base, address, pki.cli_cert, pki.cli_key,
              c->connect_ok);
    run_loop(pl.base);
    assert_int_equal(pl.accepted, 1);
    assert_true(pl.peer_had_cert);
    assert_string_equal(pl.alpn, "h2");
    assert_int_equal(pl.step, c->last);
    peer_close(&peer);
    plugin_done(&pl);
    unlink_pki(&pki);
}

static void peer_without_certificate_is_refused(void **state)
{
    (void)state;
    struct pki pki;
    make_pki(&pki);
    struct plugin pl;
    plugin_init(&pl, &pki, 0);
    char address[64];
    pl.host.listener_address(pl.listener, address, sizeof(address));
    struct peer peer;
    peer_dial(&peer, pl.base, address, NULL, NULL, 0);
    run_loop(pl.base); /* until the peer sees its connection end */
    assert_true(peer.closed);
    assert_int_equal(pl.accepted, 0);
    peer_close(&peer);
    plugin_done(&pl);
    unlink_pki(&pki);
}

int main(void)
{
    static struct peer_case answers = {BASIC, 0, 4}, ping = {KEEPALIVE, 0, 14},
                            upgrade = {UPGRADE, 1, 26},
                            no_connect = {UPGRADE, 0, 30};
    const struct CMUnitTest tests[] = {
        {"adopted_client_gets_answers_then_loses_its_peer", run_with_peer, NULL,
         NULL, &answers},
        {"silent_peer_is_lost_at_the_ping_deadline", run_with_peer, NULL, NULL,
         &ping},
        {"upgrade_is_an_extended_connect_stream", run_with_peer, NULL, NULL,
         &upgrade},
        {"upgrade_needs_the_peer_to_allow_extended_connect", run_with_peer,
         NULL, NULL, &no_connect},
        cmocka_unit_test(peer_without_certificate_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
