/* Requests and configuration generations (exchange_gen.h). A request that
 * streams from a member its new generation carried over moves there, so
 * that a long watch does not keep a replaced generation alive; one whose
 * member is gone ends the way a member's own end would look. */
#include "request/exchange_gen.h"

#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "request/exchange_internal.h"
#include "request/policy_chain.h"

static void link_to(struct fg_exchange *ex, struct fg_worker_gen *g)
{
    ex->gen = g;
    ex->gen_prev = NULL;
    ex->gen_next = g->exchanges;
    if (g->exchanges)
        g->exchanges->gen_prev = ex;
    g->exchanges = ex;
}

static void unlink_from(struct fg_exchange *ex)
{
    struct fg_worker_gen *g = ex->gen;
    if (ex->gen_prev)
        ex->gen_prev->gen_next = ex->gen_next;
    else
        g->exchanges = ex->gen_next;
    if (ex->gen_next)
        ex->gen_next->gen_prev = ex->gen_prev;
    ex->gen_prev = ex->gen_next = NULL;
}

void fg_exchange_gen_hold(struct fg_exchange *ex)
{
    struct fg_worker_gen *g = ex->worker->gen;
    fg_worker_gen_ref(g);
    link_to(ex, g);
}

void fg_exchange_gen_release(struct fg_exchange *ex)
{
    struct fg_worker_gen *g = ex->gen;
    unlink_from(ex);
    ex->gen = NULL;
    fg_worker_gen_unref(g);
}

/* Whether A and B run the same audit plugins, in the same order: a moved
 * request is audited by the plugins that saw it start. */
static int same_audit(const struct fg_worker_gen *a,
                      const struct fg_worker_gen *b)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a->n_policies &&
               !(a->policies[i]->ops->phases & FG_PHASE_AUDIT))
            i++;
        while (j < b->n_policies &&
               !(b->policies[j]->ops->phases & FG_PHASE_AUDIT))
            j++;
        if (i == a->n_policies || j == b->n_policies)
            return i == a->n_policies && j == b->n_policies;
        if (a->policies[i++] != b->policies[j++])
            return 0;
    }
}

/* Ends EX's stream from its member (see fg_exchanges_end). */
static void end_one(struct fg_exchange *ex, const char *why)
{
    ex->gen_ended = 1;
    ex->member->ops->stream_close(ex->stream);
    ex->stream = NULL;
    if (ex->driver_done)
        return;
    if (!ex->head_sent) {
        fg_exchange_fail(ex, 503, "ServiceUnavailable", "the %s \"%s\": %s",
                         ex->member->service ? "service" : "member cluster",
                         ex->member->section->name, why);
        return;
    }
    ex->driver_done = 1;
    ex->ops->send_end(ex->cs);
}

/* The first request on G to end by WHICH (1: its member is gone from
 * NEXT; 0: any that streams), or NULL. Ending one may finish others (a
 * connection that closes), so the list is searched again each time. */
static struct fg_exchange *next_to_end(const struct fg_worker_gen *g,
                                       const struct fg_worker_gen *next)
{
    for (struct fg_exchange *ex = g->exchanges; ex; ex = ex->gen_next)
        if (ex->stream && !ex->gen_ended &&
            (!next || !fg_gen_counterpart(next, ex->member)))
            return ex;
    return NULL;
}

void fg_exchanges_move(struct fg_worker_gen *old, struct fg_worker_gen *next)
{
    if (same_audit(old, next)) {
        struct fg_exchange *ex = old->exchanges;
        while (ex) {
            struct fg_exchange *following = ex->gen_next;
            if (ex->stream && !ex->gen_ended &&
                fg_gen_counterpart(next, ex->member) == ex->member) {
                unlink_from(ex);
                link_to(ex, next);
                fg_worker_gen_ref(next);
                fg_worker_gen_unref(old); /* the worker still holds OLD */
            }
            ex = following;
        }
    }
    struct fg_exchange *ex;
    while ((ex = next_to_end(old, next)) != NULL)
        end_one(ex, "it was removed from the gateway's configuration");
}

/* The first request on G still waiting on a policy verdict, or NULL. */
static struct fg_exchange *next_waiting(const struct fg_worker_gen *g)
{
    for (struct fg_exchange *ex = g->exchanges; ex; ex = ex->gen_next)
        if (fg_policy_waiting(ex))
            return ex;
    return NULL;
}

void fg_exchanges_end(struct fg_worker_gen *g, const char *why)
{
    struct fg_exchange *ex;
    while ((ex = next_to_end(g, NULL)) != NULL)
        end_one(ex, why);
    /* Bounded too: a verdict of the old configuration's plugins could
     * otherwise hold the generation until the verdict's own deadline. */
    while ((ex = next_waiting(g)) != NULL)
        fg_policy_abandon(ex, "before its configuration was replaced "
                              "(reload_drain)");
}
