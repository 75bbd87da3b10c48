/* Fuzz target for the mock's SPDY/3.1 header block inflater (plugins/
 * drivers/mock/spdy.c): client bytes inflated with the SPDY/3 dictionary
 * stay within max_header_block whatever they claim (a zlib bomb is
 * refused, not buffered) and every pair lies inside the block. Then the
 * same bytes read as pairs (the first byte splits them) are compressed by
 * one connection's deflater and read back by another's inflater: the
 * pairs must come back unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "mock.h"

#define MAX_PAIRS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct mock_spdy_limits limits = {65536, 4096};

static int no_frame(void *arg, const struct mock_spdy_frame *f)
{
    (void)arg;
    (void)f;
    abort(); /* only blocks are given here */
}

static void inflate_as_sent(const uint8_t *data, size_t size)
{
    struct mock_spdy s;
    if (mock_spdy_init(&s, &limits, no_frame, NULL) != 0)
        abort();
    /* two blocks on one stream, as two frames would carry them */
    size_t half = size / 2;
    for (int k = 0; k < 2; k++) {
        const uint8_t *p = k ? data + half : data;
        size_t n = k ? size - half : half;
        if (mock_spdy_headers_in(&s, p, n) != 0) {
            CHECK(s.failed && s.error);
            break;
        }
        CHECK(s.block_len <= limits.max_header_block);
        for (size_t i = 0; i < s.n_hv; i++) {
            const char *lo = s.block, *hi = lo + s.block_len;
            CHECK(s.hv[i].name >= lo && s.hv[i].name + s.hv[i].name_len <= hi);
            CHECK(s.hv[i].value >= lo &&
                  s.hv[i].value + s.hv[i].value_len <= hi);
        }
    }
    mock_spdy_free(&s);
}

static void round_trip(const uint8_t *data, size_t size)
{
    struct mock_spdy_header h[MAX_PAIRS];
    size_t n = 0;
    /* pieces of at most 31 bytes: name, value, name, ... (names not
     * empty) */
    for (size_t at = 0; at + 1 < size && n < MAX_PAIRS;) {
        size_t nl = data[at] % 31 + 1, vl = data[at + 1] % 32;
        at += 2;
        if (at + nl + vl > size)
            break;
        h[n++] = (struct mock_spdy_header){(const char *)data + at, nl,
                                           (const char *)data + at + nl, vl};
        at += nl + vl;
    }
    struct mock_spdy out, in;
    if (mock_spdy_init(&out, &limits, no_frame, NULL) != 0 ||
        mock_spdy_init(&in, &limits, no_frame, NULL) != 0)
        abort();
    for (int k = 0; k < 2; k++) { /* the second block uses the history */
        struct mock_buf z = {0};
        CHECK(mock_spdy_headers_out(&out, &z, h, n) == 0);
        CHECK(mock_spdy_headers_in(&in, (const uint8_t *)z.p, z.len) == 0);
        CHECK(in.n_hv == n);
        for (size_t i = 0; i < n; i++) {
            CHECK(in.hv[i].name_len == h[i].name_len &&
                  memcmp(in.hv[i].name, h[i].name, h[i].name_len) == 0);
            CHECK(in.hv[i].value_len == h[i].value_len &&
                  (!h[i].value_len ||
                   memcmp(in.hv[i].value, h[i].value, h[i].value_len) == 0));
        }
        mock_buf_free(&z);
    }
    mock_spdy_free(&out);
    mock_spdy_free(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    inflate_as_sent(data, size);
    round_trip(data, size);
    return 0;
}
