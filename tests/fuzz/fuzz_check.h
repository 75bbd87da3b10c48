/* CHECK for fuzz targets: aborts on a violated property. Not assert():
 * NDEBUG must not hide a violation from the fuzzer. */
#ifndef FG_FUZZ_CHECK_H
#define FG_FUZZ_CHECK_H

#include <stdlib.h>

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            abort();                                                           \
    } while (0)

#endif
