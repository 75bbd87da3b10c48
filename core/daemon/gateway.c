/* Bringing the gateway up (state, TLS, plugins' instances, sockets), running
 * one loop per worker, and the graceful stop: on SIGTERM/SIGINT every worker
 * stops accepting, drains its connections, and ends when nothing is left or
 * the grace period is over. */
#include "daemon/gateway.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "config/certs.h"
#include "net/conn.h"
#include "config/kubeconfig.h"
#include "base/log.h"
#include "daemon/notify.h"
#include "net/tls.h"
#include "request/cross_loop.h"

static int open_listener(const struct fg_config *cfg, struct fg_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    char port[8];
    snprintf(port, sizeof(port), "%u", cfg->listen_port);
    int rc = getaddrinfo(cfg->listen_host, port, &hints, &res);
    if (rc != 0)
        return fg_error_set(err, "listen %s:%s: %s", cfg->listen_host, port,
                            gai_strerror(rc));
    int fd = socket(res->ai_family,
                    res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 511) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return fg_error_set(err, "listen %s:%s: %s", cfg->listen_host, port,
                            strerror(e));
    }
    freeaddrinfo(res);
    return fd;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *addr, int len, void *arg)
{
    (void)l;
    fg_accept_guard_ok(arg);
    fg_conn_accept(arg, fd, addr, len);
}

struct fg_member_rt *fg_worker_member(struct fg_worker *w, const char *name)
{
    for (size_t i = 0; i < w->n_members; i++)
        if (strcmp(w->members[i].section->name, name) == 0)
            return &w->members[i];
    return NULL;
}

void fg_worker_check_drained(struct fg_worker *w)
{
    if (w->draining && w->n_conns == 0 && w->in_flight == 0)
        event_base_loopexit(w->base, NULL);
}

static void grace_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_worker *w = arg;
    fg_warn("worker %u: grace period over, closing %u connection(s) with "
            "%u request(s) in flight",
            w->index, w->n_conns, w->in_flight);
    fg_conn_close_all(w);
    event_base_loopexit(w->base, NULL);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_worker *w = arg;
    if (w->draining)
        return;
    w->draining = 1;
    if (w->listener) {
        fg_accept_guard_free(w);
        evconnlistener_free(w->listener);
        w->listener = NULL;
    }
    uint64_t ms = w->gw->cfg->limits.shutdown_grace_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(w->grace_ev, &tv);
    fg_conn_drain_all(w);
    fg_worker_check_drained(w);
}

/* The fg_host of PLUGIN's instance for section S on W: its logs say
 * "KIND[NAME]". */
static void lend_host(struct fg_worker *w, struct fg_host *host,
                      struct fg_host_ctx *ctx, const struct fg_plugin *plugin,
                      const struct fg_config_section *s)
{
    ctx->base = w->base;
    ctx->state_dir = w->gw->cfg->state_dir;
    ctx->tunnel = w->gw->cfg->tunnel ? &w->gw->cfg->tunnel->view : NULL;
    ctx->serving_cert_file = w->gw->serving_cert_file;
    ctx->serving_key_file = w->gw->serving_key_file;
    snprintf(ctx->prefix, sizeof(ctx->prefix), "%s[%s]", plugin->desc->name,
             s->name);
    fg_host_init(host, ctx);
}

static int init_members(struct fg_worker *w, struct fg_error *err)
{
    const struct fg_config *cfg = w->gw->cfg;
    w->n_members = cfg->n_members;
    w->members =
        calloc(cfg->n_members ? cfg->n_members : 1, sizeof(*w->members));
    if (!w->members)
        return fg_error_set(err, "out of memory");
    for (size_t i = 0; i < cfg->n_members; i++) {
        struct fg_member_rt *m = &w->members[i];
        const struct fg_config_section *s = &cfg->members[i];
        m->worker = w;
        m->section = s;
        m->index = i;
        m->plugin = fg_plugins_find(&w->gw->plugins, FG_PLUGIN_DRIVER,
                                    fg_config_get(s, "driver"));
        if (!m->plugin)
            return fg_error_set(err, "%s:%d: member \"%s\": no driver", s->file,
                                s->line, s->name);
        m->ops = m->plugin->desc->ops;
        if (m->ops->scope == FG_SCOPE_ONE_LOOP && w->index > 0) {
            /* One instance, on the first worker: requests go there. */
            m->owner = &w->gw->workers[0].members[i];
            m->ops = &fg_cross_loop_ops;
            m->instance = m;
            continue;
        }
        lend_host(w, &m->host, &m->host_ctx, m->plugin, s);
        char msg[256] = "";
        m->instance =
            m->ops->instance_new(&m->host, &s->view, msg, sizeof(msg));
        if (!m->instance)
            return fg_error_set(err, "%s:%d: member \"%s\": %s", s->file,
                                s->line, s->name, msg[0] ? msg : "refused");
        if (m->ops->scope == FG_SCOPE_ONE_LOOP && w->gw->n_workers > 1 &&
            fg_cross_loop_health_start(m) != 0)
            return fg_error_set(err, "out of memory");
    }
    return 0;
}

/* One instance per [plugin] section of the chain, in chain order, after
 * the admin token was written (an authenticate plugin may read it). */
static int init_policies(struct fg_worker *w, struct fg_error *err)
{
    const struct fg_config *cfg = w->gw->cfg;
    w->policies = calloc(cfg->n_chain ? cfg->n_chain : 1, sizeof(*w->policies));
    if (!w->policies)
        return fg_error_set(err, "out of memory");
    w->n_policies = cfg->n_chain;
    for (size_t i = 0; i < cfg->n_chain; i++) {
        struct fg_policy_rt *p = &w->policies[i];
        const struct fg_config_section *s = cfg->chain[i];
        const struct fg_plugin *plugin =
            fg_config_plugin_of(s, &w->gw->plugins);
        if (!plugin)
            return fg_error_set(err, "%s:%d: [plugin \"%s\"]: no plugin",
                                s->file, s->line, s->name);
        p->section = s;
        p->ops = plugin->desc->ops;
        lend_host(w, &p->host, &p->host_ctx, plugin, s);
        char msg[256] = "";
        p->instance =
            p->ops->instance_new(&p->host, &s->view, msg, sizeof(msg));
        if (!p->instance)
            return fg_error_set(err, "%s:%d: [plugin \"%s\"]: %s", s->file,
                                s->line, s->name, msg[0] ? msg : "refused");
    }
    return 0;
}

/* What the service manager shows beside the unit's state. */
static void notify_ready(const struct fg_gateway *gw)
{
    char status[300];
    snprintf(status, sizeof(status), "serving %zu member(s) on %s:%u",
             gw->cfg->n_members, gw->cfg->listen_host, gw->cfg->listen_port);
    fg_notify_ready(status);
}

/* On each worker's own loop: drivers and policy plugins re-read their
 * files. The last worker to finish ends the reload the service manager was
 * told about. */
static void reload_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_worker *w = arg;
    for (size_t i = 0; i < w->n_members; i++) {
        const struct fg_driver_ops *ops = w->members[i].ops;
        /* A 1.0 plugin's table ends before reload. */
        if (ops->struct_size >=
                offsetof(struct fg_driver_ops, reload) + sizeof(ops->reload) &&
            ops->reload)
            ops->reload(w->members[i].instance);
    }
    for (size_t i = 0; i < w->n_policies; i++)
        if (w->policies[i].ops->reload)
            w->policies[i].ops->reload(w->policies[i].instance);
    if (atomic_fetch_sub(&w->gw->reloads_pending, 1) == 1)
        notify_ready(w->gw);
}

static int init_worker(struct fg_gateway *gw, unsigned index,
                       struct fg_error *err)
{
    struct fg_worker *w = &gw->workers[index];
    w->gw = gw;
    w->index = index;
    if (fg_metrics_shard_init(&w->metrics, gw->cfg->n_members) != 0 ||
        fg_source_table_init(&w->sources, gw->cfg->limits.max_connections) != 0)
        return fg_error_set(err, "out of memory");
    w->base = event_base_new();
    if (!w->base || fg_loop_queue_init(&w->queue, w->base) != 0)
        return fg_error_set(err, "cannot create an event loop");
    w->drain_ev = event_new(w->base, -1, 0, drain_cb, w);
    w->grace_ev = evtimer_new(w->base, grace_over, w);
    w->reload_ev = event_new(w->base, -1, 0, reload_cb, w);
    if (!w->drain_ev || !w->grace_ev || !w->reload_ev ||
        fg_mem_trim_init(&w->mem_trim, w->base, &w->n_conns) != 0)
        return fg_error_set(err, "out of memory");
    if (init_policies(w, err) != 0)
        return -1;
    int fd = open_listener(gw->cfg, err);
    if (fd < 0)
        return -1;
    w->listener = evconnlistener_new(w->base, accept_cb, w,
                                     LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (!w->listener) {
        close(fd);
        return fg_error_set(err, "cannot listen on the event loop");
    }
    if (fg_accept_guard_init(w, err) != 0)
        return -1;
    return init_members(w, err);
}

static int write_state(struct fg_gateway *gw, struct fg_cert_files *certs,
                       struct fg_error *err)
{
    const struct fg_config *cfg = gw->cfg;
    if (fg_admin_token_ensure(cfg->state_dir, gw->token, err) != 0)
        return -1;
    const char **names = calloc(cfg->n_members + 1, sizeof(*names));
    if (!names)
        return fg_error_set(err, "out of memory");
    for (size_t i = 0; i < cfg->n_members; i++)
        names[i] = cfg->members[i].name;

    /* A wildcard address is reached on loopback from this machine. */
    const char *host = cfg->listen_host;
    if (strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    char server[300];
    snprintf(server, sizeof(server),
             strchr(host, ':') ? "https://[%s]:%u" : "https://%s:%u", host,
             cfg->listen_port);
    char path[4096];
    snprintf(path, sizeof(path), "%s/admin.kubeconfig", cfg->state_dir);
    int rc = fg_kubeconfig_write(path, server, certs->ca_cert, gw->token, names,
                                 cfg->n_members, NULL, err);
    free(names);
    if (rc == 0)
        fg_info("admin kubeconfig: %s (contexts: one per member)", path);
    return rc;
}

/* SIGTERM, SIGINT and SIGHUP, blocked or unblocked (HOW) in this thread. */
static void mask_stop_signals(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(how, &set, NULL);
}

int fg_gateway_init(struct fg_gateway *gw, struct fg_config *cfg,
                    struct fg_error *err)
{
    /* The port accepts connections before the loop's signal events exist:
     * a SIGTERM in between (a supervisor that saw the port open) would
     * kill the default way. Held until fg_gateway_run can take it. */
    mask_stop_signals(SIG_BLOCK);
    memset(gw, 0, sizeof(*gw));
    gw->cfg = cfg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    gw->started_ms = (uint64_t)ts.tv_sec * 1000u;

    /* A refused plugin stops the start, as it fails --check: a gateway
     * that runs with a plugin missing is a surprise found too late. */
    struct fg_diag diag = {0};
    if (fg_plugins_load_dir(cfg->plugin_dir, &gw->plugins, &diag) != 0 ||
        fg_config_check_members(cfg, &gw->plugins, &diag) != 0 ||
        fg_config_check_plugins(cfg, &gw->plugins, &diag) != 0) {
        int rc = fg_error_set(err, "%s", diag.n ? diag.lines[0] : "bad plugin");
        for (size_t i = 0; i < diag.n; i++)
            fg_error_log("%s", diag.lines[i]);
        fg_diag_free(&diag);
        return rc;
    }
    fg_diag_free(&diag);
    fg_fd_budget(cfg, 1, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fg_warn("%s", diag.lines[i]);
    fg_diag_free(&diag);

    struct fg_cert_files certs = {0};
    const char *cert = cfg->cert_file, *key = cfg->key_file;
    /* A specific listen address is a name clients will use: cover it, and
     * the names the operator gives (a Service's DNS names). */
    const char **sans = calloc(cfg->n_server_names + 1, sizeof(*sans));
    if (!sans)
        return fg_error_set(err, "out of memory");
    size_t n_sans = 0;
    if (strcmp(cfg->listen_host, "0.0.0.0") != 0 &&
        strcmp(cfg->listen_host, "::") != 0)
        sans[n_sans++] = cfg->listen_host;
    for (size_t i = 0; i < cfg->n_server_names; i++)
        sans[n_sans++] = cfg->server_names[i];
    int ensured = fg_certs_ensure(cfg->state_dir, sans, n_sans, &certs, err);
    free(sans);
    if (ensured != 0)
        return -1;
    if (!cert) {
        cert = certs.server_cert;
        key = certs.server_key;
    }
    gw->ssl_ctx = fg_tls_server_ctx(cert, key, cfg->client_ca_file, err);
    /* lent to plugins' listeners (host.h listen) */
    gw->serving_cert_file = strdup(cert);
    gw->serving_key_file = strdup(key);
    int rc = gw->ssl_ctx ? write_state(gw, &certs, err) : -1;
    if (rc == 0 && (!gw->serving_cert_file || !gw->serving_key_file))
        rc = fg_error_set(err, "out of memory");
    fg_cert_files_free(&certs);
    if (rc != 0)
        return -1;

    gw->n_workers = cfg->workers;
    gw->workers = calloc(gw->n_workers, sizeof(*gw->workers));
    if (!gw->workers)
        return fg_error_set(err, "out of memory");
    for (unsigned i = 0; i < gw->n_workers; i++)
        if (init_worker(gw, i, err) != 0)
            return -1;
    return 0;
}

static void *worker_main(void *arg)
{
    struct fg_worker *w = arg;
    event_base_dispatch(w->base);
    return NULL;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct fg_gateway *gw = arg;
    if (atomic_exchange(&gw->stopping, 1))
        return;
    fg_info("%s: stopping; in-flight requests have %llu ms to finish",
            sig == SIGTERM ? "SIGTERM" : "SIGINT",
            (unsigned long long)gw->cfg->limits.shutdown_grace_ms);
    fg_notify_stopping();
    for (unsigned i = 0; i < gw->n_workers; i++)
        event_active(gw->workers[i].drain_ev, EV_READ, 0);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct fg_gateway *gw = arg;
    fg_info("SIGHUP: drivers and policy plugins re-read their files; other "
            "configuration changes need a restart");
    fg_notify_reloading();
    atomic_fetch_add(&gw->reloads_pending, gw->n_workers);
    for (unsigned i = 0; i < gw->n_workers; i++)
        event_active(gw->workers[i].reload_ev, EV_READ, 0);
}

static void started(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    notify_ready(arg);
}

int fg_gateway_run(struct fg_gateway *gw)
{
    struct fg_worker *main_worker = &gw->workers[0];
    struct event *term =
        evsignal_new(main_worker->base, SIGTERM, on_stop_signal, gw);
    struct event *intr =
        evsignal_new(main_worker->base, SIGINT, on_stop_signal, gw);
    struct event *hup = evsignal_new(main_worker->base, SIGHUP, on_hup, gw);
    evsignal_add(term, NULL);
    evsignal_add(intr, NULL);
    evsignal_add(hup, NULL);
    /* Held since fg_gateway_init: one that came meanwhile is taken now,
     * and the workers made next inherit the open mask. */
    mask_stop_signals(SIG_UNBLOCK);

    for (unsigned i = 1; i < gw->n_workers; i++)
        pthread_create(&gw->workers[i].thread, NULL, worker_main,
                       &gw->workers[i]);
    fg_info("fedgate %s serving %zu member(s) as %s on %s:%u with %u "
            "worker(s)",
            FG_VERSION, gw->cfg->n_members,
            gw->cfg->role == FG_ROLE_HOST ? "host" : "member",
            gw->cfg->listen_host, gw->cfg->listen_port, gw->n_workers);
    /* Every listener is bound and every member instantiated (init), the
     * other workers run: ready once the main loop runs too. */
    struct timeval now = {0, 0};
    event_base_once(main_worker->base, -1, EV_TIMEOUT, started, gw, &now);
    event_base_dispatch(main_worker->base);
    /* Stopping already: a second SIGTERM (a supervisor's, a test's) must
     * not kill the teardown. Freeing the signal events puts back the
     * handler they replaced (the default, which kills), so the signals are
     * blocked first and stay pending until exit; the workers that could
     * still take them are joined before the events go. */
    mask_stop_signals(SIG_BLOCK);
    for (unsigned i = 1; i < gw->n_workers; i++)
        pthread_join(gw->workers[i].thread, NULL);
    event_free(term);
    event_free(intr);
    event_free(hup);
    fg_info("stopped");
    return 0;
}

/* Every worker's connections closed, then the jobs those closes post to
 * other workers (cross-loop streams) run until none is left, before any
 * loop or instance is freed: a close on one worker ends on another. */
static void close_everything(struct fg_gateway *gw)
{
    for (unsigned i = 0; gw->workers && i < gw->n_workers; i++)
        if (gw->workers[i].base)
            fg_conn_close_all(&gw->workers[i]);
    for (int round = 0; round < 1000; round++) {
        size_t ran = 0;
        for (unsigned i = 0; gw->workers && i < gw->n_workers; i++) {
            struct fg_worker *w = &gw->workers[i];
            if (!w->base)
                continue;
            /* the deferred frees the closes scheduled */
            event_base_loop(w->base, EVLOOP_NONBLOCK);
            if (w->queue.wake)
                ran += fg_loop_queue_run(&w->queue);
        }
        if (ran == 0)
            break;
    }
}

void fg_gateway_free(struct fg_gateway *gw)
{
    close_everything(gw);
    for (unsigned i = 0; gw->workers && i < gw->n_workers; i++) {
        struct fg_worker *w = &gw->workers[i];
        for (size_t m = 0; w->members && m < w->n_members; m++) {
            struct fg_member_rt *mr = &w->members[m];
            fg_cross_loop_health_stop(mr);
            if (mr->instance && !mr->owner)
                mr->ops->instance_free(mr->instance);
        }
        fg_loop_queue_free(&w->queue);
        free(w->members);
        for (size_t p = 0; w->policies && p < w->n_policies; p++)
            if (w->policies[p].instance)
                w->policies[p].ops->instance_free(w->policies[p].instance);
        free(w->policies);
        fg_accept_guard_free(w);
        if (w->listener)
            evconnlistener_free(w->listener);
        if (w->drain_ev)
            event_free(w->drain_ev);
        if (w->grace_ev)
            event_free(w->grace_ev);
        if (w->reload_ev)
            event_free(w->reload_ev);
        fg_mem_trim_free(&w->mem_trim);
        if (w->base)
            event_base_free(w->base);
        fg_metrics_shard_free(&w->metrics);
        fg_source_table_free(&w->sources);
    }
    free(gw->workers);
    if (gw->ssl_ctx)
        SSL_CTX_free(gw->ssl_ctx);
    free(gw->serving_cert_file);
    free(gw->serving_key_file);
    fg_plugins_unload(&gw->plugins);
    memset(gw, 0, sizeof(*gw));
}
