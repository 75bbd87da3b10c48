/* The service's HTTP routes: Helm's repository layout under
 * /helm/REPO/ (index.yaml, charts/NAME-VERSION.tgz and .tgz.prov) and
 * ChartMuseum's API under /helm/api/REPO/ (charts, prov), with its
 * answers: {"saved":true}, {"deleted":true}, {"error":"..."}. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#include "appstore.h"

#define ERR_LEN 512

/* The next path segment after *P (which is at a '/'), percent-decoded
 * into OUT. 0, or -1 when there is none or it does not fit. */
static int segment(const char **p, char *out, size_t cap)
{
    if (**p != '/')
        return -1;
    const char *s = *p + 1;
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0 || fg_percent_decode(out, cap, s, n, 0) <= 0 || strlen(out) == 0)
        return -1;
    *p = s + n;
    return 0;
}

int appstore_route(const char *path, struct appstore_route *r)
{
    memset(r, 0, sizeof *r);
    if (strncmp(path, "/helm", 5) != 0)
        return -1;
    const char *p = path + 5;
    char first[64], what[16];
    if (segment(&p, first, sizeof first) < 0)
        return -1;
    if (strcmp(first, "health") == 0) {
        r->op = APPSTORE_HEALTH;
        return *p ? -1 : 0;
    }
    if (strcmp(first, "api") != 0) {
        snprintf(r->repo, sizeof r->repo, "%s", first);
        if (segment(&p, what, sizeof what) < 0)
            return -1;
        if (strcmp(what, "index.yaml") == 0 && !*p) {
            r->op = APPSTORE_INDEX;
            return 0;
        }
        r->op = APPSTORE_FILE;
        return strcmp(what, "charts") == 0 &&
                       segment(&p, r->name, sizeof r->name) == 0 && !*p
                   ? 0
                   : -1;
    }
    if (segment(&p, r->repo, sizeof r->repo) < 0 ||
        segment(&p, what, sizeof what) < 0)
        return -1;
    if (strcmp(what, "prov") == 0) {
        r->op = APPSTORE_API_PROV;
        return *p ? -1 : 0;
    }
    if (strcmp(what, "charts") != 0)
        return -1;
    r->op = APPSTORE_API_CHARTS;
    if (!*p)
        return 0;
    r->op = APPSTORE_API_CHART;
    if (segment(&p, r->name, sizeof r->name) < 0)
        return -1;
    if (!*p)
        return 0;
    r->op = APPSTORE_API_VERSION;
    return segment(&p, r->version, sizeof r->version) == 0 && !*p ? 0 : -1;
}

static int answer(struct appstore_answer *ans, int status, const char *type,
                  char *body, size_t len)
{
    ans->status = status;
    ans->content_type = type;
    ans->body = body;
    ans->len = len;
    return body || len == 0 ? 0 : -1;
}

static int json(struct appstore_answer *ans, int status, cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return answer(ans, status, "application/json", s, s ? strlen(s) : 1);
}

/* ChartMuseum's error body. */
static int error(struct appstore_answer *ans, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int error(struct appstore_answer *ans, int status, const char *fmt, ...)
{
    char msg[ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    if (j)
        cJSON_AddStringToObject(j, "error", msg);
    return json(ans, status, j);
}

static int flag(struct appstore_answer *ans, int status, const char *key)
{
    cJSON *j = cJSON_CreateObject();
    if (j)
        cJSON_AddTrueToObject(j, key);
    return json(ans, status, j);
}

static int copy(struct appstore_answer *ans, const char *type, const void *p,
                size_t n)
{
    char *b = malloc(n ? n : 1);
    if (b)
        memcpy(b, p, n);
    return answer(ans, 200, type, b, n);
}

/* The versions of chart NAME in R (all charts when NAME is NULL). */
static cJSON *versions(const struct appstore_repo *r, const char *name)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < r->n; i++) {
        if (strcmp(r->versions[i]->name, name) != 0)
            continue;
        cJSON *e = appstore_version_entry(r->versions[i]);
        if (!e) {
            cJSON_Delete(list);
            return NULL;
        }
        cJSON_AddItemToArray(list, e);
    }
    return list;
}

static int list_charts(struct appstore_answer *ans,
                       const struct appstore_repo *r)
{
    cJSON *all = cJSON_CreateObject();
    for (size_t i = 0; all && i < r->n; i++) {
        const char *name = r->versions[i]->name;
        if (i > 0 && strcmp(name, r->versions[i - 1]->name) == 0)
            continue;
        cJSON *l = versions(r, name);
        if (!l) {
            cJSON_Delete(all);
            all = NULL;
        } else {
            cJSON_AddItemToObject(all, name, l);
        }
    }
    return json(ans, 200, all);
}

static int download(struct appstore *a, struct appstore_answer *ans,
                    struct appstore_repo *r, const char *file)
{
    int prov;
    const struct appstore_version *v = appstore_store_find_file(r, file, &prov);
    if (!v || (prov && !*v->prov))
        return error(ans, 404, "%s not found", file);
    char err[ERR_LEN];
    size_t len;
    char *data = appstore_store_blob(a->store, prov ? v->prov : v->digest, &len,
                                     err, sizeof err);
    if (!data)
        return error(ans, 500, "%s", err);
    return answer(ans, 200,
                  prov ? "application/pgp-signature" : "application/gzip", data,
                  len);
}

/* The chart and provenance of an upload: the raw body is the field
 * DEFAULT_FIELD; multipart gives `chart` and `prov`. 0, 1 when it
 * answered ANS. */
static int upload_fields(struct appstore_answer *ans, const char *ct,
                         size_t ct_len, const void *body, size_t len,
                         const char *default_field, struct appstore_part *chart,
                         struct appstore_part *prov)
{
    char boundary[71], err[ERR_LEN];
    memset(chart, 0, sizeof *chart);
    memset(prov, 0, sizeof *prov);
    int mp =
        ct ? appstore_multipart_type(ct, ct_len, boundary, err, sizeof err) : 0;
    if (mp < 0)
        return error(ans, 400, "%s", err), 1;
    struct appstore_part *raw =
        strcmp(default_field, "chart") == 0 ? chart : prov;
    if (mp == 0) {
        raw->data = body;
        raw->len = len;
        return len ? 0 : (error(ans, 400, "the request body is empty"), 1);
    }
    struct appstore_part parts[APPSTORE_MAX_PARTS];
    int n = appstore_multipart(boundary, body, len, parts, err, sizeof err);
    if (n < 0)
        return error(ans, 400, "%s", err), 1;
    for (int i = 0; i < n; i++) {
        struct appstore_part *f = strcmp(parts[i].name, "chart") == 0  ? chart
                                  : strcmp(parts[i].name, "prov") == 0 ? prov
                                                                       : NULL;
        if (!f)
            continue;
        if (f->data)
            return error(ans, 400, "the form field %s appears twice",
                         parts[i].name),
                   1;
        *f = parts[i];
    }
    if (!raw->data)
        return error(ans, 400, "the form has no field %s", default_field), 1;
    return 0;
}

static int forced(const char *query)
{
    char v[16];
    if (!query || fg_query_get(query, "force", v, sizeof v) != 1)
        return 0;
    return !*v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* The catalog follows the repository; a chart it cannot name is logged
 * and stays a chart only. */
static void mirror(struct appstore *a, const struct appstore_repo *r,
                   const struct appstore_version *v)
{
    char err[ERR_LEN];
    if (v && a->catalog.objects &&
        appstore_mirror_version(&a->catalog, r->name, v, err, sizeof err) &&
        a->host)
        a->host->log(a->host, FG_LOG_WARN,
                     "appstore: %s: not in the catalog: %s", r->name, err);
}

static int post_chart(struct appstore *a, struct appstore_answer *ans,
                      struct appstore_repo *r, const char *query,
                      const char *ct, size_t ct_len, const void *body,
                      size_t len)
{
    struct appstore_part chart, prov;
    if (upload_fields(ans, ct, ct_len, body, len, "chart", &chart, &prov))
        return 0;
    char err[ERR_LEN];
    cJSON *md =
        appstore_chart_read(chart.data, chart.len, &a->limits, err, sizeof err);
    if (!md)
        return error(ans, 400, "%s", err);
    char digest[65];
    appstore_sha256_hex(chart.data, chart.len, digest);
    if (prov.data && appstore_prov_check(prov.data, prov.len, md, digest, err,
                                         sizeof err) < 0) {
        cJSON_Delete(md);
        return error(ans, 400, "%s", err);
    }
    char file[600], name[256], version[256];
    snprintf(name, sizeof name, "%s",
             cJSON_GetObjectItemCaseSensitive(md, "name")->valuestring);
    snprintf(version, sizeof version, "%s",
             cJSON_GetObjectItemCaseSensitive(md, "version")->valuestring);
    snprintf(file, sizeof file, "%s-%s.tgz", name, version);
    int rc =
        appstore_store_put(a->store, r, chart.data, chart.len, md, prov.data,
                           prov.len, forced(query), err, sizeof err);
    if (rc == APPSTORE_EXISTS)
        return error(ans, 409, "%s already exists", file);
    if (rc < 0)
        return error(ans, 500, "%s", err);
    mirror(a, r, appstore_store_find(r, name, version));
    return flag(ans, 201, "saved");
}

static int post_prov(struct appstore *a, struct appstore_answer *ans,
                     struct appstore_repo *r, const char *query, const char *ct,
                     size_t ct_len, const void *body, size_t len)
{
    struct appstore_part chart, prov;
    if (upload_fields(ans, ct, ct_len, body, len, "prov", &chart, &prov))
        return 0;
    char err[ERR_LEN];
    char digest[65];
    cJSON *md =
        appstore_prov_read(prov.data, prov.len, digest, err, sizeof err);
    if (!md)
        return error(ans, 400, "%s", err);
    const char *name =
        cJSON_GetObjectItemCaseSensitive(md, "name")->valuestring;
    const char *version =
        cJSON_GetObjectItemCaseSensitive(md, "version")->valuestring;
    struct appstore_version *v = appstore_store_find(r, name, version);
    int rc;
    if (!v)
        rc = error(ans, 404, "chart %s version %s not found", name, version);
    else if (strcmp(digest, v->digest) != 0)
        rc = error(ans, 400,
                   "the provenance file's sha256 for %s-%s.tgz is not the "
                   "chart's",
                   name, version);
    else if (*v->prov && !forced(query))
        rc = error(ans, 409, "%s-%s.tgz.prov already exists", name, version);
    else if (appstore_store_put_prov(a->store, r, v, prov.data, prov.len, err,
                                     sizeof err) < 0)
        rc = error(ans, 500, "%s", err);
    else
        rc = flag(ans, 201, "saved");
    cJSON_Delete(md);
    return rc;
}

static int is(const char *method, const char *m)
{
    return strcmp(method, m) == 0;
}

int appstore_serve(struct appstore *a, const char *method, const char *path,
                   const char *query, const char *ct, size_t ct_len,
                   const void *body, size_t len, int too_large,
                   struct appstore_answer *ans)
{
    struct appstore_route rt;
    memset(ans, 0, sizeof *ans);
    if (appstore_route(path, &rt) < 0)
        return error(ans, 404, "not found");
    int get = is(method, "GET") || is(method, "HEAD");
    int post = is(method, "POST"), del = is(method, "DELETE");
    int allowed = rt.op == APPSTORE_API_CHARTS    ? get || post
                  : rt.op == APPSTORE_API_PROV    ? post
                  : rt.op == APPSTORE_API_VERSION ? get || del
                                                  : get;
    if (!allowed)
        return error(ans, 405, "method %s is not allowed here", method);
    if (rt.op == APPSTORE_HEALTH)
        return flag(ans, 200, "healthy");
    struct appstore_repo *r = appstore_store_repo(a->store, rt.repo);
    if (!r)
        return error(ans, 404, "repository %s not found", rt.repo);
    /* a mirrored Repo's copy changes with its source only (a service
     * without a catalog has no Repos) */
    if ((post || del) && a->catalog.objects &&
        fg_objects_get(a->catalog.objects,
                       &appstore_catalog_kinds[APPSTORE_REPOS], NULL, r->name))
        return error(ans, 409,
                     "repository %s mirrors the Repo of that name: push to "
                     "its source",
                     r->name);
    if (too_large)
        return error(ans, 413,
                     "the request body is larger than %llu bytes (the "
                     "max_chart_bytes limit and room for a provenance "
                     "file)",
                     (unsigned long long)a->max_body);
    switch (rt.op) {
    case APPSTORE_INDEX: {
        char ctx[80];
        size_t n;
        snprintf(ctx, sizeof ctx, "/helm/%s", r->name);
        const char *y = appstore_index(r, ctx, &n);
        return y ? copy(ans, "application/x-yaml", y, n) : -1;
    }
    case APPSTORE_FILE:
        return download(a, ans, r, rt.name);
    case APPSTORE_API_CHARTS:
        return post ? post_chart(a, ans, r, query, ct, ct_len, body, len)
                    : list_charts(ans, r);
    case APPSTORE_API_CHART: {
        cJSON *l = versions(r, rt.name);
        if (l && cJSON_GetArraySize(l) == 0) {
            cJSON_Delete(l);
            return error(ans, 404, "chart %s not found", rt.name);
        }
        return json(ans, 200, l);
    }
    case APPSTORE_API_VERSION: {
        struct appstore_version *v =
            appstore_store_find(r, rt.name, rt.version);
        if (!v)
            return error(ans, 404, "chart %s version %s not found", rt.name,
                         rt.version);
        if (get)
            return json(ans, 200, appstore_version_entry(v));
        char err[ERR_LEN], name[256], version[256];
        snprintf(name, sizeof name, "%s", v->name);
        snprintf(version, sizeof version, "%s", v->version);
        if (appstore_store_delete(a->store, r, v, err, sizeof err) < 0)
            return error(ans, 500, "%s", err);
        struct appstore_version gone = {.name = name, .version = version};
        if (a->catalog.objects)
            appstore_mirror_remove(&a->catalog, r->name, &gone);
        return flag(ans, 200, "deleted");
    }
    case APPSTORE_API_PROV:
        return post_prov(a, ans, r, query, ct, ct_len, body, len);
    case APPSTORE_HEALTH:
        break;
    }
    return error(ans, 404, "not found");
}
