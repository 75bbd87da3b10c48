/* meta.k8s.io Table output: the column definitions and row cells that
 * kube-apiserver's printers produce for each kind the mock serves, so that
 * `kubectl get` (and -o wide) shows what it shows for a real cluster. The
 * cell rules (pod STATUS reasons, node ROLES, service PORT(S) ...) follow
 * the behaviour kubectl users know; AGE is computed against the host clock
 * with kubectl's human duration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

struct col {
    const char *name;
    const char *type;
    const char *format;
    int priority;
    const char *desc;
};

typedef void (*cells_fn)(cJSON *cells, const cJSON *obj, int64_t now);

struct spec {
    const char *resource;
    const struct col *cols;
    size_t n_cols;
    cells_fn cells;
};

#define NAME_COL                                                               \
    {                                                                          \
        "Name", "string", "name", 0,                                           \
            "Name must be unique within a namespace. More info: "              \
            "https://kubernetes.io/docs/concepts/overview/"                    \
            "working-with-objects/"                                            \
            "names#names"                                                      \
    }
#define AGE_COL                                                                \
    {                                                                          \
        "Age", "string", "", 0,                                                \
            "CreationTimestamp is a timestamp representing the server time "   \
            "when "                                                            \
            "this object was created."                                         \
    }

static const cJSON *as_object(const cJSON *o)
{
    return cJSON_IsObject(o) ? o : NULL;
}

/* ---- cell helpers ---------------------------------------------------- */

/* A seed may hold any shape where an array belongs: iterate arrays only. */
static const cJSON *as_array(const cJSON *a)
{
    return cJSON_IsArray(a) ? a : NULL;
}

static void add_str(cJSON *cells, const char *s)
{
    cJSON_AddItemToArray(cells, cJSON_CreateString(s ? s : ""));
}

static void add_int(cJSON *cells, int64_t v)
{
    cJSON_AddItemToArray(cells, cJSON_CreateNumber((double)v));
}

static void age_of(const char *ts, int64_t now, char *buf, size_t len)
{
    int64_t t = mock_time_parse(ts);
    if (t < 0)
        snprintf(buf, len, "<unknown>");
    else
        fg_human_duration(now - t, buf, len);
}

static void add_age(cJSON *cells, const cJSON *obj, int64_t now)
{
    char buf[32];
    age_of(mock_json_str(obj, "metadata.creationTimestamp", NULL), now, buf,
           sizeof(buf));
    add_str(cells, buf);
}

static void add_name(cJSON *cells, const cJSON *obj)
{
    add_str(cells, mock_json_str(obj, "metadata.name", ""));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "k1=v1,k2=v2" of a string map, keys sorted; DEF when empty. */
static void add_map(cJSON *cells, const cJSON *map, const char *def)
{
    struct mock_buf b = {0};
    int n = cJSON_IsObject(map) ? cJSON_GetArraySize(map) : 0;
    const char **keys = n > 0 ? calloc((size_t)n, sizeof(*keys)) : NULL;
    int k = 0;
    const cJSON *e;
    if (keys) {
        cJSON_ArrayForEach(e, map)
        {
            if (cJSON_IsString(e) && k < n)
                keys[k++] = e->string;
        }
        qsort(keys, (size_t)k, sizeof(*keys), cmp_str);
        for (int i = 0; i < k; i++) {
            if (i)
                mock_buf_adds(&b, ",");
            mock_buf_adds(&b, keys[i]);
            mock_buf_adds(&b, "=");
            mock_buf_adds(
                &b,
                cJSON_GetObjectItemCaseSensitive(map, keys[i])->valuestring);
        }
    }
    free(keys);
    if (b.len && mock_buf_add(&b, "", 1) == 0)
        add_str(cells, b.p);
    else
        add_str(cells, def);
    mock_buf_free(&b);
}

/* A label selector as kubectl prints it: matchLabels then expressions. */
static void add_selector(cJSON *cells, const cJSON *sel)
{
    struct mock_buf b = {0};
    cJSON *tmp = cJSON_CreateArray();
    add_map(tmp, cJSON_GetObjectItemCaseSensitive(sel, "matchLabels"), "");
    const char *ml = cJSON_IsString(cJSON_GetArrayItem(tmp, 0))
                         ? cJSON_GetArrayItem(tmp, 0)->valuestring
                         : "";
    mock_buf_adds(&b, ml);
    const cJSON *ex;
    const cJSON *exprs =
        cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
    cJSON_ArrayForEach(ex, as_array(exprs))
    {
        const char *key = mock_json_str(ex, "key", "");
        const char *op = mock_json_str(ex, "operator", "");
        if (b.len)
            mock_buf_adds(&b, ",");
        if (strcmp(op, "Exists") == 0) {
            mock_buf_adds(&b, key);
            continue;
        }
        if (strcmp(op, "DoesNotExist") == 0) {
            mock_buf_adds(&b, "!");
            mock_buf_adds(&b, key);
            continue;
        }
        mock_buf_adds(&b, key);
        mock_buf_adds(&b, strcmp(op, "NotIn") == 0 ? " notin (" : " in (");
        const cJSON *v;
        int first = 1;
        cJSON_ArrayForEach(
            v, as_array(cJSON_GetObjectItemCaseSensitive(ex, "values")))
        {
            if (!cJSON_IsString(v))
                continue;
            if (!first)
                mock_buf_adds(&b, ",");
            mock_buf_adds(&b, v->valuestring);
            first = 0;
        }
        mock_buf_adds(&b, ")");
    }
    cJSON_Delete(tmp);
    if (b.len && mock_buf_add(&b, "", 1) == 0)
        add_str(cells, b.p);
    else
        add_str(cells, "<none>");
    mock_buf_free(&b);
}

/* Comma-joined FIELD ("name" or "image") of the pod template's containers.*/
static void add_containers(cJSON *cells, const cJSON *obj, const char *field)
{
    struct mock_buf b = {0};
    const cJSON *c;
    cJSON_ArrayForEach(
        c, as_array(fg_json_path(obj, "spec.template.spec.containers")))
    {
        if (b.len)
            mock_buf_adds(&b, ",");
        mock_buf_adds(&b, mock_json_str(c, field, ""));
    }
    if (b.len && mock_buf_add(&b, "", 1) == 0)
        add_str(cells, b.p);
    else
        add_str(cells, "<none>");
    mock_buf_free(&b);
}

static void add_ratio(cJSON *cells, int64_t a, int64_t b)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%lld/%lld", (long long)a, (long long)b);
    add_str(cells, buf);
}

/* ---- pods ------------------------------------------------------------ */

static void exit_reason(const cJSON *term, const char *prefix, char *buf,
                        size_t len)
{
    int64_t sig = mock_json_int(term, "signal", 0);
    if (sig)
        snprintf(buf, len, "%sSignal:%lld", prefix, (long long)sig);
    else
        snprintf(buf, len, "%sExitCode:%lld", prefix,
                 (long long)mock_json_int(term, "exitCode", 0));
}

static int pod_ready_condition(const cJSON *obj)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, as_array(fg_json_path(obj, "status.conditions")))
    {
        if (strcmp(mock_json_str(c, "type", ""), "Ready") == 0)
            return strcmp(mock_json_str(c, "status", ""), "True") == 0;
    }
    return 0;
}

static void pod_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    char reason[160], tmp[160];
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
    int total =
        cJSON_GetArraySize(as_array(fg_json_path(obj, "spec.containers")));
    int ready = 0, initializing = 0, has_running = 0;
    int64_t restarts = 0, last_restart = -1;
    snprintf(reason, sizeof(reason), "%s",
             mock_json_str(st, "reason", mock_json_str(st, "phase", "")));

    const cJSON *ics =
        cJSON_GetObjectItemCaseSensitive(st, "initContainerStatuses");
    int n_init =
        cJSON_GetArraySize(as_array(fg_json_path(obj, "spec.initContainers")));
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, as_array(ics))
    {
        restarts += mock_json_int(c, "restartCount", 0);
        const cJSON *term = fg_json_path(c, "state.terminated");
        const cJSON *wait = fg_json_path(c, "state.waiting");
        if (term && mock_json_int(term, "exitCode", 0) == 0) {
            i++;
            continue;
        }
        if (term) {
            const char *r = mock_json_str(term, "reason", "");
            if (*r)
                snprintf(reason, sizeof(reason), "Init:%s", r);
            else
                exit_reason(term, "Init:", reason, sizeof(reason));
        } else if (wait && *mock_json_str(wait, "reason", "") &&
                   strcmp(mock_json_str(wait, "reason", ""),
                          "PodInitializing") != 0) {
            snprintf(reason, sizeof(reason), "Init:%s",
                     mock_json_str(wait, "reason", ""));
        } else {
            snprintf(reason, sizeof(reason), "Init:%d/%d", i, n_init);
        }
        initializing = 1;
        break;
    }
    if (!initializing) {
        restarts = 0;
        const cJSON *cs =
            cJSON_GetObjectItemCaseSensitive(st, "containerStatuses");
        int n = cJSON_IsArray(cs) ? cJSON_GetArraySize(cs) : 0;
        for (int j = n - 1; j >= 0; j--) {
            c = cJSON_GetArrayItem(cs, j);
            restarts += mock_json_int(c, "restartCount", 0);
            const char *fin =
                mock_json_str(c, "lastState.terminated.finishedAt", NULL);
            int64_t t = mock_time_parse(fin);
            if (t > last_restart)
                last_restart = t;
            const cJSON *term = fg_json_path(c, "state.terminated");
            const char *wr = mock_json_str(c, "state.waiting.reason", "");
            if (*wr) {
                snprintf(reason, sizeof(reason), "%s", wr);
            } else if (term && *mock_json_str(term, "reason", "")) {
                snprintf(reason, sizeof(reason), "%s",
                         mock_json_str(term, "reason", ""));
            } else if (term) {
                exit_reason(term, "", reason, sizeof(reason));
            } else if (cJSON_IsTrue(
                           cJSON_GetObjectItemCaseSensitive(c, "ready")) &&
                       fg_json_path(c, "state.running")) {
                has_running = 1;
                ready++;
            }
        }
        if (strcmp(reason, "Completed") == 0 && has_running)
            snprintf(reason, sizeof(reason), "%s",
                     pod_ready_condition(obj) ? "Running" : "NotReady");
    }
    if (fg_json_path(obj, "metadata.deletionTimestamp"))
        snprintf(reason, sizeof(reason), "%s",
                 strcmp(mock_json_str(st, "reason", ""), "NodeLost") == 0
                     ? "Unknown"
                     : "Terminating");

    add_name(cells, obj);
    add_ratio(cells, ready, total);
    add_str(cells, reason);
    if (last_restart >= 0 && restarts > 0) {
        char ago[32];
        fg_human_duration(now - last_restart, ago, sizeof(ago));
        snprintf(tmp, sizeof(tmp), "%lld (%s ago)", (long long)restarts, ago);
    } else {
        snprintf(tmp, sizeof(tmp), "%lld", (long long)restarts);
    }
    add_str(cells, tmp);
    add_age(cells, obj, now);
    add_str(cells, mock_json_str(st, "podIP", "<none>"));
    add_str(cells, mock_json_str(obj, "spec.nodeName", "<none>"));
    add_str(cells, mock_json_str(st, "nominatedNodeName", "<none>"));
    add_str(cells, "<none>");
}

static const struct col pod_cols[] = {
    NAME_COL,
    {"Ready", "string", "", 0,
     "The aggregate readiness state of this pod for accepting traffic."},
    {"Status", "string", "", 0,
     "The aggregate status of the containers in this pod."},
    {"Restarts", "string", "", 0,
     "The number of times the containers in this pod have been restarted "
     "and when the last container in this pod has restarted."},
    AGE_COL,
    {"IP", "string", "", 1, "IP address allocated to the pod."},
    {"Node", "string", "", 1, "Name of the node the pod is assigned to."},
    {"Nominated Node", "string", "", 1,
     "Name of the node where the pod is nominated to run."},
    {"Readiness Gates", "string", "", 1,
     "Readiness gates of the pod that are true, and how many there are."},
};

/* ---- nodes ----------------------------------------------------------- */

static void node_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    char status[96] = "Unknown";
    const cJSON *c;
    cJSON_ArrayForEach(c, as_array(fg_json_path(obj, "status.conditions")))
    {
        if (strcmp(mock_json_str(c, "type", ""), "Ready") == 0)
            snprintf(status, sizeof(status), "%s",
                     strcmp(mock_json_str(c, "status", ""), "True") == 0
                         ? "Ready"
                         : "NotReady");
    }
    if (cJSON_IsTrue(fg_json_path(obj, "spec.unschedulable")))
        strncat(status, ",SchedulingDisabled",
                sizeof(status) - strlen(status) - 1);

    const char *roles[16];
    int nr = 0;
    const cJSON *l;
    const char *prefix = "node-role.kubernetes.io/";
    cJSON_ArrayForEach(l, as_object(fg_json_path(obj, "metadata.labels")))
    {
        if (nr == 16 || !l->string)
            break;
        if (strncmp(l->string, prefix, strlen(prefix)) == 0 &&
            l->string[strlen(prefix)])
            roles[nr++] = l->string + strlen(prefix);
        else if (strcmp(l->string, "kubernetes.io/role") == 0 &&
                 cJSON_IsString(l) && *l->valuestring)
            roles[nr++] = l->valuestring;
    }
    qsort(roles, (size_t)nr, sizeof(*roles), cmp_str);
    struct mock_buf b = {0};
    for (int i = 0; i < nr; i++) {
        if (i && strcmp(roles[i], roles[i - 1]) == 0)
            continue;
        if (b.len)
            mock_buf_adds(&b, ",");
        mock_buf_adds(&b, roles[i]);
    }
    mock_buf_add(&b, "", 1);

    const char *internal = "<none>", *external = "<none>";
    const cJSON *a;
    cJSON_ArrayForEach(a, as_array(fg_json_path(obj, "status.addresses")))
    {
        const char *t = mock_json_str(a, "type", "");
        if (strcmp(t, "InternalIP") == 0 && strcmp(internal, "<none>") == 0)
            internal = mock_json_str(a, "address", "<none>");
        if (strcmp(t, "ExternalIP") == 0 && strcmp(external, "<none>") == 0)
            external = mock_json_str(a, "address", "<none>");
    }
    add_name(cells, obj);
    add_str(cells, status);
    add_str(cells, b.p && b.p[0] ? b.p : "<none>");
    mock_buf_free(&b);
    add_age(cells, obj, now);
    add_str(cells, mock_json_str(obj, "status.nodeInfo.kubeletVersion", ""));
    add_str(cells, internal);
    add_str(cells, external);
    add_str(cells, mock_json_str(obj, "status.nodeInfo.osImage", "<unknown>"));
    add_str(cells,
            mock_json_str(obj, "status.nodeInfo.kernelVersion", "<unknown>"));
    add_str(cells, mock_json_str(obj, "status.nodeInfo.containerRuntimeVersion",
                                 "<unknown>"));
}

static const struct col node_cols[] = {
    NAME_COL,
    {"Status", "string", "", 0, "The status of the node"},
    {"Roles", "string", "", 0, "The roles of the node"},
    AGE_COL,
    {"Version", "string", "", 0, "Kubelet Version reported by the node."},
    {"Internal-IP", "string", "", 1, "List of internal IPs of the node."},
    {"External-IP", "string", "", 1, "List of external IPs of the node."},
    {"OS-Image", "string", "", 1, "OS Image reported by the node."},
    {"Kernel-Version", "string", "", 1, "Kernel Version reported by the node."},
    {"Container-Runtime", "string", "", 1,
     "Container Runtime Version reported by the node."},
};

/* ---- workloads ------------------------------------------------------- */

#define CONTAINERS_COL                                                         \
    {                                                                          \
        "Containers", "string", "", 1,                                         \
            "Names of each container in the template."                         \
    }
#define IMAGES_COL                                                             \
    {                                                                          \
        "Images", "string", "", 1,                                             \
            "Images referenced by each container in the "                      \
            "template."                                                        \
    }
#define SELECTOR_COL                                                           \
    {                                                                          \
        "Selector", "string", "", 1, "Label selector of the controller."       \
    }

static void deployment_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    add_name(cells, obj);
    add_ratio(cells, mock_json_int(obj, "status.readyReplicas", 0),
              mock_json_int(obj, "spec.replicas", 1));
    add_int(cells, mock_json_int(obj, "status.updatedReplicas", 0));
    add_int(cells, mock_json_int(obj, "status.availableReplicas", 0));
    add_age(cells, obj, now);
    add_containers(cells, obj, "name");
    add_containers(cells, obj, "image");
    add_selector(cells, fg_json_path(obj, "spec.selector"));
}

static const struct col deployment_cols[] = {
    NAME_COL,
    {"Ready", "string", "", 0,
     "Number of the pod with ready state over desired replicas."},
    {"Up-to-date", "integer", "", 0,
     "Total number of non-terminated pods targeted by this deployment that "
     "have the desired template spec."},
    {"Available", "integer", "", 0,
     "Total number of available pods (ready for at least minReadySeconds) "
     "targeted by this deployment."},
    AGE_COL,
    CONTAINERS_COL,
    IMAGES_COL,
    SELECTOR_COL,
};

static void replicaset_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    add_name(cells, obj);
    add_int(cells, mock_json_int(obj, "spec.replicas", 1));
    add_int(cells, mock_json_int(obj, "status.replicas", 0));
    add_int(cells, mock_json_int(obj, "status.readyReplicas", 0));
    add_age(cells, obj, now);
    add_containers(cells, obj, "name");
    add_containers(cells, obj, "image");
    add_selector(cells, fg_json_path(obj, "spec.selector"));
}

static const struct col replicaset_cols[] = {
    NAME_COL,
    {"Desired", "integer", "", 0, "Number of desired pods."},
    {"Current", "integer", "", 0,
     "The most recently observed number of "
     "replicas."},
    {"Ready", "integer", "", 0,
     "The number of ready replicas for this "
     "replica set."},
    AGE_COL,
    CONTAINERS_COL,
    IMAGES_COL,
    SELECTOR_COL,
};

static void statefulset_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    add_name(cells, obj);
    add_ratio(cells, mock_json_int(obj, "status.readyReplicas", 0),
              mock_json_int(obj, "spec.replicas", 1));
    add_age(cells, obj, now);
    add_containers(cells, obj, "name");
    add_containers(cells, obj, "image");
}

static const struct col statefulset_cols[] = {
    NAME_COL,
    {"Ready", "string", "", 0,
     "Number of the pod with ready state over desired replicas."},
    AGE_COL,
    CONTAINERS_COL,
    IMAGES_COL,
};

static void daemonset_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    add_name(cells, obj);
    add_int(cells, mock_json_int(obj, "status.desiredNumberScheduled", 0));
    add_int(cells, mock_json_int(obj, "status.currentNumberScheduled", 0));
    add_int(cells, mock_json_int(obj, "status.numberReady", 0));
    add_int(cells, mock_json_int(obj, "status.updatedNumberScheduled", 0));
    add_int(cells, mock_json_int(obj, "status.numberAvailable", 0));
    add_map(cells, fg_json_path(obj, "spec.template.spec.nodeSelector"),
            "<none>");
    add_age(cells, obj, now);
    add_containers(cells, obj, "name");
    add_containers(cells, obj, "image");
    add_selector(cells, fg_json_path(obj, "spec.selector"));
}

static const struct col daemonset_cols[] = {
    NAME_COL,
    {"Desired", "integer", "", 0,
     "The total number of nodes that should be running the daemon pod."},
    {"Current", "integer", "", 0,
     "The number of nodes that are running at least 1 daemon pod."},
    {"Ready", "integer", "", 0,
     "The number of nodes that should be running the daemon pod and have "
     "one or more of the daemon pod running and ready."},
    {"Up-to-date", "integer", "", 0,
     "The total number of nodes that are running updated daemon pod."},
    {"Available", "integer", "", 0,
     "The number of nodes that should be running the daemon pod and have "
     "one or more of the daemon pod running and available."},
    {"Node Selector", "string", "", 0,
     "NodeSelector is a selector which must be true for the pod to fit on "
     "a node."},
    AGE_COL,
    CONTAINERS_COL,
    IMAGES_COL,
    SELECTOR_COL,
};

/* ---- services -------------------------------------------------------- */

static void join_strings(struct mock_buf *b, const cJSON *arr,
                         const char *field)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, as_array(arr))
    {
        const char *s = field ? mock_json_str(e, field, NULL)
                              : (cJSON_IsString(e) ? e->valuestring : NULL);
        if (!s || !*s)
            continue;
        if (b->len)
            mock_buf_adds(b, ",");
        mock_buf_adds(b, s);
    }
}

static void service_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    const char *type = mock_json_str(obj, "spec.type", "ClusterIP");
    struct mock_buf ext = {0}, ports = {0};
    if (strcmp(type, "ExternalName") == 0) {
        mock_buf_adds(&ext, mock_json_str(obj, "spec.externalName", ""));
    } else if (strcmp(type, "LoadBalancer") == 0) {
        const cJSON *ing = fg_json_path(obj, "status.loadBalancer.ingress");
        join_strings(&ext, ing, "ip");
        join_strings(&ext, ing, "hostname");
        join_strings(&ext, fg_json_path(obj, "spec.externalIPs"), NULL);
        if (!ext.len)
            mock_buf_adds(&ext, "<pending>");
    } else {
        join_strings(&ext, fg_json_path(obj, "spec.externalIPs"), NULL);
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, as_array(fg_json_path(obj, "spec.ports")))
    {
        char one[96];
        int64_t np = mock_json_int(p, "nodePort", 0);
        const char *proto = mock_json_str(p, "protocol", "TCP");
        if (np)
            snprintf(one, sizeof(one), "%lld:%lld/%s",
                     (long long)mock_json_int(p, "port", 0), (long long)np,
                     proto);
        else
            snprintf(one, sizeof(one), "%lld/%s",
                     (long long)mock_json_int(p, "port", 0), proto);
        if (ports.len)
            mock_buf_adds(&ports, ",");
        mock_buf_adds(&ports, one);
    }
    mock_buf_add(&ext, "", 1);
    mock_buf_add(&ports, "", 1);
    add_name(cells, obj);
    add_str(cells, type);
    add_str(cells, mock_json_str(obj, "spec.clusterIP", "<none>"));
    add_str(cells, ext.p && ext.p[0] ? ext.p : "<none>");
    add_str(cells, ports.p && ports.p[0] ? ports.p : "<none>");
    add_age(cells, obj, now);
    add_map(cells, fg_json_path(obj, "spec.selector"), "<none>");
    mock_buf_free(&ext);
    mock_buf_free(&ports);
}

static const struct col service_cols[] = {
    NAME_COL,
    {"Type", "string", "", 0, "type determines how the Service is exposed."},
    {"Cluster-IP", "string", "", 0,
     "clusterIP is the IP address of the "
     "service."},
    {"External-IP", "string", "", 0,
     "externalIPs is a list of IP addresses for which nodes in the cluster "
     "will also accept traffic for this service."},
    {"Port(s)", "string", "", 0,
     "The list of ports that are exposed by this service."},
    AGE_COL,
    {"Selector", "string", "", 1,
     "Route service traffic to pods with label keys and values matching "
     "this selector."},
};

/* ---- namespaces, configmaps, secrets, service accounts ---------------- */

static int map_size(const cJSON *obj, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(m) ? cJSON_GetArraySize(m) : 0;
}

static void namespace_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    add_name(cells, obj);
    add_str(cells, mock_json_str(obj, "status.phase", "Active"));
    add_age(cells, obj, now);
}

static const struct col namespace_cols[] = {
    NAME_COL,
    {"Status", "string", "", 0, "The status of the namespace"},
    AGE_COL,
};

static void configmap_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    add_name(cells, obj);
    add_int(cells, map_size(obj, "data") + map_size(obj, "binaryData"));
    add_age(cells, obj, now);
}

static const struct col configmap_cols[] = {
    NAME_COL,
    {"Data", "integer", "", 0, "Number of data in configmap"},
    AGE_COL,
};

static void secret_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    add_name(cells, obj);
    add_str(cells, mock_json_str(obj, "type", "Opaque"));
    add_int(cells, map_size(obj, "data") + map_size(obj, "stringData"));
    add_age(cells, obj, now);
}

static const struct col secret_cols[] = {
    NAME_COL,
    {"Type", "string", "", 0, "The type of the secret"},
    {"Data", "integer", "", 0, "The number of entries in the data"},
    AGE_COL,
};

static void serviceaccount_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    add_name(cells, obj);
    const cJSON *secrets = cJSON_GetObjectItemCaseSensitive(obj, "secrets");
    add_int(cells, cJSON_IsArray(secrets) ? cJSON_GetArraySize(secrets) : 0);
    add_age(cells, obj, now);
}

static const struct col serviceaccount_cols[] = {
    NAME_COL,
    {"Secrets", "integer", "", 0,
     "Secrets is a list of the secrets in the same namespace that pods "
     "running using this ServiceAccount are allowed to use."},
    AGE_COL,
};

/* ---- events ---------------------------------------------------------- */

static void event_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    char last[32], first[32], what[320], src[256];
    const char *lt = mock_json_str(obj, "lastTimestamp", NULL);
    if (!lt)
        lt = mock_json_str(obj, "eventTime", NULL);
    age_of(lt, now, last, sizeof(last));
    const char *ft = mock_json_str(obj, "firstTimestamp", NULL);
    if (!ft)
        ft = mock_json_str(obj, "eventTime", NULL);
    age_of(ft, now, first, sizeof(first));
    char kind[64];
    snprintf(kind, sizeof(kind), "%s",
             mock_json_str(obj, "involvedObject.kind", ""));
    for (char *p = kind; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    snprintf(what, sizeof(what), "%s/%s", kind,
             mock_json_str(obj, "involvedObject.name", ""));
    const char *comp = mock_json_str(obj, "source.component", "");
    const char *host = mock_json_str(obj, "source.host", "");
    if (*host)
        snprintf(src, sizeof(src), "%s, %s", comp, host);
    else
        snprintf(src, sizeof(src), "%s", comp);

    add_str(cells, last);
    add_str(cells, mock_json_str(obj, "type", ""));
    add_str(cells, mock_json_str(obj, "reason", ""));
    add_str(cells, what);
    add_str(cells, mock_json_str(obj, "involvedObject.fieldPath", ""));
    add_str(cells, src);
    add_str(cells, mock_json_str(obj, "message", ""));
    add_str(cells, first);
    add_int(cells, mock_json_int(obj, "count", 1));
    add_name(cells, obj);
}

static const struct col event_cols[] = {
    {"Last Seen", "string", "", 0,
     "The time at which the most recent occurrence of this event was "
     "recorded."},
    {"Type", "string", "", 0, "Type of this event (Normal, Warning)."},
    {"Reason", "string", "", 0,
     "This should be a short, machine understandable string that gives the "
     "reason for this event being generated."},
    {"Object", "string", "", 0, "The object that this event is about."},
    {"Subobject", "string", "", 1,
     "The subobject (e.g. a container) that this event is about."},
    {"Source", "string", "", 1, "The component reporting this event."},
    {"Message", "string", "", 0,
     "A human-readable description of the status of this operation."},
    {"First Seen", "string", "", 1,
     "The time at which the event was first recorded."},
    {"Count", "integer", "", 1,
     "The number of times this event has "
     "occurred."},
    {"Name", "string", "", 1, "Name of the event."},
};

/* ---- everything else ------------------------------------------------- */

static void generic_cells(cJSON *cells, const cJSON *obj, int64_t now)
{
    add_name(cells, obj);
    add_age(cells, obj, now);
}

static const struct col generic_cols[] = {NAME_COL, AGE_COL};

#define SPEC(res, cols, fn)                                                    \
    {                                                                          \
        res, cols, sizeof(cols) / sizeof(cols[0]), fn                          \
    }
static const struct spec specs[] = {
    SPEC("pods", pod_cols, pod_cells),
    SPEC("nodes", node_cols, node_cells),
    SPEC("deployments", deployment_cols, deployment_cells),
    SPEC("replicasets", replicaset_cols, replicaset_cells),
    SPEC("statefulsets", statefulset_cols, statefulset_cells),
    SPEC("daemonsets", daemonset_cols, daemonset_cells),
    SPEC("services", service_cols, service_cells),
    SPEC("namespaces", namespace_cols, namespace_cells),
    SPEC("configmaps", configmap_cols, configmap_cells),
    SPEC("secrets", secret_cols, secret_cells),
    SPEC("serviceaccounts", serviceaccount_cols, serviceaccount_cells),
    SPEC("events", event_cols, event_cells),
};
static const struct spec generic = SPEC("", generic_cols, generic_cells);

static const struct spec *spec_for(const struct mock_kind *k)
{
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        if (strcmp(specs[i].resource, k->resource) == 0)
            return &specs[i];
    }
    return &generic;
}

cJSON *mock_table_columns(const struct mock_kind *k)
{
    const struct spec *sp = spec_for(k);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < sp->n_cols; i++) {
        const struct col *c = &sp->cols[i];
        cJSON *d = cJSON_CreateObject();
        if (!d) {
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, d);
        cJSON_AddStringToObject(d, "name", c->name);
        cJSON_AddStringToObject(d, "type", c->type);
        cJSON_AddStringToObject(d, "format", c->format);
        cJSON_AddStringToObject(d, "description", c->desc);
        cJSON_AddNumberToObject(d, "priority", c->priority);
    }
    return arr;
}

cJSON *mock_table_row(const struct mock_kind *k, const cJSON *obj,
                      int64_t now_ms, enum mock_include inc,
                      enum mock_table_version tv)
{
    cJSON *row = cJSON_CreateObject();
    cJSON *cells = row ? cJSON_AddArrayToObject(row, "cells") : NULL;
    if (!cells) {
        cJSON_Delete(row);
        return NULL;
    }
    spec_for(k)->cells(cells, obj, now_ms);
    /* References, not copies: the row lives only until it is printed. */
    cJSON *target = (cJSON *)obj;
    if (inc == MOCK_INCLUDE_OBJECT) {
        cJSON_AddItemReferenceToObject(row, "object", target);
    } else if (inc == MOCK_INCLUDE_METADATA) {
        cJSON *pom = cJSON_AddObjectToObject(row, "object");
        if (pom) {
            cJSON_AddStringToObject(pom, "kind", "PartialObjectMetadata");
            cJSON_AddStringToObject(pom, "apiVersion",
                                    tv == MOCK_TABLE_V1BETA1
                                        ? "meta.k8s.io/v1beta1"
                                        : "meta.k8s.io/v1");
            cJSON *meta = cJSON_GetObjectItemCaseSensitive(target, "metadata");
            if (meta)
                cJSON_AddItemReferenceToObject(pom, "metadata", meta);
        }
    }
    return row;
}
