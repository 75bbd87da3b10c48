/* Calls to members made by a service for a user (host.h "Member calls"):
 * an exchange like a client's, whose "client" is the service. */
#ifndef FG_MEMBER_CALL_H
#define FG_MEMBER_CALL_H

#include <stddef.h>

#include <fedgate/driver.h>

struct fg_worker;
struct fg_member_call;

/* On W's loop: sends HEAD to MEMBER as HEAD->identity (host.h). NULL with
 * ERR when it cannot even start. */
struct fg_member_call *
fg_member_call_open(struct fg_worker *w, const char *caller, const char *member,
                    const struct fg_request_head *head,
                    const struct fg_stream_callbacks *cb, void *ctx, char *err,
                    size_t err_len);
int fg_member_call_write(struct fg_member_call *c, const void *buf, size_t len);
void fg_member_call_end(struct fg_member_call *c);
void fg_member_call_resume(struct fg_member_call *c);
void fg_member_call_close(struct fg_member_call *c);

/* W drains (SIGTERM): its member calls that are watches end with a 503,
 * as a client's watch ends when kube-apiserver stops, so that a service's
 * watch does not hold the stop up for shutdown_grace; new calls are
 * refused from now on. */
void fg_member_calls_drain(struct fg_worker *w);

#endif
