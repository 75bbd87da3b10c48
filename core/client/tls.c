/* TLS towards a server: a client context that verifies the server's
 * certificate against the configured CA (or, when told to, not at all), an
 * optional client certificate, and per connection SNI, name check and
 * ALPN. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client/client.h"

static void ssl_reason(char *err, size_t err_len, const char *what,
                       const char *path)
{
    unsigned long e = ERR_peek_last_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    snprintf(err, err_len, "cannot load %s \"%s\": %s", what, path,
             why ? why : "invalid file");
    ERR_clear_error();
}

/* Names the file when it cannot be opened at all: the usual mistake. */
static int readable(const char *what, const char *path, char *err,
                    size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot read %s \"%s\": %s", what, path,
                 strerror(errno));
        return 0;
    }
    fclose(f);
    return 1;
}

SSL_CTX *fg_client_tls_ctx_new(const struct fg_client_cfg *cfg, char *err,
                               size_t err_len)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, err_len, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (cfg->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        if (!readable("ca_file", cfg->ca_file, err, err_len))
            goto fail;
        if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
            ssl_reason(err, err_len, "ca_file", cfg->ca_file);
            goto fail;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    if (cfg->cert_file) {
        if (!readable("client_cert_file", cfg->cert_file, err, err_len) ||
            !readable("client_key_file", cfg->key_file, err, err_len))
            goto fail;
        if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
            ssl_reason(err, err_len, "client_cert_file", cfg->cert_file);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) !=
            1) {
            ssl_reason(err, err_len, "client_key_file", cfg->key_file);
            goto fail;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(err, err_len,
                     "client_key_file \"%s\" does not match "
                     "client_cert_file \"%s\"",
                     cfg->key_file, cfg->cert_file);
            ERR_clear_error();
            goto fail;
        }
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL *fg_client_tls_ssl_new(SSL_CTX *ctx, const struct fg_client_cfg *cfg,
                           int allow_h2)
{
    static const unsigned char both[] = "\x02h2\x08http/1.1";
    static const unsigned char h1_only[] = "\x08http/1.1";
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    const char *name = cfg->server_name ? cfg->server_name : cfg->url.host;
    int name_is_ip = !cfg->server_name && cfg->url.is_ip;
    /* SNI carries host names only (RFC 6066). */
    if (!name_is_ip && SSL_set_tlsext_host_name(ssl, name) != 1)
        goto fail;
    if (!cfg->insecure) {
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param,
                                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = name_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name)
                            : X509_VERIFY_PARAM_set1_host(param, name, 0);
        if (ok != 1)
            goto fail;
    }
    if (allow_h2 ? SSL_set_alpn_protos(ssl, both, sizeof(both) - 1)
                 : SSL_set_alpn_protos(ssl, h1_only, sizeof(h1_only) - 1))
        goto fail;
    return ssl;
fail:
    SSL_free(ssl);
    return NULL;
}
