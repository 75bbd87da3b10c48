/* See mem_trim.h. The trim waits a moment after the first close of a
 * batch, so a burst of closes costs one trim, and steady churn one every
 * TRIM_DELAY_MS at most. */
#include "mem_trim.h"

#include <malloc.h>
#include <string.h>

#include <event2/event.h>

/* Closes that make a trim worth its cost (it walks the heap's free
 * chunks), and how long after the first of them it runs. */
#define TRIM_AFTER_CLOSES 32
#define TRIM_DELAY_MS 2000

static void trim_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_mem_trim *t = arg;
    t->closed = 0;
    malloc_trim(0);
}

int fg_mem_trim_init(struct fg_mem_trim *t, struct event_base *base)
{
    memset(t, 0, sizeof(*t));
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
    if (!t->ev || ++t->closed != TRIM_AFTER_CLOSES)
        return;
    struct timeval tv = {TRIM_DELAY_MS / 1000, (TRIM_DELAY_MS % 1000) * 1000};
    evtimer_add(t->ev, &tv);
}
