/* TLS towards a server: a client context that verifies the server's
 * certificate against the configured CA (or, when told to, not at all), an
 * optional client certificate, and per connection SNI, name check and
 * ALPN. Contexts are shared: a context with its CA store is tens of
 * kilobytes, and a fleet's members mostly trust one CA with one client
 * identity, so clients whose files hold the same bytes (on every worker)
 * use one context. Sharing goes by the files' contents, so a reload that
 * finds them changed makes a new context and live connections keep the
 * old one. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client/client.h"

/* One shared context: what it was made of (a digest of the settings and
 * the files' bytes) and how many clients hold it. */
struct shared_ctx {
    unsigned char key[32];
    SSL_CTX *ctx;
    size_t users;
    struct shared_ctx *next;
};

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_ctx *shared_list;

static void ssl_reason(char *err, size_t err_len, const char *what,
                       const char *path)
{
    unsigned long e = ERR_peek_last_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    snprintf(err, err_len, "cannot load %s \"%s\": %s", what, path,
             why ? why : "invalid file");
    ERR_clear_error();
}

/* Adds the bytes of PATH and their count to MD; 0 with ERR naming the file
 * when it cannot be read (the usual mistake). */
static int digest_file(EVP_MD_CTX *md, const char *what, const char *path,
                       char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot read %s \"%s\": %s", what, path,
                 strerror(errno));
        return 0;
    }
    unsigned char buf[4096];
    uint64_t total = 0;
    size_t n;
    int ok = 1;
    while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
        ok = EVP_DigestUpdate(md, buf, n) == 1;
        total += n;
    }
    if (ferror(f)) {
        snprintf(err, err_len, "cannot read %s \"%s\": %s", what, path,
                 strerror(errno));
        ok = 0;
    }
    fclose(f);
    OPENSSL_cleanse(buf, sizeof(buf)); /* it may have held a private key */
    /* the count after the bytes keeps two files apart in the digest */
    return ok && EVP_DigestUpdate(md, &total, sizeof(total)) == 1;
}

/* What a context made from CFG is made of: whether it verifies, the CA's
 * bytes, the client certificate's and key's. */
static int ctx_key(const struct fg_client_cfg *cfg, unsigned char key[32],
                   char *err, size_t err_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char flags[2] = {(unsigned char)!!cfg->insecure,
                              (unsigned char)!!cfg->cert_file};
    unsigned len = 0;
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, flags, sizeof(flags)) == 1;
    if (!ok)
        snprintf(err, err_len, "out of memory");
    if (ok && !cfg->insecure)
        ok = digest_file(md, "ca_file", cfg->ca_file, err, err_len);
    if (ok && cfg->cert_file)
        ok =
            digest_file(md, "client_cert_file", cfg->cert_file, err, err_len) &&
            digest_file(md, "client_key_file", cfg->key_file, err, err_len);
    if (ok && EVP_DigestFinal_ex(md, key, &len) != 1) {
        snprintf(err, err_len, "out of memory");
        ok = 0;
    }
    EVP_MD_CTX_free(md);
    return ok;
}

static SSL_CTX *ctx_load(const struct fg_client_cfg *cfg, char *err,
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
        if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
            ssl_reason(err, err_len, "ca_file", cfg->ca_file);
            goto fail;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    if (cfg->cert_file) {
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

SSL_CTX *fg_client_tls_ctx_get(const struct fg_client_cfg *cfg, char *err,
                               size_t err_len)
{
    unsigned char key[32];
    if (!ctx_key(cfg, key, err, err_len))
        return NULL;
    pthread_mutex_lock(&shared_lock);
    struct shared_ctx *e = shared_list;
    while (e && memcmp(e->key, key, sizeof(key)) != 0)
        e = e->next;
    if (!e) {
        /* loaded under the lock: workers starting together load it once */
        SSL_CTX *ctx = ctx_load(cfg, err, err_len);
        if (ctx && !(e = calloc(1, sizeof(*e)))) {
            snprintf(err, err_len, "out of memory");
            SSL_CTX_free(ctx);
        }
        if (e) {
            memcpy(e->key, key, sizeof(key));
            e->ctx = ctx;
            e->next = shared_list;
            shared_list = e;
        }
    }
    SSL_CTX *out = NULL;
    if (e) {
        e->users++;
        out = e->ctx;
    }
    pthread_mutex_unlock(&shared_lock);
    return out;
}

void fg_client_tls_ctx_put(SSL_CTX *ctx)
{
    if (!ctx)
        return;
    pthread_mutex_lock(&shared_lock);
    struct shared_ctx **p = &shared_list;
    while (*p && (*p)->ctx != ctx)
        p = &(*p)->next;
    struct shared_ctx *e = *p;
    if (e && --e->users == 0)
        *p = e->next;
    else
        e = NULL;
    pthread_mutex_unlock(&shared_lock);
    if (e) {
        SSL_CTX_free(e->ctx);
        free(e);
    }
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
