/* The exchange's state, shared by exchange.c (routing and relay),
 * policy_chain.c (the phases before routing), endpoints.c and review.c
 * (the gateway's own answers) and exchange_gen.c (generations). Nothing
 * else includes it. */
#ifndef FG_EXCHANGE_INTERNAL_H
#define FG_EXCHANGE_INTERNAL_H

#include "request/arena.h"
#include "request/exchange.h"
#include "request/target.h"

struct event;
struct fg_worker;
struct fg_worker_gen;
struct fg_member_rt;
struct fg_policy_run;
struct fg_review_run;
struct fg_fanout;
struct fg_fleet_watch;
struct fg_fleet_write;

struct fg_exchange {
    struct fg_conn *conn;
    struct fg_worker *worker;
    /* The generation's view the request runs with (exchange_gen.h), and
     * the other requests holding it. */
    struct fg_worker_gen *gen;
    struct fg_exchange *gen_prev, *gen_next;
    int gen_ended; /* its stream was ended by a reload */
    const struct fg_codec_ops *ops;
    void *cs;
    struct fg_arena *arena; /* the request's: head, info, identity */
    /* What the request asks, read once (fg_exchange_start), in the arena:
     * the member's path and query, the request info, the request id. */
    const char *path, *query;
    const struct fg_request_info *info;
    const char *request_id;
    uint64_t started_us;
    const char *verb;
    int status;                         /* the code sent, 0 before the head */
    struct fg_policy_run *policy;       /* in the arena; NULL for probes */
    const struct fg_identity *identity; /* authenticated; in the arena */
    /* A service's member call (member_call.c): the identity the service
     * vouches for, so the chain starts at authorize; in the arena. */
    const struct fg_identity *acting_as;
    /* A service lets a caller without credentials have it (service.h
     * describe): no identity then means system:anonymous, not 401. */
    int anonymous_ok;
    struct fg_review_run *review;       /* a review the gateway answers */
    struct fg_fanout *fanout;           /* a list from every member */
    struct fg_fleet_watch *fleet_watch; /* a watch of the host's clusters */
    struct fg_fleet_write *fleet_write; /* a write of the host's clusters */

    struct fg_member_rt *member;
    void *stream; /* the driver's, NULL when none or closed */
    int driver_done;
    int driver_paused; /* data() returned FG_PAUSE */
    int body_ended;
    int head_sent;
    int is_head_request;
    int upgrade;        /* the driver was offered a protocol switch */
    int64_t body_bytes; /* request body received so far */
    int64_t body_limit;
    /* body_idle_timeout: armed while a request body is read */
    struct event *body_timer;
    uint64_t body_start_us;  /* the head, moved on by time spent paused */
    uint64_t body_last_us;   /* when the last body byte came */
    uint64_t body_paused_us; /* when the driver paused the body */
    int body_paused;         /* by the driver: the wait is not the client's */
    /* driver.h's re-entry promise (exchange.c, "the callbacks") */
    int in_callback;     /* depth of driver callbacks running */
    int finish_deferred; /* 1 + completed: the codec let go meanwhile */
    int resume_deferred; /* output drained during a callback */
    struct event *deferred_ev;
};

/* Sends a complete response with BODY (copied) of CONTENT_TYPE. */
void fg_exchange_reply(struct fg_exchange *ex, int status,
                       const char *content_type, const void *body, size_t len);

/* The same with one more header EXTRA (NULL: none), e.g. Retry-After. */
void fg_exchange_reply_with(struct fg_exchange *ex, int status,
                            const struct fg_header *extra,
                            const char *content_type, const void *body,
                            size_t len);

/* The same with N_EXTRA more headers EXTRA (copied before it returns). */
void fg_exchange_reply_headers(struct fg_exchange *ex, int status,
                               const struct fg_header *extra, size_t n_extra,
                               const char *content_type, const void *body,
                               size_t len);

/* The headers of REQ a member may see, in EX's arena; *N_OUT of them.
 * NULL when out of memory. */
const struct fg_header *
fg_exchange_member_headers(struct fg_exchange *ex,
                           const struct fg_request_in *req, size_t *n_out);

/* Opens a stream on M's driver for REQ (to the member T names: its
 * base_path), its answer relayed to the client. */
void fg_exchange_to_member(struct fg_exchange *ex, struct fg_member_rt *m,
                           const struct fg_request_in *req,
                           const struct fg_target *t);
/* 404 NotFound with MESSAGE and details naming NAME of KIND ("clusters"),
 * as kube-apiserver words a missing object. */
void fg_exchange_not_found(struct fg_exchange *ex, const char *message,
                           const char *name, const char *kind);

/* A response the gateway writes itself as it goes (a watch): the head
 * with CONTENT_TYPE and no length, then the data, then the end. Returns 0
 * or -1 when the client is gone. Between fg_exchange_hold and _unhold, an
 * end of the exchange that a write sets off waits for the unhold. */
int fg_exchange_stream_head(struct fg_exchange *ex, const char *content_type);
int fg_exchange_stream_data(struct fg_exchange *ex, const void *buf,
                            size_t len);
void fg_exchange_stream_end(struct fg_exchange *ex);
void fg_exchange_hold(struct fg_exchange *ex);
void fg_exchange_unhold(struct fg_exchange *ex);

/* Routes a request that passed the policy chain: the gateway's own
 * /metrics and /version, or the member T names (404 for none). REQ and T
 * stay valid until the exchange is finished. */
void fg_exchange_route(struct fg_exchange *ex, const struct fg_request_in *req,
                       const struct fg_target *t);

/* Answers a request for one of the gateway's own paths (healthz, livez,
 * readyz, version, metrics). The probes are served to anyone; the caller
 * lets the others through only once the policy chain allowed them. */
void fg_endpoints_serve(struct fg_exchange *ex, const char *method,
                        const char *path);

/* Whether PATH is served by the gateway whatever the role: the probes and
 * /metrics. (/version is the gateway's only in the host role.) */
int fg_endpoints_owns(const char *path, int host_role);

/* Whether PATH is one of the probes, which answer before any policy
 * phase: /healthz, /livez, /readyz. */
int fg_endpoints_is_probe(const char *path);

#endif
