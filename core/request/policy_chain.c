/* The policy chain on the request path (see policy_chain.h and
 * fedgate/policy.h). Everything a request needs for the chain lives in its
 * arena, so a chain whose verdicts all come at once costs bump allocations
 * only; a timer and a body buffer are made only when a verdict pends. */
#include "request/policy_chain.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fedgate/policy.h>

#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "net/conn.h"
#include "request/exchange_internal.h"
#include "request/impersonation.h"
#include "request/request_info.h"
#include "request/review_body.h"
#include "request/status.h"

/* PH_IMPERSONATE and PH_ASK put questions to the authorize plugins
 * (policy.h, "Questions about other attributes"): the Impersonate-*
 * headers' before authorize, a SelfSubjectAccessReview's once routed. */
enum phase {
    PH_AUTHENTICATE,
    PH_IMPERSONATE,
    PH_AUTHORIZE,
    PH_ADMIT,
    PH_ROUTE,
    PH_ASK
};

static const uint32_t phase_bits[] = {
    [PH_AUTHENTICATE] = FG_PHASE_AUTHENTICATE,
    [PH_IMPERSONATE] = FG_PHASE_AUTHORIZE,
    [PH_AUTHORIZE] = FG_PHASE_AUTHORIZE,
    [PH_ADMIT] = FG_PHASE_ADMIT,
    [PH_ASK] = FG_PHASE_AUTHORIZE,
};

/* Whether OPS (as the plugin was built) has the 2.1 op OP. */
#define HAS_OP(ops, op)                                                        \
    ((ops)->struct_size >=                                                     \
         offsetof(struct fg_policy_ops, op) + sizeof((ops)->op) &&             \
     (ops)->op)

/* What the phase of one plugin's verdict leads to. */
enum step { NEXT_PLUGIN, NEXT_PHASE, ANSWERED };

struct fg_policy_run {
    struct fg_exchange *ex;
    struct fg_policy_request req;
    struct fg_request_in in; /* the head, in the arena, for routing later */
    struct fg_target target; /* owned, freed at finish */
    enum phase phase;
    size_t next;  /* the worker's policy to ask next */
    int deciders; /* plugins of this phase asked so far */

    struct fg_policy_call *asking;   /* inside its phase op */
    enum fg_verdict early;           /* a done() from inside that op */
    struct fg_policy_call *waiting;  /* pending: its plugin's verdict */
    struct fg_policy_rt *waiting_on; /* and that plugin */
    struct event *timer;             /* the pending verdict's deadline */
    struct evbuffer *held;           /* body bytes that came meanwhile */
    int held_end;                    /* and the body's end */
    int body_paused;                 /* by the chain, while it waits */

    /* What the plugin being asked gave with its verdict. */
    const struct fg_identity *offered;
    int deny_code;
    const char *deny_reason, *deny_message;
    unsigned retry_after;
    const char *denier;    /* the [plugin] behind the last FG_DENY */
    const char *denied_by; /* the [plugin] that denied, for audit */

    /* A question (req.review set, req.info the attributes asked about):
     * SETTLED takes the verdict of the authorize plugins on it. */
    enum step (*settled)(struct fg_policy_run *r, enum fg_verdict v);
    struct fg_impersonation imp;  /* PH_IMPERSONATE's questions */
    size_t imp_next;              /* the one being asked */
    fg_policy_answer_fn answered; /* PH_ASK's asker */
    const char *own_member;       /* req.member, while PH_ASK names another */
    int review_path;              /* a SelfSubject*Review: no authorize */
    int every_member;             /* FG_MEMBER_ALL: authorized per member */
};

static void run(struct fg_policy_run *r);
static enum step next_phase(struct fg_policy_run *r);

/* ---- what a plugin may call ----------------------------------------------
 */

static char *arena_dup(struct fg_arena *a, const char *s)
{
    return fg_arena_strndup(a, s, strlen(s));
}

/* N strings of V copied into A; NULL when out of memory. */
static const char *const *arena_dupv(struct fg_arena *a, const char *const *v,
                                     size_t n)
{
    const char **out = fg_arena_alloc(a, (n ? n : 1) * sizeof(*out));
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = arena_dup(a, v[i] ? v[i] : "")))
            return NULL;
    return out;
}

const struct fg_identity *fg_policy_identity_dup(struct fg_arena *a,
                                                 const struct fg_identity *id)
{
    if (!id || !id->user || !*id->user)
        return NULL;
    struct fg_identity *out = fg_arena_alloc(a, sizeof(*out));
    struct fg_identity_extra *extra =
        fg_arena_alloc(a, (id->n_extra ? id->n_extra : 1) * sizeof(*extra));
    if (!out || !extra)
        return NULL;
    *out = (struct fg_identity){
        .user = arena_dup(a, id->user),
        .uid = id->uid ? arena_dup(a, id->uid) : NULL,
        .groups = arena_dupv(a, id->groups, id->n_groups),
        .n_groups = id->n_groups,
        .extra = extra,
        .n_extra = id->n_extra,
    };
    if (!out->user || (id->uid && !out->uid) || !out->groups)
        return NULL;
    for (size_t i = 0; i < id->n_extra; i++) {
        extra[i] = (struct fg_identity_extra){
            .key = arena_dup(a, id->extra[i].key ? id->extra[i].key : ""),
            .values = arena_dupv(a, id->extra[i].values, id->extra[i].n_values),
            .n_values = id->extra[i].n_values,
        };
        if (!extra[i].key || !extra[i].values)
            return NULL;
    }
    return out;
}

static int call_set_identity(struct fg_policy_call *c,
                             const struct fg_identity *id)
{
    struct fg_policy_run *r = c->core;
    r->offered = fg_policy_identity_dup(r->ex->arena, id);
    return r->offered ? 0 : -1;
}

static void call_set_denial(struct fg_policy_call *c, int code,
                            const char *reason, const char *message)
{
    struct fg_policy_run *r = c->core;
    r->deny_code = code >= 400 && code <= 599 ? code : 0;
    r->deny_reason = reason && *reason ? arena_dup(r->ex->arena, reason) : NULL;
    r->deny_message =
        message && *message ? arena_dup(r->ex->arena, message) : NULL;
}

static void call_set_retry_after(struct fg_policy_call *c, unsigned seconds)
{
    struct fg_policy_run *r = c->core;
    r->retry_after = seconds;
}

static void *call_alloc(struct fg_policy_call *c, size_t len)
{
    struct fg_policy_run *r = c->core;
    return fg_arena_alloc(r->ex->arena, len);
}

/* Anything but the four verdicts is a plugin bug: it fails closed. */
static enum fg_verdict known(enum fg_verdict v)
{
    return v == FG_ALLOW || v == FG_NO_OPINION || v == FG_PENDING ? v : FG_DENY;
}

/* ---- answers ---------------------------------------------------------------
 */

/* kube-apiserver's words for a refused authorization of RI, so that
 * kubectl prints the line an operator knows: `pods "x" is forbidden: User
 * "u" cannot get resource "pods" in API group "" in the namespace "ns"`,
 * then the member cluster, then the plugin's message after a colon. */
static void forbidden_message(const struct fg_policy_run *r,
                              const struct fg_request_info *ri, const char *why,
                              char *out, size_t len)
{
    const char *user = r->req.identity ? r->req.identity->user : "";
    int n;
    if (ri->is_resource) {
        char what[192];
        snprintf(what, sizeof(what), "%s%s%s", ri->resource,
                 *ri->api_group ? "." : "", ri->api_group);
        if (*ri->name)
            n = snprintf(out, len, "%s \"%s\" is forbidden: ", what, ri->name);
        else
            n = snprintf(out, len, "%s is forbidden: ", what);
        if (n >= 0 && (size_t)n < len)
            n += snprintf(out + n, len - (size_t)n,
                          "User \"%s\" cannot %s resource \"%s%s%s\" in API "
                          "group \"%s\"",
                          user, ri->verb, ri->resource,
                          *ri->subresource ? "/" : "", ri->subresource,
                          ri->api_group);
        if (n >= 0 && (size_t)n < len) {
            if (*ri->namespace_)
                n += snprintf(out + n, len - (size_t)n,
                              " in the namespace \"%s\"", ri->namespace_);
            else
                n +=
                    snprintf(out + n, len - (size_t)n, " at the cluster scope");
        }
    } else {
        n = snprintf(out, len, "forbidden: User \"%s\" cannot %s path \"%s\"",
                     user, ri->verb, ri->path);
    }
    if (r->req.member && n >= 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, " on the member cluster \"%s\"",
                      r->req.member);
    if (why && n >= 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, ": %s", why);
}

/* Answers the request with a Status: CODE unless the plugin gave one. */
static void answer(struct fg_policy_run *r, int code)
{
    struct fg_exchange *ex = r->ex;
    if (r->deny_code)
        code = r->deny_code;
    char message[1024];
    const struct fg_request_info *ri = r->req.info;
    int forbidden =
        code == 403 && (r->phase == PH_AUTHORIZE || r->phase == PH_IMPERSONATE);
    if (forbidden)
        forbidden_message(r, ri, r->deny_message, message, sizeof(message));
    else
        snprintf(message, sizeof(message), "%s",
                 r->deny_message        ? r->deny_message
                 : code == 401          ? "Unauthorized"
                 : r->phase == PH_ADMIT ? "the request was refused by policy"
                                        : fg_http_reason_phrase(code));
    /* A refused authorization names what it refused, as kube-apiserver's
     * NewForbidden does: details {name, group, kind: the resource}. */
    const struct fg_status st = {
        .code = code,
        .message = message,
        .reason = r->deny_reason,
        .name = forbidden && ri->is_resource ? ri->name : NULL,
        .group = forbidden && ri->is_resource ? ri->api_group : NULL,
        .kind = forbidden && ri->is_resource ? ri->resource : NULL,
        .always_details = forbidden,
        .newline = 1,
    };
    size_t len;
    char *json = fg_status_build(&st, &len);
    if (!json) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    char seconds[16];
    struct fg_header retry = {"retry-after", 11, seconds, 0};
    if (r->retry_after)
        retry.value_len =
            (size_t)snprintf(seconds, sizeof(seconds), "%u", r->retry_after);
    fg_exchange_reply_with(ex, code, r->retry_after ? &retry : NULL,
                           "application/json", json, len);
    free(json);
}

/* ---- the phases -------------------------------------------------------------
 */

static enum fg_verdict ask(struct fg_policy_run *r, struct fg_policy_rt *p,
                           struct fg_policy_call *c)
{
    r->offered = NULL;
    r->deny_code = 0;
    r->deny_reason = r->deny_message = NULL;
    r->retry_after = 0;
    r->asking = c;
    r->early = FG_PENDING;
    enum fg_verdict v;
    if (r->phase == PH_AUTHENTICATE)
        v = p->ops->authenticate(p->instance, c);
    else if (r->phase == PH_ADMIT)
        v = p->ops->admit(p->instance, c);
    else
        v = p->ops->authorize(p->instance, c);
    r->asking = NULL;
    /* A done() from inside the op is its verdict (policy.h). */
    return r->early != FG_PENDING ? r->early : known(v);
}

/* Verdict V of plugin P in the current phase. */
static enum step decide(struct fg_policy_run *r, struct fg_policy_rt *p,
                        enum fg_verdict v)
{
    if (v == FG_DENY) {
        r->denier = p->section->name;
        if (r->req.review)
            return r->settled(r, FG_DENY);
        r->denied_by = r->denier;
        answer(r, r->phase == PH_AUTHENTICATE ? 401 : 403);
        return ANSWERED;
    }
    if (v != FG_ALLOW)
        return NEXT_PLUGIN;
    if (r->req.review)
        return r->settled(r, FG_ALLOW);
    if (r->phase == PH_AUTHENTICATE) {
        if (!r->offered)
            return NEXT_PLUGIN; /* an identity is what authentication is */
        r->req.identity = r->ex->identity = r->offered;
        r->ex->conn->authenticated = 1;
        return NEXT_PHASE;
    }
    /* admit: an ALLOW decides nothing, every plugin has its say */
    return r->phase == PH_AUTHORIZE ? NEXT_PHASE : NEXT_PLUGIN;
}

/* Whether the request runs as system:anonymous: its service allows
 * callers without credentials and it presented none (credentials that
 * no plugin accepted stay a 401, as in kube-apiserver). */
static int anonymous(struct fg_policy_run *r)
{
    static const char *const groups[] = {"system:unauthenticated"};
    static const struct fg_identity who = {
        "system:anonymous", NULL, groups, 1, NULL, 0};
    if (!r->ex->anonymous_ok || r->req.client_cert_der)
        return 0;
    for (size_t i = 0; i < r->req.n_headers; i++)
        if (fg_header_name_folds_to(r->req.headers[i].name,
                                    r->req.headers[i].name_len, "authorization",
                                    0))
            return 0;
    r->req.identity = r->ex->identity = &who;
    return 1;
}

/* No plugin of the phase decided: returns NEXT_PHASE or ANSWERED. */
static enum step phase_over(struct fg_policy_run *r)
{
    r->deny_code = 0;
    r->deny_reason = r->deny_message = NULL;
    r->retry_after = 0;
    if (r->req.review) /* no authorizer at all: everything is allowed */
        return r->settled(r, r->deciders > 0 ? FG_NO_OPINION : FG_ALLOW);
    if (r->phase == PH_AUTHENTICATE && anonymous(r))
        return NEXT_PHASE;
    if (r->phase == PH_AUTHENTICATE) {
        answer(r, 401);
        return ANSWERED;
    }
    if (r->phase == PH_AUTHORIZE && r->deciders > 0) {
        answer(r, 403); /* every authorizer had no opinion */
        return ANSWERED;
    }
    return NEXT_PHASE;
}

/* ---- questions about other attributes (policy.h) -------------------------
 */

/* Every Impersonate-* question was put; V is the verdict on the current
 * one. Allowed: the next question, or the request runs as the identity
 * they built. Refused: 403, as kube-apiserver's impersonation filter. */
static enum step impersonation_settled(struct fg_policy_run *r,
                                       enum fg_verdict v)
{
    if (v != FG_ALLOW) {
        r->denied_by = v == FG_DENY ? r->denier : NULL;
        answer(r, 403);
        r->req.review = 0; /* audit sees the request's own attributes */
        r->req.info = r->ex->info;
        return ANSWERED;
    }
    if (++r->imp_next < r->imp.n_questions) {
        r->req.info = &r->imp.questions[r->imp_next];
        r->next = 0;
        r->deciders = 0;
        return NEXT_PLUGIN;
    }
    r->req.review = 0;
    r->req.info = r->ex->info;
    r->req.impersonator = r->req.identity;
    r->req.identity = r->ex->identity = &r->imp.identity;
    return NEXT_PHASE;
}

static enum step enter_impersonation(struct fg_policy_run *r)
{
    char err[256];
    int rc = fg_impersonation_read(r->ex->arena, r->req.headers,
                                   r->req.n_headers, &r->imp, err, sizeof(err));
    if (rc == 0)
        return NEXT_PHASE;
    if (rc < 0) {
        if (rc == -1)
            fg_exchange_fail(r->ex, 400, "BadRequest", "%s", err);
        else
            fg_exchange_fail(r->ex, 503, NULL, "the gateway is out of memory");
        return ANSWERED;
    }
    r->imp_next = 0;
    r->settled = impersonation_settled;
    r->req.review = 1;
    r->req.info = &r->imp.questions[0];
    return NEXT_PLUGIN;
}

static enum step ask_settled(struct fg_policy_run *r, enum fg_verdict v)
{
    r->req.review = 0;
    r->req.member = r->own_member;
    r->req.info = r->ex->info;
    r->answered(r->ex, v, v == FG_DENY ? r->deny_message : NULL);
    return ANSWERED;
}

/* Leaves the current phase for the next: NEXT_PLUGIN to ask its plugins,
 * NEXT_PHASE when it has nothing to ask, ANSWERED when entering it
 * answered the request. */
static enum step next_phase(struct fg_policy_run *r)
{
    r->phase++;
    r->next = 0;
    r->deciders = 0;
    if (r->phase == PH_IMPERSONATE)
        return enter_impersonation(r);
    /* kube-apiserver's bootstrap policy grants the SelfSubject*Reviews to
     * every authenticated caller; the review itself asks the authorizers */
    if (r->phase == PH_AUTHORIZE && r->review_path)
        return NEXT_PHASE;
    /* a request for every member is asked about on each (fanout.c), and
     * goes only where the answer is yes */
    if (r->phase == PH_AUTHORIZE && r->every_member)
        return NEXT_PHASE;
    return NEXT_PLUGIN;
}

static void stop_waiting(struct fg_policy_run *r)
{
    r->waiting = NULL;
    r->waiting_on = NULL;
    if (r->timer)
        evtimer_del(r->timer);
}

static void cancel_waiting(struct fg_policy_run *r)
{
    struct fg_policy_rt *p = r->waiting_on;
    struct fg_policy_call *c = r->waiting;
    stop_waiting(r);
    p->ops->cancel(p->instance, c);
}

/* The wait is over (any way): what the client sent meanwhile goes on,
 * to the member's driver if the chain routed the request, else nowhere. */
static void release_body(struct fg_policy_run *r)
{
    struct fg_exchange *ex = r->ex;
    if (r->held) {
        size_t n = evbuffer_get_length(r->held);
        const unsigned char *bytes = evbuffer_pullup(r->held, -1);
        if (n && bytes)
            fg_exchange_body(ex, bytes, n);
        evbuffer_free(r->held);
        r->held = NULL;
    }
    if (r->held_end) {
        r->held_end = 0;
        fg_exchange_body_end(ex);
    }
    /* A driver that paused the body itself resumes it itself. */
    if (r->body_paused && !ex->body_paused)
        ex->ops->resume_body(ex->cs);
    r->body_paused = 0;
}

/* R's wait is over without a verdict: CODE with a Status saying WHY. */
static void give_up(struct fg_policy_run *r, int code, const char *reason,
                    const char *why)
{
    const char *name = r->waiting_on->section->name;
    cancel_waiting(r);
    fg_exchange_fail(r->ex, code, reason,
                     "the policy plugin \"%s\" gave no verdict %s", name, why);
    release_body(r);
}

static void verdict_late(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_policy_run *r = arg;
    if (r->waiting)
        give_up(r, 504, "Timeout", "in time");
}

int fg_policy_waiting(const struct fg_exchange *ex)
{
    return ex->policy && ex->policy->waiting;
}

void fg_policy_abandon(struct fg_exchange *ex, const char *why)
{
    if (fg_policy_waiting(ex))
        give_up(ex->policy, 503, "ServiceUnavailable", why);
}

static void call_done(struct fg_policy_call *c, enum fg_verdict v)
{
    struct fg_policy_run *r = c->core;
    v = known(v);
    if (v == FG_PENDING)
        v = FG_DENY; /* "later" is no verdict: fail closed */
    if (c == r->asking) {
        if (r->early == FG_PENDING)
            r->early = v;
        return;
    }
    if (c != r->waiting)
        return; /* a second done(): the first decided */
    struct fg_policy_rt *p = r->waiting_on;
    stop_waiting(r);
    enum step s = decide(r, p, v);
    while (s == NEXT_PHASE)
        s = next_phase(r);
    if (s != ANSWERED)
        run(r);
    if (!r->waiting)
        release_body(r);
}

/* P's verdict on call C will come later: the body waits, and so does a
 * deadline (the request body's: kube-apiserver's request timeout). */
static void wait_for(struct fg_policy_run *r, struct fg_policy_rt *p,
                     struct fg_policy_call *c)
{
    struct fg_exchange *ex = r->ex;
    r->waiting = c;
    r->waiting_on = p;
    if (!r->timer)
        r->timer = evtimer_new(ex->worker->base, verdict_late, r);
    if (!r->timer) {
        cancel_waiting(r);
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    const struct fg_limits *lim = &ex->gen->cfg->limits;
    uint64_t ms =
        lim->body_timeout_ms ? lim->body_timeout_ms : lim->body_idle_timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(r->timer, &tv);
    if (r->in.has_body && !ex->body_ended && !r->body_paused) {
        r->body_paused = 1;
        ex->ops->pause_body(ex->cs);
    }
}

static struct fg_policy_call *new_call(struct fg_policy_run *r)
{
    struct fg_policy_call *c = fg_arena_alloc(r->ex->arena, sizeof(*c));
    if (c)
        *c = (struct fg_policy_call){
            .req = &r->req,
            .done = call_done,
            .set_identity = call_set_identity,
            .set_denial = call_set_denial,
            .set_retry_after = call_set_retry_after,
            .alloc = call_alloc,
            .core = r,
        };
    return c;
}

/* Asks plugin after plugin, phase after phase, until the request is
 * answered, waits for a verdict, or passed every phase: then it is routed.
 */
static void run(struct fg_policy_run *r)
{
    const struct fg_worker_gen *g = r->ex->gen;
    while (r->phase != PH_ROUTE) {
        uint32_t bit = phase_bits[r->phase];
        while (r->next < g->n_policies &&
               !(g->policies[r->next]->ops->phases & bit))
            r->next++;
        enum step s;
        if (r->next == g->n_policies) {
            s = phase_over(r);
        } else {
            struct fg_policy_rt *p = g->policies[r->next++];
            struct fg_policy_call *c = new_call(r);
            if (!c) {
                fg_exchange_fail(r->ex, 503, NULL,
                                 "the gateway is out of memory");
                return;
            }
            r->deciders++;
            enum fg_verdict v = ask(r, p, c);
            if (v == FG_PENDING) {
                wait_for(r, p, c);
                return;
            }
            s = decide(r, p, v);
        }
        while (s == NEXT_PHASE)
            s = next_phase(r);
        if (s == ANSWERED)
            return;
    }
    fg_exchange_route(r->ex, &r->in, &r->target);
}

/* ---- one request
 * -------------------------------------------------------------
 */

/* The head REQ as it must outlive fg_exchange_start: in the arena. */
static int keep_head(struct fg_arena *a, const struct fg_request_in *req,
                     struct fg_request_in *out)
{
    /* What the codec built in the arena stays where it is; only the
     * header array (the codec's) is copied then. */
    int keep = req->in_arena;
    struct fg_header *h =
        fg_arena_alloc(a, (req->n_headers ? req->n_headers : 1) * sizeof(*h));
    *out = (struct fg_request_in){
        .method = keep ? req->method : arena_dup(a, req->method),
        .target = keep ? req->target : arena_dup(a, req->target),
        .authority = req->authority && !keep ? arena_dup(a, req->authority)
                                             : req->authority,
        .headers = h,
        .n_headers = req->n_headers,
        .content_length = req->content_length,
        .has_body = req->has_body,
        .http_version = req->http_version,
        .upgrade = req->upgrade ? arena_dup(a, req->upgrade) : NULL,
        .in_arena = 1,
    };
    if (!h || !out->method || !out->target ||
        (req->authority && !out->authority) || (req->upgrade && !out->upgrade))
        return -1;
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct fg_header *in = &req->headers[i];
        h[i] = *in;
        if (keep)
            continue;
        h[i].name = fg_arena_strndup(a, in->name, in->name_len);
        h[i].value = fg_arena_strndup(a, in->value, in->value_len);
        if (!h[i].name || !h[i].value)
            return -1;
    }
    return 0;
}

/* The member a request is for (policy.h): NULL for the gateway's own. */
static const char *member_of(const struct fg_exchange *ex,
                             const struct fg_target *t)
{
    const struct fg_worker_gen *g = ex->gen;
    int host_role = g->cfg->role == FG_ROLE_HOST;
    if (t->member_ref == FG_MEMBER_NAMED)
        return t->member;
    if (t->member_ref == FG_MEMBER_NONE && !host_role && g->n_members == 1 &&
        !fg_endpoints_owns(t->path, host_role))
        return g->members[0]->section->name;
    return NULL;
}

/* The client certificate TLS verified, DER in the arena (policy.h). */
static void client_cert(struct fg_policy_run *r)
{
    SSL *ssl =
        r->ex->conn->bev ? bufferevent_openssl_get_ssl(r->ex->conn->bev) : NULL;
    X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
        return;
    int len = i2d_X509(cert, NULL);
    unsigned char *der =
        len > 0 ? fg_arena_alloc(r->ex->arena, (size_t)len) : NULL;
    unsigned char *p = der;
    if (der && i2d_X509(cert, &p) == len) {
        r->req.client_cert_der = der;
        r->req.client_cert_len = (size_t)len;
    }
}

/* kube-apiserver's long-running check: watch and proxy verbs, and the
 * attach, exec, proxy, log and portforward subresources. */
static int long_running(const struct fg_request_info *info)
{
    static const char *const verbs[] = {"watch", "proxy"};
    static const char *const subs[] = {"attach", "exec", "proxy", "log",
                                       "portforward"};
    if (!info || !info->is_resource)
        return 0;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(info->verb, verbs[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(info->subresource, subs[i]) == 0)
            return 1;
    return 0;
}

void fg_policy_start(struct fg_exchange *ex, const struct fg_request_in *req,
                     struct fg_target *t)
{
    struct fg_policy_run *r = fg_arena_alloc(ex->arena, sizeof(*r));
    if (!r) {
        fg_target_free(t);
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    memset(r, 0, sizeof(*r));
    r->ex = ex;
    r->target = *t;
    memset(t, 0, sizeof(*t));
    ex->policy = r;
    if (keep_head(ex->arena, req, &r->in) != 0) {
        fg_target_free(&r->target);
        ex->policy = NULL; /* nothing for audit to read */
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    r->req = (struct fg_policy_request){
        .method = r->in.method,
        .path = r->target.path,
        .query = r->target.query,
        .headers = r->in.headers,
        .n_headers = r->in.n_headers,
        .member = member_of(ex, &r->target),
        .info = ex->info,
        .request_id = ex->request_id,
        .peer = ex->conn->peer,
        .long_running = long_running(ex->info),
    };
    r->review_path = r->req.member && fg_review_kind_of(ex->info);
    r->every_member = r->target.member_ref == FG_MEMBER_ALL;
    client_cert(r);
    if (ex->acting_as) {
        /* a service's call for its user: authenticated by the service,
         * and the identity is the user's own (no Impersonate-* to read) */
        r->req.identity = ex->identity = ex->acting_as;
        r->phase = PH_IMPERSONATE;
        enum step s;
        while ((s = next_phase(r)) == NEXT_PHASE)
            ;
        if (s == ANSWERED)
            return;
    }
    run(r);
}

int fg_policy_hold_body(struct fg_exchange *ex, const void *buf, size_t len)
{
    struct fg_policy_run *r = ex->policy;
    if (!r || !r->waiting)
        return 0;
    if (!buf) {
        r->held_end = 1;
        return 1;
    }
    size_t have = r->held ? evbuffer_get_length(r->held) : 0;
    if ((int64_t)(have + len) > ex->body_limit) {
        cancel_waiting(r);
        fg_exchange_fail(ex, 413, NULL,
                         "the request body is larger than %lld bytes",
                         (long long)ex->body_limit);
        release_body(r);
        return 1;
    }
    if ((!r->held && !(r->held = evbuffer_new())) ||
        evbuffer_add(r->held, buf, len) != 0) {
        cancel_waiting(r);
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        release_body(r);
    }
    return 1;
}

void fg_policy_finish(struct fg_exchange *ex, int status, uint64_t duration_us)
{
    struct fg_policy_run *r = ex->policy;
    if (!r)
        return;
    if (r->waiting)
        cancel_waiting(r); /* and no late verdict: the call is gone */
    if (r->timer)
        event_free(r->timer);
    if (r->held)
        evbuffer_free(r->held);
    const struct fg_policy_outcome outcome = {
        .status = status,
        .duration_us = duration_us,
        .request_bytes = ex->body_bytes,
        .denied_by = r->denied_by,
    };
    const struct fg_worker_gen *g = ex->gen;
    for (size_t i = 0; i < g->n_policies; i++)
        if (g->policies[i]->ops->phases & FG_PHASE_AUDIT)
            g->policies[i]->ops->audit(g->policies[i]->instance, &r->req,
                                       &outcome);
    fg_target_free(&r->target);
    ex->policy = NULL;
}

void fg_policy_ask(struct fg_exchange *ex, const char *member,
                   const struct fg_request_info *attributes,
                   fg_policy_answer_fn answered)
{
    struct fg_policy_run *r = ex->policy;
    r->own_member = r->req.member;
    if (member)
        r->req.member = member;
    r->phase = PH_ASK;
    r->next = 0;
    r->deciders = 0;
    r->settled = ask_settled;
    r->answered = answered;
    r->req.review = 1;
    r->req.info = attributes;
    run(r);
}

static const char *const all[] = {"*"};

int fg_policy_rules(struct fg_exchange *ex, const char *namespace_,
                    fg_policy_rule_fn emit, void *arg, char *error,
                    size_t error_len)
{
    return fg_policy_rules_on(ex, ex->policy->req.member, namespace_, emit, arg,
                              error, error_len);
}

int fg_policy_rules_on(struct fg_exchange *ex, const char *member,
                       const char *namespace_, fg_policy_rule_fn emit,
                       void *arg, char *error, size_t error_len)
{
    const struct fg_policy_run *r = ex->policy;
    const struct fg_worker_gen *g = ex->gen;
    int incomplete = 0, authorizers = 0;
    size_t n = 0;
    error[0] = '\0';
    for (size_t i = 0; i < g->n_policies; i++) {
        const struct fg_policy_rt *p = g->policies[i];
        if (!(p->ops->phases & FG_PHASE_AUTHORIZE))
            continue;
        authorizers++;
        if (HAS_OP(p->ops, rules)) {
            if (p->ops->rules(p->instance, r->req.identity, member, namespace_,
                              emit, arg) != 0)
                incomplete = 1;
            continue;
        }
        incomplete = 1;
        if (n < error_len)
            n += (size_t)snprintf(error + n, error_len - n,
                                  "%sthe policy plugin \"%s\" cannot list "
                                  "its rules",
                                  n ? "; " : "", p->section->name);
    }
    if (!authorizers) { /* every authenticated caller may do anything */
        const struct fg_policy_rule resources = {all, 1,    all, 1,    all,
                                                 1,   NULL, 0,   NULL, 0};
        const struct fg_policy_rule urls = {all, 1,    NULL, 0,   NULL,
                                            0,   NULL, 0,    all, 1};
        emit(arg, &resources);
        emit(arg, &urls);
    }
    return incomplete;
}

void fg_policy_response_started(struct fg_exchange *ex, int status)
{
    const struct fg_policy_run *r = ex->policy;
    if (!r || !r->req.long_running)
        return;
    const struct fg_worker_gen *g = ex->gen;
    for (size_t i = 0; i < g->n_policies; i++) {
        const struct fg_policy_rt *p = g->policies[i];
        if ((p->ops->phases & FG_PHASE_AUDIT) &&
            HAS_OP(p->ops, response_started))
            p->ops->response_started(p->instance, &r->req, status);
    }
}
