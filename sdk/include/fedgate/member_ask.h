/* A whole request to a member as a user, for services: the member call of
 * host.h ("Member calls") with its answer gathered whole and bounded, and
 * handed over from a 0 ms timer, so the caller may start the next call or
 * free everything from its continuation without re-entering the call. */
#ifndef FEDGATE_MEMBER_ASK_H
#define FEDGATE_MEMBER_ASK_H

#include <stddef.h>

#include "driver.h"
#include "host.h"

struct fg_member_ask;

/** What to send. METHOD and PATH (the member's /api/..., /apis/...) are
 * required; QUERY, CONTENT_TYPE and BODY may be NULL. BODY has BODY_LEN
 * bytes. MAX_ANSWER bounds the answer kept (0: 1 MiB); a longer one fails
 * the ask. The request asks for application/json. */
struct fg_member_ask_request {
    const char *method;
    const char *path;
    const char *query;
    const char *content_type;
    const void *body;
    size_t body_len;
    size_t max_answer;
};

/** The answer. STATUS is the member's HTTP status and BODY (LEN bytes,
 * NUL-terminated, valid during the call) its answer, or, when the ask
 * failed before the member's answer was whole, the gateway's code and a
 * Kubernetes Status JSON whose message says why: the core's own answer
 * (403, 503 for an unreachable member, ...), 503 when the call could not
 * start now (the gateway is stopping, out of memory), 502 for an answer cut
 * or too large, 500 when out of memory gathering it. Callers read one shape
 * either way. The ask is freed when this returns. */
typedef void (*fg_member_ask_done)(void *arg, int status, const char *body,
                                   size_t len);

/** Sends REQ to MEMBER as WHO through H's member_call; DONE(ARG, ...) runs
 * exactly once, from a timer on a later loop turn (never inside
 * fg_member_ask_start or a callback of the call). NULL when out of memory
 * (DONE does not run). Only on a service instance's owner loop. */
struct fg_member_ask *
fg_member_ask_start(const struct fg_host *h, const char *member,
                    const struct fg_identity *who,
                    const struct fg_member_ask_request *req,
                    fg_member_ask_done done, void *arg);

/** Stops A before DONE ran and frees it; DONE will not run. A may be NULL.
 * Not to be called once DONE ran (the ask is gone). */
void fg_member_ask_cancel(struct fg_member_ask *a);

#endif
