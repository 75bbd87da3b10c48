/* The continue token of a cross-cluster list (the "*" cluster segment):
 * which member the next page starts at, that member's own continue token,
 * and the list's kind and apiVersion (so that a page on which no member
 * answers is still an empty list of that kind), as base64url (no padding)
 * of {"v":1,"cluster":NAME,"continue":TOKEN,"kind":K,"apiVersion":V}. It
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
    /* [A-Za-z0-9./-], 1 to 63 bytes: "PodList", "v1"; "Table",
     * "meta.k8s.io/v1" */
    char kind[64], api_version[64];
};

/* The token for C (cluster a DNS-1123 label, token visible ASCII of at
 * most FG_FANOUT_MEMBER_TOKEN_MAX bytes, "" for the member's start, kind
 * and api_version as the struct says): malloc'd, or NULL with ERR set when
 * a field is not so or out of memory. */
char *fg_fanout_token_encode(const struct fg_fanout_cursor *c,
                             struct fg_error *err);

/* Reads the LEN bytes of TOKEN into OUT (free its token with
 * fg_fanout_cursor_free). Returns 0, or -1 with ERR saying what is wrong. */
int fg_fanout_token_decode(const char *token, size_t len,
                           struct fg_fanout_cursor *out, struct fg_error *err);

void fg_fanout_cursor_free(struct fg_fanout_cursor *c);

#endif
