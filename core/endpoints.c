/* The gateway's own endpoints: the probes (/healthz, /livez, /readyz; open
 * to all, as on kube-apiserver), /version (host role) and /metrics (both
 * need the admin token). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>

#include "exchange_internal.h"
#include "gateway.h"

static int is_probe(const char *path)
{
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
           strcmp(path, "/readyz") == 0;
}

int fg_endpoints_owns(const char *path, int host_role)
{
    return is_probe(path) || strcmp(path, "/metrics") == 0 ||
           (host_role && strcmp(path, "/version") == 0);
}

static void serve_version(struct fg_exchange *ex)
{
    cJSON *v = cJSON_CreateObject();
    char *json = NULL;
    if (v) {
        cJSON_AddStringToObject(v, "major", "0");
        cJSON_AddStringToObject(v, "minor", "1");
        cJSON_AddStringToObject(v, "gitVersion", "v" FG_VERSION "-fedgate");
        cJSON_AddStringToObject(v, "gitCommit", "");
        cJSON_AddStringToObject(v, "gitTreeState", "");
        cJSON_AddStringToObject(v, "buildDate", __DATE__);
        cJSON_AddStringToObject(v, "goVersion", "");
        cJSON_AddStringToObject(v, "compiler", "gcc");
        cJSON_AddStringToObject(v, "platform", "linux/amd64");
        json = cJSON_PrintUnformatted(v);
        cJSON_Delete(v);
    }
    if (!json) {
        fg_exchange_fail(ex, 500, NULL, "out of memory");
        return;
    }
    fg_exchange_reply(ex, 200, "application/json", json, strlen(json));
    free(json);
}

static void serve_metrics(struct fg_exchange *ex)
{
    struct evbuffer *out = evbuffer_new();
    if (!out || fg_metrics_render(ex->worker->gw, out) != 0 ||
        fg_metrics_render_members(ex->worker, out) != 0) {
        if (out)
            evbuffer_free(out);
        fg_exchange_fail(ex, 500, NULL, "could not render the metrics");
        return;
    }
    size_t len = evbuffer_get_length(out);
    fg_exchange_reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
                      evbuffer_pullup(out, -1), len);
    evbuffer_free(out);
}

int fg_endpoints_serve(struct fg_exchange *ex, const char *method,
                       const char *path, int authorized)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        fg_exchange_fail(ex, 405, "MethodNotAllowed",
                         "%s is not supported on %s", method, path);
        return 1;
    }
    if (is_probe(path)) {
        /* Not ready while draining, so load balancers stop sending. */
        if (strcmp(path, "/readyz") == 0 && ex->worker->draining) {
            static const char msg[] = "shutting down";
            fg_exchange_reply(ex, 503, "text/plain; charset=utf-8", msg,
                              sizeof(msg) - 1);
        } else {
            fg_exchange_reply(ex, 200, "text/plain; charset=utf-8", "ok", 2);
        }
        return 1;
    }
    if (!authorized) {
        fg_exchange_fail(ex, 401, "Unauthorized", "Unauthorized");
        return 1;
    }
    if (strcmp(path, "/metrics") == 0)
        serve_metrics(ex);
    else
        serve_version(ex);
    return 1;
}
