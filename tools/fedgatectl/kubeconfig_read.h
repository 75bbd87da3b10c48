/* Reading a kubeconfig the way kubectl does, for fedgatectl's requests to
 * the host's own API: the context (given, else fedgate.fleet when there is
 * one, else current-context), its cluster's server and CA, its user's
 * token or client certificate, inline (*-data, base64) or in files. */
#ifndef FG_CTL_KUBECONFIG_READ_H
#define FG_CTL_KUBECONFIG_READ_H

#include <stddef.h>

/* What a request needs; strings malloc'd (NULL: absent). The CA and the
 * client certificate come as PEM text or as a path, not both. */
struct fg_ctl_kubeconfig {
    char *context;
    char *server; /* https://HOST[:PORT], its path dropped: the host's API
                     is at the root */
    char *ca_pem, *ca_file;
    char *token;
    char *cert_pem, *cert_file, *key_pem, *key_file;
};

/* Reads the kubeconfig TEXT (LEN bytes, from FILE) for CONTEXT (NULL: as
 * above). Returns 0, or -1 with "FILE: why" in ERR. Relative file paths
 * are taken from FILE's directory, as kubectl takes them. */
int fg_ctl_kubeconfig_read(const char *text, size_t len, const char *file,
                           const char *context, struct fg_ctl_kubeconfig *out,
                           char *err, size_t err_len);

/* Frees what OUT holds, the credentials wiped first. */
void fg_ctl_kubeconfig_free(struct fg_ctl_kubeconfig *out);

#endif
