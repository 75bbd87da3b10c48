/* Protobuf request bodies: kubectl's typed commands (`create namespace`,
 * `create configmap|secret|deployment|service`) send
 * application/vnd.kubernetes.protobuf and never retry with JSON, so the mock
 * decodes them into the JSON object the rest of its code works on.
 *
 * The body is the four bytes "k8s\0" and a runtime.Unknown message
 * {1: TypeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding,
 * 4: contentType}; raw is the object in the wire format of k8s.io/api's
 * generated.proto. A schema table per message (field number, JSON name,
 * type) drives one small reader; fields the tables do not list are
 * skipped, as any protobuf reader skips unknown fields.
 *
 * Go's protobuf marshaller writes every non-pointer field, zero or not,
 * while encoding/json leaves zero values out (omitempty). So zero scalars
 * and empty nested messages are dropped, except for fields that are
 * pointers in Go (KEEP), whose presence on the wire means "set".
 *
 * The reader trusts nothing: every length is checked against what is
 * left, nesting is capped, the number of JSON nodes is capped, strings
 * must be UTF-8 without NUL. Anything wrong is "malformed" (400). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define PB_MAX_DEPTH 32
#define PB_MAX_NODES 200000

enum pt {
    P_STR,
    P_BYTES,
    P_I32,
    P_I64,
    P_BOOL,
    P_MSG,
    P_STRS,   /* repeated string */
    P_MAP_SS, /* map<string, string> */
    P_MAP_SB, /* map<string, bytes> */
    P_MAP_SQ, /* map<string, Quantity> */
    P_TIME,   /* meta/v1 Time */
    P_IOS,    /* util/intstr IntOrString */
    P_QTY,    /* api/resource Quantity */
};

#define F_REP 1    /* repeated message: a JSON array */
#define F_KEEP 2   /* a pointer in Go: zero values are meaningful */
#define F_INLINE 4 /* an embedded struct whose fields JSON inlines */

struct pmsg;
struct pfield {
    uint32_t num;
    const char *json;
    enum pt type;
    int flags;
    const struct pmsg *msg;
};
struct pmsg {
    const struct pfield *f;
    size_t n;
};

#define MSG(name)                                                              \
    static const struct pmsg name = {name##_f,                                 \
                                     sizeof(name##_f) / sizeof(name##_f[0])}

/* ---- schemas (field numbers from k8s.io/api generated.proto) ---------- */

static const struct pfield owner_ref_f[] = {
    {5, "apiVersion", P_STR, 0, NULL},
    {1, "kind", P_STR, 0, NULL},
    {3, "name", P_STR, 0, NULL},
    {4, "uid", P_STR, 0, NULL},
    {6, "controller", P_BOOL, F_KEEP, NULL},
    {7, "blockOwnerDeletion", P_BOOL, F_KEEP, NULL},
};
MSG(owner_ref);

static const struct pfield object_meta_f[] = {
    {1, "name", P_STR, 0, NULL},
    {2, "generateName", P_STR, 0, NULL},
    {3, "namespace", P_STR, 0, NULL},
    {5, "uid", P_STR, 0, NULL},
    {6, "resourceVersion", P_STR, 0, NULL},
    {7, "generation", P_I64, 0, NULL},
    {8, "creationTimestamp", P_TIME, 0, NULL},
    {11, "labels", P_MAP_SS, 0, NULL},
    {12, "annotations", P_MAP_SS, 0, NULL},
    {13, "ownerReferences", P_MSG, F_REP, &owner_ref},
    {14, "finalizers", P_STRS, 0, NULL},
};
MSG(object_meta);

static const struct pfield label_req_f[] = {
    {1, "key", P_STR, 0, NULL},
    {2, "operator", P_STR, 0, NULL},
    {3, "values", P_STRS, 0, NULL},
};
MSG(label_req);

static const struct pfield label_selector_f[] = {
    {1, "matchLabels", P_MAP_SS, 0, NULL},
    {2, "matchExpressions", P_MSG, F_REP, &label_req},
};
MSG(label_selector);

static const struct pfield local_ref_f[] = {
    {1, "name", P_STR, 0, NULL},
};
MSG(local_ref);

static const struct pfield key_selector_f[] = {
    {1, "localObjectReference", P_MSG, F_INLINE, &local_ref},
    {2, "key", P_STR, 0, NULL},
    {3, "optional", P_BOOL, F_KEEP, NULL},
};
MSG(key_selector);

static const struct pfield field_selector_f[] = {
    {1, "apiVersion", P_STR, 0, NULL},
    {2, "fieldPath", P_STR, 0, NULL},
};
MSG(field_selector);

static const struct pfield env_source_f[] = {
    {1, "fieldRef", P_MSG, 0, &field_selector},
    {3, "configMapKeyRef", P_MSG, 0, &key_selector},
    {4, "secretKeyRef", P_MSG, 0, &key_selector},
};
MSG(env_source);

static const struct pfield env_var_f[] = {
    {1, "name", P_STR, 0, NULL},
    {2, "value", P_STR, 0, NULL},
    {3, "valueFrom", P_MSG, 0, &env_source},
};
MSG(env_var);

static const struct pfield container_port_f[] = {
    {1, "name", P_STR, 0, NULL},          {2, "hostPort", P_I32, 0, NULL},
    {3, "containerPort", P_I32, 0, NULL}, {4, "protocol", P_STR, 0, NULL},
    {5, "hostIP", P_STR, 0, NULL},
};
MSG(container_port);

static const struct pfield resources_f[] = {
    {1, "limits", P_MAP_SQ, 0, NULL},
    {2, "requests", P_MAP_SQ, 0, NULL},
};
MSG(resources);

static const struct pfield volume_mount_f[] = {
    {1, "name", P_STR, 0, NULL},
    {2, "readOnly", P_BOOL, 0, NULL},
    {3, "mountPath", P_STR, 0, NULL},
    {4, "subPath", P_STR, 0, NULL},
};
MSG(volume_mount);

static const struct pfield container_f[] = {
    {1, "name", P_STR, 0, NULL},
    {2, "image", P_STR, 0, NULL},
    {3, "command", P_STRS, 0, NULL},
    {4, "args", P_STRS, 0, NULL},
    {5, "workingDir", P_STR, 0, NULL},
    {6, "ports", P_MSG, F_REP, &container_port},
    {7, "env", P_MSG, F_REP, &env_var},
    {8, "resources", P_MSG, 0, &resources},
    {9, "volumeMounts", P_MSG, F_REP, &volume_mount},
    {13, "terminationMessagePath", P_STR, 0, NULL},
    {14, "imagePullPolicy", P_STR, 0, NULL},
    {16, "stdin", P_BOOL, 0, NULL},
    {17, "stdinOnce", P_BOOL, 0, NULL},
    {18, "tty", P_BOOL, 0, NULL},
    {20, "terminationMessagePolicy", P_STR, 0, NULL},
};
MSG(container);

static const struct pfield host_path_f[] = {
    {1, "path", P_STR, 0, NULL},
    {2, "type", P_STR, F_KEEP, NULL},
};
MSG(host_path);

static const struct pfield empty_dir_f[] = {
    {1, "medium", P_STR, 0, NULL},
    {2, "sizeLimit", P_QTY, 0, NULL},
};
MSG(empty_dir);

static const struct pfield secret_vol_f[] = {
    {1, "secretName", P_STR, 0, NULL},
    {3, "defaultMode", P_I32, F_KEEP, NULL},
    {4, "optional", P_BOOL, F_KEEP, NULL},
};
MSG(secret_vol);

static const struct pfield configmap_vol_f[] = {
    {1, "localObjectReference", P_MSG, F_INLINE, &local_ref},
    {3, "defaultMode", P_I32, F_KEEP, NULL},
    {4, "optional", P_BOOL, F_KEEP, NULL},
};
MSG(configmap_vol);

static const struct pfield pvc_vol_f[] = {
    {1, "claimName", P_STR, 0, NULL},
    {2, "readOnly", P_BOOL, 0, NULL},
};
MSG(pvc_vol);

static const struct pfield volume_source_f[] = {
    {1, "hostPath", P_MSG, F_KEEP, &host_path},
    {2, "emptyDir", P_MSG, F_KEEP, &empty_dir},
    {6, "secret", P_MSG, F_KEEP, &secret_vol},
    {10, "persistentVolumeClaim", P_MSG, F_KEEP, &pvc_vol},
    {19, "configMap", P_MSG, F_KEEP, &configmap_vol},
};
MSG(volume_source);

static const struct pfield volume_f[] = {
    {1, "name", P_STR, 0, NULL},
    {2, "volumeSource", P_MSG, F_INLINE, &volume_source},
};
MSG(volume);

static const struct pfield toleration_f[] = {
    {1, "key", P_STR, 0, NULL},
    {2, "operator", P_STR, 0, NULL},
    {3, "value", P_STR, 0, NULL},
    {4, "effect", P_STR, 0, NULL},
    {5, "tolerationSeconds", P_I64, F_KEEP, NULL},
};
MSG(toleration);

static const struct pfield pod_spec_f[] = {
    {1, "volumes", P_MSG, F_REP, &volume},
    {2, "containers", P_MSG, F_REP, &container},
    {3, "restartPolicy", P_STR, 0, NULL},
    {4, "terminationGracePeriodSeconds", P_I64, F_KEEP, NULL},
    {5, "activeDeadlineSeconds", P_I64, F_KEEP, NULL},
    {6, "dnsPolicy", P_STR, 0, NULL},
    {7, "nodeSelector", P_MAP_SS, 0, NULL},
    {8, "serviceAccountName", P_STR, 0, NULL},
    {9, "serviceAccount", P_STR, 0, NULL},
    {10, "nodeName", P_STR, 0, NULL},
    {11, "hostNetwork", P_BOOL, 0, NULL},
    {15, "imagePullSecrets", P_MSG, F_REP, &local_ref},
    {16, "hostname", P_STR, 0, NULL},
    {17, "subdomain", P_STR, 0, NULL},
    {19, "schedulerName", P_STR, 0, NULL},
    {20, "initContainers", P_MSG, F_REP, &container},
    {21, "automountServiceAccountToken", P_BOOL, F_KEEP, NULL},
    {22, "tolerations", P_MSG, F_REP, &toleration},
};
MSG(pod_spec);

static const struct pfield pod_template_f[] = {
    {1, "metadata", P_MSG, 0, &object_meta},
    {2, "spec", P_MSG, 0, &pod_spec},
};
MSG(pod_template);

static const struct pfield rolling_update_f[] = {
    {1, "maxUnavailable", P_IOS, 0, NULL},
    {2, "maxSurge", P_IOS, 0, NULL},
};
MSG(rolling_update);

static const struct pfield deploy_strategy_f[] = {
    {1, "type", P_STR, 0, NULL},
    {2, "rollingUpdate", P_MSG, 0, &rolling_update},
};
MSG(deploy_strategy);

static const struct pfield deploy_spec_f[] = {
    {1, "replicas", P_I32, F_KEEP, NULL},
    {2, "selector", P_MSG, 0, &label_selector},
    {3, "template", P_MSG, 0, &pod_template},
    {4, "strategy", P_MSG, 0, &deploy_strategy},
    {5, "minReadySeconds", P_I32, 0, NULL},
    {6, "revisionHistoryLimit", P_I32, F_KEEP, NULL},
    {7, "paused", P_BOOL, 0, NULL},
    {9, "progressDeadlineSeconds", P_I32, F_KEEP, NULL},
};
MSG(deploy_spec);

static const struct pfield service_port_f[] = {
    {1, "name", P_STR, 0, NULL},     {2, "protocol", P_STR, 0, NULL},
    {3, "port", P_I32, 0, NULL},     {4, "targetPort", P_IOS, 0, NULL},
    {5, "nodePort", P_I32, 0, NULL}, {6, "appProtocol", P_STR, F_KEEP, NULL},
};
MSG(service_port);

static const struct pfield service_spec_f[] = {
    {1, "ports", P_MSG, F_REP, &service_port},
    {2, "selector", P_MAP_SS, 0, NULL},
    {3, "clusterIP", P_STR, 0, NULL},
    {4, "type", P_STR, 0, NULL},
    {5, "externalIPs", P_STRS, 0, NULL},
    {7, "sessionAffinity", P_STR, 0, NULL},
    {10, "externalName", P_STR, 0, NULL},
    {18, "clusterIPs", P_STRS, 0, NULL},
    {19, "ipFamilies", P_STRS, 0, NULL},
};
MSG(service_spec);

static const struct pfield namespace_spec_f[] = {
    {1, "finalizers", P_STRS, 0, NULL},
};
MSG(namespace_spec);

static const struct pfield namespace_status_f[] = {
    {1, "phase", P_STR, 0, NULL},
};
MSG(namespace_status);

static const struct pfield namespace_msg_f[] = {
    {1, "metadata", P_MSG, 0, &object_meta},
    {2, "spec", P_MSG, 0, &namespace_spec},
    {3, "status", P_MSG, 0, &namespace_status},
};
MSG(namespace_msg);

static const struct pfield configmap_msg_f[] = {
    {1, "metadata", P_MSG, 0, &object_meta},
    {2, "data", P_MAP_SS, 0, NULL},
    {3, "binaryData", P_MAP_SB, 0, NULL},
    {4, "immutable", P_BOOL, F_KEEP, NULL},
};
MSG(configmap_msg);

static const struct pfield secret_msg_f[] = {
    {1, "metadata", P_MSG, 0, &object_meta},
    {2, "data", P_MAP_SB, 0, NULL},
    {3, "type", P_STR, 0, NULL},
    {4, "stringData", P_MAP_SS, 0, NULL},
    {5, "immutable", P_BOOL, F_KEEP, NULL},
};
MSG(secret_msg);

static const struct pfield object_ref_f[] = {
    {1, "kind", P_STR, 0, NULL},       {2, "namespace", P_STR, 0, NULL},
    {3, "name", P_STR, 0, NULL},       {4, "uid", P_STR, 0, NULL},
    {5, "apiVersion", P_STR, 0, NULL}, {6, "resourceVersion", P_STR, 0, NULL},
    {7, "fieldPath", P_STR, 0, NULL},
};
MSG(object_ref);

static const struct pfield serviceaccount_msg_f[] = {
    {1, "metadata", P_MSG, 0, &object_meta},
    {2, "secrets", P_MSG, F_REP, &object_ref},
    {3, "imagePullSecrets", P_MSG, F_REP, &local_ref},
    {4, "automountServiceAccountToken", P_BOOL, F_KEEP, NULL},
};
MSG(serviceaccount_msg);

static const struct pfield deployment_msg_f[] = {
    {1, "metadata", P_MSG, 0, &object_meta},
    {2, "spec", P_MSG, 0, &deploy_spec},
};
MSG(deployment_msg);

static const struct pfield service_msg_f[] = {
    {1, "metadata", P_MSG, 0, &object_meta},
    {2, "spec", P_MSG, 0, &service_spec},
};
MSG(service_msg);

static const struct pfield pod_msg_f[] = {
    {1, "metadata", P_MSG, 0, &object_meta},
    {2, "spec", P_MSG, 0, &pod_spec},
};
MSG(pod_msg);

static const struct {
    const char *api_version, *kind;
    const struct pmsg *msg;
} top[] = {
    {"v1", "Namespace", &namespace_msg},
    {"v1", "ConfigMap", &configmap_msg},
    {"v1", "Secret", &secret_msg},
    {"v1", "ServiceAccount", &serviceaccount_msg},
    {"v1", "Service", &service_msg},
    {"v1", "Pod", &pod_msg},
    {"apps/v1", "Deployment", &deployment_msg},
};

/* ---- the wire reader -------------------------------------------------- */

struct pb {
    char *err;
    size_t err_len;
    size_t nodes;
};

struct rd {
    const uint8_t *p, *end;
};

static int bad(struct pb *b, const char *why)
{
    snprintf(b->err, b->err_len, "malformed protobuf body: %s", why);
    return -1;
}

static int varint(struct rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end)
            return -1;
        uint8_t c = *r->p++;
        if (shift == 63 && c > 1)
            return -1;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* A length-delimited field's bytes into SUB. */
static int delimited(struct rd *r, struct rd *sub)
{
    uint64_t n;
    if (varint(r, &n) != 0 || n > (uint64_t)(r->end - r->p))
        return -1;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 0;
}

static int skip(struct rd *r, unsigned wt)
{
    uint64_t v;
    struct rd sub;
    switch (wt) {
    case 0:
        return varint(r, &v);
    case 1:
        if (r->end - r->p < 8)
            return -1;
        r->p += 8;
        return 0;
    case 2:
        return delimited(r, &sub);
    case 5:
        if (r->end - r->p < 4)
            return -1;
        r->p += 4;
        return 0;
    default:
        return -1; /* groups are not used by Kubernetes */
    }
}

static int utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static cJSON *string_of(struct pb *b, const struct rd *s)
{
    size_t n = (size_t)(s->end - s->p);
    if (!utf8_ok(s->p, n)) {
        bad(b, "a string is not UTF-8");
        return NULL;
    }
    char *t = malloc(n + 1);
    if (!t)
        return NULL;
    memcpy(t, s->p, n);
    t[n] = '\0';
    cJSON *v = cJSON_CreateString(t);
    free(t);
    return v;
}

static cJSON *base64_of(const struct rd *s)
{
    char *t = fg_base64_encode_alloc(s->p, (size_t)(s->end - s->p), 0);
    cJSON *v = t ? cJSON_CreateString(t) : NULL;
    free(t);
    return v;
}

/* Stores V (owned) as KEY of OUT; a later occurrence replaces an earlier
 * one, as protobuf's "last one wins" says. Returns 0, -1 (memory). */
static int put(struct pb *b, cJSON *out, const char *key, cJSON *v)
{
    if (!v)
        return -1;
    if (++b->nodes > PB_MAX_NODES) {
        cJSON_Delete(v);
        bad(b, "too many fields");
        return -1;
    }
    return mock_json_set(out, key, v);
}

/* Reads one map entry {1: key, 2: value} of type T into the object at
 * OUT[JSON]. */
static int map_entry(struct pb *b, cJSON *out, const char *json, enum pt t,
                     struct rd *e)
{
    cJSON *key = NULL, *val = NULL;
    int rc = -1;
    while (e->p < e->end) {
        uint64_t tag;
        struct rd s;
        if (varint(e, &tag) != 0) {
            bad(b, "truncated map entry");
            goto out;
        }
        unsigned fn = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if ((fn == 1 || fn == 2) && wt == 2) {
            if (delimited(e, &s) != 0) {
                bad(b, "truncated map entry");
                goto out;
            }
            cJSON *v;
            if (fn == 1)
                v = string_of(b, &s);
            else if (t == P_MAP_SB)
                v = base64_of(&s);
            else if (t == P_MAP_SS)
                v = string_of(b, &s);
            else {
                /* Quantity {1: string} */
                v = NULL;
                struct rd q = s;
                while (q.p < q.end) {
                    uint64_t qt;
                    struct rd qs;
                    if (varint(&q, &qt) != 0) {
                        bad(b, "truncated quantity");
                        cJSON_Delete(v);
                        goto out;
                    }
                    if (qt == ((1 << 3) | 2)) {
                        if (delimited(&q, &qs) != 0) {
                            bad(b, "truncated quantity");
                            cJSON_Delete(v);
                            goto out;
                        }
                        cJSON_Delete(v);
                        v = string_of(b, &qs);
                        if (!v)
                            goto out;
                    } else if (skip(&q, (unsigned)(qt & 7)) != 0) {
                        bad(b, "truncated quantity");
                        cJSON_Delete(v);
                        goto out;
                    }
                }
                if (!v)
                    v = cJSON_CreateString("0");
            }
            if (!v)
                goto out;
            cJSON **slot = fn == 1 ? &key : &val;
            cJSON_Delete(*slot);
            *slot = v;
        } else if (skip(e, wt) != 0) {
            bad(b, "truncated map entry");
            goto out;
        }
    }
    if (!val)
        val = t == P_MAP_SQ ? cJSON_CreateString("0") : cJSON_CreateString("");
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(out, json);
    if (!obj) {
        obj = cJSON_CreateObject();
        if (put(b, out, json, obj) != 0)
            goto out;
    }
    rc = put(b, obj, key ? key->valuestring : "", val);
    val = NULL;
out:
    cJSON_Delete(key);
    cJSON_Delete(val);
    return rc;
}

static int read_msg(struct pb *b, const struct pmsg *m, struct rd *r,
                    cJSON *out, int depth);

/* meta/v1 Time {1: seconds, 2: nanos}: RFC 3339, or nothing when zero. */
static int read_time(struct pb *b, cJSON *out, const char *json, struct rd *s)
{
    uint64_t secs = 0, nanos = 0;
    while (s->p < s->end) {
        uint64_t tag, v;
        if (varint(s, &tag) != 0)
            return bad(b, "truncated time");
        if ((tag & 7) == 0 && ((tag >> 3) == 1 || (tag >> 3) == 2)) {
            if (varint(s, &v) != 0)
                return bad(b, "truncated time");
            if ((tag >> 3) == 1)
                secs = v;
            else
                nanos = v;
        } else if (skip(s, (unsigned)(tag & 7)) != 0) {
            return bad(b, "truncated time");
        }
    }
    if (secs == 0 && nanos == 0)
        return 0;
    if (secs > 253402300799ULL) /* year 9999 */
        return bad(b, "time out of range");
    char buf[40];
    mock_time_format((int64_t)secs * 1000, buf, sizeof(buf));
    return put(b, out, json, cJSON_CreateString(buf));
}

/* IntOrString {1: type, 2: intVal, 3: strVal}. */
static int read_ios(struct pb *b, cJSON *out, const char *json, struct rd *s)
{
    uint64_t type = 0, ival = 0;
    cJSON *str = NULL;
    while (s->p < s->end) {
        uint64_t tag;
        struct rd t;
        if (varint(s, &tag) != 0)
            goto truncated;
        unsigned fn = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if ((fn == 1 || fn == 2) && wt == 0) {
            if (varint(s, fn == 1 ? &type : &ival) != 0)
                goto truncated;
        } else if (fn == 3 && wt == 2) {
            if (delimited(s, &t) != 0)
                goto truncated;
            cJSON_Delete(str);
            str = string_of(b, &t);
            if (!str)
                return -1;
        } else if (skip(s, wt) != 0) {
            goto truncated;
        }
    }
    if (type == 1) {
        if (!str)
            str = cJSON_CreateString("");
        return put(b, out, json, str);
    }
    cJSON_Delete(str);
    return put(b, out, json, cJSON_CreateNumber((double)(int32_t)ival));
truncated:
    cJSON_Delete(str);
    return bad(b, "truncated int-or-string");
}

static int scalar_field(struct pb *b, const struct pfield *f, cJSON *out,
                        uint64_t v)
{
    int keep = f->flags & F_KEEP;
    if (f->type == P_BOOL) {
        if (v > 1)
            return bad(b, "a bool is neither 0 nor 1");
        if (!v && !keep) {
            cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(out, f->json));
            return 0;
        }
        return put(b, out, f->json, cJSON_CreateBool(v != 0));
    }
    double d =
        f->type == P_I32 ? (double)(int32_t)(uint32_t)v : (double)(int64_t)v;
    if (d == 0 && !keep) {
        cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(out, f->json));
        return 0;
    }
    return put(b, out, f->json, cJSON_CreateNumber(d));
}

static int message_field(struct pb *b, const struct pfield *f, cJSON *out,
                         struct rd *s, int depth)
{
    if (f->flags & F_INLINE)
        return read_msg(b, f->msg, s, out, depth + 1);
    if (f->flags & F_REP) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(out, f->json);
        if (!cJSON_IsArray(arr)) {
            arr = cJSON_CreateArray();
            if (put(b, out, f->json, arr) != 0)
                return -1;
        }
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            return -1;
        }
        if (++b->nodes > PB_MAX_NODES)
            return bad(b, "too many fields");
        return read_msg(b, f->msg, s, o, depth + 1);
    }
    /* A message seen twice is merged, as protobuf merges them. */
    cJSON *o = cJSON_GetObjectItemCaseSensitive(out, f->json);
    if (cJSON_IsObject(o))
        return read_msg(b, f->msg, s, o, depth + 1);
    o = cJSON_CreateObject();
    if (!o)
        return -1;
    int rc = read_msg(b, f->msg, s, o, depth + 1);
    if (rc != 0 || (!o->child && !(f->flags & F_KEEP))) {
        cJSON_Delete(o);
        return rc;
    }
    return put(b, out, f->json, o);
}

static int read_msg(struct pb *b, const struct pmsg *m, struct rd *r,
                    cJSON *out, int depth)
{
    if (depth > PB_MAX_DEPTH)
        return bad(b, "nested too deeply");
    while (r->p < r->end) {
        uint64_t tag;
        if (varint(r, &tag) != 0)
            return bad(b, "truncated field tag");
        unsigned wt = (unsigned)(tag & 7);
        uint64_t fn = tag >> 3;
        if (fn == 0)
            return bad(b, "field number 0");
        const struct pfield *f = NULL;
        for (size_t i = 0; i < m->n && !f; i++) {
            if (m->f[i].num == fn)
                f = &m->f[i];
        }
        if (!f) {
            if (skip(r, wt) != 0)
                return bad(b, "truncated unknown field");
            continue;
        }
        int scalar = f->type == P_I32 || f->type == P_I64 || f->type == P_BOOL;
        if (wt != (scalar ? 0u : 2u))
            return bad(b, "a field has the wrong wire type");
        if (scalar) {
            uint64_t v;
            if (varint(r, &v) != 0)
                return bad(b, "truncated varint");
            if (scalar_field(b, f, out, v) != 0)
                return -1;
            continue;
        }
        struct rd s;
        if (delimited(r, &s) != 0)
            return bad(b, "a length runs past the end");
        int rc = 0;
        switch (f->type) {
        case P_STR:
            if (s.p == s.end && !(f->flags & F_KEEP)) {
                cJSON_Delete(
                    cJSON_DetachItemFromObjectCaseSensitive(out, f->json));
                break;
            }
            rc = put(b, out, f->json, string_of(b, &s));
            break;
        case P_BYTES:
            rc = put(b, out, f->json, base64_of(&s));
            break;
        case P_STRS: {
            cJSON *arr = cJSON_GetObjectItemCaseSensitive(out, f->json);
            if (!cJSON_IsArray(arr)) {
                arr = cJSON_CreateArray();
                if (put(b, out, f->json, arr) != 0)
                    return -1;
            }
            cJSON *v = string_of(b, &s);
            if (!v || !cJSON_AddItemToArray(arr, v)) {
                cJSON_Delete(v);
                return -1;
            }
            rc = ++b->nodes > PB_MAX_NODES ? bad(b, "too many fields") : 0;
            break;
        }
        case P_MAP_SS:
        case P_MAP_SB:
        case P_MAP_SQ:
            rc = map_entry(b, out, f->json, f->type, &s);
            break;
        case P_TIME:
            rc = read_time(b, out, f->json, &s);
            break;
        case P_IOS:
            rc = read_ios(b, out, f->json, &s);
            break;
        case P_QTY: {
            cJSON *q = cJSON_CreateObject();
            if (!q)
                return -1;
            static const struct pfield qf[] = {{1, "v", P_STR, 0, NULL}};
            static const struct pmsg qm = {qf, 1};
            rc = read_msg(b, &qm, &s, q, depth + 1);
            if (rc == 0)
                rc = put(b, out, f->json,
                         cJSON_CreateString(mock_json_str(q, "v", "0")));
            cJSON_Delete(q);
            break;
        }
        case P_MSG:
            rc = message_field(b, f, out, &s, depth);
            break;
        default:
            rc = bad(b, "unexpected field type");
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---- the envelope ----------------------------------------------------- */

static int read_string_field(struct pb *b, struct rd *s, char *buf, size_t len)
{
    size_t n = (size_t)(s->end - s->p);
    if (n >= len || !utf8_ok(s->p, n))
        return bad(b, "a type name is too long or not UTF-8");
    memcpy(buf, s->p, n);
    buf[n] = '\0';
    return 0;
}

int mock_protobuf_decode(const void *data, size_t len, cJSON **out, char *err,
                         size_t err_len)
{
    struct pb b = {err, err_len, 0};
    *out = NULL;
    if (err_len)
        err[0] = '\0';
    if (len < 4 || memcmp(data, "k8s\0", 4) != 0) {
        bad(&b, "missing the k8s protobuf envelope prefix");
        return -1;
    }
    struct rd r = {(const uint8_t *)data + 4, (const uint8_t *)data + len};
    char api[128] = "", kind[128] = "", enc[64] = "";
    struct rd raw = {NULL, NULL};
    while (r.p < r.end) {
        uint64_t tag;
        struct rd s;
        if (varint(&r, &tag) != 0)
            return bad(&b, "truncated envelope");
        unsigned fn = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if (fn >= 1 && fn <= 4 && wt != 2)
            return bad(&b, "an envelope field has the wrong wire type");
        if (fn == 0)
            return bad(&b, "field number 0");
        if (fn < 1 || fn > 4) {
            if (skip(&r, wt) != 0)
                return bad(&b, "truncated envelope");
            continue;
        }
        if (delimited(&r, &s) != 0)
            return bad(&b, "a length runs past the end");
        if (fn == 1) {
            while (s.p < s.end) {
                uint64_t t;
                struct rd v;
                if (varint(&s, &t) != 0)
                    return bad(&b, "truncated type meta");
                if ((t & 7) == 2 && ((t >> 3) == 1 || (t >> 3) == 2)) {
                    if (delimited(&s, &v) != 0)
                        return bad(&b, "truncated type meta");
                    if (read_string_field(&b, &v, (t >> 3) == 1 ? api : kind,
                                          sizeof(api)) != 0)
                        return -1;
                } else if (skip(&s, (unsigned)(t & 7)) != 0) {
                    return bad(&b, "truncated type meta");
                }
            }
        } else if (fn == 2) {
            raw = s;
        } else if (fn == 3) {
            if (read_string_field(&b, &s, enc, sizeof(enc)) != 0)
                return -1;
        }
    }
    if (enc[0]) {
        snprintf(err, err_len,
                 "protobuf content encoding \"%s\" is not supported", enc);
        return -2;
    }
    const struct pmsg *m = NULL;
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]) && !m; i++) {
        if (strcmp(top[i].api_version, api) == 0 &&
            strcmp(top[i].kind, kind) == 0)
            m = top[i].msg;
    }
    if (!m) {
        snprintf(err, err_len,
                 "protobuf bodies of kind %.64s (%.64s) are not supported by "
                 "this member: send application/json",
                 kind[0] ? kind : "(none)", api[0] ? api : "no apiVersion");
        return -2;
    }
    cJSON *obj = cJSON_CreateObject();
    if (!obj || !cJSON_AddStringToObject(obj, "kind", kind) ||
        !cJSON_AddStringToObject(obj, "apiVersion", api)) {
        cJSON_Delete(obj);
        snprintf(err, err_len, "out of memory");
        return -3;
    }
    if (raw.p && read_msg(&b, m, &raw, obj, 0) != 0) {
        cJSON_Delete(obj);
        if (strncmp(err, "malformed", 9) != 0) {
            snprintf(err, err_len, "out of memory");
            return -3;
        }
        return -1;
    }
    *out = obj;
    return 0;
}
