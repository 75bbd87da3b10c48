/* Writes to the mock member, with kube-apiserver's observable rules: the
 * entry point (mock_write) that sends each method to its file (create in
 * write_create.c, update, patch and scale in write_update.c, delete in
 * write_delete.c, bodies read by write_body.c), and what they all share:
 * the Status answers and the metadata helpers. Every change is recorded
 * for watchers (mock_watch_record) and saved when the member persists its
 * store.
 *
 * Status texts and codes follow apiserver's handlers and registry so that
 * kubectl prints what it prints against a real cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mock.h"

#define CT_JSON "application/json"

/* ---- answers ---------------------------------------------------------- */

int mock_w_text(struct mock_write *w, int code, char *body)
{
    return mock_answer_body(w->a, code, body, CT_JSON);
}

int mock_w_doc(struct mock_write *w, int code, const cJSON *doc)
{
    return mock_w_text(w, code, cJSON_PrintUnformatted(doc));
}

int mock_w_stored(struct mock_write *w, int code, const struct mock_doc *doc)
{
    return mock_w_text(w, code, strndup(doc->json, doc->len));
}

int mock_w_status(struct mock_write *w, int code, const char *reason,
                  const char *msg, const char *name)
{
    return mock_w_text(
        w, code, mock_status_json(code, reason, msg, name, name ? w->k : NULL));
}

int mock_w_bad_request(struct mock_write *w, const char *msg)
{
    return mock_w_status(w, 400, "BadRequest", msg, NULL);
}

/* 422 Invalid with one field error: "Kind "name" is invalid: FIELD: ...".
 * Invalid's details name the Kind, not the resource. */
int mock_w_invalid(struct mock_write *w, const char *name, const char *field,
                   const char *cause_reason, const char *detail)
{
    char msg[1200], kind[96];
    if (w->k->group[0])
        snprintf(kind, sizeof(kind), "%s.%s", w->k->kind, w->k->group);
    else
        snprintf(kind, sizeof(kind), "%s", w->k->kind);
    snprintf(msg, sizeof(msg), "%s \"%s\" is invalid: %s", kind, name, detail);
    const char *sep = strstr(detail, ": ");
    struct fg_status_cause cause = {cause_reason, sep ? sep + 2 : detail,
                                    field};
    struct fg_status st = {
        .code = 422,
        .message = msg,
        .reason = "Invalid",
        .name = name,
        .group = w->k->group,
        .kind = w->k->kind,
        .causes = &cause,
        .n_causes = 1,
    };
    return mock_w_text(w, 422, fg_status_build(&st, NULL));
}

int mock_w_not_found(struct mock_write *w, const struct mock_kind *k,
                     const char *name)
{
    return mock_w_text(w, 404, mock_status_not_found(k, name));
}

int mock_w_method_not_allowed(struct mock_write *w)
{
    return mock_w_status(
        w, 405, "MethodNotAllowed",
        "the server does not allow this method on the requested "
        "resource",
        NULL);
}

int mock_w_unsupported_media(struct mock_write *w, const char *msg)
{
    return mock_w_status(w, 415, "UnsupportedMediaType", msg, NULL);
}

/* ---- metadata helpers ------------------------------------------------- */

cJSON *mock_w_child_obj(cJSON *obj, const char *key)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsObject(c))
        return c;
    if (fg_json_set(obj, key, cJSON_CreateObject()) != 0)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

int mock_w_set_str(cJSON *obj, const char *key, const char *v)
{
    return fg_json_set(obj, key, cJSON_CreateString(v));
}

void mock_w_del(cJSON *obj, const char *key)
{
    cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(obj, key));
}

const char *mock_w_rv_of(const cJSON *obj)
{
    return mock_json_str(obj, "metadata.resourceVersion", "");
}

void mock_w_now(struct mock_write *w, char *buf, size_t len)
{
    mock_time_format((int64_t)w->in->host->now_ms(w->in->host), buf, len);
}

/* After a change: tell watchers, then have the store saved. OLD is the
 * version the change replaced (MODIFIED), which selector watchers need to
 * tell whether the object left or entered what they watch. */
void mock_w_changed(struct mock_write *w, const struct mock_kind *k,
                    enum mock_event ev, struct mock_doc *old,
                    struct mock_doc *obj, uint64_t rv)
{
    mock_watch_record(w->in, k, ev, old, obj, rv);
    mock_persist_touch(w->in);
}

static int read_dry_run(struct mock_write *w)
{
    char v[32];
    int r = fg_query_get(w->query, "dryRun", v, sizeof(v));
    if (r == 0 || (r > 0 && !v[0]))
        return 0;
    if (r > 0 && strcmp(v, "All") == 0) {
        w->dry_run = 1;
        return 0;
    }
    char msg[128];
    snprintf(msg, sizeof(msg),
             "Invalid dry run value: dryRun: Unsupported value: \"%.32s\": "
             "supported values: \"All\"",
             r > 0 ? v : "");
    return mock_w_bad_request(w, msg) == 0 ? 1 : -1;
}

/* ?fieldManager=, or the user agent's first word (kube's
 * prefixFromUserAgent). 0, or answered 422 (1), or -1. */
static int read_manager(struct mock_write *w,
                        const struct fg_request_head *head)
{
    char v[256];
    int r = fg_query_get(w->query, "fieldManager", v, sizeof(v));
    if (r > 0 && v[0]) {
        const char *detail = NULL;
        if (strlen(v) > 128)
            detail = "Too long: may not be more than 128 bytes";
        for (const char *p = v; !detail && *p; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                detail = "Invalid value: must only contain printable "
                         "characters";
        }
        if (r < 0)
            detail = "Too long: may not be more than 128 bytes";
        if (detail) {
            char msg[256];
            snprintf(msg, sizeof(msg),
                     "PatchOptions.meta.k8s.io \"\" is invalid: "
                     "fieldManager: %s",
                     detail);
            return mock_w_status(w, 422, "Invalid", msg, NULL) == 0 ? 1 : -1;
        }
        snprintf(w->manager, sizeof(w->manager), "%.128s", v);
        w->manager_given = 1;
        return 0;
    }
    for (size_t i = 0; i < head->n_headers; i++) {
        const struct fg_header *h = &head->headers[i];
        if (h->name_len != 10 || strncasecmp(h->name, "user-agent", 10) != 0)
            continue;
        size_t n = 0;
        while (n < h->value_len && n < 128 && h->value[n] != '/')
            n++;
        snprintf(w->manager, sizeof(w->manager), "%.*s", (int)n, h->value);
        break;
    }
    return 0;
}

/* ?fieldValidation=: Warn when absent, as kube-apiserver defaults it. 0,
 * or answered 422 (1), or -1. */
static int read_validation(struct mock_write *w)
{
    static const char *const names[] = {"Ignore", "Warn", "Strict"};
    char v[32];
    int r = fg_query_get(w->query, "fieldValidation", v, sizeof(v));
    w->validation = MOCK_FV_WARN;
    if (r == 0 || (r > 0 && !v[0]))
        return 0;
    for (int i = 0; r > 0 && i < 3; i++) {
        if (strcmp(v, names[i]) == 0) {
            w->validation = i;
            return 0;
        }
    }
    char msg[256];
    snprintf(msg, sizeof(msg),
             "%sOptions.meta.k8s.io \"\" is invalid: fieldValidation: "
             "Unsupported value: \"%.32s\": supported values: \"\", "
             "\"Ignore\", \"Strict\", \"Warn\"",
             strcmp(w->method, "POST") == 0  ? "Create"
             : strcmp(w->method, "PUT") == 0 ? "Update"
                                             : "Patch",
             r > 0 ? v : "");
    return mock_w_status(w, 422, "Invalid", msg, NULL) == 0 ? 1 : -1;
}

int mock_w_managed(struct mock_write *w, const cJSON *old, cJSON *obj)
{
    if (w->managed_set)
        return 0;
    char now[40];
    mock_w_now(w, now, sizeof(now));
    return mock_managed_update(w->k, w->manager, w->sub, now, old, obj);
}

/* ---- entry ------------------------------------------------------------ */

int mock_write(struct mock_instance *in, const struct fg_request_head *head,
               const struct mock_kind *k, const char *ns, const char *name,
               const char *sub, const struct mock_body *body,
               struct mock_answer *a)
{
    const char *method = head->method;
    struct mock_write w = {
        .in = in,
        .method = method,
        .k = k,
        .ns = ns ? ns : "",
        .name = name,
        .sub = sub,
        .query = head->query,
        .body = body,
        .a = a,
    };
    int is_get = strcmp(method, "GET") == 0;
    int scale = sub && strcmp(sub, "scale") == 0;
    if (sub) {
        int known = (scale && mock_kind_has_scale(k)) ||
                    (strcmp(sub, "status") == 0 && mock_kind_has_status(k));
        if (!known || !name)
            return mock_w_text(&w, 404,
                               mock_status_json(404, "NotFound",
                                                "the server could not find "
                                                "the requested resource",
                                                NULL, NULL));
        if (is_get) {
            const struct mock_obj *o = mock_store_get(in->store, k, w.ns, name);
            if (!o)
                return mock_w_not_found(&w, k, name);
            if (!scale)
                return mock_w_stored(&w, 200, o->doc);
            cJSON *obj = mock_obj_json(o);
            cJSON *s = obj ? mock_w_scale_of(obj) : NULL;
            int rc = s ? mock_w_doc(&w, 200, s) : -1;
            cJSON_Delete(s);
            cJSON_Delete(obj);
            return rc;
        }
    }
    if (is_get)
        return mock_w_method_not_allowed(&w);
    int rc = read_dry_run(&w);
    if (rc == 0)
        rc = read_manager(&w, head);
    if (rc == 0)
        rc = read_validation(&w);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if (strcmp(method, "POST") == 0)
        return name ? mock_w_method_not_allowed(&w) : mock_w_create(&w);
    if (strcmp(method, "PUT") == 0)
        return name ? mock_w_put(&w, scale) : mock_w_method_not_allowed(&w);
    if (strcmp(method, "PATCH") == 0)
        return name ? mock_w_patch(&w, scale) : mock_w_method_not_allowed(&w);
    if (strcmp(method, "DELETE") == 0 && !sub)
        return name ? mock_w_delete(&w) : mock_w_delete_collection(&w);
    return mock_w_method_not_allowed(&w);
}
