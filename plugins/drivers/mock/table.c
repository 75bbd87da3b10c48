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

struct cells;
typedef void (*cells_fn)(struct cells *cells, const cJSON *obj);

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

/* Cells are written as the JSON text of the row's "cells" array, except
 * for what depends on the clock or repeats the doc's index: those are
 * control bytes, which JSON text never holds raw (fg_json_quote escapes
 * them), filled in when a row is sent (mock_table_row_append). */
#define MARK_NAME '\x01'  /* the object's name, a JSON string */
#define MARK_AGE '\x02'   /* the age since creationTimestamp, a string */
#define MARK_SINCE '\x03' /* MARK_SINCE ms MARK_SINCE: time since ms */

struct cells {
    struct mock_buf b;
    int n;    /* cells written: the next needs a comma */
    int fail; /* out of memory */
};

static void put(struct cells *c, const char *s, size_t n)
{
    if (mock_buf_add(&c->b, s, n) != 0)
        c->fail = 1;
}

static void next_cell(struct cells *c)
{
    if (c->n++)
        put(c, ",", 1);
}

/* Appends S as a JSON string literal to OUT. 0 or -1. */
static int add_quoted(struct mock_buf *out, const char *s)
{
    char small[256];
    size_t n = strlen(s), q = fg_json_quote(small, sizeof(small), s, n);
    if (q < sizeof(small))
        return mock_buf_add(out, small, q);
    char *big = malloc(q + 1);
    if (!big)
        return -1;
    fg_json_quote(big, q + 1, s, n);
    int rc = mock_buf_add(out, big, q);
    free(big);
    return rc;
}

static void add_str(struct cells *cells, const char *s)
{
    next_cell(cells);
    if (add_quoted(&cells->b, s ? s : "") != 0)
        cells->fail = 1;
}

static void add_int(struct cells *cells, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);
    next_cell(cells);
    put(cells, buf, (size_t)n);
}

/* A string cell: BEFORE, the human duration since T (ms since the epoch),
 * then AFTER; "<unknown>" alone when T is -1 (no time). BEFORE and AFTER
 * are plain text that needs no escape. */
static void add_since(struct cells *cells, const char *before, int64_t t,
                      const char *after)
{
    if (t < 0) {
        add_str(cells, "<unknown>");
        return;
    }
    char buf[96];
    int n = snprintf(buf, sizeof(buf), "\"%s%c%lld%c%s\"", before, MARK_SINCE,
                     (long long)t, MARK_SINCE, after);
    next_cell(cells);
    put(cells, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void add_age(struct cells *cells)
{
    char m = MARK_AGE;
    next_cell(cells);
    put(cells, &m, 1);
}

static void add_name(struct cells *cells)
{
    char m = MARK_NAME;
    next_cell(cells);
    put(cells, &m, 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends "k1=v1,k2=v2" of a string map to B, keys sorted. */
static void map_text(struct mock_buf *b, const cJSON *map)
{
    int n = cJSON_IsObject(map) ? cJSON_GetArraySize(map) : 0;
    const char **keys = n > 0 ? calloc((size_t)n, sizeof(*keys)) : NULL;
    int k = 0;
    const cJSON *e;
    if (!keys)
        return;
    cJSON_ArrayForEach(e, map)
    {
        if (cJSON_IsString(e) && k < n)
            keys[k++] = e->string;
    }
    qsort(keys, (size_t)k, sizeof(*keys), cmp_str);
    for (int i = 0; i < k; i++) {
        if (i)
            mock_buf_adds(b, ",");
        mock_buf_adds(b, keys[i]);
        mock_buf_adds(b, "=");
        mock_buf_adds(
            b, cJSON_GetObjectItemCaseSensitive(map, keys[i])->valuestring);
    }
    free(keys);
}

/* The buffer B as a string cell (B freed), DEF when it is empty. */
static void add_buf(struct cells *cells, struct mock_buf *b, const char *def)
{
    if (b->len && mock_buf_add(b, "", 1) == 0)
        add_str(cells, b->p);
    else
        add_str(cells, def);
    mock_buf_free(b);
}

/* "k1=v1,k2=v2" of a string map, keys sorted; DEF when empty. */
static void add_map(struct cells *cells, const cJSON *map, const char *def)
{
    struct mock_buf b = {0};
    map_text(&b, map);
    add_buf(cells, &b, def);
}

/* A label selector as kubectl prints it: matchLabels then expressions. */
static void add_selector(struct cells *cells, const cJSON *sel)
{
    struct mock_buf b = {0};
    map_text(&b, cJSON_GetObjectItemCaseSensitive(sel, "matchLabels"));
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
    add_buf(cells, &b, "<none>");
}

/* Comma-joined FIELD ("name" or "image") of the pod template's containers.*/
static void add_containers(struct cells *cells, const cJSON *obj,
                           const char *field)
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
    add_buf(cells, &b, "<none>");
}

static void add_ratio(struct cells *cells, int64_t a, int64_t b)
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

static void pod_cells(struct cells *cells, const cJSON *obj)
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

    add_name(cells);
    add_ratio(cells, ready, total);
    add_str(cells, reason);
    snprintf(tmp, sizeof(tmp), "%lld", (long long)restarts);
    if (last_restart >= 0 && restarts > 0) {
        strncat(tmp, " (", sizeof(tmp) - strlen(tmp) - 1);
        add_since(cells, tmp, last_restart, " ago)");
    } else {
        add_str(cells, tmp);
    }
    add_age(cells);
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

static void node_cells(struct cells *cells, const cJSON *obj)
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
    add_name(cells);
    add_str(cells, status);
    add_str(cells, b.p && b.p[0] ? b.p : "<none>");
    mock_buf_free(&b);
    add_age(cells);
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

static void deployment_cells(struct cells *cells, const cJSON *obj)
{
    add_name(cells);
    add_ratio(cells, mock_json_int(obj, "status.readyReplicas", 0),
              mock_json_int(obj, "spec.replicas", 1));
    add_int(cells, mock_json_int(obj, "status.updatedReplicas", 0));
    add_int(cells, mock_json_int(obj, "status.availableReplicas", 0));
    add_age(cells);
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

static void replicaset_cells(struct cells *cells, const cJSON *obj)
{
    add_name(cells);
    add_int(cells, mock_json_int(obj, "spec.replicas", 1));
    add_int(cells, mock_json_int(obj, "status.replicas", 0));
    add_int(cells, mock_json_int(obj, "status.readyReplicas", 0));
    add_age(cells);
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

static void statefulset_cells(struct cells *cells, const cJSON *obj)
{
    add_name(cells);
    add_ratio(cells, mock_json_int(obj, "status.readyReplicas", 0),
              mock_json_int(obj, "spec.replicas", 1));
    add_age(cells);
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

static void daemonset_cells(struct cells *cells, const cJSON *obj)
{
    add_name(cells);
    add_int(cells, mock_json_int(obj, "status.desiredNumberScheduled", 0));
    add_int(cells, mock_json_int(obj, "status.currentNumberScheduled", 0));
    add_int(cells, mock_json_int(obj, "status.numberReady", 0));
    add_int(cells, mock_json_int(obj, "status.updatedNumberScheduled", 0));
    add_int(cells, mock_json_int(obj, "status.numberAvailable", 0));
    add_map(cells, fg_json_path(obj, "spec.template.spec.nodeSelector"),
            "<none>");
    add_age(cells);
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

static void service_cells(struct cells *cells, const cJSON *obj)
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
    add_name(cells);
    add_str(cells, type);
    add_str(cells, mock_json_str(obj, "spec.clusterIP", "<none>"));
    add_str(cells, ext.p && ext.p[0] ? ext.p : "<none>");
    add_str(cells, ports.p && ports.p[0] ? ports.p : "<none>");
    add_age(cells);
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

static void namespace_cells(struct cells *cells, const cJSON *obj)
{
    add_name(cells);
    add_str(cells, mock_json_str(obj, "status.phase", "Active"));
    add_age(cells);
}

static const struct col namespace_cols[] = {
    NAME_COL,
    {"Status", "string", "", 0, "The status of the namespace"},
    AGE_COL,
};

static void configmap_cells(struct cells *cells, const cJSON *obj)
{
    add_name(cells);
    add_int(cells, map_size(obj, "data") + map_size(obj, "binaryData"));
    add_age(cells);
}

static const struct col configmap_cols[] = {
    NAME_COL,
    {"Data", "integer", "", 0, "Number of data in configmap"},
    AGE_COL,
};

static void secret_cells(struct cells *cells, const cJSON *obj)
{
    add_name(cells);
    add_str(cells, mock_json_str(obj, "type", "Opaque"));
    add_int(cells, map_size(obj, "data") + map_size(obj, "stringData"));
    add_age(cells);
}

static const struct col secret_cols[] = {
    NAME_COL,
    {"Type", "string", "", 0, "The type of the secret"},
    {"Data", "integer", "", 0, "The number of entries in the data"},
    AGE_COL,
};

static void serviceaccount_cells(struct cells *cells, const cJSON *obj)
{
    add_name(cells);
    const cJSON *secrets = cJSON_GetObjectItemCaseSensitive(obj, "secrets");
    add_int(cells, cJSON_IsArray(secrets) ? cJSON_GetArraySize(secrets) : 0);
    add_age(cells);
}

static const struct col serviceaccount_cols[] = {
    NAME_COL,
    {"Secrets", "integer", "", 0,
     "Secrets is a list of the secrets in the same namespace that pods "
     "running using this ServiceAccount are allowed to use."},
    AGE_COL,
};

/* ---- events ---------------------------------------------------------- */

static void event_cells(struct cells *cells, const cJSON *obj)
{
    char what[320], src[256];
    const char *lt = mock_json_str(obj, "lastTimestamp", NULL);
    if (!lt)
        lt = mock_json_str(obj, "eventTime", NULL);
    const char *ft = mock_json_str(obj, "firstTimestamp", NULL);
    if (!ft)
        ft = mock_json_str(obj, "eventTime", NULL);
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

    add_since(cells, "", mock_time_parse(lt), "");
    add_str(cells, mock_json_str(obj, "type", ""));
    add_str(cells, mock_json_str(obj, "reason", ""));
    add_str(cells, what);
    add_str(cells, mock_json_str(obj, "involvedObject.fieldPath", ""));
    add_str(cells, src);
    add_str(cells, mock_json_str(obj, "message", ""));
    add_since(cells, "", mock_time_parse(ft), "");
    add_int(cells, mock_json_int(obj, "count", 1));
    add_name(cells);
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

static void generic_cells(struct cells *cells, const cJSON *obj)
{
    (void)obj; /* name and age come from the doc's index */
    add_name(cells);
    add_age(cells);
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

int mock_table_columns_append(struct mock_buf *out, const struct mock_kind *k)
{
    const struct spec *sp = spec_for(k);
    int rc = mock_buf_add(out, "[", 1);
    for (size_t i = 0; rc == 0 && i < sp->n_cols; i++) {
        const struct col *c = &sp->cols[i];
        char prio[32];
        snprintf(prio, sizeof(prio), ",\"priority\":%d}", c->priority);
        rc = (i && mock_buf_add(out, ",", 1) != 0) ||
                     mock_buf_adds(out, "{\"name\":") != 0 ||
                     add_quoted(out, c->name) != 0 ||
                     mock_buf_adds(out, ",\"type\":") != 0 ||
                     add_quoted(out, c->type) != 0 ||
                     mock_buf_adds(out, ",\"format\":") != 0 ||
                     add_quoted(out, c->format) != 0 ||
                     mock_buf_adds(out, ",\"description\":") != 0 ||
                     add_quoted(out, c->desc) != 0 ||
                     mock_buf_adds(out, prio) != 0
                 ? -1
                 : 0;
    }
    return rc == 0 ? mock_buf_add(out, "]", 1) : -1;
}

int mock_table_cells(const struct mock_kind *k, const cJSON *obj,
                     struct mock_buf *out)
{
    struct cells c = {.b = *out};
    spec_for(k)->cells(&c, obj);
    *out = c.b;
    return c.fail ? -1 : 0;
}

/* Appends the cells text CELLS (LEN bytes, from mock_table_cells) of doc D
 * with its marks filled in for the time NOW. */
static int render_cells(struct mock_buf *out, const char *cells, size_t len,
                        const struct mock_doc *d, int64_t now)
{
    const char *p = cells, *e = cells + len;
    while (p < e) {
        const char *run = p;
        while (p < e && (unsigned char)*p > MARK_SINCE)
            p++;
        if (mock_buf_add(out, run, (size_t)(p - run)) != 0)
            return -1;
        if (p == e)
            break;
        char buf[64];
        size_t n = 0;
        if (*p == MARK_NAME) {
            if (add_quoted(out, d->name) != 0)
                return -1;
        } else if (*p == MARK_AGE) {
            buf[0] = '"';
            if (d->created_ms < 0)
                snprintf(buf + 1, sizeof(buf) - 1, "<unknown>");
            else
                fg_human_duration(now - d->created_ms, buf + 1,
                                  sizeof(buf) - 2);
            n = strlen(buf);
            buf[n++] = '"';
        } else {
            const char *end = memchr(p + 1, MARK_SINCE, (size_t)(e - p - 1));
            if (!end)
                return -1;
            fg_human_duration(now - strtoll(p + 1, NULL, 10), buf, sizeof(buf));
            n = strlen(buf);
            p = end;
        }
        if (mock_buf_add(out, buf, n) != 0)
            return -1;
        p++;
    }
    return 0;
}

int mock_table_row_append(struct mock_buf *out, const struct mock_kind *k,
                          const struct mock_doc *d, int64_t now_ms,
                          enum mock_include inc, enum mock_table_version tv)
{
    /* A doc without prepared cells (they were too long to keep) is parsed
     * for them, as every doc was before cells were kept. */
    struct mock_buf tmp = {0};
    const char *cells = mock_doc_cells(d);
    size_t n = d->cells_len;
    if (!n) {
        cJSON *obj = mock_doc_parse(d);
        int rc = obj ? mock_table_cells(k, obj, &tmp) : -1;
        cJSON_Delete(obj);
        if (rc != 0) {
            mock_buf_free(&tmp);
            return -1;
        }
        cells = tmp.p;
        n = tmp.len;
    }
    int rc = mock_buf_adds(out, "{\"cells\":[") != 0 ||
                     render_cells(out, cells, n, d, now_ms) != 0 ||
                     mock_buf_add(out, "]", 1) != 0
                 ? -1
                 : 0;
    mock_buf_free(&tmp);
    const char *meta;
    size_t meta_len;
    if (rc == 0 && inc == MOCK_INCLUDE_OBJECT) {
        rc = mock_buf_adds(out, ",\"object\":") != 0 ||
                     mock_buf_add(out, d->json, d->len) != 0
                 ? -1
                 : 0;
    } else if (rc == 0 && inc == MOCK_INCLUDE_METADATA) {
        rc = mock_buf_adds(out,
                           ",\"object\":{\"kind\":"
                           "\"PartialObjectMetadata\",\"apiVersion\":") != 0 ||
                     mock_buf_adds(out, tv == MOCK_TABLE_V1BETA1
                                            ? "\"meta.k8s.io/v1beta1\""
                                            : "\"meta.k8s.io/v1\"") != 0
                 ? -1
                 : 0;
        if (rc == 0 && mock_doc_member(d, "metadata", &meta, &meta_len) == 0)
            rc = mock_buf_adds(out, ",\"metadata\":") != 0 ||
                         mock_buf_add(out, meta, meta_len) != 0
                     ? -1
                     : 0;
        if (rc == 0)
            rc = mock_buf_add(out, "}", 1);
    }
    return rc == 0 ? mock_buf_add(out, "}", 1) : -1;
}
