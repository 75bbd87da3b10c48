/* The reconciler (federation.h): one queue of objects to look at, at most
 * max_running jobs at once, each walking its object's clusters one call at
 * a time: GET the member object (is it ours?), server-side apply the
 * desired object as the last spec writer (creating a missing namespace),
 * or DELETE it from a cluster the placement dropped; then the status,
 * written only when it changed. A full resync queues every object each
 * resync interval, with jitter so that many hosts do not pulse together. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <fedgate/member_ask.h>
#include <fedgate/util.h>

#include "placement.h"
#include "rsp.h"
#include "watch.h"
#include "desired.h"
#include "federation.h"

/* The largest member status kept in status.clusters[].remoteStatus. */
#define MAX_REMOTE_STATUS 4096
#define MAX_CLUSTERS 1000

struct fed_key {
    struct fed_key *next;
    size_t kind; /* index in fed_kinds */
    char *ns, *name;
    cJSON *gone; /* a deleted object's last state: clean its clusters */
};

enum step { STEP_GET, STEP_APPLY, STEP_NAMESPACE, STEP_DELETE };

struct cluster {
    char *name;
    int remove;         /* dropped from placement: delete it there */
    const char *reason; /* NULL: propagated; else KubeFed's reason */
    char message[512];
    cJSON *remote; /* the member object's status */
    int existed, made_namespace;
    int skip;       /* nothing to do there (a removal from a member now gone) */
    long want;      /* replicas asked for (workloads) */
    long scheduled; /* replicas by a scheduling preference, or -1 */
};

struct fed_job {
    struct fed_job *next;
    struct federation *f;
    struct fed_key *key;
    cJSON *obj; /* the federated object when the job started */
    const struct fed_target *t;
    char owner[400];
    struct fg_identity who;
    cJSON *writer; /* the parsed writer annotation WHO points into */
    const char **groups;
    struct cluster *clusters;
    size_t n, cap, at;
    char placement_error[256]; /* the placement could not be computed */
    int deleting;              /* deletionTimestamp: remove it everywhere */
    enum step step;
    struct fg_member_ask *call;
    char path[600];
    int again; /* the object changed while the job ran */
};

static void job_next(struct fed_job *j);

static void key_free(struct fed_key *k)
{
    if (!k)
        return;
    free(k->ns);
    free(k->name);
    cJSON_Delete(k->gone);
    free(k);
}

static int same_key(const struct fed_key *k, size_t kind, const char *ns,
                    const char *name)
{
    return !k->gone && k->kind == kind && strcmp(k->ns, ns) == 0 &&
           strcmp(k->name, name) == 0;
}

/* Queues K/NS/NAME, or GONE (a deleted object's last state, taken). */
static void enqueue(struct federation *f, const struct fg_object_kind *k,
                    const char *ns, const char *name, cJSON *gone)
{
    size_t kind = fed_kind_index(k);
    for (struct fed_job *j = f->jobs; j && !gone; j = j->next)
        if (same_key(j->key, kind, ns, name)) {
            j->again = 1;
            return;
        }
    struct fed_key **tail = &f->queue;
    for (; *tail; tail = &(*tail)->next)
        if (!gone && same_key(*tail, kind, ns, name))
            return;
    struct fed_key *key = calloc(1, sizeof(*key));
    if (!key || !(key->ns = strdup(ns)) || !(key->name = strdup(name))) {
        key_free(key);
        cJSON_Delete(gone);
        f->host->log(f->host, FG_LOG_ERROR, "out of memory queueing %s/%s", ns,
                     name);
        return;
    }
    key->kind = kind;
    key->gone = gone;
    *tail = key;
    f->host->timer_arm(f->kick, 0);
}

void fed_enqueue(struct federation *f, const struct fg_object_kind *k,
                 const char *ns, const char *name)
{
    enqueue(f, k, ns ? ns : "", name, NULL);
}

static const char *text(const cJSON *obj, const char *path)
{
    const cJSON *v = fg_json_path(obj, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void now_rfc3339(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the clusters of a job ---------------------------------------------- */

static int add_cluster(struct fed_job *j, const char *name, int remove)
{
    for (size_t i = 0; i < j->n; i++)
        if (strcmp(j->clusters[i].name, name) == 0)
            return 0;
    if (j->n == MAX_CLUSTERS || !*name)
        return 0;
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 8;
        struct cluster *c = realloc(j->clusters, cap * sizeof(*c));
        if (!c)
            return -1;
        j->clusters = c;
        j->cap = cap;
    }
    struct cluster *c = &j->clusters[j->n];
    memset(c, 0, sizeof(*c));
    if (!(c->name = strdup(name)))
        return -1;
    c->remove = remove;
    c->want = -1;
    c->scheduled = -1;
    j->n++;
    return 0;
}

static int add_placed(void *arg, const char *name)
{
    return add_cluster(arg, name, 0);
}

static int add_removal(void *arg, const char *name)
{
    return add_cluster(arg, name, 1);
}

/* Placed clusters, then those the last status named that are placed no
 * more; when the object is being deleted, all of them are removals. A
 * cluster the fleet has not ready is not called; a removal from a member
 * the fleet no longer has is moot. */
static int plan(struct fed_job *j)
{
    const cJSON *members = fg_fleet_view_members(j->f->fleet);
    if (fed_placement(j->obj, members, j->deleting ? add_removal : add_placed,
                      j, j->placement_error,
                      sizeof(j->placement_error)) == -1 &&
        !*j->placement_error)
        return -1;
    if (*j->placement_error && !j->deleting)
        return 0; /* touch nothing until it can be read */
    const cJSON *c;
    cJSON_ArrayForEach(c, fg_json_path(j->obj, "status.clusters"))
    {
        if (add_cluster(j, text(c, "name"), 1) < 0)
            return -1;
    }
    for (size_t i = 0; members && i < j->n; i++) {
        struct cluster *cl = &j->clusters[i];
        const cJSON *m = fg_fleet_view_member(j->f->fleet, cl->name);
        if (m && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "ready")))
            continue;
        if (!m && cl->remove) {
            cl->skip = 1; /* the member is gone, and its watch with it */
            fed_watch_forget(j->f, cl->name, j->key->kind, j->owner);
            continue;
        }
        cl->reason = "ClusterNotReady";
        snprintf(cl->message, sizeof(cl->message),
                 m ? "the member cluster is not ready"
                   : "there is no member cluster of this name");
    }
    return 0;
}

/* The writer annotation as an identity; an object without one (made
 * before the service ran, or by fg_objects_put) is nobody's and fails. */
static int writer(struct fed_job *j)
{
    j->writer = cJSON_Parse(
        text(j->obj, "metadata.annotations.fedgate\\.io/last-spec-writer"));
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(j->writer, "user");
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(j->writer, "groups");
    if (!cJSON_IsString(user) || !*user->valuestring)
        return -1;
    int n = cJSON_GetArraySize(groups);
    j->groups = calloc((size_t)n + 1, sizeof(*j->groups));
    if (!j->groups)
        return -1;
    const cJSON *g;
    size_t i = 0;
    cJSON_ArrayForEach(g, groups)
    {
        if (cJSON_IsString(g))
            j->groups[i++] = g->valuestring;
    }
    j->who.user = user->valuestring;
    j->who.groups = j->groups;
    j->who.n_groups = i;
    return 0;
}

/* ---- status -------------------------------------------------------------- */

static cJSON *cluster_status(const struct cluster *c)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", c->name);
    if (c->reason) {
        cJSON_AddStringToObject(e, "status", c->reason);
        if (*c->message)
            cJSON_AddStringToObject(e, "message", c->message);
    }
    if (c->remote) {
        char *t = cJSON_PrintUnformatted(c->remote);
        if (t && strlen(t) <= MAX_REMOTE_STATUS)
            cJSON_AddItemToObject(e, "remoteStatus",
                                  cJSON_Duplicate(c->remote, 1));
        cJSON_free(t);
    }
    return e;
}

static const char *condition_time(const cJSON *old, const char *field,
                                  const char *status, const char *reason,
                                  const char *now)
{
    const cJSON *c = cJSON_GetArrayItem(fg_json_path(old, "conditions"), 0);
    if (strcmp(text(c, "status"), status) != 0 ||
        strcmp(text(c, "reason"), reason) != 0 || !*text(c, field))
        return now;
    return text(c, field);
}

/* The status the job found: what each cluster holds, the Propagation
 * condition (True when every placed cluster has the object and every
 * dropped one lost it), and the columns' figures. */
static cJSON *new_status(struct fed_job *j, const cJSON *old, const char *now)
{
    cJSON *st = cJSON_CreateObject();
    const cJSON *was = cJSON_GetObjectItemCaseSensitive(old, "clusters");
    cJSON *clusters = *j->placement_error && was ? cJSON_Duplicate(was, 1)
                                                 : cJSON_CreateArray();
    cJSON_AddItemToObject(st, "clusters", clusters);
    size_t placed = 0, ok = 0;
    long ready = 0, want = 0;
    const char *first = NULL;
    for (size_t i = 0; i < j->n; i++) {
        struct cluster *c = &j->clusters[i];
        if (c->remove && !c->reason)
            continue; /* gone from there, as asked, or moot */
        cJSON_AddItemToArray(clusters, cluster_status(c));
        if (c->reason && !first)
            first = c->reason;
        if (c->remove)
            continue;
        placed++;
        ok += !c->reason;
        if (c->want >= 0)
            want += c->want;
        const cJSON *r =
            cJSON_GetObjectItemCaseSensitive(c->remote, "readyReplicas");
        if (cJSON_IsNumber(r))
            ready += (long)r->valuedouble;
    }
    const char *status = first || *j->placement_error ? "False" : "True";
    const char *reason = *j->placement_error ? "ComputePlacementFailed"
                         : first             ? "CheckClusters"
                                             : "";
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    cJSON *cond = cJSON_CreateObject();
    cJSON_AddStringToObject(cond, "type", "Propagation");
    cJSON_AddStringToObject(cond, "status", status);
    if (*reason)
        cJSON_AddStringToObject(cond, "reason", reason);
    if (*j->placement_error)
        cJSON_AddStringToObject(cond, "message", j->placement_error);
    cJSON_AddStringToObject(
        cond, "lastTransitionTime",
        condition_time(old, "lastTransitionTime", status, reason, now));
    cJSON_AddItemToArray(conds, cond);
    char figure[48];
    snprintf(figure, sizeof(figure), "%zu/%zu", ok, placed);
    cJSON_AddStringToObject(st, "propagated", figure);
    if (j->t->workload) {
        snprintf(figure, sizeof(figure), "%ld/%ld", ready, want);
        cJSON_AddStringToObject(st, "ready", figure);
    }
    const cJSON *gen = fg_json_path(j->obj, "metadata.generation");
    if (cJSON_IsNumber(gen))
        cJSON_AddNumberToObject(st, "observedGeneration", gen->valuedouble);
    return st;
}

static int failed(const struct fed_job *j)
{
    for (size_t i = 0; i < j->n; i++)
        if (j->clusters[i].reason)
            return 1;
    return *j->placement_error != 0;
}

static void drop_finalizer(cJSON *obj)
{
    cJSON *list = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "finalizers");
    for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
        const cJSON *f = cJSON_GetArrayItem(list, i);
        if (cJSON_IsString(f) && strcmp(f->valuestring, FED_FINALIZER) == 0)
            cJSON_DeleteItemFromArray(list, i);
    }
}

/* Writes the new status onto the object as it is now, unless it is the
 * same or the object is gone; a deletion that is done everywhere takes
 * the service's finalizer off, which lets the object go. */
static void write_status(struct fed_job *j)
{
    struct federation *f = j->f;
    const struct fg_object_kind *k = &fed_kinds[j->key->kind];
    const cJSON *cur = fg_objects_get(f->objects, k, j->key->ns, j->key->name);
    if (!cur)
        return;
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(cur, "status");
    char now[32];
    now_rfc3339(now, sizeof(now));
    cJSON *st = new_status(j, old, now);
    int release = j->deleting && !failed(j);
    if (st && !release && cJSON_Compare(st, old, 1)) {
        cJSON_Delete(st);
        return;
    }
    cJSON *obj = cJSON_Duplicate(cur, 1);
    char err[256];
    if (release) /* gone everywhere: the store may drop the object now */
        drop_finalizer(obj);
    if (!st || !obj || fg_json_set(obj, "status", st) < 0) {
        cJSON_Delete(obj);
        f->host->log(f->host, FG_LOG_ERROR, "%s/%s: out of memory", j->key->ns,
                     j->key->name);
        return;
    }
    f->storing = 1;
    if (fg_objects_put(f->objects, k, obj, err, sizeof(err)) < 0)
        f->host->log(f->host, FG_LOG_ERROR, "%s/%s status: %s", j->key->ns,
                     j->key->name, err);
    f->storing = 0;
}

/* ---- the calls ------------------------------------------------------------
 */

static const char *unreachable(int status)
{
    return status == 502 || status == 503 || status == 504 ? "ClusterNotReady"
                                                           : NULL;
}

/* The message of a member's Status answer, else BODY's start. */
static void message_of(struct cluster *c, const char *body)
{
    cJSON *st = cJSON_Parse(body);
    const char *m = text(st, "message");
    snprintf(c->message, sizeof(c->message), "%s", *m ? m : body);
    cJSON_Delete(st);
}

static void fail(struct fed_job *j, const char *reason, const char *body)
{
    struct cluster *c = &j->clusters[j->at];
    c->reason = reason;
    message_of(c, body);
    j->at++;
    job_next(j);
}

static void on_call(void *arg, int status, const char *body, size_t len);

static void call(struct fed_job *j, enum step step, const char *method,
                 const char *path, const char *query, const char *ct,
                 const char *body)
{
    j->step = step;
    struct fg_member_ask_request req = {
        .method = method,
        .path = path,
        .query = query,
        .content_type = ct,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    j->call = fg_member_ask_start(j->f->host, j->clusters[j->at].name, &j->who,
                                  &req, on_call, j);
    if (!j->call) {
        j->clusters[j->at].reason = "ClientRetrievalFailed";
        snprintf(j->clusters[j->at].message, 512, "out of memory");
        j->at++;
        job_next(j);
    }
}

static void apply(struct fed_job *j)
{
    struct cluster *c = &j->clusters[j->at];
    char err[512];
    cJSON *d = fed_desired(j->obj, j->t, j->owner, c->name, c->scheduled, err,
                           sizeof(err));
    if (!d) {
        c->reason = "ApplyOverridesFailed";
        snprintf(c->message, sizeof(c->message), "%s", err);
        j->at++;
        job_next(j);
        return;
    }
    if (j->t->workload) {
        const cJSON *r = fg_json_path(d, "spec.replicas");
        c->want = cJSON_IsNumber(r) ? (long)r->valuedouble : 1;
    }
    char *body = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    if (!body) {
        fail(j, "CreationFailed", "out of memory");
        return;
    }
    call(j, STEP_APPLY, "PATCH", j->path, "fieldManager=fedgate&force=true",
         "application/apply-patch+yaml", body);
    cJSON_free(body);
}

static void create_namespace(struct fed_job *j)
{
    char body[400], name[300];
    fg_json_quote(name, sizeof(name), j->key->ns, strlen(j->key->ns));
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{"
             "\"name\":%s}}",
             name);
    j->clusters[j->at].made_namespace = 1;
    call(j, STEP_NAMESPACE, "POST", "/api/v1/namespaces", NULL,
         "application/json", body);
}

static void after_get(struct fed_job *j, int status, const char *body)
{
    struct cluster *c = &j->clusters[j->at];
    if (status == 404) {
        if (c->remove) {
            fed_watch_forget(j->f, c->name, j->key->kind, j->owner);
            j->at++;
            job_next(j);
            return;
        }
        apply(j);
        return;
    }
    if (status != 200) {
        const char *r = unreachable(status);
        fail(j, r ? r : "RetrievalFailed", body);
        return;
    }
    cJSON *obj = cJSON_Parse(body);
    int owned = fed_owned(obj, j->owner);
    cJSON_Delete(obj);
    c->existed = 1;
    if (c->remove) {
        if (!owned ||
            strcmp(text(j->obj, "metadata.annotations.kubefed\\.io/orphan"),
                   "true") == 0) {
            /* not ours to delete, or to be left behind */
            fed_watch_forget(j->f, c->name, j->key->kind, j->owner);
            j->at++;
            job_next(j);
            return;
        }
        call(j, STEP_DELETE, "DELETE", j->path, NULL, NULL, NULL);
        return;
    }
    if (!owned && strcmp(text(j->obj, "metadata.annotations.fedgate\\.io/"
                                      "conflict-resolution"),
                         "overwrite") != 0) {
        c->reason = "AlreadyExists";
        snprintf(c->message, sizeof(c->message),
                 "%s \"%s\" already exists and is not managed by this "
                 "federated object (set the annotation " FED_CONFLICT_ANNOTATION
                 ": overwrite to adopt it)",
                 j->t->resource, j->key->name);
        j->at++;
        job_next(j);
        return;
    }
    apply(j);
}

static void on_call(void *arg, int status, const char *body, size_t len)
{
    (void)len;
    struct fed_job *j = arg;
    struct cluster *c = &j->clusters[j->at];
    j->call = NULL;
    switch (j->step) {
    case STEP_GET:
        after_get(j, status, body);
        return;
    case STEP_NAMESPACE:
        if (status == 201 || status == 200 || status == 409)
            apply(j);
        else
            fail(j, "CreationFailed", body);
        return;
    case STEP_DELETE:
        if (status == 200 || status == 202 || status == 404) {
            fed_watch_forget(j->f, c->name, j->key->kind, j->owner);
            j->at++;
            job_next(j);
        } else {
            const char *r = unreachable(status);
            fail(j, r ? r : "DeletionFailed", body);
        }
        return;
    case STEP_APPLY:
        break;
    }
    if (status == 404 && j->t->namespaced && !c->made_namespace) {
        create_namespace(j);
        return;
    }
    if (status != 200 && status != 201) {
        const char *r = unreachable(status);
        fail(j, r ? r : c->existed ? "UpdateFailed" : "CreationFailed", body);
        return;
    }
    cJSON *obj = cJSON_Parse(body);
    fed_watch_applied(j->f, c->name, j->key->kind, j->owner,
                      text(obj, "metadata.resourceVersion"));
    cJSON *st = cJSON_DetachItemFromObjectCaseSensitive(obj, "status");
    c->remote = cJSON_IsObject(st) ? st : NULL;
    if (!c->remote)
        cJSON_Delete(st);
    cJSON_Delete(obj);
    j->at++;
    job_next(j);
}

/* ---- jobs ------------------------------------------------------------------
 */

static void job_free(struct fed_job *j)
{
    fg_member_ask_cancel(j->call);
    for (size_t i = 0; i < j->n; i++) {
        free(j->clusters[i].name);
        cJSON_Delete(j->clusters[i].remote);
    }
    free(j->clusters);
    free(j->groups);
    cJSON_Delete(j->writer);
    cJSON_Delete(j->obj);
    key_free(j->key);
    free(j);
}

/* A job that left a cluster failing runs again after the retry delay
 * (the object is kept, so that a member back up or a changed right is
 * seen without waiting for the resync). */
static void retry_later(struct federation *f, const struct fed_key *key)
{
    for (struct fed_key *k = f->later; k; k = k->next)
        if (same_key(k, key->kind, key->ns, key->name))
            return;
    struct fed_key *k = calloc(1, sizeof(*k));
    if (!k || !(k->ns = strdup(key->ns)) || !(k->name = strdup(key->name))) {
        key_free(k);
        return; /* the resync will see it */
    }
    k->kind = key->kind;
    k->next = f->later;
    if (!f->later)
        f->host->timer_arm(f->retry, f->retry_ms);
    f->later = k;
}

static void retry(void *arg)
{
    struct federation *f = arg;
    struct fed_key *k = f->later;
    f->later = NULL;
    while (k) {
        struct fed_key *next = k->next;
        enqueue(f, &fed_kinds[k->kind], k->ns, k->name, NULL);
        key_free(k);
        k = next;
    }
}

static void job_done(struct fed_job *j)
{
    struct federation *f = j->f;
    for (struct fed_job **p = &f->jobs; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            break;
        }
    f->running--;
    write_status(j);
    if (j->again)
        fed_enqueue(f, &fed_kinds[j->key->kind], j->key->ns, j->key->name);
    else if (failed(j) && !j->key->gone)
        retry_later(f, j->key);
    job_free(j);
    f->host->timer_arm(f->kick, 0);
}

/* The next cluster's first call, or the end of the job. */
static void job_next(struct fed_job *j)
{
    while (j->at < j->n &&
           (j->clusters[j->at].reason || j->clusters[j->at].skip))
        j->at++; /* not ready, or nothing to do */
    if (j->at == j->n) {
        job_done(j);
        return;
    }
    if (fed_target_path(j->t, j->key->ns,
                        j->t->namespaced ? j->key->name : j->key->ns, j->path,
                        sizeof(j->path)) < 0) {
        fail(j, "CreationFailed", "the object's path is too long");
        return;
    }
    call(j, STEP_GET, "GET", j->path, NULL, NULL, NULL);
}

/* The replicas a preference of the deployment's name gives each placed
 * cluster. */
static void schedule(struct fed_job *j)
{
    const cJSON *rsp = fg_objects_get(j->f->objects, &fed_kinds[FED_RSP],
                                      j->key->ns, j->key->name);
    const char **names = calloc(j->n ? j->n : 1, sizeof(*names));
    long *out = calloc(j->n ? j->n : 1, sizeof(*out));
    size_t n = 0;
    for (size_t i = 0; rsp && names && out && i < j->n; i++)
        if (!j->clusters[i].remove && !j->clusters[i].reason)
            names[n++] = j->clusters[i].name;
    if (rsp && names && out && fed_rsp_split(rsp, names, n, out) == 0)
        for (size_t i = 0, at = 0; i < j->n; i++)
            if (!j->clusters[i].remove && !j->clusters[i].reason)
                j->clusters[i].scheduled = out[at++];
    free(names);
    free(out);
}

static void job_start(struct federation *f, struct fed_key *key)
{
    const struct fg_object_kind *k = &fed_kinds[key->kind];
    const cJSON *obj = key->gone
                           ? key->gone
                           : fg_objects_get(f->objects, k, key->ns, key->name);
    struct fed_job *j = obj ? calloc(1, sizeof(*j)) : NULL;
    if (!j || !(j->obj = cJSON_Duplicate(obj, 1))) {
        free(j);
        key_free(key);
        return; /* deleted meanwhile: a job for its last state follows */
    }
    j->f = f;
    j->key = key;
    j->t = &fed_targets[key->kind];
    snprintf(j->owner, sizeof(j->owner), "%s/%s/%s", k->resource, key->ns,
             key->name);
    j->deleting = key->gone != NULL ||
                  fg_json_path(j->obj, "metadata.deletionTimestamp") != NULL;
    j->next = f->jobs;
    f->jobs = j;
    f->running++;
    if (writer(j) < 0) {
        f->host->log(f->host, FG_LOG_WARN,
                     "%s: no spec writer recorded, not propagated", j->owner);
    } else if (plan(j) < 0) {
        f->host->log(f->host, FG_LOG_ERROR, "%s: out of memory", j->owner);
        j->n = 0;
    }
    if (key->kind == FED_DEPLOYMENTS)
        schedule(j);
    for (size_t i = 0; i < j->n; i++)
        if (!j->clusters[i].remove &&
            fed_watch_use(f, j->clusters[i].name, key->kind, j->owner,
                          &j->who) < 0)
            f->host->log(f->host, FG_LOG_ERROR, "out of memory watching %s",
                         j->clusters[i].name);
    job_next(j);
}

static void kick(void *arg)
{
    struct federation *f = arg;
    while (f->queue && f->running < f->max_running) {
        struct fed_key *key = f->queue;
        f->queue = key->next;
        key->next = NULL;
        if (key->kind >= FED_N_TYPES) {
            key_free(key); /* an RSP is read by its deployment's job */
            continue;
        }
        job_start(f, key);
    }
}

/* ---- the resync -------------------------------------------------------------
 */

static void arm_resync(struct federation *f)
{
    /* up to a tenth later, so that restarts spread out */
    uint64_t jitter =
        f->resync_ms / 10 ? (uint64_t)rand() % (f->resync_ms / 10) : 0;
    f->host->timer_arm(f->resync, f->resync_ms + jitter);
}

static void resync(void *arg)
{
    struct federation *f = arg;
    fed_queue_all(f);
    arm_resync(f);
}

int fed_reconcile_start(struct federation *f, char *err, size_t err_len)
{
    f->kick = f->host->timer_new(f->host, kick, f);
    f->resync = f->host->timer_new(f->host, resync, f);
    f->retry = f->host->timer_new(f->host, retry, f);
    if (!f->kick || !f->resync || !f->retry) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    srand((unsigned)f->host->now_ms(f->host));
    if (fed_fleet_start(f) < 0) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    resync(f); /* what was stored before: the members may have drifted */
    return 0;
}

void fed_reconcile_stop(struct federation *f)
{
    fed_watch_stop_all(f);
    fed_fleet_stop(f);
    while (f->jobs) {
        struct fed_job *j = f->jobs;
        f->jobs = j->next;
        job_free(j);
    }
    while (f->queue) {
        struct fed_key *k = f->queue;
        f->queue = k->next;
        key_free(k);
    }
    if (f->kick)
        f->host->timer_free(f->kick);
    if (f->resync)
        f->host->timer_free(f->resync);
    if (f->retry)
        f->host->timer_free(f->retry);
    while (f->later) {
        struct fed_key *k = f->later;
        f->later = k->next;
        key_free(k);
    }
}

void fed_changed(void *arg, const struct fg_object_kind *k,
                 enum fg_object_event ev, const cJSON *obj)
{
    struct federation *f = arg;
    if (f->storing)
        return;
    size_t i = fed_kind_index(k);
    const char *ns = text(obj, "metadata.namespace"),
               *name = text(obj, "metadata.name");
    if (i == FED_RSP) /* a preference schedules the deployment of its name */
        enqueue(f, &fed_kinds[FED_DEPLOYMENTS], ns, name, NULL);
    else if (ev == FG_OBJECT_DELETED)
        enqueue(f, k, ns, name, cJSON_Duplicate(obj, 1));
    else
        enqueue(f, k, ns, name, NULL);
}
