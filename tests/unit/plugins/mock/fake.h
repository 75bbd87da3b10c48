/* Test doubles for the mock driver's unit tests: a host whose timers run
 * only when the test says so and whose clock is fixed, and stream
 * callbacks that record the answer and can push back with FG_PAUSE. */
#ifndef FG_TEST_MOCK_FAKE_H
#define FG_TEST_MOCK_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include <fedgate/fedgate.h>

#include "mock.h"

/* 2026-11-25T00:00:00Z: the clock every test runs at. */
#define FAKE_NOW_MS 1795564800000ULL

extern struct fg_host fake_host;
extern uint64_t fake_now_ms;
/* Runs one armed timer; returns 0 when none was armed. */
int fake_run_one_timer(void);
size_t fake_timers_alive(void);

/* A member section with these values (NULL: unset). */
struct fake_section {
    struct fg_section s;
    const char *seed, *version;
    int64_t max_body; /* 0: unset */
};
void fake_section_init(struct fake_section *fs, const char *seed,
                       const char *version);

struct fake_client {
    int status;
    char content_type[128];
    char warning[1024]; /* the Warning header, or "" */
    int has_length;
    struct mock_buf body;
    size_t data_calls, max_chunk;
    int ended, error_code, heads;
    int pause_every; /* data() returns FG_PAUSE every N calls (0: never) */
    int paused;      /* the last data() returned FG_PAUSE */
    int gone_after;  /* data() fails from call N on (0: never) */
    int calls_after_close;
    int closed;
    const void *refs[8]; /* the first buffers handed over with data_ref */
    size_t n_refs;
};
extern const struct fg_stream_callbacks fake_callbacks;

/* Opens a stream on INST for METHOD PATH?QUERY with ACCEPT (may be NULL),
 * ends the request body and drives timers and resumes until the answer is
 * complete. Closes the stream. Body is NUL-terminated. */
void fake_request(void *inst, const char *method, const char *path,
                  const char *query, const char *accept, struct fake_client *c);
void fake_client_free(struct fake_client *c);

/* Sets HEAD->info as the core does (core/request/request_info.c), from
 * HEAD's method, path and query. The info lives until the program ends. */
void fake_set_info(struct fg_request_head *head);

/* Writes TEXT to a fresh temporary file; returns its malloc'd path. */
char *fake_temp_file(const char *text);
/* An instance on the demo seed (conf.d/seeds/demo.json) serving VERSION
 * (NULL: the default); fails the test when it cannot be made. */
void *fake_demo_instance(const char *version);

/* The string KEY of item I of the array at PATH in OBJ, or "". */
const char *fake_item_str(const cJSON *obj, const char *path, int i,
                          const char *key);

#endif
