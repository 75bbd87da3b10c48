/* Response body bytes into a codec's output, by reference when the driver
 * handed them over with data_ref (driver.h): the output then holds the
 * driver's own buffer instead of a copy, and the driver gets it back once
 * libevent is done with it. */
#ifndef FG_BODY_REF_H
#define FG_BODY_REF_H

#include <stddef.h>

#include <fedgate/driver.h>

struct evbuffer;

/* Bodies up to this many bytes are copied rather than referenced. */
#define FG_BODY_COPY_MAX 4096

/* Appends LEN bytes at BUF to OUT. With FREE_FN, OUT takes BUF over:
 * FREE_FN(ARG, BUF, LEN) runs once, when the bytes have left every
 * evbuffer (written, or dropped with the buffer holding them), or at once,
 * after a copy, when no reference could be made or LEN is at most
 * FG_BODY_COPY_MAX. Without FREE_FN the bytes are copied. Returns 0, or -1
 * when nothing was queued (BUF is given back all the same). */
int fg_body_add(struct evbuffer *out, const void *buf, size_t len,
                fg_buffer_free_fn free_fn, void *arg);

#endif
