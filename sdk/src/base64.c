/* Base64 (RFC 4648 4 and 5) for the core and the plugins (util.h): the
 * arithmetic is OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock; this file adds
 * what they lack: the URL-safe alphabet, optional padding, strict
 * validation (EVP_DecodeBlock reads '=' anywhere as zero bits and skips
 * whitespace) and the decoded length without the padding's bytes. */
#include <fedgate/util.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* Bytes per EVP call: a multiple of 3 (encoding) and of 4 (decoding)
 * keeps every call but the last free of padding. */
#define CHUNK_IN 3072
#define CHUNK_TEXT 4096

size_t fg_base64_encode(char *out, const void *in, size_t n, unsigned flags)
{
    const unsigned char *p = in;
    size_t o = 0;
    for (size_t i = 0; i < n; i += CHUNK_IN) {
        size_t m = n - i < CHUNK_IN ? n - i : CHUNK_IN;
        o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, p + i, (int)m);
    }
    out[o] = '\0';
    if (flags & FG_BASE64_URL)
        for (size_t i = 0; i < o; i++)
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    if (flags & FG_BASE64_NOPAD)
        while (o > 0 && out[o - 1] == '=')
            out[--o] = '\0';
    return o;
}

char *fg_base64_encode_alloc(const void *in, size_t n, unsigned flags)
{
    if (n > (SIZE_MAX - 1) / 4 * 3 - 2)
        return NULL;
    char *out = malloc(FG_BASE64_ENCODED_SIZE(n));
    if (out)
        fg_base64_encode(out, in, n, flags);
    return out;
}

/* C in the standard alphabet, or 0 when FLAGS do not allow it. */
static char standard(char c, unsigned flags)
{
    int url = (flags & (FG_BASE64_URL | FG_BASE64_ANY_ALPHABET)) != 0;
    int std = !(flags & FG_BASE64_URL) || (flags & FG_BASE64_ANY_ALPHABET);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9'))
        return c;
    if (std && (c == '+' || c == '/'))
        return c;
    if (url && c == '-')
        return '+';
    if (url && c == '_')
        return '/';
    return 0;
}

long fg_base64_decode(void *out, size_t cap, const char *in, size_t len,
                      unsigned flags)
{
    /* Padding: "=" or "==" completing the last quantum, or (NOPAD)
     * none; a lone character left over encodes no byte. */
    size_t pad = 0;
    while (pad < 2 && pad < len && in[len - 1 - pad] == '=')
        pad++;
    size_t data = len - pad;
    if (pad ? len % 4 != 0 || data % 4 != 4 - pad
            : !(flags & FG_BASE64_NOPAD) && len % 4 != 0)
        return -1;
    if (data % 4 == 1)
        return -1;
    size_t total = data / 4 * 3 + (data % 4 ? data % 4 - 1 : 0);
    if (total > cap || total > LONG_MAX)
        return -1;

    unsigned char *o = out;
    char text[CHUNK_TEXT];
    unsigned char bin[CHUNK_TEXT / 4 * 3];
    size_t done = 0;
    for (size_t i = 0; i < data; i += CHUNK_TEXT) {
        size_t m = data - i < CHUNK_TEXT ? data - i : CHUNK_TEXT;
        for (size_t k = 0; k < m; k++)
            if (!(text[k] = standard(in[i + k], flags)))
                return -1;
        /* The last quantum gets its padding back: EVP wants whole ones. */
        size_t t = m;
        while (t % 4)
            text[t++] = '=';
        int got = EVP_DecodeBlock(bin, (const unsigned char *)text, (int)t);
        if (got < 0)
            return -1;
        size_t keep = t == m ? (size_t)got : m / 4 * 3 + (m % 4 - 1);
        memcpy(o + done, bin, keep);
        done += keep;
    }
    return (long)done;
}
