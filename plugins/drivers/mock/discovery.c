/* The mock's discovery documents: /version, /api, /api/v1, /apis,
 * /apis/GROUP and /apis/GROUP/VERSION, built from the kind registry.
 * Requests for aggregated discovery get these legacy documents with a plain
 * application/json content type, which client-go and kubectl take as "no
 * aggregated discovery here" and then walk the per group-version paths. */
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

/* A "RESOURCE/SUB" entry: what kubectl and client-go look for before they
 * use a subresource (kubectl scale needs "deployments/scale"; clients
 * check "pods/exec" before they exec). GROUP and VERSION are set when the
 * subresource speaks another group's kind (Scale). */
static void add_subresource(cJSON *res, const struct mock_kind *k,
                            const char *sub, const char *group,
                            const char *version, const char *kind,
                            const char *const *verbs)
{
    char name[96];
    snprintf(name, sizeof(name), "%s/%s", k->resource, sub);
    cJSON *r = cJSON_CreateObject();
    if (!r || !cJSON_AddItemToArray(res, r)) {
        cJSON_Delete(r);
        return;
    }
    cJSON_AddStringToObject(r, "name", name);
    cJSON_AddStringToObject(r, "singularName", "");
    cJSON_AddBoolToObject(r, "namespaced", k->namespaced);
    if (group) {
        cJSON_AddStringToObject(r, "group", group);
        cJSON_AddStringToObject(r, "version", version);
    }
    cJSON_AddStringToObject(r, "kind", kind);
    cJSON_AddItemToObject(r, "verbs", string_array(verbs));
}

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
        int pods = !k->group[0] && strcmp(k->resource, "pods") == 0;
        for (size_t j = 0; pods && j < sizeof(pod_subs) / sizeof(pod_subs[0]);
             j++)
            add_subresource(res, k, pod_subs[j].sub, NULL, NULL,
                            pod_subs[j].kind, pod_subs[j].verbs);
        if (mock_kind_has_scale(k))
            add_subresource(res, k, "scale", "autoscaling", "v1", "Scale",
                            rw_verbs);
        if (mock_kind_has_status(k))
            add_subresource(res, k, "status", NULL, NULL, k->kind, rw_verbs);
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

static char *discovery(const char *path, const char *git_version, int *found);

char *mock_discovery(const char *path, const char *git_version, int *found)
{
    /* kube-apiserver serves these with a trailing slash too, and the
     * Python client asks for "/version/". */
    size_t n = strlen(path);
    if (n > 1 && n < 256 && path[n - 1] == '/') {
        char buf[256];
        memcpy(buf, path, n - 1);
        buf[n - 1] = '\0';
        return discovery(buf, git_version, found);
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
