/* Work posted to another worker's loop: a queue behind a mutex and one
 * event that wakes the owner (libevent's cross-thread event_active, with
 * evthread on). Jobs run on the owner loop in the order they were posted,
 * which is what lets a stream's write, end and close follow its open. */
#ifndef FG_LOOP_QUEUE_H
#define FG_LOOP_QUEUE_H

#include <pthread.h>
#include <stddef.h>

struct event;
struct event_base;

typedef void (*fg_job_fn)(void *arg);

struct fg_job {
    struct fg_job *next;
    fg_job_fn run;
    void *arg;
};

struct fg_loop_queue {
    pthread_mutex_t lock;
    struct fg_job *head, *tail; /* under lock */
    struct event *wake;
    int ready; /* 0 after fg_loop_queue_free: posts are refused */
};

int fg_loop_queue_init(struct fg_loop_queue *q, struct event_base *base);

/* Runs RUN(ARG) on Q's loop, after every job posted before it. Any
 * thread. Returns 0, or -1 when out of memory (RUN will not run). */
int fg_loop_queue_post(struct fg_loop_queue *q, fg_job_fn run, void *arg);

/* Runs what is queued now, on the calling (owner) thread; returns how many
 * jobs ran. For teardown, where the loop no longer dispatches. */
size_t fg_loop_queue_run(struct fg_loop_queue *q);

void fg_loop_queue_free(struct fg_loop_queue *q);

#endif
