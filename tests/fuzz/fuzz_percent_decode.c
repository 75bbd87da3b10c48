/* libFuzzer target for the SDK's percent-decoder (sdk/src/percent.c), which
 * reads query values and request-info segments from clients. The first
 * byte picks the flags; the rest is the text. Decoding never grows, gives
 * the same bytes in place as into another buffer, always NUL-terminates,
 * and refuses (never overruns) a buffer one byte too small. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0] & 1 ? FG_PCT_PLUS_SPACE : 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    char *out = malloc(len + 1), *inplace = malloc(len + 1);
    if (!out || !inplace)
        abort();
    long n = fg_percent_decode(out, len + 1, in, len, flags);
    if (n < 0 || (size_t)n > len || out[n] != '\0')
        abort();
    memcpy(inplace, in, len);
    if (fg_percent_decode(inplace, len + 1, inplace, len, flags) != n ||
        memcmp(inplace, out, (size_t)n) != 0)
        abort();
    /* Exactly n + 1 bytes fit; n do not. */
    char *tight = malloc((size_t)n + 1);
    if (!tight || fg_percent_decode(tight, (size_t)n + 1, in, len, flags) != n)
        abort();
    if (fg_percent_decode(tight, (size_t)n, in, len, flags) != -1)
        abort();
    free(tight);
    free(inplace);
    free(out);
    return 0;
}
