/* The sync of Repo objects (repo.h): GET URL/index.yaml with the core's
 * HTTPS client (the Repo's CA, or the system bundle; Basic credentials;
 * connect and whole-request timeouts), the body gathered up to
 * max_index_bytes, read by index_read.c, and turned into Application
 * REPO-CHART and ApplicationVersion REPO-CHART-VERSION objects (active,
 * pulled from the chart's absolute URL); what the repository no longer
 * lists goes. With spec.mirror the kept versions are downloaded one after
 * the other (bounded by max_chart_bytes, checked against the index's
 * digest and as a push is checked) into the store's repository of the
 * Repo's name, and pulled from there. Every sync ends with the Repo
 * successful or failed and a message: a failure of any kind is a state,
 * never a sync left running.
 *
 * One job per Repo. Client callbacks only record what happened and arm
 * the job's `done` timer: the client may call them from inside its own
 * calls, and the stream may be closed only from outside them. The index
 * is read on a thread of its own (a big one takes seconds to parse),
 * which the job's `parsed` timer looks at, so the service's loop keeps
 * answering meanwhile; a sync stopped during it waits for the thread.
 * The catalog's objects are then made for at most APPLY_SLICE_MS a loop
 * turn (each is a file written), for the same reason. */
#include "repo.h"
#include "url_ref.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include <fedgate/driver.h>
#include <fedgate/host.h>
#include <fedgate/util.h>

/* redirects followed in a row, as Helm's HTTP client (Go's) allows ten */
#define MAX_REDIRECTS 5
/* the longest Location followed */
#define MAX_LOCATION 2048

/* how often a job looks whether its index was read */
#define PARSE_POLL_MS 20
/* how long one turn of the service's loop puts versions in the catalog */
#define APPLY_SLICE_MS 10

/* The reading of an index on its thread: TEXT is the job's body, left
 * alone until the thread is joined. */
struct parse {
    pthread_t thread;
    const char *text;
    size_t len, max_versions;
    struct appstore_remote_index idx;
    int rc;
    char err[384];
    atomic_int done;
};

struct job {
    struct appstore_repos *rs;
    struct job *next;
    char name[64];
    char *key; /* the spec and sync annotation the last sync was asked for */
    struct fg_timer *tick;   /* the next sync */
    struct fg_timer *done;   /* the request ended: finish it */
    struct fg_timer *parsed; /* looks at PARSE */
    struct parse *parse;     /* the index being read, or NULL */
    struct fg_timer *apply;  /* the next slice of the catalog's objects */
    int applying, mirrored;  /* objects being made; pulled from the copy */
    size_t applied;          /* versions made so far */
    struct fg_client *client;
    struct fg_client_stream *stream;
    char *index_url; /* URL/index.yaml of this sync */
    char *url;       /* what the running request gets, for messages */
    uint64_t limit;  /* the most bytes its answer may have */
    char *body;
    size_t len, cap;
    int status;        /* the answer's HTTP status, 0 before its head */
    int too_large;     /* the answer passed LIMIT */
    int ended;         /* the answer is complete */
    char failure[384]; /* the client's error, "" when none */
    int again;         /* asked for a sync while one ran */
    char *location;    /* a redirect's Location, checked */
    int redirects;     /* followed for the request under way */
    /* mirroring (spec.mirror): the index read, the version downloading */
    struct appstore_remote_index idx;
    size_t at;
    int mirroring;
};

struct appstore_repos {
    struct appstore *a;
    struct appstore_sync_limits l;
    char *system_ca; /* l.system_ca_file's copy */
    struct job *jobs;
};

static const struct fg_object_kind *repo_kind(void)
{
    return &appstore_catalog_kinds[APPSTORE_REPOS];
}

static const char *text(const cJSON *obj, const char *path)
{
    const cJSON *v = fg_json_path(obj, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* What asks for a sync when it changes: the spec and the annotation. */
static char *sync_key(const cJSON *obj)
{
    cJSON *k = cJSON_CreateArray();
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    const char *ask =
        text(obj, "metadata.annotations.application\\.kubesphere\\.io/"
                  "sync-requested");
    cJSON_AddItemToArray(k,
                         spec ? cJSON_Duplicate(spec, 1) : cJSON_CreateNull());
    cJSON_AddItemToArray(k, cJSON_CreateString(ask ? ask : ""));
    char *s = k ? cJSON_PrintUnformatted(k) : NULL;
    cJSON_Delete(k);
    return s;
}

/* ---- status ------------------------------------------------------------- */

static void now_text(const struct appstore_repos *rs, char out[32])
{
    time_t t = (time_t)(rs->a->host->now_ms(rs->a->host) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void set_status(struct job *j, const char *state, const char *message)
{
    struct appstore_repos *rs = j->rs;
    const cJSON *cur =
        fg_objects_get(rs->a->catalog.objects, repo_kind(), NULL, j->name);
    if (!cur)
        return;
    cJSON *o = cJSON_Duplicate(cur, 1);
    cJSON *st = cJSON_CreateObject();
    char now[32];
    now_text(rs, now);
    cJSON_AddStringToObject(st, "state", state);
    cJSON_AddStringToObject(st, "message", message);
    const char *last = text(cur, "status.lastUpdateTime");
    cJSON_AddStringToObject(st, "lastUpdateTime",
                            strcmp(state, "syncing") == 0 && last ? last : now);
    char err[256];
    if (!o || fg_json_set(o, "status", st) != 0 ||
        fg_objects_put(rs->a->catalog.objects, repo_kind(), o, err,
                       sizeof(err)) != 0)
        rs->a->host->log(rs->a->host, FG_LOG_WARN,
                         "appstore: repo %s: its status was not saved",
                         j->name);
}

/* ---- the catalog's objects of a repo ------------------------------------ */

typedef char object_name[254];

struct names {
    const char *repo;
    object_name *list; /* stale objects found */
    size_t n, cap;
    const object_name *keep; /* sorted */
    size_t n_keep;
};

static int name_order(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int collect_stale(void *arg, const cJSON *obj)
{
    struct names *ns = arg;
    const char *repo =
        text(obj, "metadata.labels.application\\.kubesphere\\.io/repo-name");
    const char *name = text(obj, "metadata.name");
    if (!repo || !name || strcmp(repo, ns->repo) != 0 ||
        (ns->n_keep &&
         bsearch(name, ns->keep, ns->n_keep, sizeof(*ns->keep), name_order)))
        return 0;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        object_name *l = realloc(ns->list, cap * sizeof(*l));
        if (!l)
            return 1;
        ns->list = l;
        ns->cap = cap;
    }
    snprintf(ns->list[ns->n++], sizeof(object_name), "%s", name);
    return 0;
}

/* Removes REPO's versions and applications that KEEP (NULL: nothing)
 * does not list. */
static void remove_stale(struct appstore_catalog *c, const char *repo,
                         const struct appstore_remote_index *keep)
{
    size_t n = keep ? keep->n : 0;
    object_name *names = calloc(n ? n : 1, sizeof(*names));
    if (!names)
        return; /* the next sync removes them */
    for (int apps = 0; apps < 2; apps++) {
        const struct fg_object_kind *k =
            &appstore_catalog_kinds[apps ? APPSTORE_APPLICATIONS
                                         : APPSTORE_VERSIONS];
        for (size_t i = 0; i < n; i++) {
            const struct appstore_version *v = &keep->versions[i].v;
            if (appstore_object_name(names[i], sizeof(names[i]), repo, v->name,
                                     apps ? NULL : v->version) != 0)
                names[i][0] = 0;
        }
        qsort(names, n, sizeof(*names), name_order);
        struct names ns = {repo, NULL, 0, 0, names, n};
        fg_objects_each(c->objects, k, collect_stale, &ns);
        for (size_t i = 0; i < ns.n; i++)
            fg_objects_remove(c->objects, k, NULL, ns.list[i]);
        free(ns.list);
    }
    free(names);
}

/* Makes the catalog say what version I of the job's index lists, pulled
 * from its URL, or with MIRROR from the host's copy (the store's
 * repository of the same name). 0, or -1 with ERR. */
static int apply_version(struct job *j, size_t i, struct appstore_repo *mirror,
                         char *err, size_t len)
{
    const struct appstore_remote_version *r = &j->idx.versions[i];
    const struct appstore_version *v =
        mirror ? appstore_store_find(mirror, r->v.name, r->v.version) : &r->v;
    char file[600], *url = NULL;
    if (mirror && v) {
        appstore_chart_file(v, file, sizeof(file));
        size_t n = strlen(j->name) + strlen(file) + 16;
        if ((url = malloc(n)))
            snprintf(url, n, "/helm/%s/charts/%s", j->name, file);
    } else if (!mirror) {
        url = appstore_url_resolve(j->index_url, r->url);
        if (url && strncmp(url, "https://", 8) != 0 &&
            strncmp(url, "http://", 7) != 0) {
            snprintf(err, len, "%s-%s: its URL is not http(s): %.200s",
                     r->v.name, r->v.version, url);
            free(url);
            return -1;
        }
    }
    int rc = url ? appstore_mirror_external(&j->rs->a->catalog, j->name, v, url,
                                            err, len)
                 : -1;
    if (!url)
        snprintf(err, len, "out of memory");
    free(url);
    return rc != 0 ? -1 : 0;
}

static void conclude(struct job *j, const char *state, const char *message);

/* A monotonic clock in milliseconds: the host's now_ms is cached per loop
 * turn, and a slice is measured within one. */
static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* The next slice of the catalog's objects; what the index no longer
 * lists goes after the last, and the sync ends. */
static void apply_more(void *arg)
{
    struct job *j = arg;
    char err[384], msg[512];
    if (!j->applying)
        return;
    const struct fg_host *h = j->rs->a->host;
    struct appstore_repo *mirror =
        j->mirrored ? appstore_store_repo(j->rs->a->store, j->name) : NULL;
    if (j->mirrored && !mirror) {
        snprintf(msg, sizeof(msg), "%s: the host's copy of its charts is gone",
                 j->index_url);
        conclude(j, "failed", msg);
        return;
    }
    uint64_t until = mono_ms() + APPLY_SLICE_MS;
    while (j->applied < j->idx.n) {
        if (apply_version(j, j->applied, mirror, err, sizeof(err)) != 0) {
            snprintf(msg, sizeof(msg), "%s: %s", j->index_url, err);
            conclude(j, "failed", msg);
            return;
        }
        j->applied++;
        if (j->applied < j->idx.n && mono_ms() >= until) {
            h->timer_arm(j->apply, 0); /* others' turn first */
            return;
        }
    }
    remove_stale(&j->rs->a->catalog, j->name, &j->idx);
    if (j->mirrored)
        snprintf(msg, sizeof(msg),
                 "%zu charts, %zu versions, mirrored under /helm/%s/ (%zu "
                 "older versions past max_versions_per_chart and %zu unusable "
                 "entries left out)",
                 j->idx.charts, j->idx.n, j->name, j->idx.dropped,
                 j->idx.skipped);
    else
        snprintf(msg, sizeof(msg),
                 "%zu charts, %zu versions (%zu older versions past "
                 "max_versions_per_chart and %zu unusable entries left out)",
                 j->idx.charts, j->idx.n, j->idx.dropped, j->idx.skipped);
    conclude(j, "successful", msg);
}

/* The catalog from the job's index (MIRRORED: pulled from the host's
 * copy), a slice a turn. */
static void apply_start(struct job *j, int mirrored)
{
    j->applying = 1;
    j->mirrored = mirrored;
    j->applied = 0;
    apply_more(j);
}

/* The host's copy of the Repo's charts keeps only what IDX (NULL:
 * nothing) lists. */
static void prune_mirror(struct job *j, const struct appstore_remote_index *idx)
{
    struct appstore *a = j->rs->a;
    struct appstore_repo *r = appstore_store_repo(a->store, j->name);
    char err[256];
    for (size_t i = r ? r->n : 0; i-- > 0;) {
        const struct appstore_version *v = r->versions[i];
        int listed = 0;
        for (size_t k = 0; idx && k < idx->n && !listed; k++)
            listed = strcmp(idx->versions[k].v.name, v->name) == 0 &&
                     strcmp(idx->versions[k].v.version, v->version) == 0;
        if (!listed && appstore_store_delete(a->store, r, r->versions[i], err,
                                             sizeof(err)) != 0)
            a->host->log(a->host, FG_LOG_WARN, "appstore: repo %s: %s", j->name,
                         err);
    }
}

/* ---- one sync ------------------------------------------------------------ */

static void schedule(struct job *j);

static int on_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    struct job *j = ctx;
    j->status = status;
    if (status != 301 && status != 302 && status != 303 && status != 307 &&
        status != 308)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i].name_len != 8 || memcmp(h[i].name, "location", 8) != 0)
            continue;
        if (!appstore_location_ok(h[i].value, h[i].value_len, MAX_LOCATION))
            snprintf(j->failure, sizeof(j->failure),
                     "HTTP status %d: its Location is not a URL to follow",
                     status);
        else if (!j->location)
            j->location = strndup(h[i].value, h[i].value_len);
    }
    return 0;
}

static int on_data(void *ctx, const void *buf, size_t len)
{
    struct job *j = ctx;
    if (j->too_large || j->status != 200)
        return 0;
    if (j->len + len > j->limit) {
        j->too_large = 1; /* stop reading: the finish closes the stream */
        j->rs->a->host->timer_arm(j->done, 0);
        return 0;
    }
    if (j->len + len > j->cap) {
        size_t cap = (j->len + len) * 2;
        if (cap > j->limit)
            cap = (size_t)j->limit;
        char *b = realloc(j->body, cap);
        if (!b) {
            snprintf(j->failure, sizeof(j->failure), "out of memory");
            j->rs->a->host->timer_arm(j->done, 0);
            return -1;
        }
        j->body = b;
        j->cap = cap;
    }
    memcpy(j->body + j->len, buf, len);
    j->len += len;
    return 0;
}

static void on_end(void *ctx)
{
    struct job *j = ctx;
    j->ended = 1;
    j->rs->a->host->timer_arm(j->done, 0);
}

static void on_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    struct job *j = ctx;
    snprintf(j->failure, sizeof(j->failure), "%d %s: %s", code, reason,
             message);
    j->rs->a->host->timer_arm(j->done, 0);
}

static void on_nothing(void *ctx)
{
    (void)ctx;
}

static const struct fg_stream_callbacks callbacks = {
    on_head, on_data, on_end, on_error, on_nothing, on_nothing, NULL, NULL,
};

/* A reading under way ends (its result dropped) before the body it reads
 * may go. */
static void parse_stop(struct job *j)
{
    if (!j->parse)
        return;
    j->rs->a->host->timer_cancel(j->parsed);
    pthread_join(j->parse->thread, NULL);
    if (j->parse->rc == 0)
        appstore_remote_index_free(&j->parse->idx);
    free(j->parse);
    j->parse = NULL;
}

static void stop_request(struct job *j)
{
    const struct fg_host *h = j->rs->a->host;
    parse_stop(j);
    if (j->stream)
        h->client_stream_close(j->stream);
    if (j->client)
        h->client_free(j->client);
    j->stream = NULL;
    j->client = NULL;
    free(j->body);
    free(j->url);
    free(j->location);
    j->body = NULL;
    j->url = NULL;
    j->location = NULL;
    j->len = j->cap = 0;
    j->status = j->too_large = j->ended = 0;
    j->failure[0] = 0;
}

/* The sync is over: nothing of it stays. */
static void end_sync(struct job *j)
{
    stop_request(j);
    free(j->index_url);
    j->index_url = NULL;
    appstore_remote_index_free(&j->idx);
    j->mirroring = 0;
    j->at = 0;
    if (j->apply)
        j->rs->a->host->timer_cancel(j->apply);
    j->applying = j->mirrored = 0;
    j->applied = 0;
    j->redirects = 0;
}

/* The Repo's CA file: caData (PEM, or its base64) written under
 * STATE_DIR/appstore/repos/NAME/ca.crt, else the system bundle. NULL with
 * ERR. */
static char *ca_file(struct job *j, const cJSON *repo, char *err, size_t len)
{
    const char *data = text(repo, "spec.credential.caData");
    if (!data || !*data)
        return strdup(j->rs->l.system_ca_file);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/appstore/repos/%s",
             j->rs->a->host->state_dir, j->name);
    size_t n = strlen(data);
    char *pem = malloc(n + 1); /* base64 decodes to fewer bytes */
    if (!pem) {
        snprintf(err, len, "out of memory");
        return NULL;
    }
    long got =
        strstr(data, "-----BEGIN") ? -1 : fg_base64_decode(pem, n, data, n, 0);
    if (got < 0) {
        memcpy(pem, data, n);
        got = (long)n;
    }
    char *path = NULL;
    if (appstore_mkdir_p(dir, err, len) == 0 &&
        appstore_write_atomic(dir, "ca.crt", pem, (size_t)got, err, len) == 0 &&
        (path = malloc(strlen(dir) + 8)))
        sprintf(path, "%s/ca.crt", dir);
    free(pem);
    return path;
}

/* Starts GET URL (https://HOST[:PORT]/PATH) for the Repo REPO, its
 * answer bounded by LIMIT bytes; the credentials go along when URL is on
 * the Repo's own server, as Helm sends them. 0, or -1 with ERR. */
static int start_get(struct job *j, const cJSON *repo, const char *url,
                     uint64_t limit, char *err, size_t len)
{
    const struct fg_host *h = j->rs->a->host;
    if (strncmp(url, "https://", 8) != 0) {
        snprintf(err, len, "GET %.300s: only https:// is fetched", url);
        return -1;
    }
    const char *path = strchr(url + 8, '/');
    size_t host_len = path ? (size_t)(path - url) : strlen(url);
    const char *own = text(repo, "spec.url");
    int same = strncmp(own, url, host_len) == 0 &&
               (own[host_len] == '/' || own[host_len] == 0);
    char *server = strndup(url, host_len);
    j->url = strdup(url);
    j->limit = limit;
    if (!server || !j->url) {
        free(server);
        snprintf(err, len, "out of memory");
        return -1;
    }
    const cJSON *insecure =
        fg_json_path(repo, "spec.credential.insecureSkipTLSVerify");
    char *ca = cJSON_IsTrue(insecure) ? NULL : ca_file(j, repo, err, len);
    struct fg_client_config cfg = {
        .struct_size = sizeof(cfg),
        .name = j->name,
        .server = server,
        .ca_file = ca,
        .insecure = cJSON_IsTrue(insecure),
        .http2 = 1,
        .connect_timeout_ms = j->rs->l.connect_timeout_ms,
        .request_timeout_ms = j->rs->l.request_timeout_ms,
        .max_streams = 1,
    };
    if (ca || cfg.insecure)
        j->client = h->client_new(h, &cfg, err, len);
    free(server);
    free(ca);
    if (!j->client)
        return -1;
    const char *user = same ? text(repo, "spec.credential.username") : NULL;
    const char *pass = same ? text(repo, "spec.credential.password") : NULL;
    char userpass[1024], auth[1400 + 6] = "Basic ";
    struct fg_header extra[2] = {{"accept", 6, "*/*", 3}};
    size_t n_extra = 1;
    if ((user && *user) || (pass && *pass)) {
        int n = snprintf(userpass, sizeof(userpass), "%s:%s", user ? user : "",
                         pass ? pass : "");
        if (n < 0 || (size_t)n >= sizeof(userpass)) {
            snprintf(err, len,
                     "spec.credential: the user name and password "
                     "are too long");
            return -1;
        }
        fg_base64_encode(auth + 6, userpass, (size_t)n, 0);
        extra[n_extra++] =
            (struct fg_header){"authorization", 13, auth, strlen(auth)};
    }
    struct fg_request_head head = {
        .method = "GET",
        .path = path ? path : "/",
        .content_length = 0,
        .http_version = 11,
    };
    j->stream =
        h->client_stream_open(j->client, &head, extra, n_extra, &callbacks, j);
    if (!j->stream) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    h->client_stream_end(j->stream);
    return 0;
}

/* The sync ends: the Repo's state and message, and the next one. */
static void conclude(struct job *j, const char *state, const char *message)
{
    end_sync(j);
    set_status(j, state, message);
    schedule(j);
}

/* Starts GET URL/index.yaml of the Repo REPO: 0, or -1 with ERR. */
static int start_index(struct job *j, const cJSON *repo, char *err, size_t len)
{
    const char *url = text(repo, "spec.url");
    size_t n = strlen(url);
    while (n > 8 && url[n - 1] == '/')
        n--;
    if (!(j->index_url = malloc(n + 12))) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    snprintf(j->index_url, n + 12, "%.*s/index.yaml", (int)n, url);
    return start_get(j, repo, j->index_url, j->rs->l.max_index_bytes, err, len);
}

/* Mirroring: downloads the next version the host has no copy of, or ends
 * the sync when every one is there. */
static void mirror_next(struct job *j)
{
    struct appstore *a = j->rs->a;
    char err[384], msg[512];
    const cJSON *repo =
        fg_objects_get(a->catalog.objects, repo_kind(), NULL, j->name);
    struct appstore_repo *r =
        repo ? appstore_store_add(a->store, j->name, a->host, err, sizeof(err))
             : NULL;
    if (!r) {
        conclude(j, "failed", repo ? err : "the Repo is gone");
        return;
    }
    for (; j->at < j->idx.n; j->at++) {
        const struct appstore_version *v = &j->idx.versions[j->at].v;
        const struct appstore_version *have =
            appstore_store_find(r, v->name, v->version);
        if (have && (!*v->digest || strcmp(have->digest, v->digest) == 0))
            continue;
        char *url =
            appstore_url_resolve(j->index_url, j->idx.versions[j->at].url);
        int rc = url ? start_get(j, repo, url, a->limits.max_chart_bytes, err,
                                 sizeof(err))
                     : -1;
        if (!url)
            snprintf(err, sizeof(err), "out of memory");
        free(url);
        if (rc == 0)
            return;
        snprintf(msg, sizeof(msg), "chart %s-%s: %s", v->name, v->version, err);
        conclude(j, "failed", msg);
        return;
    }
    prune_mirror(j, &j->idx);
    apply_start(j, 1);
}

/* A downloaded chart: checked against the index and Helm's loader, then
 * stored. 0, or -1 with ERR. */
static int keep_chart(struct job *j, char *err, size_t len)
{
    struct appstore *a = j->rs->a;
    const struct appstore_version *want = &j->idx.versions[j->at].v;
    char digest[65];
    appstore_sha256_hex(j->body, j->len, digest);
    if (*want->digest && strcmp(digest, want->digest) != 0) {
        snprintf(err, len,
                 "its SHA-256 %s is not the digest the index gives (%s)",
                 digest, want->digest);
        return -1;
    }
    cJSON *meta = appstore_chart_read(j->body, j->len, &a->limits, err, len);
    if (!meta)
        return -1;
    const char *name = text(meta, "name"), *version = text(meta, "version");
    if (strcmp(name, want->name) != 0 || strcmp(version, want->version) != 0) {
        snprintf(err, len, "the archive holds %.100s %.100s", name, version);
        cJSON_Delete(meta);
        return -1;
    }
    struct appstore_repo *r = appstore_store_repo(a->store, j->name);
    return r && appstore_store_put(a->store, r, j->body, j->len, meta, NULL, 0,
                                   1, err, len) == 0
               ? 0
               : -1;
}

static void sync_now(struct job *j)
{
    if (j->client || j->applying) {
        j->again = 1; /* after the one running */
        return;
    }
    const cJSON *repo =
        fg_objects_get(j->rs->a->catalog.objects, repo_kind(), NULL, j->name);
    if (!repo)
        return;
    char err[512];
    set_status(j, "syncing", "fetching the index");
    repo =
        fg_objects_get(j->rs->a->catalog.objects, repo_kind(), NULL, j->name);
    if (!repo || start_index(j, repo, err, sizeof(err)) != 0)
        conclude(j, "failed", err);
}

/* What went wrong with the request that ended, into MSG; 0 when its
 * answer is a complete 200. */
static int request_failure(struct job *j, char *msg, size_t len)
{
    if (j->failure[0])
        snprintf(msg, len, "GET %s: %s", j->url, j->failure);
    else if (j->too_large)
        snprintf(msg, len, "GET %s: larger than %s (%llu)", j->url,
                 j->mirroring ? "max_chart_bytes" : "max_index_bytes",
                 (unsigned long long)j->limit);
    else if (j->status != 200)
        snprintf(msg, len, "GET %s: HTTP status %d", j->url, j->status);
    else
        return 0;
    return -1;
}

static void *parse_main(void *arg)
{
    struct parse *p = arg;
    p->rc = appstore_index_read(p->text, p->len, p->max_versions, &p->idx,
                                p->err, sizeof(p->err));
    atomic_store(&p->done, 1);
    return NULL;
}

/* The index arrived: read it on a thread while the request (and its body)
 * stays. */
static void index_read(struct job *j)
{
    struct parse *p = calloc(1, sizeof(*p));
    if (!p) {
        conclude(j, "failed", "out of memory");
        return;
    }
    p->text = j->body ? j->body : "";
    p->len = j->len;
    p->max_versions = j->rs->l.max_versions;
    if (pthread_create(&p->thread, NULL, parse_main, p) != 0) {
        free(p);
        conclude(j, "failed", "cannot start a thread to read the index");
        return;
    }
    j->parse = p;
    j->rs->a->host->timer_arm(j->parsed, PARSE_POLL_MS);
}

/* The index was read (or not yet: look again): the catalog from it, or
 * the mirroring starts. */
static void index_parsed(void *arg)
{
    struct job *j = arg;
    struct parse *p = j->parse;
    char msg[512];
    if (!p)
        return;
    if (!atomic_load(&p->done)) {
        j->rs->a->host->timer_arm(j->parsed, PARSE_POLL_MS);
        return;
    }
    pthread_join(p->thread, NULL);
    j->parse = NULL;
    int rc = p->rc;
    snprintf(msg, sizeof(msg), "%s: %s", j->index_url, p->err);
    j->idx = p->idx;
    free(p);
    if (rc != 0) {
        conclude(j, "failed", msg);
        return;
    }
    const cJSON *repo =
        fg_objects_get(j->rs->a->catalog.objects, repo_kind(), NULL, j->name);
    stop_request(j);
    if (cJSON_IsTrue(fg_json_path(repo, "spec.mirror"))) {
        j->mirroring = 1;
        mirror_next(j);
        return;
    }
    prune_mirror(j, NULL); /* mirroring was turned off */
    apply_start(j, 0);
}

/* The request failed (MSG): so does the sync, naming the chart when it
 * was a chart's download. */
static void request_failed(struct job *j, const char *msg)
{
    if (!j->mirroring) {
        conclude(j, "failed", msg);
        return;
    }
    const struct appstore_version *v = &j->idx.versions[j->at].v;
    char full[640];
    snprintf(full, sizeof(full), "chart %s-%s: %s", v->name, v->version, msg);
    conclude(j, "failed", full);
}

/* A redirect: GET its Location instead (resolved against the URL asked
 * for; https:// only; credentials only to the Repo's own host, which
 * start_get decides), up to MAX_REDIRECTS in a row. */
static void follow(struct job *j)
{
    char msg[640], err[384];
    const cJSON *repo =
        fg_objects_get(j->rs->a->catalog.objects, repo_kind(), NULL, j->name);
    char *next = appstore_url_resolve(j->url, j->location);
    uint64_t limit = j->limit;
    if (++j->redirects > MAX_REDIRECTS)
        snprintf(msg, sizeof(msg), "GET %s: more than %d redirects", j->url,
                 MAX_REDIRECTS);
    else if (!repo || !next)
        snprintf(msg, sizeof(msg), "%s",
                 repo ? "out of memory" : "the Repo is gone");
    else
        msg[0] = 0;
    stop_request(j);
    if (!msg[0] && start_get(j, repo, next, limit, err, sizeof(err)) != 0)
        snprintf(msg, sizeof(msg), "%s", err);
    free(next);
    if (msg[0])
        request_failed(j, msg);
}

/* The request ended (or must end): on with the sync, or its end. */
static void finish(void *arg)
{
    struct job *j = arg;
    char msg[512], err[384];
    if (!j->client)
        return; /* nothing runs */
    if (!request_failure(j, msg, sizeof(msg)) && !j->ended)
        return; /* armed by a callback that was not the last */
    if (j->ended && j->location && !j->failure[0]) {
        follow(j);
        return;
    }
    if (request_failure(j, msg, sizeof(msg)) != 0) {
        request_failed(j, msg);
        return;
    }
    j->redirects = 0;
    if (!j->mirroring) {
        index_read(j);
        return;
    }
    if (keep_chart(j, err, sizeof(err)) != 0) {
        request_failed(j, err);
        return;
    }
    stop_request(j);
    j->at++;
    mirror_next(j);
}

/* After a sync: again at once when asked meanwhile, else after the
 * period with up to a tenth more, so that Repos made together spread. */
static void schedule(struct job *j)
{
    const struct fg_host *h = j->rs->a->host;
    if (j->again) {
        j->again = 0;
        h->timer_arm(j->tick, 0);
        return;
    }
    const cJSON *repo =
        fg_objects_get(j->rs->a->catalog.objects, repo_kind(), NULL, j->name);
    const cJSON *p = fg_json_path(repo, "spec.syncPeriod");
    uint64_t period = cJSON_IsNumber(p) && p->valuedouble > 0
                          ? (uint64_t)p->valuedouble * 1000
                          : 0;
    if (period)
        h->timer_arm(j->tick, period + (uint64_t)rand() % (period / 10 + 1));
}

static void tick(void *arg)
{
    sync_now(arg);
}

/* ---- jobs ---------------------------------------------------------------- */

static void job_free(struct job *j)
{
    const struct fg_host *h = j->rs->a->host;
    end_sync(j);
    h->timer_free(j->tick);
    h->timer_free(j->done);
    h->timer_free(j->parsed);
    h->timer_free(j->apply);
    free(j->key);
    free(j);
}

static struct job *job_new(struct appstore_repos *rs, const char *name)
{
    const struct fg_host *h = rs->a->host;
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->rs = rs;
    snprintf(j->name, sizeof(j->name), "%s", name);
    j->tick = h->timer_new(h, tick, j);
    j->done = h->timer_new(h, finish, j);
    j->parsed = h->timer_new(h, index_parsed, j);
    j->apply = h->timer_new(h, apply_more, j);
    if (!j->tick || !j->done || !j->parsed || !j->apply) {
        job_free(j);
        return NULL;
    }
    j->next = rs->jobs;
    rs->jobs = j;
    return j;
}

static struct job *job_find(struct appstore_repos *rs, const char *name)
{
    for (struct job *j = rs->jobs; j; j = j->next)
        if (strcmp(j->name, name) == 0)
            return j;
    return NULL;
}

void appstore_repos_changed(void *arg, int ev, const cJSON *obj)
{
    struct appstore_repos *rs = arg;
    const char *name = text(obj, "metadata.name");
    if (!name || strlen(name) >= sizeof(((struct job *)0)->name))
        return;
    struct job *j = job_find(rs, name);
    if (ev == FG_OBJECT_DELETED) {
        if (!j)
            return;
        for (struct job **p = &rs->jobs; *p; p = &(*p)->next)
            if (*p == j) {
                *p = j->next;
                break;
            }
        prune_mirror(j, NULL);
        job_free(j);
        remove_stale(&rs->a->catalog, name, NULL);
        return;
    }
    if (!j && !(j = job_new(rs, name))) {
        rs->a->host->log(rs->a->host, FG_LOG_ERROR,
                         "appstore: repo %s: out of memory", name);
        return;
    }
    char *key = sync_key(obj);
    if (key && j->key && strcmp(key, j->key) == 0) {
        free(key); /* our own status write, or metadata */
        return;
    }
    free(j->key);
    j->key = key;
    rs->a->host->timer_arm(j->tick, 0); /* not from inside the store */
}

/* At start: a Repo cut short while syncing, or never synced, syncs now;
 * the others when their period since the last sync is over. */
static int start_one(void *arg, const cJSON *obj)
{
    struct appstore_repos *rs = arg;
    const char *name = text(obj, "metadata.name");
    struct job *j = name ? job_new(rs, name) : NULL;
    if (!j)
        return 0;
    j->key = sync_key(obj);
    const char *state = text(obj, "status.state");
    const cJSON *p = fg_json_path(obj, "spec.syncPeriod");
    uint64_t period = cJSON_IsNumber(p) && p->valuedouble > 0
                          ? (uint64_t)p->valuedouble * 1000
                          : 0;
    struct tm tm = {0};
    const char *last = text(obj, "status.lastUpdateTime");
    uint64_t now = rs->a->host->now_ms(rs->a->host), due = 0;
    if (last && strptime(last, "%Y-%m-%dT%H:%M:%SZ", &tm))
        due = (uint64_t)timegm(&tm) * 1000 + period;
    if (!state || strcmp(state, "syncing") == 0)
        rs->a->host->timer_arm(j->tick, 0);
    else if (period)
        rs->a->host->timer_arm(j->tick, due > now ? due - now : 0);
    return 0;
}

struct appstore_repos *appstore_repos_new(struct appstore *a,
                                          const struct appstore_sync_limits *l)
{
    struct appstore_repos *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return NULL;
    rs->a = a;
    rs->l = *l;
    rs->system_ca = strdup(l->system_ca_file);
    if (!rs->system_ca) {
        free(rs);
        return NULL;
    }
    rs->l.system_ca_file = rs->system_ca;
    fg_objects_each(a->catalog.objects, repo_kind(), start_one, rs);
    return rs;
}

void appstore_repos_free(struct appstore_repos *rs)
{
    if (!rs)
        return;
    while (rs->jobs) {
        struct job *j = rs->jobs;
        rs->jobs = j->next;
        job_free(j);
    }
    free(rs->system_ca);
    free(rs);
}
