/* The federated kinds (types.h): one table row per member kind, the
 * schema every Federated<Kind> shares (the template is the member's
 * object, kept whole), and the ReplicaSchedulingPreference schema. */
#include "types.h"

#include <stdio.h>
#include <string.h>

#define PRESERVE "{\"x-kubernetes-preserve-unknown-fields\":true}"
#define STRING "{\"type\":\"string\"}"
#define STRING_MAP "{\"type\":\"object\",\"additionalProperties\":" STRING "}"
#define SELECTOR                                                               \
    "{\"type\":\"object\",\"properties\":{\"matchLabels\":" STRING_MAP         \
    ",\"matchExpressions\":{\"type\":\"array\",\"items\":{\"type\":"           \
    "\"object\",\"required\":[\"key\",\"operator\"],\"properties\":{"          \
    "\"key\":" STRING ",\"operator\":" STRING                                  \
    ",\"values\":{\"type\":\"array\","                                         \
    "\"items\":" STRING "}}}}}}"
#define OBJECT_META                                                            \
    "\"apiVersion\":" STRING ",\"kind\":" STRING                               \
    ",\"metadata\":{\"type\":\"object\"},"

static const char federated_schema[] =
    "{\"type\":\"object\",\"properties\":{" OBJECT_META
    "\"spec\":{\"type\":\"object\",\"properties\":{"
    "\"template\":{\"type\":\"object\","
    "\"x-kubernetes-preserve-unknown-fields\":true,\"description\":"
    "\"The object to create in each placed cluster; its metadata.name and "
    "namespace are the federated object's.\"},"
    "\"placement\":{\"type\":\"object\",\"properties\":{"
    "\"clusters\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"required\":[\"name\"],\"properties\":{\"name\":" STRING "}}},"
    "\"clusterSelector\":" SELECTOR "}},"
    "\"overrides\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"required\":[\"clusterName\"],\"properties\":{\"clusterName\":" STRING
    ",\"clusterOverrides\":{\"type\":\"array\",\"items\":{\"type\":"
    "\"object\",\"required\":[\"path\"],\"properties\":{\"path\":" STRING
    ",\"op\":{\"type\":\"string\",\"enum\":[\"add\",\"replace\","
    "\"remove\"]},\"value\":" PRESERVE "}}}}}}}},"
    "\"status\":{\"type\":\"object\","
    "\"x-kubernetes-preserve-unknown-fields\":true}}}";

static const char rsp_schema[] =
    "{\"type\":\"object\",\"properties\":{" OBJECT_META
    "\"spec\":{\"type\":\"object\",\"required\":[\"targetKind\","
    "\"totalReplicas\"],\"properties\":{"
    "\"targetKind\":{\"type\":\"string\",\"enum\":[\"FederatedDeployment\","
    "\"FederatedReplicaSet\"]},"
    "\"totalReplicas\":{\"type\":\"integer\",\"format\":\"int32\","
    "\"minimum\":0},"
    "\"rebalance\":{\"type\":\"boolean\"},"
    "\"clusters\":{\"type\":\"object\",\"additionalProperties\":{\"type\":"
    "\"object\",\"properties\":{\"weight\":{\"type\":\"integer\","
    "\"minimum\":0},\"minReplicas\":{\"type\":\"integer\",\"minimum\":0},"
    "\"maxReplicas\":{\"type\":\"integer\",\"minimum\":0}}}}}},"
    "\"status\":{\"type\":\"object\","
    "\"x-kubernetes-preserve-unknown-fields\":true}}}";

static const struct fg_object_column columns[] = {
    {"Clusters", "string", "status.propagated", 0},
    {NULL, NULL, NULL, 0},
};
static const struct fg_object_column workload_columns[] = {
    {"Clusters", "string", "status.propagated", 0},
    {"Ready", "string", "status.ready", 0},
    {NULL, NULL, NULL, 0},
};
static const struct fg_object_column rsp_columns[] = {
    {"Target", "string", "spec.targetKind", 0},
    {"Replicas", "integer", "spec.totalReplicas", 0},
    {NULL, NULL, NULL, 0},
};

#define FED(res, kind, cols)                                                   \
    {                                                                          \
        FED_GROUP, FED_VERSION, res, kind, 1, cols, 0, federated_schema        \
    }

const struct fg_object_kind fed_kinds[] = {
    FED("federatednamespaces", "FederatedNamespace", columns),
    FED("federatedconfigmaps", "FederatedConfigMap", columns),
    FED("federatedsecrets", "FederatedSecret", columns),
    FED("federatedservices", "FederatedService", columns),
    FED("federatedserviceaccounts", "FederatedServiceAccount", columns),
    FED("federatedpersistentvolumeclaims", "FederatedPersistentVolumeClaim",
        columns),
    FED("federatedroles", "FederatedRole", columns),
    FED("federatedrolebindings", "FederatedRoleBinding", columns),
    FED("federateddeployments", "FederatedDeployment", workload_columns),
    FED("federatedstatefulsets", "FederatedStatefulSet", workload_columns),
    FED("federateddaemonsets", "FederatedDaemonSet", columns),
    FED("federatedjobs", "FederatedJob", columns),
    FED("federatedingresses", "FederatedIngress", columns),
    [FED_RSP] = {RSP_GROUP, RSP_VERSION, "replicaschedulingpreferences",
                 "ReplicaSchedulingPreference", 1, rsp_columns, 0, rsp_schema},
    {NULL, NULL, NULL, NULL, 0, NULL, 0, NULL},
};

const struct fed_target fed_targets[FED_N_TYPES] = {
    {"v1", "Namespace", "namespaces", 0, 0},
    {"v1", "ConfigMap", "configmaps", 1, 0},
    {"v1", "Secret", "secrets", 1, 0},
    {"v1", "Service", "services", 1, 0},
    {"v1", "ServiceAccount", "serviceaccounts", 1, 0},
    {"v1", "PersistentVolumeClaim", "persistentvolumeclaims", 1, 0},
    {"rbac.authorization.k8s.io/v1", "Role", "roles", 1, 0},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", 1, 0},
    {"apps/v1", "Deployment", "deployments", 1, 1},
    {"apps/v1", "StatefulSet", "statefulsets", 1, 1},
    {"apps/v1", "DaemonSet", "daemonsets", 1, 0},
    {"batch/v1", "Job", "jobs", 1, 0},
    {"networking.k8s.io/v1", "Ingress", "ingresses", 1, 0},
};

#define VERBS "get list watch create update patch delete"
#define RES(plural, singular, kind, shorts)                                    \
    {plural, singular, kind, 1, VERBS, shorts, "federated"},                   \
    {                                                                          \
        plural "/status", "", kind, 1, "get update patch", NULL, NULL          \
    }

const struct fg_service_resource fed_resources[] = {
    RES("federatednamespaces", "federatednamespace", "FederatedNamespace",
        "fns"),
    RES("federatedconfigmaps", "federatedconfigmap", "FederatedConfigMap",
        "fcm"),
    RES("federatedsecrets", "federatedsecret", "FederatedSecret", "fsecret"),
    RES("federatedservices", "federatedservice", "FederatedService", "fsvc"),
    RES("federatedserviceaccounts", "federatedserviceaccount",
        "FederatedServiceAccount", "fsa"),
    RES("federatedpersistentvolumeclaims", "federatedpersistentvolumeclaim",
        "FederatedPersistentVolumeClaim", "fpvc"),
    RES("federatedroles", "federatedrole", "FederatedRole", NULL),
    RES("federatedrolebindings", "federatedrolebinding", "FederatedRoleBinding",
        NULL),
    RES("federateddeployments", "federateddeployment", "FederatedDeployment",
        "fdeploy"),
    RES("federatedstatefulsets", "federatedstatefulset", "FederatedStatefulSet",
        "fsts"),
    RES("federateddaemonsets", "federateddaemonset", "FederatedDaemonSet",
        "fds"),
    RES("federatedjobs", "federatedjob", "FederatedJob", "fjob"),
    RES("federatedingresses", "federatedingress", "FederatedIngress", "fing"),
    {NULL, NULL, NULL, 0, NULL, NULL, NULL},
};

const struct fg_service_resource rsp_resources[] = {
    {"replicaschedulingpreferences", "replicaschedulingpreference",
     "ReplicaSchedulingPreference", 1, VERBS, "rsp", NULL},
    {"replicaschedulingpreferences/status", "", "ReplicaSchedulingPreference",
     1, "get update patch", NULL, NULL},
    {NULL, NULL, NULL, 0, NULL, NULL, NULL},
};

size_t fed_kind_index(const struct fg_object_kind *k)
{
    return (size_t)(k - fed_kinds);
}

int fed_target_path(const struct fed_target *t, const char *ns,
                    const char *name, char *buf, size_t len)
{
    const char *prefix = strchr(t->api_version, '/') ? "/apis/" : "/api/";
    int n;
    if (t->namespaced)
        n = snprintf(buf, len, "%s%s/namespaces/%s/%s%s%s", prefix,
                     t->api_version, ns, t->resource, *name ? "/" : "", name);
    else
        n = snprintf(buf, len, "%s%s/%s%s%s", prefix, t->api_version,
                     t->resource, *name ? "/" : "", name);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}
