/* Kubernetes Status bodies and HTTP reason phrases: see status.h.
 *
 * The reasons follow k8s.io/apimachinery's StatusReason constants and the
 * codes its errors package pairs them with. Where kube-apiserver has no
 * reason of its own (414, 431), it answers a bad request. */
#include "request/status.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

const char *fg_status_reason(int code)
{
    switch (code) {
    case 400:
    case 414:
    case 431:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 406:
        return "NotAcceptable";
    case 408:
    case 504:
        return "Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Expired";
    case 413:
        return "RequestEntityTooLarge";
    case 415:
        return "UnsupportedMediaType";
    case 422:
        return "Invalid";
    case 429:
        return "TooManyRequests";
    case 503:
        return "ServiceUnavailable";
    default:
        /* apimachinery reports any other server error as InternalError
         * (501, 502 included) and leaves other client errors without a
         * reason. */
        return code >= 500 && code <= 599 ? "InternalError" : NULL;
    }
}

const char *fg_http_reason_phrase(int code)
{
    switch (code) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Entity";
    case 426:
        return "Upgrade Required";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "";
    }
}

char *fg_status_json_details(int code, const char *reason, const char *message,
                             const char *name, const char *kind, size_t *len)
{
    if (!reason)
        reason = fg_status_reason(code);
    if (!message)
        message = fg_http_reason_phrase(code);

    /* Fields in the order kube-apiserver encodes metav1.Status; empty
     * fields are omitted as its omitempty tags do. */
    cJSON *root = cJSON_CreateObject();
    cJSON *details = NULL;
    int ok = root && cJSON_AddStringToObject(root, "kind", "Status") &&
             cJSON_AddStringToObject(root, "apiVersion", "v1") &&
             cJSON_AddObjectToObject(root, "metadata") &&
             cJSON_AddStringToObject(root, "status", "Failure");
    if (ok && *message)
        ok = cJSON_AddStringToObject(root, "message", message) != NULL;
    if (ok && reason && *reason)
        ok = cJSON_AddStringToObject(root, "reason", reason) != NULL;
    if (ok && ((name && *name) || (kind && *kind))) {
        ok = (details = cJSON_AddObjectToObject(root, "details")) != NULL;
        if (ok && name && *name)
            ok = cJSON_AddStringToObject(details, "name", name) != NULL;
        if (ok && kind && *kind)
            ok = cJSON_AddStringToObject(details, "kind", kind) != NULL;
    }
    if (ok)
        ok = cJSON_AddNumberToObject(root, "code", code) != NULL;
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json)
        return NULL;

    size_t n = strlen(json);
    char *body = malloc(n + 2);
    if (body) {
        memcpy(body, json, n);
        body[n] = '\n';
        body[n + 1] = '\0';
        if (len)
            *len = n + 1;
    }
    cJSON_free(json);
    return body;
}

char *fg_status_json(int code, const char *reason, const char *message,
                     size_t *len)
{
    return fg_status_json_details(code, reason, message, NULL, NULL, len);
}
