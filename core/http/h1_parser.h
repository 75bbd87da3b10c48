/* A strict, incremental HTTP/1.1 request parser: a strict pass over the
 * raw head (cross-checked by http_parser) and our own body framing refuse
 * everything that a lenient peer might read differently (request
 * smuggling), so what the gateway forwards is exactly what it understood.
 * No I/O, no libevent. */
#ifndef FG_H1_PARSER_H
#define FG_H1_PARSER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "request/exchange.h"

struct fg_limits;
struct fg_h1_parser;

/* Flags passed to on_head along with the request. */
enum {
    /* The connection may carry another request after this one (RFC 9112
     * 9.3: HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
     * "Connection: keep-alive"). */
    FG_H1_KEEP_ALIVE = 1 << 0,
    /* The request carries an Upgrade header. It is parsed and served as an
     * ordinary request; acting on the upgrade is the caller's choice. */
    FG_H1_UPGRADE = 1 << 1,
    /* HTTP/1.1 "Expect: 100-continue": the client may wait for an interim
     * 100 response before it sends the body. */
    FG_H1_EXPECT_CONTINUE = 1 << 2,
    /* The client spoke HTTP/1.0: its answer cannot be chunked.
     * fg_request_in.http_version is 11 for both HTTP/1.x versions. */
    FG_H1_HTTP10 = 1 << 3,
};

struct fg_h1_callbacks {
    /* The head is complete and valid. REQ and everything it points to stay
     * valid until the next fg_h1_parser_feed call that starts a new
     * message, or fg_h1_parser_free. Non-zero stops the parser (the feed
     * returns -1 with a 500 error unless the callback set its own). */
    int (*on_head)(void *arg, const struct fg_request_in *req, unsigned flags);
    /* Body bytes (chunked framing removed); same return convention. */
    int (*on_body)(void *arg, const void *buf, size_t len);
    /* The message, body and trailers included, is complete. The feed that
     * calls this returns right after it: the bytes that follow belong to
     * the next (pipelined) request. Same return convention. */
    int (*on_complete)(void *arg);
};

/* Why a request was refused: the HTTP status to answer with (400, 413,
 * 414, 417, 431, 500, 501, 505) and a message for people. */
struct fg_h1_error {
    int status;
    char message[256];
};

enum fg_h1_state {
    FG_H1_IDLE,  /* nothing of the next request has arrived yet */
    FG_H1_HEAD,  /* part of a request head has arrived */
    FG_H1_BODY,  /* the head was delivered, the body is being read */
    FG_H1_DONE,  /* a message completed; the next feed starts a new one */
    FG_H1_ERROR, /* refused: see fg_h1_parser_error; feed returns -1 */
};

/* Makes a parser with the header, URI and body limits of LIMITS. Returns
 * NULL when out of memory. */
struct fg_h1_parser *fg_h1_parser_new(const struct fg_limits *limits,
                                      const struct fg_h1_callbacks *cb,
                                      void *arg);
void fg_h1_parser_free(struct fg_h1_parser *p);

/* Parses up to LEN bytes of DATA. Returns the number of bytes consumed:
 * less than LEN when a message completed (the rest is the next request),
 * or -1 when the request is refused. After a completed message the next
 * call starts the next request. */
ssize_t fg_h1_parser_feed(struct fg_h1_parser *p, const char *data, size_t len);

/* The same, where AHEAD (may be NULL) holds the AHEAD_LEN bytes that have
 * already arrived after DATA but are fed later: before the head callback
 * runs, the chunked framing of DATA and AHEAD up to the end of the message
 * is validated, so a request whose body is already known to be malformed
 * is refused before its head reaches anyone. AHEAD is read only inside
 * this call, before the head callback, and never consumed. */
ssize_t fg_h1_parser_feed_ahead(struct fg_h1_parser *p, const char *data,
                                size_t len, const char *ahead,
                                size_t ahead_len);

/* Refuses the current request from outside (e.g. a callback that wants a
 * specific status): the next feed returns -1 with this error. */
void fg_h1_parser_set_error(struct fg_h1_parser *p, int status, const char *fmt,
                            ...) __attribute__((format(printf, 3, 4)));

enum fg_h1_state fg_h1_parser_state(const struct fg_h1_parser *p);
const struct fg_h1_error *fg_h1_parser_error(const struct fg_h1_parser *p);

#endif
