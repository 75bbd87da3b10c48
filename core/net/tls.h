/* The serving TLS context: TLS 1.2+, ALPN h2 and http/1.1. */
#ifndef FG_TLS_H
#define FG_TLS_H

#include <openssl/ssl.h>

#include "base/error.h"

/* CLIENT_CA may be NULL (no client certificates requested). */
SSL_CTX *fg_tls_server_ctx(const char *cert_file, const char *key_file,
                           const char *client_ca, struct fg_error *err);

/* Whether the handshake on SSL chose ALPN h2. */
int fg_tls_alpn_is_h2(const SSL *ssl);

#endif
