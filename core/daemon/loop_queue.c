/* The cross-loop job queue (see loop_queue.h). */
#include "daemon/loop_queue.h"

#include <stdlib.h>

#include <event2/event.h>

static struct fg_job *take_all(struct fg_loop_queue *q)
{
    pthread_mutex_lock(&q->lock);
    struct fg_job *jobs = q->head;
    q->head = q->tail = NULL;
    pthread_mutex_unlock(&q->lock);
    return jobs;
}

size_t fg_loop_queue_run(struct fg_loop_queue *q)
{
    size_t n = 0;
    /* A job may post to its own queue: those run on the next wake-up, so
     * one turn of the loop is bounded by what was there when it began. */
    for (struct fg_job *j = take_all(q), *next; j; j = next) {
        next = j->next;
        j->run(j->arg);
        free(j);
        n++;
    }
    return n;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fg_loop_queue_run(arg);
}

int fg_loop_queue_init(struct fg_loop_queue *q, struct event_base *base)
{
    q->head = q->tail = NULL;
    if (pthread_mutex_init(&q->lock, NULL) != 0)
        return -1;
    q->wake = event_new(base, -1, 0, on_wake, q);
    if (!q->wake) {
        pthread_mutex_destroy(&q->lock);
        return -1;
    }
    q->ready = 1;
    return 0;
}

int fg_loop_queue_post(struct fg_loop_queue *q, fg_job_fn run, void *arg)
{
    struct fg_job *j = malloc(sizeof(*j));
    if (!j)
        return -1;
    j->next = NULL;
    j->run = run;
    j->arg = arg;
    pthread_mutex_lock(&q->lock);
    if (!q->ready) {
        pthread_mutex_unlock(&q->lock);
        free(j);
        return -1;
    }
    int was_empty = q->head == NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    /* Under the lock: the owner cannot free the event in between. */
    if (was_empty)
        event_active(q->wake, EV_READ, 0);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void fg_loop_queue_free(struct fg_loop_queue *q)
{
    if (!q->wake)
        return;
    pthread_mutex_lock(&q->lock);
    q->ready = 0;
    pthread_mutex_unlock(&q->lock);
    while (fg_loop_queue_run(q) > 0)
        ;
    event_free(q->wake);
    q->wake = NULL;
    pthread_mutex_destroy(&q->lock);
}
