/* The direct driver's configuration: the member's server URL, its
 * credential files (read at start and again on SIGHUP) and its limits. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "direct.h"

/* Tokens are a line or two; anything bigger is not a token file. */
#define DIRECT_MAX_TOKEN 16384

int direct_url_parse(const char *url, struct direct_url *out, char *err,
                     size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (strncasecmp(url, "https://", 8) != 0) {
        snprintf(err, err_len, "server \"%s\" must be an https:// URL", url);
        return -1;
    }
    const char *p = url + 8, *host, *host_end;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) {
            snprintf(err, err_len, "server \"%s\": unclosed '['", url);
            return -1;
        }
        p = host_end + 1;
    } else {
        host = p;
        while (*p && *p != ':' && *p != '/')
            p++;
        host_end = p;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof(out->host)) {
        snprintf(err, err_len, "server \"%s\": missing or overlong host", url);
        return -1;
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = 0;
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)out->host[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '_')) {
            snprintf(err, err_len, "server \"%s\": invalid host", url);
            return -1;
        }
    }
    long port = 443;
    if (*p == ':') {
        char *end;
        errno = 0;
        port = strtol(p + 1, &end, 10);
        if (end == p + 1 || errno || port < 1 || port > 65535) {
            snprintf(err, err_len, "server \"%s\": invalid port", url);
            return -1;
        }
        p = end;
    }
    if (*p == '/')
        p++;
    if (*p) {
        snprintf(err, err_len,
                 "server \"%s\": a path, query or user info is not supported",
                 url);
        return -1;
    }
    out->port = (uint16_t)port;

    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->addr;
    if (inet_pton(AF_INET, out->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(out->port);
        out->addr_len = sizeof(*v4);
        out->is_ip = 1;
    } else if (inet_pton(AF_INET6, out->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(out->port);
        out->addr_len = sizeof(*v6);
        out->is_ip = 1;
    } else if (strchr(out->host, ':')) {
        snprintf(err, err_len, "server \"%s\": invalid host", url);
        return -1;
    }
    int v6lit = out->is_ip && v6->sin6_family == AF_INET6;
    /* Host must match what the server's certificate and routing expect:
     * the default port is left out, as clients do. */
    if (out->port == 443)
        snprintf(out->authority, sizeof(out->authority), v6lit ? "[%s]" : "%s",
                 out->host);
    else
        snprintf(out->authority, sizeof(out->authority),
                 v6lit ? "[%s]:%u" : "%s:%u", out->host, out->port);
    return 0;
}

static char *dup_opt(const char *s)
{
    return s ? strdup(s) : NULL;
}

int direct_config_load(struct direct_config *cfg, const struct fg_section *s,
                       char *err, size_t err_len)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->name, sizeof(cfg->name), "%s", s->name);
    const char *server = s->get(s, "server");
    if (!server) {
        snprintf(err, err_len, "server is required");
        return -1;
    }
    if (direct_url_parse(server, &cfg->url, err, err_len) != 0)
        return -1;
    cfg->ca_file = dup_opt(s->get(s, "ca_file"));
    cfg->token_file = dup_opt(s->get(s, "token_file"));
    cfg->cert_file = dup_opt(s->get(s, "client_cert_file"));
    cfg->key_file = dup_opt(s->get(s, "client_key_file"));
    cfg->server_name = dup_opt(s->get(s, "tls_server_name"));
    cfg->insecure = s->get_int(s, "insecure_skip_tls_verify", 0) != 0;
    cfg->impersonate = s->get_int(s, "impersonate", 1) != 0;
    cfg->http2 = s->get_int(s, "http2", 1) != 0;
    cfg->connect_timeout_ms = (uint64_t)s->get_int(s, "connect_timeout", 5000);
    cfg->request_timeout_ms = (uint64_t)s->get_int(s, "request_timeout", 60000);
    cfg->idle_timeout_ms = (uint64_t)s->get_int(s, "idle_timeout", 90000);
    cfg->max_streams = (int)s->get_int(s, "max_streams", 100);

    if (!cfg->insecure && !cfg->ca_file) {
        snprintf(err, err_len,
                 "ca_file is required unless insecure_skip_tls_verify = true");
        return -1;
    }
    if (!!cfg->cert_file != !!cfg->key_file) {
        snprintf(err, err_len,
                 "client_cert_file and client_key_file go "
                 "together");
        return -1;
    }
    if (cfg->cert_file && cfg->token_file) {
        snprintf(err, err_len, "set token_file or client_cert_file, not both");
        return -1;
    }
    if (!cfg->cert_file && !cfg->token_file) {
        snprintf(err, err_len,
                 "token_file or client_cert_file + client_key_file is "
                 "required");
        return -1;
    }
    if (cfg->server_name &&
        !direct_value_ok(cfg->server_name, strlen(cfg->server_name))) {
        snprintf(err, err_len, "tls_server_name is not a valid name");
        return -1;
    }
    if (cfg->max_streams < 1)
        cfg->max_streams = 1;
    return 0;
}

void direct_config_free(struct direct_config *cfg)
{
    free(cfg->ca_file);
    free(cfg->token_file);
    free(cfg->cert_file);
    free(cfg->key_file);
    free(cfg->server_name);
    memset(cfg, 0, sizeof(*cfg));
}

char *direct_read_token(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot read token_file \"%s\": %s", path,
                 strerror(errno));
        return NULL;
    }
    char *buf = malloc(DIRECT_MAX_TOKEN + 1);
    size_t n = buf ? fread(buf, 1, DIRECT_MAX_TOKEN + 1, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad || n > DIRECT_MAX_TOKEN) {
        snprintf(err, err_len, "cannot read token_file \"%s\": %s", path,
                 buf ? (n > DIRECT_MAX_TOKEN ? "too large" : "read error")
                     : "out of memory");
        free(buf);
        return NULL;
    }
    size_t b = 0;
    while (b < n && isspace((unsigned char)buf[b]))
        b++;
    while (n > b && isspace((unsigned char)buf[n - 1]))
        n--;
    memmove(buf, buf + b, n - b);
    buf[n - b] = 0;
    if (n == b) {
        snprintf(err, err_len, "token_file \"%s\" is empty", path);
        free(buf);
        return NULL;
    }
    /* The token goes into a header: it may not break the header block. */
    for (size_t i = 0; i < n - b; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, err_len, "token_file \"%s\" holds control characters",
                     path);
            free(buf);
            return NULL;
        }
    }
    return buf;
}

int direct_creds_load(const struct direct_config *cfg, struct direct_creds *out,
                      char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (cfg->token_file) {
        out->token = direct_read_token(cfg->token_file, err, err_len);
        if (!out->token)
            return -1;
    }
    out->ctx = direct_tls_ctx_new(cfg, err, err_len);
    if (!out->ctx) {
        free(out->token);
        out->token = NULL;
        return -1;
    }
    return 0;
}

void direct_creds_free(struct direct_creds *c)
{
    free(c->token);
    SSL_CTX_free(c->ctx);
    memset(c, 0, sizeof(*c));
}
