/* Writes of clusters on the host's API (fleet.h): kubectl apply, create,
 * replace, patch and delete join and remove members. On the request's
 * loop the body is read, merged with the Cluster as it is (PATCH) and
 * validated (spec.c); then one writer thread per gateway, off every loop,
 * asks a direct member's /version with the given credentials, writes
 * conf.d/members/NAME (join.c), has worker 0 reload, and waits for the new
 * generation to show the change; the answer is the Cluster as it shows
 * it. A reload that refuses the change has it undone. Writes are applied
 * one at a time, in the order they came. */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fedgate/util.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "config/config.h"
#include "config/labels.h"
#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "daemon/reload.h"
#include "fleet/fleet_internal.h"
#include "fleet/join.h"
#include "fleet/spec.h"
#include "request/exchange_internal.h"
#include "request/status.h"

/* How long a member has to answer /version, per step. */
#define CHECK_MS 10000
/* How long the reload and the fleet's look at it may take. */
#define RELOAD_MS 30000
#define SHOW_MS 5000
#define JSON_MAX_DEPTH 32

enum op { OP_CREATE, OP_UPDATE, OP_DELETE };

struct fg_fleet_write {
    struct fg_exchange *ex; /* NULL once the exchange ended */
    struct fg_worker *worker;
    struct fg_fleet_write *next; /* the writer's queue */
    enum op op;
    int patch, apply, dry_run, submitted;
    char name[64], content_type[96];
    struct evbuffer *body;
    struct fg_spec spec;
    char members[PATH_MAX];
    /* the answer known before (JSON): the Cluster as it was (a delete) or
     * as it would be (a dry run) */
    char *prepared;
    char before_rv[32];
    /* the outcome, read on the loop after the writer posted it */
    int code;
    const char *reason;
    char message[768];
    struct fg_spec_causes causes;
};

struct fg_fleet_writer {
    struct fg_gateway *gw;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct fg_fleet_write *head, *tail; /* under lock */
    int stop;
    pthread_t thread;
};

/* ---- on the request's loop --------------------------------------------- */

static void write_free(struct fg_fleet_write *w)
{
    if (w->body)
        evbuffer_free(w->body);
    fg_spec_free(&w->spec);
    free(w->prepared);
    free(w);
}

static void reply_object(struct fg_exchange *ex, int code, const cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    if (!text) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    fg_exchange_reply(ex, code, "application/json", text, strlen(text));
    free(text);
}

/* 422 Invalid with W's causes, worded as kube-apiserver words it. */
static void reply_invalid(struct fg_exchange *ex, struct fg_fleet_write *w)
{
    char msg[1024];
    size_t at = (size_t)snprintf(
        msg, sizeof(msg), "Cluster.%s \"%s\" is invalid: ", FG_FLEET_GROUP,
        w->name);
    for (size_t i = 0; i < w->causes.n && at < sizeof(msg); i++)
        at += (size_t)snprintf(msg + at, sizeof(msg) - at, "%s%s: %s",
                               i ? ", " : "", w->causes.field[i],
                               w->causes.message[i]);
    struct fg_status st = {.code = 422,
                           .reason = "Invalid",
                           .message = msg,
                           .name = w->name,
                           .group = FG_FLEET_GROUP,
                           .kind = "Cluster",
                           .causes = w->causes.v,
                           .n_causes = w->causes.n,
                           .newline = 1};
    size_t len;
    char *body = fg_status_build(&st, &len);
    if (!body) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    fg_exchange_reply(ex, 422, "application/json", body, len);
    free(body);
}

/* The answer to W, its outcome known. */
static void answer(struct fg_exchange *ex, struct fg_fleet_write *w)
{
    if (w->causes.n) {
        reply_invalid(ex, w);
        return;
    }
    if (w->code >= 300) {
        fg_exchange_fail(ex, w->code, w->reason, "%s", w->message);
        return;
    }
    if (w->prepared) {
        cJSON *o = cJSON_Parse(w->prepared);
        reply_object(ex, w->op == OP_CREATE ? 201 : 200, o);
        cJSON_Delete(o);
        return;
    }
    int missing = 0;
    cJSON *o = fg_fleet_get(ex->worker->gw->fleet, w->name, &missing);
    if (missing) {
        fg_exchange_fail(ex, 504, "Timeout",
                         "the member \"%s\" was written and the gateway "
                         "reloaded, but the Cluster did not show in time",
                         w->name);
        return;
    }
    reply_object(ex, w->op == OP_CREATE ? 201 : 200, o);
    cJSON_Delete(o);
}

/* The writer is done with W (posted to W's loop). */
static void done_here(void *arg)
{
    struct fg_fleet_write *w = arg;
    struct fg_exchange *ex = w->ex;
    if (ex) {
        ex->fleet_write = NULL;
        answer(ex, w);
    }
    write_free(w);
}

/* OBJ as a dry run answers it (malloc'd JSON; NULL out of memory): as it
 * would be stored, without what was secret (the kubeconfig) or is never
 * stored (annotations, status). */
static char *dry_text(cJSON *obj)
{
    cJSON_DeleteItemFromObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(obj, "spec"), "connection"),
        "kubeconfig");
    cJSON_DeleteItemFromObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "annotations");
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
    return cJSON_PrintUnformatted(obj);
}

static void submit(struct fg_fleet_writer *wr, struct fg_fleet_write *w)
{
    w->submitted = 1;
    pthread_mutex_lock(&wr->lock);
    if (wr->tail)
        wr->tail->next = w;
    else
        wr->head = w;
    wr->tail = w;
    pthread_cond_signal(&wr->wake);
    pthread_mutex_unlock(&wr->lock);
}

/* The member section NAME of the running generation, or NULL. */
static const struct fg_config_section *section_of(struct fg_exchange *ex,
                                                  const char *name)
{
    const struct fg_config *cfg = ex->gen->cfg;
    for (size_t i = 0; i < cfg->n_members; i++)
        if (strcmp(cfg->members[i].name, name) == 0)
            return &cfg->members[i];
    return NULL;
}

/* Whether the member S may be changed through the API: written by a
 * join, not the host's. Answers and returns 0 when not. */
static int changeable(struct fg_exchange *ex, struct fg_fleet_write *w,
                      const struct fg_config_section *s, const cJSON *cur)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cur, "metadata"), "labels");
    if (cJSON_GetObjectItemCaseSensitive(labels, FG_LABEL_HOST)) {
        fg_exchange_fail(ex, 422, "Invalid",
                         "the host's own cluster \"%s\" cannot be changed or "
                         "removed through the API (%s:%d)",
                         w->name, s ? s->file : "?", s ? s->line : 0);
        return 0;
    }
    if (!s || !fg_join_owns(w->members, s)) {
        fg_exchange_fail(ex, 422, "Invalid",
                         "member \"%s\" is declared in %s:%d, not by a join: "
                         "change it there",
                         w->name, s ? s->file : "?", s ? s->line : 0);
        return 0;
    }
    return 1;
}

/* An update without new credentials keeps the member's files: the kind
 * and server come from its section. -1 out of memory. */
static int keep_connection(struct fg_fleet_write *w,
                           const struct fg_config_section *s)
{
    struct fg_join *j = &w->spec.join;
    j->keep_files = 1;
    const char *server = fg_config_get(s, "server");
    j->kind = strcmp(fg_config_get(s, "driver"), "agent") == 0 ? FG_JOIN_AGENT
              : fg_config_get(s, "client_cert_file")           ? FG_JOIN_CERT
                                                               : FG_JOIN_TOKEN;
    if (server && !(w->spec.server = strdup(server)))
        return -1;
    j->server = w->spec.server;
    return 0;
}

/* Whether a proxied update changes nothing the ini holds. */
static int unchanged(const struct fg_fleet_write *w,
                     const struct fg_config_section *s)
{
    const char *labels = fg_config_get(s, "labels");
    const char *provider = fg_config_get(s, "provider");
    return !w->spec.credentials &&
           strcmp(labels ? labels : "", w->spec.labels) == 0 &&
           strcmp(provider ? provider : "", w->spec.provider) == 0;
}

/* OBJ (owned) is what the caller wants NAME to be: validated, then
 * answered (dry run, nothing to do) or handed to the writer. */
static void decide(struct fg_exchange *ex, struct fg_fleet_write *w, cJSON *obj,
                   cJSON *cur)
{
    struct fg_gateway *gw = ex->worker->gw;
    const struct fg_config_section *s = cur ? section_of(ex, w->name) : NULL;
    int rc =
        fg_spec_read(obj, cur, gw->cfg->tunnel != NULL, &w->spec, &w->causes);
    if (rc == 0 && w->op != OP_CREATE && strcmp(w->spec.name, w->name) != 0) {
        fg_spec_cause(&w->causes, "FieldValueInvalid", "metadata.name",
                      "Invalid value: \"%s\": the name of the object does "
                      "not match the name on the URL (%s)",
                      w->spec.name, w->name);
        rc = 1;
    }
    const cJSON *name = fg_json_path(obj, "metadata.name");
    if (w->op == OP_CREATE && cJSON_IsString(name)) /* as kube names it */
        snprintf(w->name, sizeof(w->name), "%s", name->valuestring);
    if (rc < 0) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
    } else if (rc > 0) {
        reply_invalid(ex, w);
    } else if (w->op == OP_CREATE && section_of(ex, w->name)) {
        fg_exchange_fail(ex, 409, "AlreadyExists",
                         "clusters.%s \"%s\" already exists", FG_FLEET_GROUP,
                         w->name);
    } else if (w->op == OP_UPDATE && !changeable(ex, w, s, cur)) {
        ;
    } else if (w->op == OP_UPDATE && !w->spec.credentials &&
               keep_connection(w, s) != 0) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
    } else if (w->op == OP_UPDATE && unchanged(w, s)) {
        reply_object(ex, 200, cur);
    } else if (w->dry_run && !(w->prepared = dry_text(obj))) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
    } else if (w->dry_run && !w->spec.credentials) {
        reply_object(ex, w->op == OP_CREATE ? 201 : 200, obj); /* as is */
    } else {
        w->spec.join.writer = "the host's API (kubectl delete cluster "
                              "removes it)";
        const cJSON *rv = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cur, "metadata"),
            "resourceVersion");
        snprintf(w->before_rv, sizeof(w->before_rv), "%s",
                 cJSON_IsString(rv) ? rv->valuestring : "");
        w->ex = ex;
        submit(fg_fleet_writer_of(gw->fleet), w);
        cJSON_Delete(obj);
        cJSON_Delete(cur);
        return;
    }
    cJSON_Delete(obj);
    cJSON_Delete(cur);
    ex->fleet_write = NULL;
    write_free(w);
}

/* The body read as JSON: the object, or NULL answered. */
static cJSON *body_json(struct fg_exchange *ex, struct fg_fleet_write *w)
{
    size_t len = evbuffer_get_length(w->body);
    const char *text = (const char *)evbuffer_pullup(w->body, -1);
    if (strncasecmp(w->content_type, "application/vnd.kubernetes.protobuf",
                    35) == 0 ||
        strncasecmp(w->content_type, "application/json-patch+json", 27) == 0) {
        fg_exchange_fail(ex, 415, "UnsupportedMediaType",
                         "the body of a write of clusters is a JSON object "
                         "(or a merge patch, a strategic merge patch or an "
                         "apply configuration in JSON), not %s",
                         w->content_type);
        return NULL;
    }
    if (!len || fg_json_depth(text, len, JSON_MAX_DEPTH) > JSON_MAX_DEPTH) {
        fg_exchange_fail(ex, 400, "BadRequest",
                         len ? "the body nests deeper than %d levels"
                             : "the body is empty%.0d",
                         JSON_MAX_DEPTH);
        return NULL;
    }
    cJSON *o = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(o)) {
        fg_exchange_fail(ex, 400, "BadRequest",
                         "the body is not a JSON object%s",
                         w->apply ? " (kubectl sends apply configurations "
                                    "as JSON)"
                                  : "");
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void not_found(struct fg_exchange *ex, const char *name)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "clusters.%s \"%.80s\" not found",
             FG_FLEET_GROUP, name);
    fg_exchange_not_found(ex, msg, name, "clusters");
}

/* A delete's body, DeleteOptions (kubectl delete --dry-run=server sends
 * dryRun there): what it says of a dry run; the rest has no meaning for
 * a Cluster, which has no dependents and no grace. */
static void delete_options(struct fg_fleet_write *w)
{
    size_t len = evbuffer_get_length(w->body);
    const char *text = (const char *)evbuffer_pullup(w->body, -1);
    if (fg_json_depth(text, len, JSON_MAX_DEPTH) > JSON_MAX_DEPTH)
        return;
    cJSON *o = cJSON_ParseWithLength(text, len);
    const cJSON *d, *dry = cJSON_GetObjectItemCaseSensitive(o, "dryRun");
    cJSON_ArrayForEach(d, dry)
    {
        if (cJSON_IsString(d) && strcmp(d->valuestring, "All") == 0)
            w->dry_run = 1;
    }
    cJSON_Delete(o);
}

/* The whole request is in: what it asks for, decided. */
static void run_request(struct fg_exchange *ex, struct fg_fleet_write *w)
{
    struct fg_fleet *f = ex->worker->gw->fleet;
    int missing = 1;
    cJSON *cur = w->op == OP_CREATE ? NULL : fg_fleet_get(f, w->name, &missing);
    if (cur && !fg_fleet_visible(ex, w->name)) {
        cJSON_Delete(cur); /* as a get: one the caller has no right on */
        cur = NULL;
    }
    if (w->op == OP_DELETE && evbuffer_get_length(w->body))
        delete_options(w);
    if (w->op == OP_DELETE) {
        const struct fg_config_section *s =
            cur ? section_of(ex, w->name) : NULL;
        char *before = cur ? cJSON_PrintUnformatted(cur) : NULL;
        /* a dry run answers at once, the others once removed */
        if (!cur)
            not_found(ex, w->name);
        else if (!changeable(ex, w, s, cur))
            ;
        else if (!before)
            fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        else if (w->dry_run)
            reply_object(ex, 200, cur);
        else {
            w->prepared = before;
            w->ex = ex;
            cJSON_Delete(cur);
            submit(fg_fleet_writer_of(f), w);
            return;
        }
        free(before);
        cJSON_Delete(cur);
        ex->fleet_write = NULL;
        write_free(w);
        return;
    }
    cJSON *body = body_json(ex, w);
    if (body && w->op == OP_UPDATE && !cur && w->apply) {
        w->op = OP_CREATE; /* server-side apply creates what is missing */
    } else if (body && w->op == OP_UPDATE && !cur) {
        not_found(ex, w->name);
        cJSON_Delete(body);
        body = NULL;
    } else if (body && w->patch) {
        /* a Cluster has no list a strategic merge would key: merge */
        cJSON *merged = fg_json_merge_patch(cJSON_Duplicate(cur, 1), body);
        cJSON_Delete(body);
        if (!(body = merged))
            fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
    }
    if (!body) {
        cJSON_Delete(cur);
        ex->fleet_write = NULL;
        write_free(w);
        return;
    }
    decide(ex, w, body, cur);
}

void fg_fleet_write_start(struct fg_exchange *ex,
                          const struct fg_request_in *req)
{
    const char *verb = ex->info->verb;
    struct fg_fleet_write *w = calloc(1, sizeof(*w));
    if (!w || !(w->body = evbuffer_new())) {
        free(w);
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    w->worker = ex->worker;
    w->op = strcmp(verb, "create") == 0   ? OP_CREATE
            : strcmp(verb, "delete") == 0 ? OP_DELETE
                                          : OP_UPDATE;
    w->patch = strcmp(verb, "patch") == 0;
    snprintf(w->name, sizeof(w->name), "%s",
             ex->info->name ? ex->info->name : "");
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct fg_header *h = &req->headers[i];
        if (h->name_len == 12 && strncasecmp(h->name, "content-type", 12) == 0)
            snprintf(w->content_type, sizeof(w->content_type), "%.*s",
                     (int)h->value_len, h->value);
    }
    w->apply = w->patch &&
               strncasecmp(w->content_type, "application/apply-patch", 23) == 0;
    char dry[16] = "";
    if (fg_query_get(ex->query, "dryRun", dry, sizeof(dry)) < 0 ||
        (dry[0] && strcmp(dry, "All") != 0)) {
        write_free(w);
        fg_exchange_fail(ex, 400, "BadRequest",
                         "dryRun: Unsupported value: \"%s\": supported "
                         "values: \"All\"",
                         dry);
        return;
    }
    w->dry_run = dry[0] != '\0';
    if (fg_join_members_dir(ex->gen->cfg, w->members) != 0) {
        write_free(w);
        fg_exchange_fail(ex, 500, NULL, "the configuration path is too long");
        return;
    }
    ex->fleet_write = w;
    if (!req->has_body)
        run_request(ex, w);
}

void fg_fleet_write_body(struct fg_exchange *ex, const void *buf, size_t len)
{
    struct fg_fleet_write *w = ex->fleet_write;
    if (w->submitted)
        return;
    if (ex->body_bytes > ex->body_limit) {
        ex->fleet_write = NULL;
        write_free(w);
        fg_exchange_fail(ex, 413, NULL,
                         "the request body is larger than %lld bytes",
                         (long long)ex->body_limit);
        return;
    }
    if (evbuffer_add(w->body, buf, len) != 0) {
        ex->fleet_write = NULL;
        write_free(w);
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
    }
}

void fg_fleet_write_body_end(struct fg_exchange *ex)
{
    struct fg_fleet_write *w = ex->fleet_write;
    if (!w->submitted)
        run_request(ex, w);
}

void fg_fleet_write_finish(struct fg_exchange *ex)
{
    struct fg_fleet_write *w = ex->fleet_write;
    if (!w)
        return;
    ex->fleet_write = NULL;
    if (w->submitted)
        w->ex = NULL; /* the writer's answer finds no one: it frees W */
    else
        write_free(w);
}

/* ---- on the writer thread ---------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int stopping(struct fg_fleet_writer *wr)
{
    pthread_mutex_lock(&wr->lock);
    int stop = wr->stop;
    pthread_mutex_unlock(&wr->lock);
    return stop;
}

/* Worker 0 reads conf.d again, as SIGHUP has it do. */
static void reload_here(void *arg)
{
    fg_reload_signal(SIGHUP, EV_SIGNAL, arg);
}

/* Has worker 0 reload and waits for the outcome: 0 taken, or the code
 * of a failure with W's message set. */
static int reload(struct fg_fleet_writer *wr, struct fg_fleet_write *w)
{
    struct fg_gateway *gw = wr->gw;
    uint64_t taken = atomic_load(&gw->reloads);
    uint64_t failed = atomic_load(&gw->reload_failures);
    if (fg_loop_queue_post(&gw->workers[0].queue, reload_here, gw) != 0) {
        snprintf(w->message, sizeof(w->message), "the gateway is stopping");
        return 503;
    }
    for (long waited = 0; waited < RELOAD_MS && !stopping(wr); waited += 20) {
        if (atomic_load(&gw->reload_failures) != failed) {
            pthread_mutex_lock(&gw->reload_lock);
            snprintf(w->message, sizeof(w->message),
                     "the gateway refused the configuration with member "
                     "\"%s\" (undone): %s",
                     w->name, gw->reload_error);
            pthread_mutex_unlock(&gw->reload_lock);
            return 422;
        }
        if (atomic_load(&gw->reloads) != taken)
            return 0;
        sleep_ms(20);
    }
    snprintf(w->message, sizeof(w->message),
             "the gateway did not reload within %d s (undone)",
             RELOAD_MS / 1000);
    return 504;
}

/* Waits until the fleet shows W done: the Cluster there (with a new
 * resourceVersion after an update) or gone. */
static void await_fleet(struct fg_fleet_writer *wr, struct fg_fleet_write *w)
{
    for (long waited = 0; waited < SHOW_MS && !stopping(wr); waited += 20) {
        int missing = 0;
        cJSON *o = fg_fleet_get(wr->gw->fleet, w->name, &missing);
        const cJSON *rv = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(o, "metadata"), "resourceVersion");
        int shown = w->op == OP_DELETE ? missing
                    : w->op == OP_CREATE
                        ? !missing
                        : cJSON_IsString(rv) &&
                              strcmp(rv->valuestring, w->before_rv) != 0;
        cJSON_Delete(o);
        if (shown)
            return;
        sleep_ms(20);
    }
}

static void fail(struct fg_fleet_write *w, int code, const char *reason)
{
    w->code = code;
    w->reason = reason;
}

/* Applies W: checked, written, reloaded, or undone. */
static void apply(struct fg_fleet_writer *wr, struct fg_fleet_write *w)
{
    struct fg_join *j = &w->spec.join;
    struct fg_error err = {{0}};
    char version[64], ini[PATH_MAX];
    char *old = NULL;
    size_t old_len = 0;
    if (w->op != OP_DELETE && w->spec.credentials &&
        fg_join_check(j, CHECK_MS, version, sizeof(version), &err) != 0) {
        fg_spec_cause(&w->causes, "FieldValueInvalid",
                      "spec.connection.kubeconfig",
                      "Invalid value: refused: %.280s", err.msg);
        return;
    }
    if (w->dry_run)
        return;
    if (w->op == OP_UPDATE &&
        (fg_path_format(ini, "%s/%s.ini", w->members, w->name) != 0 ||
         fg_read_file(ini, 1 << 20, &old, &old_len, NULL, &err) != 0)) {
        snprintf(w->message, sizeof(w->message), "%s", err.msg);
        fail(w, 500, NULL);
        return;
    }
    if (w->op == OP_DELETE)
        fg_join_remove(w->members, w->name);
    else if (fg_join_write(w->members, j, &err) != 0) {
        snprintf(w->message, sizeof(w->message), "%s", err.msg);
        fail(w, 500, NULL);
        free(old);
        return;
    }
    fg_info("fleet: member \"%s\" %s through the API; reloading", w->name,
            w->op == OP_DELETE   ? "removed"
            : w->op == OP_CREATE ? "written"
                                 : "rewritten");
    int code = reload(wr, w);
    if (code == 0) {
        await_fleet(wr, w);
    } else if (w->op != OP_DELETE) {
        if (w->op == OP_CREATE)
            fg_join_remove(w->members, w->name);
        else
            fg_write_file_atomic(ini, old, old_len, 0600, &err);
        reload(wr, &(struct fg_fleet_write){.op = w->op});
        fail(w, code, code == 422 ? "Invalid" : NULL);
    } else {
        fail(w, code, NULL);
    }
    free(old);
}

static void *writer_main(void *arg)
{
    struct fg_fleet_writer *wr = arg;
    pthread_mutex_lock(&wr->lock);
    for (;;) {
        while (!wr->head && !wr->stop)
            pthread_cond_wait(&wr->wake, &wr->lock);
        if (wr->stop)
            break;
        struct fg_fleet_write *w = wr->head;
        wr->head = w->next;
        if (!wr->head)
            wr->tail = NULL;
        pthread_mutex_unlock(&wr->lock);
        apply(wr, w);
        if (fg_loop_queue_post(&w->worker->queue, done_here, w) != 0)
            write_free(w); /* the loop is gone, and its requests */
        pthread_mutex_lock(&wr->lock);
    }
    pthread_mutex_unlock(&wr->lock);
    return NULL;
}

struct fg_fleet_writer *fg_fleet_writer_new(struct fg_gateway *gw)
{
    struct fg_fleet_writer *wr = calloc(1, sizeof(*wr));
    if (!wr)
        return NULL;
    wr->gw = gw;
    pthread_mutex_init(&wr->lock, NULL);
    pthread_cond_init(&wr->wake, NULL);
    /* the writer must not take the signals the main thread waits for */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&wr->thread, NULL, writer_main, wr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&wr->wake);
        pthread_mutex_destroy(&wr->lock);
        free(wr);
        return NULL;
    }
    return wr;
}

void fg_fleet_writer_free(struct fg_fleet_writer *wr)
{
    if (!wr)
        return;
    pthread_mutex_lock(&wr->lock);
    wr->stop = 1;
    pthread_cond_signal(&wr->wake);
    pthread_mutex_unlock(&wr->lock);
    pthread_join(wr->thread, NULL);
    while (wr->head) {
        struct fg_fleet_write *w = wr->head;
        wr->head = w->next;
        write_free(w); /* their exchanges ended with the workers */
    }
    pthread_cond_destroy(&wr->wake);
    pthread_mutex_destroy(&wr->lock);
    free(wr);
}
