/* The app store's catalog (catalog.h): the kinds, what each write must
 * satisfy (admit), and the review machine of versions. The store answers
 * kubectl; this file only says yes or no and fills what the service owns:
 * initial states, who moved a review and when. */
#include "catalog.h"
#include "repo.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include <fedgate/util.h>

#define APP_ID_LABEL "application.kubesphere.io/app-id"
/* the same as a path of fg_json_path */
#define APP_ID_LABEL_PATH "application\\.kubesphere\\.io/app-id"

static const struct fg_object_column category_columns[] = {
    {"Total", "integer", "status.total", 0},
    {NULL, NULL, NULL, 0},
};
static const struct fg_object_column application_columns[] = {
    {"Repo", "string",
     "metadata.labels.application\\.kubesphere\\.io/repo-name", 0},
    {"AppType", "string", "spec.appType", 0},
    {"State", "string", "status.state", 0},
    {NULL, NULL, NULL, 0},
};
static const struct fg_object_column version_columns[] = {
    {"App", "string", "metadata.labels.application\\.kubesphere\\.io/app-id",
     0},
    {"Version", "string", "spec.versionName", 0},
    {"AppType", "string", "spec.appType", 0},
    {"State", "string", "status.state", 0},
    {"Reviewer", "string", "status.userName", 1},
    {NULL, NULL, NULL, 0},
};

static const struct fg_object_column release_columns[] = {
    {"Cluster", "string", "metadata.labels.kubesphere\\.io/cluster", 0},
    {"Namespace", "string", "metadata.labels.kubesphere\\.io/namespace", 0},
    {"AppVersion", "string", "spec.appVersionID", 0},
    {"Status", "string", "status.state", 0},
    {"Message", "string", "status.message", 1},
    {NULL, NULL, NULL, 0},
};
/* what kubectl explain shows and apply validates: KubeSphere v4's spec */
static const char release_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"apiVersion\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},"
    "\"metadata\":{\"type\":\"object\"},"
    "\"spec\":{\"type\":\"object\",\"properties\":{"
    "\"appID\":{\"type\":\"string\",\"description\":\"the Application\"},"
    "\"appVersionID\":{\"type\":\"string\",\"description\":"
    "\"the ApplicationVersion installed; it must be active\"},"
    "\"values\":{\"type\":\"string\",\"description\":\"Helm values "
    "(YAML); not allowed for a plain-manifest package\"},"
    "\"appType\":{\"type\":\"string\"}}},"
    "\"status\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-"
    "fields\":true}}}";

const struct fg_object_kind appstore_catalog_kinds[] = {
    [APPSTORE_CATEGORIES] = {APPSTORE_GROUP, APPSTORE_VERSION, "categories",
                             "Category", 0, category_columns, 0, NULL},
    [APPSTORE_APPLICATIONS] = {APPSTORE_GROUP, APPSTORE_VERSION, "applications",
                               "Application", 0, application_columns, 0, NULL},
    [APPSTORE_VERSIONS] = {APPSTORE_GROUP, APPSTORE_VERSION,
                           "applicationversions", "ApplicationVersion", 0,
                           version_columns, 0, NULL},
    [APPSTORE_RELEASES] = {APPSTORE_GROUP, APPSTORE_VERSION,
                           "applicationreleases", "ApplicationRelease", 0,
                           release_columns, 0, release_schema},
    [APPSTORE_REPOS] = {APPSTORE_GROUP, APPSTORE_VERSION, "repos", "Repo", 0,
                        appstore_repo_columns, 0, appstore_repo_schema},
    {NULL, NULL, NULL, NULL, 0, NULL, 0, NULL},
};

#define WRITES "get list watch create update patch delete"
const struct fg_service_resource appstore_catalog_resources[] = {
    {"categories", "category", "Category", 0, WRITES, "appctg", NULL},
    {"categories/status", "", "Category", 0, "get update patch", NULL, NULL},
    {"applications", "application", "Application", 0, WRITES, "app", NULL},
    {"applications/status", "", "Application", 0, "get update patch", NULL,
     NULL},
    {"applicationversions", "applicationversion", "ApplicationVersion", 0,
     WRITES, "appver", NULL},
    {"applicationversions/status", "", "ApplicationVersion", 0,
     "get update patch", NULL, NULL},
    {"applicationreleases", "applicationrelease", "ApplicationRelease", 0,
     WRITES, "apprls", NULL},
    {"repos", "repo", "Repo", 0, WRITES, NULL, NULL},
    {"repos/status", "", "Repo", 0, "get", NULL, NULL},
    {NULL, NULL, NULL, 0, NULL, NULL, NULL},
};

/* ---- the review machine -------------------------------------------------- */

const char *appstore_review_refusal(const char *from, const char *to)
{
    static const struct {
        const char *from, *to;
    } moves[] = {
        {"draft", "submitted"},    {"submitted", "passed"},
        {"submitted", "rejected"}, {"submitted", "draft"},
        {"rejected", "draft"},     {"passed", "active"},
        {"active", "suspended"},   {"suspended", "active"},
    };
    if (strcmp(from, to) == 0)
        return NULL;
    for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++)
        if (strcmp(moves[i].from, from) == 0 && strcmp(moves[i].to, to) == 0)
            return NULL;
    return "is not a review step (draft -> submitted -> passed -> active <-> "
           "suspended; submitted -> rejected; submitted or rejected -> draft)";
}

/* ---- admission ----------------------------------------------------------- */

static const char *text_at(const cJSON *obj, const char *path)
{
    const cJSON *v = fg_json_path(obj, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void set_at(cJSON *obj, const char *key, const char *field, cJSON *value)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsObject(o)) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
        o = cJSON_AddObjectToObject(obj, key);
    }
    fg_json_set(o, field, value);
}

static void now_rfc3339(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A new object's status is the service's: the client's is dropped, as a
 * status subresource drops it, and the review starts as a draft. */
static void initial_status(cJSON *obj, const char *state)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
    if (state)
        set_at(obj, "status", "state", cJSON_CreateString(state));
}

int appstore_refuse(char *err, size_t len, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return code;
}

static int admit_application(cJSON *obj, const cJSON *old, int status,
                             char *err, size_t len)
{
    const char *type = text_at(obj, "spec.appType");
    if (!status && *type && strcmp(type, "helm") != 0 &&
        strcmp(type, "yaml") != 0)
        return appstore_refuse(
            err, len, 422,
            "spec.appType: Unsupported value: \"%s\": supported "
            "values: \"helm\", \"yaml\"",
            type);
    if (!old)
        initial_status(obj, "draft");
    return 0;
}

static int admit_version(struct appstore_catalog *c,
                         const struct fg_identity *who, cJSON *obj,
                         const cJSON *old, int status, char *err, size_t len)
{
    const char *app = text_at(obj, "metadata.labels." APP_ID_LABEL_PATH);
    const char *before = old ? text_at(old, "status.state") : "";
    if (status) {
        const char *to = text_at(obj, "status.state");
        const char *why = appstore_review_refusal(before, to);
        if (why)
            return appstore_refuse(err, len, 409, "%s -> %s %s", before, to,
                                   why);
        char stamp[32];
        now_rfc3339(stamp, sizeof(stamp));
        set_at(obj, "status", "userName",
               cJSON_CreateString(who && who->user ? who->user : ""));
        set_at(obj, "status", "updated", cJSON_CreateString(stamp));
        return 0;
    }
    if (!*app)
        return appstore_refuse(
            err, len, 422,
            "metadata.labels[" APP_ID_LABEL
            "]: Required value: the Application this version is of");
    if (!fg_objects_get(c->objects,
                        &appstore_catalog_kinds[APPSTORE_APPLICATIONS], NULL,
                        app))
        return appstore_refuse(err, len, 422,
                               "metadata.labels[" APP_ID_LABEL
                               "]: Not found: applications.%s \"%s\"",
                               APPSTORE_GROUP, app);
    if (!*text_at(obj, "spec.versionName"))
        return appstore_refuse(err, len, 422,
                               "spec.versionName: Required value");
    if (old && strcmp(app, text_at(old, "metadata.labels." APP_ID_LABEL_PATH)))
        return appstore_refuse(err, len, 422,
                               "metadata.labels[" APP_ID_LABEL
                               "]: field is immutable");
    if (old && strcmp(before, "draft") != 0 &&
        strcmp(before, "rejected") != 0) {
        cJSON *a = cJSON_Duplicate(obj, 1), *b = cJSON_Duplicate(old, 1);
        int same = a && b;
        if (same) {
            cJSON_DeleteItemFromObjectCaseSensitive(a, "status");
            cJSON_DeleteItemFromObjectCaseSensitive(b, "status");
            same = cJSON_Compare(cJSON_GetObjectItem(a, "spec"),
                                 cJSON_GetObjectItem(b, "spec"), 1);
        }
        cJSON_Delete(a);
        cJSON_Delete(b);
        if (!same)
            return appstore_refuse(
                err, len, 409,
                "the version is %s: only a draft or a rejected "
                "version may change its spec",
                before);
    }
    if (!old)
        initial_status(obj, "draft");
    return 0;
}

static int admit(void *arg, const struct fg_object_kind *k,
                 const struct fg_identity *who, struct cJSON *obj,
                 const struct cJSON *old, int status, char *err, size_t len)
{
    struct appstore_catalog *c = arg;
    if (k == &appstore_catalog_kinds[APPSTORE_RELEASES])
        return c->releases.admit ? c->releases.admit(c->releases.arg, k, who,
                                                     obj, old, status, err, len)
                                 : 0;
    if (!obj)
        return 0; /* deletes: RBAC decided */
    if (k == &appstore_catalog_kinds[APPSTORE_APPLICATIONS])
        return admit_application(obj, old, status, err, len);
    if (k == &appstore_catalog_kinds[APPSTORE_VERSIONS])
        return admit_version(c, who, obj, old, status, err, len);
    if (k == &appstore_catalog_kinds[APPSTORE_REPOS])
        return appstore_repo_admit(c, obj, old, status, err, len);
    if (!old)
        initial_status(obj, NULL);
    return 0;
}

static void changed(void *arg, const struct fg_object_kind *k,
                    enum fg_object_event ev, const struct cJSON *obj)
{
    struct appstore_catalog *c = arg;
    if (k == &appstore_catalog_kinds[APPSTORE_RELEASES] && c->releases.changed)
        c->releases.changed(c->releases.arg, k, ev, obj);
    if (k == &appstore_catalog_kinds[APPSTORE_REPOS] && c->repo_changed)
        c->repo_changed(c->repo_arg, (int)ev, obj);
}

int appstore_catalog_open(struct appstore_catalog *c, const char *state_dir,
                          char *err, size_t err_len)
{
    char dir[4096];
    struct fg_object_hooks hooks = {admit, changed, c};
    snprintf(dir, sizeof(dir), "%s/appstore/catalog", state_dir);
    c->objects =
        fg_objects_new(dir, appstore_catalog_kinds, &hooks, err, err_len);
    return c->objects ? 0 : -1;
}

void appstore_catalog_close(struct appstore_catalog *c)
{
    fg_objects_free(c->objects);
    c->objects = NULL;
}
