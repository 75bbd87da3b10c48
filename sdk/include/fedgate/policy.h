/* The policy ABI: plugins that decide, per request, who the caller is and
 * what it may do. The core runs the chain configured in `[policy] chain`
 * (an ordered list of `[plugin "NAME"]` sections), phase by phase:
 *
 *   authenticate  each plugin in chain order until one answers FG_ALLOW
 *                 with an identity (the request runs as it) or FG_DENY
 *                 (401 with the plugin's reason); all FG_NO_OPINION: 401.
 *   authorize     each plugin in order until one answers FG_ALLOW or
 *                 FG_DENY (403 with the reason), as kube-apiserver's union
 *                 authorizer; all FG_NO_OPINION: 403. A chain without any
 *                 authorize plugin lets every authenticated caller through.
 *   admit         every plugin in order; the first FG_DENY answers with
 *                 the verdict's code (403 unless set_denial gave one; 429
 *                 "TooManyRequests" for a limit, with Retry-After when
 *                 set_retry_after gave seconds).
 *   route         the member's driver (driver.h), or the gateway's own
 *                 /metrics and /version, gets the request.
 *   audit         every plugin, once the request finished (any outcome);
 *                 for a long-running request (watch, exec, attach,
 *                 port-forward, logs -f) response_started also sees the
 *                 moment its answer's head was sent.
 *
 * The gateway's probes (/healthz, /livez, /readyz) answer before any phase
 * and are not audited, nor are requests refused before the chain because
 * their head was malformed (a bad target, a body over the limit).
 *
 * Asynchronous verdicts. A phase op returns its verdict, or FG_PENDING
 * after keeping CALL; it then calls call->done() exactly once, on the same
 * loop, later. A done() called from inside the phase op (a plugin bug the
 * core tolerates) is taken as the op's verdict, whatever the op returns.
 * If the request dies first (client gone, or no verdict within the body
 * timeout: 504), the core calls cancel(instance, call) instead, and the
 * plugin must not touch CALL afterwards: the core delivers no late verdict.
 * The request's body waits (paused; what the protocol already delivered
 * is held) and nothing reaches a driver while a verdict is pending.
 *
 * Questions about other attributes. The core also runs the authorize phase
 * for attributes that are not the request's own: for each Impersonate-*
 * header (verb "impersonate" on users, groups, serviceaccounts, uids or
 * userextras/KEY, as kube-apiserver asks) before the request runs as the
 * impersonated identity, and for the SelfSubjectAccessReview the gateway
 * serves itself. Then call->req->info holds the attributes asked about,
 * req->identity the subject, req->member the cluster, and req->review is
 * set: an authorizer decides from those three alone. SelfSubjectRulesReview
 * (`kubectl auth can-i --list`) asks every authorize plugin's rules op.
 *
 * Threads. Policy instances are per worker (one per [plugin] section per
 * worker thread); every op runs on the worker loop that received the
 * request. */
#ifndef FEDGATE_POLICY_H
#define FEDGATE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

enum fg_verdict {
    FG_NO_OPINION = 0, /**< the next plugin decides */
    FG_ALLOW = 1,
    FG_DENY = 2,
    FG_PENDING = 3, /**< the verdict comes later through call->done */
};

/** Phases a plugin takes part in (a bit set in fg_policy_ops.phases). */
enum fg_policy_phase {
    FG_PHASE_AUTHENTICATE = 1u << 0,
    FG_PHASE_AUTHORIZE = 1u << 1,
    FG_PHASE_ADMIT = 1u << 2,
    FG_PHASE_AUDIT = 1u << 3,
};

/** One request as the policy chain sees it. Everything stays valid until
 * the request is freed (after audit). */
struct fg_policy_request {
    const char *method;
    /** The path the client sent, normalised (with /clusters/NAME). */
    const char *path;
    const char *query; /**< raw, without '?'; NULL when absent */
    /** The client's headers as received, Authorization and Impersonate-*
     * included (names lower-case). */
    const struct fg_header *headers;
    size_t n_headers;
    /** The member the request is for; NULL for the host's own paths. */
    const char *member;
    const struct fg_request_info *info;
    const char *request_id;
    const char *peer; /**< the client's address, "IP:PORT" */
    /** The client certificate's DER bytes when one was presented and
     * verified by TLS, else NULL / 0. */
    const unsigned char *client_cert_der;
    size_t client_cert_len;
    /** Set once authentication succeeded (authorize, admit, audit). */
    const struct fg_identity *identity;
    /* ABI 2.1 */
    /** 1 when authorize is asked about attributes other than a request
     * being served (impersonation, SelfSubjectAccessReview): INFO holds
     * them; nothing is being routed. 0 otherwise. */
    int review;
    /** 1 for a long-running request (watch, exec, attach, port-forward,
     * proxy upgrade, logs with follow), as kube-apiserver counts them. */
    int long_running;
    /** When the request runs impersonated (allowed Impersonate-* headers):
     * the caller who authenticated, while IDENTITY is the one impersonated
     * (audit's user and impersonatedUser). NULL otherwise. */
    const struct fg_identity *impersonator;
};

/** What a finished request looked like (audit). */
struct fg_policy_outcome {
    int status;            /**< the HTTP status sent; 499 client went away */
    uint64_t duration_us;  /**< head received to last byte handed over */
    int64_t request_bytes; /**< request body bytes received */
    const char *denied_by; /**< the [plugin] that denied it, or NULL */
};

/** One rule of what an identity may do (SelfSubjectRulesReview), in
 * Kubernetes' PolicyRule terms. A resource rule has VERBS, API_GROUPS,
 * RESOURCES (with "RES/SUB" subresources) and optional RESOURCE_NAMES; a
 * non-resource rule has VERBS and NON_RESOURCE_URLS. "*" means all. */
struct fg_policy_rule {
    const char *const *verbs;
    size_t n_verbs;
    const char *const *api_groups;
    size_t n_api_groups;
    const char *const *resources;
    size_t n_resources;
    const char *const *resource_names;
    size_t n_resource_names;
    const char *const *non_resource_urls;
    size_t n_non_resource_urls;
};

/** Where rules() hands each rule; the core copies it before returning. */
typedef void (*fg_policy_rule_fn)(void *arg, const struct fg_policy_rule *r);

/** One pending or immediate decision. The core owns it. */
struct fg_policy_call {
    const struct fg_policy_request *req;
    /** An asynchronous verdict (after FG_PENDING), exactly once. */
    void (*done)(struct fg_policy_call *call, enum fg_verdict verdict);
    /** Authenticate: the identity the request runs as; copied by the core
     * into the request's arena. Call before FG_ALLOW (or done(ALLOW)); an
     * ALLOW without an identity is taken as FG_NO_OPINION. Returns 0, or
     * -1 when out of memory or IDENTITY has no user. */
    int (*set_identity)(struct fg_policy_call *call,
                        const struct fg_identity *identity);
    /** A deny's HTTP code (401/403/429/...; 0 keeps the phase's default),
     * Kubernetes reason ("Forbidden", "TooManyRequests") and message.
     * Copied; call before FG_DENY (or done(DENY)). */
    void (*set_denial)(struct fg_policy_call *call, int code,
                       const char *reason, const char *message);
    /** Seconds for a Retry-After header on a deny, 0 for none. */
    void (*set_retry_after)(struct fg_policy_call *call, unsigned seconds);
    /** LEN bytes from the request's arena (freed with the request). */
    void *(*alloc)(struct fg_policy_call *call, size_t len);
    void *core; /**< the core's own data; do not touch */
};

struct fg_policy_ops {
    uint32_t struct_size; /**< sizeof(struct fg_policy_ops) at build */
    uint32_t phases;      /**< fg_policy_phase bits */

    /** Makes the instance for [plugin "NAME"] section S (one per worker).
     * On failure returns NULL and writes a one-line reason to ERR. */
    void *(*instance_new)(const struct fg_host *host,
                          const struct fg_section *s, char *err,
                          size_t err_len);
    void (*instance_free)(void *instance);

    /** The phase ops: NULL for a phase not in PHASES. */
    enum fg_verdict (*authenticate)(void *instance, struct fg_policy_call *c);
    enum fg_verdict (*authorize)(void *instance, struct fg_policy_call *c);
    enum fg_verdict (*admit)(void *instance, struct fg_policy_call *c);
    /** The request is gone while C is pending: drop C, never call done. */
    void (*cancel)(void *instance, struct fg_policy_call *c);
    /** The request finished (any outcome, after the last byte). */
    void (*audit)(void *instance, const struct fg_policy_request *req,
                  const struct fg_policy_outcome *outcome);
    /** SIGHUP: re-read what the instance keeps in files. Optional. */
    void (*reload)(void *instance);

    /* ABI 2.1 (the core checks struct_size before using these) */

    /** SelfSubjectRulesReview: hands EMIT every rule IDENTITY holds in
     * MEMBER's NAMESPACE_ (the cluster-wide rules included), synchronously.
     * Returns 0 when the list is complete, 1 when the plugin cannot list
     * everything it would allow (the review's "incomplete"). Optional for
     * an authorize plugin; one without it makes every review incomplete. */
    int (*rules)(void *instance, const struct fg_identity *identity,
                 const char *member, const char *namespace_,
                 fg_policy_rule_fn emit, void *arg);
    /** A long-running request's answer head was sent with STATUS (audit's
     * ResponseStarted stage). Optional; audit plugins only. */
    void (*response_started)(void *instance,
                             const struct fg_policy_request *req, int status);
};

#ifdef __cplusplus
}
#endif
#endif
