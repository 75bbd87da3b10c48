/* What the core lends a plugin: logging, timers on the worker's loop, and
 * read access to the plugin's own validated configuration section.
 * Every function here must be called on the loop thread that owns the
 * object it is given (the thread that called the plugin). */
#ifndef FEDGATE_HOST_H
#define FEDGATE_HOST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fg_log_level {
    FG_LOG_ERROR = 0,
    FG_LOG_WARN = 1,
    FG_LOG_INFO = 2,
    FG_LOG_DEBUG = 3,
};

/** A one-shot timer on the worker loop; re-arm it from its callback to repeat.
 */
struct fg_timer;
typedef void (*fg_timer_cb)(void *arg);

/** A configuration section after the core validated it against the plugin's
 * fg_config_key list: every key has its default applied, paths are absolute.*/
struct fg_section {
    const char *name; /**< the member (or plugin) name */
    const char *file; /**< ini file the section came from */
    int line;         /**< line of the section header */
    const void *core; /**< the core's own data; do not touch */
    /** Value of KEY, or NULL when unset without a default. */
    const char *(*get)(const struct fg_section *s, const char *key);
    /** INT, BOOL (0/1) and DURATION (ms) values; DEF when unset. */
    int64_t (*get_int)(const struct fg_section *s, const char *key,
                       int64_t def);
};

struct fg_host {
    uint32_t struct_size; /**< sizeof(struct fg_host) of the core */
    const void *core;     /**< the core's own data; do not touch */

    /** printf-style log line, prefixed by the core with the plugin name. */
    void (*log)(const struct fg_host *h, enum fg_log_level level,
                const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;

    /** A timer on the calling worker's loop. NULL when out of memory. */
    struct fg_timer *(*timer_new)(const struct fg_host *h, fg_timer_cb cb,
                                  void *arg);
    /** (Re)arms T to fire once after MS milliseconds (0: next loop turn). */
    void (*timer_arm)(struct fg_timer *t, uint64_t ms);
    /** Disarms T; its callback will not run until armed again. */
    void (*timer_cancel)(struct fg_timer *t);
    /** Disarms and frees T. */
    void (*timer_free)(struct fg_timer *t);

    /** Wall-clock time in milliseconds since the epoch, cached per loop turn.*/
    uint64_t (*now_ms)(const struct fg_host *h);

    /** The worker's event loop: a libevent 2.1 `struct event_base *`, for
     * drivers that do their own network I/O (sockets, bufferevents, evdns)
     * on the worker's thread. Never block it. */
    void *(*event_base)(const struct fg_host *h);

    /** The gateway's state directory (absolute): where the core keeps its
     * CA, serving certificate and admin.token (ABI 2.0). */
    const char *state_dir;
};

#ifdef __cplusplus
}
#endif
#endif
