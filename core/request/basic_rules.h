/* What every authenticated user may do on every cluster (kube-apiserver's
 * system:discovery and system:basic-user): get discovery, health and
 * version URLs, and create the self-reviews. A rule within these grants
 * nothing of a cluster itself; fedgatectl kubeconfig --server and the
 * host's Cluster list both ask for more before they show a cluster. */
#ifndef FG_BASIC_RULES_H
#define FG_BASIC_RULES_H

#include <fedgate/policy.h>

extern const char *const fg_basic_urls[];       /* NULL-terminated */
extern const char *const fg_basic_get[];        /* {"get"} */
extern const char *const fg_basic_create[];     /* {"create"} */
extern const char *const fg_review_groups[];    /* authorization, authn */
extern const char *const fg_review_resources[]; /* selfsubject*reviews */

/* Whether R grants no more than every user holds (resourceNames only
 * narrow a rule and are not looked at). */
int fg_policy_rule_is_basic(const struct fg_policy_rule *r);

#endif
