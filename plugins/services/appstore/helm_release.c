/* Helm's release records (helm_release.h): the release JSON of Helm 3's
 * release.Release, encoded as its storage driver encodes it (gzip, then
 * base64: pkg/storage/driver/util.go encodeRelease), and the Secret that
 * holds it (pkg/storage/driver/secrets.go newSecretsObject: the encoded
 * text as data.release, which the Secret's JSON carries base64'd once
 * more), so that `helm list`, `helm history` and `helm uninstall` on the
 * member read what the app store installed. */
#include "helm_release.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include <fedgate/util.h>

static unsigned char *gzip(const char *in, size_t n, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)n);
    unsigned char *out = malloc(cap);
    if (out) {
        z.next_in = (unsigned char *)(uintptr_t)in;
        z.avail_in = (uInt)n;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
            free(out);
            out = NULL;
        }
        *out_len = cap - z.avail_out;
    }
    deflateEnd(&z);
    return out;
}

char *appstore_helm_encode(const cJSON *release)
{
    char *json = cJSON_PrintUnformatted(release);
    if (!json)
        return NULL;
    size_t len;
    unsigned char *gz = gzip(json, strlen(json), &len);
    free(json);
    char *text = gz ? fg_base64_encode_alloc(gz, len, 0) : NULL;
    free(gz);
    return text;
}

/* Helm's decodeRelease: base64, then gunzip when the gzip magic leads. */
cJSON *appstore_helm_decode(const char *text, size_t len, size_t max, char *err,
                            size_t err_len)
{
    unsigned char *raw = malloc(FG_BASE64_DECODED_MAX(len) + 1);
    long n =
        raw ? fg_base64_decode(raw, FG_BASE64_DECODED_MAX(len), text, len, 0)
            : -1;
    if (n < 0) {
        free(raw);
        snprintf(err, err_len, "release: not base64");
        return NULL;
    }
    char *json = (char *)raw;
    size_t json_len = (size_t)n;
    if (n >= 3 && raw[0] == 0x1f && raw[1] == 0x8b && raw[2] == 8) {
        z_stream z;
        memset(&z, 0, sizeof z);
        json = malloc(max + 1);
        if (!json || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
            free(json);
            free(raw);
            snprintf(err, err_len, "out of memory");
            return NULL;
        }
        z.next_in = raw;
        z.avail_in = (uInt)n;
        z.next_out = (unsigned char *)json;
        z.avail_out = (uInt)max + 1;
        int zr = inflate(&z, Z_FINISH);
        json_len = max + 1 - z.avail_out;
        inflateEnd(&z);
        free(raw);
        if (zr != Z_STREAM_END || json_len > max) {
            free(json);
            snprintf(err, err_len,
                     zr == Z_STREAM_END || zr == Z_BUF_ERROR
                         ? "release: larger than %zu bytes"
                         : "release: bad gzip data",
                     max);
            return NULL;
        }
    }
    cJSON *rel = NULL;
    if (fg_json_depth(json, json_len, 100) <= 100)
        rel = cJSON_ParseWithLength(json, json_len);
    free(json);
    if (!cJSON_IsObject(rel)) {
        cJSON_Delete(rel);
        snprintf(err, err_len, "release: not a JSON object");
        return NULL;
    }
    return rel;
}

cJSON *appstore_helm_release(const struct appstore_helm_info *in)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "name", in->name);
    cJSON *info = cJSON_AddObjectToObject(r, "info");
    cJSON_AddStringToObject(info, "first_deployed", in->first_deployed);
    cJSON_AddStringToObject(info, "last_deployed", in->last_deployed);
    cJSON_AddStringToObject(info, "deleted", "");
    cJSON_AddStringToObject(info, "description", in->description);
    cJSON_AddStringToObject(info, "status", in->status);
    cJSON *chart = cJSON_AddObjectToObject(r, "chart");
    cJSON_AddItemToObject(chart, "metadata",
                          in->chart ? cJSON_Duplicate(in->chart, 1)
                                    : cJSON_CreateObject());
    cJSON_AddItemToObject(chart, "lock", cJSON_CreateNull());
    cJSON *templates = cJSON_AddArrayToObject(chart, "templates");
    for (size_t i = 0; in->templates && i < in->templates->n; i++) {
        const struct appstore_file *f = &in->templates->v[i];
        char *b64 = fg_base64_encode_alloc(f->data, f->len, 0);
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", f->name);
        cJSON_AddStringToObject(t, "data", b64 ? b64 : "");
        cJSON_AddItemToArray(templates, t);
        free(b64);
    }
    cJSON_AddItemToObject(chart, "values", cJSON_CreateNull());
    cJSON_AddItemToObject(chart, "schema", cJSON_CreateNull());
    cJSON_AddItemToObject(chart, "files", cJSON_CreateNull());
    cJSON_AddItemToObject(r, "config", cJSON_CreateObject());
    cJSON_AddStringToObject(r, "manifest", in->manifest);
    cJSON_AddNumberToObject(r, "version", in->version);
    cJSON_AddStringToObject(r, "namespace", in->ns);
    return r;
}

void appstore_helm_secret_name(const char *release, int version, char *out,
                               size_t cap)
{
    snprintf(out, cap, "sh.helm.release.v1.%s.v%d", release, version);
}

cJSON *appstore_helm_secret(const cJSON *release)
{
    const char *name =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(release, "name"));
    const char *ns = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(release, "namespace"));
    const char *status =
        cJSON_GetStringValue(fg_json_path(release, "info.status"));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(release, "version");
    if (!name || !ns || !status || !cJSON_IsNumber(v))
        return NULL;
    char *encoded = appstore_helm_encode(release);
    char *data =
        encoded ? fg_base64_encode_alloc(encoded, strlen(encoded), 0) : NULL;
    free(encoded);
    if (!data)
        return NULL;
    char secret[300], version[16];
    appstore_helm_secret_name(name, v->valueint, secret, sizeof(secret));
    snprintf(version, sizeof(version), "%d", v->valueint);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "apiVersion", "v1");
    cJSON_AddStringToObject(s, "kind", "Secret");
    cJSON *meta = cJSON_AddObjectToObject(s, "metadata");
    cJSON_AddStringToObject(meta, "name", secret);
    cJSON_AddStringToObject(meta, "namespace", ns);
    cJSON *labels = cJSON_AddObjectToObject(meta, "labels");
    cJSON_AddStringToObject(labels, "name", name);
    cJSON_AddStringToObject(labels, "owner", "helm");
    cJSON_AddStringToObject(labels, "status", status);
    cJSON_AddStringToObject(labels, "version", version);
    cJSON_AddStringToObject(s, "type", "helm.sh/release.v1");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(s, "data"), "release",
                            data);
    free(data);
    return s;
}

cJSON *appstore_helm_secret_release(const cJSON *secret, size_t max)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(secret, "data"), "release");
    if (!cJSON_IsString(data))
        return NULL;
    size_t n = strlen(data->valuestring);
    char *enc = malloc(FG_BASE64_DECODED_MAX(n) + 1);
    long m = enc ? fg_base64_decode(enc, FG_BASE64_DECODED_MAX(n),
                                    data->valuestring, n, 0)
                 : -1;
    char err[256];
    cJSON *rel =
        m >= 0 ? appstore_helm_decode(enc, (size_t)m, max, err, sizeof(err))
               : NULL;
    free(enc);
    return rel;
}
