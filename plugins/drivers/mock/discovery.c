/* The mock's discovery documents: /version, /api, /api/v1, /apis,
 * /apis/GROUP and /apis/GROUP/VERSION, built from the kind registry, and
 * aggregated discovery (apidiscovery.k8s.io v2 and v2beta1
 * APIGroupDiscoveryList) for /api and /apis when the Accept header asks
 * for it first, as kube-apiserver 1.30+ answers: one document per root
 * with every group, version, resource and subresource, which spares
 * kubectl and client-go a request per group version. Both forms list the
 * same resources, verbs and subresources: each reads them from kinds.c
 * and from subresources_of below. */
#include <stdio.h>
#include <string.h>

#include "mock.h"

static char *finish(cJSON *doc)
{
    char *out = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    return out;
}

static char *version_doc(const char *git_version)
{
    unsigned major = 0, minor = 0;
    char smaj[16], smin[16];
    if (sscanf(git_version, "v%u.%u", &major, &minor) != 2)
        major = minor = 0;
    snprintf(smaj, sizeof(smaj), "%u", major);
    snprintf(smin, sizeof(smin), "%u", minor);
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    cJSON_AddStringToObject(d, "major", smaj);
    cJSON_AddStringToObject(d, "minor", smin);
    cJSON_AddStringToObject(d, "gitVersion", git_version);
    cJSON_AddStringToObject(d, "gitCommit",
                            "0000000000000000000000000000000000000000");
    cJSON_AddStringToObject(d, "gitTreeState", "clean");
    cJSON_AddStringToObject(d, "buildDate", "2024-12-11T00:00:00Z");
    cJSON_AddStringToObject(d, "goVersion", "go1.23.3");
    cJSON_AddStringToObject(d, "compiler", "gc");
    cJSON_AddStringToObject(d, "platform", "linux/amd64");
    return finish(d);
}

static cJSON *string_array(const char *const *v)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && v[i]; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

/* A subresource as discovery lists it. GROUP and VERSION are set when it
 * speaks another group's kind (Scale). */
struct sub_desc {
    const char *sub, *group, *version, *kind;
    const char *const *verbs;
};

static const char *const rw_verbs[] = {"get", "patch", "update", NULL};
static const char *const connect_verbs[] = {"create", "get", NULL};
static const char *const get_verb[] = {"get", NULL};

/* The pods' subresources besides status, with kube-apiserver's kinds and
 * verbs, in its (alphabetical) order: the streams of exec.c and logs.c
 * and the upgrades a pod answers. */
static const struct {
    const char *sub, *kind;
    const char *const *verbs;
} pod_subs[] = {
    {"attach", "PodAttachOptions", connect_verbs},
    {"exec", "PodExecOptions", connect_verbs},
    {"log", "Pod", get_verb},
    {"portforward", "PodPortForwardOptions", connect_verbs},
};

#define MAX_SUBS (sizeof(pod_subs) / sizeof(pod_subs[0]) + 2)

/* K's subresources into OUT (MAX_SUBS), in kube-apiserver's order: what
 * kubectl and client-go look for before they use one (kubectl scale needs
 * "deployments/scale"; clients check "pods/exec" before they exec). */
static size_t subresources_of(const struct mock_kind *k, struct sub_desc *out)
{
    size_t n = 0;
    if (!k->group[0] && strcmp(k->resource, "pods") == 0) {
        for (size_t j = 0; j < sizeof(pod_subs) / sizeof(pod_subs[0]); j++)
            out[n++] = (struct sub_desc){pod_subs[j].sub, NULL, NULL,
                                         pod_subs[j].kind, pod_subs[j].verbs};
    }
    if (mock_kind_has_scale(k))
        out[n++] =
            (struct sub_desc){"scale", "autoscaling", "v1", "Scale", rw_verbs};
    if (mock_kind_has_status(k))
        out[n++] = (struct sub_desc){"status", NULL, NULL, k->kind, rw_verbs};
    return n;
}

/* A legacy "RESOURCE/SUB" entry of an APIResourceList. */
static void add_subresource(cJSON *res, const struct mock_kind *k,
                            const struct sub_desc *s)
{
    char name[96];
    snprintf(name, sizeof(name), "%s/%s", k->resource, s->sub);
    cJSON *r = cJSON_CreateObject();
    if (!r || !cJSON_AddItemToArray(res, r)) {
        cJSON_Delete(r);
        return;
    }
    cJSON_AddStringToObject(r, "name", name);
    cJSON_AddStringToObject(r, "singularName", "");
    cJSON_AddBoolToObject(r, "namespaced", k->namespaced);
    if (s->group) {
        cJSON_AddStringToObject(r, "group", s->group);
        cJSON_AddStringToObject(r, "version", s->version);
    }
    cJSON_AddStringToObject(r, "kind", s->kind);
    cJSON_AddItemToObject(r, "verbs", string_array(s->verbs));
}

static char *resource_list(const char *group, const char *version)
{
    char gv[64];
    if (group[0])
        snprintf(gv, sizeof(gv), "%s/%s", group, version);
    else
        snprintf(gv, sizeof(gv), "%s", version);
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    cJSON_AddStringToObject(d, "kind", "APIResourceList");
    cJSON_AddStringToObject(d, "apiVersion", "v1");
    cJSON_AddStringToObject(d, "groupVersion", gv);
    cJSON *res = cJSON_AddArrayToObject(d, "resources");
    int any = 0;
    for (size_t i = 0; res && i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        if (strcmp(k->group, group) != 0 || strcmp(k->version, version) != 0)
            continue;
        any = 1;
        cJSON *r = cJSON_CreateObject();
        if (!r)
            break;
        cJSON_AddItemToArray(res, r);
        cJSON_AddStringToObject(r, "name", k->resource);
        cJSON_AddStringToObject(r, "singularName", k->singular);
        cJSON_AddBoolToObject(r, "namespaced", k->namespaced);
        cJSON_AddStringToObject(r, "kind", k->kind);
        cJSON_AddItemToObject(r, "verbs", string_array(mock_kind_verbs(k)));
        if (k->short_names[0])
            cJSON_AddItemToObject(r, "shortNames",
                                  string_array(k->short_names));
        if (k->categories[0])
            cJSON_AddItemToObject(r, "categories", string_array(k->categories));
        struct sub_desc subs[MAX_SUBS];
        size_t n = subresources_of(k, subs);
        for (size_t j = 0; j < n; j++)
            add_subresource(res, k, &subs[j]);
    }
    if (!any) {
        cJSON_Delete(d);
        return NULL;
    }
    return finish(d);
}

static cJSON *group_entry(const char *group)
{
    cJSON *g = cJSON_CreateObject();
    if (!g)
        return NULL;
    cJSON_AddStringToObject(g, "name", group);
    cJSON *versions = cJSON_AddArrayToObject(g, "versions");
    const char *preferred = NULL;
    for (size_t i = 0; versions && i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        if (strcmp(k->group, group) != 0)
            continue;
        if (preferred && strcmp(preferred, k->version) == 0)
            continue;
        char gv[64];
        snprintf(gv, sizeof(gv), "%s/%s", group, k->version);
        cJSON *v = cJSON_CreateObject();
        if (!v)
            break;
        cJSON_AddItemToArray(versions, v);
        cJSON_AddStringToObject(v, "groupVersion", gv);
        cJSON_AddStringToObject(v, "version", k->version);
        if (!preferred) {
            preferred = k->version;
            cJSON *p = cJSON_AddObjectToObject(g, "preferredVersion");
            if (p) {
                cJSON_AddStringToObject(p, "groupVersion", gv);
                cJSON_AddStringToObject(p, "version", k->version);
            }
        }
    }
    return g;
}

static int group_known(const char *group)
{
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        if (group[0] && strcmp(mock_kind_at(i)->group, group) == 0)
            return 1;
    }
    return 0;
}

static char *group_list(void)
{
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    cJSON_AddStringToObject(d, "kind", "APIGroupList");
    cJSON_AddStringToObject(d, "apiVersion", "v1");
    cJSON *groups = cJSON_AddArrayToObject(d, "groups");
    for (size_t i = 0; groups && i < MOCK_N_KINDS; i++) {
        const char *g = mock_kind_at(i)->group;
        int seen = !g[0];
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(mock_kind_at(j)->group, g) == 0;
        if (!seen)
            cJSON_AddItemToArray(groups, group_entry(g));
    }
    return finish(d);
}

static char *group_doc(const char *group)
{
    cJSON *d = cJSON_CreateObject();
    cJSON *entry = group_entry(group);
    if (!d || !entry) {
        cJSON_Delete(d);
        cJSON_Delete(entry);
        return NULL;
    }
    /* kind and apiVersion first, as kube-apiserver writes them. */
    cJSON_AddStringToObject(d, "kind", "APIGroup");
    cJSON_AddStringToObject(d, "apiVersion", "v1");
    while (entry->child) {
        cJSON *item = cJSON_DetachItemViaPointer(entry, entry->child);
        cJSON_AddItemToObject(d, item->string, item);
    }
    cJSON_Delete(entry);
    return finish(d);
}

/* ---- aggregated discovery -------------------------------------------- */

static cJSON *response_kind(const char *group, const char *version,
                            const char *kind)
{
    cJSON *r = cJSON_CreateObject();
    if (r) {
        cJSON_AddStringToObject(r, "group", group ? group : "");
        cJSON_AddStringToObject(r, "version", version ? version : "");
        cJSON_AddStringToObject(r, "kind", kind);
    }
    return r;
}

/* K as an APIResourceDiscovery. */
static cJSON *agg_resource(const struct mock_kind *k)
{
    cJSON *r = cJSON_CreateObject();
    if (!r)
        return NULL;
    cJSON_AddStringToObject(r, "resource", k->resource);
    cJSON_AddItemToObject(r, "responseKind",
                          response_kind(NULL, NULL, k->kind));
    cJSON_AddStringToObject(r, "scope",
                            k->namespaced ? "Namespaced" : "Cluster");
    cJSON_AddStringToObject(r, "singularResource", k->singular);
    cJSON_AddItemToObject(r, "verbs", string_array(mock_kind_verbs(k)));
    if (k->short_names[0])
        cJSON_AddItemToObject(r, "shortNames", string_array(k->short_names));
    if (k->categories[0])
        cJSON_AddItemToObject(r, "categories", string_array(k->categories));
    struct sub_desc subs[MAX_SUBS];
    size_t n = subresources_of(k, subs);
    cJSON *arr = n ? cJSON_AddArrayToObject(r, "subresources") : NULL;
    for (size_t j = 0; arr && j < n; j++) {
        cJSON *s = cJSON_CreateObject();
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            break;
        }
        cJSON_AddStringToObject(s, "subresource", subs[j].sub);
        cJSON_AddItemToObject(
            s, "responseKind",
            response_kind(subs[j].group, subs[j].version, subs[j].kind));
        cJSON_AddItemToObject(s, "verbs", string_array(subs[j].verbs));
    }
    return r;
}

/* GROUP ("" for the core group) as an APIGroupDiscovery: its versions in
 * the registry's order, the first preferred. */
static cJSON *agg_group(const char *group)
{
    cJSON *g = cJSON_CreateObject();
    cJSON *meta = g ? cJSON_AddObjectToObject(g, "metadata") : NULL;
    cJSON *versions = meta ? cJSON_AddArrayToObject(g, "versions") : NULL;
    if (!versions) {
        cJSON_Delete(g);
        return NULL;
    }
    if (group[0])
        cJSON_AddStringToObject(meta, "name", group);
    cJSON_AddNullToObject(meta, "creationTimestamp");
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        if (strcmp(k->group, group) != 0)
            continue;
        cJSON *v = NULL, *e;
        cJSON_ArrayForEach(e, versions)
        {
            if (strcmp(mock_json_str(e, "version", ""), k->version) == 0)
                v = e;
        }
        if (!v) {
            v = cJSON_CreateObject();
            if (!v || !cJSON_AddItemToArray(versions, v)) {
                cJSON_Delete(v);
                break;
            }
            cJSON_AddStringToObject(v, "version", k->version);
            cJSON_AddArrayToObject(v, "resources");
            cJSON_AddStringToObject(v, "freshness", "Current");
        }
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(v, "resources"),
                             agg_resource(k));
    }
    return g;
}

/* The APIGroupDiscoveryList of /api (CORE) or /apis, apiVersion
 * apidiscovery.k8s.io/VERSION. */
static char *agg_list(int core, const char *version)
{
    char av[48];
    snprintf(av, sizeof(av), "apidiscovery.k8s.io/%s", version);
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    cJSON_AddStringToObject(d, "kind", "APIGroupDiscoveryList");
    cJSON_AddStringToObject(d, "apiVersion", av);
    cJSON_AddObjectToObject(d, "metadata");
    cJSON *items = cJSON_AddArrayToObject(d, "items");
    for (size_t i = 0; items && i < MOCK_N_KINDS; i++) {
        const char *g = mock_kind_at(i)->group;
        int seen = core != !g[0];
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(mock_kind_at(j)->group, g) == 0;
        if (!seen)
            cJSON_AddItemToArray(items, agg_group(g));
    }
    return finish(d);
}

static const char *const agg_versions[] = {"v2", "v2beta1", NULL};
static const char *const agg_types[] = {
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;"
    "as=APIGroupDiscoveryList",
};

int mock_accept_aggregated(const char *accept, size_t len)
{
    /* The client's order decides: a plain JSON range before the
     * aggregated one asks for the legacy document. */
    const char *p = accept, *e = accept + len;
    while (p < e) {
        const char *c = memchr(p, ',', (size_t)(e - p));
        size_t n = c ? (size_t)(c - p) : (size_t)(e - p);
        int v = fg_accept_find(p, n, "APIGroupDiscoveryList",
                               "apidiscovery.k8s.io", agg_versions);
        if (v)
            return v;
        while (n > 0 && (*p == ' ' || *p == '\t'))
            p++, n--;
        if (n >= 16 && strncmp(p, "application/json", 16) == 0)
            return 0;
        if (n >= 3 && strncmp(p, "*/*", 3) == 0)
            return 0;
        p = c ? c + 1 : e;
    }
    return 0;
}

static char *discovery(const char *path, const char *git_version, int *found);

char *mock_discovery(const char *path, const char *git_version, int aggregated,
                     const char **ct, int *found)
{
    /* kube-apiserver serves these with a trailing slash too, and the
     * Python client asks for "/version/". */
    char buf[256];
    size_t n = strlen(path);
    if (n > 1 && n < sizeof(buf) && path[n - 1] == '/') {
        memcpy(buf, path, n - 1);
        buf[n - 1] = '\0';
        path = buf;
    }
    *ct = "application/json";
    int core = strcmp(path, "/api") == 0;
    if (aggregated > 0 && aggregated <= 2 && (core || !strcmp(path, "/apis"))) {
        *found = 1;
        *ct = agg_types[aggregated - 1];
        return agg_list(core, agg_versions[aggregated - 1]);
    }
    return discovery(path, git_version, found);
}

static char *discovery(const char *path, const char *git_version, int *found)
{
    *found = 1;
    if (strcmp(path, "/version") == 0)
        return version_doc(git_version);
    if (strcmp(path, "/api") == 0) {
        cJSON *d = cJSON_CreateObject();
        if (!d)
            return NULL;
        cJSON_AddStringToObject(d, "kind", "APIVersions");
        const char *const versions[] = {"v1", NULL};
        cJSON_AddItemToObject(d, "versions", string_array(versions));
        cJSON_AddArrayToObject(d, "serverAddressByClientCIDRs");
        return finish(d);
    }
    if (strcmp(path, "/api/v1") == 0)
        return resource_list("", "v1");
    if (strcmp(path, "/apis") == 0)
        return group_list();
    if (strncmp(path, "/apis/", 6) == 0) {
        char group[64], version[64];
        const char *g = path + 6;
        const char *slash = strchr(g, '/');
        size_t glen = slash ? (size_t)(slash - g) : strlen(g);
        if (glen == 0 || glen >= sizeof(group))
            goto none;
        memcpy(group, g, glen);
        group[glen] = '\0';
        if (!group_known(group))
            goto none;
        if (!slash)
            return group_doc(group);
        const char *v = slash + 1;
        if (strchr(v, '/') || !*v || strlen(v) >= sizeof(version))
            goto none;
        snprintf(version, sizeof(version), "%s", v);
        char *doc = resource_list(group, version);
        if (!doc)
            *found = 0;
        return doc;
    }
none:
    *found = 0;
    return NULL;
}
