/* Typed values of ini keys: the checks and normal forms of each
 * fg_config_type, shared by the core's own sections and plugins' keys. */
#ifndef FG_INI_VALUES_H
#define FG_INI_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include <fedgate/plugin.h>

/* Checks VALUE against key K. On success returns 0 and sets *OUT to a heap
 * copy of the normal form: BOOL "1"/"0", INT decimal, DURATION decimal
 * milliseconds, PATH absolute (relative ones joined to BASE_DIR, "." and
 * ".." folded), STRING as is. On failure returns -1 and writes the reason
 * (naming the key) to ERR. INT and DURATION bounds are K's min..max; when
 * both are 0 there is no bound (beyond DURATION >= 0). */
int fg_ini_value_check(const struct fg_config_key *k, const char *base_dir,
                       const char *value, char **out, char *err,
                       size_t err_len);

/* A whole decimal int64 ("-12", "0", "42"; no spaces, no junk, no
 * overflow). Returns 0 and sets *OUT, or -1. */
int fg_ini_parse_int64(const char *s, int64_t *out);

/* BASE/PATH (or PATH when absolute), with "." and ".." components and
 * repeated '/' folded lexically. A heap string, or NULL when out of
 * memory. */
char *fg_ini_path_join(const char *base, const char *path);

#endif
