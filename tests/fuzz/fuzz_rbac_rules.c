/* libFuzzer target for the rbac plugin's rule files
 * (plugins/policy/rbac: YAML or JSON documents, RBAC objects): any bytes
 * either load into a policy that answers questions and lists rules, or
 * are refused with a message naming the file and line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbac.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(void *arg, const struct fg_policy_rule *r)
{
    if (!r->n_verbs)
        abort(); /* validation lets no rule without verbs through */
    ++*(size_t *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    struct rbac_policy *p = calloc(1, sizeof(*p));
    if (!p)
        return 0;
    if (rbac_add_text(p, (const char *)data, size, "f", err, sizeof(err)) !=
            0 ||
        rbac_resolve(p, err, sizeof(err)) != 0) {
        if (strncmp(err, "f:", 2) != 0)
            abort();
        rbac_policy_free(p);
        return 0;
    }
    static const char *const groups[] = {"system:authenticated", "g"};
    struct fg_identity id = {.user = "u", .groups = groups, .n_groups = 2};
    struct rbac_attrs a = {.user = "u",
                           .groups = groups,
                           .n_groups = 2,
                           .member = "demo",
                           .is_resource = 1,
                           .verb = "get",
                           .api_group = "",
                           .resource = "pods",
                           .subresource = "log",
                           .name = "p",
                           .namespace_ = "ns",
                           .path = "/api/v1/namespaces/ns/pods/p/log"};
    size_t n = 0;
    const struct rbac_binding *b = rbac_allows(p, &a);
    rbac_rules_for(p, &id, "demo", "ns", count, &n);
    if (b && n == 0)
        abort(); /* an allowing binding lists at least one rule */
    a.is_resource = 0;
    a.member = NULL;
    rbac_allows(p, &a);
    rbac_policy_free(p);
    return 0;
}
