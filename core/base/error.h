/* Error reporting for core functions: a message the caller owns, and a list
 * of "FILE:LINE: message" diagnostics for configuration checks. */
#ifndef FG_ERROR_H
#define FG_ERROR_H

#include <stddef.h>

struct fg_error {
    char msg[512];
};

/* Writes a printf-style message into ERR (which may be NULL); returns -1 so
 * callers can `return fg_error_set(err, ...)`. */
int fg_error_set(struct fg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Collected diagnostics, in the order they were found. */
struct fg_diag {
    char **lines;
    size_t n, cap;
};

/* Adds "FILE:LINE: message" (FILE may be NULL: then just the message). */
void fg_diag_add(struct fg_diag *d, const char *file, int line, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
void fg_diag_free(struct fg_diag *d);

#endif
