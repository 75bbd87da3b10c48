/* Reading a kubeconfig: the API server and credential of its current
 * context, as fedgate-agent calls its member's kube-apiserver with them.
 * (kubeconfig.h writes kubeconfigs; this file only reads them.) */
#ifndef FG_KUBECONFIG_READ_H
#define FG_KUBECONFIG_READ_H

#include <stddef.h>

#include "base/error.h"

/* The largest kubeconfig read, and how deep and big its YAML may be. */
#define FG_KUBECONFIG_MAX_BYTES (4 * 1024 * 1024)
#define FG_KUBECONFIG_MAX_DEPTH 32
#define FG_KUBECONFIG_MAX_NODES 100000

/* The current context's cluster and user. Paths are resolved against the
 * kubeconfig's directory, as kubectl resolves them; the *-data fields are
 * decoded PEM. Every field may be NULL but SERVER; a user has a token, a
 * token file, or a client certificate with its key (a token wins over a
 * token file, as in client-go). All malloc'd. */
struct fg_kubeconfig_target {
    char *server;
    char *tls_server_name;
    char *ca_file;
    char *ca_pem;
    size_t ca_pem_len;
    char *token;
    char *token_file;
    char *cert_file, *key_file;
    char *cert_pem, *key_pem;
    size_t cert_pem_len, key_pem_len;
};

/* Parses TEXT (LEN bytes) read from FILE. Returns 0, or -1 with ERR
 * "FILE:LINE: key: reason" (no line where the key is missing). What
 * fedgate-agent cannot honour (exec and auth-provider plugins, basic
 * auth, insecure-skip-tls-verify, proxy-url) is refused, not ignored. */
int fg_kubeconfig_read(const char *text, size_t len, const char *file,
                       struct fg_kubeconfig_target *out, struct fg_error *err);

/* Frees T's fields, wiping the secrets first; T itself is the caller's. */
void fg_kubeconfig_target_free(struct fg_kubeconfig_target *t);

#endif
