/* Generations and each worker's view of one (generation.h): making a view
 * from the running one (what carries over, what is made new), adopting it
 * on the worker, and freeing what no view and no request holds any more.
 * Instances are freed on their own worker's loop. */
#include "daemon/generation.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "base/log.h"
#include "daemon/gateway.h"
#include "request/cross_loop.h"
#include "request/exchange_gen.h"

struct fg_generation *fg_generation_new(struct fg_gateway *gw,
                                        struct fg_config *cfg, int owns_cfg)
{
    struct fg_generation *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->cfg = cfg;
    g->owns_cfg = owns_cfg;
    g->gw = gw;
    g->id = ++gw->last_generation_id;
    atomic_init(&g->refs, 1);
    atomic_fetch_add(&gw->generations_live, 1);
    return g;
}

void fg_generation_unref(struct fg_generation *g)
{
    if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    atomic_fetch_sub(&g->gw->generations_live, 1);
    if (g->owns_cfg)
        fg_config_free(g->cfg);
    fg_plugins_unload(&g->plugins);
    if (g->ssl_ctx)
        SSL_CTX_free(g->ssl_ctx);
    free(g);
}

/* ---- member and policy instances ---------------------------------------- */

/* What the files S names (its plugin's FILE and PATH keys) are now: size
 * and modification time, so that a rewritten token or kubeconfig makes
 * the member new. A heap string, or NULL when out of memory. */
static char *files_of(const struct fg_config_section *s,
                      const struct fg_plugin *plugin)
{
    size_t cap = 64, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (const struct fg_config_key *k = plugin->desc->config_keys;
         k && k->name; k++) {
        if (k->type != FG_CONFIG_FILE && k->type != FG_CONFIG_PATH)
            continue;
        const char *path = fg_config_get(s, k->name);
        struct stat st;
        char one[128];
        if (!path || stat(path, &st) != 0)
            snprintf(one, sizeof(one), "%s:-;", k->name);
        else
            snprintf(one, sizeof(one), "%.64s:%lld.%09ld:%lld;", k->name,
                     (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec,
                     (long long)st.st_size);
        size_t n = strlen(one);
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *bigger = realloc(out, cap);
            if (!bigger) {
                free(out);
                return NULL;
            }
            out = bigger;
        }
        memcpy(out + len, one, n + 1);
        len += n;
    }
    return out;
}

/* The fg_host of PLUGIN's instance for section S on W: its logs say
 * "KIND[NAME]". It stays until the worker goes (struct fg_lent_host):
 * what it points to (the loop, the start's configuration) does too. NULL
 * when out of memory. */
static struct fg_host *lend_host(struct fg_worker *w,
                                 const struct fg_plugin *plugin,
                                 const struct fg_config_section *s)
{
    struct fg_lent_host *lent = calloc(1, sizeof(*lent));
    if (!lent)
        return NULL;
    lent->next = w->lent_hosts;
    w->lent_hosts = lent;
    struct fg_host_ctx *ctx = &lent->ctx;
    const struct fg_config *cfg = w->gw->cfg;
    ctx->base = w->base;
    ctx->state_dir = cfg->state_dir;
    ctx->tunnel = cfg->tunnel ? &cfg->tunnel->view : NULL;
    ctx->serving_cert_file = w->gw->serving_cert_file;
    ctx->serving_key_file = w->gw->serving_key_file;
    snprintf(ctx->prefix, sizeof(ctx->prefix), "%s[%s]", plugin->desc->name,
             s->name);
    fg_host_init(&lent->host, ctx);
    return &lent->host;
}

void fg_lent_hosts_free(struct fg_worker *w)
{
    while (w->lent_hosts) {
        struct fg_lent_host *lent = w->lent_hosts;
        w->lent_hosts = lent->next;
        free(lent);
    }
}

static void member_free(struct fg_member_rt *m);

/* On the owner's loop: a proxy let go of its owner. */
static void owner_released(void *arg)
{
    struct fg_member_rt *owner = arg;
    if (atomic_fetch_sub(&owner->refs, 1) == 1)
        member_free(owner);
}

static void member_unref(struct fg_member_rt *m)
{
    if (atomic_fetch_sub(&m->refs, 1) == 1)
        member_free(m);
}

static void member_free(struct fg_member_rt *m)
{
    if (m->owner) {
        /* The owner lives on another loop: let go of it there. Its queue
         * is gone only at teardown, when no loop runs any more. */
        if (fg_loop_queue_post(&m->owner->worker->queue, owner_released,
                               m->owner) != 0)
            owner_released(m->owner);
    } else if (m->instance) {
        fg_cross_loop_health_stop(m);
        m->ops->instance_free(m->instance);
    }
    fg_plugin_unref(m->plugin);
    fg_config_section_destroy(m->section);
    free(m->files);
    free(m);
}

/* Whether PREV's member M serves S unchanged: same section, same driver,
 * and its files as they were. */
static int member_unchanged(const struct fg_member_rt *m,
                            const struct fg_config_section *s,
                            const struct fg_plugin *plugin, const char *files)
{
    return m->plugin == plugin && fg_config_section_equal(m->section, s) &&
           strcmp(m->files, files) == 0;
}

static struct fg_member_rt *member_new(struct fg_worker *w,
                                       const struct fg_config_section *s,
                                       struct fg_plugin *plugin, char *files,
                                       const struct fg_worker_gen *first,
                                       struct fg_error *err)
{
    struct fg_member_rt *m = calloc(1, sizeof(*m));
    if (!m || !(m->section = fg_config_section_dup(s))) {
        free(m);
        free(files);
        fg_error_set(err, "out of memory");
        return NULL;
    }
    atomic_init(&m->refs, 1);
    m->worker = w;
    m->files = files;
    m->plugin = fg_plugin_ref(plugin);
    if (plugin->desc->kind == FG_PLUGIN_SERVICE) {
        m->service = plugin->desc->ops;
        m->ops = &m->service->streams;
    } else {
        m->ops = plugin->desc->ops;
    }
    if (m->ops->scope == FG_SCOPE_ONE_LOOP && first) {
        /* One instance, on the first worker: requests go there. */
        m->owner = fg_gen_counterpart(first, m);
        atomic_fetch_add(&m->owner->refs, 1);
        m->ops = &fg_cross_loop_ops;
        m->instance = m;
        return m;
    }
    char msg[256] = "";
    if (!(m->host = lend_host(w, plugin, m->section))) {
        fg_error_set(err, "out of memory");
        member_free(m);
        return NULL;
    }
    m->instance =
        m->ops->instance_new(m->host, &m->section->view, msg, sizeof(msg));
    if (!m->instance) {
        fg_error_set(err, "%s:%d: %s \"%s\": %s", s->file, s->line,
                     m->service ? "[plugin]" : "member", s->name,
                     msg[0] ? msg : "refused");
        member_free(m);
        return NULL;
    }
    if (m->ops->scope == FG_SCOPE_ONE_LOOP && w->gw->n_workers > 1 &&
        fg_cross_loop_health_start(m) != 0) {
        fg_error_set(err, "out of memory");
        member_free(m);
        return NULL;
    }
    return m;
}

/* The member (or service, SERVICE) S of the new view G: PREV's when
 * unchanged, else a new one. */
static struct fg_member_rt *
member_for(struct fg_worker_gen *g, const struct fg_config_section *s,
           int service, const struct fg_worker_gen *prev,
           const struct fg_worker_gen *first, struct fg_error *err)
{
    struct fg_worker *w = g->worker;
    struct fg_plugin *plugin =
        service ? fg_config_service_of(s, &g->gen->plugins)
                : fg_plugins_find(&g->gen->plugins, FG_PLUGIN_DRIVER,
                                  fg_config_get(s, "driver"));
    if (!plugin) {
        fg_error_set(err, "%s:%d: \"%s\": no %s plugin", s->file, s->line,
                     s->name, service ? "service" : "driver");
        return NULL;
    }
    char *files = files_of(s, plugin);
    if (!files) {
        fg_error_set(err, "out of memory");
        return NULL;
    }
    struct fg_member_rt *old = !prev     ? NULL
                               : service ? fg_gen_service(prev, s->name)
                                         : fg_gen_member(prev, s->name);
    /* A proxy carries over with its owner, which first decided. */
    if (old && member_unchanged(old, s, plugin, files) &&
        (!old->owner ||
         (first && fg_gen_counterpart(first, old) == old->owner))) {
        free(files);
        atomic_fetch_add(&old->refs, 1);
        return old;
    }
    if (prev && w->index == 0)
        fg_info("%s \"%s\": %s: a new %s instance serves its new requests",
                service ? "service" : "member", s->name,
                !old                    ? "added"
                : old->plugin != plugin ? "its plugin was replaced"
                                        : "changed (its section or files)",
                service ? "service" : "driver");
    return member_new(w, s, plugin, files, first, err);
}

static void policy_unref(struct fg_policy_rt *p)
{
    if (--p->refs > 0)
        return;
    if (p->instance)
        p->ops->instance_free(p->instance);
    fg_plugin_unref(p->plugin);
    fg_config_section_destroy(p->section);
    free(p);
}

/* The chain's plugin S of the new view G: PREV's when its section and its
 * plugin did not change (it re-reads its files on adopt), else a new
 * instance. */
static struct fg_policy_rt *policy_for(struct fg_worker_gen *g,
                                       const struct fg_config_section *s,
                                       const struct fg_worker_gen *prev,
                                       struct fg_error *err)
{
    struct fg_plugin *plugin = fg_config_plugin_of(s, &g->gen->plugins);
    if (!plugin) {
        fg_error_set(err, "%s:%d: [plugin \"%s\"]: no plugin", s->file, s->line,
                     s->name);
        return NULL;
    }
    for (size_t i = 0; prev && i < prev->n_policies; i++) {
        struct fg_policy_rt *old = prev->policies[i];
        if (old->plugin == plugin && fg_config_section_equal(old->section, s)) {
            old->refs++;
            return old;
        }
    }
    struct fg_policy_rt *p = calloc(1, sizeof(*p));
    if (!p || !(p->section = fg_config_section_dup(s))) {
        free(p);
        fg_error_set(err, "out of memory");
        return NULL;
    }
    p->refs = 1;
    p->plugin = fg_plugin_ref(plugin);
    p->ops = plugin->desc->ops;
    char msg[256] = "";
    if (!(p->host = lend_host(g->worker, plugin, p->section))) {
        fg_error_set(err, "out of memory");
        policy_unref(p);
        return NULL;
    }
    p->instance =
        p->ops->instance_new(p->host, &p->section->view, msg, sizeof(msg));
    if (!p->instance) {
        fg_error_set(err, "%s:%d: [plugin \"%s\"]: %s", s->file, s->line,
                     s->name, msg[0] ? msg : "refused");
        policy_unref(p);
        return NULL;
    }
    return p;
}

/* ---- views --------------------------------------------------------------- */

struct fg_member_rt *fg_gen_member(const struct fg_worker_gen *g,
                                   const char *name)
{
    for (size_t i = 0; i < g->n_members; i++)
        if (strcmp(g->members[i]->section->name, name) == 0)
            return g->members[i];
    return NULL;
}

struct fg_member_rt *fg_gen_service(const struct fg_worker_gen *g,
                                    const char *name)
{
    for (size_t i = 0; i < g->n_services; i++)
        if (strcmp(g->services[i]->section->name, name) == 0)
            return g->services[i];
    return NULL;
}

struct fg_member_rt *fg_gen_counterpart(const struct fg_worker_gen *g,
                                        const struct fg_member_rt *m)
{
    return m->service ? fg_gen_service(g, m->section->name)
                      : fg_gen_member(g, m->section->name);
}

struct fg_worker_gen *fg_worker_gen_new(struct fg_worker *w,
                                        struct fg_generation *gen,
                                        const struct fg_worker_gen *prev,
                                        const struct fg_worker_gen *first,
                                        struct fg_error *err)
{
    const struct fg_config *cfg = gen->cfg;
    struct fg_worker_gen *g = calloc(1, sizeof(*g));
    if (!g) {
        fg_error_set(err, "out of memory");
        return NULL;
    }
    g->gen = gen;
    atomic_fetch_add(&gen->refs, 1);
    g->cfg = cfg;
    g->worker = w;
    g->refs = 1;
    g->listen_fd = -1;
    g->members = calloc(cfg->n_members + 1, sizeof(*g->members));
    g->policies = calloc(cfg->n_chain + 1, sizeof(*g->policies));
    g->services = calloc(cfg->n_services + 1, sizeof(*g->services));
    if (!g->members || !g->policies || !g->services) {
        fg_error_set(err, "out of memory");
        fg_worker_gen_unref(g);
        return NULL;
    }
    /* Policy plugins first: an authenticate plugin may read the admin
     * token, written before any view is made. */
    for (size_t i = 0; i < cfg->n_chain; i++) {
        if (!(g->policies[i] = policy_for(g, cfg->chain[i], prev, err))) {
            fg_worker_gen_unref(g);
            return NULL;
        }
        g->n_policies++;
    }
    for (size_t i = 0; i < cfg->n_members; i++) {
        if (!(g->members[i] =
                  member_for(g, &cfg->members[i], 0, prev, first, err))) {
            fg_worker_gen_unref(g);
            return NULL;
        }
        g->n_members++;
    }
    for (size_t i = 0; i < cfg->n_services; i++) {
        if (!(g->services[i] =
                  member_for(g, cfg->services[i], 1, prev, first, err))) {
            fg_worker_gen_unref(g);
            return NULL;
        }
        g->n_services++;
    }
    return g;
}

void fg_worker_gen_ref(struct fg_worker_gen *g)
{
    g->refs++;
}

void fg_worker_gen_unref(struct fg_worker_gen *g)
{
    if (--g->refs > 0)
        return;
    for (size_t i = 0; i < g->n_members; i++)
        member_unref(g->members[i]);
    for (size_t i = 0; i < g->n_services; i++)
        member_unref(g->services[i]);
    for (size_t i = 0; i < g->n_policies; i++)
        policy_unref(g->policies[i]);
    free(g->members);
    free(g->services);
    free(g->policies);
    if (g->drain_timer)
        event_free(g->drain_timer);
    if (g->listen_fd >= 0)
        close(g->listen_fd);
    fg_generation_unref(g->gen);
    free(g);
}

static void drain_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_worker_gen *g = arg;
    fg_warn("configuration generation %llu: reload_drain is over; ending "
            "its requests still streaming",
            (unsigned long long)g->gen->id);
    fg_worker_gen_ref(g);
    fg_exchanges_end(g, "the gateway's configuration was reloaded");
    fg_worker_gen_unref(g);
}

/* Whether NEXT still has the instance M of the view it replaces. */
static int carried(const struct fg_worker_gen *next, const void *instance)
{
    for (size_t i = 0; i < next->n_members; i++)
        if (next->members[i]->instance == instance)
            return 1;
    for (size_t i = 0; i < next->n_services; i++)
        if (next->services[i]->instance == instance)
            return 1;
    for (size_t i = 0; i < next->n_policies; i++)
        if (next->policies[i]->instance == instance)
            return 1;
    return 0;
}

/* Carried-over instances re-read their files (tokens, rules,
 * credentials) as SIGHUP always made them do. */
static void reload_carried(const struct fg_worker_gen *old,
                           const struct fg_worker_gen *next)
{
    for (size_t i = 0; old && i < old->n_members + old->n_services; i++) {
        const struct fg_member_rt *m = i < old->n_members
                                           ? old->members[i]
                                           : old->services[i - old->n_members];
        /* A 1.0 plugin's table ends before reload. */
        if (!m->owner && carried(next, m->instance) &&
            m->ops->struct_size >= offsetof(struct fg_driver_ops, reload) +
                                       sizeof(m->ops->reload) &&
            m->ops->reload)
            m->ops->reload(m->instance);
    }
    for (size_t i = 0; old && i < old->n_policies; i++) {
        const struct fg_policy_rt *p = old->policies[i];
        if (carried(next, p->instance) && p->ops->reload)
            p->ops->reload(p->instance);
    }
}

/* W accepts on NEXT's listen when it moved (not while it stops: its
 * listener is gone then, and NEXT closes the socket when freed). */
static void move_listener(struct fg_worker *w, struct fg_worker_gen *next)
{
    if (next->listen_fd < 0 || w->draining)
        return;
    struct fg_error err = {{0}};
    int fd = next->listen_fd;
    next->listen_fd = -1;
    if (fg_worker_listen(w, fd, &err) != 0)
        fg_error_log("worker %u: %s; the listener stays where it was", w->index,
                     err.msg);
    else if (w->index == 0)
        fg_info("listening on %s:%u; the connections accepted before go on",
                next->cfg->listen_host, next->cfg->listen_port);
}

void fg_worker_gen_adopt(struct fg_worker *w, struct fg_worker_gen *next)
{
    struct fg_worker_gen *old = w->gen;
    w->gen = next;
    move_listener(w, next);
    if (!old)
        return;
    reload_carried(old, next);
    fg_exchanges_move(old, next);
    uint64_t ms = next->cfg->limits.reload_drain_ms;
    if (old->refs > 1 && ms == 0) {
        fg_exchanges_end(old, "the gateway's configuration was reloaded");
    } else if (old->refs > 1) {
        struct timeval tv = {(time_t)(ms / 1000),
                             (suseconds_t)(ms % 1000) * 1000};
        old->drain_timer = evtimer_new(w->base, drain_over, old);
        if (old->drain_timer)
            evtimer_add(old->drain_timer, &tv);
    }
    fg_worker_gen_unref(old);
}

void fg_generation_render_metrics(const struct fg_gateway *gw,
                                  struct evbuffer *out)
{
    evbuffer_add_printf(
        out,
        "# HELP fedgate_config_generations_live Configuration generations "
        "still held: the running one and those requests still finish on.\n"
        "# TYPE fedgate_config_generations_live gauge\n"
        "fedgate_config_generations_live %u\n"
        "# HELP fedgate_reloads_total Reloads (SIGHUP) that replaced the "
        "configuration.\n"
        "# TYPE fedgate_reloads_total counter\n"
        "fedgate_reloads_total %llu\n"
        "# HELP fedgate_reload_failures_total Reloads refused: the running "
        "configuration stayed.\n"
        "# TYPE fedgate_reload_failures_total counter\n"
        "fedgate_reload_failures_total %llu\n",
        atomic_load(&gw->generations_live),
        (unsigned long long)atomic_load(&gw->reloads),
        (unsigned long long)atomic_load(&gw->reload_failures));
}
