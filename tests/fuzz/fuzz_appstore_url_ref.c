/* Fuzz target for the app store's URL references (url_ref.c): a base and
 * a reference (split at the first NUL), both a remote repository's bytes.
 * A result keeps the base's scheme and authority, then a '/', for every
 * relative-path reference, and a Location is
 * followed only when it is visible ASCII within the bound. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 2);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = in[size + 1] = 0;
    const char *base = in, *ref = in + strlen(in) + 1;
    if (ref > in + size)
        ref = in + size + 1; /* no NUL: an empty reference */
    size_t ref_len = strlen(ref);
    if (appstore_location_ok(ref, ref_len, 64))
        for (size_t i = 0; i < ref_len; i++)
            if (ref[i] <= 0x20 || ref[i] >= 0x7f || ref_len > 64)
                abort();
    char *out = appstore_url_resolve(base, ref);
    const char *sep = strstr(base, "://");
    if (out && !sep)
        abort();
    if (out && ref[0] && ref[strcspn(ref, ":/?#")] != ':' &&
        !strchr("/?", ref[0])) {
        /* a relative path: the base's scheme and authority, then a '/' */
        size_t auth = (size_t)(sep - base) + 3 + strcspn(sep + 3, "/?#");
        if (strncmp(out, base, auth) != 0 || out[auth] != '/')
            abort();
    }
    free(out);
    free(in);
    return 0;
}
