/* ApplicationRelease (release.h): admission (the creator recorded, the
 * target and version checked) and the controller that brings a member to
 * what a release says, one member call at a time, as the creator. Each
 * run starts from what the member holds (the release Secrets), so a run
 * cut short (a restart, a member that went away) is simply run again. */
#include "release.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/fedgate.h>
#include <fedgate/fleet_view.h>
#include <fedgate/util.h>

#include "helm_release.h"
#include "manifest.h"
#include "release_job.h"

#define CLUSTER_LABEL "kubesphere.io/cluster"
#define CLUSTER_PATH "metadata.labels.kubesphere\\.io/cluster"
#define NAMESPACE_LABEL "kubesphere.io/namespace"
#define APP_ID_LABEL_PATH "application\\.kubesphere\\.io/app-id"
#define CREATOR_PATH "metadata.annotations.app\\.fedgate\\.io/creator"
#define FIELD_MANAGER "fieldManager=fedgate&force=true"
#define APPLY_TYPE "application/apply-patch+yaml"
/* retries while the member is unreachable: 1 s doubling to this */
#define MAX_BACKOFF_MS 30000
#define WAITING "waiting for the member cluster"
/* the longest Helm chart release name: fedgate-helm-NAME-rm-v9999 is a
 * DNS label */
#define MAX_HELM_NAME 41
/* where a Helm run's Jobs and Secrets are listed and removed */
#define JOBS_PATH "/apis/batch/v1/namespaces/" APPSTORE_JOB_NS "/jobs"
#define SECRETS_PATH "/api/v1/namespaces/" APPSTORE_JOB_NS "/secrets"
/* the end of a failed Helm Job's log that its release's message shows */
#define JOB_LOG_QUERY "container=helm&tailLines=20&limitBytes=4096"
/* holds a deleted release until what it made is gone from the member */
#define FINALIZER "app.fedgate.io/uninstall"
/* the state of a release whose member is not in the fleet */
#define CLUSTER_DELETED "clusterDeleted"

enum phase {
    P_NS_GET,
    P_NS_CREATE,
    P_LIST,
    P_DISCOVER,
    P_APPLY,
    P_PRUNE,
    P_WRITE,
    P_SUPERSEDE,
    P_FORGET,
    /* a Helm chart: a Job in the member runs Helm */
    P_SYS_GET,
    P_SYS_CREATE,
    P_JOB_CLEAR,
    P_JOB_APPLY,
    P_JOB_RECORD,
    P_JOB_STATUS,
    P_JOB_PODS,
    P_JOB_LOG,
    /* what a Helm run left in fedgate-system: its Jobs and Secrets (listed
     * by the release's label), then each removed */
    P_TIDY_JOBS,
    P_TIDY_SECRETS,
    P_TIDY,
    P_DONE,
};

struct rel {
    struct rel *next;
    struct appstore_releases *r;
    char *name;
    cJSON *obj;   /* the release this run is for */
    int deleting; /* the release is gone: uninstall */
    int running, again;
    struct fg_timer *timer;
    uint64_t backoff_ms;
    /* the run */
    enum phase phase;
    size_t i;
    struct fg_member_ask *call;
    const char *cluster, *ns;
    struct appstore_creator creator; /* who runs it */
    struct appstore_manifest want, had;
    struct appstore_files templates;
    cJSON *chart;     /* Chart.yaml's fields */
    cJSON *discovery; /* "GROUP/VERSION" -> APIResourceList */
    cJSON *last;      /* the newest release record on the member */
    cJSON *secrets;   /* names of the release's Secrets on the member */
    int version;      /* the newest revision there */
    char *gvs[APPSTORE_MANIFEST_MAX_DOCS * 2];
    size_t n_gvs;
    /* a Helm chart's run */
    int helm;
    void *tgz; /* the chart archive */
    size_t tgz_len;
    cJSON *job; /* what the member needs for the Job (release_job.h) */
    char job_name[80];
    int revision;          /* what the Job makes, or uninstalls */
    const char *state;     /* this run's: creating, upgrading, deleting */
    struct fg_timer *poll; /* the next look at the Job */
    char *job_failure;     /* why the Job failed, before its log is read */
    char job_pod[254];     /* its pod, whose log tells more */
    cJSON *tidy;           /* paths of what the run removes at its end */
    char *outcome;         /* why the run failed, told once tidied */
};

struct appstore_releases {
    struct appstore *a;
    struct rel *rels;
    struct fg_fleet_view *fleet; /* polled each second */
};

static const struct fg_object_kind *kind(int which)
{
    return &appstore_catalog_kinds[which];
}

static const char *text_at(const cJSON *obj, const char *path)
{
    const cJSON *v = fg_json_path(obj, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* ---- the package ------------------------------------------------------- */

/* Whether a template file is rendered into the manifest, as Helm renders
 * it: not a partial (_*), not NOTES.txt. */
static int rendered(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return base[0] != '_' && strcmp(base, "NOTES.txt") != 0;
}

/* The templates of VERSION's archive and its Chart.yaml fields; 1 when it
 * is a plain-manifest package (no "{{" in any rendered template), 0 when
 * a Helm chart, -1 with ERR. */
static int load_package(struct appstore *a, const cJSON *version,
                        struct appstore_files *templates, cJSON **chart,
                        char *err, size_t len)
{
    size_t n;
    void *tgz = appstore_store_blob(a->store, text_at(version, "spec.digest"),
                                    &n, err, len);
    if (!tgz)
        return -1;
    *chart = appstore_chart_read(tgz, n, &a->limits, err, len);
    int rc = *chart && appstore_archive_templates(tgz, n, &a->limits, templates,
                                                  err, len) == 0
                 ? 1
                 : -1;
    free(tgz);
    for (size_t i = 0; rc == 1 && i < templates->n; i++)
        if (rendered(templates->v[i].name) &&
            strstr(templates->v[i].data, "{{"))
            rc = 0;
    if (rc < 0) {
        cJSON_Delete(*chart);
        *chart = NULL;
    }
    return rc;
}

/* The documents of a plain package's templates. */
static int plain_manifest(const struct appstore_files *t, const char *chart,
                          struct appstore_manifest *m, char *err, size_t len)
{
    for (size_t i = 0; i < t->n; i++) {
        char source[600];
        if (!rendered(t->v[i].name))
            continue;
        snprintf(source, sizeof(source), "%s/%s", chart, t->v[i].name);
        if (appstore_manifest_split(m, source, t->v[i].data, t->v[i].len, err,
                                    len) < 0)
            return -1;
    }
    return 0;
}

/* ---- admission --------------------------------------------------------- */

static int check_target(const cJSON *obj, char *err, size_t len)
{
    const char *labels[] = {CLUSTER_LABEL, NAMESPACE_LABEL};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(
            fg_json_path(obj, "metadata.labels"), labels[i]);
        if (!cJSON_IsString(l) || !appstore_dns_label(l->valuestring, 63))
            return appstore_refuse(
                err, len, 422,
                "metadata.labels[%s]: Required value: the target "
                "%s, a DNS-1123 label",
                labels[i], i ? "namespace" : "cluster");
    }
    if (!appstore_dns_label(text_at(obj, "metadata.name"), 53))
        return appstore_refuse(
            err, len, 422,
            "metadata.name: Invalid value: a Helm release name is a "
            "DNS-1123 label of at most 53 characters");
    return 0;
}

/* The version the release names must be active, of the release's app,
 * and take values only when it is a Helm chart. Fills appID and appType. */
static int check_version(struct appstore_releases *r, cJSON *obj, char *err,
                         size_t len)
{
    struct appstore *a = r->a;
    const char *id = text_at(obj, "spec.appVersionID");
    const cJSON *v =
        fg_objects_get(a->catalog.objects, kind(APPSTORE_VERSIONS), NULL, id);
    if (!v)
        return appstore_refuse(err, len, 422,
                               "spec.appVersionID: Not found: "
                               "applicationversions." APPSTORE_GROUP " \"%s\"",
                               id);
    if (strcmp(text_at(v, "status.state"), "active") != 0)
        return appstore_refuse(
            err, len, 422,
            "spec.appVersionID: Invalid value: \"%s\" is %s: only "
            "an active version may be installed",
            id, text_at(v, "status.state"));
    const char *app = text_at(v, "metadata.labels." APP_ID_LABEL_PATH);
    const char *want = text_at(obj, "spec.appID");
    if (*want && strcmp(want, app) != 0)
        return appstore_refuse(
            err, len, 422,
            "spec.appID: Invalid value: \"%s\": version \"%s\" is "
            "of \"%s\"",
            want, id, app);
    struct appstore_files t = {0};
    cJSON *chart = NULL;
    int plain = load_package(a, v, &t, &chart, err, len);
    appstore_files_free(&t);
    cJSON_Delete(chart);
    if (plain < 0)
        return 422;
    if (plain && *text_at(obj, "spec.values"))
        return appstore_refuse(
            err, len, 422,
            "spec.values: Forbidden: \"%s\" is a plain-manifest "
            "package, which takes no values",
            id);
    /* its Jobs' names must stay DNS labels up to revision 9999 */
    struct appstore_job_in job = {.name = text_at(obj, "metadata.name"),
                                  .uninstall = 1,
                                  .revision = 9999};
    char job_name[80];
    if (!plain && appstore_job_name(&job, job_name, sizeof(job_name)) < 0)
        return appstore_refuse(
            err, len, 422,
            "metadata.name: Invalid value: \"%s\": a Helm chart's release "
            "name may have at most %d characters (its Job is "
            "fedgate-helm-NAME-rm-vN)",
            job.name, MAX_HELM_NAME);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    fg_json_set(spec, "appID", cJSON_CreateString(app));
    fg_json_set(spec, "appType", cJSON_CreateString(plain ? "yaml" : "helm"));
    return 0;
}

/* Adds (ON) or removes the app store's finalizer in META. */
static void set_finalizer(cJSON *meta, int on)
{
    cJSON *list = cJSON_GetObjectItemCaseSensitive(meta, "finalizers");
    if (!cJSON_IsArray(list)) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "finalizers");
        list = cJSON_AddArrayToObject(meta, "finalizers");
    }
    for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--)
        if (strcmp(cJSON_GetStringValue(cJSON_GetArrayItem(list, i))
                       ? cJSON_GetArrayItem(list, i)->valuestring
                       : "",
                   FINALIZER) == 0) {
            if (on)
                return;
            cJSON_DeleteItemFromArray(list, i);
        }
    if (on)
        cJSON_AddItemToArray(list, cJSON_CreateString(FINALIZER));
    else if (cJSON_GetArraySize(list) == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "finalizers");
}

static cJSON *creator(const struct fg_identity *who)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "user", who->user);
    cJSON *g = cJSON_AddArrayToObject(c, "groups");
    for (size_t i = 0; i < who->n_groups; i++)
        cJSON_AddItemToArray(g, cJSON_CreateString(who->groups[i]));
    char *text = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    cJSON *s = text ? cJSON_CreateString(text) : NULL;
    free(text);
    return s;
}

static int admit(void *arg, const struct fg_object_kind *k,
                 const struct fg_identity *who, cJSON *obj, const cJSON *old,
                 int status, char *err, size_t len)
{
    (void)k;
    struct appstore_releases *r = arg;
    if (!obj)
        return 0; /* a delete: RBAC decided; the controller uninstalls */
    if (status)
        return appstore_refuse(err, len, 403,
                               "the status of an ApplicationRelease is the app "
                               "store's");
    int rc = check_target(obj, err, len);
    if (rc)
        return rc;
    const char *mine = text_at(obj, CREATOR_PATH);
    if (!old) {
        if (*mine)
            return appstore_refuse(err, len, 422,
                                   "metadata.annotations[" APPSTORE_CREATOR
                                   "]: Forbidden: set by the server");
        if (!who || !who->user)
            return appstore_refuse(err, len, 403, "a release needs a user");
    } else {
        const char *before = text_at(old, CREATOR_PATH);
        if (*mine && strcmp(mine, before) != 0)
            return appstore_refuse(err, len, 422,
                                   "metadata.annotations[" APPSTORE_CREATOR
                                   "]: Invalid value: field is immutable");
        const char *labels[] = {CLUSTER_PATH,
                                "metadata.labels.kubesphere\\.io/namespace"};
        for (size_t i = 0; i < 2; i++)
            if (strcmp(text_at(obj, labels[i]), text_at(old, labels[i])))
                return appstore_refuse(
                    err, len, 422,
                    "metadata.labels[%s]: Invalid value: field is "
                    "immutable",
                    i ? NAMESPACE_LABEL : CLUSTER_LABEL);
    }
    if ((rc = check_version(r, obj, err, len)))
        return rc;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    if (!cJSON_IsObject(ann)) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "annotations");
        ann = cJSON_AddObjectToObject(meta, "annotations");
    }
    fg_json_set(ann, APPSTORE_CREATOR,
                old ? cJSON_CreateString(text_at(old, CREATOR_PATH))
                    : creator(who));
    if (!old) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
        cJSON *st = cJSON_AddObjectToObject(obj, "status");
        cJSON_AddStringToObject(st, "state", "creating");
    }
    if (!fg_json_path(obj, "metadata.deletionTimestamp"))
        set_finalizer(meta, 1);
    return 0;
}

/* ---- status ------------------------------------------------------------ */

static void set_status(struct rel *x, const char *state, const char *reason,
                       const char *message, int settled)
{
    struct appstore *a = x->r->a;
    const cJSON *cur = fg_objects_get(a->catalog.objects,
                                      kind(APPSTORE_RELEASES), NULL, x->name);
    if (!cur)
        return;
    cJSON *o = cJSON_Duplicate(cur, 1);
    cJSON *st = cJSON_CreateObject();
    char now[40];
    appstore_now_rfc3339(now);
    cJSON_AddStringToObject(st, "state", state);
    if (reason)
        cJSON_AddStringToObject(st, "reason", reason);
    if (message && *message)
        cJSON_AddStringToObject(st, "message", message);
    /* the revision on the member: this run's, else the last one known
     * (a run that failed before reading the member's records) */
    const cJSON *had = fg_json_path(cur, "status.version");
    if (x->version)
        cJSON_AddNumberToObject(st, "version", x->version);
    else if (cJSON_IsNumber(had))
        cJSON_AddNumberToObject(st, "version", had->valuedouble);
    cJSON_AddStringToObject(st, "updatedAt", now);
    const cJSON *gen = fg_json_path(x->obj, "metadata.generation");
    const cJSON *seen = fg_json_path(cur, "status.observedGeneration");
    if (settled && cJSON_IsNumber(gen))
        cJSON_AddNumberToObject(st, "observedGeneration", gen->valuedouble);
    else if (cJSON_IsNumber(seen))
        cJSON_AddNumberToObject(st, "observedGeneration", seen->valuedouble);
    fg_json_set(o, "status", st);
    char err[256];
    if (fg_objects_put(a->catalog.objects, kind(APPSTORE_RELEASES), o, err,
                       sizeof(err)) != 0)
        a->host->log(a->host, FG_LOG_WARN, "appstore: release %s: %s", x->name,
                     err);
}

/* What the fleet says of the member NAME. */
enum member {
    MEMBER_UNKNOWN, /* no fleet view (a core before ABI 2.4) */
    MEMBER_ABSENT,  /* not in the fleet */
    MEMBER_NOT_READY,
    MEMBER_READY,
};

static enum member member_state(const struct appstore_releases *r,
                                const char *name)
{
    if (!fg_fleet_view_members(r->fleet))
        return MEMBER_UNKNOWN;
    const cJSON *m = fg_fleet_view_member(r->fleet, name);
    if (!m)
        return MEMBER_ABSENT;
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "ready"))
               ? MEMBER_READY
               : MEMBER_NOT_READY;
}

/* ---- a run ------------------------------------------------------------- */

static void step(struct rel *x);
static void give_up(struct rel *x, const char *m);
static void tidy_start(struct rel *x, const char *failure);
static void run(void *arg);
static int unsettled(const cJSON *obj);

static void run_reset(struct rel *x)
{
    fg_member_ask_cancel(x->call);
    x->call = NULL;
    appstore_manifest_free(&x->want);
    appstore_manifest_free(&x->had);
    appstore_files_free(&x->templates);
    cJSON_Delete(x->chart);
    cJSON_Delete(x->discovery);
    cJSON_Delete(x->last);
    cJSON_Delete(x->secrets);
    appstore_creator_free(&x->creator);
    x->chart = x->discovery = x->last = x->secrets = NULL;
    x->r->a->host->timer_cancel(x->poll);
    free(x->tgz);
    x->tgz = NULL;
    cJSON_Delete(x->job);
    x->job = NULL;
    free(x->job_failure);
    x->job_failure = NULL;
    cJSON_Delete(x->tidy);
    x->tidy = NULL;
    free(x->outcome);
    x->outcome = NULL;
    x->helm = 0;
    for (size_t i = 0; i < x->n_gvs; i++)
        free(x->gvs[i]);
    x->n_gvs = 0;
    x->version = 0;
    x->i = 0;
}

static void rel_free(struct rel *x)
{
    run_reset(x);
    x->r->a->host->timer_free(x->timer);
    x->r->a->host->timer_free(x->poll);
    cJSON_Delete(x->obj);
    free(x->name);
    free(x);
}

static void forget(struct rel *x)
{
    for (struct rel **p = &x->r->rels; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            break;
        }
    rel_free(x);
}

/* The run ended: settle, or run again when the release changed meanwhile. */
static void run_done(struct rel *x)
{
    x->running = 0;
    x->backoff_ms = 0;
    run_reset(x);
    if (x->deleting && !x->again) {
        forget(x);
        return;
    }
    if (x->again) {
        x->again = 0;
        x->r->a->host->timer_arm(x->timer, 0);
    }
}

static void fail_run(struct rel *x, const char *message)
{
    struct appstore *a = x->r->a;
    a->host->log(a->host, FG_LOG_WARN, "appstore: release %s: %s", x->name,
                 message);
    set_status(x, "failed", NULL, message, 1);
    run_done(x);
}

/* The member could not be reached: keep the state, say why, try again. */
static void wait_member(struct rel *x, const char *message)
{
    const char *state =
        text_at(fg_objects_get(x->r->a->catalog.objects,
                               kind(APPSTORE_RELEASES), NULL, x->name),
                "status.state");
    set_status(x, *state ? state : "creating", WAITING, message, 0);
    x->running = 0;
    run_reset(x);
    x->backoff_ms = x->backoff_ms ? x->backoff_ms * 2 : 1000;
    if (x->backoff_ms > MAX_BACKOFF_MS)
        x->backoff_ms = MAX_BACKOFF_MS;
    x->r->a->host->timer_arm(x->timer, x->backoff_ms);
}

void appstore_answer_message(int status, const char *body, char *out,
                             size_t cap)
{
    cJSON *j = cJSON_Parse(body);
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "message"));
    snprintf(out, cap, "%s", m ? m : body);
    if (!*out)
        snprintf(out, cap, "the member answered %d", status);
    cJSON_Delete(j);
}

struct fg_member_ask *appstore_ask(const struct fg_host *h, const char *cluster,
                                   const struct fg_identity *who,
                                   struct fg_member_ask_request req,
                                   fg_member_ask_done done, void *arg)
{
    req.max_answer = APPSTORE_MAX_MEMBER_ANSWER;
    return fg_member_ask_start(h, cluster, who, &req, done, arg);
}

static void answered(void *arg, int status, const char *body, size_t len);

static void call(struct rel *x, const char *method, const char *path,
                 const char *query, const char *type, const char *body,
                 size_t len)
{
    const struct fg_host *h = x->r->a->host;
    struct fg_member_ask_request req = {.method = method,
                                        .path = path,
                                        .query = query,
                                        .content_type = type,
                                        .body = body,
                                        .body_len = len};
    x->call = appstore_ask(h, x->cluster, &x->creator.who, req, answered, x);
    if (!x->call)
        fail_run(x, "out of memory");
}

int appstore_creator_read(const cJSON *release, struct appstore_creator *c)
{
    *c = (struct appstore_creator){0};
    c->doc = cJSON_Parse(text_at(release, CREATOR_PATH));
    const char *user =
        cJSON_GetStringValue(cJSON_GetObjectItem(c->doc, "user"));
    const cJSON *groups = cJSON_GetObjectItem(c->doc, "groups");
    int n = cJSON_IsArray(groups) ? cJSON_GetArraySize(groups) : 0;
    if (!user || !(c->groups = calloc((size_t)n + 1, sizeof(char *)))) {
        appstore_creator_free(c);
        return -1;
    }
    for (int i = 0; i < n; i++)
        c->groups[i] = cJSON_GetStringValue(cJSON_GetArrayItem(groups, i));
    c->who = (struct fg_identity){
        .user = user, .groups = c->groups, .n_groups = (size_t)n};
    return 0;
}

void appstore_creator_free(struct appstore_creator *c)
{
    cJSON_Delete(c->doc);
    free(c->groups);
    *c = (struct appstore_creator){0};
}

/* The identity the creator annotation records. */
static int load_creator(struct rel *x)
{
    x->secrets = cJSON_CreateArray();
    return x->secrets && appstore_creator_read(x->obj, &x->creator) == 0 ? 0
                                                                         : -1;
}

static void add_gv(struct rel *x, const char *gv)
{
    for (size_t i = 0; i < x->n_gvs; i++)
        if (strcmp(x->gvs[i], gv) == 0)
            return;
    char *s = strdup(gv);
    if (s)
        x->gvs[x->n_gvs++] = s;
}

static void release_finalizer(struct rel *x);

/* The release's member is not in the fleet: a deleted release has nothing
 * left to uninstall; any other shows why it cannot be installed until a
 * member of that name joins (fleet_moved runs it again then). */
static void member_gone(struct rel *x)
{
    struct appstore *a = x->r->a;
    if (x->deleting) {
        a->host->log(a->host, FG_LOG_INFO,
                     "appstore: release %s: deleted without uninstall: the "
                     "member cluster \"%s\" is not in the fleet",
                     x->name, x->cluster);
        release_finalizer(x);
    } else if (strcmp(text_at(x->obj, "status.state"), CLUSTER_DELETED) != 0) {
        char m[300];
        snprintf(m, sizeof(m),
                 "the member cluster \"%s\" is not in the fleet: the release "
                 "is installed again when a member of that name joins",
                 x->cluster);
        set_status(x, CLUSTER_DELETED, NULL, m, 1);
    }
    run_done(x);
}

/* Starts a run for the release as it is now (or as it was, when gone). */
static void run(void *arg)
{
    struct rel *x = arg;
    struct appstore *a = x->r->a;
    if (x->running) {
        x->again = 1;
        return;
    }
    const cJSON *cur = fg_objects_get(a->catalog.objects,
                                      kind(APPSTORE_RELEASES), NULL, x->name);
    if (!cur) {
        forget(x);
        return;
    }
    int absent =
        member_state(x->r, text_at(cur, CLUSTER_PATH)) == MEMBER_ABSENT;
    int shown_gone = strcmp(text_at(cur, "status.state"), CLUSTER_DELETED) == 0;
    /* settled since it was asked for, and clusterDeleted exactly when its
     * member is gone */
    if (!x->deleting && !unsettled(cur) && absent == shown_gone)
        return;
    cJSON_Delete(x->obj);
    x->obj = cJSON_Duplicate(cur, 1);
    x->running = 1;
    x->cluster = text_at(x->obj, CLUSTER_PATH);
    x->ns = text_at(x->obj, "metadata.labels.kubesphere\\.io/namespace");
    if (absent) {
        member_gone(x);
        return;
    }
    if (load_creator(x) < 0) {
        fail_run(x, "the release has no creator annotation");
        return;
    }
    x->phase = P_NS_GET;
    if (!x->deleting) {
        char err[512];
        const cJSON *v =
            fg_objects_get(a->catalog.objects, kind(APPSTORE_VERSIONS), NULL,
                           text_at(x->obj, "spec.appVersionID"));
        int plain =
            v ? load_package(a, v, &x->templates, &x->chart, err, sizeof(err))
              : -1;
        if (!v)
            snprintf(err, sizeof(err), "the version %s is gone",
                     text_at(x->obj, "spec.appVersionID"));
        if (plain == 0) {
            x->helm = 1;
            x->tgz = appstore_store_blob(a->store, text_at(v, "spec.digest"),
                                         &x->tgz_len, err, sizeof(err));
        }
        if (plain < 0 || (plain == 0 && !x->tgz) ||
            (plain == 1 &&
             plain_manifest(&x->templates, text_at(x->chart, "name"), &x->want,
                            err, sizeof(err)) < 0)) {
            fail_run(x, err);
            return;
        }
        /* a member that joined again has nothing of it yet */
        const char *state = text_at(x->obj, "status.state");
        x->state = strcmp(state, "creating") == 0 ||
                           strcmp(state, CLUSTER_DELETED) == 0 || !*state
                       ? "creating"
                       : "upgrading";
        set_status(x, x->state, NULL, NULL, 0);
    } else {
        x->phase = P_LIST;
        x->helm = strcmp(text_at(x->obj, "spec.appType"), "helm") == 0;
        x->state = "deleting";
        set_status(x, x->state, NULL, NULL, 0);
    }
    step(x);
}

/* ---- the steps --------------------------------------------------------- */

/* Uninstalled: the release may go (fg_objects_put removes it once its
 * finalizers are all gone). */
static void release_finalizer(struct rel *x)
{
    struct appstore *a = x->r->a;
    const cJSON *cur = fg_objects_get(a->catalog.objects,
                                      kind(APPSTORE_RELEASES), NULL, x->name);
    if (!cur)
        return;
    cJSON *o = cJSON_Duplicate(cur, 1);
    char err[256];
    set_finalizer(cJSON_GetObjectItemCaseSensitive(o, "metadata"), 0);
    if (fg_objects_put(a->catalog.objects, kind(APPSTORE_RELEASES), o, err,
                       sizeof(err)) != 0)
        a->host->log(a->host, FG_LOG_WARN, "appstore: release %s: %s", x->name,
                     err);
}

/* The resource of D from discovery: its path on the member into OUT. */
static int resource_path(struct rel *x, const struct appstore_doc *d, char *out,
                         size_t cap)
{
    return appstore_doc_path(x->discovery, d, x->ns, out, cap);
}

static void next_phase(struct rel *x, enum phase p)
{
    x->phase = p;
    x->i = 0;
    step(x);
}

/* The member's release Secrets: the newest revision, what it made. */
static void read_secrets(struct rel *x, const char *body)
{
    cJSON *list = cJSON_Parse(body);
    const cJSON *item;
    const cJSON *newest = NULL;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(list, "items"))
    {
        int v = atoi(text_at(item, "metadata.labels.version"));
        cJSON_AddItemToArray(
            x->secrets, cJSON_CreateString(text_at(item, "metadata.name")));
        if (v > x->version) {
            x->version = v;
            newest = item;
        }
    }
    if (newest) {
        x->last =
            appstore_helm_secret_release(newest, APPSTORE_MAX_RELEASE_JSON);
        const char *manifest = text_at(x->last, "manifest");
        char err[256];
        if (x->last &&
            appstore_manifest_read(&x->had, manifest, strlen(manifest), err,
                                   sizeof(err)) < 0)
            appstore_manifest_free(&x->had);
    }
    cJSON_Delete(list);
    for (size_t i = 0; i < x->want.n; i++)
        add_gv(x, x->want.v[i].api_version);
    for (size_t i = 0; i < x->had.n; i++)
        add_gv(x, x->had.v[i].api_version);
}

/* The Secret of revision VERSION with STATUS, applied. */
static void write_record(struct rel *x, const cJSON *release)
{
    cJSON *secret = appstore_helm_secret(release);
    char *body = secret ? cJSON_PrintUnformatted(secret) : NULL;
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", x->ns,
             text_at(secret, "metadata.name"));
    cJSON_Delete(secret);
    if (!body) {
        fail_run(x, "out of memory");
        return;
    }
    call(x, "PATCH", path, FIELD_MANAGER, APPLY_TYPE, body, strlen(body));
    free(body);
}

/* The Job's objects for this run, once the member's revision is known. */
static int build_job(struct rel *x)
{
    struct appstore *a = x->r->a;
    x->revision = x->deleting ? x->version : x->version + 1;
    struct appstore_job_in in = {
        .name = x->name,
        .ns = x->ns,
        .revision = x->revision,
        .uninstall = x->deleting,
        .chart = text_at(x->chart, "name"),
        .who = &x->creator.who,
        .image = a->helm_image,
        .deadline_s = a->helm_deadline_s,
        .ttl_s = a->helm_ttl_s,
    };
    char err[300];
    x->job =
        appstore_job_objects(&in, x->tgz, x->tgz_len,
                             text_at(x->obj, "spec.values"), err, sizeof(err));
    if (!x->job) {
        fail_run(x, err);
        return -1;
    }
    appstore_job_name(&in, x->job_name, sizeof(x->job_name));
    return 0;
}

/* The Job has not finished: look again later. */
static void poll_later(struct rel *x)
{
    x->phase = P_JOB_RECORD;
    x->r->a->host->timer_arm(x->poll, x->r->a->helm_poll_ms);
}

static void poll_fired(void *arg)
{
    step(arg);
}

/* METHOD on this run's Job. */
static void job_call(struct rel *x, const char *method, const char *query)
{
    char path[300];
    snprintf(path, sizeof(path),
             "/apis/batch/v1/namespaces/" APPSTORE_JOB_NS "/jobs/%s",
             x->job_name);
    call(x, method, path, query, NULL, NULL, 0);
}

/* The release's Secrets (Helm's labels owner=helm, name=NAME). */
static void list_secrets(struct rel *x)
{
    char path[300], q[400];
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets", x->ns);
    snprintf(q, sizeof(q), "labelSelector=owner%%3Dhelm%%2Cname%%3D%s",
             x->name);
    call(x, "GET", path, q, NULL, NULL, 0);
}

static void ns_get(struct rel *x, const char *ns)
{
    char path[300];
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s", ns);
    call(x, "GET", path, NULL, NULL, NULL, 0);
}

static void ns_create(struct rel *x, const char *ns)
{
    char body[200];
    int n = snprintf(body, sizeof(body),
                     "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                     "\"metadata\":{\"name\":\"%s\"}}",
                     ns);
    call(x, "POST", "/api/v1/namespaces", NULL, "application/json", body,
         (size_t)n);
}

static void step(struct rel *x)
{
    char path[1024];
    switch (x->phase) {
    case P_NS_GET:
        ns_get(x, x->ns);
        return;
    case P_NS_CREATE:
        ns_create(x, x->ns);
        return;
    case P_SYS_GET:
        ns_get(x, APPSTORE_JOB_NS);
        return;
    case P_SYS_CREATE:
        ns_create(x, APPSTORE_JOB_NS);
        return;
    case P_JOB_CLEAR:
        /* a Job of this revision left by an earlier run (one that failed,
         * or was cut short) would keep its old spec and outcome */
        job_call(x, "DELETE", "propagationPolicy=Background");
        return;
    case P_JOB_APPLY: {
        const cJSON *e = cJSON_GetArrayItem(x->job, (int)x->i);
        if (!e) {
            char m[200];
            snprintf(m, sizeof(m), "the Helm Job %s/%s runs", APPSTORE_JOB_NS,
                     x->job_name);
            set_status(x, x->state, NULL, m, 0);
            next_phase(x, P_JOB_RECORD);
            return;
        }
        char *body = cJSON_PrintUnformatted(cJSON_GetObjectItem(e, "object"));
        if (!body) {
            fail_run(x, "out of memory");
            return;
        }
        call(x, "PATCH", text_at(e, "path"), FIELD_MANAGER, APPLY_TYPE, body,
             strlen(body));
        free(body);
        return;
    }
    case P_JOB_RECORD:
        /* what Helm recorded: the revision the Job makes, or whether any
         * is left after an uninstall */
        if (x->deleting) {
            list_secrets(x);
            return;
        }
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/%s/secrets/sh.helm.release.v1.%s.v%d",
                 x->ns, x->name, x->revision);
        call(x, "GET", path, NULL, NULL, NULL, 0);
        return;
    case P_JOB_STATUS:
        job_call(x, "GET", NULL);
        return;
    case P_JOB_PODS: {
        char q[200];
        snprintf(q, sizeof(q), "labelSelector=job-name%%3D%s", x->job_name);
        call(x, "GET", "/api/v1/namespaces/" APPSTORE_JOB_NS "/pods", q, NULL,
             NULL, 0);
        return;
    }
    case P_JOB_LOG:
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/" APPSTORE_JOB_NS "/pods/%s/log",
                 x->job_pod);
        call(x, "GET", path, JOB_LOG_QUERY, NULL, NULL, 0);
        return;
    case P_LIST:
        list_secrets(x);
        return;
    case P_DISCOVER:
        if (x->i == x->n_gvs) {
            next_phase(x, x->deleting ? P_PRUNE : P_APPLY);
            return;
        }
        snprintf(path, sizeof(path), "%s%s",
                 strchr(x->gvs[x->i], '/') ? "/apis/" : "/api/", x->gvs[x->i]);
        call(x, "GET", path, NULL, NULL, NULL, 0);
        return;
    case P_APPLY: {
        if (x->i == x->want.n) {
            next_phase(x, P_PRUNE);
            return;
        }
        const struct appstore_doc *d = &x->want.v[x->i];
        if (resource_path(x, d, path, sizeof(path)) < 0) {
            char m[400];
            snprintf(m, sizeof(m), "%s: the member serves no kind %s in %s",
                     d->source, d->kind, d->api_version);
            fail_run(x, m);
            return;
        }
        call(x, "PATCH", path, FIELD_MANAGER, APPLY_TYPE, d->text, d->len);
        return;
    }
    case P_PRUNE:
        /* what the last revision made and this one does not (all of it
         * when uninstalling); kinds the member no longer serves are gone */
        while (x->i < x->had.n &&
               ((!x->deleting &&
                 appstore_manifest_has(&x->want, &x->had.v[x->i])) ||
                resource_path(x, &x->had.v[x->i], path, sizeof(path)) < 0))
            x->i++;
        if (x->i == x->had.n) {
            next_phase(x, x->deleting ? P_FORGET : P_WRITE);
            return;
        }
        call(x, "DELETE", path, NULL, NULL, NULL, 0);
        return;
    case P_WRITE: {
        char now[40];
        appstore_now_rfc3339(now);
        size_t len;
        char *manifest = appstore_manifest_text(&x->want, &len);
        struct appstore_helm_info in = {
            .name = x->name,
            .ns = x->ns,
            .version = x->version + 1,
            .status = "deployed",
            .first_deployed =
                x->last ? text_at(x->last, "info.first_deployed") : now,
            .last_deployed = now,
            .description = x->last ? "Upgrade complete" : "Install complete",
            .chart = x->chart,
            .templates = &x->templates,
            .manifest = manifest ? manifest : "",
        };
        cJSON *rel = manifest ? appstore_helm_release(&in) : NULL;
        free(manifest);
        if (!rel) {
            fail_run(x, "out of memory");
            return;
        }
        write_record(x, rel);
        cJSON_Delete(rel);
        return;
    }
    case P_SUPERSEDE:
        if (!x->last ||
            strcmp(text_at(x->last, "info.status"), "deployed") != 0) {
            next_phase(x, P_DONE);
            return;
        }
        fg_json_set(cJSON_GetObjectItem(x->last, "info"), "status",
                    cJSON_CreateString("superseded"));
        write_record(x, x->last);
        return;
    case P_FORGET: {
        const cJSON *names = x->secrets;
        if (x->i >= (size_t)cJSON_GetArraySize(names)) {
            next_phase(x, P_DONE);
            return;
        }
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", x->ns,
                 cJSON_GetStringValue(cJSON_GetArrayItem(names, (int)x->i)));
        call(x, "DELETE", path, NULL, NULL, NULL, 0);
        return;
    }
    case P_TIDY_JOBS:
    case P_TIDY_SECRETS: {
        char q[400];
        snprintf(q, sizeof(q),
                 "labelSelector=" APPSTORE_JOB_RELEASE_LABEL "%%3D%s", x->name);
        call(x, "GET", x->phase == P_TIDY_JOBS ? JOBS_PATH : SECRETS_PATH, q,
             NULL, NULL, 0);
        return;
    }
    case P_TIDY:
        if (x->i < (size_t)cJSON_GetArraySize(x->tidy)) {
            call(x, "DELETE",
                 cJSON_GetStringValue(cJSON_GetArrayItem(x->tidy, (int)x->i)),
                 "propagationPolicy=Background", NULL, NULL, 0);
        } else if (x->outcome) {
            give_up(x, x->outcome);
        } else {
            next_phase(x, P_DONE);
        }
        return;
    case P_DONE:
        if (x->helm && x->job && !x->tidy) {
            tidy_start(x, NULL);
            return;
        }
        if (!x->deleting) {
            x->version = x->helm ? x->revision : x->version + 1;
            set_status(x, "active", NULL, NULL, 1);
        } else {
            release_finalizer(x);
        }
        run_done(x);
        return;
    }
}

/* A Helm run ended (FAILURE: why, or NULL when it did what it should): the
 * member keeps nothing of it but the Job (for its log, until its TTL)
 * after an install or upgrade, nothing at all after an uninstall. */
static void tidy_start(struct rel *x, const char *failure)
{
    x->tidy = cJSON_CreateArray();
    x->outcome = failure ? strdup(failure) : NULL;
    if (!x->tidy || (failure && !x->outcome)) {
        cJSON_Delete(x->tidy);
        x->tidy = NULL;
        fail_run(x, "out of memory");
        return;
    }
    if (!x->deleting) {
        char path[300];
        snprintf(path, sizeof(path), SECRETS_PATH "/%s", x->job_name);
        cJSON_AddItemToArray(x->tidy, cJSON_CreateString(path));
        next_phase(x, P_TIDY);
        return;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, x->job)
    {
        cJSON_AddItemToArray(x->tidy, cJSON_CreateString(text_at(e, "path")));
    }
    next_phase(x, P_TIDY_JOBS);
}

/* Everything the release's label marks in fedgate-system, from the list
 * BODY of objects under PREFIX. */
static void tidy_listed(struct rel *x, const char *body, const char *prefix)
{
    cJSON *list = cJSON_Parse(body);
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(list, "items"))
    {
        char path[400];
        snprintf(path, sizeof(path), "%s/%s", prefix,
                 text_at(item, "metadata.name"));
        cJSON_AddItemToArray(x->tidy, cJSON_CreateString(path));
    }
    cJSON_Delete(list);
}

/* An answer while tidying: what cannot be removed stays (a warning says
 * so); it never holds the release's outcome back. */
static void tidy_answered(struct rel *x, int status, const char *body,
                          const char *m)
{
    if ((status < 200 || status >= 300) && status != 404) {
        char what[400];
        snprintf(what, sizeof(what), "%s",
                 x->phase == P_TIDY ? cJSON_GetStringValue(cJSON_GetArrayItem(
                                          x->tidy, (int)x->i))
                                    : "the list of its Helm objects");
        x->r->a->host->log(x->r->a->host, FG_LOG_WARN,
                           "appstore: release %s: cannot remove %s from the "
                           "member cluster \"%s\": %s",
                           x->name, what, x->cluster, m);
    }
    int ok = status >= 200 && status < 300;
    switch (x->phase) {
    case P_TIDY_JOBS:
        if (ok)
            tidy_listed(x, body, JOBS_PATH);
        next_phase(x, P_TIDY_SECRETS);
        return;
    case P_TIDY_SECRETS:
        if (ok)
            tidy_listed(x, body, SECRETS_PATH);
        next_phase(x, P_TIDY);
        return;
    default:
        x->i++;
        step(x);
        return;
    }
}

/* The run cannot go on: a deleted release keeps its finalizer and shows
 * why it cannot go (a user may still remove the finalizer, as in
 * Kubernetes). */
static void give_up(struct rel *x, const char *m)
{
    if (x->helm && x->job && !x->deleting && !x->tidy) {
        tidy_start(x, m);
        return;
    }
    if (x->deleting) {
        char why[6200]; /* a Job's log may follow its message */
        snprintf(why, sizeof(why), "uninstall: %s", m);
        x->again = 0;
        fail_run(x, why);
        return;
    }
    fail_run(x, m);
}

/* What Helm recorded (STATUS 200 or 404, BODY): the revision the Job makes
 * deployed, failed, or not yet; for an uninstall, whether any is left. */
static void record_read(struct rel *x, int status, const char *body)
{
    cJSON *doc = status == 404 ? NULL : cJSON_Parse(body);
    if (x->deleting) {
        int left = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items"));
        cJSON_Delete(doc);
        next_phase(x, left ? P_JOB_STATUS : P_DONE);
        return;
    }
    cJSON *rel = appstore_helm_secret_release(doc, APPSTORE_MAX_RELEASE_JSON);
    cJSON_Delete(doc);
    const char *st = text_at(rel, "info.status");
    char m[600];
    snprintf(m, sizeof(m), "helm: %s", text_at(rel, "info.description"));
    int deployed = strcmp(st, "deployed") == 0;
    int failed = strcmp(st, "failed") == 0;
    cJSON_Delete(rel);
    if (deployed)
        next_phase(x, P_DONE);
    else if (failed)
        give_up(x, m);
    else
        next_phase(x, P_JOB_STATUS);
}

/* The Job (STATUS 200 or 404, BODY): failed, finished without the record
 * it should have left, or still running. */
static void job_read(struct rel *x, int status, const char *body)
{
    char m[800];
    if (status == 404) {
        snprintf(m, sizeof(m), "the Helm Job %s/%s is gone", APPSTORE_JOB_NS,
                 x->job_name);
        give_up(x, m);
        return;
    }
    cJSON *job = cJSON_Parse(body);
    const cJSON *c;
    int done = 0, failed = 0;
    cJSON_ArrayForEach(c, fg_json_path(job, "status.conditions"))
    {
        const char *type = text_at(c, "type");
        if (strcmp(text_at(c, "status"), "True") != 0)
            continue;
        if (strcmp(type, "Failed") == 0) {
            snprintf(m, sizeof(m), "the Helm Job %s/%s failed: %s: %s",
                     APPSTORE_JOB_NS, x->job_name, text_at(c, "reason"),
                     text_at(c, "message"));
            done = failed = 1;
            break;
        }
        if (strcmp(type, "Complete") == 0) {
            snprintf(m, sizeof(m),
                     "the Helm Job %s/%s completed but Helm's release "
                     "records say otherwise",
                     APPSTORE_JOB_NS, x->job_name);
            done = 1;
        }
    }
    cJSON_Delete(job);
    if (!done) {
        poll_later(x);
    } else if (failed && (x->job_failure = strdup(m))) {
        next_phase(x, P_JOB_PODS); /* what Helm said, from its log */
    } else {
        give_up(x, m);
    }
}

/* The failed Job's pods (STATUS, BODY): the log of the first, when there is
 * one and the creator may read it; else the Job's condition alone. */
static void pods_read(struct rel *x, int status, const char *body)
{
    cJSON *list = status >= 200 && status < 300 ? cJSON_Parse(body) : NULL;
    const char *pod =
        text_at(cJSON_GetArrayItem(cJSON_GetObjectItem(list, "items"), 0),
                "metadata.name");
    int fits = strlen(pod) < sizeof(x->job_pod);
    snprintf(x->job_pod, sizeof(x->job_pod), "%s", pod);
    cJSON_Delete(list);
    if (x->job_pod[0] && fits)
        next_phase(x, P_JOB_LOG);
    else
        give_up(x, x->job_failure);
}

/* The end of the failed Job's log (STATUS, BODY) after its condition. */
static void log_read(struct rel *x, int status, const char *body)
{
    size_t n = strlen(body);
    while (n && (body[n - 1] == '\n' || body[n - 1] == '\r'))
        n--;
    char m[6000];
    if (status >= 200 && status < 300 && n)
        snprintf(m, sizeof(m), "%s; its log ends:\n%.*s", x->job_failure,
                 (int)n, body);
    else
        snprintf(m, sizeof(m), "%s", x->job_failure);
    give_up(x, m);
}

static void handle(struct rel *x, int status, const char *body)
{
    char m[512];
    appstore_answer_message(status, body, m, sizeof(m));
    if (x->phase == P_TIDY_JOBS || x->phase == P_TIDY_SECRETS ||
        x->phase == P_TIDY) {
        tidy_answered(x, status, body, m);
        return;
    }
    if (status == 502 || status == 503 || status == 504) {
        wait_member(x, m);
        return;
    }
    int ok = status >= 200 && status < 300;
    switch (x->phase) {
    case P_NS_GET:
        if (status == 404) {
            next_phase(x, P_NS_CREATE);
            return;
        }
        if (ok) {
            next_phase(x, P_LIST);
            return;
        }
        break;
    case P_NS_CREATE:
        if (ok || status == 409) {
            next_phase(x, P_LIST);
            return;
        }
        break;
    case P_LIST:
        if (ok || (x->deleting && status == 404)) {
            if (ok)
                read_secrets(x, body);
            if (!x->helm)
                next_phase(x, P_DISCOVER);
            else if (build_job(x) < 0)
                return;
            else if (x->deleting && !cJSON_GetArraySize(x->secrets))
                next_phase(x, P_DONE); /* Helm has nothing to uninstall */
            else
                next_phase(x, P_SYS_GET);
            return;
        }
        break;
    case P_SYS_GET:
        if (ok || status == 404) {
            next_phase(x, ok ? P_JOB_CLEAR : P_SYS_CREATE);
            return;
        }
        break;
    case P_SYS_CREATE:
    case P_JOB_CLEAR:
        if (ok || status == (x->phase == P_SYS_CREATE ? 409 : 404)) {
            next_phase(x, x->phase == P_SYS_CREATE ? P_JOB_CLEAR : P_JOB_APPLY);
            return;
        }
        break;
    case P_JOB_APPLY:
        if (ok) {
            x->i++;
            step(x);
            return;
        }
        break;
    case P_JOB_RECORD:
        if (ok || status == 404) {
            record_read(x, status, body);
            return;
        }
        break;
    case P_JOB_STATUS:
        if (ok || status == 404) {
            job_read(x, status, body);
            return;
        }
        break;
    case P_JOB_PODS:
        pods_read(x, status, body);
        return;
    case P_JOB_LOG:
        log_read(x, status, body);
        return;
    case P_DISCOVER:
        if (ok) {
            cJSON *list = cJSON_Parse(body);
            if (!x->discovery)
                x->discovery = cJSON_CreateObject();
            if (list)
                cJSON_AddItemToObject(x->discovery, x->gvs[x->i], list);
        }
        if (ok || status == 404) { /* a kind the member does not serve */
            x->i++;
            step(x);
            return;
        }
        break;
    case P_APPLY:
    case P_PRUNE:
    case P_FORGET:
        if (ok || (x->phase != P_APPLY && status == 404)) {
            x->i++;
            step(x);
            return;
        }
        break;
    case P_WRITE:
        if (ok) {
            next_phase(x, P_SUPERSEDE);
            return;
        }
        break;
    case P_SUPERSEDE:
        if (ok) {
            next_phase(x, P_DONE);
            return;
        }
        break;
    case P_TIDY_JOBS: /* tidy_answered took these */
    case P_TIDY_SECRETS:
    case P_TIDY:
    case P_DONE:
        break;
    }
    if (x->deleting && status == 403 &&
        !fg_json_path(x->obj, "status.version")) {
        /* no revision was ever recorded and the creator may not even
         * look: nothing to uninstall that the creator could name */
        x->r->a->host->log(x->r->a->host, FG_LOG_WARN,
                           "appstore: release %s: deleted without uninstall "
                           "(none was installed): %s",
                           x->name, m);
        release_finalizer(x);
        run_done(x);
        return;
    }
    give_up(x, m);
}

/* The answer lives in the ask, freed when this returns (after the next
 * step began). */
static void answered(void *arg, int status, const char *body, size_t len)
{
    (void)len;
    struct rel *x = arg;
    x->call = NULL;
    handle(x, status, body);
}

/* ---- the controller ---------------------------------------------------- */

static struct rel *find_rel(struct appstore_releases *r, const char *name);

static struct rel *rel_of(struct appstore_releases *r, const char *name)
{
    struct rel *x = find_rel(r, name);
    if (x)
        return x;
    x = calloc(1, sizeof(*x));
    if (!x || !(x->name = strdup(name)) ||
        !(x->timer = r->a->host->timer_new(r->a->host, run, x)) ||
        !(x->poll = r->a->host->timer_new(r->a->host, poll_fired, x))) {
        if (x) {
            if (x->timer)
                r->a->host->timer_free(x->timer);
            free(x->name);
        }
        free(x);
        return NULL;
    }
    x->r = r;
    x->next = r->rels;
    r->rels = x;
    return x;
}

/* Whether OBJ asks for a run: a generation not yet settled. */
static int unsettled(const cJSON *obj)
{
    const cJSON *gen = fg_json_path(obj, "metadata.generation");
    const cJSON *seen = fg_json_path(obj, "status.observedGeneration");
    return !cJSON_IsNumber(seen) || !cJSON_IsNumber(gen) ||
           seen->valuedouble != gen->valuedouble;
}

static void changed(void *arg, const struct fg_object_kind *k,
                    enum fg_object_event ev, const cJSON *obj)
{
    (void)k;
    struct appstore_releases *r = arg;
    const char *name = text_at(obj, "metadata.name");
    if (ev == FG_OBJECT_DELETED) {
        /* its finalizer went: the uninstall that removed it ends itself;
         * one removed by a user leaves the member as it is */
        for (struct rel *x = r->rels; x; x = x->next)
            if (strcmp(x->name, name) == 0 && !x->running) {
                forget(x);
                break;
            }
        return;
    }
    int deleting = fg_json_path(obj, "metadata.deletionTimestamp") != NULL;
    if (!deleting && !unsettled(obj))
        return;
    struct rel *x = rel_of(r, name);
    const cJSON *gen = fg_json_path(obj, "metadata.generation");
    const cJSON *was = x ? fg_json_path(x->obj, "metadata.generation") : NULL;
    if (!x) {
        r->a->host->log(r->a->host, FG_LOG_ERROR,
                        "appstore: release %s: out of memory", name);
        return;
    }
    if (deleting) {
        /* uninstall what the release made, from the member's records */
        if (x->deleting)
            return; /* under way */
        if (x->running) {
            run_reset(x);
            x->running = 0;
        }
        x->deleting = 1;
        x->again = 0;
        x->backoff_ms = 0;
    } else if ((x->running || x->backoff_ms) && cJSON_IsNumber(gen) &&
               cJSON_IsNumber(was) && gen->valuedouble == was->valuedouble) {
        return; /* the run's own status, or a retry already armed */
    } else if (x->running) {
        x->again = 1; /* a new generation: run again after this run */
        return;
    }
    r->a->host->timer_arm(x->timer, 0);
}

/* Runs the release OBJ again now, whatever its run was doing: its member
 * left the fleet or joined it again. */
static void kick(struct appstore_releases *r, struct rel *x, const cJSON *obj)
{
    const char *name = text_at(obj, "metadata.name");
    if (!x && !(x = rel_of(r, name))) {
        r->a->host->log(r->a->host, FG_LOG_ERROR,
                        "appstore: release %s: out of memory", name);
        return;
    }
    if (x->running) {
        run_reset(x);
        x->running = 0;
    }
    if (fg_json_path(obj, "metadata.deletionTimestamp"))
        x->deleting = 1;
    x->again = 0;
    x->backoff_ms = 0;
    r->a->host->timer_arm(x->timer, 0);
}

static struct rel *find_rel(struct appstore_releases *r, const char *name)
{
    for (struct rel *x = r->rels; x; x = x->next)
        if (strcmp(x->name, name) == 0)
            return x;
    return NULL;
}

/* What a change of the fleet means for the release OBJ: a member gone
 * makes it clusterDeleted (a deleted one goes), a member back installs it
 * again, a member ready again ends its wait at once rather than at its
 * next retry. */
static int fleet_one(void *arg, const cJSON *obj)
{
    struct appstore_releases *r = arg;
    const char *cluster = text_at(obj, CLUSTER_PATH);
    enum member m = member_state(r, cluster);
    int shown_gone = strcmp(text_at(obj, "status.state"), CLUSTER_DELETED) == 0;
    int deleting = fg_json_path(obj, "metadata.deletionTimestamp") != NULL;
    struct rel *x = find_rel(r, text_at(obj, "metadata.name"));
    if (m == MEMBER_ABSENT ? !shown_gone || deleting
                           : shown_gone && m != MEMBER_UNKNOWN) {
        kick(r, x, obj);
    } else if (m == MEMBER_READY && x && !x->running && x->backoff_ms) {
        r->a->host->log(r->a->host, FG_LOG_INFO,
                        "appstore: release %s: the member cluster \"%s\" is "
                        "ready: trying again now",
                        x->name, cluster);
        x->backoff_ms = 0;
        r->a->host->timer_arm(x->timer, 0);
    }
    return 0;
}

static void fleet_moved(void *arg)
{
    struct appstore_releases *r = arg;
    fg_objects_each(r->a->catalog.objects, kind(APPSTORE_RELEASES), fleet_one,
                    r);
}

static int each_unsettled(void *arg, const cJSON *obj)
{
    if (unsettled(obj) || fg_json_path(obj, "metadata.deletionTimestamp"))
        changed(arg, NULL, FG_OBJECT_MODIFIED, obj);
    return 0;
}

struct appstore_releases *appstore_releases_new(struct appstore *a)
{
    struct appstore_releases *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->a = a;
    if (!(r->fleet = fg_fleet_view_new(a->host, 0, fleet_moved, r))) {
        free(r);
        return NULL;
    }
    a->catalog.releases = (struct fg_object_hooks){admit, changed, r};
    fg_objects_each(a->catalog.objects, kind(APPSTORE_RELEASES), each_unsettled,
                    r);
    fleet_moved(r); /* members that left or joined while it was down */
    return r;
}

void appstore_releases_free(struct appstore_releases *r)
{
    if (!r)
        return;
    r->a->catalog.releases = (struct fg_object_hooks){0};
    while (r->rels) {
        struct rel *x = r->rels;
        r->rels = x->next;
        rel_free(x);
    }
    fg_fleet_view_free(r->fleet);
    free(r);
}
