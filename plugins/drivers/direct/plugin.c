/* The direct driver plugin: its descriptor and configuration keys, the
 * instance per member per worker (configuration, credentials re-read on
 * SIGHUP, the core's client, health), and its streams: each request goes
 * to the client in one call with the core's callbacks passed straight
 * through, the OpenAPI index (openapi.c) excepted. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "direct.h"

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    if (host->struct_size < offsetof(struct fg_host, tls_conn_close) +
                                sizeof(host->tls_conn_close) ||
        !host->client_new) {
        snprintf(err, err_len, "the direct driver needs a host with ABI 2.0");
        return NULL;
    }
    struct direct_instance *in = calloc(1, sizeof(*in));
    if (!in) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    in->host = host;
    snprintf(in->name, sizeof(in->name), "%s", s->name);
    if (direct_config_load(&in->cfg, s, err, err_len) != 0 ||
        direct_authorization_load(&in->cfg, &in->authorization, err, err_len) !=
            0 ||
        !(in->client = host->client_new(host, &in->cfg.client, err, err_len))) {
        free(in->authorization);
        direct_config_free(&in->cfg);
        free(in);
        return NULL;
    }
    if (in->cfg.client.insecure)
        host->log(host, FG_LOG_WARN,
                  "member \"%s\": insecure_skip_tls_verify = true: the "
                  "member's certificate is not verified",
                  in->name);
    in->health = direct_health_new(in);
    in->cert_not_after = direct_cert_not_after(in->cfg.client.cert_file);
    return in;
}

static void instance_free(void *instance)
{
    struct direct_instance *in = instance;
    if (!in)
        return;
    direct_health_free(in->health);
    in->host->client_free(in->client);
    free(in->authorization);
    direct_config_free(&in->cfg);
    free(in);
}

static void instance_reload(void *instance)
{
    struct direct_instance *in = instance;
    char *fresh = NULL;
    char err[512];
    if (direct_authorization_load(&in->cfg, &fresh, err, sizeof(err)) != 0 ||
        in->host->client_reload(in->client, err, sizeof(err)) != 0) {
        free(fresh);
        in->host->log(in->host, FG_LOG_ERROR,
                      "member \"%s\": keeping the old credentials: %s",
                      in->name, err);
        return;
    }
    free(in->authorization);
    in->authorization = fresh;
    in->cert_not_after = direct_cert_not_after(in->cfg.client.cert_file);
    in->host->log(in->host, FG_LOG_INFO, "member \"%s\": credentials reloaded",
                  in->name);
}

static void instance_health(void *instance, struct fg_member_health *out)
{
    struct direct_instance *in = instance;
    direct_health_get(in->health, out);
    out->client_cert_not_after = in->cert_not_after;
}

/* A request on its way: the client's stream, and the OpenAPI index's
 * rewrite when it is that request. */
struct direct_stream {
    struct direct_instance *in;
    const struct fg_host *host;
    struct fg_client_stream *cs;
    struct direct_rewrite *rw;
};

static void *stream_open(void *instance, const struct fg_request_head *head,
                         const struct fg_stream_callbacks *cb, void *ctx)
{
    struct direct_instance *in = instance;
    struct direct_stream *st = calloc(1, sizeof(*st));
    struct fg_header *extra =
        calloc(direct_extra_max(head->identity), sizeof(*extra));
    char *names = malloc(direct_extra_names_bytes(head->identity));
    if (!st || !extra || !names) {
        free(st);
        free(extra);
        free(names);
        return NULL;
    }
    st->in = in;
    st->host = in->host;
    if (direct_openapi_wanted(head))
        st->rw = direct_rewrite_new(head->base_path, cb, ctx); /* NULL: as is */
    size_t n = direct_extra_headers(in->authorization, in->cfg.impersonate,
                                    head->identity, extra, names);
    st->cs = in->host->client_stream_open(
        in->client, head, extra, n, st->rw ? &direct_rewrite_callbacks : cb,
        st->rw ? (void *)st->rw : ctx);
    free(extra); /* the client copied the headers */
    free(names);
    if (!st->cs) {
        direct_rewrite_free(st->rw);
        free(st);
        return NULL;
    }
    in->user_streams++;
    return st;
}

static int stream_write(void *stream, const void *buf, size_t len)
{
    struct direct_stream *st = stream;
    return st->host->client_stream_write(st->cs, buf, len);
}

static void stream_end(void *stream)
{
    struct direct_stream *st = stream;
    st->host->client_stream_end(st->cs);
}

static void stream_resume(void *stream)
{
    struct direct_stream *st = stream;
    st->host->client_stream_resume(st->cs);
}

static void stream_close(void *stream)
{
    struct direct_stream *st = stream;
    st->host->client_stream_close(st->cs);
    direct_rewrite_free(st->rw);
    st->in->user_streams--;
    st->in->user_last_ms = st->host->now_ms(st->host);
    free(st);
}

const struct fg_driver_ops direct_driver_ops = {
    .struct_size = sizeof(struct fg_driver_ops),
    .instance_new = instance_new,
    .instance_free = instance_free,
    .stream_open = stream_open,
    .stream_write = stream_write,
    .stream_end = stream_end,
    .stream_resume = stream_resume,
    .stream_close = stream_close,
    .health = instance_health,
    .reload = instance_reload,
};

#define MS_MAX (24LL * 3600 * 1000)

static const struct fg_config_key direct_keys[] = {
    {"server", FG_CONFIG_STRING, NULL, 1, 0, 0,
     "the member's kube-apiserver, https://HOST[:PORT]"},
    {"ca_file", FG_CONFIG_FILE, NULL, 0, 0, 0,
     "PEM CA bundle the member's certificate must chain to"},
    {"token_file", FG_CONFIG_FILE, NULL, 0, 0, 0,
     "file holding the bearer token the gateway presents"},
    {"client_cert_file", FG_CONFIG_FILE, NULL, 0, 0, 0,
     "PEM client certificate (instead of a token)"},
    {"client_key_file", FG_CONFIG_FILE, NULL, 0, 0, 0,
     "PEM private key of client_cert_file"},
    {"tls_server_name", FG_CONFIG_STRING, NULL, 0, 0, 0,
     "name to verify and send as SNI (default: the server's host)"},
    {"insecure_skip_tls_verify", FG_CONFIG_BOOL, "false", 0, 0, 0,
     "do not verify the member's certificate (logged at every start)"},
    {"impersonate", FG_CONFIG_BOOL, "true", 0, 0, 0,
     "send Impersonate-User/-Uid/-Group for the authenticated user"},
    {"connect_timeout", FG_CONFIG_DURATION, "5s", 0, 1, MS_MAX,
     "time to resolve, connect and complete TLS"},
    {"request_timeout", FG_CONFIG_DURATION, "60s", 0, 1, MS_MAX,
     "time for a whole request (not watches, follows or upgrades)"},
    {"idle_timeout", FG_CONFIG_DURATION, "90s", 0, 1, MS_MAX,
     "idle limit of long-lived streams (watches, follows, upgrades)"},
    {"connection_idle_timeout", FG_CONFIG_DURATION, "5s", 0, 1, MS_MAX,
     "a connection with no request this long is closed; the health probe "
     "does not keep it open"},
    {"max_streams", FG_CONFIG_INT, "100", 0, 1, 10000,
     "concurrent requests to the member (HTTP/2 streams or HTTP/1.1 "
     "connections)"},
    {"max_connections", FG_CONFIG_INT, "4", 0, 1, 64,
     "HTTP/2 connections to the member when each is at its "
     "MAX_CONCURRENT_STREAMS"},
    {"http2", FG_CONFIG_BOOL, "true", 0, 0, 0,
     "offer HTTP/2; false forces HTTP/1.1"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor direct_descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_DRIVER,
    .name = "direct",
    .version = "1.0",
    .description = "calls a member's kube-apiserver directly over TLS",
    .config_keys = direct_keys,
    .ops = &direct_driver_ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(direct_descriptor)
