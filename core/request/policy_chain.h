/* The policy chain on the request path (fedgate/policy.h): the [policy]
 * chain's phases for one request, synchronous or across asynchronous
 * verdicts, the answers to denials, the hand-over to routing once every
 * phase passed, and audit when the request is finished. */
#ifndef FG_POLICY_CHAIN_H
#define FG_POLICY_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <fedgate/policy.h>

struct fg_arena;
struct fg_exchange;
struct fg_request_in;
struct fg_target;

/* Runs the chain for the request REQ of EX and takes over its parsed
 * target T (freed with EX; *T is left empty). Once every phase passed, now
 * or after asynchronous verdicts, the request goes to fg_exchange_route;
 * a denial is answered here. */
void fg_policy_start(struct fg_exchange *ex, const struct fg_request_in *req,
                     struct fg_target *t);

/* A copy of ID in A (every string and array), or NULL when ID has no
 * user or memory ran out. */
const struct fg_identity *fg_policy_identity_dup(struct fg_arena *a,
                                                 const struct fg_identity *id);

/* While a verdict is pending, request body bytes (BUF, LEN) and the body's
 * end (BUF NULL) are held, to reach the member once the chain allowed the
 * request: returns 1 when taken, 0 when the exchange goes on as usual. */
int fg_policy_hold_body(struct fg_exchange *ex, const void *buf, size_t len);

/* Whether EX waits on a policy plugin's verdict. */
int fg_policy_waiting(const struct fg_exchange *ex);

/* Ends EX's wait on a policy plugin's verdict with a 503 Status: "the
 * policy plugin NAME gave no verdict WHY"; the plugin is told to cancel. */
void fg_policy_abandon(struct fg_exchange *ex, const char *why);

/* EX is finished, answered with STATUS (499: the client went away) after
 * DURATION_US: a pending verdict is cancelled, every audit plugin sees the
 * outcome, and what the chain held is freed. */
void fg_policy_finish(struct fg_exchange *ex, int status, uint64_t duration_us);

/* A question's verdict: FG_ALLOW, FG_DENY (REASON: the plugin's message,
 * or NULL) or FG_NO_OPINION. */
typedef void (*fg_policy_answer_fn)(struct fg_exchange *ex, enum fg_verdict v,
                                    const char *reason);

/* Asks the authorize plugins about ATTRIBUTES (kept by the caller until
 * answered) for EX's identity on MEMBER (NULL: EX's own member; else kept
 * by the caller until answered), with review = 1: the
 * SelfSubjectAccessReview, or a cross-cluster read's question per member.
 * ANSWERED gets the verdict now or later, through the chain's own machinery
 * (pending verdicts, their deadline, cancel), and never once EX is finished.
 * Call it only after EX was routed. */
void fg_policy_ask(struct fg_exchange *ex, const char *member,
                   const struct fg_request_info *attributes,
                   fg_policy_answer_fn answered);

/* The SelfSubjectRulesReview: hands EMIT(ARG, rule) every rule the
 * authorize plugins give for EX's identity on its member in NAMESPACE_
 * (everything when none authorizes). Returns 1 when the list is
 * incomplete (ERROR then names the plugins without rules()), else 0. */
int fg_policy_rules(struct fg_exchange *ex, const char *namespace_,
                    fg_policy_rule_fn emit, void *arg, char *error,
                    size_t error_len);

/* The same for MEMBER (NULL: the host's own API) instead of EX's. */
int fg_policy_rules_on(struct fg_exchange *ex, const char *member,
                       const char *namespace_, fg_policy_rule_fn emit,
                       void *arg, char *error, size_t error_len);

/* The head of EX's answer went out with STATUS: a long-running request's
 * ResponseStarted for every audit plugin with response_started. */
void fg_policy_response_started(struct fg_exchange *ex, int status);

#endif
