/* Unit tests of the mock's SPDY/3.1 framing (plugins/drivers/mock/spdy.c):
 * header blocks round-trip through two connections' zlib streams with
 * SPDY/3's dictionary (its id in the zlib header is the spec's), frames
 * read at every cut of the byte stream, the writers' frames read back,
 * and every limit and malformed frame refused with its GOAWAY status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "mock.h"

/* adler32 of SPDY/3's dictionary (2.6.10.1): the DICTID its zlib streams
 * carry */
#define SPDY3_DICT_ID 0xe3c6a7c2u

static const struct mock_spdy_limits limits = {4096, 1024};

struct seen {
    struct mock_spdy_frame f[16];
    char names[16][64], values[16][64];
    size_t n, n_headers[16];
    uint8_t data[16][64];
};

static int record(void *arg, const struct mock_spdy_frame *f)
{
    struct seen *s = arg;
    if (s->n == 16)
        return 1;
    s->f[s->n] = *f;
    s->n_headers[s->n] = f->n_headers;
    if (f->n_headers) {
        snprintf(s->names[s->n], 64, "%.*s", (int)f->headers[0].name_len,
                 f->headers[0].name);
        snprintf(s->values[s->n], 64, "%.*s", (int)f->headers[0].value_len,
                 f->headers[0].value);
    }
    if (f->len && f->len <= 64)
        memcpy(s->data[s->n], f->data, f->len);
    s->n++;
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* A client's SYN_STREAM of stream ID carrying the headers H. */
static void syn_stream(struct mock_spdy *client, struct mock_buf *out,
                       uint32_t id, const struct mock_spdy_header *h, size_t n)
{
    struct mock_buf block = {0};
    assert_int_equal(mock_spdy_headers_out(client, &block, h, n), 0);
    uint8_t head[18] = {0x80, 3, 0, MOCK_SPDY_SYN_STREAM};
    size_t len = 10 + block.len;
    head[5] = (uint8_t)(len >> 16);
    head[6] = (uint8_t)(len >> 8);
    head[7] = (uint8_t)len;
    head[8] = (uint8_t)(id >> 24);
    head[9] = (uint8_t)(id >> 16);
    head[10] = (uint8_t)(id >> 8);
    head[11] = (uint8_t)id;
    assert_int_equal(mock_buf_add(out, (const char *)head, 18), 0);
    assert_int_equal(mock_buf_add(out, block.p, block.len), 0);
    mock_buf_free(&block);
}

static void test_dictionary_id(void **state)
{
    (void)state;
    struct mock_spdy s;
    struct seen seen = {0};
    assert_int_equal(mock_spdy_init(&s, &limits, record, &seen), 0);
    struct mock_buf block = {0};
    assert_int_equal(mock_spdy_headers_out(&s, &block, NULL, 0), 0);
    /* RFC 1950: CMF, FLG with FDICT, then the dictionary's adler32 */
    assert_true(block.len > 6);
    assert_true((uint8_t)block.p[1] & 0x20);
    assert_int_equal(be32((const uint8_t *)block.p + 2), SPDY3_DICT_ID);
    mock_buf_free(&block);
    mock_spdy_free(&s);
}

static void test_frames_at_every_cut(void **state)
{
    (void)state;
    for (size_t cut = 1; cut < 64; cut++) {
        struct mock_spdy client, server;
        struct seen seen = {0};
        assert_int_equal(mock_spdy_init(&client, &limits, record, NULL), 0);
        assert_int_equal(mock_spdy_init(&server, &limits, record, &seen), 0);
        struct mock_buf wire = {0};
        struct mock_spdy_header h[3] = {{"streamtype", 10, "data", 4},
                                        {"port", 4, "8080", 4},
                                        {"requestid", 9, "0", 1}};
        syn_stream(&client, &wire, 1, h, 3);
        syn_stream(&client, &wire, 3, h + 1, 2); /* the zlib stream goes on */
        assert_int_equal(mock_spdy_data(&wire, 1, 1, "hello", 5), 0);
        assert_int_equal(mock_spdy_ping(&wire, 7), 0);
        assert_int_equal(mock_spdy_rst(&wire, 3, MOCK_SPDY_INVALID_STREAM), 0);
        for (size_t at = 0; at < wire.len; at += cut) {
            size_t n = wire.len - at < cut ? wire.len - at : cut;
            assert_int_equal(
                mock_spdy_parse(&server, (const uint8_t *)wire.p + at, n), 0);
        }
        assert_int_equal(seen.n, 5);
        assert_int_equal(seen.f[0].type, MOCK_SPDY_SYN_STREAM);
        assert_int_equal(seen.f[0].stream_id, 1);
        assert_int_equal(seen.n_headers[0], 3);
        assert_string_equal(seen.names[0], "streamtype");
        assert_string_equal(seen.values[0], "data");
        assert_int_equal(seen.f[1].stream_id, 3);
        assert_string_equal(seen.names[1], "port");
        assert_string_equal(seen.values[1], "8080");
        assert_int_equal(seen.f[2].type, MOCK_SPDY_DATA);
        assert_int_equal(seen.f[2].flags & MOCK_SPDY_FIN, MOCK_SPDY_FIN);
        assert_int_equal(seen.f[2].len, 5);
        assert_memory_equal(seen.data[2], "hello", 5);
        assert_int_equal(seen.f[3].type, MOCK_SPDY_PING);
        assert_int_equal(seen.f[3].value, 7);
        assert_int_equal(seen.f[4].type, MOCK_SPDY_RST_STREAM);
        assert_int_equal(seen.f[4].value, MOCK_SPDY_INVALID_STREAM);
        mock_buf_free(&wire);
        mock_spdy_free(&client);
        mock_spdy_free(&server);
    }
}

/* The server's SYN_REPLY and GOAWAY read back by a reader, as a client
 * would: the header block inflates with the other side's stream. */
static void test_writers_read_back(void **state)
{
    (void)state;
    struct mock_spdy server, client;
    struct seen seen = {0};
    assert_int_equal(mock_spdy_init(&server, &limits, record, NULL), 0);
    assert_int_equal(mock_spdy_init(&client, &limits, record, &seen), 0);
    struct mock_buf wire = {0};
    struct mock_spdy_header h = {"x-stream-protocol-version", 25,
                                 "portforward.k8s.io", 18};
    assert_int_equal(mock_spdy_syn_reply(&server, &wire, 5, 0, &h, 1), 0);
    assert_int_equal(mock_spdy_syn_reply(&server, &wire, 7, 1, NULL, 0), 0);
    assert_int_equal(mock_spdy_goaway(&wire, 7, MOCK_SPDY_PROTOCOL_ERROR), 0);
    assert_int_equal(
        mock_spdy_parse(&client, (const uint8_t *)wire.p, wire.len), 0);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.f[0].type, MOCK_SPDY_SYN_REPLY);
    assert_int_equal(seen.f[0].stream_id, 5);
    assert_string_equal(seen.values[0], "portforward.k8s.io");
    assert_int_equal(seen.f[1].flags, MOCK_SPDY_FIN);
    assert_int_equal(seen.n_headers[1], 0);
    assert_int_equal(seen.f[2].type, MOCK_SPDY_GOAWAY);
    assert_int_equal(seen.f[2].stream_id, 7);
    assert_int_equal(seen.f[2].value, MOCK_SPDY_PROTOCOL_ERROR);
    mock_buf_free(&wire);
    mock_spdy_free(&server);
    mock_spdy_free(&client);
}

/* Feeds WIRE to a fresh reader; returns the GOAWAY status it fails with. */
static uint32_t refused(const uint8_t *wire, size_t len)
{
    struct mock_spdy s;
    struct seen seen = {0};
    assert_int_equal(mock_spdy_init(&s, &limits, record, &seen), 0);
    assert_int_equal(mock_spdy_parse(&s, wire, len), -1);
    assert_int_equal(seen.n, 0);
    /* every later call fails too */
    assert_int_equal(mock_spdy_parse(&s, wire, 0), -1);
    uint32_t st = s.goaway_status;
    assert_non_null(s.error);
    mock_spdy_free(&s);
    return st;
}

/* A header block deflated from RAW (without the dictionary: a reader
 * takes both). */
static size_t deflate_raw(const uint8_t *raw, size_t len, uint8_t *out,
                          size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit(&z, 9), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)raw;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_SYNC_FLUSH), Z_OK);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

static void test_limits_and_malformed(void **state)
{
    (void)state;
    uint8_t wire[8192];
    /* a frame past max_frame, refused on its header alone */
    uint8_t big[8] = {0, 0, 0, 1, 0, 0, 0x10, 0x01}; /* 4097 bytes */
    assert_int_equal(refused(big, 8), MOCK_SPDY_FRAME_TOO_LARGE);
    /* another version */
    uint8_t v2[12] = {0x80, 2, 0, MOCK_SPDY_PING, 0, 0, 0, 4, 0, 0, 0, 1};
    assert_int_equal(refused(v2, 12), MOCK_SPDY_PROTOCOL_ERROR);
    /* fixed-size frames of the wrong size */
    uint8_t ping5[13] = {0x80, 3, 0, MOCK_SPDY_PING, 0, 0, 0, 5};
    assert_int_equal(refused(ping5, 13), MOCK_SPDY_PROTOCOL_ERROR);
    uint8_t settings[12] = {0x80, 3, 0, MOCK_SPDY_SETTINGS, 0, 0, 0, 4, 0,
                            0,    0, 1};
    assert_int_equal(refused(settings, 12), MOCK_SPDY_PROTOCOL_ERROR);
    /* header blocks: not zlib; a bomb (2 KiB of one header inflated from
     * a few bytes, past the 1 KiB limit); a count larger than the pairs;
     * a pair cut short */
    static const uint8_t junk[] = "not zlib at all";
    uint8_t raw[2048 + 16] = {0, 0, 0, 1, 0, 0, 0, 1, 'a', 0, 0, 0x08, 0};
    memset(raw + 13, 'z', 2048);
    struct {
        const uint8_t *raw;
        size_t len;
        int zlib;
    } cases[] = {
        {junk, sizeof(junk) - 1, 0},
        {raw, 13 + 2048, 1},
        {(const uint8_t *)"\0\0\0\2\0\0\0\1a\0\0\0\0", 13, 1},
        {(const uint8_t *)"\0\0\0\1\0\0\0\7ab", 10, 1},
        {(const uint8_t *)"\0\0\0\1\0\0\0\0\0\0\0\0", 12, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *p = wire;
        memcpy(p,
               (uint8_t[]){0x80, 3, 0, MOCK_SPDY_SYN_REPLY, 0, 0, 0, 0, 0, 0, 0,
                           1},
               12);
        size_t n = cases[i].zlib ? deflate_raw(cases[i].raw, cases[i].len,
                                               p + 12, sizeof(wire) - 12)
                                 : cases[i].len;
        if (!cases[i].zlib)
            memcpy(p + 12, cases[i].raw, n);
        p[6] = (uint8_t)((n + 4) >> 8);
        p[7] = (uint8_t)(n + 4);
        assert_int_equal(refused(wire, 12 + n), MOCK_SPDY_PROTOCOL_ERROR);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dictionary_id),
        cmocka_unit_test(test_frames_at_every_cut),
        cmocka_unit_test(test_writers_read_back),
        cmocka_unit_test(test_limits_and_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
