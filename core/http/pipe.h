/* The byte pipe a protocol switch makes of a client stream (driver.h,
 * "Upgrades"), apart from the codec that carries it, so that every codec
 * that can switch (HTTP/1.1 Upgrade today, HTTP/2 extended CONNECT of RFC
 * 8441 later) keeps the same rules: what the client sends before the
 * member's answer is dropped, and too much of it ends the connection; once
 * switched, the client's bytes go to the exchange as they come, held back
 * while the driver pauses; once the driver ended, they are dropped. The
 * codec owns the transport and its framing: it asks for the switch, tells
 * the pipe the answer and the driver's end, and hands it the client's
 * bytes. */
#ifndef FG_PIPE_H
#define FG_PIPE_H

#include <stddef.h>

#include <fedgate/driver.h>

struct evbuffer;
struct fg_exchange;

enum fg_pipe_state {
    FG_PIPE_NONE,    /* no switch asked for: an ordinary request */
    FG_PIPE_OFFERED, /* asked for, unanswered (or refused) */
    FG_PIPE_OPEN,    /* switched: raw bytes both ways */
    FG_PIPE_ENDED,   /* switched, and the driver's side ended or failed */
};

struct fg_pipe {
    enum fg_pipe_state state;
    const char *protocol; /* the one offered: "websocket", "SPDY/3.1" */
    size_t discarded;     /* bytes dropped before the answer */
};

/* How the codec lets the pipe reach the exchange: the exchange that takes
 * the client's bytes now, or NULL while it cannot (the driver paused the
 * body, or the stream is going away). Asked again before every piece. */
typedef struct fg_exchange *(*fg_pipe_receiver_fn)(void *cs);

/* A request without a switch (PROTOCOL NULL) or one asking for PROTOCOL. */
void fg_pipe_offer(struct fg_pipe *p, const char *protocol);

/* The member answered 101: 0 when a switch was asked for (the pipe is
 * open), -1 otherwise (the answer must not be relayed). */
int fg_pipe_open(struct fg_pipe *p);

/* The driver's side ended (end() or a reset): no more client bytes. */
void fg_pipe_end(struct fg_pipe *p);

/* Whether the 101 was sent: the answer's bytes go out unframed. */
int fg_pipe_switched(const struct fg_pipe *p);

/* Whether field F of the driver's 101 may go to the client: framing and
 * hop-by-hop fields are the codec's (it writes its own upgrade). */
int fg_pipe_answer_field(const struct fg_header *f);

enum fg_pipe_input {
    FG_PIPE_IN_OK,      /* taken, dropped, or held until the driver resumes */
    FG_PIPE_IN_AGAIN,   /* not now (a pipe is delivering further up the
                           stack): call again from the loop */
    FG_PIPE_IN_OVERRUN, /* too much before the answer: close the connection */
};

/* Moves the client's bytes in IN where the pipe's state sends them.
 * RECEIVER(CS) is asked before each piece handed to the exchange. */
enum fg_pipe_input fg_pipe_input(struct fg_pipe *p, struct evbuffer *in,
                                 fg_pipe_receiver_fn receiver, void *cs);

#endif
