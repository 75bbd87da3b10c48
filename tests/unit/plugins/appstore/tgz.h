/* Chart archives written by the tests: tar entries of any type and name
 * (ustar, pax and GNU long-name headers), gzip'd with zlib, so that every
 * class of archive the reader must take or refuse is built in place. */
#ifndef APPSTORE_TEST_TGZ_H
#define APPSTORE_TEST_TGZ_H

#include <stddef.h>
#include <stdint.h>

struct tgz {
    unsigned char *tar;
    size_t len, cap;
};

/** Appends N raw bytes P. */
void tgz_put(struct tgz *t, const void *p, size_t n);
/** Appends a ustar entry of TYPE ('0', '5', '2', 'x', 'L' ...) named NAME
 * (up to 100 bytes, else split into prefix) with DATA (N bytes). */
void tgz_entry(struct tgz *t, char type, const char *name, const void *data,
               size_t n);
/** A regular file. */
void tgz_file(struct tgz *t, const char *name, const char *text);
/** A pax extended header with the records in TEXT, then a file. */
void tgz_pax(struct tgz *t, const char *records);
/** The two end-of-archive blocks. */
void tgz_end(struct tgz *t);
/** The tar gzip'd (malloc'd); *LEN its size. Frees the tar. */
unsigned char *tgz_gzip(struct tgz *t, size_t *len);
/** A valid chart NAME-VERSION with CHART_YAML (NULL: a default one). */
unsigned char *tgz_chart(const char *name, const char *chart_yaml, size_t *len);

#endif
