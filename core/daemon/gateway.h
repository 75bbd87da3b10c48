/* The running gateway: the configuration generation (with its plugins), the
 * TLS context, the admin token, and one worker per thread. Each worker owns
 * an event loop, its listening socket (SO_REUSEPORT) and its view of the
 * running generation (daemon/generation.h): its own driver instance per
 * member and its own instance of each policy plugin. */
#ifndef FG_GATEWAY_H
#define FG_GATEWAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include <fedgate/driver.h>
#include <fedgate/policy.h>
#include <fedgate/service.h>

#include "config/certs.h"
#include "config/config.h"
#include "net/conn_sources.h"
#include "net/fd_guard.h"
#include "plugin/host_api.h"
#include "daemon/loop_queue.h"
#include "daemon/mem_trim.h"
#include "daemon/metrics.h"
#include "plugin/plugin_loader.h"

struct event_base;
struct evconnlistener;
struct event;
struct fg_conn;
struct fg_gateway;
struct fg_fleet;
struct fg_generation;
struct fg_worker_gen;

/* A member as one worker serves it. For a one-loop driver
 * (FG_SCOPE_ONE_LOOP) only the owner worker has an instance; on the others
 * OPS is the cross-loop proxy (request/cross_loop.h), INSTANCE is this
 * struct and OWNER the owner worker's (which the proxy holds a reference
 * on). Shared by the generations that carry it over (generation.c). */
struct fg_member_rt {
    struct fg_worker *worker;
    struct fg_config_section *section; /* its own copy */
    char *files; /* what the files the section names were when read */
    atomic_uint refs;
    struct fg_plugin *plugin; /* a reference: dlclosed after instance_free */
    const struct fg_driver_ops *ops;
    /* A service's (service.h; ops are its streams), NULL for a member. */
    const struct fg_service_ops *service;
    void *instance;
    struct fg_member_rt *owner; /* NULL on the owner (and per-worker) */
    struct fg_host *host;       /* its worker's lent_hosts owns it */
    /* On the owner of a one-loop member served by several workers: the
     * health the other workers read (cross_loop.c). */
    pthread_mutex_t health_lock;
    int health_lock_ready;
    struct fg_member_health health_copy;
    struct event *health_ev;
};

/* A [plugin "NAME"] of the policy chain as one worker runs it; shared by
 * the generations of that worker that carry it over. */
struct fg_policy_rt {
    struct fg_config_section *section; /* its own copy */
    unsigned refs;                     /* on its worker's loop only */
    struct fg_plugin *plugin; /* a reference: dlclosed after instance_free */
    const struct fg_policy_ops *ops;
    void *instance;
    struct fg_host *host; /* its worker's lent_hosts owns it */
};

/* A host handle lent to a plugin instance. It outlives the instance: a
 * plugin may keep a handle past its instance_free (a listener shared by a
 * driver's instances), so handles go only when the worker does. */
struct fg_lent_host {
    struct fg_lent_host *next;
    struct fg_host host;
    struct fg_host_ctx ctx;
};

struct fg_member_call;

struct fg_worker {
    struct fg_gateway *gw;
    unsigned index;
    struct event_base *base;
    struct fg_loop_queue queue; /* jobs from other workers (cross_loop.c) */
    struct evconnlistener *listener;
    struct fg_accept_guard accept_guard;
    struct fg_worker_gen *gen; /* the generation it serves new requests on */
    struct fg_lent_host *lent_hosts; /* every handle lent on this loop */
    struct fg_conn *conns;           /* every open connection, oldest first */
    struct fg_conn *conns_tail;
    struct fg_source_table sources; /* connections per source address */
    struct fg_mem_trim mem_trim;
    uint32_t n_conns;
    uint32_t in_flight;
    struct fg_member_call *member_calls; /* open ones (member_call.c) */
    int draining;
    struct event *drain_ev; /* activated from another thread */
    struct event *grace_ev; /* forces the end after shutdown_grace */
    struct fg_metrics_shard metrics;
    pthread_t thread;
};

struct fg_gateway {
    /* The configuration started with: what only a restart changes
     * (state_dir, workers, [tunnel]) is read here; the rest from the
     * worker's generation. */
    struct fg_config *cfg;
    struct fg_generation *gen; /* the running one; the main thread's */
    const char *state_dir_override, *listen_override; /* command line */
    char *ca_cert_file;                               /* for kubeconfigs */
    char *serving_cert_file, *serving_key_file;       /* lent to listeners */
    char token[65]; /* the admin bearer token */
    struct fg_worker *workers;
    unsigned n_workers;
    uint64_t started_ms;
    atomic_int stopping;
    /* Reloads (reload.c): counted, and the last refusal for /readyz. */
    atomic_uint_fast64_t reloads, reload_failures;
    atomic_uint generations_live;
    uint64_t last_generation_id; /* the main thread's */
    pthread_mutex_t reload_lock;
    char reload_error[512]; /* under reload_lock; "" after a success */
    struct fg_fleet *fleet; /* the host's Cluster objects (host role) */
};

/* Sets up everything that can fail before serving: certificates, token,
 * kubeconfig, TLS, plugins' instances, listening sockets. STATE_DIR and
 * LISTEN are the command line's overrides (NULL: none), applied again to
 * each configuration a reload reads. Returns 0, or -1 with ERR set. */
int fg_gateway_init(struct fg_gateway *gw, struct fg_config *cfg,
                    const char *state_dir, const char *listen,
                    struct fg_error *err);
/* Serves until SIGTERM/SIGINT and the drain that follows; returns 0. */
int fg_gateway_run(struct fg_gateway *gw);
void fg_gateway_free(struct fg_gateway *gw);

/* In state_dir: the running gateway's pid, for `fedgatectl reload`. */
#define FG_PID_FILE "fedgate.pid"

/* Writes STATE_DIR/admin.kubeconfig for the members of CFG: one context
 * per member. Returns 0, or -1 with ERR set. */
int fg_gateway_write_kubeconfig(struct fg_gateway *gw,
                                const struct fg_config *cfg,
                                struct fg_error *err);

/* A listening socket for CFG's listen (SO_REUSEPORT: one per worker), or
 * -1 with ERR set. */
int fg_gateway_open_listener(const struct fg_config *cfg, struct fg_error *err);

/* On W's loop: W accepts on FD (taken over, closed on failure) instead of
 * its listener so far, whose connections go on. 0, or -1 with ERR set. */
int fg_worker_listen(struct fg_worker *w, int fd, struct fg_error *err);

/* The serving TLS context for CFG: [tls]'s certificate and key, else the
 * state directory's own (re-issued when it no longer names what CFG
 * listens on); CERTS gets the state's files (fg_cert_files_free). NULL
 * with ERR set. */
/* What the serving TLS context of CFG is made from (listen host, server
 * names, the certificate, key and client CA files' paths, sizes and
 * mtimes) into OUT: a reload that finds the same keeps the context. */
void fg_gateway_tls_id(const struct fg_config *cfg, char *out, size_t len);

SSL_CTX *fg_gateway_serving_ctx(const struct fg_config *cfg,
                                struct fg_cert_files *certs,
                                struct fg_error *err);

/* Called when a connection closes or a request ends while draining: ends
 * the worker's loop once nothing is left. */
void fg_worker_check_drained(struct fg_worker *w);

#endif
