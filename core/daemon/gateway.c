/* Bringing the gateway up (state, TLS, plugins' instances, sockets), running
 * one loop per worker, and the graceful stop: on SIGTERM/SIGINT every worker
 * stops accepting, drains its connections, and ends when nothing is left or
 * the grace period is over. */
#include "daemon/gateway.h"
#include "request/member_call.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "base/fsutil.h"
#include "config/certs.h"
#include "net/conn.h"
#include "config/kubeconfig.h"
#include "base/log.h"
#include "daemon/notify.h"
#include "net/tls.h"
#include "daemon/generation.h"
#include "daemon/reload.h"
#include "fleet/fleet.h"
#include "plugin/config_validate.h"

int fg_gateway_open_listener(const struct fg_config *cfg, struct fg_error *err)
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
    uint64_t ms = w->gen->cfg->limits.shutdown_grace_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(w->grace_ev, &tv);
    fg_fleet_drain(w);
    fg_member_calls_drain(w);
    fg_conn_drain_all(w);
    fg_worker_check_drained(w);
}

/* What the service manager shows beside the unit's state. */
static void notify_ready(const struct fg_gateway *gw)
{
    char status[300];
    snprintf(status, sizeof(status), "serving %zu member(s) on %s:%u",
             gw->cfg->n_members, gw->cfg->listen_host, gw->cfg->listen_port);
    fg_notify_ready(status);
}

/* A worker's loop. epoll changes wait in libevent's changelist until the
 * next epoll_wait: a write enabled and disabled again within one loop turn
 * (every answer relayed) costs no epoll_ctl. No fd of ours is dup()ed,
 * which is the changelist's one caveat. */
static struct event_base *loop_new(void)
{
    struct event_config *c = event_config_new();
    if (!c)
        return NULL;
    struct event_base *base = NULL;
    if (event_config_set_flag(c, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == 0)
        base = event_base_new_with_config(c);
    event_config_free(c);
    return base;
}

static int init_worker(struct fg_gateway *gw, unsigned index,
                       struct fg_error *err)
{
    struct fg_worker *w = &gw->workers[index];
    w->gw = gw;
    w->index = index;
    if (fg_metrics_shard_init(&w->metrics) != 0 ||
        fg_source_table_init(&w->sources, gw->cfg->limits.max_connections) != 0)
        return fg_error_set(err, "out of memory");
    w->base = loop_new();
    if (!w->base || fg_loop_queue_init(&w->queue, w->base) != 0)
        return fg_error_set(err, "cannot create an event loop");
    w->drain_ev = event_new(w->base, -1, 0, drain_cb, w);
    w->grace_ev = evtimer_new(w->base, grace_over, w);
    if (!w->drain_ev || !w->grace_ev ||
        fg_mem_trim_init(&w->mem_trim, w->base, &w->n_conns) != 0)
        return fg_error_set(err, "out of memory");
    /* Worker 0's view first: the others' one-loop members are proxies to
     * its instances. */
    w->gen = fg_worker_gen_new(w, gw->gen, NULL,
                               index > 0 ? gw->workers[0].gen : NULL, err);
    if (!w->gen)
        return -1;
    int fd = fg_gateway_open_listener(gw->cfg, err);
    return fd < 0 ? -1 : fg_worker_listen(w, fd, err);
}

int fg_worker_listen(struct fg_worker *w, int fd, struct fg_error *err)
{
    struct evconnlistener *l = evconnlistener_new(
        w->base, accept_cb, w, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (!l) {
        close(fd);
        return fg_error_set(err, "cannot listen on the event loop");
    }
    if (w->listener) {
        /* Only the listening socket closes: the connections it accepted
         * are the worker's, served on until they end. */
        fg_accept_guard_free(w);
        evconnlistener_free(w->listener);
    }
    w->listener = l;
    return fg_accept_guard_init(w, err);
}

/* Appends what PATH is now (inode, size, mtime; "-" when missing) to OUT. */
static void append_file_id(char *out, size_t len, const char *path)
{
    struct stat st;
    size_t used = strlen(out);
    if (!path || stat(path, &st) != 0)
        snprintf(out + used, len - used, "-;");
    else
        snprintf(out + used, len - used, "%llu:%lld.%09ld:%lld;",
                 (unsigned long long)st.st_ino, (long long)st.st_mtim.tv_sec,
                 (long)st.st_mtim.tv_nsec, (long long)st.st_size);
}

void fg_gateway_tls_id(const struct fg_config *cfg, char *out, size_t len)
{
    char generated[2][4096];
    snprintf(generated[0], sizeof(generated[0]), "%s/server.crt",
             cfg->state_dir);
    snprintf(generated[1], sizeof(generated[1]), "%s/server.key",
             cfg->state_dir);
    snprintf(out, len, "%s|", cfg->listen_host);
    for (size_t i = 0; i < cfg->n_server_names; i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s,", cfg->server_names[i]);
    }
    const char *files[] = {cfg->cert_file ? cfg->cert_file : generated[0],
                           cfg->key_file ? cfg->key_file : generated[1],
                           cfg->client_ca_file};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s=", files[i] ? files[i] : "");
        append_file_id(out, len, files[i]);
    }
}

SSL_CTX *fg_gateway_serving_ctx(const struct fg_config *cfg,
                                struct fg_cert_files *certs,
                                struct fg_error *err)
{
    /* A specific listen address is a name clients will use: cover it, and
     * the names the operator gives (a Service's DNS names). */
    const char **sans = calloc(cfg->n_server_names + 1, sizeof(*sans));
    if (!sans) {
        fg_error_set(err, "out of memory");
        return NULL;
    }
    size_t n_sans = 0;
    if (strcmp(cfg->listen_host, "0.0.0.0") != 0 &&
        strcmp(cfg->listen_host, "::") != 0)
        sans[n_sans++] = cfg->listen_host;
    for (size_t i = 0; i < cfg->n_server_names; i++)
        sans[n_sans++] = cfg->server_names[i];
    int ensured = fg_certs_ensure(cfg->state_dir, sans, n_sans, certs, err);
    free(sans);
    if (ensured != 0)
        return NULL;
    return cfg->cert_file
               ? fg_tls_server_ctx(cfg->cert_file, cfg->key_file,
                                   cfg->client_ca_file, err)
               : fg_tls_server_ctx(certs->server_cert, certs->server_key,
                                   cfg->client_ca_file, err);
}

int fg_gateway_write_kubeconfig(struct fg_gateway *gw,
                                const struct fg_config *cfg,
                                struct fg_error *err)
{
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
    int rc = fg_kubeconfig_write(path, server, gw->ca_cert_file, gw->token,
                                 names, cfg->n_members, NULL,
                                 cfg->role == FG_ROLE_HOST, err);
    free(names);
    if (rc == 0)
        fg_info("admin kubeconfig: %s (contexts: one per member%s%s)", path,
                cfg->role == FG_ROLE_HOST ? ", " FG_FLEET_CONTEXT : "",
                cfg->n_members > 1 ? ", and _all for every member at once"
                                   : "");
    return rc;
}

/* STATE_DIR/fedgate.pid: where `fedgatectl reload` finds whom to send
 * SIGHUP. */
static int write_pid(const struct fg_config *cfg, struct fg_error *err)
{
    char path[4096], pid[24];
    snprintf(path, sizeof(path), "%s/" FG_PID_FILE, cfg->state_dir);
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    return fg_write_file_atomic(path, pid, (size_t)len, 0644, err);
}

/* Removes the pid file if it still names this process (a second gateway
 * on the same state_dir may have written its own since). */
static void remove_pid(const struct fg_config *cfg)
{
    char path[4096], *text = NULL;
    size_t len;
    struct fg_error err = {{0}};
    snprintf(path, sizeof(path), "%s/" FG_PID_FILE, cfg->state_dir);
    if (fg_read_file(path, 32, &text, &len, NULL, &err) == 0 &&
        strtol(text, NULL, 10) == (long)getpid())
        unlink(path);
    free(text);
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
                    const char *state_dir, const char *listen,
                    struct fg_error *err)
{
    /* The port accepts connections before the loop's signal events exist:
     * a SIGTERM in between (a supervisor that saw the port open) would
     * kill the default way. Held until fg_gateway_run can take it. */
    mask_stop_signals(SIG_BLOCK);
    memset(gw, 0, sizeof(*gw));
    gw->cfg = cfg;
    gw->state_dir_override = state_dir;
    gw->listen_override = listen;
    pthread_mutex_init(&gw->reload_lock, NULL);
    if (!(gw->gen = fg_generation_new(gw, cfg, 0)))
        return fg_error_set(err, "out of memory");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    gw->started_ms = (uint64_t)ts.tv_sec * 1000u;

    /* A refused plugin stops the start, as it fails --check: a gateway
     * that runs with a plugin missing is a surprise found too late. */
    struct fg_diag diag = {0};
    if (fg_plugins_load_dir(cfg->plugin_dir, &gw->gen->plugins, &diag) != 0 ||
        fg_config_validate(cfg, &gw->gen->plugins, &diag) != 0) {
        int rc = fg_error_set(err, "%s", diag.n ? diag.lines[0] : "bad plugin");
        for (size_t i = 0; i < diag.n; i++)
            fg_error_log("%s", diag.lines[i]);
        fg_diag_free(&diag);
        return rc;
    }
    fg_diag_free(&diag);
    fg_plugins_keep_used(&gw->gen->plugins, cfg);
    fg_fd_budget(cfg, 1, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fg_warn("%s", diag.lines[i]);
    fg_diag_free(&diag);

    struct fg_cert_files certs = {0};
    gw->gen->ssl_ctx = fg_gateway_serving_ctx(cfg, &certs, err);
    if (!gw->gen->ssl_ctx) {
        fg_cert_files_free(&certs);
        return -1;
    }
    fg_gateway_tls_id(cfg, gw->gen->tls_id, sizeof(gw->gen->tls_id));
    /* lent to plugins' listeners (host.h listen) */
    gw->serving_cert_file =
        strdup(cfg->cert_file ? cfg->cert_file : certs.server_cert);
    gw->serving_key_file =
        strdup(cfg->key_file ? cfg->key_file : certs.server_key);
    gw->ca_cert_file = strdup(certs.ca_cert);
    int rc = -1;
    if (!gw->serving_cert_file || !gw->serving_key_file || !gw->ca_cert_file)
        rc = fg_error_set(err, "out of memory");
    else if (fg_admin_token_ensure(cfg->state_dir, gw->token, err) == 0 &&
             fg_gateway_write_kubeconfig(gw, cfg, err) == 0)
        rc = write_pid(cfg, err);
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
    if (cfg->role == FG_ROLE_HOST && !(gw->fleet = fg_fleet_new(gw)))
        return fg_error_set(err, "out of memory");
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
    struct event *hup =
        evsignal_new(main_worker->base, SIGHUP, fg_reload_signal, gw);
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

/* Runs the jobs posted to the workers' loops until none is left. */
static void run_queues(struct fg_gateway *gw)
{
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

/* Every worker's connections closed, then the jobs those closes post to
 * other workers (cross-loop streams) run until none is left, before any
 * loop or instance is freed: a close on one worker ends on another. Then
 * the views go, the first worker's last: the others' proxies let go of its
 * one-loop instances on its queue. */
static void close_everything(struct fg_gateway *gw)
{
    for (unsigned i = 0; gw->workers && i < gw->n_workers; i++)
        if (gw->workers[i].base)
            fg_conn_close_all(&gw->workers[i]);
    run_queues(gw);
    for (unsigned i = gw->workers ? gw->n_workers : 0; i-- > 0;) {
        struct fg_worker *w = &gw->workers[i];
        if (w->gen)
            fg_worker_gen_unref(w->gen);
        w->gen = NULL;
    }
    run_queues(gw);
}

void fg_gateway_free(struct fg_gateway *gw)
{
    close_everything(gw);
    fg_fleet_free(gw->fleet);
    for (unsigned i = 0; gw->workers && i < gw->n_workers; i++) {
        struct fg_worker *w = &gw->workers[i];
        fg_lent_hosts_free(w);
        fg_loop_queue_free(&w->queue);
        fg_accept_guard_free(w);
        if (w->listener)
            evconnlistener_free(w->listener);
        if (w->drain_ev)
            event_free(w->drain_ev);
        if (w->grace_ev)
            event_free(w->grace_ev);
        fg_mem_trim_free(&w->mem_trim);
        if (w->base)
            event_base_free(w->base);
        fg_metrics_shard_free(&w->metrics);
        fg_source_table_free(&w->sources);
    }
    free(gw->workers);
    free(gw->serving_cert_file);
    free(gw->serving_key_file);
    if (gw->ca_cert_file) /* the state was written */
        remove_pid(gw->cfg);
    free(gw->ca_cert_file);
    if (gw->gen) {
        fg_generation_unref(gw->gen);
        pthread_mutex_destroy(&gw->reload_lock);
    }
    memset(gw, 0, sizeof(*gw));
}
