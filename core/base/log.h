/* Logging to stderr with a level threshold; one line per call, written with
 * a single write so lines from several threads do not interleave. */
#ifndef FG_LOG_H
#define FG_LOG_H

#include <stdarg.h>

#include <fedgate/host.h>

/* Reads the environment once, before any thread logs: under systemd with
 * stderr connected to the journal, lines carry a syslog priority ("<3>")
 * instead of a timestamp. */
void fg_log_init(void);
void fg_log_set_level(enum fg_log_level level);
/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int fg_log_level_parse(const char *s, enum fg_log_level *out);
void fg_log(enum fg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fg_logv(enum fg_log_level level, const char *prefix, const char *fmt,
             va_list ap) __attribute__((format(printf, 3, 0)));

#define fg_error_log(...) fg_log(FG_LOG_ERROR, __VA_ARGS__)
#define fg_warn(...) fg_log(FG_LOG_WARN, __VA_ARGS__)
#define fg_info(...) fg_log(FG_LOG_INFO, __VA_ARGS__)
#define fg_debug(...) fg_log(FG_LOG_DEBUG, __VA_ARGS__)

#endif
