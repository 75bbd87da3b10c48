/* One request to a member as a user (host.h member_call), its answer
 * gathered whole (bounded) and handed to a continuation outside the
 * call's callbacks, as the re-entry rule of host.h asks. */
#ifndef FEDERATION_CALL_H
#define FEDERATION_CALL_H

#include <stddef.h>

#include <fedgate/fedgate.h>

/* The largest member answer kept; a longer one fails the call (502). */
#define FED_CALL_MAX_BODY (1u << 20)

struct fed_call;

/* STATUS: the member's HTTP status (or the gateway's, for a failure
 * before it answered); BODY (LEN bytes, NUL-terminated) its answer. */
typedef void (*fed_call_done)(void *arg, int status, const char *body,
                              size_t len);

/* Sends METHOD PATH?QUERY with BODY (CONTENT_TYPE; NULL for none) to
 * MEMBER as WHO; DONE(ARG, ...) runs once, on a later loop turn. NULL when
 * out of memory (DONE does not run). */
struct fed_call *fed_call_start(const struct fg_host *host, const char *member,
                                const struct fg_identity *who,
                                const char *method, const char *path,
                                const char *query, const char *content_type,
                                const char *body, fed_call_done done,
                                void *arg);

/* Stops C before DONE ran; DONE will not run. */
void fed_call_cancel(struct fed_call *c);

#endif
