/* The rbac plugin's inner interface: Kubernetes RBAC objects as the
 * plugin holds them (objects.c reads them from YAML or JSON, load.c from
 * files), and the evaluation of kube-apiserver's RBAC authorizer over them
 * (match.c), with the fleet's one addition: each binding names the
 * clusters it applies to. */
#ifndef FG_RBAC_H
#define FG_RBAC_H

#include <stddef.h>

#include <fedgate/fedgate.h>
#include <fedgate/yaml.h>

/** The annotation on a binding that lists the clusters it applies to. */
#define RBAC_CLUSTERS_ANNOTATION "fedgate.io/clusters"

struct rbac_strings {
    char **v;
    size_t n;
};

/** A PolicyRule. */
struct rbac_rule {
    struct rbac_strings verbs, api_groups, resources, resource_names, urls;
};

/** A Role (NAMESPACE_ set) or a ClusterRole (NAMESPACE_ NULL). */
struct rbac_role {
    char *name;
    char *namespace_;
    struct rbac_rule *rules;
    size_t n_rules;
    const char *file;
    int line;
};

enum rbac_subject_kind {
    RBAC_USER = 1,
    RBAC_GROUP = 2,
    RBAC_SERVICE_ACCOUNT = 3,
};

struct rbac_subject {
    enum rbac_subject_kind kind;
    char *name;
    char *namespace_; /* ServiceAccount only; NULL: the binding's */
};

/** A RoleBinding (NAMESPACE_ set) or a ClusterRoleBinding (NULL). */
struct rbac_binding {
    char *name;
    char *namespace_;
    int to_cluster_role; /* roleRef.kind is ClusterRole */
    char *role_name;
    const struct rbac_role *role; /* resolved once every file is read */
    struct rbac_subject *subjects;
    size_t n_subjects;
    /** Globs over member names (fnmatch); without the annotation the
     * binding applies to the gateway's own API only, which "*" includes. */
    struct rbac_strings clusters;
    const char *file;
    int line;
};

struct rbac_policy {
    struct rbac_role *roles;
    size_t n_roles, cap_roles;
    struct rbac_binding *bindings;
    size_t n_bindings, cap_bindings;
    struct rbac_strings files; /* the files read, for file pointers */
};

/* Rule files are YAML or JSON (fedgate/yaml.h). RBAC objects nest five
 * levels deep (List, items, object, rules, rule, verbs): anything much
 * deeper, or much larger, is not an RBAC file. */
#define RBAC_MAX_DEPTH 32
#define RBAC_MAX_NODES 1000000

/* ---- objects (objects.c) and files (load.c) ------------------------------
 */

/** Appends V (LEN bytes) to S: 0, or -1 when out of memory. */
int rbac_strings_add(struct rbac_strings *s, const char *v, size_t len);

/** Adds the RBAC objects of document DOC (read from FILE, a string the
 * policy keeps) to P, validated as kube-apiserver validates them. Returns
 * 0, or -1 with ERR "FILE:LINE: ...". */
int rbac_add_document(struct rbac_policy *p, const struct fg_yaml_node *doc,
                      const char *file, char *err, size_t err_len);

/** Resolves every binding's roleRef. 0, or -1 with ERR naming the
 * binding's file and line. */
int rbac_resolve(struct rbac_policy *p, char *err, size_t err_len);

/** Adds the objects of every document of TEXT (LEN bytes, read from FILE,
 * a string that outlives P) to P. 0, or -1 with ERR "FILE:LINE: ...". */
int rbac_add_text(struct rbac_policy *p, const char *text, size_t len,
                  const char *file, char *err, size_t err_len);

/** Reads PATH, a file or a directory of *.yaml, *.yml and *.json files
 * (in lexical order), each at most MAX_BYTES. NULL with ERR on failure. */
struct rbac_policy *rbac_load(const char *path, size_t max_bytes, char *err,
                              size_t err_len);

void rbac_policy_free(struct rbac_policy *p);

/* ---- evaluation (match.c) ------------------------------------------------
 */

/** What a decision is about: kube-apiserver's authorizer.Attributes plus
 * the cluster. */
struct rbac_attrs {
    const char *user;
    const char *const *groups;
    size_t n_groups;
    const char *member; /* NULL: the gateway's own API */
    int is_resource;
    const char *verb, *api_group, *resource, *subresource, *name;
    const char *namespace_;
    const char *path; /* non-resource requests */
};

/** The attributes of REQ (its identity, member and request info). */
void rbac_attrs_of(const struct fg_policy_request *req, struct rbac_attrs *out);

/** kube's RuleAllows. */
int rbac_rule_allows(const struct rbac_attrs *a, const struct rbac_rule *r);

/** The binding that allows A, or NULL. */
const struct rbac_binding *rbac_allows(const struct rbac_policy *p,
                                       const struct rbac_attrs *a);

/** Hands EMIT every rule IDENTITY holds on MEMBER in NAMESPACE_ ("" for
 * the cluster-scoped ones only), as kube's RulesFor lists them. */
void rbac_rules_for(const struct rbac_policy *p,
                    const struct fg_identity *identity, const char *member,
                    const char *namespace_, fg_policy_rule_fn emit, void *arg);

#endif
