/* Helpers of the rbac unit tests: policies from YAML text, and requests
 * as the core describes them. */
#ifndef FG_TEST_RBAC_FIXTURE_H
#define FG_TEST_RBAC_FIXTURE_H

#include "rbac.h"

/** Loads YAML (a rule file's text) through a temporary file; NULL with
 * ERR as rbac_load gives it, the file named "rules.yaml". */
struct rbac_policy *policy_from(const char *yaml, char *err, size_t err_len);

/** The attributes of METHOD PATH?QUERY on MEMBER (NULL: the gateway's
 * own API) by USER in GROUPS (comma-separated, "" for none), the request
 * info parsed by the core's parser. Valid until the next call. */
const struct rbac_attrs *request(const char *user, const char *groups,
                                 const char *member, const char *method,
                                 const char *path, const char *query);

/** Whether POLICY allows the request above. */
int allowed(const struct rbac_policy *p, const char *user, const char *groups,
            const char *member, const char *method, const char *path);

#endif
