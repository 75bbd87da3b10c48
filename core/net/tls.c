/* The serving TLS context: see tls.h. */
#include "net/tls.h"

#include <string.h>

#include <openssl/err.h>

static int fail_ssl(struct fg_error *err, const char *what, const char *file)
{
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
    ERR_clear_error();
    return fg_error_set(err, "%s %s: %s", what, file, buf);
}

/* Server preference: h2, then http/1.1. A client offering neither gets no
 * ALPN and speaks HTTP/1.1. */
static int select_alpn(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    static const char *const prefs[] = {"h2", "http/1.1"};
    for (size_t p = 0; p < 2; p++) {
        size_t plen = strlen(prefs[p]);
        for (unsigned int i = 0; i < inlen;) {
            unsigned int len = in[i];
            if (i + 1 + len > inlen)
                return SSL_TLSEXT_ERR_NOACK;
            if (len == plen && memcmp(in + i + 1, prefs[p], plen) == 0) {
                *out = in + i + 1;
                *outlen = (unsigned char)len;
                return SSL_TLSEXT_ERR_OK;
            }
            i += 1 + len;
        }
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static int keep_handshake(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1;
}

SSL_CTX *fg_tls_server_ctx(const char *cert_file, const char *key_file,
                           const char *client_ca, struct fg_error *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        fail_ssl(err, "cannot create a TLS context", "");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* HTTP/2 forbids TLS 1.2 suites without forward secrecy and AEAD. */
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);

    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        fail_ssl(err, "cannot load the certificate", cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        fail_ssl(err, "cannot load the private key", key_file);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        fail_ssl(err, "the key does not match the certificate", cert_file);
        goto fail;
    }
    if (client_ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
        if (!names ||
            SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
            fail_ssl(err, "cannot load the client CA", client_ca);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        /* Requested, not required: bearer tokens stay valid. A
         * certificate that fails verification does not end the handshake
         * either: as in kube-apiserver, the request goes on without an
         * identity from it (the policy chain passes verified ones only)
         * and gets a 401 Status, not a TLS alert. */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, keep_handshake);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int fg_tls_alpn_is_h2(const SSL *ssl)
{
    const unsigned char *proto = NULL;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &proto, &len);
    return len == 2 && memcmp(proto, "h2", 2) == 0;
}
