/* Request routing for the mock member: maps a request (method, query,
 * Accept header, and what it addresses: the request info the core parsed,
 * see route.c) to an answer (a discovery document, an object, a streamed
 * list or Table, or a Status), following kube-apiserver's URL layout
 * /api/v1[/namespaces/NS]/RESOURCE[/NAME] and /apis/GROUP/VERSION/... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define CT_JSON "application/json"
#define CT_TABLE_V1 "application/json;as=Table;v=v1;g=meta.k8s.io"
#define CT_TABLE_V1BETA1 "application/json;as=Table;v=v1beta1;g=meta.k8s.io"

int mock_answer_body(struct mock_answer *a, int status, char *body,
                     const char *ct)
{
    if (!body)
        return -1;
    a->status = status;
    a->content_type = ct;
    a->body = body;
    a->body_len = strlen(body);
    return 0;
}

static int answer_status(struct mock_answer *a, int code, const char *reason,
                         const char *message)
{
    return mock_answer_body(
        a, code, mock_status_json(code, reason, message, NULL, NULL), CT_JSON);
}

static int not_found(struct mock_answer *a)
{
    return answer_status(a, 404, "NotFound",
                         "the server could not find the requested resource");
}

static int method_not_allowed(struct mock_answer *a)
{
    return answer_status(
        a, 405, "MethodNotAllowed",
        "the server does not allow this method on the requested resource");
}

/* What FIND says of the request's Accept headers: several fields are one
 * comma-separated list (RFC 9110 5.3), read in order. */
static int accept_find(const struct fg_request_head *h,
                       int (*find)(const char *accept, size_t len))
{
    for (size_t i = 0; i < h->n_headers; i++) {
        const struct fg_header *f = &h->headers[i];
        if (f->name_len != 6 || memcmp(f->name, "accept", 6) != 0)
            continue;
        int v = find(f->value, f->value_len);
        if (v)
            return v;
    }
    return 0;
}

static int table_of(const char *accept, size_t len)
{
    return (int)mock_accept_table(accept, len);
}

static enum mock_table_version accept_table(const struct fg_request_head *h)
{
    return (enum mock_table_version)accept_find(h, table_of);
}

static int accept_aggregated(const struct fg_request_head *h)
{
    return accept_find(h, mock_accept_aggregated);
}

static int resource_request(struct mock_instance *in,
                            const struct fg_request_head *head,
                            const struct mock_body *body, struct mock_answer *a)
{
    const char *method = head->method, *query = head->query;
    struct mock_route rt;
    if (mock_route_of(head->info, &rt) != 0)
        return not_found(a);
    const char *ns = rt.ns, *name = rt.name;
    int watch = rt.watch;
    if (!rt.group[0] && strcmp(rt.version, "v1") == 0 && ns[0] &&
        strcmp(rt.resource, "pods") == 0 && rt.sub &&
        strcmp(rt.sub, "log") == 0) {
        if (strcmp(method, "GET") != 0)
            return method_not_allowed(a);
        return mock_logs_serve(in, ns, name, query, a);
    }
    const struct mock_kind *k =
        mock_kind_by_resource(rt.group, rt.version, rt.resource);
    if (!k || (ns[0] && !k->namespaced) || (!ns[0] && name && k->namespaced))
        return not_found(a);
    /* Writes and subresources (status, scale) are write.c's. */
    if (strcmp(method, "GET") != 0 || rt.sub) {
        if (watch)
            return method_not_allowed(a);
        return mock_write(in, head, k, ns, name, rt.sub, body, a);
    }

    char val[64];
    int r = fg_query_get(query, "watch", val, sizeof(val));
    if (r != 0 && (r < 0 || mock_parse_bool(val) < 0))
        return answer_status(a, 400, "BadRequest", "watch must be a boolean");
    if (r > 0 && mock_parse_bool(val) == 1)
        watch = 1;
    enum mock_include inc = MOCK_INCLUDE_METADATA;
    r = fg_query_get(query, "includeObject", val, sizeof(val));
    if (r > 0 && strcmp(val, "Object") == 0) {
        inc = MOCK_INCLUDE_OBJECT;
    } else if (r > 0 && strcmp(val, "None") == 0) {
        inc = MOCK_INCLUDE_NONE;
    } else if (r != 0 && !(r > 0 && (strcmp(val, "Metadata") == 0 || !*val))) {
        return answer_status(a, 400, "BadRequest",
                             "includeObject must be one of None, Metadata "
                             "or Object");
    }
    enum mock_table_version tv = accept_table(head);

    if (name && !watch && !mock_store_get(in->store, k, ns, name))
        return mock_answer_body(a, 404, mock_status_not_found(k, name),
                                CT_JSON);
    if (name && !watch && tv == MOCK_TABLE_NONE) {
        const struct mock_obj *o = mock_store_get(in->store, k, ns, name);
        return mock_answer_body(a, 200, strndup(o->doc->json, o->doc->len),
                                CT_JSON);
    }
    struct fg_selector *sel[2];
    char msg[160];
    r = mock_selectors_from_query(query, sel, msg, sizeof(msg));
    if (r != 0)
        return r < 0 ? -1 : answer_status(a, 400, "BadRequest", msg);
    if (watch)
        return mock_watch_serve(in, k, ns, name, query, tv, inc, sel[0], sel[1],
                                a);
    struct mock_list_opts o = {
        .labels = sel[0],
        .fields = sel[1],
        .kind = k,
        .ns = ns,
        .name = name,
        .table = tv,
        .include = inc,
        .now_ms = (int64_t)in->host->now_ms(in->host),
    };
    if (!name) {
        r = mock_list_query(in, query, &o, a);
        if (r != 0) {
            fg_selector_free(sel[0]);
            fg_selector_free(sel[1]);
            return r < 0 ? -1 : 0;
        }
    }
    a->list = mock_list_new(in->store, &o);
    if (!a->list)
        return -1;
    a->status = 200;
    a->content_type = tv == MOCK_TABLE_V1        ? CT_TABLE_V1
                      : tv == MOCK_TABLE_V1BETA1 ? CT_TABLE_V1BETA1
                                                 : CT_JSON;
    return 0;
}

int mock_serve(struct mock_instance *in, const struct fg_request_head *head,
               const struct mock_body *body, int body_too_large,
               struct mock_answer *a)
{
    memset(a, 0, sizeof(*a));
    /* The core always parses it (driver ABI 2): without it, the gateway
     * broke its contract. */
    if (!head->info)
        return answer_status(a, 500, "InternalError",
                             "the request came without its request info");
    if (body_too_large) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Request entity too large: limit is %lld",
                 (long long)in->max_body);
        return answer_status(a, 413, "RequestEntityTooLarge", msg);
    }
    const char *method = head->method, *path = head->path;
    if (head->info->is_resource)
        return resource_request(in, head, body, a);
    /* Discovery and OpenAPI are no resources: their paths are the route. */
    int found = 0;
    if (strncmp(path, "/openapi/", 9) == 0) {
        if (strcmp(method, "GET") != 0)
            return method_not_allowed(a);
        int rc = mock_openapi_serve(path, in->url_prefix, &found, a);
        if (rc != 0 || found)
            return rc;
        return not_found(a);
    }
    const char *ct;
    char *doc = mock_discovery(path, in->git_version, accept_aggregated(head),
                               &ct, &found);
    if (found) {
        if (strcmp(method, "GET") != 0) {
            free(doc);
            return method_not_allowed(a);
        }
        return mock_answer_body(a, 200, doc, ct);
    }
    return not_found(a);
}
