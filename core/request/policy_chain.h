/* The policy chain on the request path (fedgate/policy.h): the [policy]
 * chain's phases for one request, synchronous or across asynchronous
 * verdicts, the answers to denials, the hand-over to routing once every
 * phase passed, and audit when the request is finished. */
#ifndef FG_POLICY_CHAIN_H
#define FG_POLICY_CHAIN_H

#include <stddef.h>
#include <stdint.h>

struct fg_exchange;
struct fg_request_in;
struct fg_target;

/* Runs the chain for the request REQ of EX and takes over its parsed
 * target T (freed with EX; *T is left empty). Once every phase passed, now
 * or after asynchronous verdicts, the request goes to fg_exchange_route;
 * a denial is answered here. */
void fg_policy_start(struct fg_exchange *ex, const struct fg_request_in *req,
                     struct fg_target *t);

/* While a verdict is pending, request body bytes (BUF, LEN) and the body's
 * end (BUF NULL) are held, to reach the member once the chain allowed the
 * request: returns 1 when taken, 0 when the exchange goes on as usual. */
int fg_policy_hold_body(struct fg_exchange *ex, const void *buf, size_t len);

/* EX's answer head with STATUS was sent: for a long-running request,
 * every audit plugin's response_started sees it (ResponseStarted). */
void fg_policy_response_started(struct fg_exchange *ex, int status);

/* EX is finished, answered with STATUS (499: the client went away) after
 * DURATION_US: a pending verdict is cancelled, every audit plugin sees the
 * outcome, and what the chain held is freed. */
void fg_policy_finish(struct fg_exchange *ex, int status, uint64_t duration_us);

#endif
