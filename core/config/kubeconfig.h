/* The host's admin credential and the kubeconfig that hands it out: one
 * bearer token kept in the state directory, and a kubeconfig with a
 * cluster and context per member, all reached through the gateway. */
#ifndef FG_KUBECONFIG_H
#define FG_KUBECONFIG_H

#include <stddef.h>

#include "base/error.h"

/* STATE_DIR/admin.token: 256 random bits as 64 lower-case hex digits and a
 * newline, created 0600 on first use and read back afterwards. A file that
 * group or others can access, or that holds anything else, is refused.
 * Returns 0 with the token (NUL-terminated) in OUT, or -1. */
int fg_admin_token_ensure(const char *state_dir, char out[65],
                          struct fg_error *err);

/* The context (and cluster) of the host's own API, at SERVER_BASE: a
 * name no member can have, since member names are DNS-1123 labels. */
#define FG_FLEET_CONTEXT "fedgate.fleet"

/* Writes PATH (atomically, mode 0600) as a kubeconfig with, per member
 * NAME, a cluster NAME at SERVER_BASE/clusters/NAME trusting the CA in
 * CA_PEM_FILE, and a context NAME using the user "fedgate-admin" (TOKEN);
 * with FLEET also the context FG_FLEET_CONTEXT for the host's own API and,
 * with more than one member, a context FG_KUBECONFIG_ALL listing across them.
 * CURRENT (NULL: the first member) becomes current-context. Member names
 * must be DNS-1123 labels and SERVER_BASE an https:// URL. The file is
 * JSON, which kubectl reads as the YAML it is. Returns 0 or -1. */
int fg_kubeconfig_write(const char *path, const char *server_base,
                        const char *ca_pem_file, const char *token,
                        const char *const *members, size_t n_members,
                        const char *current, int fleet, struct fg_error *err);

/* The one user of a kubeconfig and its credential: a bearer token, or a
 * client certificate and its key (PEM texts). NAMESPACES, when set, holds
 * per member the namespace its context defaults to (NULL: none). */
struct fg_kubeconfig_user {
    const char *name;
    const char *token; /* NULL: the certificate */
    const char *client_cert_pem;
    const char *client_key_pem;
    const char *const *namespaces;
    /* Also a cluster and context FG_KUBECONFIG_ALL at SERVER_BASE/clusters/
     * followed by "*" (every member at once: lists across clusters). */
    int all_context;
    int fleet; /* a context FG_FLEET_CONTEXT for the host's own API too */
};

/* The name of that context: no DNS-1123 label (member names are) can
 * start with '_', so it never clashes with a member's. */
#define FG_KUBECONFIG_ALL "_all"

/* The kubeconfig fg_kubeconfig_write writes, for USER, as malloc'd text
 * (wipe it before freeing: it holds the credential). Messages name WHERE.
 * NULL on error. */
char *fg_kubeconfig_text(const char *where, const char *server_base,
                         const char *ca_pem_file,
                         const struct fg_kubeconfig_user *user,
                         const char *const *members, size_t n_members,
                         const char *current, struct fg_error *err);

#endif
