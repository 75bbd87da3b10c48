/* Request bodies of the mock's writes: the media type, JSON (depth
 * bounded) or Kubernetes protobuf into a cJSON object, and the shape and
 * label checks apiserver's decoder and validation make before any write
 * rule applies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

/* Bytes of Warning header past which no more unknown fields are named. */
#define MOCK_WARNING_MAX 4096

/* The media type of the body, lower-cased, without parameters. */
void mock_w_media_type(const struct mock_write *w, char *buf, size_t len)
{
    const char *ct = "";
    size_t ct_len = 0;
    if (w->body && w->body->content_type) {
        ct = w->body->content_type;
        ct_len = w->body->content_type_len;
    }
    while (ct_len > 0 && (*ct == ' ' || *ct == '\t')) {
        ct++;
        ct_len--;
    }
    size_t n = 0;
    while (n < ct_len && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t')
        n++;
    if (n >= len)
        n = len - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] + 32 : ct[i]);
    buf[n] = '\0';
}

/* Parses the body as JSON. Returns 0 with *OUT, 1 when it answered with a
 * Status, -1 on memory failure. */
int mock_w_parse_json(struct mock_write *w, cJSON **out)
{
    const char *data = w->body ? w->body->data : NULL;
    size_t len = w->body ? w->body->len : 0;
    *out = NULL;
    if (!data || len == 0)
        return mock_w_bad_request(w, "the request body is empty") == 0 ? 1 : -1;
    if (fg_json_depth(data, len, MOCK_WRITE_MAX_DEPTH) > MOCK_WRITE_MAX_DEPTH) {
        char msg[96];
        snprintf(msg, sizeof(msg),
                 "the JSON body is nested deeper than %d "
                 "levels",
                 MOCK_WRITE_MAX_DEPTH);
        return mock_w_bad_request(w, msg) == 0 ? 1 : -1;
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
        return mock_w_bad_request(w, msg) == 0 ? 1 : -1;
    }
    *out = doc;
    return 0;
}

/* An object body for create or update: JSON or Kubernetes protobuf. */
int mock_w_read_object(struct mock_write *w, cJSON **out)
{
    char mt[96];
    mock_w_media_type(w, mt, sizeof(mt));
    *out = NULL;
    if (!mt[0] || strcmp(mt, "application/json") == 0)
        return mock_w_parse_json(w, out);
    if (strcmp(mt, "application/vnd.kubernetes.protobuf") == 0) {
        char err[256];
        int rc = mock_protobuf_decode(w->body ? w->body->data : "",
                                      w->body ? w->body->len : 0, out, err,
                                      sizeof(err));
        if (rc == 0)
            return 0;
        if (rc == -3)
            return -1;
        rc = rc == -2 ? mock_w_unsupported_media(w, err)
                      : mock_w_bad_request(w, err);
        return rc == 0 ? 1 : -1;
    }
    char msg[256];
    snprintf(msg, sizeof(msg),
             "the body of the request was in an unknown format - accepted "
             "media types include: application/json, "
             "application/vnd.kubernetes.protobuf");
    return mock_w_unsupported_media(w, msg) == 0 ? 1 : -1;
}

/* The shape checks apiserver's decoder makes: the body is an object of
 * the URL's kind, metadata is an object, names and maps have string
 * types. Fills apiVersion and kind when missing. Returns 0 or answers. */
int mock_w_check_shape(struct mock_write *w, cJSON *obj)
{
    char gv[64], msg[512];
    mock_kind_api_version(w->k, gv, sizeof(gv));
    if (!cJSON_IsObject(obj))
        return mock_w_bad_request(
                   w, "the object provided is unrecognized (must be "
                      "a JSON object)") == 0
                   ? 1
                   : -1;
    const cJSON *api = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    if ((api && !cJSON_IsString(api)) || (kind && !cJSON_IsString(kind)))
        return mock_w_bad_request(w,
                                  "couldn't get version/kind; apiVersion and "
                                  "kind must be strings") == 0
                   ? 1
                   : -1;
    if (api && api->valuestring[0] && strcmp(api->valuestring, gv) != 0) {
        snprintf(msg, sizeof(msg),
                 "the API version in the data (%.64s) does not match the "
                 "expected API version (%s)",
                 api->valuestring, gv);
        return mock_w_bad_request(w, msg) == 0 ? 1 : -1;
    }
    if (kind && kind->valuestring[0] &&
        strcmp(kind->valuestring, w->k->kind) != 0) {
        snprintf(msg, sizeof(msg),
                 "%.64s in version \"%s\" cannot be handled as a %s: the "
                 "kind does not match the resource",
                 kind->valuestring, w->k->version, w->k->kind);
        return mock_w_bad_request(w, msg) == 0 ? 1 : -1;
    }
    /* kind and apiVersion first, as kube-apiserver writes objects. */
    mock_w_del(obj, "apiVersion");
    mock_w_del(obj, "kind");
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
    if (!meta && !mock_w_child_obj(obj, "metadata"))
        return -1;
    meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    static const char *const strs[] = {"name", "generateName", "namespace",
                                       "uid", "resourceVersion"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, strs[i]);
        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
            goto bad_type;
        if (cJSON_IsNull(v))
            mock_w_del(meta, strs[i]);
    }
    static const char *const maps[] = {"labels", "annotations"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(meta, maps[i]);
        if (cJSON_IsNull(m)) {
            mock_w_del(meta, maps[i]);
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
    return mock_w_bad_request(w, msg) == 0 ? 1 : -1;
}

/* Unknown fields and wrong types, as kube-apiserver's decoder answers
 * them. Returns 0 or answers 400. */
int mock_w_check_fields(struct mock_write *w, cJSON *obj)
{
    cJSON *unknown = NULL;
    char err[768];
    int rc = mock_fields_check(w->k, obj, &unknown, err, sizeof(err));
    if (rc == -2)
        return -1;
    if (rc == -1)
        return mock_w_bad_request(w, err) == 0 ? 1 : -1;
    if (!unknown->child || w->validation == MOCK_FV_IGNORE) {
        cJSON_Delete(unknown);
        return 0;
    }
    struct mock_buf b = {0};
    int bad = 0;
    const cJSON *p;
    if (w->validation == MOCK_FV_STRICT) {
        snprintf(err, sizeof(err),
                 "%s in version \"%s\" cannot be handled as a %s: strict "
                 "decoding error: ",
                 w->k->kind, w->k->version, w->k->kind);
        bad |= mock_buf_adds(&b, err);
    }
    cJSON_ArrayForEach(p, unknown)
    {
        if (w->validation == MOCK_FV_STRICT) {
            if (p != unknown->child)
                bad |= mock_buf_adds(&b, ", ");
            bad |= mock_buf_adds(&b, "unknown field \"");
            bad |= mock_buf_adds(&b, p->valuestring);
            bad |= mock_buf_adds(&b, "\"");
            continue;
        }
        /* One header, bounded: 299 - "unknown field \"x\"", ... with the
         * path's quotes escaped and bytes a header cannot carry replaced,
         * since field names are the client's. */
        if (b.len > MOCK_WARNING_MAX)
            break;
        if (p != unknown->child)
            bad |= mock_buf_adds(&b, ", ");
        bad |= mock_buf_adds(&b, "299 - \"unknown field \\\"");
        for (const char *c = p->valuestring; *c; c++) {
            char ch = *c;
            if (ch == '"' || ch == '\\')
                bad |= mock_buf_adds(&b, "\\\\\\");
            if ((unsigned char)ch < 0x20 || (unsigned char)ch >= 0x7f)
                ch = '?';
            bad |= mock_buf_add(&b, &ch, 1);
        }
        bad |= mock_buf_adds(&b, "\\\"\"");
    }
    cJSON_Delete(unknown);
    if (bad) {
        mock_buf_free(&b);
        return -1;
    }
    if (w->validation == MOCK_FV_STRICT) {
        rc = mock_w_bad_request(w, b.p);
        mock_buf_free(&b);
        return rc == 0 ? 1 : -1;
    }
    free(w->a->warning);
    w->a->warning = b.p;
    return 0;
}

/* Label and annotation keys, label values. Returns 0 or answers 422. */
int mock_w_check_labels(struct mock_write *w, const cJSON *obj,
                        const char *name)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    char msg[1024];
    static const char *const fields[] = {"labels", "annotations"};
    for (size_t i = 0; i < 2; i++) {
        if (mock_labels_check(meta, fields[i], msg, sizeof(msg)) != 0) {
            char field[32];
            snprintf(field, sizeof(field), "metadata.%s", fields[i]);
            return mock_w_invalid(w, name, field, "FieldValueInvalid", msg) == 0
                       ? 1
                       : -1;
        }
    }
    return 0;
}
