/* Reloading the configuration (reload.h). Every view of the new
 * generation is made on its own worker's loop before any worker adopts
 * one: a driver that refuses its section refuses the whole reload, and
 * the running generation stays, its refusal logged, counted and shown on
 * /readyz?verbose. */
#include "daemon/reload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "daemon/notify.h"
#include "fleet/fleet.h"
#include "plugin/config_validate.h"

/* Making W's view on W's loop while the first worker waits for it. */
struct build {
    struct fg_worker *w;
    struct fg_generation *gen;
    const struct fg_worker_gen *first;
    struct fg_worker_gen *view;
    struct fg_error err;
    pthread_mutex_t lock;
    pthread_cond_t done;
    int finished;
};

static void build_here(void *arg)
{
    struct build *b = arg;
    struct fg_worker_gen *view =
        fg_worker_gen_new(b->w, b->gen, b->w->gen, b->first, &b->err);
    pthread_mutex_lock(&b->lock);
    b->view = view;
    b->finished = 1;
    pthread_cond_signal(&b->done);
    pthread_mutex_unlock(&b->lock);
}

static struct fg_worker_gen *build_view(struct fg_worker *w,
                                        struct fg_generation *gen,
                                        const struct fg_worker_gen *first,
                                        struct fg_error *err)
{
    if (w->index == 0) /* this loop */
        return fg_worker_gen_new(w, gen, w->gen, NULL, err);
    struct build b = {.w = w, .gen = gen, .first = first};
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.done, NULL);
    if (fg_loop_queue_post(&w->queue, build_here, &b) != 0) {
        fg_error_set(err, "out of memory");
    } else {
        pthread_mutex_lock(&b.lock);
        while (!b.finished)
            pthread_cond_wait(&b.done, &b.lock);
        pthread_mutex_unlock(&b.lock);
        if (!b.view)
            *err = b.err;
    }
    pthread_cond_destroy(&b.done);
    pthread_mutex_destroy(&b.lock);
    return b.view;
}

static void drop_here(void *arg)
{
    fg_worker_gen_unref(arg);
}

static void adopt_here(void *arg)
{
    struct fg_worker_gen *view = arg;
    fg_worker_gen_adopt(view->worker, view);
}

/* Runs FN(VIEW) on VIEW's worker's loop; the first worker's is this one. */
static void on_worker(struct fg_worker_gen *view, fg_job_fn fn)
{
    struct fg_worker *w = view->worker;
    if (w->index == 0 || fg_loop_queue_post(&w->queue, fn, view) != 0)
        fn(view);
}

static void refused(struct fg_gateway *gw, const struct fg_diag *diag)
{
    const char *first = diag->n ? diag->lines[0] : "refused";
    for (size_t i = 0; i < diag->n; i++)
        fg_error_log("reload refused: %s", diag->lines[i]);
    fg_error_log("reload refused: generation %llu keeps serving",
                 (unsigned long long)gw->gen->id);
    atomic_fetch_add(&gw->reload_failures, 1);
    pthread_mutex_lock(&gw->reload_lock);
    snprintf(gw->reload_error, sizeof(gw->reload_error), "%s", first);
    pthread_mutex_unlock(&gw->reload_lock);
    fg_notify_ready("serving; the last reload was refused");
}

static int same_listen(const struct fg_config *a, const struct fg_config *b)
{
    return a->listen_port == b->listen_port &&
           strcmp(a->listen_host, b->listen_host) == 0;
}

static int same_members(const struct fg_config *a, const struct fg_config *b)
{
    if (a->n_members != b->n_members)
        return 0;
    for (size_t i = 0; i < a->n_members; i++)
        if (strcmp(a->members[i].name, b->members[i].name) != 0)
            return 0;
    return 1;
}

/* Every worker's view of GEN, each with its socket when listen moved, or
 * none: a refusal (an address that cannot be bound too) drops those made. */
static struct fg_worker_gen **build_views(struct fg_gateway *gw,
                                          struct fg_generation *gen,
                                          struct fg_diag *diag)
{
    int moved = !same_listen(gw->gen->cfg, gen->cfg);
    struct fg_worker_gen **views = calloc(gw->n_workers, sizeof(*views));
    if (!views) {
        fg_diag_add(diag, NULL, 0, "out of memory");
        return NULL;
    }
    for (unsigned i = 0; i < gw->n_workers; i++) {
        struct fg_error err = {{0}};
        views[i] = build_view(&gw->workers[i], gen, views[0], &err);
        if (views[i] &&
            (!moved || (views[i]->listen_fd =
                            fg_gateway_open_listener(gen->cfg, &err)) >= 0))
            continue;
        fg_diag_add(diag, NULL, 0, "%s", err.msg);
        if (views[i])
            i++;
        while (i-- > 0)
            on_worker(views[i], drop_here);
        free(views);
        return NULL;
    }
    return views;
}

/* The plugins of NEXT that RUNNING did not have: files replaced or added,
 * or plugins the configuration names now (only those named are kept). */
static void log_fresh_plugins(const struct fg_plugin_set *running,
                              const struct fg_plugin_set *next)
{
    for (size_t i = 0; i < next->n; i++) {
        size_t j = 0;
        while (j < running->n && running->v[j] != next->v[i])
            j++;
        if (j == running->n)
            fg_info("plugin %s %s: loaded from %s", next->v[i]->desc->name,
                    next->v[i]->desc->version, next->v[i]->path);
    }
}

/* CA_CREATED: the state's CA was made anew (kubeconfigs pin it). */
static void apply(struct fg_gateway *gw, struct fg_generation *gen,
                  struct fg_worker_gen **views, int ca_created)
{
    log_fresh_plugins(&gw->gen->plugins, &gen->plugins);
    int rewrite = !same_members(gw->gen->cfg, gen->cfg) ||
                  !same_listen(gw->gen->cfg, gen->cfg) || ca_created;
    for (unsigned i = 0; i < gw->n_workers; i++)
        on_worker(views[i], adopt_here);
    struct fg_generation *old = gw->gen;
    gw->gen = gen;
    const struct fg_config *cfg = gen->cfg;
    if (rewrite) {
        struct fg_error err = {{0}};
        if (fg_gateway_write_kubeconfig(gw, cfg, &err) != 0)
            fg_error_log("reload: %s", err.msg);
    }
    fg_generation_unref(old);
    fg_fleet_poke(gw->fleet);
    enum fg_log_level level = FG_LOG_INFO;
    fg_log_level_parse(cfg->log_level, &level);
    fg_log_set_level(level);
    atomic_fetch_add(&gw->reloads, 1);
    pthread_mutex_lock(&gw->reload_lock);
    gw->reload_error[0] = '\0';
    pthread_mutex_unlock(&gw->reload_lock);
    char status[128];
    snprintf(status, sizeof(status),
             "serving %zu member(s), configuration generation %llu",
             cfg->n_members, (unsigned long long)gen->id);
    fg_info("reload: %s", status);
    fg_notify_ready(status);
}

void fg_reload_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct fg_gateway *gw = arg;
    if (atomic_load(&gw->stopping))
        return;
    fg_info("SIGHUP: reading the configuration in %s again", gw->cfg->dir);
    fg_notify_reloading();
    struct fg_diag diag = {0};
    struct fg_plugin_set plugins = {0};
    struct fg_config *cfg = fg_config_load(gw->cfg->dir, &diag);
    if (cfg &&
        (fg_config_override(cfg, gw->state_dir_override, gw->listen_override,
                            &diag) != 0 ||
         fg_plugins_reload_dir(&gw->gen->plugins, &plugins, &diag) != 0 ||
         fg_config_validate(cfg, &plugins, &diag) != 0 ||
         fg_config_restart_only(gw->cfg, cfg, &diag) != 0)) {
        fg_config_free(cfg);
        cfg = NULL;
    }
    if (cfg)
        fg_plugins_keep_used(&plugins, cfg);
    struct fg_generation *gen = cfg ? fg_generation_new(gw, cfg, 1) : NULL;
    if (cfg && !gen) {
        fg_config_free(cfg);
        fg_diag_add(&diag, NULL, 0, "out of memory");
    }
    if (gen)
        gen->plugins = plugins; /* freed with it */
    else
        fg_plugins_unload(&plugins);
    /* Made anew when what it is made from changed, a certificate or key
     * rewritten under the same names included. */
    struct fg_cert_files certs = {0};
    struct fg_error err = {{0}};
    if (gen) {
        fg_gateway_tls_id(cfg, gen->tls_id, sizeof(gen->tls_id));
        if (strcmp(gen->tls_id, gw->gen->tls_id) == 0 &&
            SSL_CTX_up_ref(gw->gen->ssl_ctx) == 1) {
            gen->ssl_ctx = gw->gen->ssl_ctx;
        } else if ((gen->ssl_ctx = fg_gateway_serving_ctx(cfg, &certs, &err))) {
            /* the state's certificate may have been issued again */
            fg_gateway_tls_id(cfg, gen->tls_id, sizeof(gen->tls_id));
            fg_info("serving certificate loaded again: new connections use it");
        } else {
            fg_diag_add(&diag, NULL, 0, "%s", err.msg);
        }
    }
    struct fg_worker_gen **views =
        gen && gen->ssl_ctx ? build_views(gw, gen, &diag) : NULL;
    if (views)
        apply(gw, gen, views, certs.ca_created);
    else
        refused(gw, &diag);
    if (gen && !views)
        fg_generation_unref(gen);
    free(views);
    fg_cert_files_free(&certs);
    fg_diag_free(&diag);
}
