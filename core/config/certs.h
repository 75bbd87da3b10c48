/* The gateway's own TLS identity when [tls] names no certificate: a CA
 * created once in the state directory, and a serving certificate signed by
 * it that is re-issued whenever it is no longer fit, while the CA (which
 * the kubeconfigs pin) is kept. */
#ifndef FG_CERTS_H
#define FG_CERTS_H

#include <stddef.h>
#include <time.h>

#include "base/error.h"

struct fg_cert_files {
    char *ca_cert;     /* STATE_DIR/ca.crt */
    char *server_cert; /* STATE_DIR/server.crt */
    char *server_key;  /* STATE_DIR/server.key */
    int ca_created;    /* a new CA was made: kubeconfigs must be rewritten */
    int server_issued; /* a new serving certificate was made */
};

/* Makes sure STATE_DIR (created 0700 with its parents if missing) holds a
 * usable CA (ca.crt, ca.key) and serving certificate (server.crt,
 * server.key). The serving certificate names localhost, 127.0.0.1, ::1,
 * this host's name and each of EXTRA_SANS (an IP address if it parses as
 * one, else a DNS name). An existing one is kept if its key matches, it
 * chains to ca.crt, it names all of these, and it stays valid for 30 more
 * days; otherwise it is re-issued. A CA is created only if there is none
 * (or it expires within 30 days). Returns 0 with OUT's paths set (free with
 * fg_cert_files_free), or -1 with a message naming the file at fault. */
int fg_certs_ensure(const char *state_dir, const char *const *extra_sans,
                    size_t n_extra, struct fg_cert_files *out,
                    struct fg_error *err);

/* fg_certs_ensure as of the time NOW: what it checks and what it issues is
 * relative to NOW (tests use it to let time pass). */
int fg_certs_ensure_at(const char *state_dir, const char *const *extra_sans,
                       size_t n_extra, time_t now, struct fg_cert_files *out,
                       struct fg_error *err);

void fg_cert_files_free(struct fg_cert_files *f);

/* A client certificate for USER in GROUPS (subject CN=USER and one O per
 * group, as kube-apiserver reads them; extended key usage clientAuth; a
 * new EC P-256 key) signed by STATE_DIR's CA (ca.crt, ca.key 0600), valid
 * from NOW (backdated a little) for TTL_SECONDS, never past the CA.
 * Returns 0 with malloc'd PEM texts (the caller wipes *KEY_PEM before
 * freeing it), or -1 with a message naming the file at fault. */
int fg_certs_issue_client(const char *state_dir, const char *user,
                          const char *const *groups, size_t n_groups,
                          long ttl_seconds, time_t now, char **cert_pem,
                          char **key_pem, struct fg_error *err);

/* Whether NAME can be a subject alternative name of the serving
 * certificate: an IPv4 or IPv6 address, or a DNS name (wildcards too). */
int fg_certs_name_ok(const char *name);

#endif
