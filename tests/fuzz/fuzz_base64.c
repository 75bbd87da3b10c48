/* libFuzzer target for the SDK's base64 decoder (sdk/src/base64.c), which
 * reads continue tokens and WebSocket keys from clients. The first byte
 * picks the flags; the rest is the text. What decodes re-encodes to text
 * that decodes to the same bytes, the decoded length is never more than
 * FG_BASE64_DECODED_MAX, and a buffer one byte too small is refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags =
        data[0] & (FG_BASE64_URL | FG_BASE64_NOPAD | FG_BASE64_ANY_ALPHABET);
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    size_t max = FG_BASE64_DECODED_MAX(len);
    unsigned char *out = malloc(max + 1);
    if (!out)
        abort();
    long n = fg_base64_decode(out, max, in, len, flags);
    if (n < -1 || (n >= 0 && (size_t)n > max))
        abort();
    if (n > 0 && fg_base64_decode(out, (size_t)n - 1, in, len, flags) != -1)
        abort();
    if (n >= 0) {
        unsigned enc = flags & (FG_BASE64_URL | FG_BASE64_NOPAD);
        char *text = fg_base64_encode_alloc(out, (size_t)n, enc);
        unsigned char *again = malloc((size_t)n + 1);
        if (!text || !again ||
            fg_base64_decode(again, (size_t)n, text, strlen(text), flags) !=
                n ||
            memcmp(again, out, (size_t)n) != 0)
            abort();
        free(again);
        free(text);
    }
    free(out);
    return 0;
}
