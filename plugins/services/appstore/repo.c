/* The Repo kind (repo.h): an external Helm repository the host syncs into
 * the catalog, in KubeSphere v4's shape (application.kubesphere.io/v2,
 * cluster-scoped; spec url, credential, syncPeriod, description; status
 * state, message, lastUpdateTime). Here: its table columns, its schema and
 * what a client's write must satisfy. The status is the service's alone:
 * a client asks for a sync by changing the spec or the annotation
 * APPSTORE_SYNC_ANNOTATION, never by writing a state. */
#include "repo.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/util.h>

const struct fg_object_column appstore_repo_columns[] = {
    {"URL", "string", "spec.url", 0},
    {"State", "string", "status.state", 0},
    {"Last update", "date", "status.lastUpdateTime", 0},
    {"Message", "string", "status.message", 1},
    {NULL, NULL, NULL, 0},
};

const char appstore_repo_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"apiVersion\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},"
    "\"metadata\":{\"type\":\"object\"},"
    "\"spec\":{\"type\":\"object\",\"required\":[\"url\"],\"properties\":{"
    "\"url\":{\"type\":\"string\",\"description\":\"https://HOST[:PORT]/PATH "
    "of the repository: PATH/index.yaml is its index\"},"
    "\"description\":{\"type\":\"string\"},"
    "\"mirror\":{\"type\":\"boolean\",\"description\":\"keep a copy of "
    "each kept version on the host, served under /helm/NAME/\"},"
    "\"syncPeriod\":{\"type\":\"integer\",\"description\":\"seconds between "
    "syncs: 0 syncs only when asked, else at least 180\"},"
    "\"credential\":{\"type\":\"object\",\"properties\":{"
    "\"username\":{\"type\":\"string\"},\"password\":{\"type\":\"string\"},"
    "\"caData\":{\"type\":\"string\",\"description\":\"PEM CA bundle (or its "
    "base64) the server's certificate must chain to\"},"
    "\"insecureSkipTLSVerify\":{\"type\":\"boolean\"}}}}},"
    "\"status\":{\"type\":\"object\",\"properties\":{"
    "\"state\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},"
    "\"lastUpdateTime\":{\"type\":\"string\",\"format\":\"date-time\"}}}}}";

static int refuse(char *err, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(char *err, size_t len, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return code;
}

/* An https:// URL the gateway's client can dial, with an optional path
 * made of URL path characters (no query, fragment or user info). */
static int url_ok(const char *url)
{
    if (strncmp(url, "https://", 8) != 0 || !url[8] || url[8] == '/')
        return 0;
    for (const char *p = url + 8; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("?#@\\\"<>{}|^`", c))
            return 0;
    }
    return strlen(url) <= 2048;
}

static int check_spec(const cJSON *obj, char *err, size_t len)
{
    const cJSON *url = fg_json_path(obj, "spec.url");
    const cJSON *period = fg_json_path(obj, "spec.syncPeriod");
    const cJSON *cred = fg_json_path(obj, "spec.credential");
    if (!cJSON_IsString(url))
        return refuse(err, len, 422, "spec.url: Required value");
    if (strncmp(url->valuestring, "http://", 7) == 0)
        return refuse(err, len, 422,
                      "spec.url: Unsupported value: \"%.200s\": the gateway "
                      "fetches repositories over TLS only (https://)",
                      url->valuestring);
    if (!url_ok(url->valuestring))
        return refuse(err, len, 422,
                      "spec.url: Invalid value: \"%.200s\": must be "
                      "https://HOST[:PORT][/PATH] without query or user info",
                      url->valuestring);
    if (period && !cJSON_IsNull(period)) {
        double p = cJSON_IsNumber(period) ? period->valuedouble : -1;
        if (p != (double)(long long)p || p < 0 || p > 31536000 ||
            (p > 0 && p < APPSTORE_MIN_SYNC_PERIOD))
            return refuse(err, len, 422,
                          "spec.syncPeriod: Invalid value: must be 0 "
                          "(manual) or whole seconds from %d to 31536000",
                          APPSTORE_MIN_SYNC_PERIOD);
    }
    const cJSON *mirror = fg_json_path(obj, "spec.mirror");
    if (mirror && !cJSON_IsBool(mirror) && !cJSON_IsNull(mirror))
        return refuse(err, len, 422, "spec.mirror: must be true or false");
    if (cred && !cJSON_IsNull(cred) && !cJSON_IsObject(cred))
        return refuse(err, len, 422, "spec.credential: must be an object");
    static const char *const texts[] = {"username", "password", "caData"};
    for (size_t i = 0; cJSON_IsObject(cred) && i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cred, texts[i]);
        if (v && !cJSON_IsString(v))
            return refuse(err, len, 422, "spec.credential.%s: must be a string",
                          texts[i]);
        /* the user name and password go into a header */
        for (const char *p = i < 2 && v ? v->valuestring : ""; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f || (i == 0 && *p == ':'))
                return refuse(err, len, 422,
                              "spec.credential.%s: holds a control "
                              "character%s",
                              texts[i], i == 0 ? " or a colon" : "");
    }
    return 0;
}

/* A Repo's name is a path segment (/helm/NAME/) and a prefix of object
 * names: a DNS-1123 label, and not a hosted repository's. */
static int check_name(const struct appstore_catalog *c, const cJSON *obj,
                      char *err, size_t len)
{
    const cJSON *name = fg_json_path(obj, "metadata.name");
    const char *s = cJSON_IsString(name) ? name->valuestring : "";
    size_t n = strlen(s);
    int ok = n > 0 && n <= 63 && s[0] != '-' && s[n - 1] != '-' &&
             strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n &&
             strcmp(s, "api") != 0 && strcmp(s, "health") != 0;
    if (!ok)
        return refuse(err, len, 422,
                      "metadata.name: Invalid value: \"%.63s\": a DNS-1123 "
                      "label of at most 63 characters (not api or health)",
                      s);
    for (size_t i = 0; i < c->n_hosted; i++)
        if (strcmp(c->hosted[i], s) == 0)
            return refuse(err, len, 422,
                          "metadata.name: Invalid value: \"%s\": a hosted "
                          "repository of the gateway's configuration has "
                          "that name",
                          s);
    return 0;
}

int appstore_repo_admit(const struct appstore_catalog *c, cJSON *obj,
                        const cJSON *old, int status, char *err, size_t len)
{
    if (status)
        return refuse(err, len, 422,
                      "status: the service alone writes a Repo's status; "
                      "annotate it with " APPSTORE_SYNC_ANNOTATION
                      " to sync it now");
    int rc = old ? 0 : check_name(c, obj, err, len);
    if (rc == 0)
        rc = check_spec(obj, err, len);
    if (rc != 0)
        return rc;
    /* the status stays the service's, as a status subresource keeps it */
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
    const cJSON *was =
        old ? cJSON_GetObjectItemCaseSensitive(old, "status") : NULL;
    if (was)
        cJSON_AddItemToObject(obj, "status", cJSON_Duplicate(was, 1));
    return 0;
}
