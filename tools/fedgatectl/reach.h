/* Which members a new identity can do something in, asked of the running
 * gateway before fedgatectl issues its credential: the admin (whose token
 * fedgatectl reads as the gateway's user) asks for SelfSubjectRulesReviews
 * acting as the user and groups, as kubectl --as --as-group would, so the
 * answer is the gateway's own rules for that identity and needs neither
 * the new credential nor a SIGHUP first. */
#ifndef FG_CTL_REACH_H
#define FG_CTL_REACH_H

#include <stddef.h>

#include "client/ask.h"
#include "base/error.h"

struct fg_ctl_identity {
    const char *user;
    const char *const *groups;
    size_t n_groups;
};

/* For MEMBER: 1 when ID may do more there than every user may (see
 * answers.h), with *NAMESPACE the one namespace it may do that in
 * (malloc'd), or NULL when that is cluster-wide or in several; 0 when it
 * may do nothing more; -1 when the member could not be asked (ERR). */
int fg_ctl_reach(const struct fg_ask_server *gw,
                 const struct fg_ctl_identity *id, const char *member,
                 char **namespace_, struct fg_error *err);

#endif
