/* One request and its response, independent of the protocol that carried
 * it. A codec (h1_conn.c, h2_conn.c) creates an exchange per request, feeds
 * it the request head and body, and implements fg_codec_ops so the exchange
 * can answer. The exchange routes the request (core endpoint or a member's
 * driver) and relays the answer back with backpressure. */
#ifndef FG_EXCHANGE_H
#define FG_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include <fedgate/driver.h>

struct fg_arena;
struct fg_conn;
struct fg_exchange;

/* What the exchange may ask of the codec stream that created it. None of
 * these call back into the exchange synchronously. */
struct fg_codec_ops {
    /* Response head. CONTENT_LENGTH is -1 when unknown (h1 then chunks).
     * END_STREAM: no body follows. Header names are lower-case, and
     * hop-by-hop headers are already gone. Returns 0 or -1. */
    int (*send_head)(void *cs, int status, const struct fg_header *headers,
                     size_t n_headers, int64_t content_length, int end_stream);
    /* Response body bytes, copied. Returns 0 or -1 (stream is gone). */
    int (*send_data)(void *cs, const void *buf, size_t len);
    /* The same without a copy: the codec takes BUF over and calls
     * FREE_FN(ARG, BUF, LEN) once, on this loop, when the bytes are written
     * or dropped (at once when it does not queue them, on any return). */
    int (*send_data_ref)(void *cs, const void *buf, size_t len,
                         fg_buffer_free_fn free_fn, void *arg);
    /* End of the response body. */
    int (*send_end)(void *cs);
    /* Abort a response already under way (h1 closes the connection, h2
     * resets the stream). */
    void (*reset)(void *cs);
    /* Response bytes queued for this stream and not yet written. */
    size_t (*buffered)(void *cs);
    /* Stop / restart delivering request body to the exchange. */
    void (*pause_body)(void *cs);
    void (*resume_body)(void *cs);
    /* The exchange reads no more of the request body (it stalled): what
     * the client still sends is dropped, and once the answer is out h1
     * closes the connection and h2 resets the stream (NO_ERROR). */
    void (*abandon_body)(void *cs);
};

/* The request head as a codec parsed it. Strings are NUL-terminated and
 * owned by the codec until fg_exchange_start returns (the exchange copies
 * what it keeps into its arena), unless IN_ARENA says they already live in
 * the arena the exchange adopted. Header names are lower-case. */
struct fg_request_in {
    const char *method;
    const char *target;              /* origin-form: path and optional ?query */
    const char *authority;           /* Host or :authority, may be NULL */
    const struct fg_header *headers; /* without Host / pseudo-headers */
    size_t n_headers;
    int64_t content_length; /* -1: unknown or chunked */
    int has_body;           /* 0: the request has no body at all */
    int http_version;       /* 11 or 20 */
    /* The codec's upgrade offer: "websocket" or "SPDY/3.1" when the client
     * asked with Connection: upgrade (HTTP/1.1 only), else NULL. A codec
     * that offers one turns the connection into a byte pipe when the
     * exchange answers 101, and closes it after any other answer. */
    const char *upgrade;
    int in_arena; /* the strings are in the exchange's arena already */
};

/* Makes an exchange for a request arriving on CONN. ARENA, when not NULL,
 * is the request's arena, adopted on success (the codec built the head in
 * it); NULL makes a new one. */
struct fg_exchange *fg_exchange_new(struct fg_conn *conn,
                                    const struct fg_codec_ops *ops, void *cs,
                                    struct fg_arena *arena);

/* Routes REQ and starts answering it (possibly at once, from inside this
 * call, through the codec ops). */
void fg_exchange_start(struct fg_exchange *ex, const struct fg_request_in *req);

/* Request body bytes / the end of the body. */
void fg_exchange_body(struct fg_exchange *ex, const void *buf, size_t len);
void fg_exchange_body_end(struct fg_exchange *ex);

/* The codec's output buffer for this stream fell below the low-water mark. */
void fg_exchange_output_drained(struct fg_exchange *ex);

/* The response was fully handed to the transport (or the stream died):
 * the exchange records metrics, closes any driver stream and frees itself.
 * The codec must not use EX afterwards. COMPLETED is 0 when the client went
 * away or the stream was reset before the response ended. */
void fg_exchange_finish(struct fg_exchange *ex, int completed);

/* Answers EX (before any head was sent) with a Kubernetes Status. */
void fg_exchange_fail(struct fg_exchange *ex, int code, const char *reason,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The protocol an upgrade OFFER may switch to ("websocket", "SPDY/3.1"),
 * or NULL for anything else (h2c included). */
const char *fg_upgrade_protocol(const char *offer);

/* Sends a Kubernetes Status on a codec stream that has no exchange (a
 * request refused while parsing its head). */
int fg_codec_send_status(const struct fg_codec_ops *ops, void *cs, int code,
                         const char *reason, const char *message);

#endif
