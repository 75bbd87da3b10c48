/* fedgatectl's bearer tokens: a new random token appended, with its
 * identity, as one line of an authn_token file (kube-apiserver's static
 * token CSV). */
#ifndef FG_CTL_TOKEN_LINE_H
#define FG_CTL_TOKEN_LINE_H

#include <stddef.h>

#include "base/error.h"

/* Whether NAME can be a user or group name in a token line or a
 * certificate: non-empty UTF-8 text without control characters (names
 * travel on in headers), and for a group no ',' (the groups column is a
 * comma-separated list). */
int fg_ctl_name_ok(const char *name, int is_group);

/* Makes a token (256 random bits, 64 hex digits, into TOKEN) and appends
 * `"TOKEN","USER","UID","G1,G2"` (RFC 4180 quoting; UID a random UUID) to
 * PATH, creating it 0600 if missing, under an exclusive lock. Returns 0,
 * or -1 with ERR. */
int fg_ctl_token_append(const char *path, const char *user,
                        const char *const *groups, size_t n_groups,
                        char token[65], struct fg_error *err);

#endif
