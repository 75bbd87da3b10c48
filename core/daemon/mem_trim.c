/* See mem_trim.h. The trim runs a moment after the open connections fell
 * TRIM_DROP below their peak, so a burst of closes costs one trim; steady
 * churn, which opens as many as it closes, costs none (a trim walks the
 * heap's free chunks and, on a large heap, holds the loop for a while). */
#include "daemon/mem_trim.h"

#include <malloc.h>
#include <string.h>

#include <event2/event.h>

#define TRIM_DROP 32
#define TRIM_DELAY_MS 2000

static void trim_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_mem_trim *t = arg;
    t->peak = *t->open;
    malloc_trim(0);
}

int fg_mem_trim_init(struct fg_mem_trim *t, struct event_base *base,
                     const uint32_t *open)
{
    memset(t, 0, sizeof(*t));
    t->open = open;
    t->ev = evtimer_new(base, trim_cb, t);
    return t->ev ? 0 : -1;
}

void fg_mem_trim_free(struct fg_mem_trim *t)
{
    if (t->ev)
        event_free(t->ev);
    t->ev = NULL;
}

void fg_mem_trim_note_close(struct fg_mem_trim *t)
{
    if (!t->ev)
        return; /* never set up */
    uint32_t open = *t->open;
    if (open + 1 > t->peak)
        t->peak = open + 1; /* the peak counted the one that just closed */
    if (t->peak - open < TRIM_DROP || evtimer_pending(t->ev, NULL))
        return;
    struct timeval tv = {TRIM_DELAY_MS / 1000, (TRIM_DELAY_MS % 1000) * 1000};
    evtimer_add(t->ev, &tv);
}
