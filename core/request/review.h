/* The reviews the gateway answers itself for any authenticated caller,
 * under /clusters/NAME/ and unprefixed in the member role: kubectl auth
 * can-i (SelfSubjectAccessReview: the authorize plugins asked about the
 * spec's attributes), auth can-i --list (SelfSubjectRulesReview: their
 * rules()), auth whoami (SelfSubjectReview: the caller's identity). The
 * body is read whole, bounded by max_review_body_bytes. */
#ifndef FG_REVIEW_H
#define FG_REVIEW_H

#include <stddef.h>

#include "request/review_body.h"

struct fg_exchange;
struct fg_request_in;

/* Serves the review of KIND that REQ (routed, for a member) creates: its
 * body comes through fg_review_body and fg_review_body_end. */
void fg_review_start(struct fg_exchange *ex, enum fg_review_kind kind,
                     const struct fg_request_in *req);

void fg_review_body(struct fg_exchange *ex, const void *buf, size_t len);
void fg_review_body_end(struct fg_exchange *ex);

/* EX is finished: what the review held is freed. */
void fg_review_finish(struct fg_exchange *ex);

#endif
