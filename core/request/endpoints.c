/* The gateway's own endpoints: the probes (/healthz, /livez, /readyz; open
 * to all, as on kube-apiserver), /version (host role) and /metrics (both
 * served only to callers the policy chain authenticated and authorized). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>

#include "request/exchange_internal.h"
#include "fg_build_info.h"
#include "daemon/gateway.h"

int fg_endpoints_is_probe(const char *path)
{
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
           strcmp(path, "/readyz") == 0;
}

int fg_endpoints_owns(const char *path, int host_role)
{
    return fg_endpoints_is_probe(path) || strcmp(path, "/metrics") == 0 ||
           (host_role && strcmp(path, "/version") == 0);
}

/* What the build was made from (cmake/build_info.cmake), in the shape of
 * kube-apiserver's /version so clients print it as they print theirs. */
static const char *compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "cc";
#endif
}

static const char *platform(void)
{
#if defined(__x86_64__)
    return "linux/amd64";
#elif defined(__aarch64__)
    return "linux/arm64";
#elif defined(__i386__)
    return "linux/386";
#elif defined(__arm__)
    return "linux/arm";
#elif defined(__riscv) && __riscv_xlen == 64
    return "linux/riscv64";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "linux/ppc64le";
#elif defined(__s390x__)
    return "linux/s390x";
#else
    return "linux/unknown";
#endif
}

static void serve_version(struct fg_exchange *ex)
{
    cJSON *v = cJSON_CreateObject();
    char *json = NULL;
    if (v) {
        cJSON_AddStringToObject(v, "major", FG_BUILD_MAJOR);
        cJSON_AddStringToObject(v, "minor", FG_BUILD_MINOR);
        cJSON_AddStringToObject(v, "gitVersion", "v" FG_VERSION);
        cJSON_AddStringToObject(v, "gitCommit", FG_BUILD_GIT_COMMIT);
        cJSON_AddStringToObject(v, "gitTreeState", FG_BUILD_TREE_STATE);
        cJSON_AddStringToObject(v, "buildDate", FG_BUILD_DATE);
        cJSON_AddStringToObject(v, "goVersion", "");
        cJSON_AddStringToObject(v, "compiler", compiler());
        cJSON_AddStringToObject(v, "platform", platform());
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

void fg_endpoints_serve(struct fg_exchange *ex, const char *method,
                        const char *path)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        fg_exchange_fail(ex, 405, "MethodNotAllowed",
                         "%s is not supported on %s", method, path);
        return;
    }
    if (fg_endpoints_is_probe(path)) {
        /* Not ready while draining, so load balancers stop sending. */
        if (strcmp(path, "/readyz") == 0 && ex->worker->draining) {
            static const char msg[] = "shutting down";
            fg_exchange_reply(ex, 503, "text/plain; charset=utf-8", msg,
                              sizeof(msg) - 1);
        } else {
            fg_exchange_reply(ex, 200, "text/plain; charset=utf-8", "ok", 2);
        }
        return;
    }
    if (strcmp(path, "/metrics") == 0)
        serve_metrics(ex);
    else
        serve_version(ex);
}
