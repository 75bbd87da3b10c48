/* The request target of every incoming request: checked strictly, its path
 * normalised to one canonical form, and the member it addresses picked
 * out. The member is NAME in /clusters/NAME/ exactly as sent; what follows
 * is normalised within it, and a path that would leave it, or reach it
 * only by normalisation, is refused. What the member receives is the
 * normalised rest, so routing and forwarding cannot differ. */
#ifndef FG_TARGET_H
#define FG_TARGET_H

#include <stddef.h>

#include "base/error.h"

enum fg_member_ref {
    FG_MEMBER_NONE = 0,    /* not under /clusters/NAME */
    FG_MEMBER_NAMED = 1,   /* /clusters/NAME with a valid member name */
    FG_MEMBER_INVALID = 2, /* /clusters/X where X (RFC 3986 unreserved
                              bytes, sent as is) is no DNS-1123 label */
    FG_MEMBER_ALL = 3,     /* /clusters/ followed by the segment "*" or
                              "%2A" (as Go escapes it): every member at
                              once; path spells it "*" */
};

struct fg_target {
    /* Normalised: starts with '/', no empty, "." or ".." segments, every
     * byte outside unreserved and !$&'()*+,;=:@ as upper-case %XX. */
    char *path;
    /* The raw query after '?', checked to be visible ASCII; NULL if there
     * is none or it is empty. */
    char *query;
    enum fg_member_ref member_ref;
    /* NAMED: the member name. INVALID: up to 63 bytes of the segment, for
     * the error message. ALL: "*". */
    char member[64];
    /* What follows /clusters/NAME ("/" if nothing does), in the same
     * allocation as path; for FG_MEMBER_NONE it is path itself. */
    const char *rest;
};

/* Parses the LEN bytes of TARGET (which need not be NUL-terminated) as an
 * origin-form request target of at most MAX_LEN bytes. Returns 0 and fills
 * OUT, or an HTTP status (400, 414; 500 when out of memory) with a
 * message in ERR; OUT is then empty. Free a successful result with
 * fg_target_free. */
int fg_target_parse(const char *target, size_t len, size_t max_len,
                    struct fg_target *out, struct fg_error *err);

/* Releases what fg_target_parse allocated; safe on a zeroed struct. */
void fg_target_free(struct fg_target *t);

#endif
