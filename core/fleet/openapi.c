/* OpenAPI v3 of the host's own API: the index at /openapi/v3 and the
 * document of cluster.kubesphere.io/v1alpha1 with the Cluster schema
 * (tagged with its group, version and kind, as kubectl explain finds it)
 * and the paths of clusters, reads and writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fleet/discovery.h"
#include "fleet/fleet.h"

#define GV_PATH "apis/" FG_FLEET_GROUP "/" FG_FLEET_VERSION
#define SCHEMA "io.kubesphere.cluster.v1alpha1.Cluster"
#define LIST_SCHEMA "io.kubesphere.cluster.v1alpha1.ClusterList"

int fg_fleet_openapi_owns(const char *path)
{
    return strcmp(path, "/openapi/v3") == 0 ||
           strcmp(path, "/openapi/v3/" GV_PATH) == 0;
}

static cJSON *prop(cJSON *props, const char *name, const char *type,
                   const char *description)
{
    cJSON *p = cJSON_AddObjectToObject(props, name);
    if (type)
        cJSON_AddStringToObject(p, "type", type);
    cJSON_AddStringToObject(p, "description", description);
    return p;
}

static cJSON *object(cJSON *props, const char *name, const char *description)
{
    cJSON *p = prop(props, name, "object", description);
    return cJSON_AddObjectToObject(p, "properties");
}

static void gvk(cJSON *schema, const char *kind)
{
    cJSON *a =
        cJSON_AddArrayToObject(schema, "x-kubernetes-group-version-kind");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(a, o);
    cJSON_AddStringToObject(o, "group", FG_FLEET_GROUP);
    cJSON_AddStringToObject(o, "version", FG_FLEET_VERSION);
    cJSON_AddStringToObject(o, "kind", kind);
}

static void condition_schema(cJSON *props)
{
    cJSON *c = prop(props, "conditions", "array",
                    "Ready, AgentAvailable (agent members), "
                    "KubeConfigCertExpiresInSevenDays (client "
                    "certificates).");
    cJSON *items = cJSON_AddObjectToObject(c, "items");
    cJSON_AddStringToObject(items, "type", "object");
    cJSON *p = cJSON_AddObjectToObject(items, "properties");
    prop(p, "type", "string", "The condition's type.");
    prop(p, "status", "string", "True, False or Unknown.");
    prop(p, "reason", "string", "A CamelCase word saying why.");
    prop(p, "message", "string", "What was seen, for people.");
    prop(p, "lastUpdateTime", "string", "When the condition was set.");
    prop(p, "lastTransitionTime", "string", "When the status last changed.");
}

static cJSON *cluster_schema(void)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", "object");
    cJSON_AddStringToObject(s, "description",
                            "A member cluster of the fleet, as the host "
                            "gateway's configuration declares it (conf.d), "
                            "with its health.");
    cJSON *p = cJSON_AddObjectToObject(s, "properties");
    prop(p, "apiVersion", "string", "cluster.kubesphere.io/v1alpha1");
    prop(p, "kind", "string", "Cluster");
    cJSON *meta = object(p, "metadata", "Standard object metadata.");
    prop(meta, "name", "string", "The member's name (a DNS-1123 label).");
    prop(meta, "labels", "object", "The member's labels (conf.d labels =).");
    prop(meta, "resourceVersion", "string", "Changes with every change.");
    prop(meta, "uid", "string", "Unique in this run of the gateway.");
    prop(meta, "creationTimestamp", "string", "When the member was written.");
    cJSON *spec = object(p, "spec", "How the host reaches the member.");
    cJSON *conn = object(spec, "connection",
                         "The driver and its settings (never a secret).");
    prop(conn, "type", "string",
         "direct, proxy (an agent's tunnels) or the driver's name.");
    prop(conn, "kubeconfig", "string",
         "Written only, never shown: a direct member's kubeconfig in "
         "base64, its credentials inline.");
    prop(conn, "driver", "string", "The member section's driver.");
    prop(conn, "server", "string", "A direct member's API server URL.");
    prop(conn, "ca_file", "string",
         "The CA file a direct member is trusted "
         "with.");
    prop(spec, "provider", "string",
         "Where the cluster runs (conf.d "
         "provider =).");
    prop(spec, "enable", "boolean", "Whether the host serves the member.");
    prop(spec, "joinFederation", "boolean", "Always false.");
    cJSON *st = object(p, "status", "What the host last saw of the member.");
    prop(st, "kubernetesVersion", "string", "The member's gitVersion.");
    prop(st, "nodeCount", "integer",
         "The member's nodes (when the driver "
         "knows).");
    prop(st, "tunnels", "integer", "Agent tunnels connected now.");
    prop(st, "tunnelsExpected", "integer", "Agent tunnels configured.");
    prop(st, "probeRTT", "string", "The last health probe's round trip.");
    condition_schema(st);
    gvk(s, "Cluster");
    return s;
}

/* An operation as kube-apiserver describes it: its action and the kind it
 * answers with, which kubectl explain finds a resource's schema by. */
static cJSON *operation(const char *id, const char *action, int list)
{
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "operationId", id);
    cJSON_AddStringToObject(op, "x-kubernetes-action", action);
    cJSON *k = cJSON_AddObjectToObject(op, "x-kubernetes-group-version-kind");
    cJSON_AddStringToObject(k, "group", FG_FLEET_GROUP);
    cJSON_AddStringToObject(k, "version", FG_FLEET_VERSION);
    cJSON_AddStringToObject(k, "kind", list ? "ClusterList" : "Cluster");
    cJSON *code = cJSON_AddObjectToObject(
        cJSON_AddObjectToObject(op, "responses"), "200");
    cJSON_AddStringToObject(code, "description", "OK");
    cJSON *schema = cJSON_AddObjectToObject(
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(code, "content"),
                                "application/json"),
        "schema");
    cJSON_AddStringToObject(schema, "$ref",
                            list ? "#/components/schemas/" LIST_SCHEMA
                                 : "#/components/schemas/" SCHEMA);
    return op;
}

/* A write: its query parameters as kube-apiserver lists them; kubectl
 * sends fieldValidation=Strict only to a server that lists it. */
static void write_operation(cJSON *path, const char *method, const char *id,
                            const char *action)
{
    cJSON *op = operation(id, action, 0);
    cJSON *params = cJSON_AddArrayToObject(op, "parameters");
    static const char *const names[] = {"dryRun", "fieldManager",
                                        "fieldValidation", NULL};
    for (const char *const *n = names; *n; n++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddItemToArray(params, p);
        cJSON_AddStringToObject(p, "name", *n);
        cJSON_AddStringToObject(p, "in", "query");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "schema"), "type",
                                "string");
    }
    cJSON_AddItemToObject(path, method, op);
}

static cJSON *gv_document(void)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "openapi", "3.0.0");
    cJSON *info = cJSON_AddObjectToObject(d, "info");
    cJSON_AddStringToObject(info, "title", "fedgate");
    cJSON_AddStringToObject(info, "version", FG_FLEET_VERSION);
    cJSON *paths = cJSON_AddObjectToObject(d, "paths");
    cJSON *list = cJSON_AddObjectToObject(paths, "/" GV_PATH "/clusters");
    cJSON_AddItemToObject(
        list, "get",
        operation("listClusterKubesphereIoV1alpha1Cluster", "list", 1));
    cJSON *one = cJSON_AddObjectToObject(paths, "/" GV_PATH "/clusters/{name}");
    cJSON_AddItemToObject(
        one, "get",
        operation("readClusterKubesphereIoV1alpha1Cluster", "get", 0));
    write_operation(list, "post", "createClusterKubesphereIoV1alpha1Cluster",
                    "post");
    write_operation(one, "put", "replaceClusterKubesphereIoV1alpha1Cluster",
                    "put");
    write_operation(one, "patch", "patchClusterKubesphereIoV1alpha1Cluster",
                    "patch");
    write_operation(one, "delete", "deleteClusterKubesphereIoV1alpha1Cluster",
                    "delete");
    cJSON *schemas = cJSON_AddObjectToObject(
        cJSON_AddObjectToObject(d, "components"), "schemas");
    cJSON_AddItemToObject(schemas, SCHEMA, cluster_schema());
    cJSON *ls = cJSON_AddObjectToObject(schemas, LIST_SCHEMA);
    cJSON_AddStringToObject(ls, "type", "object");
    cJSON *lp = cJSON_AddObjectToObject(ls, "properties");
    prop(lp, "apiVersion", "string", "cluster.kubesphere.io/v1alpha1");
    prop(lp, "kind", "string", "ClusterList");
    prop(lp, "metadata", "object", "Standard list metadata.");
    cJSON *items = prop(lp, "items", "array", "The clusters.");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(items, "items"), "$ref",
                            "#/components/schemas/" SCHEMA);
    gvk(ls, "ClusterList");
    return d;
}

char *fg_fleet_openapi(const struct fg_api_set *set, const char *path)
{
    cJSON *d;
    if (strcmp(path, "/openapi/v3") == 0) {
        d = cJSON_CreateObject();
        cJSON *paths = cJSON_AddObjectToObject(d, "paths");
        for (size_t i = 0; i < set->n; i++) {
            char gv[300], url[320];
            snprintf(gv, sizeof(gv), "apis/%s/%s", set->v[i]->group,
                     set->v[i]->version);
            snprintf(url, sizeof(url), "/openapi/v3/%s", gv);
            cJSON_AddStringToObject(cJSON_AddObjectToObject(paths, gv),
                                    "serverRelativeURL", url);
        }
    } else {
        d = gv_document();
    }
    char *text = d ? cJSON_PrintUnformatted(d) : NULL;
    cJSON_Delete(d);
    return text;
}
