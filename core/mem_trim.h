/* Giving memory back after a burst of connections: glibc keeps what a
 * closed connection freed in its heap (resident, for reuse), so after
 * 2,000 connections come and go the process would stay as large as at
 * the peak. When enough connections closed, a timer on the worker asks
 * malloc_trim to return the free pages. */
#ifndef FG_MEM_TRIM_H
#define FG_MEM_TRIM_H

#include <stdint.h>

struct event;
struct event_base;

struct fg_mem_trim {
    struct event *ev;
    uint32_t closed; /* connections closed since the last trim */
};

int fg_mem_trim_init(struct fg_mem_trim *t, struct event_base *base);
void fg_mem_trim_free(struct fg_mem_trim *t);
/* A connection's memory was freed. */
void fg_mem_trim_note_close(struct fg_mem_trim *t);

#endif
