/* Role, ClusterRole, RoleBinding and ClusterRoleBinding objects (and a
 * List of them) read from a document tree into the policy, validated as
 * kube-apiserver validates them on create, so that a rule that could
 * never match is an error at the line that says it rather than a silent
 * denial later. Unknown fields of rules, subjects and roleRef are errors
 * for the same reason (a misspelt `verb:` grants nothing); metadata is
 * free-form but for the fleet's annotation, which only bindings may
 * carry. Aggregated ClusterRoles are not supported. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac.h"

#define RBAC_API_VERSION "rbac.authorization.k8s.io/v1"
#define RBAC_API_GROUP "rbac.authorization.k8s.io"

struct ctx {
    struct rbac_policy *p;
    const char *file;
    char *err;
    size_t err_len;
};

static int fail(struct ctx *c, const struct fg_yaml_node *at, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, const struct fg_yaml_node *at, const char *fmt,
                ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->err_len, "%s:%d: %s", c->file, at->line, what);
    return -1;
}

static int oom(struct ctx *c, const struct fg_yaml_node *at)
{
    return fail(c, at, "out of memory");
}

/* The string at KEY of M: *OUT is NULL when absent or null. */
static int get_string(struct ctx *c, const struct fg_yaml_node *m,
                      const char *key, const char **out)
{
    const struct fg_yaml_node *v = fg_yaml_get(m, key);
    *out = NULL;
    if (fg_yaml_is_null(v))
        return 0;
    if (v->type != FG_YAML_SCALAR)
        return fail(c, v, "%s must be a string", key);
    *out = v->text;
    return 0;
}

static int dup_string(struct ctx *c, const struct fg_yaml_node *at,
                      const char *s, char **out)
{
    if (!s) {
        *out = NULL;
        return 0;
    }
    return (*out = strdup(s)) ? 0 : oom(c, at);
}

static void strings_free(struct rbac_strings *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

int rbac_strings_add(struct rbac_strings *s, const char *v, size_t len)
{
    char **a = realloc(s->v, (s->n + 1) * sizeof(*a));
    if (!a)
        return -1;
    s->v = a;
    if (!(a[s->n] = strndup(v, len)))
        return -1;
    s->n++;
    return 0;
}

/* The list of strings at KEY of M (absent or null: empty). */
static int get_strings(struct ctx *c, const struct fg_yaml_node *m,
                       const char *key, struct rbac_strings *out)
{
    const struct fg_yaml_node *v = fg_yaml_get(m, key);
    if (fg_yaml_is_null(v))
        return 0;
    if (v->type != FG_YAML_SEQ)
        return fail(c, v, "%s must be a list of strings", key);
    for (size_t i = 0; i < v->n; i++) {
        const struct fg_yaml_node *s = v->items[i];
        if (s->type != FG_YAML_SCALAR)
            return fail(c, s, "%s must be a list of strings", key);
        if (rbac_strings_add(out, s->text, strlen(s->text)) != 0)
            return oom(c, s);
    }
    return 0;
}

/* Fails on a key of M that is not in KNOWN (NULL-terminated). */
static int known_keys(struct ctx *c, const struct fg_yaml_node *m,
                      const char *what, const char *const *known)
{
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        const struct fg_yaml_node *k = m->items[i];
        size_t j = 0;
        while (known[j] &&
               (k->type != FG_YAML_SCALAR || strcmp(known[j], k->text) != 0))
            j++;
        if (!known[j])
            return fail(c, k, "unknown field %s%s%s in %s",
                        k->type == FG_YAML_SCALAR ? "\"" : "",
                        k->type == FG_YAML_SCALAR ? k->text : "(not a name)",
                        k->type == FG_YAML_SCALAR ? "\"" : "", what);
    }
    return 0;
}

static void rule_free(struct rbac_rule *r)
{
    strings_free(&r->verbs);
    strings_free(&r->api_groups);
    strings_free(&r->resources);
    strings_free(&r->resource_names);
    strings_free(&r->urls);
}

/* One PolicyRule, checked as kube's ValidatePolicyRule checks it. */
static int read_rule(struct ctx *c, const struct fg_yaml_node *n,
                     int namespaced, struct rbac_rule *r)
{
    static const char *const fields[] = {"verbs",           "apiGroups",
                                         "resources",       "resourceNames",
                                         "nonResourceURLs", NULL};
    if (n->type != FG_YAML_MAP)
        return fail(c, n, "a rule must be an object");
    if (known_keys(c, n, "a rule", fields) != 0 ||
        get_strings(c, n, "verbs", &r->verbs) != 0 ||
        get_strings(c, n, "apiGroups", &r->api_groups) != 0 ||
        get_strings(c, n, "resources", &r->resources) != 0 ||
        get_strings(c, n, "resourceNames", &r->resource_names) != 0 ||
        get_strings(c, n, "nonResourceURLs", &r->urls) != 0)
        return -1;
    if (!r->verbs.n)
        return fail(c, n, "verbs must contain at least one value");
    if (r->urls.n) {
        if (namespaced)
            return fail(c, n,
                        "namespaced rules cannot apply to non-resource URLs");
        if (r->api_groups.n || r->resources.n || r->resource_names.n)
            return fail(c, n,
                        "rules cannot apply to both regular resources "
                        "and non-resource URLs");
        return 0;
    }
    if (!r->api_groups.n)
        return fail(c, n, "resource rules must supply at least one api group");
    if (!r->resources.n)
        return fail(c, n, "resource rules must supply at least one resource");
    return 0;
}

struct meta {
    const char *name, *namespace_, *clusters;
    const struct fg_yaml_node *clusters_at;
};

static int read_meta(struct ctx *c, const struct fg_yaml_node *obj,
                     const char *kind, int namespaced, struct meta *m)
{
    const struct fg_yaml_node *md = fg_yaml_get(obj, "metadata");
    memset(m, 0, sizeof(*m));
    if (!md || md->type != FG_YAML_MAP)
        return fail(c, obj, "a %s needs metadata.name", kind);
    if (get_string(c, md, "name", &m->name) != 0)
        return -1;
    if (!m->name || !*m->name)
        return fail(c, md, "a %s needs metadata.name", kind);
    if (namespaced) {
        if (get_string(c, md, "namespace", &m->namespace_) != 0)
            return -1;
        if (!m->namespace_ || !*m->namespace_)
            return fail(c, md, "a %s needs metadata.namespace", kind);
    }
    const struct fg_yaml_node *ann = fg_yaml_get(md, "annotations");
    if (fg_yaml_is_null(ann))
        return 0;
    if (ann->type != FG_YAML_MAP)
        return fail(c, ann, "metadata.annotations must be an object");
    m->clusters_at = fg_yaml_get(ann, RBAC_CLUSTERS_ANNOTATION);
    return m->clusters_at
               ? get_string(c, ann, RBAC_CLUSTERS_ANNOTATION, &m->clusters)
               : 0;
}

static void role_free(struct rbac_role *r)
{
    free(r->name);
    free(r->namespace_);
    for (size_t i = 0; i < r->n_rules; i++)
        rule_free(&r->rules[i]);
    free(r->rules);
}

static int add_role(struct ctx *c, const struct fg_yaml_node *obj, int cluster)
{
    const char *kind = cluster ? "ClusterRole" : "Role";
    struct meta m;
    static const char *const fields[] = {"apiVersion", "kind", "metadata",
                                         "rules", NULL};
    if (fg_yaml_get(obj, "aggregationRule"))
        return fail(c, fg_yaml_get(obj, "aggregationRule"),
                    "aggregated ClusterRoles are not supported: list the "
                    "rules");
    if (known_keys(c, obj, kind, fields) != 0 ||
        read_meta(c, obj, kind, !cluster, &m) != 0)
        return -1;
    if (m.clusters_at)
        return fail(c, m.clusters_at,
                    RBAC_CLUSTERS_ANNOTATION " belongs on bindings, not on "
                                             "a %s",
                    kind);
    struct rbac_policy *p = c->p;
    for (size_t i = 0; i < p->n_roles; i++)
        if ((p->roles[i].namespace_ == NULL) == cluster &&
            strcmp(p->roles[i].name, m.name) == 0 &&
            (cluster || strcmp(p->roles[i].namespace_, m.namespace_) == 0))
            return fail(c, obj, "%s \"%s\" is defined again (first at %s:%d)",
                        kind, m.name, p->roles[i].file, p->roles[i].line);
    if (p->n_roles == p->cap_roles) {
        size_t cap = p->cap_roles ? p->cap_roles * 2 : 8;
        struct rbac_role *r = realloc(p->roles, cap * sizeof(*r));
        if (!r)
            return oom(c, obj);
        p->roles = r;
        p->cap_roles = cap;
    }
    struct rbac_role *r = &p->roles[p->n_roles];
    memset(r, 0, sizeof(*r));
    r->file = c->file;
    r->line = obj->line;
    int rc = dup_string(c, obj, m.name, &r->name) != 0 ||
             dup_string(c, obj, m.namespace_, &r->namespace_) != 0;
    const struct fg_yaml_node *rules = fg_yaml_get(obj, "rules");
    if (!rc && !fg_yaml_is_null(rules)) {
        if (rules->type != FG_YAML_SEQ)
            rc = fail(c, rules, "rules must be a list");
        else if (!(r->rules =
                       calloc(rules->n ? rules->n : 1, sizeof(*r->rules))))
            rc = oom(c, rules);
        for (size_t i = 0; !rc && i < rules->n; i++) {
            r->n_rules++;
            rc = read_rule(c, rules->items[i], !cluster, &r->rules[i]);
        }
    }
    if (rc) {
        role_free(r);
        return -1;
    }
    p->n_roles++;
    return 0;
}

static int read_subject(struct ctx *c, const struct fg_yaml_node *n,
                        int namespaced, struct rbac_subject *s)
{
    static const char *const fields[] = {"kind", "apiGroup", "name",
                                         "namespace", NULL};
    const char *kind, *group, *name, *ns;
    if (n->type != FG_YAML_MAP)
        return fail(c, n, "a subject must be an object");
    if (known_keys(c, n, "a subject", fields) != 0 ||
        get_string(c, n, "kind", &kind) != 0 ||
        get_string(c, n, "apiGroup", &group) != 0 ||
        get_string(c, n, "name", &name) != 0 ||
        get_string(c, n, "namespace", &ns) != 0)
        return -1;
    if (!name || !*name)
        return fail(c, n, "a subject needs a name");
    if (kind && strcmp(kind, "ServiceAccount") == 0) {
        if (group && *group)
            return fail(c, n, "a ServiceAccount subject's apiGroup is \"\"");
        if (!namespaced && (!ns || !*ns))
            return fail(c, n,
                        "a ServiceAccount subject of a "
                        "ClusterRoleBinding needs a namespace");
        s->kind = RBAC_SERVICE_ACCOUNT;
    } else if (kind &&
               (strcmp(kind, "User") == 0 || strcmp(kind, "Group") == 0)) {
        if (group && strcmp(group, RBAC_API_GROUP) != 0)
            return fail(c, n, "a %s subject's apiGroup is " RBAC_API_GROUP,
                        kind);
        s->kind = *kind == 'U' ? RBAC_USER : RBAC_GROUP;
        ns = NULL;
    } else {
        return fail(c, n, "a subject's kind is User, Group or ServiceAccount");
    }
    return dup_string(c, n, name, &s->name) != 0 ||
                   dup_string(c, n, ns && *ns ? ns : NULL, &s->namespace_) != 0
               ? -1
               : 0;
}

static void binding_free(struct rbac_binding *b)
{
    free(b->name);
    free(b->namespace_);
    free(b->role_name);
    for (size_t i = 0; i < b->n_subjects; i++) {
        free(b->subjects[i].name);
        free(b->subjects[i].namespace_);
    }
    free(b->subjects);
    strings_free(&b->clusters);
}

/* The annotation's globs, separated by commas and spaces. */
static int read_clusters(struct ctx *c, const struct meta *m,
                         struct rbac_binding *b)
{
    const char *s = m->clusters;
    if (!m->clusters_at)
        return 0;
    if (!s)
        return fail(c, m->clusters_at,
                    RBAC_CLUSTERS_ANNOTATION
                    " must be a string of cluster names or globs");
    while (*s) {
        size_t n = strcspn(s, ", \t");
        if (n && rbac_strings_add(&b->clusters, s, n) != 0)
            return oom(c, m->clusters_at);
        s += n;
        s += strspn(s, ", \t");
    }
    if (!b->clusters.n)
        return fail(c, m->clusters_at,
                    RBAC_CLUSTERS_ANNOTATION " names no cluster");
    return 0;
}

static int read_role_ref(struct ctx *c, const struct fg_yaml_node *obj,
                         int cluster, struct rbac_binding *b)
{
    static const char *const fields[] = {"apiGroup", "kind", "name", NULL};
    const struct fg_yaml_node *ref = fg_yaml_get(obj, "roleRef");
    const char *group, *kind, *name;
    if (!ref || ref->type != FG_YAML_MAP)
        return fail(c, obj, "a binding needs a roleRef");
    if (known_keys(c, ref, "roleRef", fields) != 0 ||
        get_string(c, ref, "apiGroup", &group) != 0 ||
        get_string(c, ref, "kind", &kind) != 0 ||
        get_string(c, ref, "name", &name) != 0)
        return -1;
    if (group && strcmp(group, RBAC_API_GROUP) != 0)
        return fail(c, ref, "roleRef.apiGroup is " RBAC_API_GROUP);
    if (!kind || (strcmp(kind, "ClusterRole") != 0 &&
                  (cluster || strcmp(kind, "Role") != 0)))
        return fail(c, ref, "roleRef.kind is %s",
                    cluster ? "ClusterRole" : "Role or ClusterRole");
    if (!name || !*name)
        return fail(c, ref, "roleRef needs a name");
    b->to_cluster_role = strcmp(kind, "ClusterRole") == 0;
    return dup_string(c, ref, name, &b->role_name);
}

static int add_binding(struct ctx *c, const struct fg_yaml_node *obj,
                       int cluster)
{
    const char *kind = cluster ? "ClusterRoleBinding" : "RoleBinding";
    static const char *const fields[] = {"apiVersion", "kind",    "metadata",
                                         "subjects",   "roleRef", NULL};
    struct meta m;
    if (known_keys(c, obj, kind, fields) != 0 ||
        read_meta(c, obj, kind, !cluster, &m) != 0)
        return -1;
    struct rbac_policy *p = c->p;
    if (p->n_bindings == p->cap_bindings) {
        size_t cap = p->cap_bindings ? p->cap_bindings * 2 : 8;
        struct rbac_binding *b = realloc(p->bindings, cap * sizeof(*b));
        if (!b)
            return oom(c, obj);
        p->bindings = b;
        p->cap_bindings = cap;
    }
    struct rbac_binding *b = &p->bindings[p->n_bindings];
    memset(b, 0, sizeof(*b));
    b->file = c->file;
    b->line = obj->line;
    const struct fg_yaml_node *subjects = fg_yaml_get(obj, "subjects");
    int rc = dup_string(c, obj, m.name, &b->name) != 0 ||
             dup_string(c, obj, m.namespace_, &b->namespace_) != 0 ||
             read_role_ref(c, obj, cluster, b) != 0 ||
             read_clusters(c, &m, b) != 0;
    if (!rc && !fg_yaml_is_null(subjects)) {
        if (subjects->type != FG_YAML_SEQ)
            rc = fail(c, subjects, "subjects must be a list");
        else if (!(b->subjects = calloc(subjects->n ? subjects->n : 1,
                                        sizeof(*b->subjects))))
            rc = oom(c, subjects);
        for (size_t i = 0; !rc && i < subjects->n; i++) {
            b->n_subjects++;
            rc = read_subject(c, subjects->items[i], !cluster, &b->subjects[i]);
        }
    }
    if (rc) {
        binding_free(b);
        return -1;
    }
    p->n_bindings++;
    return 0;
}

static int add_object(struct ctx *c, const struct fg_yaml_node *obj, int depth)
{
    const char *kind, *version;
    if (obj->type != FG_YAML_MAP)
        return fail(c, obj, "expected a Kubernetes object");
    if (get_string(c, obj, "kind", &kind) != 0 ||
        get_string(c, obj, "apiVersion", &version) != 0)
        return -1;
    if (kind && strcmp(kind, "List") == 0 && depth == 0) {
        const struct fg_yaml_node *items = fg_yaml_get(obj, "items");
        if (!fg_yaml_is_null(items) && items->type != FG_YAML_SEQ)
            return fail(c, items, "items must be a list");
        for (size_t i = 0; items && i < items->n; i++)
            if (add_object(c, items->items[i], depth + 1) != 0)
                return -1;
        return 0;
    }
    static const char *const kinds[] = {"Role", "ClusterRole", "RoleBinding",
                                        "ClusterRoleBinding"};
    size_t k = 0;
    while (k < 4 && (!kind || strcmp(kind, kinds[k]) != 0))
        k++;
    if (k == 4)
        return fail(c, obj,
                    "kind must be Role, ClusterRole, RoleBinding, "
                    "ClusterRoleBinding or List, not \"%s\"",
                    kind ? kind : "");
    if (!version || strcmp(version, RBAC_API_VERSION) != 0)
        return fail(c, obj, "apiVersion must be " RBAC_API_VERSION);
    return k < 2 ? add_role(c, obj, k == 1) : add_binding(c, obj, k == 3);
}

int rbac_add_document(struct rbac_policy *p, const struct fg_yaml_node *doc,
                      const char *file, char *err, size_t err_len)
{
    struct ctx c = {p, file, err, err_len};
    if (fg_yaml_is_null(doc))
        return 0; /* an empty document, as after a final `---` */
    if (doc->type == FG_YAML_SEQ) { /* a JSON array of objects */
        for (size_t i = 0; i < doc->n; i++)
            if (add_object(&c, doc->items[i], 1) != 0)
                return -1;
        return 0;
    }
    return add_object(&c, doc, 0);
}

static const struct rbac_role *find_role(const struct rbac_policy *p,
                                         const struct rbac_binding *b)
{
    for (size_t i = 0; i < p->n_roles; i++) {
        const struct rbac_role *r = &p->roles[i];
        if (strcmp(r->name, b->role_name) != 0)
            continue;
        if (b->to_cluster_role
                ? !r->namespace_
                : r->namespace_ && strcmp(r->namespace_, b->namespace_) == 0)
            return r;
    }
    return NULL;
}

int rbac_resolve(struct rbac_policy *p, char *err, size_t err_len)
{
    for (size_t i = 0; i < p->n_bindings; i++) {
        struct rbac_binding *b = &p->bindings[i];
        if (!(b->role = find_role(p, b))) {
            if (b->to_cluster_role)
                snprintf(err, err_len,
                         "%s:%d: roleRef names ClusterRole \"%s\", which no "
                         "rule file defines",
                         b->file, b->line, b->role_name);
            else
                snprintf(err, err_len,
                         "%s:%d: roleRef names Role \"%s\" in namespace "
                         "\"%s\", which no rule file defines",
                         b->file, b->line, b->role_name, b->namespace_);
            return -1;
        }
    }
    return 0;
}

void rbac_policy_free(struct rbac_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_roles; i++)
        role_free(&p->roles[i]);
    for (size_t i = 0; i < p->n_bindings; i++)
        binding_free(&p->bindings[i]);
    free(p->roles);
    free(p->bindings);
    strings_free(&p->files);
    free(p);
}
