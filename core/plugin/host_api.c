/* The fg_host lent to plugins: see host_api.h. */
#include "plugin/host_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include <event2/event.h>

#include "base/log.h"
#include "client/client.h"
#include "client/listen.h"
#include "daemon/gateway.h"
#include "fleet/fleet.h"
#include "request/member_call.h"

struct fg_timer {
    struct event *ev;
    fg_timer_cb cb;
    void *arg;
};

__attribute__((format(printf, 3, 4))) static void
host_log(const struct fg_host *h, enum fg_log_level level, const char *fmt, ...)
{
    const struct fg_host_ctx *ctx = h->core;
    va_list ap;
    va_start(ap, fmt);
    fg_logv(level, ctx->prefix, fmt, ap);
    va_end(ap);
}

static void fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_timer *t = arg;
    t->cb(t->arg);
}

static struct fg_timer *timer_new(const struct fg_host *h, fg_timer_cb cb,
                                  void *arg)
{
    const struct fg_host_ctx *ctx = h->core;
    struct fg_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cb = cb;
    t->arg = arg;
    t->ev = evtimer_new(ctx->base, fire, t);
    if (!t->ev) {
        free(t);
        return NULL;
    }
    return t;
}

static void timer_arm(struct fg_timer *t, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(t->ev, &tv);
}

static void timer_cancel(struct fg_timer *t)
{
    evtimer_del(t->ev);
}

static void timer_free(struct fg_timer *t)
{
    if (!t)
        return;
    event_free(t->ev);
    free(t);
}

static uint64_t now_ms(const struct fg_host *h)
{
    const struct fg_host_ctx *ctx = h->core;
    struct timeval tv;
    if (event_base_gettimeofday_cached(ctx->base, &tv) != 0)
        gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static void *event_base_of(const struct fg_host *h)
{
    const struct fg_host_ctx *ctx = h->core;
    return ctx->base;
}

/* Listeners get the gateway's certificate when they name none. */
static struct fg_listener *host_listen(const struct fg_host *h,
                                       const struct fg_listen_config *cfg,
                                       fg_accept_cb accept, void *arg,
                                       char *err, size_t err_len)
{
    const struct fg_host_ctx *ctx = h->core;
    return fg_listen(h, cfg, ctx->serving_cert_file, ctx->serving_key_file,
                     accept, arg, err, err_len);
}

/* Only a service's instance calls members, on its own worker's loop; the
 * log prefix names it in the call's peer ("service:appstore[store]"). */
static struct fg_member_call *
host_member_call(const struct fg_host *h, const char *member,
                 const struct fg_request_head *head,
                 const struct fg_stream_callbacks *cb, void *ctx, char *err,
                 size_t err_len)
{
    const struct fg_host_ctx *hc = h->core;
    if (!hc->worker || !hc->may_call_members) {
        snprintf(err, err_len,
                 "only a service plugin's instance may call "
                 "members");
        return NULL;
    }
    return fg_member_call_open(hc->worker, hc->prefix, member, head, cb, ctx,
                               err, err_len);
}

/* The fleet of the gateway whose worker lent H; NULL in the member role
 * and where there is no worker (configuration checks). */
static struct fg_fleet *fleet_of(const struct fg_host *h)
{
    const struct fg_host_ctx *hc = h->core;
    return hc->worker ? hc->worker->gw->fleet : NULL;
}

static char *fleet_members(const struct fg_host *h, uint64_t *version)
{
    struct fg_fleet *f = fleet_of(h);
    return f ? fg_fleet_members(f, version) : NULL;
}

static uint64_t fleet_version(const struct fg_host *h)
{
    struct fg_fleet *f = fleet_of(h);
    return f ? fg_fleet_rv(f) : 0;
}

void fg_host_init(struct fg_host *host, struct fg_host_ctx *ctx)
{
    *host = (struct fg_host){
        .struct_size = sizeof(struct fg_host),
        .core = ctx,
        .log = host_log,
        .timer_new = timer_new,
        .timer_arm = timer_arm,
        .timer_cancel = timer_cancel,
        .timer_free = timer_free,
        .now_ms = now_ms,
        .event_base = event_base_of,
        .client_new = fg_client_new,
        .client_reload = fg_client_reload,
        .client_free = fg_client_free,
        .client_state = fg_client_state,
        .client_stream_open = fg_client_stream_open,
        .client_stream_write = fg_client_stream_write,
        .client_stream_end = fg_client_stream_end_body,
        .client_stream_resume = fg_client_stream_resume,
        .client_stream_close = fg_client_stream_close,
        .listen = host_listen,
        .listener_address = fg_listener_address,
        .listener_free = fg_listener_free,
        .client_adopt = fg_client_adopt,
        .tls_conn_close = fg_tls_conn_close,
        .state_dir = ctx->state_dir,
        .tunnel = ctx->tunnel,
        .client_ping = fg_client_ping,
        .client_close_idle = fg_client_close_idle,
        .member_call = host_member_call,
        .member_call_write = fg_member_call_write,
        .member_call_end = fg_member_call_end,
        .member_call_resume = fg_member_call_resume,
        .member_call_close = fg_member_call_close,
        .fleet_members = fleet_members,
        .fleet_version = fleet_version,
    };
}
