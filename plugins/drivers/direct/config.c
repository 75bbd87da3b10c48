/* The direct driver's configuration: the member's server URL, its
 * credential files (read at start and again on SIGHUP) and its limits, as
 * the core's client takes them (host.h fg_client_config), plus the bearer
 * token and impersonation the driver adds itself. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "direct.h"

int direct_config_load(struct direct_config *cfg, const struct fg_section *s,
                       char *err, size_t err_len)
{
    memset(cfg, 0, sizeof(*cfg));
    struct fg_client_config *c = &cfg->client;
    c->struct_size = sizeof(*c);
    c->name = s->name;
    c->server = s->get(s, "server");
    c->ca_file = s->get(s, "ca_file");
    c->cert_file = s->get(s, "client_cert_file");
    c->key_file = s->get(s, "client_key_file");
    c->server_name = s->get(s, "tls_server_name");
    c->insecure = s->get_int(s, "insecure_skip_tls_verify", 0) != 0;
    c->http2 = s->get_int(s, "http2", 1) != 0;
    c->connect_timeout_ms = (uint64_t)s->get_int(s, "connect_timeout", 5000);
    c->request_timeout_ms = (uint64_t)s->get_int(s, "request_timeout", 60000);
    c->idle_timeout_ms = (uint64_t)s->get_int(s, "idle_timeout", 90000);
    c->max_streams = (int)s->get_int(s, "max_streams", 100);
    c->max_connections = (int)s->get_int(s, "max_connections", 4);
    c->connection_idle_timeout_ms =
        (uint64_t)s->get_int(s, "connection_idle_timeout", 5000);
    cfg->impersonate = s->get_int(s, "impersonate", 1) != 0;
    const char *token_file = s->get(s, "token_file");

    if (c->cert_file && token_file) {
        snprintf(err, err_len, "set token_file or client_cert_file, not both");
        return -1;
    }
    if (!c->cert_file && !token_file) {
        snprintf(err, err_len,
                 "token_file or client_cert_file + client_key_file is "
                 "required");
        return -1;
    }
    if (token_file && !(cfg->token_file = strdup(token_file))) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

void direct_config_free(struct direct_config *cfg)
{
    free(cfg->token_file);
    memset(cfg, 0, sizeof(*cfg));
}

int direct_authorization_load(const struct direct_config *cfg, char **out,
                              char *err, size_t err_len)
{
    *out = NULL;
    if (!cfg->token_file)
        return 0;
    char *token = fg_secret_read(cfg->token_file, "token_file", err, err_len);
    if (!token)
        return -1;
    size_t n = strlen(token);
    *out = malloc(7 + n + 1);
    if (*out) {
        memcpy(*out, "Bearer ", 7);
        memcpy(*out + 7, token, n + 1);
    } else {
        snprintf(err, err_len, "out of memory");
    }
    free(token);
    return *out ? 0 : -1;
}
