/* One call to a member cluster as a user (host.h member_call), its answer
 * gathered whole (up to a cap) and handed to the caller from a timer, so
 * that the caller may start the next call or free everything from its
 * callback: the client ops are never re-entered. */
#ifndef APPSTORE_CALL_H
#define APPSTORE_CALL_H

#include <stddef.h>

struct fg_host;
struct fg_identity;

/* the largest answer kept (a list of release Secrets, discovery) */
#define APPSTORE_CALL_MAX_ANSWER (16u * 1024 * 1024)

/** The answer: STATUS (0 when none came) and BODY (LEN bytes, NUL-terminated,
 * valid during the callback), or for a failure without one (a 503 from the
 * core) the reason in MESSAGE. */
typedef void (*appstore_call_done)(void *arg, int status, const char *body,
                                   size_t len, const char *message);

struct appstore_call;

/** Sends METHOD PATH?QUERY (QUERY may be NULL) with BODY (LEN bytes; NULL
 * for none) of CONTENT_TYPE to MEMBER as WHO. DONE(ARG, ...) runs once,
 * from a timer, unless the call is freed first. NULL when out of memory. */
struct appstore_call *appstore_call(const struct fg_host *h, const char *member,
                                    const struct fg_identity *who,
                                    const char *method, const char *path,
                                    const char *query, const char *content_type,
                                    const char *body, size_t len,
                                    appstore_call_done done, void *arg);
/** Stops C (when it still runs) and frees it; DONE will not run. */
void appstore_call_free(struct appstore_call *c);

#endif
