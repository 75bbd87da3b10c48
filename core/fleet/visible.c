/* Which clusters a caller sees (fleet_internal.h): those where the policy
 * chain's authorizers give them more than every user holds
 * (request/basic_rules.h), in the cluster-wide rules the authorizers list
 * (rules(), what a SelfSubjectRulesReview shows). A chain that cannot list
 * its rules shows every cluster: the caller was let list them. */
#include <stdio.h>

#include "fleet/fleet_internal.h"
#include "request/basic_rules.h"
#include "request/exchange_internal.h"
#include "request/policy_chain.h"

static void note(void *arg, const struct fg_policy_rule *r)
{
    if (!fg_policy_rule_is_basic(r))
        *(int *)arg = 1;
}

int fg_fleet_visible(struct fg_exchange *ex, const char *member)
{
    if (!ex->policy)
        return 1;
    int more = 0;
    char error[256];
    int incomplete =
        fg_policy_rules_on(ex, member, "", note, &more, error, sizeof(error));
    return more || incomplete;
}
