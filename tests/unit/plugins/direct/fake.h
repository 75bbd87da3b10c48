/* Test doubles for the direct driver's unit tests: the core's host on a
 * real libevent loop (never run: nothing connects) with its log lines
 * kept, and member sections made from key/value lists. */
#ifndef FG_TEST_DIRECT_FAKE_H
#define FG_TEST_DIRECT_FAKE_H

#include <fedgate/fedgate.h>

extern struct fg_host fake_host;
/* Frees the loop behind fake_host (call at the end). */
void fake_host_done(void);
/* The last line logged at LEVEL or worse. */
extern char fake_last_log[512];

/* A member section; KV is NULL-terminated pairs of key, value. */
struct fake_section {
    struct fg_section s;
    const char *const *kv;
};
void fake_section_init(struct fake_section *fs, const char *const *kv);

/* Writes TEXT to a fresh temporary file; returns its malloc'd path. */
char *fake_temp_file(const char *text);

#endif
