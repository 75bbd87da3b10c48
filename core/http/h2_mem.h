/* The allocator nghttp2 sessions use (see h2_mem.c): idle HTTP/2
 * connections should cost what they hold, not what nghttp2 reserves. */
#ifndef FG_H2_MEM_H
#define FG_H2_MEM_H

#include <nghttp2/nghttp2.h>

struct fg_h2_map;

/* One session's allocator: &mem goes to nghttp2_session_server_new3 or
 * nghttp2_session_client_new3, and must outlive nghttp2_session_del. One
 * thread at a time, as its session. */
struct fg_h2_mem {
    nghttp2_mem mem;
    struct fg_h2_map *maps; /* its mapped blocks */
    int made;
};

void fg_h2_mem_init(struct fg_h2_mem *m);
/* The session was made: what it mapped meanwhile is its frame buffer
 * (nghttp2 reserves nothing else that large at creation). */
void fg_h2_mem_made(struct fg_h2_mem *m);
/* The session has nothing to send (nghttp2_session_want_write is 0 and no
 * send is under way): its frame buffer holds no live bytes, and its pages
 * go back to the system until the next frame is written. */
void fg_h2_mem_release(struct fg_h2_mem *m);

#endif
