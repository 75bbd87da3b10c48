/* Server-side apply: PATCH with Content-Type application/apply-patch+yaml.
 * The body is YAML (JSON, which kubectl sends, is YAML too) read into a
 * cJSON object with YAML 1.1's scalars as sigs.k8s.io/yaml reads them;
 * ?fieldManager= is required and ?force=true takes conflicting fields
 * over, as kube-apiserver's PatchOptions say. The object is created when
 * absent and updated when present, with the merge, conflicts and
 * managedFields of managed.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/yaml.h>

#include "mock.h"

/* Nodes one apply body may hold (the body size is bounded before). */
#define APPLY_MAX_NODES 1000000

static int one_of(const char *s, const char *const *words)
{
    for (; *words; words++) {
        if (strcmp(s, *words) == 0)
            return 1;
    }
    return 0;
}

/* A plain scalar as YAML 1.1 types it: null, a boolean, a number or a
 * string. */
static cJSON *plain_scalar(const char *s)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON",  NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no",  "No",
                                     "NO",    "off",   "Off",   "OFF", NULL};
    static const char *const nul[] = {"", "~", "null", "Null", "NULL", NULL};
    if (one_of(s, nul))
        return cJSON_CreateNull();
    if (one_of(s, yes))
        return cJSON_CreateTrue();
    if (one_of(s, no))
        return cJSON_CreateFalse();
    size_t n = strlen(s);
    int number = n > 0 && n < 64 && strspn(s, "0123456789+-.eE") == n &&
                 strpbrk(s, "0123456789");
    if (number) {
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        if (*end == '\0' && errno == 0 && isfinite(d))
            return cJSON_CreateNumber(d);
    }
    return cJSON_CreateString(s);
}

static cJSON *from_yaml(const struct fg_yaml_node *n, char *err, size_t len)
{
    if (n->type == FG_YAML_SCALAR)
        return n->plain ? plain_scalar(n->text) : cJSON_CreateString(n->text);
    if (n->type == FG_YAML_SEQ) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; a && i < n->n; i++) {
            cJSON *v = from_yaml(n->items[i], err, len);
            if (!v || !cJSON_AddItemToArray(a, v)) {
                cJSON_Delete(v);
                cJSON_Delete(a);
                return NULL;
            }
        }
        return a;
    }
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i + 1 < n->n; i += 2) {
        const char *key = n->items[i]->text;
        if (cJSON_GetObjectItemCaseSensitive(o, key)) {
            snprintf(err, len,
                     "error converting YAML to JSON: yaml: line %d: key "
                     "\"%.64s\" already set in map",
                     n->items[i]->line, key);
            cJSON_Delete(o);
            return NULL;
        }
        cJSON *v = from_yaml(n->items[i + 1], err, len);
        if (!v || !cJSON_AddItemToObject(o, key, v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

int mock_apply_parse(const char *data, size_t len, cJSON **out, char *err,
                     size_t err_len)
{
    *out = NULL;
    err[0] = '\0';
    struct fg_yaml_node **docs = NULL;
    char why[256];
    long n = fg_yaml_parse(data, len, "body", MOCK_WRITE_MAX_DEPTH,
                           APPLY_MAX_NODES, &docs, why, sizeof(why));
    if (n < 0) {
        snprintf(err, err_len, "error converting YAML to JSON: %s", why);
        return -1;
    }
    if (n != 1) {
        fg_yaml_free_docs(docs, (size_t)n);
        snprintf(err, err_len, "error converting YAML to JSON: %s",
                 n ? "more than one document" : "the body is empty");
        return -1;
    }
    cJSON *doc = from_yaml(docs[0], err, err_len);
    fg_yaml_free_docs(docs, 1);
    if (!doc)
        return err[0] ? -1 : -2;
    *out = doc;
    return 0;
}

/* ---- the request ------------------------------------------------------ */

/* 422 naming PatchOptions, as apiserver's ValidatePatchOptions answers. */
static int bad_options(struct mock_write *w, const char *field,
                       const char *reason, const char *detail)
{
    char msg[512];
    snprintf(msg, sizeof(msg),
             "PatchOptions.meta.k8s.io \"\" is invalid: %s: %s", field, detail);
    struct fg_status_cause cause = {reason, detail, field};
    struct fg_status st = {
        .code = 422,
        .message = msg,
        .reason = "Invalid",
        .group = "meta.k8s.io",
        .kind = "PatchOptions",
        .causes = &cause,
        .n_causes = 1,
    };
    return mock_w_text(w, 422, fg_status_build(&st, NULL));
}

int mock_w_check_force(struct mock_write *w)
{
    char v[16];
    if (fg_query_get(w->query, "force", v, sizeof(v)) == 0)
        return 0;
    return bad_options(w, "force", "FieldValueForbidden",
                       "Forbidden: may not be specified for non-apply patch") ==
                   0
               ? 1
               : -1;
}

static int conflict(struct mock_write *w, const struct mock_apply *r)
{
    size_t n = (size_t)cJSON_GetArraySize(r->causes);
    struct fg_status_cause *c = calloc(n ? n : 1, sizeof(*c));
    if (!c)
        return -1;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, r->causes)
    {
        c[i].reason = mock_json_str(e, "reason", "");
        c[i].message = mock_json_str(e, "message", "");
        c[i].field = mock_json_str(e, "field", "");
        i++;
    }
    struct fg_status st = {
        .code = 409,
        .message = r->message,
        .reason = "Conflict",
        .causes = c,
        .n_causes = n,
    };
    int rc = mock_w_text(w, 409, fg_status_build(&st, NULL));
    free(c);
    return rc;
}

int mock_w_apply(struct mock_write *w)
{
    if (!w->manager_given)
        return bad_options(w, "fieldManager", "FieldValueRequired",
                           "Required value: is required for apply patch");
    int force = 0;
    char v[16];
    int q = fg_query_get(w->query, "force", v, sizeof(v));
    if (q != 0) {
        force = q > 0 ? mock_parse_bool(v) : -1;
        if (force < 0)
            return mock_w_bad_request(w, "force must be a boolean");
    }
    cJSON *cfg = NULL;
    char err[512];
    int rc =
        mock_apply_parse(w->body ? w->body->data : "",
                         w->body ? w->body->len : 0, &cfg, err, sizeof(err));
    if (rc == -2)
        return -1;
    if (rc != 0)
        return mock_w_bad_request(w, err);
    if (!cJSON_IsObject(cfg) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(cfg, "apiVersion")) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(cfg, "kind"))) {
        cJSON_Delete(cfg);
        return mock_w_bad_request(
            w, "error decoding patch: apiVersion and kind must be set");
    }
    if ((rc = mock_w_check_shape(w, cfg)) != 0 ||
        (rc = mock_w_check_fields(w, cfg)) != 0)
        goto out;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(cfg, "metadata");
    if (cJSON_GetObjectItemCaseSensitive(meta, "managedFields")) {
        rc = mock_w_bad_request(w, "metadata.managedFields must be nil");
        goto out;
    }
    if (!cJSON_GetObjectItemCaseSensitive(meta, "name") &&
        mock_w_set_str(meta, "name", w->name) != 0)
        goto nomem;
    const char *bname = mock_json_str(meta, "name", "");
    if (strcmp(bname, w->name) != 0) {
        snprintf(err, sizeof(err),
                 "the name of the object (%.200s) does not match the name on "
                 "the URL (%.200s)",
                 bname, w->name);
        rc = mock_w_bad_request(w, err);
        goto out;
    }
    const struct mock_obj *o =
        mock_store_get(w->in->store, w->k, w->ns, w->name);
    cJSON *live = o ? mock_obj_json(o) : NULL;
    if (o && !live)
        goto nomem;
    char now[40];
    mock_w_now(w, now, sizeof(now));
    struct mock_apply r;
    rc = mock_managed_apply(w->k, w->manager, force, now, live, cfg, &r);
    cJSON_Delete(live);
    cJSON_Delete(cfg);
    cfg = NULL;
    if (rc < 0)
        return -1;
    if (rc == 1) {
        rc = conflict(w, &r);
        mock_apply_free(&r);
        return rc;
    }
    cJSON *obj = r.merged;
    r.merged = NULL;
    mock_apply_free(&r);
    w->managed_set = 1;
    return live ? mock_w_update_obj(w, obj) : mock_w_create_obj(w, obj);
nomem:
    rc = -1;
out:
    cJSON_Delete(cfg);
    return rc > 0 ? 0 : rc;
}
