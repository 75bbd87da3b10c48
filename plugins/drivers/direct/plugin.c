/* The direct driver plugin: its descriptor and configuration keys, and
 * the instance per member per worker (configuration, credentials re-read
 * on SIGHUP, connections, health). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>

#include "direct.h"

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    if (host->struct_size <
            offsetof(struct fg_host, event_base) + sizeof(host->event_base) ||
        !host->event_base) {
        snprintf(err, err_len, "the direct driver needs a host with ABI 1.1");
        return NULL;
    }
    struct direct_instance *in = calloc(1, sizeof(*in));
    if (!in) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    in->host = host;
    in->base = host->event_base(host);
    TAILQ_INIT(&in->pending);
    LIST_INIT(&in->h1);
    if (direct_config_load(&in->cfg, s, err, err_len) != 0 ||
        direct_creds_load(&in->cfg, &in->creds, err, err_len) != 0) {
        direct_config_free(&in->cfg);
        free(in);
        return NULL;
    }
    if (in->cfg.insecure)
        host->log(host, FG_LOG_WARN,
                  "member \"%s\": insecure_skip_tls_verify = true: the "
                  "member's certificate is not verified",
                  in->cfg.name);
    in->proto = in->cfg.http2 ? DIRECT_PROTO_UNKNOWN : DIRECT_PROTO_H1;
    in->health = direct_health_new(in);
    return in;
}

static void instance_free(void *instance)
{
    struct direct_instance *in = instance;
    if (!in)
        return;
    direct_health_free(in->health);
    in->health = NULL;
    in->freeing = 1;
    /* streams still queued belong to the core; it closes them */
    while (!TAILQ_EMPTY(&in->pending)) {
        struct direct_stream *st = TAILQ_FIRST(&in->pending);
        TAILQ_REMOVE(&in->pending, st, link);
        st->queued = 0;
    }
    direct_h2_free(in->h2);
    direct_h1_free_all(in);
    if (in->dns)
        evdns_base_free(in->dns, 0);
    direct_creds_free(&in->creds);
    direct_config_free(&in->cfg);
    free(in);
}

static void instance_reload(void *instance)
{
    struct direct_instance *in = instance;
    struct direct_creds fresh;
    char err[512];
    if (direct_creds_load(&in->cfg, &fresh, err, sizeof(err)) != 0) {
        in->host->log(in->host, FG_LOG_ERROR,
                      "member \"%s\": keeping the old credentials: %s",
                      in->cfg.name, err);
        return;
    }
    direct_creds_free(&in->creds);
    in->creds = fresh;
    in->host->log(in->host, FG_LOG_INFO, "member \"%s\": credentials reloaded",
                  in->cfg.name);
}

static void instance_health(void *instance, struct fg_member_health *out)
{
    struct direct_instance *in = instance;
    direct_health_get(in->health, out);
}

const struct fg_driver_ops direct_driver_ops = {
    .struct_size = sizeof(struct fg_driver_ops),
    .instance_new = instance_new,
    .instance_free = instance_free,
    .stream_open = direct_op_stream_open,
    .stream_write = direct_op_stream_write,
    .stream_end = direct_op_stream_end,
    .stream_resume = direct_op_stream_resume,
    .stream_close = direct_op_stream_close,
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
     "idle limit of pooled connections and long-lived streams"},
    {"max_streams", FG_CONFIG_INT, "100", 0, 1, 10000,
     "concurrent requests to the member (HTTP/2 streams or HTTP/1.1 "
     "connections)"},
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
