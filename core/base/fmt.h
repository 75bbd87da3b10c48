/* Number formatting for the per-request path (status codes, lengths,
 * request ids, member paths), written by hand: snprintf's format parsing
 * costs more than the digits on a path that runs once per request. */
#ifndef FG_FMT_H
#define FG_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any uint64_t in decimal, and for a sign and a terminator. */
#define FG_FMT_DEC_MAX 22

/* Writes V in decimal at OUT, NUL-terminated; returns the digit count. */
size_t fg_fmt_u64(char *out, uint64_t v);
/* Writes V (negative too) in decimal at OUT, NUL-terminated; returns the
 * length without the NUL. OUT holds FG_FMT_DEC_MAX bytes. */
size_t fg_fmt_i64(char *out, int64_t v);
/* Writes the low WIDTH hex digits of V, lower-case and zero-padded, at OUT
 * (no NUL); returns OUT + WIDTH. WIDTH is at most 16. */
char *fg_fmt_hex(char *out, uint64_t v, unsigned width);

#endif
