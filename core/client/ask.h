/* One HTTPS request and its whole answer, over a blocking TLS connection
 * made with the core client's TLS settings and read by the core's strict
 * response parser: fedgatectl's questions to a running gateway, and the
 * fleet writer's check of a joining member's /version (off the loops). */
#ifndef FG_ASK_H
#define FG_ASK_H

#include <stddef.h>

#include <fedgate/driver.h>

#include "base/error.h"

/* The server asked: its URL, the CA that signed its serving certificate,
 * the bearer token sent with every request. */
struct fg_ask_server {
    const char *server; /* https://HOST[:PORT] */
    const char *ca_file;
    const char *token; /* NULL: the client certificate authenticates */
    int timeout_ms;    /* per connect, read and write */
    const char *cert_file, *key_file; /* a client certificate, or NULL */
    const char *accept;               /* NULL: application/json */
};

/* An answer: its status and body (malloc'd, NUL-terminated). */
struct fg_ask_answer {
    int status;
    char *body;
    size_t len;
};

/* Largest answer body read. */
#define FG_ASK_MAX_ANSWER (16u << 20)

/* Sends METHOD TARGET with HEADERS (N of them) and BODY (JSON, or NULL),
 * and reads the answer into OUT. Returns 0, or -1 with a reason in ERR
 * (nothing to free then). */
int fg_ask(const struct fg_ask_server *gw, const char *method,
           const char *target, const struct fg_header *headers, size_t n,
           const char *body, struct fg_ask_answer *out, struct fg_error *err);

void fg_ask_answer_free(struct fg_ask_answer *a);

#endif
