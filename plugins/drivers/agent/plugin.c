/* The agent driver plugin: its descriptor and keys, the instance per
 * member (its token file, its joined tunnels, their keepalive, health),
 * and its streams:
 * each request goes to one live tunnel's client in one call, with the
 * impersonation of the caller and the core's callbacks passed through.
 * With no live tunnel the caller gets 503 with Retry-After at once. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

static void ping_all(void *arg);

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    if (host->struct_size < sizeof(struct fg_host)) {
        snprintf(err, err_len, "the agent driver needs a host with ABI 2.1");
        return NULL;
    }
    const char *token_file = s->get(s, "token_file");
    const struct fg_section *t = host->tunnel;
    if (!token_file && !(t && t->get(t, "client_ca_file"))) {
        snprintf(err, err_len,
                 "token_file is required unless [tunnel] client_ca_file is "
                 "set (agents prove the name with a certificate)");
        return NULL;
    }
    struct agent_instance *in = calloc(1, sizeof(*in));
    if (!in || (token_file && !(in->token_file = strdup(token_file)))) {
        free(in);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    in->host = host;
    in->expected = (size_t)s->get_int(s, "expected_tunnels", 1);
    snprintf(in->name, sizeof(in->name), "%s", s->name);
    TAILQ_INIT(&in->tunnels);
    if (!(in->ping = host->timer_new(host, ping_all, in))) {
        snprintf(err, err_len, "out of memory");
    } else if (agent_registry_join(in, err, err_len) == 0) {
        /* At once: the first round takes over the tunnels of the
         * instance this one replaces (ping_all). */
        host->timer_arm(in->ping, 0);
        return in;
    }
    host->timer_free(in->ping);
    free(in->token_file);
    free(in);
    return NULL;
}

static void tunnel_free(struct agent_tunnel *t)
{
    TAILQ_REMOVE(&t->in->tunnels, t, link);
    t->in->host->client_free(t->client);
    free(t);
}

/* Whether T's connection is still up; a dead one leaves the live count,
 * and is freed once its last stream closed. */
static int tunnel_live(struct agent_tunnel *t)
{
    if (t->dead)
        return 0;
    struct fg_client_state cs;
    t->in->host->client_state(t->client, &cs);
    if (cs.connected)
        return 1;
    t->dead = 1;
    t->in->n_live--;
    t->in->host->log(t->in->host, FG_LOG_WARN,
                     "member \"%s\": tunnel from %s lost (%zu left of %zu "
                     "expected)",
                     t->in->name, t->peer, t->in->n_live, t->in->expected);
    return 0;
}

/* Checks every tunnel, freeing the dead ones without streams. */
static void prune(struct agent_instance *in)
{
    struct agent_tunnel *t, *next;
    for (t = TAILQ_FIRST(&in->tunnels); t; t = next) {
        next = TAILQ_NEXT(t, link);
        if (!tunnel_live(t) && t->n_streams == 0)
            tunnel_free(t);
    }
}

/* Moves FROM's tunnels to TO, the same member's instance across a
 * reload: the agents' connections stay up, and the streams FROM opened on
 * them go on (a tunnel is freed after its last stream, whoever holds it). */
static void hand_over(struct agent_instance *from, struct agent_instance *to)
{
    size_t live = from->n_live;
    struct agent_tunnel *t;
    while ((t = TAILQ_FIRST(&from->tunnels)) != NULL) {
        TAILQ_REMOVE(&from->tunnels, t, link);
        t->in = to;
        TAILQ_INSERT_TAIL(&to->tunnels, t, link);
    }
    from->n_live = 0;
    to->n_live += live;
    if (live)
        to->host->log(to->host, FG_LOG_INFO,
                      "member \"%s\": %zu live tunnel(s) carried over to its "
                      "new instance (%zu live of %zu expected)",
                      to->name, live, to->n_live, to->expected);
}

/* Every ping_interval, and once at once: the member's newest instance
 * takes the tunnels of the older ones (a reload changed its section; the
 * instance only runs once the reload is taken), then a PING on each live
 * tunnel, whose connection the core drops when 3 intervals pass without
 * an answer (the agent does the same from its side). */
static void ping_all(void *arg)
{
    struct agent_instance *in = arg;
    uint64_t interval = agent_registry_ping_ms();
    if (agent_registry_find(in->name) == in)
        for (struct agent_instance *o = agent_registry_older(in); o;
             o = agent_registry_older(o))
            hand_over(o, in);
    prune(in);
    struct agent_tunnel *t;
    TAILQ_FOREACH(t, &in->tunnels, link)
    if (!t->dead)
        t->answered = in->host->client_ping(t->client, 3 * interval) == 1;
    in->host->timer_arm(in->ping, interval);
}

void agent_tunnel_add(struct agent_instance *in, struct fg_client *client,
                      const char *peer)
{
    struct agent_tunnel *t = calloc(1, sizeof(*t));
    if (!t) {
        in->host->client_free(client);
        return;
    }
    t->in = in;
    t->client = client;
    t->answered = 1; /* it just answered the handshake */
    snprintf(t->peer, sizeof(t->peer), "%s", peer);
    TAILQ_INSERT_TAIL(&in->tunnels, t, link);
    in->n_live++;
    prune(in);
    in->host->log(in->host, FG_LOG_INFO,
                  "member \"%s\": tunnel from %s joined (%zu live of %zu "
                  "expected)",
                  in->name, peer, in->n_live, in->expected);
}

static void instance_free(void *instance)
{
    struct agent_instance *in = instance;
    if (!in)
        return;
    agent_registry_leave(in);
    in->host->timer_free(in->ping);
    /* Another instance of the member (the one a reload made, or the one
     * it replaced, still draining) keeps the tunnels up. */
    struct agent_instance *heir = agent_registry_find(in->name);
    if (heir)
        hand_over(in, heir);
    while (!TAILQ_EMPTY(&in->tunnels))
        tunnel_free(TAILQ_FIRST(&in->tunnels));
    free(in->token_file);
    free(in);
}

static void instance_health(void *instance, struct fg_member_health *out)
{
    struct agent_instance *in = instance;
    memset(out, 0, sizeof(*out));
    prune(in);
    size_t answering = 0;
    struct agent_tunnel *t;
    TAILQ_FOREACH(t, &in->tunnels, link)
    answering += !t->dead && t->answered;
    out->ready = answering > 0;
    out->tunnels_live = (uint32_t)in->n_live;
    out->tunnels_expected = (uint32_t)in->expected;
    if (in->n_live == 0)
        snprintf(out->last_error, sizeof(out->last_error),
                 "no agent is connected");
    else if (!out->ready)
        snprintf(out->last_error, sizeof(out->last_error),
                 "no connected agent answered its last PING");
    else if (in->n_live < in->expected)
        snprintf(out->last_error, sizeof(out->last_error),
                 "%zu of %zu expected tunnels live", in->n_live, in->expected);
}

/* A request on its way: the tunnel's client stream (NULL when it was
 * answered 503 without one). */
struct agent_stream {
    struct agent_tunnel *t;
    struct fg_client_stream *cs;
};

/* The first live tunnel whose last PING was answered (else the first
 * live one), moved to the back: new streams take turns, and avoid a
 * tunnel that went quiet while the PING deadline still runs. */
static struct agent_tunnel *pick(struct agent_instance *in)
{
    prune(in);
    struct agent_tunnel *t, *quiet = NULL;
    TAILQ_FOREACH(t, &in->tunnels, link)
    {
        if (!t->dead && t->answered)
            break;
        if (!t->dead && !quiet)
            quiet = t;
    }
    if (!t)
        t = quiet;
    if (t) {
        TAILQ_REMOVE(&in->tunnels, t, link);
        TAILQ_INSERT_TAIL(&in->tunnels, t, link);
    }
    return t;
}

/* 503 ServiceUnavailable with Retry-After, as client-go retries it. */
static void unavailable(struct agent_instance *in,
                        const struct fg_stream_callbacks *cb, void *ctx)
{
    char msg[160];
    snprintf(msg, sizeof(msg),
             "the member cluster \"%s\" is unavailable: no agent is "
             "connected",
             in->name);
    struct fg_status st = {.code = 503, .message = msg};
    size_t len = 0;
    char *body = fg_status_build(&st, &len);
    if (!body) {
        cb->error(ctx, 503, "ServiceUnavailable", msg);
        return;
    }
    char clen[24];
    snprintf(clen, sizeof(clen), "%zu", len);
    const struct fg_header h[] = {
        {"content-type", 12, "application/json", 16},
        {"retry-after", 11, "1", 1},
        {"content-length", 14, clen, strlen(clen)},
    };
    if (cb->head(ctx, 503, h, 3) == 0 && cb->data(ctx, body, len) >= 0)
        cb->end(ctx);
    free(body);
}

static void *stream_open(void *instance, const struct fg_request_head *head,
                         const struct fg_stream_callbacks *cb, void *ctx)
{
    struct agent_instance *in = instance;
    struct agent_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->t = pick(in);
    if (!st->t) {
        unavailable(in, cb, ctx);
        return st;
    }
    /* the impersonation, and an upgrade's method (tunnel.h) */
    struct fg_header *extra =
        calloc(fg_impersonate_max(head->identity) + 1, sizeof(*extra));
    char *names = malloc(fg_impersonate_names_bytes(head->identity));
    if (!extra || !names) {
        free(extra);
        free(names);
        free(st);
        return NULL;
    }
    size_t n = fg_impersonate_headers(head->identity, extra, names);
    if (head->upgrade)
        extra[n++] =
            (struct fg_header){TUNNEL_H_METHOD, sizeof(TUNNEL_H_METHOD) - 1,
                               head->method, strlen(head->method)};
    st->cs =
        in->host->client_stream_open(st->t->client, head, extra, n, cb, ctx);
    free(extra); /* the client copied the headers */
    free(names);
    if (!st->cs) {
        free(st);
        return NULL;
    }
    st->t->n_streams++;
    return st;
}

static int stream_write(void *stream, const void *buf, size_t len)
{
    struct agent_stream *st = stream;
    return st->cs ? st->t->in->host->client_stream_write(st->cs, buf, len) : 0;
}

static void stream_end(void *stream)
{
    struct agent_stream *st = stream;
    if (st->cs)
        st->t->in->host->client_stream_end(st->cs);
}

static void stream_resume(void *stream)
{
    struct agent_stream *st = stream;
    if (st->cs)
        st->t->in->host->client_stream_resume(st->cs);
}

static void stream_close(void *stream)
{
    struct agent_stream *st = stream;
    if (st->cs) {
        struct agent_tunnel *t = st->t;
        t->in->host->client_stream_close(st->cs);
        if (--t->n_streams == 0 && !tunnel_live(t))
            tunnel_free(t);
    }
    free(st);
}

const struct fg_driver_ops agent_driver_ops = {
    .struct_size = sizeof(struct fg_driver_ops),
    .scope = FG_SCOPE_ONE_LOOP,
    .instance_new = instance_new,
    .instance_free = instance_free,
    .stream_open = stream_open,
    .stream_write = stream_write,
    .stream_end = stream_end,
    .stream_resume = stream_resume,
    .stream_close = stream_close,
    .health = instance_health,
};

static const struct fg_config_key agent_keys[] = {
    {"token_file", FG_CONFIG_FILE, NULL, 0, 0, 0,
     "file holding the token this member's agents prove their name with "
     "(read at every handshake); optional with [tunnel] client_ca_file"},
    {"expected_tunnels", FG_CONFIG_INT, "1", 0, 1, 1000,
     "tunnels (agent replicas) this member should have; fewer live is "
     "logged and shown in fedgate_member_tunnels"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor agent_descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_DRIVER,
    .name = "agent",
    .version = "1.0",
    .description = "serves a member through the tunnels its fedgate-agent "
                   "dials to the host",
    .config_keys = agent_keys,
    .ops = &agent_driver_ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(agent_descriptor)
