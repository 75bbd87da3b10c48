/* Discovery of the host's own API, legacy (/api, /apis, /apis/G,
 * /apis/G/V) and aggregated (apidiscovery.k8s.io v2 and v2beta1, which
 * kubectl and client-go ask for first): the fleet's group,
 * cluster.kubesphere.io with its one resource, clusters, then the groups
 * of the service plugins (service.h), each described by its own table.
 * No core group: /api lists no versions. */
#include "fleet/discovery.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "fleet/fleet.h"

static const struct fg_service_resource fleet_resources[] = {
    {"clusters", "cluster", "Cluster", 0,
     "get list watch create update patch delete", NULL, NULL},
    {NULL, NULL, NULL, 0, NULL, NULL, NULL},
};
static const struct fg_service_api fleet_api = {
    FG_FLEET_GROUP, FG_FLEET_VERSION, fleet_resources};

int fg_fleet_apis(const struct fg_worker_gen *g, struct fg_api_set *out)
{
    size_t n = 1;
    for (size_t i = 0; i < g->n_services; i++)
        for (const struct fg_service_api *a = g->services[i]->service->apis;
             a && a->group; a++)
            n++;
    out->n = 0;
    if (!(out->v = calloc(n, sizeof(*out->v))))
        return -1;
    out->v[out->n++] = &fleet_api;
    for (size_t i = 0; i < g->n_services; i++)
        for (const struct fg_service_api *a = g->services[i]->service->apis;
             a && a->group; a++)
            out->v[out->n++] = a;
    return 0;
}

void fg_fleet_apis_free(struct fg_api_set *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* A space-separated list as a JSON array of strings. */
static cJSON *words(const char *text)
{
    cJSON *a = cJSON_CreateArray();
    for (const char *p = text; a && p && *p;) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ");
        if (len == 0)
            break;
        cJSON *w = cJSON_CreateString("");
        char *s = malloc(len + 1);
        if (w && s) {
            memcpy(s, p, len);
            s[len] = '\0';
            cJSON_SetValuestring(w, s);
        }
        free(s);
        cJSON_AddItemToArray(a, w);
        p += len;
    }
    return a;
}

/* What legacy and aggregated discovery both say of R. */
static void add_verbs_and_names(cJSON *e, const struct fg_service_resource *r)
{
    cJSON_AddItemToObject(e, "verbs", words(r->verbs));
    if (r->short_names)
        cJSON_AddItemToObject(e, "shortNames", words(r->short_names));
    if (r->categories)
        cJSON_AddItemToObject(e, "categories", words(r->categories));
}

static cJSON *group_version(const struct fg_service_api *a)
{
    char gv[256];
    snprintf(gv, sizeof(gv), "%s/%s", a->group, a->version);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "groupVersion", gv);
    cJSON_AddStringToObject(o, "version", a->version);
    return o;
}

/* The APIGroup of GROUP: every version of it in SET, the first preferred. */
static cJSON *api_group(const struct fg_api_set *set, const char *group)
{
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "name", group);
    cJSON *versions = cJSON_AddArrayToObject(g, "versions");
    const struct fg_service_api *first = NULL;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i]->group, group) == 0) {
            cJSON_AddItemToArray(versions, group_version(set->v[i]));
            if (!first)
                first = set->v[i];
        }
    cJSON_AddItemToObject(g, "preferredVersion", group_version(first));
    return g;
}

/* Whether SET's entry I is the first of its group (groups listed once). */
static int first_of_group(const struct fg_api_set *set, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(set->v[j]->group, set->v[i]->group) == 0)
            return 0;
    return 1;
}

static cJSON *resource_list(const struct fg_service_api *a)
{
    cJSON *o = cJSON_CreateObject();
    char gv[256];
    snprintf(gv, sizeof(gv), "%s/%s", a->group, a->version);
    cJSON_AddStringToObject(o, "kind", "APIResourceList");
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON_AddStringToObject(o, "groupVersion", gv);
    cJSON *list = cJSON_AddArrayToObject(o, "resources");
    for (const struct fg_service_resource *r = a->resources; r->name; r++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(list, e);
        cJSON_AddStringToObject(e, "name", r->name);
        cJSON_AddStringToObject(e, "singularName", r->singular_name);
        cJSON_AddBoolToObject(e, "namespaced", r->namespaced);
        cJSON_AddStringToObject(e, "kind", r->kind);
        add_verbs_and_names(e, r);
    }
    return o;
}

/* Which of SET PATH names: /apis/G (*VERSION NULL) or /apis/G/V; NULL. */
static const struct fg_service_api *named(const struct fg_api_set *set,
                                          const char *path, int *version)
{
    if (strncmp(path, "/apis/", 6) != 0)
        return NULL;
    const char *g = path + 6;
    for (size_t i = 0; i < set->n; i++) {
        size_t len = strlen(set->v[i]->group);
        if (strncmp(g, set->v[i]->group, len) != 0)
            continue;
        if (g[len] == '\0') {
            *version = 0;
            return set->v[i];
        }
        if (g[len] == '/' && strcmp(g + len + 1, set->v[i]->version) == 0) {
            *version = 1;
            return set->v[i];
        }
    }
    return NULL;
}

static cJSON *legacy(const struct fg_api_set *set, const char *path)
{
    int version = 0;
    const struct fg_service_api *a = named(set, path, &version);
    if (a && version)
        return resource_list(a);
    if (a) {
        cJSON *o = api_group(set, a->group);
        cJSON_AddStringToObject(o, "kind", "APIGroup");
        cJSON_AddStringToObject(o, "apiVersion", "v1");
        return o;
    }
    cJSON *o = cJSON_CreateObject();
    if (strcmp(path, "/api") == 0) {
        cJSON_AddStringToObject(o, "kind", "APIVersions");
        cJSON_AddArrayToObject(o, "versions");
        cJSON_AddArrayToObject(o, "serverAddressByClientCIDRs");
        return o;
    }
    cJSON_AddStringToObject(o, "kind", "APIGroupList");
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON *groups = cJSON_AddArrayToObject(o, "groups");
    for (size_t i = 0; i < set->n; i++)
        if (first_of_group(set, i))
            cJSON_AddItemToArray(groups, api_group(set, set->v[i]->group));
    return o;
}

/* The aggregated entry of one resource of A. */
static cJSON *aggregated_resource(const struct fg_service_api *a,
                                  const struct fg_service_resource *r)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "resource", r->name);
    cJSON *kind = cJSON_AddObjectToObject(e, "responseKind");
    cJSON_AddStringToObject(kind, "group", a->group);
    cJSON_AddStringToObject(kind, "version", a->version);
    cJSON_AddStringToObject(kind, "kind", r->kind);
    cJSON_AddStringToObject(e, "scope",
                            r->namespaced ? "Namespaced" : "Cluster");
    cJSON_AddStringToObject(e, "singularResource", r->singular_name);
    add_verbs_and_names(e, r);
    return e;
}

/* The aggregated version entry of A: its resources, each subresource
 * ("R/SUB") under its parent R. */
static cJSON *aggregated_version(const struct fg_service_api *a)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "version", a->version);
    cJSON_AddStringToObject(v, "freshness", "Current");
    cJSON *list = cJSON_AddArrayToObject(v, "resources");
    for (const struct fg_service_resource *r = a->resources; r->name; r++) {
        if (strchr(r->name, '/'))
            continue;
        cJSON *e = aggregated_resource(a, r);
        cJSON_AddItemToArray(list, e);
        size_t len = strlen(r->name);
        for (const struct fg_service_resource *s = a->resources; s->name; s++) {
            if (strncmp(s->name, r->name, len) != 0 || s->name[len] != '/')
                continue;
            cJSON *sub = cJSON_CreateObject();
            cJSON *subs = cJSON_GetObjectItem(e, "subresources");
            if (!subs)
                subs = cJSON_AddArrayToObject(e, "subresources");
            cJSON_AddItemToArray(subs, sub);
            cJSON_AddStringToObject(sub, "subresource", s->name + len + 1);
            cJSON *kind = cJSON_AddObjectToObject(sub, "responseKind");
            cJSON_AddStringToObject(kind, "group", a->group);
            cJSON_AddStringToObject(kind, "version", a->version);
            cJSON_AddStringToObject(kind, "kind", s->kind);
            cJSON_AddItemToObject(sub, "verbs", words(s->verbs));
        }
    }
    return v;
}

/* The APIGroupDiscoveryList of PATH (/api: empty; /apis: every group). */
static cJSON *aggregated(const struct fg_api_set *set, const char *path,
                         const char *api_version)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "APIGroupDiscoveryList");
    cJSON_AddStringToObject(o, "apiVersion", api_version);
    cJSON_AddObjectToObject(o, "metadata");
    cJSON *items = cJSON_AddArrayToObject(o, "items");
    if (strcmp(path, "/apis") != 0)
        return o;
    for (size_t i = 0; i < set->n; i++) {
        if (!first_of_group(set, i))
            continue;
        cJSON *g = cJSON_CreateObject();
        cJSON_AddItemToArray(items, g);
        cJSON *meta = cJSON_AddObjectToObject(g, "metadata");
        cJSON_AddStringToObject(meta, "name", set->v[i]->group);
        cJSON_AddNullToObject(meta, "creationTimestamp");
        cJSON *versions = cJSON_AddArrayToObject(g, "versions");
        for (size_t j = i; j < set->n; j++)
            if (strcmp(set->v[j]->group, set->v[i]->group) == 0)
                cJSON_AddItemToArray(versions, aggregated_version(set->v[j]));
    }
    return o;
}

int fg_fleet_discovery_owns(const struct fg_api_set *set, const char *path)
{
    int version;
    return strcmp(path, "/api") == 0 || strcmp(path, "/apis") == 0 ||
           named(set, path, &version) != NULL;
}

char *fg_fleet_discovery(const struct fg_api_set *set, const char *path,
                         const char *accept, size_t accept_len,
                         const char **content_type)
{
    static const char *const versions[] = {"v2", "v2beta1", NULL};
    int v = strncmp(path, "/apis/", 6) == 0
                ? 0
                : fg_accept_find(accept, accept_len, "APIGroupDiscoveryList",
                                 "apidiscovery.k8s.io", versions);
    cJSON *o = v == 1   ? aggregated(set, path, "apidiscovery.k8s.io/v2")
               : v == 2 ? aggregated(set, path, "apidiscovery.k8s.io/v2beta1")
                        : legacy(set, path);
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
