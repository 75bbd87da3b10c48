/* Impersonation (kubectl --as, --as-group, --as-uid; Impersonate-User,
 * -Group, -Uid, -Extra-KEY): the questions kube-apiserver's impersonation
 * filter puts to the authorizer before a request runs as someone else,
 * and the identity it then runs as. Pure: the chain asks the questions. */
#ifndef FG_IMPERSONATION_H
#define FG_IMPERSONATION_H

#include <stddef.h>

#include <fedgate/driver.h>

#include "request/arena.h"

struct fg_impersonation {
    /* Verb "impersonate" on users, groups, serviceaccounts (NS and NAME of
     * system:serviceaccount:NS:NAME), uids or userextras/KEY, in the
     * order kube-apiserver asks them: user, groups, extras, uid. */
    struct fg_request_info *questions;
    size_t n_questions;
    /* What the request runs as once every question was allowed: the
     * groups as kube-apiserver builds them (a service account's own,
     * system:authenticated added, or system:unauthenticated for
     * system:anonymous). */
    struct fg_identity identity;
};

/* Reads the Impersonate-* headers of HEADERS (N; names in any case) into
 * OUT, allocated in A. Returns 0 when the client sent none, 1 when OUT
 * holds the questions, -1 when they cannot be honoured (a group, uid or
 * extra without a user; ERR says so: a 400), -2 when out of memory. */
int fg_impersonation_read(struct fg_arena *a, const struct fg_header *headers,
                          size_t n, struct fg_impersonation *out, char *err,
                          size_t err_len);

#endif
