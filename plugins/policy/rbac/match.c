/* kube-apiserver's RBAC evaluation (its RuleAllows and the helpers of
 * pkg/apis/rbac/v1/evaluation_helpers.go, and the rule resolver's walk of
 * ClusterRoleBindings, then the RoleBindings of the request's namespace),
 * with bindings limited to the clusters they name. */
#include <fnmatch.h>
#include <string.h>

#include "rbac.h"

#define SA_PREFIX "system:serviceaccount:"

void rbac_attrs_of(const struct fg_policy_request *req, struct rbac_attrs *out)
{
    const struct fg_request_info *ri = req->info;
    const struct fg_identity *id = req->identity;
    memset(out, 0, sizeof(*out));
    out->user = id ? id->user : "";
    out->groups = id ? id->groups : NULL;
    out->n_groups = id ? id->n_groups : 0;
    out->member = req->member;
    out->is_resource = ri->is_resource;
    out->verb = ri->verb;
    out->api_group = ri->api_group;
    out->resource = ri->resource;
    out->subresource = ri->subresource;
    out->name = ri->name;
    out->namespace_ = ri->namespace_;
    out->path = ri->path;
}

static int has(const struct rbac_strings *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return 1;
    return 0;
}

/* VerbMatches, APIGroupMatches: "*" or the value itself. */
static int has_or_all(const struct rbac_strings *s, const char *v)
{
    return has(s, "*") || has(s, v);
}

/* ResourceMatches: "*", "RES" or "RES/SUB" exactly, or "* /SUB". */
static int resource_matches(const struct rbac_strings *s, const char *res,
                            const char *sub)
{
    size_t rn = strlen(res), sn = strlen(sub);
    for (size_t i = 0; i < s->n; i++) {
        const char *r = s->v[i];
        size_t n = strlen(r);
        if (strcmp(r, "*") == 0)
            return 1;
        if (!sn ? strcmp(r, res) == 0
                : n == rn + 1 + sn && strncmp(r, res, rn) == 0 &&
                      r[rn] == '/' && strcmp(r + rn + 1, sub) == 0)
            return 1;
        if (sn && n == sn + 2 && r[0] == '*' && r[1] == '/' &&
            strcmp(r + 2, sub) == 0)
            return 1;
    }
    return 0;
}

/* NonResourceURLMatches: "*", the path, or a prefix ending in '*'. */
static int url_matches(const struct rbac_strings *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++) {
        const char *u = s->v[i];
        size_t n = strlen(u);
        if (strcmp(u, "*") == 0 || strcmp(u, path) == 0)
            return 1;
        if (n && u[n - 1] == '*') {
            while (n && u[n - 1] == '*') /* Go's TrimRight(url, "*") */
                n--;
            if (strncmp(u, path, n) == 0)
                return 1;
        }
    }
    return 0;
}

int rbac_rule_allows(const struct rbac_attrs *a, const struct rbac_rule *r)
{
    if (!has_or_all(&r->verbs, a->verb))
        return 0;
    if (!a->is_resource)
        return url_matches(&r->urls, a->path);
    return has_or_all(&r->api_groups, a->api_group) &&
           resource_matches(&r->resources, a->resource, a->subresource) &&
           (!r->resource_names.n || has(&r->resource_names, a->name));
}

/* Whether the binding speaks about MEMBER (NULL: the gateway's own API,
 * which only a binding without the annotation or a glob matching "" such
 * as "*" covers). */
static int cluster_matches(const struct rbac_binding *b, const char *member)
{
    if (!b->clusters.n)
        return member == NULL;
    for (size_t i = 0; i < b->clusters.n; i++)
        if (fnmatch(b->clusters.v[i], member ? member : "", 0) == 0)
            return 1;
    return 0;
}

/* appliesToUser: a User by name, a Group by membership, a ServiceAccount
 * by its user name system:serviceaccount:NS:NAME, NS defaulting to the
 * binding's. */
static int subject_matches(const struct rbac_subject *s,
                           const struct rbac_binding *b, const char *user,
                           const char *const *groups, size_t n_groups)
{
    switch (s->kind) {
    case RBAC_USER:
        return strcmp(s->name, user) == 0;
    case RBAC_GROUP:
        for (size_t i = 0; i < n_groups; i++)
            if (strcmp(s->name, groups[i]) == 0)
                return 1;
        return 0;
    case RBAC_SERVICE_ACCOUNT: {
        const char *ns = s->namespace_ ? s->namespace_ : b->namespace_;
        size_t pn = strlen(SA_PREFIX), nn = ns ? strlen(ns) : 0;
        return ns && strncmp(user, SA_PREFIX, pn) == 0 &&
               strncmp(user + pn, ns, nn) == 0 && user[pn + nn] == ':' &&
               strcmp(user + pn + nn + 1, s->name) == 0;
    }
    }
    return 0;
}

/* Whether binding B gives its role to the caller on MEMBER in NAMESPACE_. */
static int binding_applies(const struct rbac_binding *b, const char *user,
                           const char *const *groups, size_t n_groups,
                           const char *member, const char *namespace_)
{
    if (b->namespace_ && strcmp(b->namespace_, namespace_) != 0)
        return 0;
    if (!cluster_matches(b, member))
        return 0;
    for (size_t i = 0; i < b->n_subjects; i++)
        if (subject_matches(&b->subjects[i], b, user, groups, n_groups))
            return 1;
    return 0;
}

const struct rbac_binding *rbac_allows(const struct rbac_policy *p,
                                       const struct rbac_attrs *a)
{
    for (size_t i = 0; i < p->n_bindings; i++) {
        const struct rbac_binding *b = &p->bindings[i];
        if (!binding_applies(b, a->user, a->groups, a->n_groups, a->member,
                             a->namespace_ ? a->namespace_ : ""))
            continue;
        for (size_t j = 0; j < b->role->n_rules; j++)
            if (rbac_rule_allows(a, &b->role->rules[j]))
                return b;
    }
    return NULL;
}

static void emit_rule(const struct rbac_rule *r, fg_policy_rule_fn emit,
                      void *arg)
{
#define LIST(f) (const char *const *)r->f.v, r->f.n
    struct fg_policy_rule out = {LIST(verbs), LIST(api_groups), LIST(resources),
                                 LIST(resource_names), LIST(urls)};
#undef LIST
    emit(arg, &out);
}

void rbac_rules_for(const struct rbac_policy *p,
                    const struct fg_identity *identity, const char *member,
                    const char *namespace_, fg_policy_rule_fn emit, void *arg)
{
    for (size_t i = 0; i < p->n_bindings; i++) {
        const struct rbac_binding *b = &p->bindings[i];
        if (!binding_applies(b, identity->user, identity->groups,
                             identity->n_groups, member,
                             namespace_ ? namespace_ : ""))
            continue;
        for (size_t j = 0; j < b->role->n_rules; j++)
            emit_rule(&b->role->rules[j], emit, arg);
    }
}
