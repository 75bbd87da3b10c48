/* Feeds one in-memory ini file to inih line by line, refusing what inih r55
 * would silently mangle (long lines, indented continuations, NUL bytes) and
 * parsing section headers itself so that their names are never cut. */
#ifndef FG_INI_READER_H
#define FG_INI_READER_H

#include <stddef.h>

struct fg_ini_callbacks {
    /* A "[...]" header: TEXT is everything between the brackets, whole.
     * TEXT is NULL after a malformed header (already reported through
     * error): the keys that follow belong to no section. */
    void (*section)(void *user, int line, const char *text, size_t len);
    /* A key = value line, as inih split it (both trimmed, inline " ;"
     * comments removed from the value). VALUE may be "". */
    void (*entry)(void *user, int line, const char *key, const char *value);
    /* A line refused before inih saw it, or one inih could not parse. */
    void (*error)(void *user, int line, const char *msg);
};

/* Parses BUF (LEN bytes, may contain anything) and reports every line
 * through CB. Returns the number of errors reported. */
int fg_ini_parse_buffer(const char *buf, size_t len,
                        const struct fg_ini_callbacks *cb, void *user);

#endif
