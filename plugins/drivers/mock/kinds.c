/* The registry of resource kinds the mock member serves: names, scope, short
 * names and categories exactly as kube-apiserver's discovery reports them. */
#include <stdio.h>
#include <string.h>

#include "mock.h"

/* Ordered as kube-apiserver lists them in discovery within each group. */
static const struct mock_kind kinds[MOCK_N_KINDS] = {
    {"",
     "v1",
     "configmaps",
     "configmap",
     "ConfigMap",
     "ConfigMapList",
     1,
     {"cm", NULL},
     {NULL}},
    {"",
     "v1",
     "events",
     "event",
     "Event",
     "EventList",
     1,
     {"ev", NULL},
     {NULL}},
    {"",
     "v1",
     "namespaces",
     "namespace",
     "Namespace",
     "NamespaceList",
     0,
     {"ns", NULL},
     {NULL}},
    {"", "v1", "nodes", "node", "Node", "NodeList", 0, {"no", NULL}, {NULL}},
    {"", "v1", "pods", "pod", "Pod", "PodList", 1, {"po", NULL}, {"all", NULL}},
    {"", "v1", "secrets", "secret", "Secret", "SecretList", 1, {NULL}, {NULL}},
    {"",
     "v1",
     "serviceaccounts",
     "serviceaccount",
     "ServiceAccount",
     "ServiceAccountList",
     1,
     {"sa", NULL},
     {NULL}},
    {"",
     "v1",
     "services",
     "service",
     "Service",
     "ServiceList",
     1,
     {"svc", NULL},
     {"all", NULL}},
    {"apps",
     "v1",
     "daemonsets",
     "daemonset",
     "DaemonSet",
     "DaemonSetList",
     1,
     {"ds", NULL},
     {"all", NULL}},
    {"apps",
     "v1",
     "deployments",
     "deployment",
     "Deployment",
     "DeploymentList",
     1,
     {"deploy", NULL},
     {"all", NULL}},
    {"apps",
     "v1",
     "replicasets",
     "replicaset",
     "ReplicaSet",
     "ReplicaSetList",
     1,
     {"rs", NULL},
     {"all", NULL}},
    {"apps",
     "v1",
     "statefulsets",
     "statefulset",
     "StatefulSet",
     "StatefulSetList",
     1,
     {"sts", NULL},
     {"all", NULL}},
    {"batch", "v1", "jobs", "job", "Job", "JobList", 1, {NULL}, {"all", NULL}},
    {"rbac.authorization.k8s.io",
     "v1",
     "clusterrolebindings",
     "clusterrolebinding",
     "ClusterRoleBinding",
     "ClusterRoleBindingList",
     0,
     {NULL},
     {NULL}},
    {"rbac.authorization.k8s.io",
     "v1",
     "clusterroles",
     "clusterrole",
     "ClusterRole",
     "ClusterRoleList",
     0,
     {NULL},
     {NULL}},
    {"rbac.authorization.k8s.io",
     "v1",
     "rolebindings",
     "rolebinding",
     "RoleBinding",
     "RoleBindingList",
     1,
     {NULL},
     {NULL}},
    {"rbac.authorization.k8s.io",
     "v1",
     "roles",
     "role",
     "Role",
     "RoleList",
     1,
     {NULL},
     {NULL}},
};

/* How kube-apiserver's OpenAPI names each group: the Go package of its
 * types, the operationId prefix and the tag. */
static const struct mock_group groups[] = {
    {"", "io.k8s.api.core.v1", "CoreV1", "core_v1"},
    {"apps", "io.k8s.api.apps.v1", "AppsV1", "apps_v1"},
    {"batch", "io.k8s.api.batch.v1", "BatchV1", "batch_v1"},
    {"rbac.authorization.k8s.io", "io.k8s.api.rbac.v1", "RbacAuthorizationV1",
     "rbacAuthorization_v1"},
};

const struct mock_group *mock_kind_group(const struct mock_kind *k)
{
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        if (strcmp(groups[i].group, k->group) == 0)
            return &groups[i];
    }
    return &groups[0];
}

/* What the mock implements, as kube-apiserver lists a resource's verbs. */
const char *const mock_verbs[] = {"create", "delete", "deletecollection",
                                  "get",    "list",   "patch",
                                  "update", "watch",  NULL};

const struct mock_kind *mock_kind_at(size_t i)
{
    return i < MOCK_N_KINDS ? &kinds[i] : NULL;
}

size_t mock_kind_index(const struct mock_kind *k)
{
    return (size_t)(k - kinds);
}

const struct mock_kind *mock_kind_by_resource(const char *group,
                                              const char *version,
                                              const char *resource)
{
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        if (strcmp(kinds[i].group, group) == 0 &&
            strcmp(kinds[i].version, version) == 0 &&
            strcmp(kinds[i].resource, resource) == 0)
            return &kinds[i];
    }
    return NULL;
}

const struct mock_kind *mock_kind_by_kind(const char *api_version,
                                          const char *kind)
{
    const char *slash = strchr(api_version, '/');
    size_t glen = slash ? (size_t)(slash - api_version) : 0;
    const char *version = slash ? slash + 1 : api_version;
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = &kinds[i];
        if (strlen(k->group) == glen &&
            strncmp(k->group, api_version, glen) == 0 &&
            strcmp(k->version, version) == 0 && strcmp(k->kind, kind) == 0)
            return k;
    }
    return NULL;
}

const char *mock_kind_api_version(const struct mock_kind *k, char *buf,
                                  size_t len)
{
    if (k->group[0])
        snprintf(buf, len, "%s/%s", k->group, k->version);
    else
        snprintf(buf, len, "%s", k->version);
    return buf;
}

const char *mock_kind_qualified(const struct mock_kind *k, char *buf,
                                size_t len)
{
    if (k->group[0])
        snprintf(buf, len, "%s.%s", k->resource, k->group);
    else
        snprintf(buf, len, "%s", k->resource);
    return buf;
}

/* Namespaces cannot be deleted as a collection in kube-apiserver. */
static const char *const namespace_verbs[] = {
    "create", "delete", "get", "list", "patch", "update", "watch", NULL};

const char *const *mock_kind_verbs(const struct mock_kind *k)
{
    return strcmp(k->resource, "namespaces") == 0 ? namespace_verbs
                                                  : mock_verbs;
}

int mock_kind_has_status(const struct mock_kind *k)
{
    static const char *const with[] = {"namespaces", "nodes", "pods",
                                       "services"};
    if (strcmp(k->group, "apps") == 0 || strcmp(k->group, "batch") == 0)
        return 1;
    for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++) {
        if (!k->group[0] && strcmp(k->resource, with[i]) == 0)
            return 1;
    }
    return 0;
}

int mock_kind_has_scale(const struct mock_kind *k)
{
    return strcmp(k->group, "apps") == 0 &&
           strcmp(k->resource, "daemonsets") != 0;
}

int mock_kind_has_generation(const struct mock_kind *k)
{
    return strcmp(k->group, "apps") == 0 || strcmp(k->group, "batch") == 0;
}
