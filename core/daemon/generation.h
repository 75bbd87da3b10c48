/* Configuration generations (DESIGN.md "Configuration", "Threads and
 * memory"). A generation is one whole, valid configuration, immutable and
 * reference-counted; each worker serves it through its own view (its
 * driver and policy instances). A request holds the view it started on
 * until it is freed, so a reload never changes what a request runs with.
 * A reload makes the next views from the running ones: an instance whose
 * section (and, for a member, the files it names) did not change is
 * carried over, with everything it holds; the others are made new. */
#ifndef FG_GENERATION_H
#define FG_GENERATION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "base/error.h"
#include "config/config.h"
#include "plugin/plugin_loader.h"

struct event;
struct evbuffer;
struct fg_exchange;
struct fg_gateway;
struct fg_member_rt;
struct fg_policy_rt;
struct fg_worker;

struct fg_generation {
    struct fg_config *cfg;
    int owns_cfg;     /* not the first: fg_gateway's cfg is main()'s */
    uint64_t id;      /* 1, 2, ...: the reloads that took */
    atomic_uint refs; /* the gateway's while running, and each view's */
    struct fg_gateway *gw;
    /* The plugins loaded from plugin_dir for it: an unchanged file is the
     * running generation's plugin, shared; a replaced one a fresh load. */
    struct fg_plugin_set plugins;
    /* What new connections' TLS uses: made again on each reload, so a
     * certificate rotated in place is taken; each connection holds the
     * one it started with (SSL_new takes a reference). */
    SSL_CTX *ssl_ctx;
    char tls_id[8192]; /* fg_gateway_tls_id: what ssl_ctx was made from */
};

/* One worker's view of a generation; touched on that worker's loop only. */
struct fg_worker_gen {
    struct fg_generation *gen;
    const struct fg_config *cfg; /* gen's */
    struct fg_worker *worker;
    unsigned refs; /* the worker's while it serves it, and each request's */
    struct fg_member_rt **members; /* in configuration order */
    size_t n_members;
    struct fg_member_rt **services; /* cfg->services, in its order */
    size_t n_services;
    struct fg_policy_rt **policies; /* the [policy] chain, in its order */
    size_t n_policies;
    struct fg_exchange *exchanges; /* the requests that hold this view */
    struct event *drain_timer;     /* reload_drain, once replaced */
    int listen_fd; /* a moved listen's socket until adopted, else -1 */
};

/* A generation of CFG (taken over when OWNS_CFG), with the gateway's
 * reference and no plugins yet; NULL when out of memory. Any thread. */
struct fg_generation *fg_generation_new(struct fg_gateway *gw,
                                        struct fg_config *cfg, int owns_cfg);
void fg_generation_unref(struct fg_generation *g);

/* W's view of GEN, on W's loop: members and policy plugins of PREV (W's
 * running view, or NULL) whose sections did not change are carried over,
 * the others instantiated. A one-loop member on a worker but the first is
 * a proxy to its instance in FIRST (the first worker's new view). Returns
 * the view with one reference, or NULL with ERR set (FILE:LINE). */
struct fg_worker_gen *fg_worker_gen_new(struct fg_worker *w,
                                        struct fg_generation *gen,
                                        const struct fg_worker_gen *prev,
                                        const struct fg_worker_gen *first,
                                        struct fg_error *err);
void fg_worker_gen_ref(struct fg_worker_gen *g);
void fg_worker_gen_unref(struct fg_worker_gen *g);

/* On W's loop: W serves NEXT (whose reference it takes over) from now on.
 * Carried-over instances re-read their files (reload op); requests on
 * the replaced view move to NEXT when their member carried over, end
 * when it was removed, and otherwise finish on the old view, ended after
 * reload_drain at the latest. */
void fg_worker_gen_adopt(struct fg_worker *w, struct fg_worker_gen *next);

/* Frees the host handles lent on W, once no instance of it is left. */
void fg_lent_hosts_free(struct fg_worker *w);

/* The member NAME of G, or NULL. */
struct fg_member_rt *fg_gen_member(const struct fg_worker_gen *g,
                                   const char *name);
/* The service of [plugin "NAME"] of G, or NULL. */
struct fg_member_rt *fg_gen_service(const struct fg_worker_gen *g,
                                    const char *name);
/* What G has in M's place: the member or service of M's name, or NULL. */
struct fg_member_rt *fg_gen_counterpart(const struct fg_worker_gen *g,
                                        const struct fg_member_rt *m);

/* fedgate_config_generation, _generations_live, _reloads_total and
 * _reload_failures_total. */
void fg_generation_render_metrics(const struct fg_gateway *gw,
                                  struct evbuffer *out);

#endif
