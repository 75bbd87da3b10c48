/* Joining a member: one implementation for the host's API (writes of
 * clusters) and `fedgatectl join`/`unjoin`. A direct member's /version is
 * asked with the credentials before anything is written; then the
 * credentials go to conf.d/members/NAME/ (0600) and the section to
 * conf.d/members/NAME.ini, each atomically; a removal takes exactly what a
 * join wrote. conf.d stays the source of truth: a reload applies it. */
#ifndef FG_FLEET_JOIN_H
#define FG_FLEET_JOIN_H

#include <stddef.h>

#include "base/error.h"

struct fg_config;
struct fg_config_section;

enum fg_join_kind {
    FG_JOIN_TOKEN, /* direct, a bearer token */
    FG_JOIN_CERT,  /* direct, a client certificate and key */
    FG_JOIN_AGENT, /* agent: a new token the member's agent proves */
};

/* A member to write. The credentials are in memory (PEM, the token);
 * KEEP_FILES: they are in conf.d/members/NAME/ already (an update of
 * labels or provider): only NAME.ini is written again. */
struct fg_join {
    const char *name;
    enum fg_join_kind kind;
    const char *server; /* direct: https://HOST[:PORT] */
    const char *ca_pem, *token, *cert_pem, *key_pem;
    size_t ca_len, cert_len, key_len;
    const char *labels;   /* "k=v, k2=v2" (checked), or "" */
    const char *provider; /* a label value, or NULL */
    const char *writer;   /* named in the ini's first comment */
    int keep_files;
};

/* Asks the direct member J's /version with J's credentials, waiting at
 * most TIMEOUT_MS per step. Returns 0 with its gitVersion in VERSION, or
 * -1 with the reason in ERR ("the member at URL: ..."). Blocks: never on
 * a worker's loop. */
int fg_join_check(const struct fg_join *j, int timeout_ms, char *version,
                  size_t len, struct fg_error *err);

/* Writes J's files under MEMBERS (DIR/members): 0, or -1 with ERR and
 * nothing left of what it wrote. */
int fg_join_write(const char *members, const struct fg_join *j,
                  struct fg_error *err);

/* Removes MEMBERS/NAME.ini and MEMBERS/NAME/ (its files). */
void fg_join_remove(const char *members, const char *name);

/* CFG's members directory into OUT (PATH_MAX bytes): 0, -1 too long. */
int fg_join_members_dir(const struct fg_config *cfg, char *out);

/* Whether S is declared in MEMBERS/NAME.ini, where a join writes it (and
 * so a removal may take it). */
int fg_join_owns(const char *members, const struct fg_config_section *s);

#endif
