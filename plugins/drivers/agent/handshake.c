/* The host's side of the tunnel handshake (tunnel/tunnel.h): on an
 * accepted connection the core's HTTP/2 client asks the agent who it is
 * (sending the host id), checks the member name against the CN of the
 * agent's client certificate when it has one, else the token, and tells the
 * agent the verdict; a joined tunnel goes to its member, a refused one is
 * closed once the agent has the reason. Both sides log the reason. Each
 * step runs from a timer, never inside a client callback, as host.h asks
 * of stream closing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "agent.h"

enum phase { PHASE_HELLO, PHASE_VERDICT };

struct handshake {
    const struct fg_host *host;
    struct fg_client *client;
    struct fg_client_stream *st;
    struct fg_timer *timer;
    enum phase phase;
    int status; /* the answer's, -1 when the stream failed */
    int done;   /* the answer ended: act on it from the timer */
    uint64_t timeout_ms;
    struct tunnel_hello hello;
    char bad[128];  /* why the answer's headers were refused */
    char joins[64]; /* the member the verdict joined, or "" */
    char peer[64];
    char cn[64]; /* the client certificate's member name, or "" */
    LIST_ENTRY(handshake) link;
};

static LIST_HEAD(, handshake) pending = LIST_HEAD_INITIALIZER(pending);

static void finish(struct handshake *hs, int keep_client)
{
    LIST_REMOVE(hs, link);
    if (hs->st)
        hs->host->client_stream_close(hs->st);
    if (!keep_client)
        hs->host->client_free(hs->client);
    hs->host->timer_free(hs->timer);
    free(hs);
}

static int on_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    struct handshake *hs = ctx;
    hs->status = status;
    if (tunnel_hello_read(h, n, &hs->hello, hs->bad, sizeof(hs->bad)) != 0)
        hs->status = -1;
    return 0;
}

/* The handshake's answers say everything in headers; but a stream that
 * fails before the agent answered gets the core's 503 Status, whose
 * message (the connection closed, ...) is what the log should say. */
static int on_data(void *ctx, const void *buf, size_t len)
{
    struct handshake *hs = ctx;
    static const char key[] = "\"message\":\"";
    if (hs->status == 200 || hs->bad[0])
        return 0;
    const char *p = memmem(buf, len, key, sizeof(key) - 1);
    if (!p)
        return 0;
    p += sizeof(key) - 1;
    const char *end = (const char *)buf + len;
    size_t n = 0;
    while (p < end && *p != '"' && n < sizeof(hs->bad) - 1) {
        if (*p == '\\' && ++p == end)
            break;
        hs->bad[n++] = *p >= ' ' && *p <= '~' ? *p : '?';
        p++;
    }
    hs->bad[n] = 0;
    return 0;
}

static void on_end(void *ctx)
{
    struct handshake *hs = ctx;
    hs->done = 1;
    hs->host->timer_arm(hs->timer, 0);
}

static void on_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    (void)code;
    (void)reason;
    struct handshake *hs = ctx;
    hs->status = -1;
    if (!hs->bad[0])
        snprintf(hs->bad, sizeof(hs->bad), "%s",
                 message ? message : "the connection failed");
    hs->done = 1;
    hs->host->timer_arm(hs->timer, 0);
}

static void on_nothing(void *ctx)
{
    (void)ctx;
}

static const struct fg_stream_callbacks handshake_cb = {
    .head = on_head,
    .data = on_data,
    .end = on_end,
    .error = on_error,
    .body_pause = on_nothing,
    .body_resume = on_nothing,
};

/* Sends PATH with HEADERS (N) and no body. 0, or -1 when out of memory. */
static int ask(struct handshake *hs, const char *path,
               const struct fg_header *headers, size_t n)
{
    struct fg_request_head head = {
        .method = "POST",
        .path = path,
        .headers = headers,
        .n_headers = n,
        .content_length = 0,
        .http_version = 20,
    };
    hs->done = 0;
    hs->status = 0;
    hs->st = hs->host->client_stream_open(hs->client, &head, NULL, 0,
                                          &handshake_cb, hs);
    if (!hs->st)
        return -1;
    hs->host->client_stream_end(hs->st);
    return 0;
}

static struct fg_header header(const char *name, const char *value)
{
    return (struct fg_header){name, strlen(name), value, strlen(value)};
}

int agent_token_check(struct agent_instance *in, const char *token, char *err,
                      size_t err_len)
{
    if (!in->token_file) {
        snprintf(err, err_len,
                 "member \"%s\" takes agents with a client certificate only",
                 in->name);
        return -1;
    }
    char why[512];
    char *want = fg_secret_read(in->token_file, "token_file", why, sizeof(why));
    if (!want) {
        in->host->log(in->host, FG_LOG_ERROR, "member \"%s\": %s", in->name,
                      why);
        snprintf(err, err_len, "the host cannot check the token of \"%s\"",
                 in->name);
        return -1;
    }
    unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
    unsigned la = 0, lb = 0;
    int ok = EVP_Digest(want, strlen(want), a, &la, EVP_sha256(), NULL) &&
             EVP_Digest(token, strlen(token), b, &lb, EVP_sha256(), NULL) &&
             la == lb && CRYPTO_memcmp(a, b, la) == 0;
    OPENSSL_cleanse(want, strlen(want));
    free(want);
    if (!ok)
        snprintf(err, err_len, "wrong token for member \"%s\"", in->name);
    return ok ? 0 : -1;
}

/* The agent answered hello: decide, and tell it. */
static void judge(struct handshake *hs)
{
    char why[TUNNEL_REASON_MAX + 1] = "";
    if (hs->status == 409) {
        hs->host->log(hs->host, FG_LOG_WARN,
                      "tunnel from %s: the agent refused this host: %s",
                      hs->peer,
                      hs->hello.reason[0] ? hs->hello.reason : "no reason");
        finish(hs, 0);
        return;
    }
    struct agent_instance *in = NULL;
    if (hs->status != 200 && hs->status > 0)
        snprintf(why, sizeof(why), "the hello was answered %d, not 200%s%s",
                 hs->status, hs->bad[0] ? ": " : "", hs->bad);
    else if (hs->status != 200)
        snprintf(why, sizeof(why), "the hello was not answered (%s)",
                 hs->bad[0] ? hs->bad : "no answer");
    else if (!hs->hello.member[0])
        snprintf(why, sizeof(why), "the hello gave no member name");
    else if (!(in = agent_registry_find(hs->hello.member)))
        snprintf(why, sizeof(why),
                 "no member \"%s\" with driver = agent on this host",
                 hs->hello.member);
    else if (hs->cn[0] && strcmp(hs->cn, hs->hello.member) != 0)
        snprintf(why, sizeof(why),
                 "the client certificate is for member \"%s\", not \"%s\"",
                 hs->cn, hs->hello.member);
    else if (!hs->cn[0] && !hs->hello.token[0])
        snprintf(why, sizeof(why), "the hello gave no token");
    else if (!hs->cn[0])
        agent_token_check(in, hs->hello.token, why, sizeof(why));
    OPENSSL_cleanse(hs->hello.token, sizeof(hs->hello.token));
    hs->host->client_stream_close(hs->st);
    hs->st = NULL;
    hs->phase = PHASE_VERDICT;
    struct fg_header verdict[2] = {header(TUNNEL_H_VERDICT, "joined")};
    size_t n = 1;
    if (why[0]) {
        hs->host->log(hs->host, FG_LOG_WARN, "tunnel from %s refused: %s",
                      hs->peer, why);
        verdict[0] = header(TUNNEL_H_VERDICT, "refused");
        verdict[n++] = header(TUNNEL_H_REASON, why);
    } else {
        snprintf(hs->joins, sizeof(hs->joins), "%s", in->name);
    }
    if (ask(hs, TUNNEL_VERDICT_PATH, verdict, n) != 0)
        finish(hs, 0);
    else
        hs->host->timer_arm(hs->timer, hs->timeout_ms);
}

static void step(void *arg)
{
    struct handshake *hs = arg;
    if (!hs->done) {
        hs->host->log(hs->host, FG_LOG_WARN,
                      "tunnel from %s: no handshake within the "
                      "handshake_timeout",
                      hs->peer);
        finish(hs, 0);
        return;
    }
    if (hs->phase == PHASE_HELLO) {
        judge(hs);
        return;
    }
    /* Found again: a reload may have replaced or removed the member while
     * the agent read its verdict. */
    struct agent_instance *in =
        hs->joins[0] ? agent_registry_find(hs->joins) : NULL;
    if (in && hs->status == 200) {
        hs->host->client_stream_close(hs->st);
        hs->st = NULL;
        agent_tunnel_add(in, hs->client, hs->peer);
        finish(hs, 1);
        return;
    }
    finish(hs, 0);
}

void agent_handshake_start(const struct fg_host *host, struct fg_tls_conn *conn,
                           const char *peer, const char *cn,
                           uint64_t timeout_ms)
{
    struct handshake *hs = calloc(1, sizeof(*hs));
    if (!hs || !(hs->timer = host->timer_new(host, step, hs))) {
        free(hs);
        host->tls_conn_close(conn);
        return;
    }
    hs->host = host;
    hs->timeout_ms = timeout_ms;
    snprintf(hs->peer, sizeof(hs->peer), "%s", peer);
    snprintf(hs->cn, sizeof(hs->cn), "%s", cn);
    LIST_INSERT_HEAD(&pending, hs, link);
    char err[256];
    struct fg_client_config cfg = {
        .struct_size = sizeof(cfg),
        .name = "agent tunnel",
        .http2 = 1,
    };
    hs->client = host->client_adopt(host, conn, &cfg, err, sizeof(err));
    if (!hs->client) {
        host->log(host, FG_LOG_WARN, "tunnel from %s: %s", peer, err);
        LIST_REMOVE(hs, link);
        host->timer_free(hs->timer);
        free(hs);
        return;
    }
    struct fg_header id = header(TUNNEL_H_HOST_ID, agent_registry_host_id());
    host->timer_arm(hs->timer, timeout_ms);
    if (ask(hs, TUNNEL_HELLO_PATH, &id, 1) != 0)
        finish(hs, 0);
}

void agent_handshake_abort_all(void)
{
    struct handshake *hs;
    while ((hs = LIST_FIRST(&pending)) != NULL)
        finish(hs, 0);
}
