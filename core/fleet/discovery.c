/* Discovery of the host's own API, legacy (/api, /apis, /apis/G,
 * /apis/G/V) and aggregated (apidiscovery.k8s.io v2 and v2beta1, which
 * kubectl and client-go ask for first): one group, cluster.kubesphere.io,
 * with one resource, clusters. No core group: /api lists no versions. */
#include "fleet/discovery.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "fleet/fleet.h"

static const char *const verbs[] = {"get", "list", "watch", NULL};

static cJSON *strings(const char *const *v)
{
    cJSON *a = cJSON_CreateArray();
    for (; a && *v; v++)
        cJSON_AddItemToArray(a, cJSON_CreateString(*v));
    return a;
}

static cJSON *group_version(void)
{
    cJSON *gv = cJSON_CreateObject();
    cJSON_AddStringToObject(gv, "groupVersion",
                            FG_FLEET_GROUP "/" FG_FLEET_VERSION);
    cJSON_AddStringToObject(gv, "version", FG_FLEET_VERSION);
    return gv;
}

static cJSON *api_group(void)
{
    cJSON *g = cJSON_CreateObject();
    cJSON *versions = cJSON_AddArrayToObject(g, "versions");
    cJSON_AddStringToObject(g, "name", FG_FLEET_GROUP);
    cJSON_AddItemToArray(versions, group_version());
    cJSON_AddItemToObject(g, "preferredVersion", group_version());
    return g;
}

static cJSON *legacy(const char *path)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (strcmp(path, "/api") == 0) {
        cJSON_AddStringToObject(o, "kind", "APIVersions");
        cJSON_AddArrayToObject(o, "versions");
        cJSON_AddArrayToObject(o, "serverAddressByClientCIDRs");
    } else if (strcmp(path, "/apis") == 0) {
        cJSON_AddStringToObject(o, "kind", "APIGroupList");
        cJSON_AddStringToObject(o, "apiVersion", "v1");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "groups"), api_group());
    } else if (strcmp(path, "/apis/" FG_FLEET_GROUP) == 0) {
        cJSON_Delete(o);
        o = api_group();
        cJSON_AddStringToObject(o, "kind", "APIGroup");
        cJSON_AddStringToObject(o, "apiVersion", "v1");
    } else {
        cJSON_AddStringToObject(o, "kind", "APIResourceList");
        cJSON_AddStringToObject(o, "apiVersion", "v1");
        cJSON_AddStringToObject(o, "groupVersion",
                                FG_FLEET_GROUP "/" FG_FLEET_VERSION);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "resources"), r);
        cJSON_AddStringToObject(r, "name", "clusters");
        cJSON_AddStringToObject(r, "singularName", "cluster");
        cJSON_AddFalseToObject(r, "namespaced");
        cJSON_AddStringToObject(r, "kind", "Cluster");
        cJSON_AddItemToObject(r, "verbs", strings(verbs));
    }
    return o;
}

/* The APIGroupDiscoveryList of PATH (/api: empty; /apis: the group). */
static cJSON *aggregated(const char *path, const char *api_version)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "kind", "APIGroupDiscoveryList");
    cJSON_AddStringToObject(o, "apiVersion", api_version);
    cJSON_AddObjectToObject(o, "metadata");
    cJSON *items = cJSON_AddArrayToObject(o, "items");
    if (strcmp(path, "/apis") != 0)
        return o;
    cJSON *g = cJSON_CreateObject();
    cJSON_AddItemToArray(items, g);
    cJSON *meta = cJSON_AddObjectToObject(g, "metadata");
    cJSON_AddStringToObject(meta, "name", FG_FLEET_GROUP);
    cJSON_AddNullToObject(meta, "creationTimestamp");
    cJSON *v = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(g, "versions"), v);
    cJSON_AddStringToObject(v, "version", FG_FLEET_VERSION);
    cJSON_AddStringToObject(v, "freshness", "Current");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(v, "resources"), r);
    cJSON_AddStringToObject(r, "resource", "clusters");
    cJSON *kind = cJSON_AddObjectToObject(r, "responseKind");
    cJSON_AddStringToObject(kind, "group", FG_FLEET_GROUP);
    cJSON_AddStringToObject(kind, "version", FG_FLEET_VERSION);
    cJSON_AddStringToObject(kind, "kind", "Cluster");
    cJSON_AddStringToObject(r, "scope", "Cluster");
    cJSON_AddStringToObject(r, "singularResource", "cluster");
    cJSON_AddItemToObject(r, "verbs", strings(verbs));
    return o;
}

int fg_fleet_discovery_owns(const char *path)
{
    return strcmp(path, "/api") == 0 || strcmp(path, "/apis") == 0 ||
           strcmp(path, "/apis/" FG_FLEET_GROUP) == 0 ||
           strcmp(path, "/apis/" FG_FLEET_GROUP "/" FG_FLEET_VERSION) == 0;
}

char *fg_fleet_discovery(const char *path, const char *accept,
                         size_t accept_len, const char **content_type)
{
    static const char *const versions[] = {"v2", "v2beta1", NULL};
    int v = strncmp(path, "/apis/", 6) == 0
                ? 0
                : fg_accept_find(accept, accept_len, "APIGroupDiscoveryList",
                                 "apidiscovery.k8s.io", versions);
    cJSON *o = v == 1   ? aggregated(path, "apidiscovery.k8s.io/v2")
               : v == 2 ? aggregated(path, "apidiscovery.k8s.io/v2beta1")
                        : legacy(path);
    *content_type = v == 1 ? "application/json;g=apidiscovery.k8s.io;v=v2;"
                             "as=APIGroupDiscoveryList"
                    : v == 2
                        ? "application/json;g=apidiscovery.k8s.io;v=v2beta1;"
                          "as=APIGroupDiscoveryList"
                        : "application/json";
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return text;
}
