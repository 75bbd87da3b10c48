/* One blocking request (ask.h). A tool that asks a handful of questions,
 * or a thread that checks one member, needs no event loop: the socket
 * blocks with timeouts, one connection per question (Connection: close). */
#include "client/ask.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fedgate/util.h>

#include "client/client.h"

struct reading {
    struct fg_ask_answer *out;
    struct fg_buf body;
    int complete;
};

static int on_head(void *arg, int status, const struct fg_header *h, size_t n)
{
    (void)h;
    (void)n;
    ((struct reading *)arg)->out->status = status;
    return 0;
}

static int on_body(void *arg, const char *buf, size_t len)
{
    struct reading *r = arg;
    if (len > FG_ASK_MAX_ANSWER - r->body.len)
        return -1;
    fg_buf_put(&r->body, buf, len);
    return r->body.oom ? -1 : 0;
}

static void on_complete(void *arg, int keep_alive)
{
    (void)keep_alive;
    ((struct reading *)arg)->complete = 1;
}

static const struct fg_client_response_callbacks callbacks = {on_head, on_body,
                                                              on_complete};

/* A connected socket to URL with both timeouts set, or -1. */
static int dial(const struct fg_client_url *url, int timeout_ms,
                struct fg_error *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)url->port);
    int rc = getaddrinfo(url->host, port, &hints, &res);
    if (rc != 0)
        return fg_error_set(err, "cannot resolve %s: %s", url->host,
                            gai_strerror(rc));
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0)
            continue;
        /* Linux bounds connect() by the send timeout too. */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
            connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        fg_error_set(err, "cannot connect to %s", url->authority);
    return fd;
}

/* The request head and body as one text, malloc'd; NULL when a header
 * value cannot be sent or memory runs out. */
static char *request_text(const char *method, const char *target,
                          const char *authority, const struct fg_ask_server *gw,
                          const struct fg_header *headers, size_t n,
                          const char *body)
{
    const char *token = gw->token ? gw->token : "";
    const char *accept = gw->accept ? gw->accept : "application/json";
    if (!fg_client_value_ok(token, strlen(token)) ||
        !fg_client_value_ok(accept, strlen(accept)))
        return NULL;
    size_t len = strlen(method) + strlen(target) + strlen(authority) +
                 strlen(token) + strlen(accept) + (body ? strlen(body) : 0) +
                 256;
    for (size_t i = 0; i < n; i++) {
        if (!fg_client_value_ok(headers[i].value, headers[i].value_len))
            return NULL;
        len += headers[i].name_len + headers[i].value_len + 4;
    }
    char *text = malloc(len);
    if (!text)
        return NULL;
    size_t at = (size_t)snprintf(
        text, len,
        "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%sAccept: %s\r\n"
        "Connection: close\r\n",
        method, target, authority, *token ? "Authorization: Bearer " : "",
        token, *token ? "\r\n" : "", accept);
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(text + at, len - at, "%.*s: %.*s\r\n",
                               (int)headers[i].name_len, headers[i].name,
                               (int)headers[i].value_len, headers[i].value);
    if (body)
        snprintf(text + at, len - at,
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                 "\r\n%s",
                 strlen(body), body);
    else
        snprintf(text + at, len - at, "\r\n");
    return text;
}

/* Writes TEXT and feeds the answer to the parser until it completes. */
static int exchange(SSL *ssl, const char *text, struct fg_ask_answer *out,
                    struct fg_error *err)
{
    struct reading r = {.out = out};
    struct fg_client_response *resp = fg_client_response_new(&callbacks, &r, 0);
    if (!resp)
        return fg_error_set(err, "out of memory");
    int rc = -1;
    size_t len = strlen(text);
    if (SSL_write(ssl, text, (int)len) != (int)len) {
        fg_error_set(err, "the gateway closed the connection");
        goto done;
    }
    char buf[16384];
    while (!r.complete) {
        int got = SSL_read(ssl, buf, sizeof(buf));
        enum fg_client_parse_result pr;
        if (got <= 0) {
            pr = fg_client_response_eof(resp);
        } else {
            size_t used = 0;
            pr = fg_client_response_feed(resp, buf, (size_t)got, &used);
        }
        if (pr == FG_CLIENT_PARSE_ERROR ||
            (got <= 0 && pr != FG_CLIENT_PARSE_DONE)) {
            const char *why = fg_client_response_error(resp);
            fg_error_set(err, "no whole answer from the gateway (%s)",
                         got <= 0 ? "connection closed or timed out"
                                  : (why ? why : "too large"));
            goto done;
        }
        if (pr == FG_CLIENT_PARSE_DONE)
            break;
    }
    fg_buf_put(&r.body, "", 0); /* an empty answer is "" too */
    if (r.body.oom) {
        fg_error_set(err, "out of memory");
        goto done;
    }
    out->body = r.body.buf;
    out->len = r.body.len;
    r.body.buf = NULL;
    rc = 0;
done:
    free(r.body.buf);
    fg_client_response_free(resp);
    return rc;
}

int fg_ask(const struct fg_ask_server *gw, const char *method,
           const char *target, const struct fg_header *headers, size_t n,
           const char *body, struct fg_ask_answer *out, struct fg_error *err)
{
    struct fg_client_cfg cfg = {.ca_file = (char *)gw->ca_file,
                                .cert_file = (char *)gw->cert_file,
                                .key_file = (char *)gw->key_file};
    char why[256];
    memset(out, 0, sizeof(*out));
    if (fg_client_url_parse(gw->server, &cfg.url, why, sizeof(why)) != 0)
        return fg_error_set(err, "%s", why);
    SSL_CTX *ctx = fg_client_tls_ctx_get(&cfg, why, sizeof(why));
    if (!ctx)
        return fg_error_set(err, "%s", why);
    SSL *ssl = fg_client_tls_ssl_new(ctx, &cfg, 0);
    char *text =
        request_text(method, target, cfg.url.authority, gw, headers, n, body);
    int fd = ssl && text ? dial(&cfg.url, gw->timeout_ms, err) : -1;
    int rc = -1;
    if (!ssl || !text)
        fg_error_set(err, "out of memory or a header value that cannot be "
                          "sent");
    else if (fd >= 0 && (SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1))
        fg_error_set(err, "TLS with %s failed (is %s its CA?)",
                     cfg.url.authority, gw->ca_file);
    else if (fd >= 0)
        rc = exchange(ssl, text, out, err);
    ERR_clear_error();
    if (rc != 0)
        fg_ask_answer_free(out);
    SSL_free(ssl);
    fg_client_tls_ctx_put(ctx);
    if (fd >= 0)
        close(fd);
    if (text) /* it holds the token */
        OPENSSL_cleanse(text, strlen(text));
    free(text);
    return rc;
}

void fg_ask_answer_free(struct fg_ask_answer *a)
{
    free(a->body);
    a->body = NULL;
    a->len = 0;
}
