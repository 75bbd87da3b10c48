/* The continue token of a cross-cluster list (the "*" cluster segment): which
 * member the next page starts at and that member's own continue token, as
 * base64url (no padding) of {"v":1,"cluster":NAME,"continue":TOKEN}. It
 * comes back from clients, so it is read strictly: anything else is
 * refused rather than guessed at. */
#ifndef FG_FANOUT_TOKEN_H
#define FG_FANOUT_TOKEN_H

#include <stddef.h>

#include "base/error.h"

/* The longest member continue token carried (kube-apiserver's are a few
 * hundred bytes), and so the longest token accepted. */
#define FG_FANOUT_MEMBER_TOKEN_MAX 4096
#define FG_FANOUT_TOKEN_MAX 6000

struct fg_fanout_cursor {
    char cluster[64]; /* a DNS-1123 label */
    char *token;      /* the member's continue token, "" for its start */
};

/* The token for CLUSTER (a DNS-1123 label) and MEMBER_TOKEN (visible
 * ASCII, at most FG_FANOUT_MEMBER_TOKEN_MAX bytes; "" for the member's
 * start): malloc'd, or NULL with ERR set when an argument is not so or out
 * of memory. */
char *fg_fanout_token_encode(const char *cluster, const char *member_token,
                             struct fg_error *err);

/* Reads the LEN bytes of TOKEN into OUT (free its token with
 * fg_fanout_cursor_free). Returns 0, or -1 with ERR saying what is wrong. */
int fg_fanout_token_decode(const char *token, size_t len,
                           struct fg_fanout_cursor *out, struct fg_error *err);

void fg_fanout_cursor_free(struct fg_fanout_cursor *c);

#endif
