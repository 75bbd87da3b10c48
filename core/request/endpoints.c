/* The gateway's own endpoints: the probes (/healthz, /livez, /readyz; open
 * to all, as on kube-apiserver), /version (host role) and /metrics (both
 * served only to callers the policy chain authenticated and authorized). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>

#include "request/exchange_internal.h"
#include "fg_build_info.h"
#include "daemon/gateway.h"
#include "daemon/generation.h"

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
    if (!out || fg_metrics_render(ex->worker, out) != 0 ||
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

/* Whether QUERY has a `verbose` parameter, as kube-apiserver's probes
 * read it (any value). */
static int has_verbose(const char *query)
{
    for (const char *q = query; q && *q;) {
        if (strncmp(q, "verbose", 7) == 0 &&
            (q[7] == '\0' || q[7] == '=' || q[7] == '&'))
            return 1;
        q = strchr(q, '&');
        if (q)
            q++;
    }
    return 0;
}

/* kube-apiserver's shape: one [+]/[-] line per check, then the verdict.
 * A refused reload leaves the gateway ready (the running configuration
 * serves): its error is shown beside the generation. */
static void serve_readyz_verbose(struct fg_exchange *ex)
{
    struct fg_gateway *gw = ex->worker->gw;
    char refusal[512];
    pthread_mutex_lock(&gw->reload_lock);
    snprintf(refusal, sizeof(refusal), "%s", gw->reload_error);
    pthread_mutex_unlock(&gw->reload_lock);
    int draining = ex->worker->draining;
    char body[1024];
    int n = snprintf(body, sizeof(body),
                     "[+]ping ok\n"
                     "[+]config ok (generation %llu%s%s)\n"
                     "[%c]shutdown %s\n"
                     "readyz check %s\n",
                     (unsigned long long)ex->gen->gen->id,
                     refusal[0] ? "; the last reload was refused: " : "",
                     refusal, draining ? '-' : '+',
                     draining ? "failed: shutting down" : "ok",
                     draining ? "failed" : "passed");
    if (n < 0 || (size_t)n >= sizeof(body))
        n = (int)strlen(body);
    fg_exchange_reply(ex, draining ? 503 : 200, "text/plain; charset=utf-8",
                      body, (size_t)n);
}

void fg_endpoints_serve(struct fg_exchange *ex, const char *method,
                        const char *path)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        fg_exchange_fail(ex, 405, "MethodNotAllowed",
                         "%s is not supported on %s", method, path);
        return;
    }
    if (strcmp(path, "/readyz") == 0 && has_verbose(ex->query)) {
        serve_readyz_verbose(ex);
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
