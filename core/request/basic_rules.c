/* The rules every user holds (basic_rules.h). "*" anywhere, or any name
 * outside the sets, makes a rule more. */
#include "request/basic_rules.h"

#include <string.h>

const char *const fg_basic_urls[] = {
    "/api",    "/api/*",   "/apis",      "/apis/*",  "/healthz",  "/livez",
    "/readyz", "/openapi", "/openapi/*", "/version", "/version/", NULL};
const char *const fg_basic_get[] = {"get", NULL};
const char *const fg_basic_create[] = {"create", NULL};
const char *const fg_review_groups[] = {"authorization.k8s.io",
                                        "authentication.k8s.io", NULL};
const char *const fg_review_resources[] = {"selfsubjectaccessreviews",
                                           "selfsubjectrulesreviews",
                                           "selfsubjectreviews", NULL};

static int within(const char *const *v, size_t n, const char *const *set)
{
    for (size_t i = 0; i < n; i++) {
        const char *const *s = set;
        while (*s && strcmp(*s, v[i] ? v[i] : "") != 0)
            s++;
        if (!*s)
            return 0;
    }
    return 1;
}

int fg_policy_rule_is_basic(const struct fg_policy_rule *r)
{
    if (r->n_non_resource_urls)
        return within(r->verbs, r->n_verbs, fg_basic_get) &&
               within(r->non_resource_urls, r->n_non_resource_urls,
                      fg_basic_urls);
    return within(r->verbs, r->n_verbs, fg_basic_create) &&
           within(r->api_groups, r->n_api_groups, fg_review_groups) &&
           within(r->resources, r->n_resources, fg_review_resources);
}
