/* Small filesystem helpers for the gateway's state directory: creating
 * directories with their parents, reading a bounded file, and replacing a
 * file atomically so a crash never leaves a half-written key or token. */
#ifndef FG_FSUTIL_H
#define FG_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"

/* Creates PATH and any missing parents with MODE (existing directories are
 * left as they are). Returns 0 or -1 with a message naming the directory. */
int fg_mkdir_p(const char *path, mode_t mode, struct fg_error *err);

/* Writes DATA to a temporary file next to PATH with MODE (regardless of the
 * umask), syncs it and renames it over PATH. Returns 0 or -1. */
int fg_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode, struct fg_error *err);

/* Like fg_write_file_atomic, but never replaces an existing PATH: returns 1
 * (and leaves PATH alone) if it already exists, 0 if it was created, -1 on
 * error. Two processes racing to create PATH agree on one content. */
int fg_create_file_atomic(const char *path, const void *data, size_t len,
                          mode_t mode, struct fg_error *err);

/* Reads a regular file of at most MAX_LEN bytes into a malloc'd buffer with
 * a NUL appended (not counted in *LEN). MODE, if not NULL, receives the
 * file's permission bits. Returns 0, -1 on error; errno is ENOENT when the
 * file does not exist. */
int fg_read_file(const char *path, size_t max_len, char **out, size_t *len,
                 mode_t *mode, struct fg_error *err);

/* DATA (LEN bytes) in a memory file that TLS can open by the path written
 * to PATH (/proc/self/fd/N): credentials handed on without touching a
 * disk. Returns the descriptor (the caller closes it), or -1. */
int fg_memory_file(const void *data, size_t len, char path[32]);

/* A path formatted into OUT (PATH_MAX bytes): 0, or -1 when it would not
 * fit. */
__attribute__((format(printf, 2, 3))) int fg_path_format(char *out,
                                                         const char *fmt, ...);

/* DIR "/" NAME, malloc'd; NULL when out of memory. */
char *fg_path_join(const char *dir, const char *name);

#endif
