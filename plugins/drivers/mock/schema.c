/* The schemas of the mock's kinds: one source for the OpenAPI documents
 * (openapi.c), the managed fields of server-side apply (fieldset.c) and
 * field validation. kube-apiserver takes them from the Go types; the mock
 * has none, so they are written in a small notation rather than as JSON
 * text, to keep them short and their patch metadata (merge keys, list
 * types) next to the fields: each definition is "field:TYPE ..." with TYPE
 * one of
 *   s string   i int32   l int64   b boolean   n number   t date-time
 *   q Quantity (int-or-string)   x IntOrString   o any object
 *   {T} map of T   [T] list of T   [T]@key merge list keyed by key
 *   [T]* merged set of scalars   Name a reference to definition Name
 * and a field named with a trailing '!' is required. */
#include <string.h>

#include "mock.h"

#define META "io.k8s.apimachinery.pkg.apis.meta.v1"
#define CORE "io.k8s.api.core.v1"
#define APPS "io.k8s.api.apps.v1"
#define BATCH "io.k8s.api.batch.v1"
#define RBAC "io.k8s.api.rbac.v1"

/* Definitions beyond the kinds themselves (see kind_fields for those). */
static const struct mock_schema_def defs[] = {
    {"ObjectMeta", META,
     "ObjectMeta is metadata that all persisted resources must have, which "
     "includes all objects users must create.",
     "name:s generateName:s namespace:s uid:s resourceVersion:s generation:l "
     "creationTimestamp:t deletionTimestamp:t deletionGracePeriodSeconds:l "
     "labels:{s} annotations:{s} ownerReferences:[OwnerReference]@uid "
     "finalizers:[s]* managedFields:[ManagedFieldsEntry]"},
    {"ListMeta", META,
     "ListMeta describes metadata that synthetic resources must have, "
     "including lists and various status objects.",
     "resourceVersion:s continue:s remainingItemCount:l selfLink:s"},
    {"OwnerReference", META,
     "OwnerReference contains enough information to let you identify an "
     "owning object.",
     "apiVersion!:s kind!:s name!:s uid!:s controller:b "
     "blockOwnerDeletion:b"},
    {"ManagedFieldsEntry", META,
     "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version "
     "of the resource that the fieldset applies to.",
     "manager:s operation:s apiVersion:s time:t fieldsType:s fieldsV1:o "
     "subresource:s"},
    {"LabelSelector", META,
     "A label selector is a label query over a set of resources.",
     "matchLabels:{s} matchExpressions:[LabelSelectorRequirement]"},
    {"LabelSelectorRequirement", META,
     "A label selector requirement is a selector that contains values, a "
     "key, and an operator that relates the key and values.",
     "key!:s operator!:s values:[s]"},
    {"PodSpec", CORE, "PodSpec is a description of a pod.",
     "containers!:[Container]@name initContainers:[Container]@name "
     "volumes:[Volume]@name restartPolicy:s terminationGracePeriodSeconds:l "
     "activeDeadlineSeconds:l dnsPolicy:s nodeSelector:{s} "
     "serviceAccountName:s serviceAccount:s automountServiceAccountToken:b "
     "nodeName:s hostNetwork:b hostPID:b hostIPC:b securityContext:o "
     "imagePullSecrets:[LocalObjectReference]@name hostname:s subdomain:s "
     "affinity:o schedulerName:s tolerations:[Toleration] "
     "priorityClassName:s priority:i preemptionPolicy:s "
     "enableServiceLinks:b runtimeClassName:s "
     "topologySpreadConstraints:[o]"},
    {"Container", CORE,
     "A single application container that you want to run within a pod.",
     "name!:s image:s command:[s] args:[s] workingDir:s "
     "ports:[ContainerPort]@containerPort env:[EnvVar]@name envFrom:[o] "
     "resources:ResourceRequirements volumeMounts:[VolumeMount]@mountPath "
     "livenessProbe:Probe readinessProbe:Probe startupProbe:Probe "
     "lifecycle:o terminationMessagePath:s terminationMessagePolicy:s "
     "imagePullPolicy:s securityContext:o stdin:b tty:b restartPolicy:s"},
    {"ContainerPort", CORE,
     "ContainerPort represents a network port in a single container.",
     "containerPort!:i name:s protocol:s hostPort:i hostIP:s"},
    {"EnvVar", CORE,
     "EnvVar represents an environment variable present in a Container.",
     "name!:s value:s valueFrom:o"},
    {"ResourceRequirements", CORE,
     "ResourceRequirements describes the compute resource requirements.",
     "limits:{q} requests:{q}"},
    {"VolumeMount", CORE,
     "VolumeMount describes a mounting of a Volume within a container.",
     "name!:s mountPath!:s readOnly:b subPath:s"},
    {"Volume", CORE,
     "Volume represents a named volume in a pod that may be accessed by any "
     "container in the pod.",
     "name!:s configMap:o secret:o emptyDir:o hostPath:o "
     "persistentVolumeClaim:o projected:o downwardAPI:o"},
    {"Probe", CORE,
     "Probe describes a health check to be performed against a container "
     "to determine whether it is alive or ready to receive traffic.",
     "exec:o httpGet:o tcpSocket:o grpc:o initialDelaySeconds:i "
     "timeoutSeconds:i periodSeconds:i successThreshold:i "
     "failureThreshold:i"},
    {"LocalObjectReference", CORE,
     "LocalObjectReference contains enough information to let you locate "
     "the referenced object inside the same namespace.",
     "name:s"},
    {"Toleration", CORE,
     "The pod this Toleration is attached to tolerates any taint that "
     "matches the triple <key,value,effect>.",
     "key:s operator:s value:s effect:s tolerationSeconds:l"},
    {"PodStatus", CORE,
     "PodStatus represents information about the status of a pod.",
     "phase:s conditions:[PodCondition]@type message:s reason:s hostIP:s "
     "hostIPs:[o] podIP:s podIPs:[o]@ip startTime:t qosClass:s "
     "containerStatuses:[ContainerStatus] "
     "initContainerStatuses:[ContainerStatus]"},
    {"PodCondition", CORE,
     "PodCondition contains details for the current condition of this pod.",
     "type!:s status!:s lastProbeTime:t lastTransitionTime:t reason:s "
     "message:s"},
    {"ContainerStatus", CORE,
     "ContainerStatus contains details for the current status of this "
     "container.",
     "name!:s state:o lastState:o ready!:b restartCount!:i image!:s "
     "imageID!:s containerID:s started:b"},
    {"PodTemplateSpec", CORE,
     "PodTemplateSpec describes the data a pod should have when created "
     "from a template.",
     "metadata:ObjectMeta spec:PodSpec"},
    {"ServiceSpec", CORE,
     "ServiceSpec describes the attributes that a user creates on a "
     "service.",
     "ports:[ServicePort]@port selector:{s} clusterIP:s clusterIPs:[s] "
     "type:s externalIPs:[s] sessionAffinity:s loadBalancerIP:s "
     "externalName:s externalTrafficPolicy:s internalTrafficPolicy:s "
     "ipFamilies:[s] ipFamilyPolicy:s publishNotReadyAddresses:b"},
    {"ServicePort", CORE, "ServicePort contains information on service's port.",
     "name:s protocol:s appProtocol:s port!:i targetPort:x nodePort:i"},
    {"ServiceStatus", CORE,
     "ServiceStatus represents the current status of a service.",
     "loadBalancer:o conditions:[o]"},
    {"NamespaceSpec", CORE,
     "NamespaceSpec describes the attributes on a Namespace.",
     "finalizers:[s]"},
    {"NamespaceStatus", CORE,
     "NamespaceStatus is information about the current status of a "
     "Namespace.",
     "phase:s conditions:[o]"},
    {"NodeSpec", CORE,
     "NodeSpec describes the attributes that a node is created with.",
     "podCIDR:s podCIDRs:[s]* providerID:s unschedulable:b taints:[Taint]"},
    {"Taint", CORE,
     "The node this Taint is attached to has the \"effect\" on any pod that "
     "does not tolerate the Taint.",
     "key!:s value:s effect!:s timeAdded:t"},
    {"NodeStatus", CORE,
     "NodeStatus is information about the current status of a node.",
     "capacity:{q} allocatable:{q} phase:s conditions:[o]@type "
     "addresses:[NodeAddress]@type daemonEndpoints:o nodeInfo:o images:[o]"},
    {"NodeAddress", CORE,
     "NodeAddress contains information for the node's address.",
     "type!:s address!:s"},
    {"ObjectReference", CORE,
     "ObjectReference contains enough information to let you inspect or "
     "modify the referred object.",
     "kind:s namespace:s name:s uid:s apiVersion:s resourceVersion:s "
     "fieldPath:s"},
    {"EventSource", CORE, "EventSource contains information for an event.",
     "component:s host:s"},
    {"DeploymentSpec", APPS,
     "DeploymentSpec is the specification of the desired behavior of the "
     "Deployment.",
     "replicas:i selector!:LabelSelector template!:PodTemplateSpec "
     "strategy:DeploymentStrategy minReadySeconds:i "
     "revisionHistoryLimit:i paused:b progressDeadlineSeconds:i"},
    {"DeploymentStrategy", APPS,
     "DeploymentStrategy describes how to replace existing pods with new "
     "ones.",
     "type:s rollingUpdate:o"},
    {"DeploymentStatus", APPS,
     "DeploymentStatus is the most recently observed status of the "
     "Deployment.",
     "observedGeneration:l replicas:i updatedReplicas:i readyReplicas:i "
     "availableReplicas:i unavailableReplicas:i conditions:[o]@type "
     "collisionCount:i"},
    {"ReplicaSetSpec", APPS,
     "ReplicaSetSpec is the specification of a ReplicaSet.",
     "replicas:i minReadySeconds:i selector!:LabelSelector "
     "template:PodTemplateSpec"},
    {"ReplicaSetStatus", APPS,
     "ReplicaSetStatus represents the current status of a ReplicaSet.",
     "replicas!:i fullyLabeledReplicas:i readyReplicas:i "
     "availableReplicas:i observedGeneration:l conditions:[o]@type"},
    {"DaemonSetSpec", APPS,
     "DaemonSetSpec is the specification of a daemon set.",
     "selector!:LabelSelector template!:PodTemplateSpec updateStrategy:o "
     "minReadySeconds:i revisionHistoryLimit:i"},
    {"DaemonSetStatus", APPS,
     "DaemonSetStatus represents the current status of a daemon set.",
     "currentNumberScheduled!:i numberMisscheduled!:i "
     "desiredNumberScheduled!:i numberReady!:i observedGeneration:l "
     "updatedNumberScheduled:i numberAvailable:i numberUnavailable:i "
     "conditions:[o]@type"},
    {"StatefulSetSpec", APPS,
     "A StatefulSetSpec is the specification of a StatefulSet.",
     "replicas:i selector!:LabelSelector template!:PodTemplateSpec "
     "volumeClaimTemplates:[o] serviceName:s podManagementPolicy:s "
     "updateStrategy:o revisionHistoryLimit:i minReadySeconds:i "
     "persistentVolumeClaimRetentionPolicy:o ordinals:o"},
    {"JobSpec", BATCH,
     "JobSpec describes how the job execution will look like.",
     "parallelism:i completions:i activeDeadlineSeconds:l "
     "podFailurePolicy:o successPolicy:o backoffLimit:i "
     "backoffLimitPerIndex:i maxFailedIndexes:i selector:LabelSelector "
     "manualSelector:b template!:PodTemplateSpec ttlSecondsAfterFinished:i "
     "completionMode:s suspend:b podReplacementPolicy:s managedBy:s"},
    {"JobStatus", BATCH, "JobStatus represents the current state of a Job.",
     "conditions:[JobCondition] startTime:t completionTime:t active:i "
     "succeeded:i failed:i terminating:i completedIndexes:s "
     "failedIndexes:s uncountedTerminatedPods:o ready:i"},
    {"JobCondition", BATCH, "JobCondition describes current state of a job.",
     "type!:s status!:s lastProbeTime:t lastTransitionTime:t reason:s "
     "message:s"},
    {"PolicyRule", RBAC,
     "PolicyRule holds information that describes a policy rule, but does "
     "not contain information about who the rule applies to or which "
     "namespace the rule applies to.",
     "verbs!:[s] apiGroups:[s] resources:[s] resourceNames:[s] "
     "nonResourceURLs:[s]"},
    {"Subject", RBAC,
     "Subject contains a reference to the object or user identities a role "
     "binding applies to.",
     "kind!:s apiGroup:s name!:s namespace:s"},
    {"RoleRef", RBAC,
     "RoleRef contains information that points to the role being used",
     "apiGroup!:s kind!:s name!:s"},
    {"StatefulSetStatus", APPS,
     "StatefulSetStatus represents the current state of a StatefulSet.",
     "observedGeneration:l replicas!:i readyReplicas:i currentReplicas:i "
     "updatedReplicas:i currentRevision:s updateRevision:s "
     "collisionCount:i conditions:[o]@type availableReplicas:i"},
};

/* What each kind holds besides apiVersion, kind and metadata. */
static const struct {
    const char *kind;
    const char *desc;
    const char *fields;
} kind_fields[] = {
    {"ConfigMap", "ConfigMap holds configuration data for pods to consume.",
     "data:{s} binaryData:{s} immutable:b"},
    {"Event", "Event is a report of an event somewhere in the cluster.",
     "involvedObject!:ObjectReference reason:s message:s source:EventSource "
     "firstTimestamp:t lastTimestamp:t count:i type:s eventTime:t series:o "
     "action:s related:ObjectReference reportingComponent:s "
     "reportingInstance:s"},
    {"Namespace", "Namespace provides a scope for Names.",
     "spec:NamespaceSpec status:NamespaceStatus"},
    {"Node",
     "Node is a worker node in Kubernetes. Each node will have a unique "
     "identifier in the cache (i.e. in etcd).",
     "spec:NodeSpec status:NodeStatus"},
    {"Pod",
     "Pod is a collection of containers that can run on a host. This "
     "resource is created by clients and scheduled onto hosts.",
     "spec:PodSpec status:PodStatus"},
    {"Secret",
     "Secret holds secret data of a certain type. The total bytes of the "
     "values in the Data field must be less than MaxSecretSize bytes.",
     "data:{s} stringData:{s} type:s immutable:b"},
    {"ServiceAccount",
     "ServiceAccount binds together: * a name, understood by users, and "
     "perhaps by peripheral systems, for an identity * a principal that can "
     "be authenticated and authorized * a set of secrets",
     "secrets:[ObjectReference]@name imagePullSecrets:[LocalObjectReference] "
     "automountServiceAccountToken:b"},
    {"Service",
     "Service is a named abstraction of software service (for example, "
     "mysql) consisting of local port (for example 3306) that the proxy "
     "listens on, and the selector that determines which pods will answer "
     "requests sent through the proxy.",
     "spec:ServiceSpec status:ServiceStatus"},
    {"DaemonSet", "DaemonSet represents the configuration of a daemon set.",
     "spec:DaemonSetSpec status:DaemonSetStatus"},
    {"Deployment",
     "Deployment enables declarative updates for Pods and ReplicaSets.",
     "spec:DeploymentSpec status:DeploymentStatus"},
    {"ReplicaSet",
     "ReplicaSet ensures that a specified number of pod replicas are "
     "running at any given time.",
     "spec:ReplicaSetSpec status:ReplicaSetStatus"},
    {"StatefulSet",
     "StatefulSet represents a set of pods with consistent identities.",
     "spec:StatefulSetSpec status:StatefulSetStatus"},
    {"Job", "Job represents the configuration of a single job.",
     "spec:JobSpec status:JobStatus"},
    {"ClusterRoleBinding",
     "ClusterRoleBinding references a ClusterRole, but not contain it.",
     "subjects:[Subject] roleRef!:RoleRef"},
    {"ClusterRole",
     "ClusterRole is a cluster level, logical grouping of PolicyRules that "
     "can be referenced as a unit by a RoleBinding or ClusterRoleBinding.",
     "rules:[PolicyRule] aggregationRule:o"},
    {"RoleBinding", "RoleBinding references a role, but does not contain it.",
     "subjects:[Subject] roleRef!:RoleRef"},
    {"Role",
     "Role is a namespaced, logical grouping of PolicyRules that can be "
     "referenced as a unit by a RoleBinding.",
     "rules:[PolicyRule]"},
};

#define N_DEFS (sizeof(defs) / sizeof(defs[0]))
#define N_KIND_FIELDS (sizeof(kind_fields) / sizeof(kind_fields[0]))

/* Every kind has these besides its own fields. */
static const char base_fields[] = "apiVersion:s kind:s metadata:ObjectMeta";

size_t mock_schema_n_defs(void)
{
    return N_DEFS;
}

const struct mock_schema_def *mock_schema_def_at(size_t i)
{
    return i < N_DEFS ? &defs[i] : NULL;
}

const char *mock_schema_kind_pkg(const struct mock_kind *k)
{
    return mock_kind_group(k)->pkg;
}

const char *mock_schema_kind_fields(const struct mock_kind *k,
                                    const char **desc)
{
    for (size_t i = 0; i < N_KIND_FIELDS; i++) {
        if (strcmp(kind_fields[i].kind, k->kind) == 0) {
            *desc = kind_fields[i].desc;
            return kind_fields[i].fields;
        }
    }
    *desc = k->kind;
    return "";
}

const char *mock_schema_pkg(const char *name, size_t n)
{
    for (size_t i = 0; i < N_DEFS; i++) {
        if (strlen(defs[i].name) == n && strncmp(defs[i].name, name, n) == 0)
            return defs[i].pkg;
    }
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        if (strlen(k->kind) == n && strncmp(k->kind, name, n) == 0)
            return mock_schema_kind_pkg(k);
    }
    return NULL;
}

/* ---- walking values along the schema ---------------------------------- */

/* The fields of the definition called NAME (N bytes), or NULL. */
static const char *def_fields(const char *name, size_t n)
{
    for (size_t i = 0; i < N_DEFS; i++) {
        if (strlen(defs[i].name) == n && strncmp(defs[i].name, name, n) == 0)
            return defs[i].fields;
    }
    return NULL;
}

int mock_schema_type(const char *t, size_t n, struct mock_type *out)
{
    memset(out, 0, sizeof(*out));
    out->t = t;
    out->n = n;
    if (n == 1 && strchr("silbntqx", t[0])) {
        out->c = MOCK_T_SCALAR;
        return 0;
    }
    if (n == 1 && t[0] == 'o') {
        out->c = MOCK_T_ANY;
        return 0;
    }
    if (n >= 2 && t[0] == '{' && t[n - 1] == '}') {
        out->c = MOCK_T_MAP;
        out->elem = t + 1;
        out->elem_n = n - 2;
        return 0;
    }
    if (n >= 2 && t[0] == '[') {
        const char *close = memchr(t, ']', n);
        if (!close)
            return -1;
        out->elem = t + 1;
        out->elem_n = (size_t)(close - t - 1);
        const char *rest = close + 1;
        size_t rn = n - (size_t)(rest - t);
        out->c = MOCK_T_LIST;
        if (rn > 1 && rest[0] == '@') {
            out->c = MOCK_T_LIST_MAP;
            out->key = rest + 1;
            out->key_n = rn - 1;
        } else if (rn == 1 && rest[0] == '*') {
            out->c = MOCK_T_SET;
        } else if (rn != 0) {
            return -1;
        }
        return 0;
    }
    out->c = MOCK_T_STRUCT;
    out->fields = def_fields(t, n);
    for (size_t i = 0; !out->fields && i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        if (strlen(k->kind) == n && strncmp(k->kind, t, n) == 0) {
            const char *desc;
            out->fields = mock_schema_kind_fields(k, &desc);
            out->root = 1;
        }
    }
    return out->fields ? 0 : -1;
}

int mock_schema_root(const struct mock_kind *k, struct mock_type *out)
{
    return mock_schema_type(k->kind, strlen(k->kind), out);
}

/* The type of NAME in the notation FIELDS: 0, or -1 when absent. */
static int find_field(const char *fields, const char *name,
                      struct mock_type *out)
{
    size_t nl = strlen(name);
    const char *p = fields;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        if (!end)
            end = p + strlen(p);
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (colon) {
            size_t n = (size_t)(colon - p);
            if (n > 0 && p[n - 1] == '!')
                n--;
            if (n == nl && strncmp(p, name, n) == 0)
                return mock_schema_type(colon + 1, (size_t)(end - colon - 1),
                                        out);
        }
        p = end;
    }
    return -1;
}

int mock_schema_member(const struct mock_type *t, const char *name,
                       struct mock_type *out)
{
    switch (t->c) {
    case MOCK_T_STRUCT:
        if (t->root && find_field(base_fields, name, out) == 0)
            return 0;
        return find_field(t->fields, name, out);
    case MOCK_T_MAP:
        return mock_schema_type(t->elem, t->elem_n, out);
    case MOCK_T_ANY:
        return mock_schema_type("o", 1, out);
    default:
        return -1;
    }
}

int mock_schema_elem(const struct mock_type *t, struct mock_type *out)
{
    if (t->c != MOCK_T_LIST && t->c != MOCK_T_LIST_MAP && t->c != MOCK_T_SET)
        return -1;
    return mock_schema_type(t->elem, t->elem_n, out);
}
