/* Giving memory back after a burst of connections: glibc keeps what a
 * closed connection freed in its heap (resident, for reuse), so after
 * 2,000 connections come and go the process would stay as large as at
 * the peak. When the open connections fell well below their peak, a timer
 * on the worker asks malloc_trim to return the free pages. */
#ifndef FG_MEM_TRIM_H
#define FG_MEM_TRIM_H

#include <stdint.h>

struct event;
struct event_base;

struct fg_mem_trim {
    struct event *ev;
    const uint32_t *open; /* the worker's count of open connections */
    uint32_t peak;        /* most open since the last trim */
};

/* OPEN: the count to watch; it must outlive T. */
int fg_mem_trim_init(struct fg_mem_trim *t, struct event_base *base,
                     const uint32_t *open);
void fg_mem_trim_free(struct fg_mem_trim *t);
/* A connection's memory was freed (*OPEN already counts it gone). */
void fg_mem_trim_note_close(struct fg_mem_trim *t);

#endif
