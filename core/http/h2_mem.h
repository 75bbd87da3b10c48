/* The allocator nghttp2 sessions use (see h2_mem.c): idle HTTP/2
 * connections should cost what they hold, not what nghttp2 reserves. */
#ifndef FG_H2_MEM_H
#define FG_H2_MEM_H

#include <nghttp2/nghttp2.h>

/* For nghttp2_session_server_new3 and the core client's
 * nghttp2_session_client_new3; shared by every session and thread. */
nghttp2_mem *fg_h2_mem(void);

#endif
