/* Fuzz target for the app store's multipart/form-data reader: the first
 * line of the input is the Content-Type, the rest the body. Whatever the
 * bytes, the type gives a boundary of 1 to 70 characters or a reason, and
 * the body parts that lie inside it, or a reason. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    char boundary[71], err[256];
    err[0] = 0;
    int t = appstore_multipart_type((const char *)data, (size_t)(nl - data),
                                    boundary, err, sizeof err);
    if (t < 0 && !err[0])
        abort();
    if (t != 1)
        return 0;
    size_t bl = strlen(boundary);
    if (bl == 0 || bl > 70)
        abort();
    const uint8_t *body = nl + 1;
    size_t len = size - (size_t)(nl + 1 - data);
    struct appstore_part parts[APPSTORE_MAX_PARTS];
    err[0] = 0;
    int n = appstore_multipart(boundary, body, len, parts, err, sizeof err);
    if (n < 0) {
        if (!err[0])
            abort();
        return 0;
    }
    if (n > APPSTORE_MAX_PARTS)
        abort();
    for (int i = 0; i < n; i++)
        if (parts[i].data < body || parts[i].data + parts[i].len > body + len ||
            strlen(parts[i].name) >= sizeof parts[i].name)
            abort();
    return 0;
}
