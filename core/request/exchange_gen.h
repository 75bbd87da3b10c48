/* Requests and configuration generations: each request holds the view of
 * the generation it started on (daemon/generation.h); a reload moves,
 * ends or leaves them. */
#ifndef FG_EXCHANGE_GEN_H
#define FG_EXCHANGE_GEN_H

struct fg_exchange;
struct fg_worker_gen;

/* EX holds its worker's running view (ex->gen) until released. */
void fg_exchange_gen_hold(struct fg_exchange *ex);
void fg_exchange_gen_release(struct fg_exchange *ex);

/* OLD's requests that stream from a member NEXT carried over (the same
 * instance, and the same audit plugins) move to NEXT; those whose member
 * NEXT no longer has end (fg_exchanges_end); the rest stay on OLD. */
void fg_exchanges_move(struct fg_worker_gen *old, struct fg_worker_gen *next);

/* Ends every request on G that streams from a member: its driver stream
 * is closed and the client gets a Status (503, WHY) or, when the answer
 * had begun, its end. Those still waiting on a policy verdict get a 503
 * too (fg_policy_abandon). */
void fg_exchanges_end(struct fg_worker_gen *g, const char *why);

#endif
