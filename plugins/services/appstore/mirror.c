/* The charts of the hosted repositories, as the catalog's objects
 * (appstore.h "mirror"): each chart an Application named REPO-CHART, each
 * version an ApplicationVersion REPO-CHART-VERSION that starts its review
 * as a draft, and starts it again when its archive is replaced. So a push
 * shows in the store, and a release can only ever install a version that
 * passed review. */
#include "appstore.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/host.h>
#include <fedgate/util.h>

#define REPO_LABEL "application.kubesphere.io/repo-name"
#define APP_LABEL "application.kubesphere.io/app-id"

/* The parts joined with '-' as an object name (RFC 1123 subdomain):
 * lower case, anything else but [a-z0-9.-] a '-', alphanumeric at both
 * ends. */
int appstore_object_name(char *out, size_t cap, const char *repo,
                         const char *chart, const char *version)
{
    int n = snprintf(out, cap, "%s-%s%s%s", repo, chart, version ? "-" : "",
                     version ? version : "");
    if (n <= 0 || (size_t)n >= cap || n > 253)
        return -1;
    for (char *p = out; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
        else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                   *p == '.' || *p == '-'))
            *p = '-';
    }
    size_t len = strlen(out);
    while (len && (out[len - 1] == '-' || out[len - 1] == '.'))
        out[--len] = '\0';
    return len ? 0 : -1;
}

static const char *meta_text(const cJSON *meta, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void add_text(cJSON *o, const char *key, const char *value)
{
    if (value && *value)
        cJSON_AddStringToObject(o, key, value);
}

static cJSON *object(const char *kind, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion",
                            APPSTORE_GROUP "/" APPSTORE_VERSION);
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "metadata"), "name",
                            name);
    return o;
}

/* The Application of V's chart: made when missing (in STATE), its spec
 * from the newest Chart.yaml pushed; its status (the state) is kept. */
static int mirror_application(struct appstore_catalog *c, const char *repo,
                              const char *name,
                              const struct appstore_version *v,
                              const char *state, char *err, size_t len)
{
    const struct fg_object_kind *k =
        &appstore_catalog_kinds[APPSTORE_APPLICATIONS];
    const cJSON *old = fg_objects_get(c->objects, k, NULL, name);
    cJSON *o = old ? cJSON_Duplicate(old, 1) : object("Application", name);
    if (!o) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    cJSON *labels = cJSON_CreateObject();
    cJSON_AddStringToObject(labels, REPO_LABEL, repo);
    fg_json_set(cJSON_GetObjectItemCaseSensitive(o, "metadata"), "labels",
                labels);
    cJSON *spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "appType", "helm");
    add_text(spec, "appHome", meta_text(v->meta, "home"));
    add_text(spec, "icon", meta_text(v->meta, "icon"));
    add_text(spec, "abstraction", meta_text(v->meta, "description"));
    fg_json_set(o, "spec", spec);
    if (!old) {
        cJSON *status = cJSON_AddObjectToObject(o, "status");
        cJSON_AddStringToObject(status, "state", state);
    }
    if (old && cJSON_Compare(old, o, 1)) {
        cJSON_Delete(o);
        return 0;
    }
    return fg_objects_put(c->objects, k, o, err, len);
}

/* V of REPO as an ApplicationVersion in review state STATE (a draft for
 * a push) pulled from URL. */
static int mirror_version(struct appstore_catalog *c, const char *repo,
                          const struct appstore_version *v, const char *state,
                          const char *url, char *err, size_t len)
{
    char app[254], name[254];
    if (appstore_object_name(app, sizeof(app), repo, v->name, NULL) != 0 ||
        appstore_object_name(name, sizeof(name), repo, v->name, v->version) !=
            0) {
        snprintf(err, len, "%s-%s: no object name can be made of it", v->name,
                 v->version);
        return -1;
    }
    if (mirror_application(c, repo, app, v, state, err, len) != 0)
        return -1;
    const struct fg_object_kind *k = &appstore_catalog_kinds[APPSTORE_VERSIONS];
    const cJSON *old = fg_objects_get(c->objects, k, NULL, name);
    const cJSON *old_digest = fg_json_path(old, "spec.digest");
    if (cJSON_IsString(old_digest) &&
        strcmp(old_digest->valuestring, v->digest) == 0)
        return 0; /* the same archive: its review stands */
    cJSON *o =
        old ? cJSON_Duplicate(old, 1) : object("ApplicationVersion", name);
    if (!o) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    cJSON *labels = cJSON_CreateObject();
    cJSON_AddStringToObject(labels, APP_LABEL, app);
    cJSON_AddStringToObject(labels, REPO_LABEL, repo);
    fg_json_set(cJSON_GetObjectItemCaseSensitive(o, "metadata"), "labels",
                labels);
    cJSON *spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "versionName", v->version);
    add_text(spec, "appHome", meta_text(v->meta, "home"));
    add_text(spec, "icon", meta_text(v->meta, "icon"));
    cJSON_AddStringToObject(spec, "created", v->created);
    cJSON_AddStringToObject(spec, "digest", v->digest);
    cJSON_AddStringToObject(spec, "appType", "helm");
    cJSON_AddStringToObject(spec, "pullUrl", url);
    const cJSON *maintainers =
        cJSON_GetObjectItemCaseSensitive(v->meta, "maintainers");
    if (cJSON_IsArray(maintainers))
        cJSON_AddItemToObject(spec, "maintainer",
                              cJSON_Duplicate(maintainers, 1));
    fg_json_set(o, "spec", spec);
    cJSON *status = cJSON_CreateObject();
    cJSON_AddStringToObject(status, "state", state);
    if (old && strcmp(state, "draft") == 0)
        cJSON_AddStringToObject(status, "message",
                                "the chart's archive was replaced: its "
                                "review starts again");
    fg_json_set(o, "status", status);
    return fg_objects_put(c->objects, k, o, err, len);
}

int appstore_mirror_version(struct appstore_catalog *c, const char *repo,
                            const struct appstore_version *v, char *err,
                            size_t len)
{
    char url[700], file[600];
    appstore_chart_file(v, file, sizeof(file));
    snprintf(url, sizeof(url), "/helm/%s/charts/%s", repo, file);
    return mirror_version(c, repo, v, "draft", url, err, len);
}

int appstore_mirror_external(struct appstore_catalog *c, const char *repo,
                             const struct appstore_version *v,
                             const char *pull_url, char *err, size_t len)
{
    return mirror_version(c, repo, v, "active", pull_url, err, len);
}

void appstore_mirror_remove(struct appstore_catalog *c, const char *repo,
                            const struct appstore_version *v)
{
    char name[254];
    if (appstore_object_name(name, sizeof(name), repo, v->name, v->version) ==
        0)
        fg_objects_remove(
            c->objects, &appstore_catalog_kinds[APPSTORE_VERSIONS], NULL, name);
}

void appstore_mirror_all(struct appstore *a, const char *const *repos, size_t n)
{
    char err[256];
    for (size_t i = 0; i < n; i++) {
        struct appstore_repo *r = appstore_store_repo(a->store, repos[i]);
        for (size_t j = 0; r && j < r->n; j++)
            if (appstore_mirror_version(&a->catalog, r->name, r->versions[j],
                                        err, sizeof(err)) != 0)
                a->host->log(a->host, FG_LOG_WARN,
                             "appstore: %s: not in the catalog: %s", r->name,
                             err);
    }
}
