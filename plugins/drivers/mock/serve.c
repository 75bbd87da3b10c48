/* Request routing for the mock member: maps a method, path, query and
 * Accept header to an answer (a discovery document, an object, a streamed
 * list or Table, or a Status), following kube-apiserver's URL layout
 * /api/v1[/namespaces/NS]/RESOURCE[/NAME] and /apis/GROUP/VERSION/... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define CT_JSON "application/json"
#define CT_TABLE_V1 "application/json;as=Table;v=v1;g=meta.k8s.io"
#define CT_TABLE_V1BETA1 "application/json;as=Table;v=v1beta1;g=meta.k8s.io"
#define MAX_SEGS 8

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

/* Splits PATH into its segments SEG (pointers into BUF). Returns the number of
 * segments, or -1 when there are too many or one is empty. */
static int split(const char *path, char *buf, size_t len, char **seg)
{
    if (snprintf(buf, len, "%s", path) >= (int)len)
        return -1;
    int n = 0;
    char *p = buf;
    if (*p == '/')
        p++;
    while (*p) {
        if (n == MAX_SEGS)
            return -1;
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        if (!*p)
            return -1;
        seg[n++] = p;
        if (!slash)
            break;
        p = slash + 1;
        if (!*p)
            return -1;
    }
    return n;
}

static int resource_request(struct mock_instance *in, const char *method,
                            char **seg, int n, const char *group,
                            const char *version, const char *query,
                            const char *accept, const struct mock_body *body,
                            struct mock_answer *a)
{
    const char *ns = "", *res, *name = NULL, *sub = NULL;
    /* The legacy /api/v1/watch/... paths mean ?watch=true. */
    int watch = n >= 1 && strcmp(seg[0], "watch") == 0;
    if (watch) {
        seg++;
        n--;
    }
    if (!watch && n == 5 && strcmp(seg[0], "namespaces") == 0 &&
        strcmp(seg[2], "pods") == 0 && strcmp(seg[4], "log") == 0 &&
        !group[0]) {
        if (strcmp(method, "GET") != 0)
            return method_not_allowed(a);
        return mock_logs_serve(in, seg[1], seg[3], query, a);
    }
    if (!watch && n == 3 && strcmp(seg[0], "namespaces") == 0 && !group[0] &&
        strcmp(seg[2], "status") == 0) {
        res = seg[0]; /* namespaces/NAME/status */
        name = seg[1];
        sub = seg[2];
    } else if (n >= 3 && strcmp(seg[0], "namespaces") == 0) {
        ns = seg[1];
        res = seg[2];
        name = n >= 4 ? seg[3] : NULL;
        sub = n == 5 && !watch ? seg[4] : NULL;
        if (n > 5 || (n == 5 && watch))
            return not_found(a);
    } else if (n >= 1) {
        res = seg[0];
        name = n >= 2 ? seg[1] : NULL;
        sub = n == 3 && !watch ? seg[2] : NULL;
        if (n > 3 || (n == 3 && watch))
            return not_found(a);
    } else {
        return not_found(a);
    }
    const struct mock_kind *k = mock_kind_by_resource(group, version, res);
    if (!k || (ns[0] && !k->namespaced) || (!ns[0] && name && k->namespaced))
        return not_found(a);
    /* Writes and subresources (status, scale) are write.c's. */
    if (strcmp(method, "GET") != 0 || sub) {
        if (watch)
            return method_not_allowed(a);
        return mock_write(in, method, k, ns, name, sub, query, body, a);
    }

    char val[64];
    int r = mock_query_get(query, "watch", val, sizeof(val));
    if (r != 0 && (r < 0 || mock_parse_bool(val) < 0))
        return answer_status(a, 400, "BadRequest", "watch must be a boolean");
    if (r > 0 && mock_parse_bool(val) == 1)
        watch = 1;
    enum mock_include inc = MOCK_INCLUDE_METADATA;
    r = mock_query_get(query, "includeObject", val, sizeof(val));
    if (r > 0 && strcmp(val, "Object") == 0) {
        inc = MOCK_INCLUDE_OBJECT;
    } else if (r > 0 && strcmp(val, "None") == 0) {
        inc = MOCK_INCLUDE_NONE;
    } else if (r != 0 && !(r > 0 && (strcmp(val, "Metadata") == 0 || !*val))) {
        return answer_status(a, 400, "BadRequest",
                             "includeObject must be one of None, Metadata "
                             "or Object");
    }
    enum mock_table_version tv = mock_accept_table(accept);

    if (name && !watch && !mock_store_get(in->store, k, ns, name))
        return mock_answer_body(a, 404, mock_status_not_found(k, name),
                                CT_JSON);
    if (name && !watch && tv == MOCK_TABLE_NONE) {
        const struct mock_obj *o = mock_store_get(in->store, k, ns, name);
        return mock_answer_body(a, 200, cJSON_PrintUnformatted(o->json),
                                CT_JSON);
    }
    struct mock_selector *sel[2];
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
            mock_selector_free(sel[0]);
            mock_selector_free(sel[1]);
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

int mock_serve(struct mock_instance *in, const char *method, const char *path,
               const char *query, const char *accept, int body_too_large,
               struct mock_answer *a)
{
    return mock_serve_request(in, method, path, query, accept, NULL,
                              body_too_large, a);
}

int mock_serve_request(struct mock_instance *in, const char *method,
                       const char *path, const char *query, const char *accept,
                       const struct mock_body *body, int body_too_large,
                       struct mock_answer *a)
{
    memset(a, 0, sizeof(*a));
    if (body_too_large) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Request entity too large: limit is %lld",
                 (long long)in->max_body);
        return answer_status(a, 413, "RequestEntityTooLarge", msg);
    }
    int found = 0;
    if (strncmp(path, "/openapi/", 9) == 0) {
        if (strcmp(method, "GET") != 0)
            return method_not_allowed(a);
        int rc = mock_openapi_serve(path, in->url_prefix, &found, a);
        if (rc != 0 || found)
            return rc;
        return not_found(a);
    }
    char *doc = mock_discovery(path, in->git_version, &found);
    if (found) {
        if (strcmp(method, "GET") != 0) {
            free(doc);
            return method_not_allowed(a);
        }
        return mock_answer_body(a, 200, doc, CT_JSON);
    }

    char buf[1024];
    char *seg[MAX_SEGS];
    int n = split(path, buf, sizeof(buf), seg);
    if (n < 2)
        return not_found(a);
    if (strcmp(seg[0], "api") == 0 && strcmp(seg[1], "v1") == 0)
        return resource_request(in, method, seg + 2, n - 2, "", "v1", query,
                                accept, body, a);
    if (strcmp(seg[0], "apis") == 0 && n >= 3)
        return resource_request(in, method, seg + 3, n - 3, seg[1], seg[2],
                                query, accept, body, a);
    return not_found(a);
}
