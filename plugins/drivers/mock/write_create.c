/* Creating an object in the mock (POST): generateName, uid, timestamps,
 * the defaults apiserver's strategies add per kind, 409 AlreadyExists,
 * 404 for a missing namespace, 422 for bad names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mock.h"

#define GENERATE_TRIES 8

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

/* ---- kind-specific defaults ------------------------------------------- */

/* What apiserver's strategies and defaulting add on create. */
/* stringData is write-only: apiserver folds it into data, on every
 * write. */
int mock_w_fold_string_data(cJSON *obj)
{
    cJSON *sd = cJSON_DetachItemFromObjectCaseSensitive(obj, "stringData");
    if (cJSON_IsObject(sd)) {
        cJSON *data = mock_w_child_obj(obj, "data");
        const cJSON *e;
        cJSON_ArrayForEach(e, sd)
        {
            if (!cJSON_IsString(e) || !data)
                continue;
            char *b64 = fg_base64_encode_alloc(e->valuestring,
                                               strlen(e->valuestring), 0);
            if (!b64 || mock_w_set_str(data, e->string, b64) != 0) {
                free(b64);
                cJSON_Delete(sd);
                return -1;
            }
            free(b64);
        }
    }
    cJSON_Delete(sd);
    return 0;
}

static int fill_create(struct mock_write *w, cJSON *obj, const char *name)
{
    const struct mock_kind *k = w->k;
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (strcmp(k->resource, "namespaces") == 0) {
        cJSON *labels = mock_w_child_obj(
            cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "labels");
        cJSON *sp = mock_w_child_obj(obj, "spec");
        cJSON *fin =
            cJSON_CreateStringArray((const char *const[]){"kubernetes"}, 1);
        cJSON *st = cJSON_CreateObject();
        if (!labels || !sp || !st ||
            mock_w_set_str(labels, "kubernetes.io/metadata.name", name) != 0 ||
            fg_json_set(sp, "finalizers", fin) != 0 ||
            mock_w_set_str(st, "phase", "Active") != 0 ||
            fg_json_set(obj, "status", st) != 0)
            return -1;
        return 0;
    }
    if (mock_kind_has_generation(k)) {
        cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        if (fg_json_set(meta, "generation", cJSON_CreateNumber(1)) != 0)
            return -1;
        cJSON *sp = mock_w_child_obj(obj, "spec");
        if (!sp)
            return -1;
        if (mock_kind_has_scale(k) &&
            !cJSON_GetObjectItemCaseSensitive(sp, "replicas") &&
            fg_json_set(sp, "replicas", cJSON_CreateNumber(1)) != 0)
            return -1;
        /* No controller runs here: a new workload has observed nothing. */
        return fg_json_set(obj, "status", cJSON_CreateObject());
    }
    if (strcmp(k->resource, "pods") == 0) {
        cJSON *st = mock_w_child_obj(obj, "status");
        if (!st)
            return -1;
        if (!cJSON_GetObjectItemCaseSensitive(st, "phase"))
            return mock_w_set_str(st, "phase", "Pending");
        return 0;
    }
    if (strcmp(k->resource, "services") == 0 && cJSON_IsObject(spec)) {
        if (!cJSON_GetObjectItemCaseSensitive(spec, "type") &&
            mock_w_set_str(spec, "type", "ClusterIP") != 0)
            return -1;
        if (!cJSON_GetObjectItemCaseSensitive(spec, "sessionAffinity") &&
            mock_w_set_str(spec, "sessionAffinity", "None") != 0)
            return -1;
        return 0;
    }
    if (strcmp(k->resource, "secrets") == 0) {
        if (!cJSON_GetObjectItemCaseSensitive(obj, "type") &&
            mock_w_set_str(obj, "type", "Opaque") != 0)
            return -1;
        return mock_w_fold_string_data(obj);
    }
    return 0;
}

int mock_w_create(struct mock_write *w)
{
    if (w->k->namespaced && !w->ns[0])
        return mock_w_method_not_allowed(w);
    cJSON *obj = NULL;
    int rc = mock_w_read_object(w, &obj);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    return mock_w_create_obj(w, obj);
}

int mock_w_create_obj(struct mock_write *w, cJSON *obj)
{
    const struct mock_kind *k = w->k;
    int rc = mock_w_check_shape(w, obj);
    if (rc == 0)
        rc = mock_w_check_fields(w, obj);
    if (rc != 0)
        goto out;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *bns = mock_json_str(meta, "namespace", "");
    if (k->namespaced) {
        if (bns[0] && strcmp(bns, w->ns) != 0) {
            rc = mock_w_bad_request(w,
                                    "the namespace of the provided object does "
                                    "not match the namespace sent on the "
                                    "request");
            goto out;
        }
        if (mock_w_set_str(meta, "namespace", w->ns) != 0)
            goto nomem;
        const struct mock_kind *nsk =
            mock_kind_by_resource("", "v1", "namespaces");
        if (!mock_store_get(w->in->store, nsk, "", w->ns)) {
            rc = mock_w_not_found(w, nsk, w->ns);
            goto out;
        }
    } else {
        mock_w_del(meta, "namespace");
    }
    char name[320];
    const char *given = mock_json_str(meta, "name", "");
    const char *gen = mock_json_str(meta, "generateName", "");
    enum mock_name_rule rule = mock_name_rule_of(k);
    char why[640], detail[1024];
    if (!given[0] && !gen[0]) {
        rc = mock_w_invalid(
            w, "", "metadata.name", "FieldValueRequired",
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
        rc = mock_w_invalid(
            w, name, given[0] ? "metadata.name" : "metadata.generateName",
            "FieldValueInvalid", detail);
        goto out;
    }
    if (mock_w_set_str(meta, "name", name) != 0)
        goto nomem;
    if ((rc = mock_w_check_labels(w, obj, name)) != 0)
        goto out;
    if (mock_store_get(w->in->store, k, w->ns, name)) {
        char q[96], msg[512];
        snprintf(msg, sizeof(msg), "%s \"%s\" already exists",
                 mock_kind_qualified(k, q, sizeof(q)), name);
        rc = mock_w_status(w, 409, "AlreadyExists", msg, name);
        goto out;
    }
    char uid[40], now[40];
    new_uid(uid, sizeof(uid));
    mock_w_now(w, now, sizeof(now));
    mock_w_del(meta, "resourceVersion");
    mock_w_del(meta, "selfLink");
    mock_w_del(meta, "deletionTimestamp");
    mock_w_del(meta, "deletionGracePeriodSeconds");
    mock_w_del(meta, "generation");
    if (mock_w_set_str(meta, "uid", uid) != 0 ||
        mock_w_set_str(meta, "creationTimestamp", now) != 0 ||
        fill_create(w, obj, name) != 0)
        goto nomem;
    if (strcmp(k->resource, "services") == 0 && !k->group[0] &&
        (rc = mock_w_cluster_ip(w, obj, NULL)) != 0)
        goto out;
    if (mock_w_managed(w, NULL, obj) != 0)
        goto nomem;
    if (w->dry_run) {
        rc = mock_w_doc(w, 201, obj);
        goto out;
    }
    char ns[256];
    snprintf(ns, sizeof(ns), "%s", k->namespaced ? w->ns : "");
    if (mock_store_put(w->in->store, k, ns, name, obj, NULL) != 0)
        return -1; /* OBJ is gone */
    const struct mock_obj *o = mock_store_get(w->in->store, k, ns, name);
    mock_w_changed(w, k, MOCK_EVENT_ADDED, NULL, o->doc, o->rv);
    return mock_w_stored(w, 201, o->doc);
nomem:
    rc = -1;
out:
    cJSON_Delete(obj);
    return rc > 0 ? 0 : rc;
}
