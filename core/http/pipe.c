/* The byte pipe after a protocol switch (driver.h, "Upgrades"), kept apart
 * from the codecs so that HTTP/1.1 Upgrade and, later, HTTP/2 extended
 * CONNECT (RFC 8441) share one set of rules; see pipe.h. */
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "http/pipe.h"
#include "request/exchange.h"

/* Bytes handed to the exchange at a time: a body pause takes effect within
 * this many bytes. */
#define PIPE_PIECE_MAX 16384

/* Bytes a client may send before the answer to its switch: a client waits
 * for the 101 before it speaks the new protocol, so more than a few eager
 * frames means it is not waiting. Until the answer nothing may reach the
 * member, which could yet refuse the switch (CVE-2018-1002105). */
#define PIPE_EARLY_MAX (64 * 1024)

/* Bytes on their way to an exchange: one buffer per worker thread rather
 * than one per pipe, so an idle pipe holds none. PIECE_BUSY keeps it from
 * being used re-entrantly. */
static _Thread_local char piece[PIPE_PIECE_MAX];
static _Thread_local int piece_busy;

void fg_pipe_offer(struct fg_pipe *p, const char *protocol)
{
    p->state = protocol ? FG_PIPE_OFFERED : FG_PIPE_NONE;
    p->protocol = protocol;
    p->discarded = 0;
}

int fg_pipe_open(struct fg_pipe *p)
{
    if (p->state != FG_PIPE_OFFERED)
        return -1;
    p->state = FG_PIPE_OPEN;
    return 0;
}

void fg_pipe_end(struct fg_pipe *p)
{
    if (p->state == FG_PIPE_OPEN)
        p->state = FG_PIPE_ENDED;
}

int fg_pipe_switched(const struct fg_pipe *p)
{
    return p->state == FG_PIPE_OPEN || p->state == FG_PIPE_ENDED;
}

static int name_is(const struct fg_header *f, const char *lit)
{
    size_t n = strlen(lit);
    return f->name_len == n && strncasecmp(f->name, lit, n) == 0;
}

int fg_pipe_answer_field(const struct fg_header *f)
{
    return !name_is(f, "content-length") && !name_is(f, "transfer-encoding") &&
           !name_is(f, "connection") && !name_is(f, "keep-alive") &&
           !name_is(f, "upgrade");
}

enum fg_pipe_input fg_pipe_input(struct fg_pipe *p, struct evbuffer *in,
                                 fg_pipe_receiver_fn receiver, void *cs)
{
    if (p->state != FG_PIPE_OPEN) {
        size_t len = evbuffer_get_length(in);
        evbuffer_drain(in, len);
        if (p->state == FG_PIPE_OFFERED) {
            p->discarded += len;
            if (p->discarded > PIPE_EARLY_MAX)
                return FG_PIPE_IN_OVERRUN;
        }
        return FG_PIPE_IN_OK;
    }
    if (piece_busy)
        return FG_PIPE_IN_AGAIN; /* another pipe's bytes are in PIECE */
    struct fg_exchange *ex;
    while (p->state == FG_PIPE_OPEN && (ex = receiver(cs)) != NULL) {
        size_t len = evbuffer_get_length(in);
        if (len == 0)
            break;
        size_t n = len < PIPE_PIECE_MAX ? len : PIPE_PIECE_MAX;
        /* Out of the buffer before the exchange sees it: a write it makes
         * may read more TLS input into the buffer. */
        if (evbuffer_remove(in, piece, n) != (int)n)
            break;
        piece_busy = 1;
        fg_exchange_body(ex, piece, n);
        piece_busy = 0;
    }
    return FG_PIPE_IN_OK;
}
