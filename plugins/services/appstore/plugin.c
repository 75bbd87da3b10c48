/* The app store service plugin: its descriptor and configuration keys, the
 * instance (the repositories named in `repositories`, the store under
 * STATE_DIR/appstore/), the streams (the request body is gathered up to
 * the upload limit, then http.c answers it in one piece) and describe,
 * which tells the core what resource each path touches so that RBAC and
 * audit see it: in group application.kubesphere.io, resource repos, the
 * repository's name, verb get for GET and HEAD (pull, list), create for
 * POST (push a chart or provenance), delete for DELETE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/fedgate.h>
#include <fedgate/util.h>
#include <fedgate/service.h>

#include "appstore.h"
#include "release.h"
#include "repo.h"
#include "release_job.h"
#include "release_live.h"

#define MAX_REPOS 64
/* the upload body holds a provenance file and multipart framing besides
 * the chart */
#define BODY_EXTRA (256 * 1024)
/* the largest max_chart_bytes: the core lets bodies this big through to
 * the service, which holds each push to its configured max_chart_bytes */
#define MAX_CHART_LIMIT (1024LL * 1024 * 1024)

struct stream {
    struct appstore *a;
    struct fg_objects_stream *object; /* a catalog request (catalog.h) */
    struct appstore_live *live;       /* a release's live objects */
    const struct fg_request_head *head;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    char *body;
    size_t len, cap;
    int too_large;
};

/* A DNS-1123 label that is none of the service's own path words. */
static int repo_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-'))
            return 0;
    return !(n == 3 && memcmp(s, "api", 3) == 0) &&
           !(n == 6 && memcmp(s, "health", 6) == 0);
}

/* The names in LIST (comma- or space-separated) into NAMES. */
static int repo_names(const char *list, char names[][64], size_t *n, char *err,
                      size_t err_len)
{
    *n = 0;
    for (const char *p = list; *p;) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            break;
        if (!repo_name_ok(p, len)) {
            snprintf(err, err_len,
                     "repositories: \"%.*s\" is not a DNS-1123 label (or is "
                     "api or health)",
                     (int)(len > 63 ? 63 : len), p);
            return -1;
        }
        for (size_t i = 0; i < *n; i++)
            if (strlen(names[i]) == len && memcmp(names[i], p, len) == 0) {
                snprintf(err, err_len, "repositories: %s appears twice",
                         names[i]);
                return -1;
            }
        if (*n == MAX_REPOS) {
            snprintf(err, err_len, "repositories: more than %d", MAX_REPOS);
            return -1;
        }
        memcpy(names[*n], p, len);
        names[(*n)++][len] = 0;
        p += len;
    }
    if (*n == 0) {
        snprintf(err, err_len, "repositories: no repository named");
        return -1;
    }
    return 0;
}

static void instance_free(void *instance);

/* The names of the store's repositories: the hosted ones, then those of
 * Repos whose charts the host mirrors. */
struct mirrored {
    const char *names[2 * MAX_REPOS + 1024];
    size_t n;
};

static int add_mirrored(void *arg, const cJSON *obj)
{
    struct mirrored *m = arg;
    const cJSON *name = fg_json_path(obj, "metadata.name");
    if (cJSON_IsTrue(fg_json_path(obj, "spec.mirror")) &&
        cJSON_IsString(name) && m->n < sizeof(m->names) / sizeof(m->names[0]))
        m->names[m->n++] = name->valuestring;
    return 0;
}

/* The Repo objects' syncs, which may not take the N hosted NAMES. */
static int repos_start(struct appstore *a, const struct fg_section *s,
                       const char *const *names, size_t n, char *err,
                       size_t err_len)
{
    const char **hosted = calloc(n, sizeof(*hosted));
    for (size_t i = 0; hosted && i < n; i++)
        hosted[i] = appstore_store_repo(a->store, names[i])->name;
    a->catalog.hosted = hosted;
    a->catalog.n_hosted = n;
    struct appstore_sync_limits l = {
        .max_index_bytes = (uint64_t)s->get_int(s, "max_index_bytes", 0),
        .max_versions = (size_t)s->get_int(s, "max_versions_per_chart", 0),
        .connect_timeout_ms =
            (uint64_t)s->get_int(s, "repo_connect_timeout", 0),
        .request_timeout_ms =
            (uint64_t)s->get_int(s, "repo_request_timeout", 0),
        .system_ca_file = s->get(s, "repo_ca_file"),
    };
    if (hosted && (a->repos = appstore_repos_new(a, &l))) {
        a->catalog.repo_changed = appstore_repos_changed;
        a->catalog.repo_arg = a->repos;
        return 0;
    }
    snprintf(err, err_len, "out of memory");
    instance_free(a);
    return -1;
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    char names[MAX_REPOS][64];
    const char *ptrs[MAX_REPOS];
    size_t n;
    if (repo_names(s->get(s, "repositories"), names, &n, err, err_len) < 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        ptrs[i] = names[i];
    struct appstore *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    a->host = host;
    a->limits.max_chart_bytes =
        (uint64_t)s->get_int(s, "max_chart_bytes", APPSTORE_MAX_CHART_BYTES);
    a->limits.max_file_bytes =
        (uint64_t)s->get_int(s, "max_file_bytes", APPSTORE_MAX_FILE_BYTES);
    a->limits.max_expanded_bytes = (uint64_t)s->get_int(
        s, "max_expanded_bytes", APPSTORE_MAX_EXPANDED_BYTES);
    a->max_body = a->limits.max_chart_bytes + BODY_EXTRA;
    a->helm_image = strdup(s->get(s, "helm_image"));
    a->helm_deadline_s = s->get_int(s, "helm_job_deadline", 600000) / 1000;
    a->helm_ttl_s = s->get_int(s, "helm_job_ttl", 3600000) / 1000;
    a->helm_poll_ms = (uint64_t)s->get_int(s, "helm_poll_interval", 2000);
    if (!a->helm_image) {
        snprintf(err, err_len, "out of memory");
        free(a);
        return NULL;
    }
    if (appstore_catalog_open(&a->catalog, host->state_dir, err, err_len)) {
        free(a->helm_image);
        free(a);
        return NULL;
    }
    /* the copies of mirrored Repos are the store's too (their blobs stay) */
    struct mirrored m = {{0}, n};
    memcpy(m.names, ptrs, n * sizeof(*ptrs));
    fg_objects_each(a->catalog.objects, &appstore_catalog_kinds[APPSTORE_REPOS],
                    add_mirrored, &m);
    a->store =
        appstore_store_open(host->state_dir, m.names, m.n, host, err, err_len);
    if (!a->store) {
        appstore_catalog_close(&a->catalog);
        free(a->helm_image);
        free(a);
        return NULL;
    }
    appstore_mirror_all(a, ptrs, n);
    if (!(a->releases = appstore_releases_new(a))) {
        snprintf(err, err_len, "out of memory");
        instance_free(a);
        return NULL;
    }
    return repos_start(a, s, ptrs, n, err, err_len) == 0 ? a : NULL;
}

static void instance_free(void *instance)
{
    struct appstore *a = instance;
    if (!a)
        return;
    appstore_releases_free(a->releases);
    appstore_repos_free(a->repos);
    free((void *)a->catalog.hosted);
    appstore_catalog_close(&a->catalog);
    appstore_store_free(a->store);
    free(a->helm_image);
    free(a);
}

/* The release a request asks KubeSphere's DescribeAppRls of: a GET under
 * /kapis of applicationreleases/NAME, or of namespaces/NS/applications/NAME
 * as KubeSphere's console asks (the release NAME installed into NS);
 * NULL for any other request. */
static const cJSON *described_release(const struct appstore *a,
                                      const struct fg_request_head *h)
{
    const struct fg_request_info *i = h->info;
    /* its objects are read as the caller: there must be one */
    if (strncmp(h->path, "/kapis/", 7) != 0 || strcmp(h->method, "GET") != 0 ||
        !h->identity || !h->identity->user || !i || !i->is_resource ||
        strcmp(i->verb, "get") != 0 ||
        strcmp(i->api_group, APPSTORE_GROUP) != 0 ||
        strcmp(i->api_version, APPSTORE_VERSION) != 0 || *i->subresource)
        return NULL;
    int namespaced = *i->namespace_ != 0;
    if (strcmp(i->resource,
               namespaced ? "applications" : "applicationreleases") != 0)
        return NULL;
    const cJSON *rel = fg_objects_get(
        a->catalog.objects, &appstore_catalog_kinds[APPSTORE_RELEASES], NULL,
        i->name);
    const cJSON *ns =
        fg_json_path(rel, "metadata.labels.kubesphere\\.io/namespace");
    if (namespaced &&
        (!cJSON_IsString(ns) || strcmp(ns->valuestring, i->namespace_) != 0))
        return NULL;
    return rel;
}

static void *stream_open(void *instance, const struct fg_request_head *head,
                         const struct fg_stream_callbacks *cb, void *ctx)
{
    struct stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->a = instance;
    s->head = head;
    s->cb = cb;
    s->ctx = ctx;
    struct fg_objects *catalog = s->a->catalog.objects;
    const cJSON *rel = described_release(s->a, head);
    if (rel) {
        if (!(s->live =
                  appstore_live_open(s->a, rel, head->identity, cb, ctx))) {
            free(s);
            return NULL;
        }
        return s;
    }
    /* Helm's paths read as repos too (describe), for RBAC */
    if (strncmp(head->path, "/helm/", 6) != 0 &&
        fg_objects_kind_of(catalog, head->info) &&
        !(s->object = fg_objects_open(catalog, head, cb, ctx))) {
        free(s);
        return NULL;
    }
    return s;
}

static int stream_write(void *stream, const void *buf, size_t len)
{
    struct stream *s = stream;
    if (s->live)
        return 0; /* a GET's body means nothing */
    if (s->object)
        return fg_objects_write(s->object, buf, len);
    if (s->too_large || s->len + len > s->a->max_body) {
        s->too_large = 1; /* read on, answer 413 at the end */
        return 0;
    }
    if (s->len + len > s->cap) {
        size_t cap = (s->len + len) * 2;
        if (cap > s->a->max_body)
            cap = (size_t)s->a->max_body;
        char *b = realloc(s->body, cap);
        if (!b)
            return -1;
        s->body = b;
        s->cap = cap;
    }
    memcpy(s->body + s->len, buf, len);
    s->len += len;
    return 0;
}

static void free_body(void *arg, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    free(arg);
}

/* The catalog's API paths that are not its objects: its OpenAPI document,
 * or a Kubernetes 404 (not ChartMuseum's answer, which is for /helm/). */
static int serve_api(struct stream *s)
{
    const char *path = s->head->path;
    if (strncmp(path, "/apis/", 6) != 0 && strncmp(path, "/kapis/", 7) != 0 &&
        strncmp(path, "/openapi/", 9) != 0)
        return 0;
    char *doc = strcmp(path, "/openapi/v3/apis/" APPSTORE_GROUP
                             "/" APPSTORE_VERSION) == 0
                    ? fg_objects_openapi(s->a->catalog.objects, APPSTORE_GROUP,
                                         APPSTORE_VERSION)
                    : NULL;
    struct fg_header ct = {"content-type", 12, "application/json", 16};
    if (!doc)
        s->cb->error(s->ctx, 404, "NotFound",
                     "the server could not find the requested resource");
    else if (s->cb->head(s->ctx, 200, &ct, 1) == 0 &&
             s->cb->data(s->ctx, doc, strlen(doc)) >= 0)
        s->cb->end(s->ctx);
    free(doc);
    return 1;
}

static void stream_end(void *stream)
{
    struct stream *s = stream;
    const struct fg_request_head *h = s->head;
    if (s->object) {
        fg_objects_end(s->object);
        return;
    }
    if (s->live) {
        appstore_live_start(s->live);
        return;
    }
    if (serve_api(s))
        return;
    const char *ct = NULL;
    size_t ct_len = 0;
    for (size_t i = 0; i < h->n_headers; i++)
        if (fg_header_name_folds_to(h->headers[i].name, h->headers[i].name_len,
                                    "content-type", 0)) {
            ct = h->headers[i].value;
            ct_len = h->headers[i].value_len;
        }
    struct appstore_answer ans;
    if (appstore_serve(s->a, h->method, h->path, h->query, ct, ct_len, s->body,
                       s->len, s->too_large, &ans) < 0) {
        free(ans.body);
        s->cb->error(s->ctx, 500, "InternalError", "out of memory");
        return;
    }
    free(s->body); /* the answer no longer points into it */
    s->body = NULL;
    char len[24];
    snprintf(len, sizeof len, "%zu", ans.len);
    struct fg_header hd[] = {
        {"content-type", 12, ans.content_type, strlen(ans.content_type)},
        {"content-length", 14, len, strlen(len)},
    };
    if (s->cb->head(s->ctx, ans.status, hd, 2) < 0) {
        free(ans.body);
        return;
    }
    if (strcmp(h->method, "HEAD") != 0 && ans.len > 0) {
        if (s->cb->data_ref(s->ctx, ans.body, ans.len, free_body, ans.body) < 0)
            return;
    } else {
        free(ans.body);
    }
    s->cb->end(s->ctx);
}

/* A Helm answer is handed over at once; a catalog watch may wait. */
static void stream_resume(void *stream)
{
    struct stream *s = stream;
    if (s->object)
        fg_objects_resume(s->object);
}

static void stream_close(void *stream)
{
    struct stream *s = stream;
    if (!s)
        return;
    fg_objects_close(s->object);
    appstore_live_close(s->live);
    free(s->body);
    free(s);
}

static int describe(const char *method, const char *path, const char *query,
                    struct fg_request_info *info, fg_service_alloc_fn alloc,
                    void *actx)
{
    (void)query;
    struct appstore_route rt;
    if (strncmp(path, "/helm/", 6) != 0)
        return 0; /* /kapis/...: the core read it as a resource already */
    if (appstore_route(path, &rt) < 0)
        return -1;
    /* what Helm pulls may be public: RBAC decides for system:anonymous */
    int pull = (rt.op == APPSTORE_INDEX || rt.op == APPSTORE_FILE) &&
               (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
    if (rt.op == APPSTORE_HEALTH)
        return 0; /* a non-resource path, as /healthz */
    char *name = alloc(actx, strlen(rt.repo) + 1);
    if (!name)
        return -1;
    strcpy(name, rt.repo);
    info->is_resource = 1;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        info->verb = "get";
    else if (strcmp(method, "POST") == 0)
        info->verb = "create";
    else if (strcmp(method, "DELETE") == 0)
        info->verb = "delete";
    info->api_prefix = "apis";
    info->api_group = "application.kubesphere.io";
    info->api_version = "v2";
    info->namespace_ = "";
    info->resource = "repos";
    info->subresource = "";
    info->name = name;
    return pull;
}

/* KubeSphere's clients reach the catalog under /kapis as well */
static const char *const prefixes[] = {"/helm/", "/kapis/" APPSTORE_GROUP "/",
                                       NULL};
static const struct fg_service_api apis[] = {
    {APPSTORE_GROUP, APPSTORE_VERSION, appstore_catalog_resources},
    {NULL, NULL, NULL},
};

static const struct fg_service_ops ops = {
    .struct_size = sizeof(struct fg_service_ops),
    .prefixes = prefixes,
    .apis = apis,
    .streams =
        {
            .struct_size = sizeof(struct fg_driver_ops),
            .scope = FG_SCOPE_ONE_LOOP,
            .instance_new = instance_new,
            .instance_free = instance_free,
            .stream_open = stream_open,
            .stream_write = stream_write,
            .stream_end = stream_end,
            .stream_resume = stream_resume,
            .stream_close = stream_close,
        },
    .describe = describe,
    .max_request_body_bytes = MAX_CHART_LIMIT + BODY_EXTRA,
};

static const struct fg_config_key config_keys[] = {
    {"repositories", FG_CONFIG_STRING, "main", 0, 0, 0,
     "hosted Helm repositories, comma- or space-separated DNS-1123 labels: "
     "each served at /helm/NAME/ and /helm/api/NAME/"},
    {"max_chart_bytes", FG_CONFIG_INT, "10485760", 0, 1024, MAX_CHART_LIMIT,
     "largest chart archive (.tgz) a push may send, as Helm's loader "
     "bounds it"},
    {"max_file_bytes", FG_CONFIG_INT, "5242880", 0, 1024, 1024LL * 1024 * 1024,
     "largest file inside a chart archive"},
    {"max_expanded_bytes", FG_CONFIG_INT, "104857600", 0, 1024,
     16LL * 1024 * 1024 * 1024, "most bytes a chart archive may decompress to"},
    {"max_index_bytes", FG_CONFIG_INT, "67108864", 0, 1024,
     4LL * 1024 * 1024 * 1024,
     "largest index.yaml an external repository (a Repo object) may send"},
    {"max_versions_per_chart", FG_CONFIG_INT, "10", 0, 1, 100000,
     "newest versions of each chart a Repo's sync keeps in the catalog"},
    {"repo_connect_timeout", FG_CONFIG_DURATION, "10s", 0, 100, 600000,
     "connecting to an external repository (resolve, TCP, TLS)"},
    {"repo_request_timeout", FG_CONFIG_DURATION, "120s", 0, 1000, 3600000,
     "a whole index.yaml download from an external repository"},
    {"repo_ca_file", FG_CONFIG_STRING, "/etc/ssl/certs/ca-certificates.crt", 0,
     0, 0,
     "CA bundle an external repository's certificate must chain to when "
     "its Repo gives no caData"},
    {"helm_image", FG_CONFIG_STRING, APPSTORE_HELM_IMAGE, 0, 0, 0,
     "the image a Helm chart release's Job runs in the member (the Helm "
     "CLI as its entrypoint, as alpine/helm has)"},
    {"helm_job_deadline", FG_CONFIG_DURATION, "600s", 0, 10000, 86400000,
     "how long a Helm Job may run (its activeDeadlineSeconds)"},
    {"helm_job_ttl", FG_CONFIG_DURATION, "3600s", 0, 0, 604800000,
     "how long a finished Helm Job stays for its logs "
     "(ttlSecondsAfterFinished)"},
    {"helm_poll_interval", FG_CONFIG_DURATION, "2s", 0, 100, 60000,
     "how often the host reads a running Helm Job's release Secret"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_SERVICE,
    .name = "appstore",
    .version = "0.1.0",
    .description = "the host's Helm chart repository (ChartMuseum's API)",
    .config_keys = config_keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
