/* Requests for every member at once (the cluster segment "*", target.h):
 * a list (GET of a collection) is asked of each member of the running
 * generation the caller may list there (the policy chain asked per
 * member; the others are left out silently), each answer collected within
 * max_fanout_bytes and fanout_timeout, and merged (fanout_merge.h); paging
 * with limit/continue runs through the members in name order
 * (fanout_token.h); members that fail become Warning headers and the
 * answer's failedClusters. A GET of a non-resource path (discovery,
 * /version, /openapi) is served by the first member, in name order, that
 * the caller may ask it of. Anything else is refused with 405. */
#ifndef FG_FANOUT_H
#define FG_FANOUT_H

struct fg_exchange;
struct fg_request_in;
struct fg_target;

/* Serves EX (routed, for FG_MEMBER_ALL); REQ and T outlive EX. */
void fg_fanout_start(struct fg_exchange *ex, const struct fg_request_in *req,
                     const struct fg_target *t);

/* EX is finished: open member streams are closed, and all is freed. */
void fg_fanout_finish(struct fg_exchange *ex);

#endif
