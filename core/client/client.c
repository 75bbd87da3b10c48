/* The client lent to plugins (host.h): its configuration with defaults,
 * its TLS context (re-read on reload), and its life, dialled or adopted
 * over a connection a plugin's listener accepted. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <openssl/ssl.h>

#include "client/client.h"
#include "client/listen.h"
#include "daemon/mem_trim.h"

/* The dialling clients of one loop and their open connections: idle
 * members close theirs together after a probe round, and the trim then
 * gives the heap pages back (mem_trim.h). Clients are made and freed on
 * the main thread too (start, reload, teardown), their connections only
 * on their loop: the list is locked, OPEN and the trim are the loop's. */
struct fg_client_loop {
    struct event_base *base;
    size_t clients;
    uint32_t open;
    struct fg_mem_trim trim;
    struct fg_client_loop *next;
};

static pthread_mutex_t loops_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fg_client_loop *loops;

/* BASE's entry with one more client; NULL when out of memory (nothing is
 * trimmed then: no harm). */
static struct fg_client_loop *loop_join(struct event_base *base)
{
    pthread_mutex_lock(&loops_lock);
    struct fg_client_loop *l = loops;
    while (l && l->base != base)
        l = l->next;
    if (!l && (l = calloc(1, sizeof(*l))) != NULL) {
        l->base = base;
        fg_mem_trim_init(&l->trim, base, &l->open);
        l->next = loops;
        loops = l;
    }
    if (l)
        l->clients++;
    pthread_mutex_unlock(&loops_lock);
    return l;
}

static void loop_leave(struct fg_client_loop *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&loops_lock);
    int last = --l->clients == 0;
    if (last) {
        struct fg_client_loop **p = &loops;
        while (*p != l)
            p = &(*p)->next;
        *p = l->next;
    }
    pthread_mutex_unlock(&loops_lock);
    if (last) {
        fg_mem_trim_free(&l->trim);
        free(l);
    }
}

void fg_client_conn_opened(struct fg_client *in)
{
    in->connections++;
    if (in->loop)
        in->loop->open++;
}

void fg_client_conn_closed(struct fg_client *in)
{
    if (!in->loop)
        return;
    in->loop->open--;
    fg_mem_trim_note_close(&in->loop->trim);
}

/* fg_client_config as ABI 2.0 to 2.2 had it, and 2.3:
 * connection_idle_timeout_ms came with 2.3, max_connections with 2.4. */
#define CFG_SIZE_UPTO(field)                                                   \
    (offsetof(struct fg_client_config, field) +                                \
     sizeof(((struct fg_client_config *)0)->field))
#define CFG_SIZE_2_0 CFG_SIZE_UPTO(max_streams)
#define CFG_SIZE_2_3 CFG_SIZE_UPTO(connection_idle_timeout_ms)

static char *dup_opt(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void cfg_free(struct fg_client_cfg *cfg)
{
    free(cfg->ca_file);
    free(cfg->cert_file);
    free(cfg->key_file);
    free(cfg->server_name);
    memset(cfg, 0, sizeof(*cfg));
}

/* Copies CFG with its defaults; the server is parsed when given. */
static int cfg_load(struct fg_client_cfg *out,
                    const struct fg_client_config *cfg, char *err,
                    size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (cfg->struct_size < CFG_SIZE_2_0) {
        snprintf(err, err_len, "the client configuration is too short");
        return -1;
    }
    snprintf(out->name, sizeof(out->name), "%s", cfg->name ? cfg->name : "");
    if (cfg->server &&
        fg_client_url_parse(cfg->server, &out->url, err, err_len) != 0)
        return -1;
    out->insecure = cfg->insecure != 0;
    out->http2 = cfg->http2 != 0;
    out->connect_timeout_ms =
        cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 5000;
    out->request_timeout_ms =
        cfg->request_timeout_ms ? cfg->request_timeout_ms : 60000;
    out->idle_timeout_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms : 90000;
    out->max_streams = cfg->max_streams > 0 ? cfg->max_streams : 100;
    uint64_t conn_idle =
        cfg->struct_size >= CFG_SIZE_2_3 ? cfg->connection_idle_timeout_ms : 0;
    out->connection_idle_timeout_ms = conn_idle ? conn_idle : 5000;
    int max_conns = cfg->struct_size >= sizeof(*cfg) ? cfg->max_connections : 0;
    out->max_connections = max_conns > 0 ? max_conns : 4;
    out->ca_file = dup_opt(cfg->ca_file);
    out->cert_file = dup_opt(cfg->cert_file);
    out->key_file = dup_opt(cfg->key_file);
    out->server_name = dup_opt(cfg->server_name);
    if ((cfg->ca_file && !out->ca_file) ||
        (cfg->cert_file && !out->cert_file) ||
        (cfg->key_file && !out->key_file) ||
        (cfg->server_name && !out->server_name)) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

/* What a dialling client needs beyond cfg_load. */
static int cfg_check_dial(const struct fg_client_config *cfg,
                          const struct fg_client_cfg *c, char *err,
                          size_t err_len)
{
    if (!cfg->server) {
        snprintf(err, err_len, "server is required");
        return -1;
    }
    if (!c->insecure && !c->ca_file) {
        snprintf(err, err_len,
                 "ca_file is required unless insecure_skip_tls_verify = true");
        return -1;
    }
    if (!!c->cert_file != !!c->key_file) {
        snprintf(err, err_len,
                 "client_cert_file and client_key_file go together");
        return -1;
    }
    if (c->server_name &&
        !fg_client_value_ok(c->server_name, strlen(c->server_name))) {
        snprintf(err, err_len, "tls_server_name is not a valid name");
        return -1;
    }
    return 0;
}

static struct fg_client *client_alloc(const struct fg_host *h)
{
    struct fg_client *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->host = h;
    c->base = h->event_base(h);
    TAILQ_INIT(&c->pending);
    TAILQ_INIT(&c->h2);
    LIST_INIT(&c->h1);
    return c;
}

struct fg_client *fg_client_new(const struct fg_host *h,
                                const struct fg_client_config *cfg, char *err,
                                size_t err_len)
{
    struct fg_client *c = client_alloc(h);
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (cfg_load(&c->cfg, cfg, err, err_len) != 0 ||
        cfg_check_dial(cfg, &c->cfg, err, err_len) != 0 ||
        !(c->ctx = fg_client_tls_ctx_get(&c->cfg, err, err_len))) {
        cfg_free(&c->cfg);
        free(c);
        return NULL;
    }
    c->proto = c->cfg.http2 ? FG_CLIENT_PROTO_UNKNOWN : FG_CLIENT_PROTO_H1;
    c->loop = loop_join(c->base);
    return c;
}

struct fg_client *fg_client_adopt(const struct fg_host *h,
                                  struct fg_tls_conn *conn,
                                  const struct fg_client_config *cfg, char *err,
                                  size_t err_len)
{
    struct fg_client *c = client_alloc(h);
    if (!c) {
        snprintf(err, err_len, "out of memory");
        fg_tls_conn_close(conn);
        return NULL;
    }
    if (cfg_load(&c->cfg, cfg, err, err_len) != 0) {
        cfg_free(&c->cfg);
        free(c);
        fg_tls_conn_close(conn);
        return NULL;
    }
    if (!cfg->server)
        snprintf(c->cfg.url.authority, sizeof(c->cfg.url.authority), "%s",
                 fg_tls_conn_peer(conn));
    c->cfg.http2 = 1;
    c->adopted = 1;
    if (fg_client_h2_start_adopted(c, conn, fg_tls_conn_take(conn)) != 0) {
        snprintf(err, err_len, "out of memory");
        cfg_free(&c->cfg);
        free(c);
        fg_tls_conn_close(conn);
        return NULL;
    }
    return c;
}

int fg_client_reload(struct fg_client *c, char *err, size_t err_len)
{
    if (c->adopted)
        return 0; /* its one connection was made with what it has */
    SSL_CTX *fresh = fg_client_tls_ctx_get(&c->cfg, err, err_len);
    if (!fresh)
        return -1;
    fg_client_tls_ctx_put(c->ctx);
    c->ctx = fresh;
    return 0;
}

void fg_client_free(struct fg_client *c)
{
    if (!c)
        return;
    c->freeing = 1;
    /* streams still queued belong to the caller; it closes them */
    while (!TAILQ_EMPTY(&c->pending)) {
        struct fg_client_stream *st = TAILQ_FIRST(&c->pending);
        TAILQ_REMOVE(&c->pending, st, link);
        st->queued = 0;
    }
    fg_client_h2_free_all(c);
    fg_client_h1_free_all(c);
    if (c->dns)
        evdns_base_free(c->dns, 0);
    fg_client_tls_ctx_put(c->ctx);
    loop_leave(c->loop);
    cfg_free(&c->cfg);
    free(c);
}

void fg_client_state(const struct fg_client *c, struct fg_client_state *out)
{
    out->connections = c->connections;
    out->connected = fg_client_h2_connected(c) || fg_client_h1_connected(c);
}

void fg_client_close_idle(struct fg_client *c)
{
    if (c->adopted)
        return; /* its one connection is its peer's to close */
    fg_client_h2_close_idle(c);
    fg_client_h1_close_idle(c);
}

int fg_client_ping(struct fg_client *c, uint64_t deadline_ms)
{
    return fg_client_h2_ping(c, deadline_ms);
}
