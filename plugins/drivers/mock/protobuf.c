/* Protobuf request bodies: kubectl's typed commands (`create namespace`,
 * `create configmap|secret|deployment|service`) send
 * application/vnd.kubernetes.protobuf and never retry with JSON, so the mock
 * decodes them into the JSON object the rest of its code works on. The
 * reader is the SDK's (fg_pb_decode); what is here are the schema tables
 * of the kinds the mock accepts (field numbers from k8s.io/api's
 * generated.proto), as fedgate/util.h describes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define MSG(name)                                                              \
    static const struct fg_pb_message name = {                                 \
        name##_f, sizeof(name##_f) / sizeof(name##_f[0])}

/* ---- schemas (field numbers from k8s.io/api generated.proto) ---------- */

static const struct fg_pb_field owner_ref_f[] = {
    {5, "apiVersion", FG_PB_STRING, 0, NULL},
    {1, "kind", FG_PB_STRING, 0, NULL},
    {3, "name", FG_PB_STRING, 0, NULL},
    {4, "uid", FG_PB_STRING, 0, NULL},
    {6, "controller", FG_PB_BOOL, FG_PB_KEEP, NULL},
    {7, "blockOwnerDeletion", FG_PB_BOOL, FG_PB_KEEP, NULL},
};
MSG(owner_ref);

static const struct fg_pb_field object_meta_f[] = {
    {1, "name", FG_PB_STRING, 0, NULL},
    {2, "generateName", FG_PB_STRING, 0, NULL},
    {3, "namespace", FG_PB_STRING, 0, NULL},
    {5, "uid", FG_PB_STRING, 0, NULL},
    {6, "resourceVersion", FG_PB_STRING, 0, NULL},
    {7, "generation", FG_PB_INT64, 0, NULL},
    {8, "creationTimestamp", FG_PB_TIME, 0, NULL},
    {11, "labels", FG_PB_MAP_STRING, 0, NULL},
    {12, "annotations", FG_PB_MAP_STRING, 0, NULL},
    {13, "ownerReferences", FG_PB_MESSAGE, FG_PB_REPEATED, &owner_ref},
    {14, "finalizers", FG_PB_STRINGS, 0, NULL},
};
MSG(object_meta);

static const struct fg_pb_field label_req_f[] = {
    {1, "key", FG_PB_STRING, 0, NULL},
    {2, "operator", FG_PB_STRING, 0, NULL},
    {3, "values", FG_PB_STRINGS, 0, NULL},
};
MSG(label_req);

static const struct fg_pb_field label_selector_f[] = {
    {1, "matchLabels", FG_PB_MAP_STRING, 0, NULL},
    {2, "matchExpressions", FG_PB_MESSAGE, FG_PB_REPEATED, &label_req},
};
MSG(label_selector);

static const struct fg_pb_field local_ref_f[] = {
    {1, "name", FG_PB_STRING, 0, NULL},
};
MSG(local_ref);

static const struct fg_pb_field key_selector_f[] = {
    {1, "localObjectReference", FG_PB_MESSAGE, FG_PB_INLINE, &local_ref},
    {2, "key", FG_PB_STRING, 0, NULL},
    {3, "optional", FG_PB_BOOL, FG_PB_KEEP, NULL},
};
MSG(key_selector);

static const struct fg_pb_field field_selector_f[] = {
    {1, "apiVersion", FG_PB_STRING, 0, NULL},
    {2, "fieldPath", FG_PB_STRING, 0, NULL},
};
MSG(field_selector);

static const struct fg_pb_field env_source_f[] = {
    {1, "fieldRef", FG_PB_MESSAGE, 0, &field_selector},
    {3, "configMapKeyRef", FG_PB_MESSAGE, 0, &key_selector},
    {4, "secretKeyRef", FG_PB_MESSAGE, 0, &key_selector},
};
MSG(env_source);

static const struct fg_pb_field env_var_f[] = {
    {1, "name", FG_PB_STRING, 0, NULL},
    {2, "value", FG_PB_STRING, 0, NULL},
    {3, "valueFrom", FG_PB_MESSAGE, 0, &env_source},
};
MSG(env_var);

static const struct fg_pb_field container_port_f[] = {
    {1, "name", FG_PB_STRING, 0, NULL},
    {2, "hostPort", FG_PB_INT32, 0, NULL},
    {3, "containerPort", FG_PB_INT32, 0, NULL},
    {4, "protocol", FG_PB_STRING, 0, NULL},
    {5, "hostIP", FG_PB_STRING, 0, NULL},
};
MSG(container_port);

static const struct fg_pb_field resources_f[] = {
    {1, "limits", FG_PB_MAP_QUANTITY, 0, NULL},
    {2, "requests", FG_PB_MAP_QUANTITY, 0, NULL},
};
MSG(resources);

static const struct fg_pb_field volume_mount_f[] = {
    {1, "name", FG_PB_STRING, 0, NULL},
    {2, "readOnly", FG_PB_BOOL, 0, NULL},
    {3, "mountPath", FG_PB_STRING, 0, NULL},
    {4, "subPath", FG_PB_STRING, 0, NULL},
};
MSG(volume_mount);

static const struct fg_pb_field container_f[] = {
    {1, "name", FG_PB_STRING, 0, NULL},
    {2, "image", FG_PB_STRING, 0, NULL},
    {3, "command", FG_PB_STRINGS, 0, NULL},
    {4, "args", FG_PB_STRINGS, 0, NULL},
    {5, "workingDir", FG_PB_STRING, 0, NULL},
    {6, "ports", FG_PB_MESSAGE, FG_PB_REPEATED, &container_port},
    {7, "env", FG_PB_MESSAGE, FG_PB_REPEATED, &env_var},
    {8, "resources", FG_PB_MESSAGE, 0, &resources},
    {9, "volumeMounts", FG_PB_MESSAGE, FG_PB_REPEATED, &volume_mount},
    {13, "terminationMessagePath", FG_PB_STRING, 0, NULL},
    {14, "imagePullPolicy", FG_PB_STRING, 0, NULL},
    {16, "stdin", FG_PB_BOOL, 0, NULL},
    {17, "stdinOnce", FG_PB_BOOL, 0, NULL},
    {18, "tty", FG_PB_BOOL, 0, NULL},
    {20, "terminationMessagePolicy", FG_PB_STRING, 0, NULL},
};
MSG(container);

static const struct fg_pb_field host_path_f[] = {
    {1, "path", FG_PB_STRING, 0, NULL},
    {2, "type", FG_PB_STRING, FG_PB_KEEP, NULL},
};
MSG(host_path);

static const struct fg_pb_field empty_dir_f[] = {
    {1, "medium", FG_PB_STRING, 0, NULL},
    {2, "sizeLimit", FG_PB_QUANTITY, 0, NULL},
};
MSG(empty_dir);

static const struct fg_pb_field secret_vol_f[] = {
    {1, "secretName", FG_PB_STRING, 0, NULL},
    {3, "defaultMode", FG_PB_INT32, FG_PB_KEEP, NULL},
    {4, "optional", FG_PB_BOOL, FG_PB_KEEP, NULL},
};
MSG(secret_vol);

static const struct fg_pb_field configmap_vol_f[] = {
    {1, "localObjectReference", FG_PB_MESSAGE, FG_PB_INLINE, &local_ref},
    {3, "defaultMode", FG_PB_INT32, FG_PB_KEEP, NULL},
    {4, "optional", FG_PB_BOOL, FG_PB_KEEP, NULL},
};
MSG(configmap_vol);

static const struct fg_pb_field pvc_vol_f[] = {
    {1, "claimName", FG_PB_STRING, 0, NULL},
    {2, "readOnly", FG_PB_BOOL, 0, NULL},
};
MSG(pvc_vol);

static const struct fg_pb_field volume_source_f[] = {
    {1, "hostPath", FG_PB_MESSAGE, FG_PB_KEEP, &host_path},
    {2, "emptyDir", FG_PB_MESSAGE, FG_PB_KEEP, &empty_dir},
    {6, "secret", FG_PB_MESSAGE, FG_PB_KEEP, &secret_vol},
    {10, "persistentVolumeClaim", FG_PB_MESSAGE, FG_PB_KEEP, &pvc_vol},
    {19, "configMap", FG_PB_MESSAGE, FG_PB_KEEP, &configmap_vol},
};
MSG(volume_source);

static const struct fg_pb_field volume_f[] = {
    {1, "name", FG_PB_STRING, 0, NULL},
    {2, "volumeSource", FG_PB_MESSAGE, FG_PB_INLINE, &volume_source},
};
MSG(volume);

static const struct fg_pb_field toleration_f[] = {
    {1, "key", FG_PB_STRING, 0, NULL},
    {2, "operator", FG_PB_STRING, 0, NULL},
    {3, "value", FG_PB_STRING, 0, NULL},
    {4, "effect", FG_PB_STRING, 0, NULL},
    {5, "tolerationSeconds", FG_PB_INT64, FG_PB_KEEP, NULL},
};
MSG(toleration);

static const struct fg_pb_field pod_spec_f[] = {
    {1, "volumes", FG_PB_MESSAGE, FG_PB_REPEATED, &volume},
    {2, "containers", FG_PB_MESSAGE, FG_PB_REPEATED, &container},
    {3, "restartPolicy", FG_PB_STRING, 0, NULL},
    {4, "terminationGracePeriodSeconds", FG_PB_INT64, FG_PB_KEEP, NULL},
    {5, "activeDeadlineSeconds", FG_PB_INT64, FG_PB_KEEP, NULL},
    {6, "dnsPolicy", FG_PB_STRING, 0, NULL},
    {7, "nodeSelector", FG_PB_MAP_STRING, 0, NULL},
    {8, "serviceAccountName", FG_PB_STRING, 0, NULL},
    {9, "serviceAccount", FG_PB_STRING, 0, NULL},
    {10, "nodeName", FG_PB_STRING, 0, NULL},
    {11, "hostNetwork", FG_PB_BOOL, 0, NULL},
    {15, "imagePullSecrets", FG_PB_MESSAGE, FG_PB_REPEATED, &local_ref},
    {16, "hostname", FG_PB_STRING, 0, NULL},
    {17, "subdomain", FG_PB_STRING, 0, NULL},
    {19, "schedulerName", FG_PB_STRING, 0, NULL},
    {20, "initContainers", FG_PB_MESSAGE, FG_PB_REPEATED, &container},
    {21, "automountServiceAccountToken", FG_PB_BOOL, FG_PB_KEEP, NULL},
    {22, "tolerations", FG_PB_MESSAGE, FG_PB_REPEATED, &toleration},
};
MSG(pod_spec);

static const struct fg_pb_field pod_template_f[] = {
    {1, "metadata", FG_PB_MESSAGE, 0, &object_meta},
    {2, "spec", FG_PB_MESSAGE, 0, &pod_spec},
};
MSG(pod_template);

static const struct fg_pb_field rolling_update_f[] = {
    {1, "maxUnavailable", FG_PB_INT_OR_STRING, 0, NULL},
    {2, "maxSurge", FG_PB_INT_OR_STRING, 0, NULL},
};
MSG(rolling_update);

static const struct fg_pb_field deploy_strategy_f[] = {
    {1, "type", FG_PB_STRING, 0, NULL},
    {2, "rollingUpdate", FG_PB_MESSAGE, 0, &rolling_update},
};
MSG(deploy_strategy);

static const struct fg_pb_field deploy_spec_f[] = {
    {1, "replicas", FG_PB_INT32, FG_PB_KEEP, NULL},
    {2, "selector", FG_PB_MESSAGE, 0, &label_selector},
    {3, "template", FG_PB_MESSAGE, 0, &pod_template},
    {4, "strategy", FG_PB_MESSAGE, 0, &deploy_strategy},
    {5, "minReadySeconds", FG_PB_INT32, 0, NULL},
    {6, "revisionHistoryLimit", FG_PB_INT32, FG_PB_KEEP, NULL},
    {7, "paused", FG_PB_BOOL, 0, NULL},
    {9, "progressDeadlineSeconds", FG_PB_INT32, FG_PB_KEEP, NULL},
};
MSG(deploy_spec);

static const struct fg_pb_field service_port_f[] = {
    {1, "name", FG_PB_STRING, 0, NULL},
    {2, "protocol", FG_PB_STRING, 0, NULL},
    {3, "port", FG_PB_INT32, 0, NULL},
    {4, "targetPort", FG_PB_INT_OR_STRING, 0, NULL},
    {5, "nodePort", FG_PB_INT32, 0, NULL},
    {6, "appProtocol", FG_PB_STRING, FG_PB_KEEP, NULL},
};
MSG(service_port);

static const struct fg_pb_field service_spec_f[] = {
    {1, "ports", FG_PB_MESSAGE, FG_PB_REPEATED, &service_port},
    {2, "selector", FG_PB_MAP_STRING, 0, NULL},
    {3, "clusterIP", FG_PB_STRING, 0, NULL},
    {4, "type", FG_PB_STRING, 0, NULL},
    {5, "externalIPs", FG_PB_STRINGS, 0, NULL},
    {7, "sessionAffinity", FG_PB_STRING, 0, NULL},
    {10, "externalName", FG_PB_STRING, 0, NULL},
    {18, "clusterIPs", FG_PB_STRINGS, 0, NULL},
    {19, "ipFamilies", FG_PB_STRINGS, 0, NULL},
};
MSG(service_spec);

static const struct fg_pb_field namespace_spec_f[] = {
    {1, "finalizers", FG_PB_STRINGS, 0, NULL},
};
MSG(namespace_spec);

static const struct fg_pb_field namespace_status_f[] = {
    {1, "phase", FG_PB_STRING, 0, NULL},
};
MSG(namespace_status);

static const struct fg_pb_field namespace_msg_f[] = {
    {1, "metadata", FG_PB_MESSAGE, 0, &object_meta},
    {2, "spec", FG_PB_MESSAGE, 0, &namespace_spec},
    {3, "status", FG_PB_MESSAGE, 0, &namespace_status},
};
MSG(namespace_msg);

static const struct fg_pb_field configmap_msg_f[] = {
    {1, "metadata", FG_PB_MESSAGE, 0, &object_meta},
    {2, "data", FG_PB_MAP_STRING, 0, NULL},
    {3, "binaryData", FG_PB_MAP_BYTES, 0, NULL},
    {4, "immutable", FG_PB_BOOL, FG_PB_KEEP, NULL},
};
MSG(configmap_msg);

static const struct fg_pb_field secret_msg_f[] = {
    {1, "metadata", FG_PB_MESSAGE, 0, &object_meta},
    {2, "data", FG_PB_MAP_BYTES, 0, NULL},
    {3, "type", FG_PB_STRING, 0, NULL},
    {4, "stringData", FG_PB_MAP_STRING, 0, NULL},
    {5, "immutable", FG_PB_BOOL, FG_PB_KEEP, NULL},
};
MSG(secret_msg);

static const struct fg_pb_field object_ref_f[] = {
    {1, "kind", FG_PB_STRING, 0, NULL},
    {2, "namespace", FG_PB_STRING, 0, NULL},
    {3, "name", FG_PB_STRING, 0, NULL},
    {4, "uid", FG_PB_STRING, 0, NULL},
    {5, "apiVersion", FG_PB_STRING, 0, NULL},
    {6, "resourceVersion", FG_PB_STRING, 0, NULL},
    {7, "fieldPath", FG_PB_STRING, 0, NULL},
};
MSG(object_ref);

static const struct fg_pb_field serviceaccount_msg_f[] = {
    {1, "metadata", FG_PB_MESSAGE, 0, &object_meta},
    {2, "secrets", FG_PB_MESSAGE, FG_PB_REPEATED, &object_ref},
    {3, "imagePullSecrets", FG_PB_MESSAGE, FG_PB_REPEATED, &local_ref},
    {4, "automountServiceAccountToken", FG_PB_BOOL, FG_PB_KEEP, NULL},
};
MSG(serviceaccount_msg);

static const struct fg_pb_field deployment_msg_f[] = {
    {1, "metadata", FG_PB_MESSAGE, 0, &object_meta},
    {2, "spec", FG_PB_MESSAGE, 0, &deploy_spec},
};
MSG(deployment_msg);

static const struct fg_pb_field service_msg_f[] = {
    {1, "metadata", FG_PB_MESSAGE, 0, &object_meta},
    {2, "spec", FG_PB_MESSAGE, 0, &service_spec},
};
MSG(service_msg);

static const struct fg_pb_field pod_msg_f[] = {
    {1, "metadata", FG_PB_MESSAGE, 0, &object_meta},
    {2, "spec", FG_PB_MESSAGE, 0, &pod_spec},
};
MSG(pod_msg);

static const struct fg_pb_kind top[] = {
    {"v1", "Namespace", &namespace_msg},
    {"v1", "ConfigMap", &configmap_msg},
    {"v1", "Secret", &secret_msg},
    {"v1", "ServiceAccount", &serviceaccount_msg},
    {"v1", "Service", &service_msg},
    {"v1", "Pod", &pod_msg},
    {"apps/v1", "Deployment", &deployment_msg},
};

int mock_protobuf_decode(const void *data, size_t len, cJSON **out, char *err,
                         size_t err_len)
{
    return fg_pb_decode(data, len, top, sizeof(top) / sizeof(top[0]), out, err,
                        err_len);
}
