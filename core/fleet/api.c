/* Routing and answering requests for the host's own API (fleet.h):
 * discovery, OpenAPI, and clusters (list, get, watch) as JSON or as a
 * Table, whichever the Accept header asks for; writes go to write.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#include "daemon/gateway.h"
#include "fleet/discovery.h"
#include "fleet/fleet_internal.h"
#include "request/exchange_internal.h"
#include "request/status.h"

static const struct fg_header *header(const struct fg_request_in *req,
                                      const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++)
        if (req->headers[i].name_len == n &&
            strncasecmp(req->headers[i].name, name, n) == 0)
            return &req->headers[i];
    return NULL;
}

static int table_asked(const struct fg_request_in *req)
{
    static const char *const versions[] = {"v1", "v1beta1", NULL};
    const struct fg_header *h = header(req, "accept");
    return h ? fg_accept_find(h->value, h->value_len, "Table", "meta.k8s.io",
                              versions)
             : 0;
}

static void reply_json(struct fg_exchange *ex, cJSON *o, const char *ct)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    if (!text) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    fg_exchange_reply(ex, 200, ct, text, strlen(text));
    free(text);
}

/* A query parameter of the request, "" when absent; -1 when too long. */
static int param(struct fg_exchange *ex, const char *key, char *buf, size_t len)
{
    buf[0] = '\0';
    int rc = fg_query_get(ex->query, key, buf, len);
    if (rc < 0)
        fg_exchange_fail(ex, 400, "BadRequest", "%s is too long", key);
    return rc < 0 ? -1 : 0;
}

/* A decimal resourceVersion or timeoutSeconds; "" reads as 0. */
static int number(struct fg_exchange *ex, const char *key, const char *s,
                  uint64_t *out)
{
    char *end;
    unsigned long long v = *s ? strtoull(s, &end, 10) : 0;
    if (*s && (*end || s[0] == '-' || s[0] == '+' || s[0] == ' ')) {
        fg_exchange_fail(ex, 400, "BadRequest",
                         "%s: \"%s\" is not a whole number", key, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* The one field selector clusters support, kube-apiserver's for every
 * kind: metadata.name=NAME (or ==); and any label selector. Fills FLT
 * (its selector the caller's to free); -1 answered. */
static int read_filter(struct fg_exchange *ex, struct fg_fleet_filter *flt)
{
    char sel[128], labels[1024];
    memset(flt, 0, sizeof(*flt));
    if (param(ex, "fieldSelector", sel, sizeof(sel)) != 0 ||
        param(ex, "labelSelector", labels, sizeof(labels)) != 0)
        return -1;
    const char *v = sel;
    if (!*v) {
        snprintf(flt->name, sizeof(flt->name), "%s",
                 ex->info->name ? ex->info->name : "");
    } else if (strncmp(v, "metadata.name=", 14) != 0) {
        fg_exchange_fail(ex, 400, "BadRequest",
                         "field selector \"%s\": clusters support only "
                         "metadata.name=NAME",
                         sel);
        return -1;
    } else {
        v += v[14] == '=' ? 15 : 14;
        snprintf(flt->name, sizeof(flt->name), "%s", v);
    }
    int rc = fg_selector_parse(labels, 0, &flt->labels);
    if (rc == -1)
        fg_exchange_fail(ex, 400, "BadRequest",
                         "unable to parse requirement: invalid label "
                         "selector \"%s\"",
                         labels);
    else if (rc != 0)
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
    return rc == 0 ? 0 : -1;
}

/* Keeps of ITEMS those FLT keeps that EX's caller sees. */
static void keep_shown(struct fg_exchange *ex, cJSON *items,
                       const struct fg_fleet_filter *flt)
{
    for (int i = cJSON_GetArraySize(items); i-- > 0;)
        if (!fg_fleet_shown(ex, flt, cJSON_GetArrayItem(items, i)))
            cJSON_DeleteItemFromArray(items, i);
}

static void serve_list(struct fg_exchange *ex, const struct fg_request_in *req)
{
    struct fg_fleet *f = ex->worker->gw->fleet;
    int table = table_asked(req);
    char include[16], rvs[32], timeout[32];
    uint64_t rv, timeout_s;
    if (param(ex, "includeObject", include, sizeof(include)) != 0 ||
        param(ex, "resourceVersion", rvs, sizeof(rvs)) != 0 ||
        param(ex, "timeoutSeconds", timeout, sizeof(timeout)) != 0 ||
        number(ex, "resourceVersion", rvs, &rv) != 0 ||
        number(ex, "timeoutSeconds", timeout, &timeout_s) != 0)
        return;
    if (!include[0])
        snprintf(include, sizeof(include), "Metadata");
    if (strcmp(include, "None") != 0 && strcmp(include, "Metadata") != 0 &&
        strcmp(include, "Object") != 0) {
        fg_exchange_fail(ex, 400, "BadRequest",
                         "includeObject must be one of None, Metadata or "
                         "Object");
        return;
    }
    struct fg_fleet_filter flt;
    if (read_filter(ex, &flt) != 0)
        return;
    if (strcmp(ex->info->verb, "watch") == 0) {
        fg_fleet_watch_start(ex, rv, table, include, &flt, (int64_t)timeout_s);
        return;
    }
    cJSON *items = NULL;
    if (fg_fleet_snapshot(f, &items, &rv) != 0) {
        fg_selector_free(flt.labels);
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    keep_shown(ex, items, &flt);
    fg_selector_free(flt.labels);
    cJSON *out;
    if (table) {
        out = fg_fleet_table(items, table, include, rv);
    } else {
        out = cJSON_CreateObject();
        char rvt[24];
        snprintf(rvt, sizeof(rvt), "%llu", (unsigned long long)rv);
        cJSON_AddStringToObject(out, "kind", "ClusterList");
        cJSON_AddStringToObject(out, "apiVersion",
                                FG_FLEET_GROUP "/" FG_FLEET_VERSION);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(out, "metadata"),
                                "resourceVersion", rvt);
        cJSON_AddItemReferenceToObject(out, "items", items);
    }
    reply_json(ex, out,
               table == 2   ? "application/json;as=Table;v=v1beta1;"
                              "g=meta.k8s.io"
               : table == 1 ? "application/json;as=Table;v=v1;g=meta.k8s.io"
                            : "application/json");
    cJSON_Delete(out);
    cJSON_Delete(items);
}

static void serve_get(struct fg_exchange *ex, const struct fg_request_in *req)
{
    struct fg_fleet *f = ex->worker->gw->fleet;
    const char *name = ex->info->name;
    int missing = 0;
    cJSON *obj = fg_fleet_get(f, name, &missing);
    if (!missing && !fg_fleet_visible(ex, name)) {
        cJSON_Delete(obj); /* one the caller has no right on is not there */
        obj = NULL;
        missing = 1;
    }
    if (missing) {
        char msg[160];
        snprintf(msg, sizeof(msg), "clusters.%s \"%.80s\" not found",
                 FG_FLEET_GROUP, name);
        fg_exchange_not_found(ex, msg, name, "clusters");
        return;
    }
    int table = table_asked(req);
    if (!table) {
        reply_json(ex, obj, "application/json");
        cJSON_Delete(obj);
        return;
    }
    cJSON *items = cJSON_CreateArray();
    cJSON *t = NULL;
    if (items && cJSON_AddItemToArray(items, obj)) {
        obj = NULL;
        t = fg_fleet_table(items, table, "Metadata", fg_fleet_rv(f));
    }
    reply_json(ex, t,
               table == 2 ? "application/json;as=Table;v=v1beta1;"
                            "g=meta.k8s.io"
                          : "application/json;as=Table;v=v1;g=meta.k8s.io");
    cJSON_Delete(t);
    cJSON_Delete(items);
    cJSON_Delete(obj);
}

static void serve_clusters(struct fg_exchange *ex,
                           const struct fg_request_in *req)
{
    const struct fg_request_info *info = ex->info;
    const char *verb = info->verb;
    if (info->subresource && *info->subresource) {
        fg_exchange_fail(ex, 404, "NotFound",
                         "clusters have no subresource \"%s\"",
                         info->subresource);
        return;
    }
    if (strcmp(verb, "list") == 0 || strcmp(verb, "watch") == 0)
        serve_list(ex, req);
    else if (strcmp(verb, "get") == 0)
        serve_get(ex, req);
    else if ((strcmp(verb, "create") == 0) == !(info->name && *info->name) &&
             (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0 ||
              strcmp(verb, "patch") == 0 || strcmp(verb, "delete") == 0))
        fg_fleet_write_start(ex, req);
    else
        fg_exchange_fail(ex, 405, "MethodNotAllowed",
                         "%s is not supported here: clusters are created "
                         "on the list, changed and deleted one by one",
                         req->method);
}

void fg_fleet_serve(struct fg_exchange *ex, const struct fg_request_in *req)
{
    const char *path = ex->path;
    const struct fg_request_info *info = ex->info;
    int reading =
        strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (info->is_resource && strcmp(info->api_group, FG_FLEET_GROUP) == 0 &&
        strcmp(info->api_version, FG_FLEET_VERSION) == 0 &&
        strcmp(info->resource, "clusters") == 0 &&
        !(info->namespace_ && *info->namespace_)) {
        serve_clusters(ex, req);
        return;
    }
    struct fg_api_set apis;
    if (fg_fleet_apis(ex->gen, &apis) != 0) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    int discovery = fg_fleet_discovery_owns(&apis, path);
    int openapi = fg_fleet_openapi_owns(path);
    if ((discovery || openapi) && !reading) {
        fg_fleet_apis_free(&apis);
        fg_exchange_fail(ex, 405, "MethodNotAllowed",
                         "%s is not supported on %s", req->method, path);
        return;
    }
    if (!discovery && !openapi) {
        fg_fleet_apis_free(&apis);
        fg_exchange_fail(ex, 404, "NotFound",
                         "the server could not find the requested resource");
        return;
    }
    const char *ct = "application/json";
    const struct fg_header *accept = header(req, "accept");
    char *text =
        discovery
            ? fg_fleet_discovery(&apis, path, accept ? accept->value : NULL,
                                 accept ? accept->value_len : 0, &ct)
            : fg_fleet_openapi(&apis, path);
    fg_fleet_apis_free(&apis);
    if (!text) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    fg_exchange_reply(ex, 200, ct, text, strlen(text));
    free(text);
}
