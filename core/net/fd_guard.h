/* File descriptors as a resource clients can exhaust: the listener pauses
 * with a backoff instead of spinning when accept() runs out of them, sheds
 * one waiting client per pause through a reserve descriptor, and
 * max_connections is held within what RLIMIT_NOFILE allows. */
#ifndef FG_FD_GUARD_H
#define FG_FD_GUARD_H

#include <stdint.h>

#include "config/config.h"

struct event;
struct fg_worker;

struct fg_accept_guard {
    struct event *resume_ev;
    int reserve_fd; /* /dev/null, given up to accept one client and close
                       it, so a client is told rather than left waiting */
    int paused;
    int last_errno;
    uint64_t backoff_ms; /* 0 after a successful accept */
    uint64_t last_log_ms;
    uint64_t errors; /* since the last log line */
    uint64_t shed;   /* clients accepted only to be closed, since then */
};

/* Sets the error callback of W's listener and takes the reserve. Returns 0,
 * or -1 with ERR set. */
int fg_accept_guard_init(struct fg_worker *w, struct fg_error *err);
/* Stops the resume timer and gives the reserve back (W stops listening). */
void fg_accept_guard_free(struct fg_worker *w);
/* A connection was accepted: the next pause starts from the first step. */
void fg_accept_guard_ok(struct fg_worker *w);

/* Checks that WORKERS * max_connections, plus the descriptors the gateway
 * needs besides, fit in RLIMIT_NOFILE. RAISE: lift the soft limit towards
 * the hard one first, and clamp max_connections when that is not enough
 * (a start); otherwise only report what a start would do (--check, which
 * judges by the hard limit). Adds a warning naming the key's FILE:LINE to
 * DIAG when the limit does not allow it; returns the number added. */
int fg_fd_budget(struct fg_config *cfg, int raise, struct fg_diag *diag);

#endif
