/* Which clusters a caller sees (fleet_internal.h): those where the policy
 * chain's authorizers give them more than every user holds
 * (request/basic_rules.h), in the cluster-wide rules the authorizers list
 * (rules(), what a SelfSubjectRulesReview shows). A chain that cannot list
 * its rules shows every cluster: the caller was let list them. Lists and
 * watches also keep only what their name and label selectors ask for. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

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

int fg_fleet_shown(struct fg_exchange *ex, const struct fg_fleet_filter *flt,
                   const cJSON *obj)
{
    const cJSON *name = fg_json_path(obj, "metadata.name");
    return cJSON_IsString(name) &&
           (!flt->name[0] || strcmp(name->valuestring, flt->name) == 0) &&
           fg_selector_match(flt->labels, obj) &&
           fg_fleet_visible(ex, name->valuestring);
}
