/* Writes to the mock member, with kube-apiserver's observable rules:
 * create (POST, generateName, uid, timestamps, 409 AlreadyExists, 404 for
 * a missing namespace, 422 for bad names), update (PUT, optimistic
 * concurrency on resourceVersion, generation on spec changes), patch
 * (merge, JSON and strategic merge patches, then the update rules), delete
 * (one object, a namespace with everything in it, a collection), and the
 * status and scale subresources. Every change is recorded for watchers
 * (mock_watch_record) and saved when the member persists its store.
 *
 * Status texts and codes follow apiserver's handlers and registry so that
 * kubectl prints what it prints against a real cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "mock.h"

#define CT_JSON "application/json"
#define GENERATE_TRIES 8

struct w {
    struct mock_instance *in;
    const char *method;
    const struct mock_kind *k;
    const char *ns, *name, *sub, *query;
    const struct mock_body *body;
    struct mock_answer *a;
    int dry_run;
};

/* ---- answers ---------------------------------------------------------- */

static int answer_text(struct w *w, int code, char *body)
{
    return mock_answer_body(w->a, code, body, CT_JSON);
}

static int answer_doc(struct w *w, int code, const cJSON *doc)
{
    return answer_text(w, code, cJSON_PrintUnformatted(doc));
}

static int status(struct w *w, int code, const char *reason, const char *msg,
                  const char *name)
{
    return answer_text(
        w, code, mock_status_json(code, reason, msg, name, name ? w->k : NULL));
}

static int bad_request(struct w *w, const char *msg)
{
    return status(w, 400, "BadRequest", msg, NULL);
}

static const char *qualified(const struct mock_kind *k, char *buf, size_t len)
{
    return mock_kind_qualified(k, buf, len);
}

static int conflict(struct w *w, const char *name)
{
    char q[96], msg[512];
    snprintf(msg, sizeof(msg),
             "Operation cannot be fulfilled on %s \"%s\": the object has "
             "been modified; please apply your changes to the latest version "
             "and try again",
             qualified(w->k, q, sizeof(q)), name);
    return status(w, 409, "Conflict", msg, name);
}

/* 422 Invalid with one field error: "Kind "name" is invalid: FIELD: ...".
 * Invalid's details name the Kind, not the resource. */
static int invalid(struct w *w, const char *name, const char *field,
                   const char *cause_reason, const char *detail)
{
    char msg[1200], kind[96];
    if (w->k->group[0])
        snprintf(kind, sizeof(kind), "%s.%s", w->k->kind, w->k->group);
    else
        snprintf(kind, sizeof(kind), "%s", w->k->kind);
    snprintf(msg, sizeof(msg), "%s \"%s\" is invalid: %s", kind, name, detail);
    cJSON *st = cJSON_CreateObject();
    if (!st)
        return -1;
    cJSON_AddStringToObject(st, "kind", "Status");
    cJSON_AddStringToObject(st, "apiVersion", "v1");
    cJSON_AddObjectToObject(st, "metadata");
    cJSON_AddStringToObject(st, "status", "Failure");
    cJSON_AddStringToObject(st, "message", msg);
    cJSON_AddStringToObject(st, "reason", "Invalid");
    cJSON *d = cJSON_AddObjectToObject(st, "details");
    if (d) {
        cJSON_AddStringToObject(d, "name", name);
        if (w->k->group[0])
            cJSON_AddStringToObject(d, "group", w->k->group);
        cJSON_AddStringToObject(d, "kind", w->k->kind);
        cJSON *causes = cJSON_AddArrayToObject(d, "causes");
        cJSON *c = cJSON_CreateObject();
        if (c && cJSON_AddItemToArray(causes, c)) {
            const char *sep = strstr(detail, ": ");
            cJSON_AddStringToObject(c, "reason", cause_reason);
            cJSON_AddStringToObject(c, "message", sep ? sep + 2 : detail);
            cJSON_AddStringToObject(c, "field", field);
        } else {
            cJSON_Delete(c);
        }
    }
    cJSON_AddNumberToObject(st, "code", 422);
    int rc = answer_doc(w, 422, st);
    cJSON_Delete(st);
    return rc;
}

static int not_found(struct w *w, const struct mock_kind *k, const char *name)
{
    return answer_text(w, 404, mock_status_not_found(k, name));
}

static int method_not_allowed(struct w *w)
{
    return status(w, 405, "MethodNotAllowed",
                  "the server does not allow this method on the requested "
                  "resource",
                  NULL);
}

static int unsupported_media(struct w *w, const char *msg)
{
    return status(w, 415, "UnsupportedMediaType", msg, NULL);
}

/* ---- small helpers ---------------------------------------------------- */

static cJSON *child_obj(cJSON *obj, const char *key)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsObject(c))
        return c;
    if (mock_json_set(obj, key, cJSON_CreateObject()) != 0)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int set_str(cJSON *obj, const char *key, const char *v)
{
    return mock_json_set(obj, key, cJSON_CreateString(v));
}

static void del(cJSON *obj, const char *key)
{
    cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(obj, key));
}

static void random_bytes(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    /* getrandom cannot fail on Linux >= 3.17 once the pool is ready; the
     * fallback only keeps uids distinct if it ever does. */
    static unsigned long counter;
    for (; got < n; got++)
        buf[got] = (unsigned char)(++counter * 2654435761u >> 13);
}

static void new_uid(char *buf, size_t len)
{
    unsigned char b[16];
    random_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(buf, len,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
             "%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
}

/* apimachinery's SimpleNameGenerator: the base cut to 58 characters and
 * five characters from its vowel-free alphabet. */
static void generate_name(const char *base, char *buf, size_t len)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    unsigned char r[5];
    random_bytes(r, sizeof(r));
    char suffix[6];
    for (int i = 0; i < 5; i++)
        suffix[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
    suffix[5] = '\0';
    snprintf(buf, len, "%.58s%s", base, suffix);
}

static const char *rv_of(const cJSON *obj)
{
    return mock_json_str(obj, "metadata.resourceVersion", "");
}

static void now_string(struct w *w, char *buf, size_t len)
{
    mock_time_format((int64_t)w->in->host->now_ms(w->in->host), buf, len);
}

/* After a change: tell watchers, then have the store saved. OLD is the
 * version the change replaced (MODIFIED), which selector watchers need to
 * tell whether the object left or entered what they watch. */
static void changed(struct w *w, const struct mock_kind *k, enum mock_event ev,
                    const cJSON *old, const cJSON *obj, uint64_t rv)
{
    mock_watch_record(w->in, k, ev, old, obj, rv);
    mock_persist_touch(w->in);
}

/* ---- request bodies --------------------------------------------------- */

/* The media type of the body, lower-cased, without parameters. */
static void media_type(const struct w *w, char *buf, size_t len)
{
    const char *ct =
        w->body && w->body->content_type ? w->body->content_type : "";
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    if (n >= len)
        n = len - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] + 32 : ct[i]);
    buf[n] = '\0';
}

/* Parses the body as JSON. Returns 0 with *OUT, 1 when it answered with a
 * Status, -1 on memory failure. */
static int parse_json(struct w *w, cJSON **out)
{
    const char *data = w->body ? w->body->data : NULL;
    size_t len = w->body ? w->body->len : 0;
    *out = NULL;
    if (!data || len == 0)
        return bad_request(w, "the request body is empty") == 0 ? 1 : -1;
    if (mock_json_depth(data, len, MOCK_WRITE_MAX_DEPTH) >
        MOCK_WRITE_MAX_DEPTH) {
        char msg[96];
        snprintf(msg, sizeof(msg),
                 "the JSON body is nested deeper than %d "
                 "levels",
                 MOCK_WRITE_MAX_DEPTH);
        return bad_request(w, msg) == 0 ? 1 : -1;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    while (doc && end && end < data + len &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (!doc || end != data + len) {
        cJSON_Delete(doc);
        char msg[160];
        long at = end && end >= data ? (long)(end - data) : 0;
        snprintf(msg, sizeof(msg),
                 "couldn't get version/kind; json parse error: invalid JSON "
                 "near byte %ld",
                 at);
        return bad_request(w, msg) == 0 ? 1 : -1;
    }
    *out = doc;
    return 0;
}

/* An object body for create or update: JSON or Kubernetes protobuf. */
static int read_object(struct w *w, cJSON **out)
{
    char mt[96];
    media_type(w, mt, sizeof(mt));
    *out = NULL;
    if (!mt[0] || strcmp(mt, "application/json") == 0)
        return parse_json(w, out);
    if (strcmp(mt, "application/vnd.kubernetes.protobuf") == 0) {
        char err[256];
        int rc = mock_protobuf_decode(w->body ? w->body->data : "",
                                      w->body ? w->body->len : 0, out, err,
                                      sizeof(err));
        if (rc == 0)
            return 0;
        if (rc == -3)
            return -1;
        rc = rc == -2 ? unsupported_media(w, err) : bad_request(w, err);
        return rc == 0 ? 1 : -1;
    }
    char msg[256];
    snprintf(msg, sizeof(msg),
             "the body of the request was in an unknown format - accepted "
             "media types include: application/json, "
             "application/vnd.kubernetes.protobuf");
    return unsupported_media(w, msg) == 0 ? 1 : -1;
}

/* The shape checks apiserver's decoder makes: the body is an object of
 * the URL's kind, metadata is an object, names and maps have string
 * types. Fills apiVersion and kind when missing. Returns 0 or answers. */
static int check_shape(struct w *w, cJSON *obj)
{
    char gv[64], msg[512];
    mock_kind_api_version(w->k, gv, sizeof(gv));
    if (!cJSON_IsObject(obj))
        return bad_request(w, "the object provided is unrecognized (must be "
                              "a JSON object)") == 0
                   ? 1
                   : -1;
    const cJSON *api = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    if ((api && !cJSON_IsString(api)) || (kind && !cJSON_IsString(kind)))
        return bad_request(w, "couldn't get version/kind; apiVersion and "
                              "kind must be strings") == 0
                   ? 1
                   : -1;
    if (api && api->valuestring[0] && strcmp(api->valuestring, gv) != 0) {
        snprintf(msg, sizeof(msg),
                 "the API version in the data (%.64s) does not match the "
                 "expected API version (%s)",
                 api->valuestring, gv);
        return bad_request(w, msg) == 0 ? 1 : -1;
    }
    if (kind && kind->valuestring[0] &&
        strcmp(kind->valuestring, w->k->kind) != 0) {
        snprintf(msg, sizeof(msg),
                 "%.64s in version \"%s\" cannot be handled as a %s: the "
                 "kind does not match the resource",
                 kind->valuestring, w->k->version, w->k->kind);
        return bad_request(w, msg) == 0 ? 1 : -1;
    }
    /* kind and apiVersion first, as kube-apiserver writes objects. */
    del(obj, "apiVersion");
    del(obj, "kind");
    cJSON *rest = cJSON_CreateArray();
    if (!rest)
        return -1;
    while (obj->child)
        cJSON_AddItemToArray(rest, cJSON_DetachItemViaPointer(obj, obj->child));
    int ok = cJSON_AddStringToObject(obj, "kind", w->k->kind) &&
             cJSON_AddStringToObject(obj, "apiVersion", gv);
    while (rest->child)
        cJSON_AddItemToArray(obj,
                             cJSON_DetachItemViaPointer(rest, rest->child));
    cJSON_Delete(rest);
    if (!ok)
        return -1;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (meta && !cJSON_IsObject(meta))
        goto bad_type;
    if (!meta && !child_obj(obj, "metadata"))
        return -1;
    meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    static const char *const strs[] = {"name", "generateName", "namespace",
                                       "uid", "resourceVersion"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, strs[i]);
        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
            goto bad_type;
        if (cJSON_IsNull(v))
            del(meta, strs[i]);
    }
    static const char *const maps[] = {"labels", "annotations"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(meta, maps[i]);
        if (cJSON_IsNull(m)) {
            del(meta, maps[i]);
            continue;
        }
        if (m && !cJSON_IsObject(m))
            goto bad_type;
        const cJSON *e;
        cJSON_ArrayForEach(e, m)
        {
            if (!cJSON_IsString(e))
                goto bad_type;
        }
    }
    return 0;
bad_type:
    snprintf(msg, sizeof(msg),
             "%s in version \"%s\" cannot be handled as a %s: metadata has "
             "a field of the wrong type",
             w->k->kind, w->k->version, w->k->kind);
    return bad_request(w, msg) == 0 ? 1 : -1;
}

/* Label and annotation keys, label values. Returns 0 or answers 422. */
static int check_labels(struct w *w, const cJSON *obj, const char *name)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    char msg[1024];
    static const char *const fields[] = {"labels", "annotations"};
    for (size_t i = 0; i < 2; i++) {
        if (mock_labels_check(meta, fields[i], msg, sizeof(msg)) != 0) {
            char field[32];
            snprintf(field, sizeof(field), "metadata.%s", fields[i]);
            return invalid(w, name, field, "FieldValueInvalid", msg) == 0 ? 1
                                                                          : -1;
        }
    }
    return 0;
}

static int read_dry_run(struct w *w)
{
    char v[32];
    int r = mock_query_get(w->query, "dryRun", v, sizeof(v));
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
    return bad_request(w, msg) == 0 ? 1 : -1;
}

/* ---- kind-specific defaults ------------------------------------------- */

/* What apiserver's strategies and defaulting add on create. */
static int fill_create(struct w *w, cJSON *obj, const char *name)
{
    const struct mock_kind *k = w->k;
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (strcmp(k->resource, "namespaces") == 0) {
        cJSON *labels = child_obj(
            cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "labels");
        cJSON *sp = child_obj(obj, "spec");
        cJSON *fin =
            cJSON_CreateStringArray((const char *const[]){"kubernetes"}, 1);
        cJSON *st = cJSON_CreateObject();
        if (!labels || !sp || !st ||
            set_str(labels, "kubernetes.io/metadata.name", name) != 0 ||
            mock_json_set(sp, "finalizers", fin) != 0 ||
            set_str(st, "phase", "Active") != 0 ||
            mock_json_set(obj, "status", st) != 0)
            return -1;
        return 0;
    }
    if (mock_kind_has_generation(k)) {
        cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        if (mock_json_set(meta, "generation", cJSON_CreateNumber(1)) != 0)
            return -1;
        cJSON *sp = child_obj(obj, "spec");
        if (!sp)
            return -1;
        if (mock_kind_has_scale(k) &&
            !cJSON_GetObjectItemCaseSensitive(sp, "replicas") &&
            mock_json_set(sp, "replicas", cJSON_CreateNumber(1)) != 0)
            return -1;
        /* No controller runs here: a new workload has observed nothing. */
        return mock_json_set(obj, "status", cJSON_CreateObject());
    }
    if (strcmp(k->resource, "pods") == 0) {
        cJSON *st = child_obj(obj, "status");
        if (!st)
            return -1;
        if (!cJSON_GetObjectItemCaseSensitive(st, "phase"))
            return set_str(st, "phase", "Pending");
        return 0;
    }
    if (strcmp(k->resource, "services") == 0 && cJSON_IsObject(spec)) {
        if (!cJSON_GetObjectItemCaseSensitive(spec, "type") &&
            set_str(spec, "type", "ClusterIP") != 0)
            return -1;
        if (!cJSON_GetObjectItemCaseSensitive(spec, "sessionAffinity") &&
            set_str(spec, "sessionAffinity", "None") != 0)
            return -1;
        return 0;
    }
    if (strcmp(k->resource, "secrets") == 0) {
        if (!cJSON_GetObjectItemCaseSensitive(obj, "type") &&
            set_str(obj, "type", "Opaque") != 0)
            return -1;
        /* stringData is write-only: apiserver folds it into data. */
        cJSON *sd = cJSON_DetachItemFromObjectCaseSensitive(obj, "stringData");
        if (cJSON_IsObject(sd)) {
            cJSON *data = child_obj(obj, "data");
            const cJSON *e;
            cJSON_ArrayForEach(e, sd)
            {
                if (!cJSON_IsString(e) || !data)
                    continue;
                char *b64 = mock_base64(e->valuestring, strlen(e->valuestring));
                if (!b64 || set_str(data, e->string, b64) != 0) {
                    free(b64);
                    cJSON_Delete(sd);
                    return -1;
                }
                free(b64);
            }
        }
        cJSON_Delete(sd);
    }
    return 0;
}

/* ---- create ----------------------------------------------------------- */

static int do_create(struct w *w)
{
    const struct mock_kind *k = w->k;
    if (k->namespaced && !w->ns[0])
        return method_not_allowed(w);
    cJSON *obj = NULL;
    int rc = read_object(w, &obj);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    rc = check_shape(w, obj);
    if (rc != 0)
        goto out;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *bns = mock_json_str(meta, "namespace", "");
    if (k->namespaced) {
        if (bns[0] && strcmp(bns, w->ns) != 0) {
            rc = bad_request(w, "the namespace of the provided object does "
                                "not match the namespace sent on the "
                                "request");
            goto out;
        }
        if (set_str(meta, "namespace", w->ns) != 0)
            goto nomem;
        const struct mock_kind *nsk =
            mock_kind_by_resource("", "v1", "namespaces");
        if (!mock_store_get(w->in->store, nsk, "", w->ns)) {
            rc = not_found(w, nsk, w->ns);
            goto out;
        }
    } else {
        del(meta, "namespace");
    }
    char name[320];
    const char *given = mock_json_str(meta, "name", "");
    const char *gen = mock_json_str(meta, "generateName", "");
    enum mock_name_rule rule = mock_name_rule_of(k);
    char why[640], detail[1024];
    if (!given[0] && !gen[0]) {
        rc = invalid(w, "", "metadata.name", "FieldValueRequired",
                     "metadata.name: Required value: name or generateName "
                     "is required");
        goto out;
    }
    if (given[0]) {
        snprintf(name, sizeof(name), "%s", given);
    } else {
        /* Retried on a clash, as apiserver does since 1.30. */
        for (int i = 0; i < GENERATE_TRIES; i++) {
            generate_name(gen, name, sizeof(name));
            if (!mock_store_get(w->in->store, k, w->ns, name))
                break;
        }
    }
    if (strlen(given) >= sizeof(name) - 1 ||
        mock_name_check(rule, name, why, sizeof(why)) != 0) {
        if (strlen(given) >= sizeof(name) - 1)
            snprintf(why, sizeof(why), "must be no more than 253 characters");
        snprintf(detail, sizeof(detail),
                 "metadata.name: Invalid value: \"%.300s\": %s", name, why);
        rc = invalid(w, name,
                     given[0] ? "metadata.name" : "metadata.generateName",
                     "FieldValueInvalid", detail);
        goto out;
    }
    if (set_str(meta, "name", name) != 0)
        goto nomem;
    if ((rc = check_labels(w, obj, name)) != 0)
        goto out;
    if (mock_store_get(w->in->store, k, w->ns, name)) {
        char q[96], msg[512];
        snprintf(msg, sizeof(msg), "%s \"%s\" already exists",
                 qualified(k, q, sizeof(q)), name);
        rc = status(w, 409, "AlreadyExists", msg, name);
        goto out;
    }
    char uid[40], now[40];
    new_uid(uid, sizeof(uid));
    now_string(w, now, sizeof(now));
    del(meta, "resourceVersion");
    del(meta, "selfLink");
    del(meta, "deletionTimestamp");
    del(meta, "deletionGracePeriodSeconds");
    del(meta, "generation");
    if (set_str(meta, "uid", uid) != 0 ||
        set_str(meta, "creationTimestamp", now) != 0 ||
        fill_create(w, obj, name) != 0)
        goto nomem;
    if (w->dry_run) {
        rc = answer_doc(w, 201, obj);
        goto out;
    }
    char ns[256];
    snprintf(ns, sizeof(ns), "%s", k->namespaced ? w->ns : "");
    if (mock_store_put(w->in->store, k, ns, name, obj, NULL) != 0)
        return -1; /* OBJ is gone */
    const struct mock_obj *o = mock_store_get(w->in->store, k, ns, name);
    changed(w, k, MOCK_EVENT_ADDED, NULL, o->json, o->rv);
    return answer_doc(w, 201, o->json);
nomem:
    rc = -1;
out:
    cJSON_Delete(obj);
    return rc > 0 ? 0 : rc;
}

/* ---- update (PUT, PATCH, status) -------------------------------------- */

/* The selector of a workload as a Scale reports it: labels.Selector's
 * String(), requirements sorted by key. */
static char *selector_string(const cJSON *obj)
{
    const cJSON *sel = mock_json_path(obj, "spec.selector");
    struct mock_buf b = {0};
    const char *keys[64];
    const cJSON *vals[64];
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sel, "matchLabels"))
    {
        if (n < 64 && cJSON_IsString(e)) {
            keys[n] = e->string;
            vals[n++] = e;
        }
    }
    cJSON_ArrayForEach(
        e, cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions"))
    {
        const char *key = mock_json_str(e, "key", NULL);
        if (n < 64 && key) {
            keys[n] = key;
            vals[n++] = e;
        }
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *tk = keys[j];
            const cJSON *tv = vals[j];
            keys[j] = keys[j - 1];
            vals[j] = vals[j - 1];
            keys[j - 1] = tk;
            vals[j - 1] = tv;
        }
    }
    int bad = mock_buf_add(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (i)
            bad |= mock_buf_adds(&b, ",");
        if (cJSON_IsString(vals[i])) {
            bad |= mock_buf_adds(&b, keys[i]);
            bad |= mock_buf_adds(&b, "=");
            bad |= mock_buf_adds(&b, vals[i]->valuestring);
            continue;
        }
        const char *op = mock_json_str(vals[i], "operator", "");
        if (strcmp(op, "DoesNotExist") == 0)
            bad |= mock_buf_adds(&b, "!");
        bad |= mock_buf_adds(&b, keys[i]);
        if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
            bad |=
                mock_buf_adds(&b, strcmp(op, "In") == 0 ? " in (" : " notin (");
            const cJSON *v;
            int first = 1;
            cJSON_ArrayForEach(
                v, cJSON_GetObjectItemCaseSensitive(vals[i], "values"))
            {
                if (!cJSON_IsString(v))
                    continue;
                if (!first)
                    bad |= mock_buf_adds(&b, ",");
                first = 0;
                bad |= mock_buf_adds(&b, v->valuestring);
            }
            bad |= mock_buf_adds(&b, ")");
        }
    }
    if (bad) {
        mock_buf_free(&b);
        return NULL;
    }
    return b.p;
}

/* The autoscaling/v1 Scale of workload OBJ. */
static cJSON *scale_of(const cJSON *obj)
{
    cJSON *s = cJSON_CreateObject();
    cJSON *meta = s ? cJSON_AddObjectToObject(s, "metadata") : NULL;
    cJSON *spec = s ? cJSON_AddObjectToObject(s, "spec") : NULL;
    cJSON *st = s ? cJSON_AddObjectToObject(s, "status") : NULL;
    char *sel = selector_string(obj);
    if (!meta || !spec || !st || !sel) {
        cJSON_Delete(s);
        free(sel);
        return NULL;
    }
    cJSON_AddStringToObject(s, "kind", "Scale");
    cJSON_AddStringToObject(s, "apiVersion", "autoscaling/v1");
    /* kind and apiVersion first. */
    cJSON_DetachItemViaPointer(s, meta);
    cJSON_DetachItemViaPointer(s, spec);
    cJSON_DetachItemViaPointer(s, st);
    cJSON_AddItemToObject(s, "metadata", meta);
    cJSON_AddItemToObject(s, "spec", spec);
    cJSON_AddItemToObject(s, "status", st);
    static const char *const copy[] = {"name", "namespace", "uid",
                                       "resourceVersion", "creationTimestamp"};
    for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "metadata.%s", copy[i]);
        const char *v = mock_json_str(obj, path, NULL);
        if (v)
            cJSON_AddStringToObject(meta, copy[i], v);
    }
    cJSON_AddNumberToObject(spec, "replicas",
                            (double)mock_json_int(obj, "spec.replicas", 1));
    cJSON_AddNumberToObject(st, "replicas",
                            (double)mock_json_int(obj, "status.replicas", 0));
    cJSON_AddStringToObject(st, "selector", sel);
    free(sel);
    return s;
}

/* Checks and stores NEW (owned) as the next version of OLD, the stored
 * object (w->name in w->ns). Answers with the stored result, or with the
 * Scale of it when SCALE. */
static int update_object(struct w *w, cJSON *obj, int scale)
{
    const struct mock_kind *k = w->k;
    struct mock_obj *o = mock_store_get(w->in->store, k, w->ns, w->name);
    int rc = 0;
    if (!o) {
        rc = not_found(w, k, w->name);
        goto out;
    }
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *bname = mock_json_str(meta, "name", "");
    char msg[640];
    if (strcmp(bname, w->name) != 0) {
        snprintf(msg, sizeof(msg),
                 "the name of the object (%.253s) does not match the name on "
                 "the URL (%.253s)",
                 bname, w->name);
        rc = bad_request(w, msg);
        goto out;
    }
    const char *bns = mock_json_str(meta, "namespace", "");
    if (k->namespaced && bns[0] && strcmp(bns, w->ns) != 0) {
        snprintf(msg, sizeof(msg),
                 "the namespace of the object (%.253s) does not match the "
                 "namespace on the URL (%.253s)",
                 bns, w->ns);
        rc = bad_request(w, msg);
        goto out;
    }
    const cJSON *old = o->json;
    const char *brv = mock_json_str(meta, "resourceVersion", "");
    if (brv[0] && strcmp(brv, rv_of(old)) != 0) {
        rc = conflict(w, w->name);
        goto out;
    }
    const char *buid = mock_json_str(meta, "uid", "");
    const char *ouid = mock_json_str(old, "metadata.uid", "");
    if (buid[0] && strcmp(buid, ouid) != 0) {
        char detail[512];
        snprintf(detail, sizeof(detail),
                 "metadata.uid: Invalid value: \"%.64s\": field is immutable",
                 buid);
        rc = invalid(w, w->name, "metadata.uid", "FieldValueInvalid", detail);
        goto out;
    }
    if (scale) {
        /* Only spec.replicas of the Scale reaches the workload. */
        const cJSON *r = mock_json_path(obj, "spec.replicas");
        double v = cJSON_IsNumber(r) ? r->valuedouble : -1;
        if (!cJSON_IsNumber(r) || v < 0 || v > 2147483647.0 ||
            v != (double)(int64_t)v) {
            char detail[160];
            snprintf(detail, sizeof(detail),
                     "spec.replicas: Invalid value: %s: must be greater "
                     "than or equal to 0",
                     cJSON_IsNumber(r) ? "a number" : "null");
            if (cJSON_IsNumber(r))
                snprintf(detail, sizeof(detail),
                         "spec.replicas: Invalid value: %g: must be greater "
                         "than or equal to 0",
                         v);
            char msg2[1200];
            snprintf(msg2, sizeof(msg2),
                     "Scale.autoscaling \"%s\" is invalid: %s", w->name,
                     detail);
            rc = status(w, 422, "Invalid", msg2, w->name);
            goto out;
        }
        cJSON *next = cJSON_Duplicate(old, 1);
        cJSON *spec = next ? child_obj(next, "spec") : NULL;
        if (!spec || mock_json_set(spec, "replicas", cJSON_CreateNumber(v))) {
            cJSON_Delete(next);
            goto nomem;
        }
        cJSON_Delete(obj);
        obj = next;
        meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    } else if (w->sub && strcmp(w->sub, "status") == 0) {
        /* A status write changes status only. */
        cJSON *st = cJSON_DetachItemFromObjectCaseSensitive(obj, "status");
        cJSON *next = cJSON_Duplicate(old, 1);
        if (!next) {
            cJSON_Delete(st);
            goto nomem;
        }
        del(next, "status");
        if (st && !cJSON_AddItemToObject(next, "status", st)) {
            cJSON_Delete(st);
            cJSON_Delete(next);
            goto nomem;
        }
        cJSON_Delete(obj);
        obj = next;
        meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    } else {
        if ((rc = check_labels(w, obj, w->name)) != 0)
            goto out;
        if (mock_kind_has_status(k)) {
            /* The main resource cannot change status. */
            del(obj, "status");
            const cJSON *ost = cJSON_GetObjectItemCaseSensitive(old, "status");
            if (ost &&
                mock_json_set(obj, "status", cJSON_Duplicate(ost, 1)) != 0)
                goto nomem;
        }
        if (strcmp(k->resource, "namespaces") == 0) {
            cJSON *labels = child_obj(meta, "labels");
            if (!labels ||
                set_str(labels, "kubernetes.io/metadata.name", w->name) != 0)
                goto nomem;
        }
    }
    /* What clients cannot change. */
    if (k->namespaced && set_str(meta, "namespace", w->ns) != 0)
        goto nomem;
    if (!k->namespaced)
        del(meta, "namespace");
    if (set_str(meta, "uid", ouid) != 0 ||
        set_str(meta, "resourceVersion", rv_of(old)) != 0)
        goto nomem;
    static const char *const kept[] = {"creationTimestamp", "generation",
                                       "deletionTimestamp", "selfLink"};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        const cJSON *ov = mock_json_path(
            cJSON_GetObjectItemCaseSensitive(old, "metadata"), kept[i]);
        del(meta, kept[i]);
        if (ov && mock_json_set(meta, kept[i], cJSON_Duplicate(ov, 1)) != 0)
            goto nomem;
    }
    if (mock_kind_has_generation(k) &&
        !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(obj, "spec"),
                       cJSON_GetObjectItemCaseSensitive(old, "spec"), 1)) {
        int64_t g = mock_json_int(old, "metadata.generation", 0);
        if (mock_json_set(meta, "generation",
                          cJSON_CreateNumber((double)(g + 1))) != 0)
            goto nomem;
    }
    if (mock_tree_depth(obj, MOCK_WRITE_MAX_DEPTH) > MOCK_WRITE_MAX_DEPTH) {
        rc = invalid(w, w->name, "metadata", "FieldValueInvalid",
                     "metadata: Invalid value: \"object\": nested too "
                     "deeply");
        goto out;
    }
    /* An update that changes nothing is no write: same resourceVersion,
     * no event, as with etcd. */
    if (cJSON_Compare(obj, old, 1) || w->dry_run) {
        cJSON *shown = scale ? scale_of(obj) : NULL;
        rc = answer_doc(w, 200, scale ? shown : obj);
        cJSON_Delete(shown);
        if (scale && !shown)
            rc = -1;
        goto out;
    }
    cJSON *prev;
    if (mock_store_put(w->in->store, k, w->ns, w->name, obj, &prev) != 0)
        return -1;
    o = mock_store_get(w->in->store, k, w->ns, w->name);
    changed(w, k, MOCK_EVENT_MODIFIED, prev, o->json, o->rv);
    cJSON_Delete(prev);
    if (scale) {
        cJSON *s = scale_of(o->json);
        rc = s ? answer_doc(w, 200, s) : -1;
        cJSON_Delete(s);
        return rc;
    }
    return answer_doc(w, 200, o->json);
nomem:
    rc = -1;
out:
    cJSON_Delete(obj);
    return rc > 0 ? 0 : rc;
}

static int do_put(struct w *w, int scale)
{
    cJSON *obj = NULL;
    int rc = read_object(w, &obj);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if (scale) {
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            return bad_request(w, "the object provided is unrecognized (must "
                                  "be of type Scale)");
        }
        if (!child_obj(obj, "metadata")) {
            cJSON_Delete(obj);
            return -1;
        }
    } else if ((rc = check_shape(w, obj)) != 0) {
        cJSON_Delete(obj);
        return rc > 0 ? 0 : -1;
    }
    return update_object(w, obj, scale);
}

enum patch_type { PT_MERGE, PT_JSON, PT_STRATEGIC };

static int do_patch(struct w *w, int scale)
{
    char mt[96];
    media_type(w, mt, sizeof(mt));
    enum patch_type pt;
    if (strcmp(mt, "application/merge-patch+json") == 0)
        pt = PT_MERGE;
    else if (strcmp(mt, "application/json-patch+json") == 0)
        pt = PT_JSON;
    else if (strcmp(mt, "application/strategic-merge-patch+json") == 0)
        pt = PT_STRATEGIC;
    else {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "the body of the request was in an unknown format - accepted "
                 "media types include: application/json-patch+json, "
                 "application/merge-patch+json, "
                 "application/strategic-merge-patch+json");
        return unsupported_media(w, msg);
    }
    const struct mock_obj *o =
        mock_store_get(w->in->store, w->k, w->ns, w->name);
    if (!o)
        return not_found(w, w->k, w->name);
    cJSON *patch = NULL;
    int rc = parse_json(w, &patch);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    cJSON *doc = scale ? scale_of(o->json) : cJSON_Duplicate(o->json, 1);
    if (!doc) {
        cJSON_Delete(patch);
        return -1;
    }
    char err[512] = "";
    if (pt == PT_MERGE) {
        if (!cJSON_IsObject(patch)) {
            rc = 1;
            snprintf(err, sizeof(err), "a merge patch must be a JSON object");
        } else {
            doc = mock_merge_patch(doc, patch);
            rc = doc ? 0 : -3;
        }
    } else if (pt == PT_JSON) {
        rc = mock_json_patch(&doc, patch, err, sizeof(err));
        rc = rc == -1 ? 1 : rc == -2 ? 2 : rc;
    } else {
        rc = mock_strategic_patch(&doc, patch, err, sizeof(err));
        rc = rc == -1 ? 2 : rc == -2 ? -3 : rc;
    }
    cJSON_Delete(patch);
    if (rc != 0) {
        cJSON_Delete(doc);
        if (rc == -3)
            return -1;
        if (rc == 1)
            return bad_request(w, err);
        return status(w, 422, "Invalid", err, NULL);
    }
    if (!scale) {
        rc = check_shape(w, doc);
        if (rc != 0) {
            cJSON_Delete(doc);
            return rc > 0 ? 0 : -1;
        }
    } else if (!cJSON_IsObject(doc) || !child_obj(doc, "metadata")) {
        cJSON_Delete(doc);
        return bad_request(w, "the patched object is not a Scale");
    }
    return update_object(w, doc, scale);
}

/* ---- delete ----------------------------------------------------------- */

/* The preconditions of a DeleteOptions body. Returns 0 or answers 409. */
static int check_preconditions(struct w *w, const cJSON *obj)
{
    char mt[96];
    media_type(w, mt, sizeof(mt));
    if (!w->body || w->body->len == 0 ||
        (mt[0] && strcmp(mt, "application/json") != 0))
        return 0; /* options other than preconditions change nothing here */
    cJSON *opts = NULL;
    int rc = parse_json(w, &opts);
    if (rc != 0)
        return rc;
    const char *uid = mock_json_str(opts, "preconditions.uid", NULL);
    const char *rv = mock_json_str(opts, "preconditions.resourceVersion", NULL);
    const char *ouid = mock_json_str(obj, "metadata.uid", "");
    char msg[512];
    rc = 0;
    if (uid && strcmp(uid, ouid) != 0) {
        snprintf(msg, sizeof(msg),
                 "Precondition failed: UID in precondition: %.64s, UID in "
                 "object meta: %.64s",
                 uid, ouid);
        rc = status(w, 409, "Conflict", msg, w->name) == 0 ? 1 : -1;
    } else if (rv && strcmp(rv, rv_of(obj)) != 0) {
        snprintf(msg, sizeof(msg),
                 "Precondition failed: ResourceVersion in precondition: "
                 "%.64s, ResourceVersion in object meta: %.64s",
                 rv, rv_of(obj));
        rc = status(w, 409, "Conflict", msg, w->name) == 0 ? 1 : -1;
    }
    cJSON_Delete(opts);
    return rc;
}

/* Removes one object and tells watchers. Returns its last JSON (owned). */
static cJSON *remove_one(struct w *w, const struct mock_kind *k, const char *ns,
                         const char *name)
{
    cJSON *json = mock_store_remove(w->in->store, k, ns, name);
    if (json)
        changed(w, k, MOCK_EVENT_DELETED, NULL, json, w->in->store->rv);
    return json;
}

/* Everything in namespace NS goes with it. */
static int empty_namespace(struct w *w, const char *ns)
{
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        if (!k->namespaced)
            continue;
        const struct mock_bucket *b = mock_store_bucket(w->in->store, k);
        size_t at = mock_store_seek(w->in->store, k, ns, "", 1);
        while (at < b->n && strcmp(b->v[at]->ns, ns) == 0) {
            char *name = strdup(b->v[at]->name);
            if (!name)
                return -1;
            cJSON_Delete(remove_one(w, k, ns, name));
            free(name);
        }
    }
    return 0;
}

static int delete_namespace(struct w *w, const cJSON *old)
{
    if (strcmp(w->name, "default") == 0 ||
        strcmp(w->name, "kube-system") == 0 ||
        strcmp(w->name, "kube-public") == 0) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "namespaces \"%s\" is forbidden: this namespace may not be "
                 "deleted",
                 w->name);
        return status(w, 403, "Forbidden", msg, w->name);
    }
    /* First the Terminating namespace that kube-apiserver answers with,
     * then, with nothing to wait for here, the end of it. */
    cJSON *term = cJSON_Duplicate(old, 1);
    cJSON *meta =
        term ? cJSON_GetObjectItemCaseSensitive(term, "metadata") : NULL;
    cJSON *st = term ? child_obj(term, "status") : NULL;
    char now[40];
    now_string(w, now, sizeof(now));
    if (!meta || !st || set_str(meta, "deletionTimestamp", now) != 0 ||
        set_str(st, "phase", "Terminating") != 0) {
        cJSON_Delete(term);
        return -1;
    }
    if (w->dry_run) {
        int rc = answer_doc(w, 200, term);
        cJSON_Delete(term);
        return rc;
    }
    /* PREV is OLD, handed back by the store: OLD is gone once it is freed. */
    cJSON *prev;
    if (mock_store_put(w->in->store, w->k, "", w->name, term, &prev) != 0)
        return -1;
    const struct mock_obj *o = mock_store_get(w->in->store, w->k, "", w->name);
    changed(w, w->k, MOCK_EVENT_MODIFIED, prev, o->json, o->rv);
    cJSON_Delete(prev);
    int rc = answer_doc(w, 200, o->json);
    if (rc != 0)
        return rc;
    if (empty_namespace(w, w->name) != 0)
        return -1;
    cJSON_Delete(remove_one(w, w->k, "", w->name));
    return 0;
}

/* Kinds whose registry returns the deleted object rather than a Status. */
static int returns_object(const struct mock_kind *k)
{
    return !k->group[0] && (strcmp(k->resource, "pods") == 0 ||
                            strcmp(k->resource, "services") == 0);
}

static int success_status(struct w *w, const char *uid)
{
    cJSON *st = cJSON_CreateObject();
    if (!st)
        return -1;
    cJSON_AddStringToObject(st, "kind", "Status");
    cJSON_AddStringToObject(st, "apiVersion", "v1");
    cJSON_AddObjectToObject(st, "metadata");
    cJSON_AddStringToObject(st, "status", "Success");
    cJSON *d = cJSON_AddObjectToObject(st, "details");
    if (d) {
        cJSON_AddStringToObject(d, "name", w->name);
        if (w->k->group[0])
            cJSON_AddStringToObject(d, "group", w->k->group);
        cJSON_AddStringToObject(d, "kind", w->k->resource);
        cJSON_AddStringToObject(d, "uid", uid);
    }
    int rc = answer_doc(w, 200, st);
    cJSON_Delete(st);
    return rc;
}

static int do_delete(struct w *w)
{
    const struct mock_obj *o =
        mock_store_get(w->in->store, w->k, w->ns, w->name);
    if (!o)
        return not_found(w, w->k, w->name);
    int rc = check_preconditions(w, o->json);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if (strcmp(w->k->resource, "namespaces") == 0 && !w->k->group[0])
        return delete_namespace(w, o->json);
    if (w->dry_run)
        return returns_object(w->k)
                   ? answer_doc(w, 200, o->json)
                   : success_status(w,
                                    mock_json_str(o->json, "metadata.uid", ""));
    cJSON *json = remove_one(w, w->k, w->ns, w->name);
    if (!json)
        return -1;
    rc = returns_object(w->k)
             ? answer_doc(w, 200, json)
             : success_status(w, mock_json_str(json, "metadata.uid", ""));
    cJSON_Delete(json);
    return rc;
}

static int do_delete_collection(struct w *w)
{
    const struct mock_kind *k = w->k;
    if (strcmp(k->resource, "namespaces") == 0 || (k->namespaced && !w->ns[0]))
        return method_not_allowed(w);
    struct mock_selector *sel[2];
    char msg[160];
    int r = mock_selectors_from_query(w->query, sel, msg, sizeof(msg));
    if (r != 0)
        return r < 0 ? -1 : bad_request(w, msg);
    cJSON *list = cJSON_CreateObject();
    cJSON *items = NULL;
    char gv[64];
    if (list) {
        cJSON_AddStringToObject(list, "kind", k->list_kind);
        cJSON_AddStringToObject(list, "apiVersion",
                                mock_kind_api_version(k, gv, sizeof(gv)));
        cJSON_AddObjectToObject(list, "metadata");
        items = cJSON_AddArrayToObject(list, "items");
    }
    int rc = items ? 0 : -1;
    const struct mock_bucket *b = mock_store_bucket(w->in->store, k);
    size_t at = mock_store_seek(w->in->store, k, w->ns, "", 1);
    while (rc == 0 && at < b->n &&
           (!k->namespaced || strcmp(b->v[at]->ns, w->ns) == 0)) {
        const struct mock_obj *o = b->v[at];
        if (!mock_selector_match(sel[0], o->json) ||
            !mock_selector_match(sel[1], o->json)) {
            at++;
            continue;
        }
        if (w->dry_run) {
            if (!cJSON_AddItemToArray(items, cJSON_Duplicate(o->json, 1)))
                rc = -1;
            at++;
            continue;
        }
        char *name = strdup(o->name);
        cJSON *json = name ? remove_one(w, k, w->ns, name) : NULL;
        free(name);
        if (!json || !cJSON_AddItemToArray(items, json)) {
            cJSON_Delete(json);
            rc = -1;
        }
    }
    mock_selector_free(sel[0]);
    mock_selector_free(sel[1]);
    if (rc == 0) {
        char rv[24];
        snprintf(rv, sizeof(rv), "%llu", (unsigned long long)w->in->store->rv);
        cJSON_AddStringToObject(
            cJSON_GetObjectItemCaseSensitive(list, "metadata"),
            "resourceVersion", rv);
        rc = answer_doc(w, 200, list);
    }
    cJSON_Delete(list);
    return rc;
}

/* ---- entry ------------------------------------------------------------ */

int mock_write(struct mock_instance *in, const char *method,
               const struct mock_kind *k, const char *ns, const char *name,
               const char *sub, const char *query, const struct mock_body *body,
               struct mock_answer *a)
{
    struct w w = {in, method, k, ns ? ns : "", name, sub, query, body, a, 0};
    int is_get = strcmp(method, "GET") == 0;
    int scale = sub && strcmp(sub, "scale") == 0;
    if (sub) {
        int known = (scale && mock_kind_has_scale(k)) ||
                    (strcmp(sub, "status") == 0 && mock_kind_has_status(k));
        if (!known || !name)
            return answer_text(&w, 404,
                               mock_status_json(404, "NotFound",
                                                "the server could not find "
                                                "the requested resource",
                                                NULL, NULL));
        if (is_get) {
            const struct mock_obj *o = mock_store_get(in->store, k, w.ns, name);
            if (!o)
                return not_found(&w, k, name);
            if (!scale)
                return answer_doc(&w, 200, o->json);
            cJSON *s = scale_of(o->json);
            int rc = s ? answer_doc(&w, 200, s) : -1;
            cJSON_Delete(s);
            return rc;
        }
    }
    if (is_get)
        return method_not_allowed(&w);
    int rc = read_dry_run(&w);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if (strcmp(method, "POST") == 0)
        return name ? method_not_allowed(&w) : do_create(&w);
    if (strcmp(method, "PUT") == 0)
        return name ? do_put(&w, scale) : method_not_allowed(&w);
    if (strcmp(method, "PATCH") == 0)
        return name ? do_patch(&w, scale) : method_not_allowed(&w);
    if (strcmp(method, "DELETE") == 0 && !sub)
        return name ? do_delete(&w) : do_delete_collection(&w);
    return method_not_allowed(&w);
}
