/* rbac: Kubernetes RBAC for the fleet. Roles, ClusterRoles and their
 * bindings are read from Kubernetes-style YAML or JSON files (`rules =`, a
 * file or a directory); a binding applies on the clusters its
 * fedgate.io/clusters annotation names (globs over member names), and a
 * RoleBinding's namespace is that namespace in each of them. A request no
 * rule allows gets no opinion from this plugin, as from kube-apiserver's
 * RBAC authorizer, so that a later authorizer may still allow it and the
 * chain answers 403 in kube-apiserver's words when none does. SIGHUP
 * re-reads the files; files that do not load keep the rules read before. */
#include <stdio.h>
#include <stdlib.h>

#include <fedgate/fedgate.h>

#include "rbac.h"

struct rbac {
    const struct fg_host *host;
    const char *path; /* the section's, valid for the instance's life */
    size_t max_bytes;
    struct rbac_policy *policy;
};

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    struct rbac *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    r->host = host;
    r->path = s->get(s, "rules");
    r->max_bytes = (size_t)s->get_int(s, "max_file_bytes", 0);
    if (!(r->policy = rbac_load(r->path, r->max_bytes, err, err_len))) {
        free(r);
        return NULL;
    }
    return r;
}

static void instance_free(void *instance)
{
    struct rbac *r = instance;
    rbac_policy_free(r->policy);
    free(r);
}

static void reload(void *instance)
{
    struct rbac *r = instance;
    char err[512];
    struct rbac_policy *p = rbac_load(r->path, r->max_bytes, err, sizeof(err));
    if (!p) {
        r->host->log(r->host, FG_LOG_ERROR, "%s; the rules read before stay",
                     err);
        return;
    }
    rbac_policy_free(r->policy);
    r->policy = p;
}

/* Decides from the identity, the member and the request info alone, so
 * that questions about other attributes (req->review) are answered the
 * same way as requests. */
static enum fg_verdict authorize(void *instance, struct fg_policy_call *c)
{
    struct rbac *r = instance;
    struct rbac_attrs a;
    if (!c->req->identity)
        return FG_NO_OPINION;
    rbac_attrs_of(c->req, &a);
    const struct rbac_binding *b = rbac_allows(r->policy, &a);
    if (b)
        r->host->log(r->host, FG_LOG_DEBUG,
                     "%s %s allowed by %s \"%s\" (%s:%d)", a.user, a.verb,
                     b->namespace_ ? "RoleBinding" : "ClusterRoleBinding",
                     b->name, b->file, b->line);
    return b ? FG_ALLOW : FG_NO_OPINION;
}

static int rules(void *instance, const struct fg_identity *identity,
                 const char *member, const char *namespace_,
                 fg_policy_rule_fn emit, void *arg)
{
    struct rbac *r = instance;
    rbac_rules_for(r->policy, identity, member, namespace_, emit, arg);
    return 0;
}

/* Never pending: nothing to drop. */
static void cancel(void *instance, struct fg_policy_call *c)
{
    (void)instance;
    (void)c;
}

static const struct fg_policy_ops ops = {
    .struct_size = sizeof(struct fg_policy_ops),
    .phases = FG_PHASE_AUTHORIZE,
    .instance_new = instance_new,
    .instance_free = instance_free,
    .authorize = authorize,
    .cancel = cancel,
    .reload = reload,
    .rules = rules,
};

static const struct fg_config_key keys[] = {
    {"rules", FG_CONFIG_PATH, NULL, 1, 0, 0,
     "a YAML or JSON file of Roles, ClusterRoles and bindings, or a "
     "directory of *.yaml, *.yml and *.json files"},
    {"max_file_bytes", FG_CONFIG_INT, "4194304", 0, 1, 268435456,
     "the largest rule file read"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_POLICY,
    .name = "rbac",
    .version = "1.0.0",
    .description = "Kubernetes RBAC over the fleet: roles and bindings "
                   "per cluster",
    .config_keys = keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
