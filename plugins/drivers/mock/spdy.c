/* SPDY/3.1 framing for the mock's streaming subresources (exec and
 * port-forward, as kubelet serves them to client-go's spdystream): an
 * incremental reader of client frames, writers of the frames a server
 * sends, and the zlib header-block codec with SPDY/3's dictionary (one
 * inflater and one deflater per connection, as the protocol keeps them).
 *
 * Everything the client controls is bounded before it is buffered: a
 * frame's declared length (max_frame) and the inflated size of a header
 * block (max_header_block: a few compressed bytes may inflate a thousand
 * times). Flow control is not enforced in either direction: spdystream
 * neither sends nor honours WINDOW_UPDATE, so the frame is parsed and
 * ignored; backpressure comes from the transport instead. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "mock.h"

/* SPDY/3 section 2.6.10.1: the zlib dictionary both ends preset. */
static const char dictionary[] =
    "\0\0\0\7"
    "options"
    "\0\0\0\4"
    "head"
    "\0\0\0\4"
    "post"
    "\0\0\0\3"
    "put"
    "\0\0\0\6"
    "delete"
    "\0\0\0\5"
    "trace"
    "\0\0\0\6"
    "accept"
    "\0\0\0\16"
    "accept-charset"
    "\0\0\0\17"
    "accept-encoding"
    "\0\0\0\17"
    "accept-language"
    "\0\0\0\15"
    "accept-ranges"
    "\0\0\0\3"
    "age"
    "\0\0\0\5"
    "allow"
    "\0\0\0\15"
    "authorization"
    "\0\0\0\15"
    "cache-control"
    "\0\0\0\12"
    "connection"
    "\0\0\0\14"
    "content-base"
    "\0\0\0\20"
    "content-encoding"
    "\0\0\0\20"
    "content-language"
    "\0\0\0\16"
    "content-length"
    "\0\0\0\20"
    "content-location"
    "\0\0\0\13"
    "content-md5"
    "\0\0\0\15"
    "content-range"
    "\0\0\0\14"
    "content-type"
    "\0\0\0\4"
    "date"
    "\0\0\0\4"
    "etag"
    "\0\0\0\6"
    "expect"
    "\0\0\0\7"
    "expires"
    "\0\0\0\4"
    "from"
    "\0\0\0\4"
    "host"
    "\0\0\0\10"
    "if-match"
    "\0\0\0\21"
    "if-modified-since"
    "\0\0\0\15"
    "if-none-match"
    "\0\0\0\10"
    "if-range"
    "\0\0\0\23"
    "if-unmodified-since"
    "\0\0\0\15"
    "last-modified"
    "\0\0\0\10"
    "location"
    "\0\0\0\14"
    "max-forwards"
    "\0\0\0\6"
    "pragma"
    "\0\0\0\22"
    "proxy-authenticate"
    "\0\0\0\23"
    "proxy-authorization"
    "\0\0\0\5"
    "range"
    "\0\0\0\7"
    "referer"
    "\0\0\0\13"
    "retry-after"
    "\0\0\0\6"
    "server"
    "\0\0\0\2"
    "te"
    "\0\0\0\7"
    "trailer"
    "\0\0\0\21"
    "transfer-encoding"
    "\0\0\0\7"
    "upgrade"
    "\0\0\0\12"
    "user-agent"
    "\0\0\0\4"
    "vary"
    "\0\0\0\3"
    "via"
    "\0\0\0\7"
    "warning"
    "\0\0\0\20"
    "www-authenticate"
    "\0\0\0\6"
    "method"
    "\0\0\0\3"
    "get"
    "\0\0\0\6"
    "status"
    "\0\0\0\6"
    "200 OK"
    "\0\0\0\7"
    "version"
    "\0\0\0\10"
    "HTTP/1.1"
    "\0\0\0\3"
    "url"
    "\0\0\0\6"
    "public"
    "\0\0\0\12"
    "set-cookie"
    "\0\0\0\12"
    "keep-alive"
    "\0\0\0\6"
    "origin"
    "1001012012022052063003023033043053063074024054064074084094104114"
    "12413414415416417502504505203 Non-Authoritative Information204 N"
    "o Content301 Moved Permanently400 Bad Request401 Unauthorized403"
    " Forbidden404 Not Found500 Internal Server Error501 Not Implemen"
    "ted503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept O"
    "ct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunke"
    "d,text/html,image/png,image/jpg,image/gif,application/xml,applic"
    "ation/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int mock_spdy_init(struct mock_spdy *s, const struct mock_spdy_limits *lim,
                   mock_spdy_frame_cb cb, void *arg)
{
    memset(s, 0, sizeof(*s));
    s->lim = *lim;
    s->on_frame = cb;
    s->arg = arg;
    if (inflateInit(&s->zin) != Z_OK)
        return -1;
    s->zin_ready = 1;
    if (deflateInit(&s->zout, Z_DEFAULT_COMPRESSION) != Z_OK ||
        deflateSetDictionary(&s->zout, (const Bytef *)dictionary,
                             sizeof(dictionary) - 1) != Z_OK)
        return -1;
    s->zout_ready = 1;
    return 0;
}

void mock_spdy_free(struct mock_spdy *s)
{
    if (s->zin_ready)
        inflateEnd(&s->zin);
    if (s->zout_ready)
        deflateEnd(&s->zout);
    s->zin_ready = s->zout_ready = 0;
    mock_buf_free(&s->in);
    free(s->block);
    free(s->hv);
    s->block = NULL;
    s->hv = NULL;
}

static int fail(struct mock_spdy *s, uint32_t status, const char *why)
{
    s->failed = 1;
    s->goaway_status = status;
    s->error = why;
    return -1;
}

/* ---- header blocks ---------------------------------------------------- */

/* Inflates Z into s->block, at most max_header_block bytes. */
static int inflate_block(struct mock_spdy *s, const uint8_t *z, size_t zlen)
{
    size_t max = s->lim.max_header_block;
    if (!s->block) {
        /* one byte more than allowed: a block that fills it is too big */
        s->block = malloc(max + 1);
        if (!s->block)
            return fail(s, MOCK_SPDY_INTERNAL_ERROR, "out of memory");
    }
    s->zin.next_in = (Bytef *)(uintptr_t)z;
    s->zin.avail_in = (uInt)zlen;
    size_t got = 0;
    for (;;) {
        s->zin.next_out = (Bytef *)s->block + got;
        s->zin.avail_out = (uInt)(max + 1 - got);
        int r = inflate(&s->zin, Z_SYNC_FLUSH);
        got = (size_t)((char *)s->zin.next_out - s->block);
        if (r == Z_NEED_DICT) {
            if (inflateSetDictionary(&s->zin, (const Bytef *)dictionary,
                                     sizeof(dictionary) - 1) != Z_OK)
                return fail(s, MOCK_SPDY_PROTOCOL_ERROR,
                            "a header block names another dictionary");
            continue;
        }
        if (got > max)
            return fail(s, MOCK_SPDY_PROTOCOL_ERROR,
                        "a header block inflates past the limit");
        if (r == Z_BUF_ERROR && s->zin.avail_in == 0)
            break; /* everything given was inflated */
        if (r != Z_OK)
            return fail(s, MOCK_SPDY_PROTOCOL_ERROR,
                        "a header block is not valid zlib data");
        if (s->zin.avail_in == 0 && s->zin.avail_out > 0)
            break;
    }
    s->block_len = got;
    return 0;
}

/* Splits the inflated block into s->hv: a 32-bit count, then each name
 * and value with a 32-bit length (SPDY/3 2.6.10). */
static int split_block(struct mock_spdy *s)
{
    const uint8_t *p = (const uint8_t *)s->block, *end = p + s->block_len;
    if (end - p < 4)
        return fail(s, MOCK_SPDY_PROTOCOL_ERROR, "a header block is short");
    uint32_t n = be32(p);
    p += 4;
    /* every pair takes 8 bytes at least: the count is bounded by the
     * block, which is bounded by max_header_block */
    if (n > (uint32_t)((end - p) / 8))
        return fail(s, MOCK_SPDY_PROTOCOL_ERROR,
                    "a header block counts more pairs than it holds");
    free(s->hv);
    s->hv = n ? calloc(n, sizeof(*s->hv)) : NULL;
    if (n && !s->hv)
        return fail(s, MOCK_SPDY_INTERNAL_ERROR, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *f[2];
        uint32_t len[2];
        for (int k = 0; k < 2; k++) {
            if (end - p < 4)
                return fail(s, MOCK_SPDY_PROTOCOL_ERROR,
                            "a header block is cut short");
            len[k] = be32(p);
            p += 4;
            if (len[k] > (uint32_t)(end - p))
                return fail(s, MOCK_SPDY_PROTOCOL_ERROR,
                            "a header block is cut short");
            f[k] = p;
            p += len[k];
        }
        if (len[0] == 0)
            return fail(s, MOCK_SPDY_PROTOCOL_ERROR, "a header has no name");
        s->hv[i] = (struct mock_spdy_header){(const char *)f[0], len[0],
                                             (const char *)f[1], len[1]};
    }
    if (p != end)
        return fail(s, MOCK_SPDY_PROTOCOL_ERROR,
                    "a header block has bytes after its pairs");
    s->n_hv = n;
    return 0;
}

int mock_spdy_headers_in(struct mock_spdy *s, const uint8_t *z, size_t zlen)
{
    s->n_hv = 0;
    if (s->failed)
        return -1;
    return inflate_block(s, z, zlen) == 0 ? split_block(s) : -1;
}

int mock_spdy_headers_out(struct mock_spdy *s, struct mock_buf *out,
                          const struct mock_spdy_header *h, size_t n)
{
    struct mock_buf raw = {0};
    uint8_t len[4];
    put32(len, (uint32_t)n);
    int bad = mock_buf_add(&raw, (const char *)len, 4);
    for (size_t i = 0; i < n; i++) {
        put32(len, (uint32_t)h[i].name_len);
        bad |= mock_buf_add(&raw, (const char *)len, 4);
        bad |= mock_buf_add(&raw, h[i].name, h[i].name_len);
        put32(len, (uint32_t)h[i].value_len);
        bad |= mock_buf_add(&raw, (const char *)len, 4);
        bad |= mock_buf_add(&raw, h[i].value, h[i].value_len);
    }
    if (bad) {
        mock_buf_free(&raw);
        return -1;
    }
    s->zout.next_in = (Bytef *)raw.p;
    s->zout.avail_in = (uInt)raw.len;
    int rc = 0;
    do {
        uint8_t chunk[1024];
        s->zout.next_out = chunk;
        s->zout.avail_out = sizeof(chunk);
        if (deflate(&s->zout, Z_SYNC_FLUSH) == Z_STREAM_ERROR ||
            mock_buf_add(out, (const char *)chunk,
                         sizeof(chunk) - s->zout.avail_out) != 0) {
            rc = -1;
            break;
        }
    } while (s->zout.avail_out == 0);
    mock_buf_free(&raw);
    return rc;
}

const struct mock_spdy_header *mock_spdy_header(const struct mock_spdy *s,
                                                const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < s->n_hv; i++) {
        if (s->hv[i].name_len == n && strncasecmp(s->hv[i].name, name, n) == 0)
            return &s->hv[i];
    }
    return NULL;
}

/* ---- writers ---------------------------------------------------------- */

static int control_head(struct mock_buf *out, int type, uint8_t flags,
                        size_t len)
{
    uint8_t h[8];
    h[0] = 0x80;
    h[1] = 3; /* version */
    h[2] = (uint8_t)(type >> 8);
    h[3] = (uint8_t)type;
    put32(h + 4, (uint32_t)len);
    h[4] = flags;
    return mock_buf_add(out, (const char *)h, 8);
}

int mock_spdy_syn_reply(struct mock_spdy *s, struct mock_buf *out, uint32_t id,
                        int fin, const struct mock_spdy_header *h, size_t n)
{
    struct mock_buf block = {0};
    uint8_t sid[4];
    put32(sid, id & 0x7fffffff);
    int rc = mock_spdy_headers_out(s, &block, h, n);
    if (rc == 0)
        rc = control_head(out, MOCK_SPDY_SYN_REPLY, fin ? MOCK_SPDY_FIN : 0,
                          4 + block.len) |
             mock_buf_add(out, (const char *)sid, 4) |
             mock_buf_add(out, block.p, block.len);
    mock_buf_free(&block);
    return rc ? -1 : 0;
}

int mock_spdy_data(struct mock_buf *out, uint32_t id, int fin, const void *data,
                   size_t len)
{
    uint8_t h[8];
    put32(h, id & 0x7fffffff);
    put32(h + 4, (uint32_t)len);
    h[4] = fin ? MOCK_SPDY_FIN : 0;
    if (mock_buf_add(out, (const char *)h, 8) != 0)
        return -1;
    return len ? mock_buf_add(out, data, len) : 0;
}

/* RST_STREAM, PING and GOAWAY: a control frame of 32-bit words. */
static int words(struct mock_buf *out, int type, const uint32_t *w, size_t n)
{
    uint8_t b[8];
    for (size_t i = 0; i < n; i++)
        put32(b + 4 * i, w[i]);
    return control_head(out, type, 0, 4 * n) |
           mock_buf_add(out, (const char *)b, 4 * n);
}

int mock_spdy_rst(struct mock_buf *out, uint32_t id, uint32_t status)
{
    uint32_t w[2] = {id & 0x7fffffff, status};
    return words(out, MOCK_SPDY_RST_STREAM, w, 2) ? -1 : 0;
}

int mock_spdy_ping(struct mock_buf *out, uint32_t id)
{
    return words(out, MOCK_SPDY_PING, &id, 1) ? -1 : 0;
}

int mock_spdy_goaway(struct mock_buf *out, uint32_t last_good, uint32_t status)
{
    uint32_t w[2] = {last_good & 0x7fffffff, status};
    return words(out, MOCK_SPDY_GOAWAY, w, 2) ? -1 : 0;
}

/* ---- the reader ------------------------------------------------------- */

/* Checks the fixed size of a control frame whose type has one. */
static int control_size_ok(int type, size_t len)
{
    switch (type) {
    case MOCK_SPDY_SYN_STREAM:
        return len >= 10;
    case MOCK_SPDY_SYN_REPLY:
    case MOCK_SPDY_HEADERS:
    case MOCK_SPDY_SETTINGS:
        return len >= 4;
    case MOCK_SPDY_PING:
        return len == 4;
    case MOCK_SPDY_RST_STREAM:
    case MOCK_SPDY_GOAWAY:
    case MOCK_SPDY_WINDOW_UPDATE:
        return len == 8;
    default:
        return 1; /* unknown types are ignored (2.2.1) */
    }
}

/* One whole frame at P (header and LEN payload bytes). Returns 0, 1 (the
 * callback stopped) or -1. */
static int frame(struct mock_spdy *s, const uint8_t *p, size_t len)
{
    struct mock_spdy_frame f;
    memset(&f, 0, sizeof(f));
    f.flags = p[4];
    const uint8_t *d = p + 8;
    if (!(p[0] & 0x80)) {
        f.type = MOCK_SPDY_DATA;
        f.stream_id = be32(p) & 0x7fffffff;
        f.data = d;
        f.len = len;
        return s->on_frame(s->arg, &f) ? 1 : 0;
    }
    if (((p[0] & 0x7f) << 8 | p[1]) != 3)
        return fail(s, MOCK_SPDY_PROTOCOL_ERROR,
                    "a control frame is not SPDY version 3");
    f.type = p[2] << 8 | p[3];
    if (!control_size_ok(f.type, len))
        return fail(s, MOCK_SPDY_PROTOCOL_ERROR,
                    "a control frame has the wrong length for its type");
    switch (f.type) {
    case MOCK_SPDY_SYN_STREAM:
        f.stream_id = be32(d) & 0x7fffffff;
        f.value = be32(d + 4) & 0x7fffffff; /* associated-to stream */
        if (mock_spdy_headers_in(s, d + 10, len - 10) < 0)
            return -1;
        break;
    case MOCK_SPDY_SYN_REPLY:
    case MOCK_SPDY_HEADERS:
        f.stream_id = be32(d) & 0x7fffffff;
        if (mock_spdy_headers_in(s, d + 4, len - 4) < 0)
            return -1;
        break;
    case MOCK_SPDY_SETTINGS:
        if (len != 4 + 8 * (size_t)be32(d))
            return fail(s, MOCK_SPDY_PROTOCOL_ERROR,
                        "a SETTINGS frame's count does not match its length");
        break;
    case MOCK_SPDY_PING:
        f.value = be32(d);
        break;
    case MOCK_SPDY_RST_STREAM:
    case MOCK_SPDY_WINDOW_UPDATE:
        f.stream_id = be32(d) & 0x7fffffff;
        f.value = be32(d + 4) &
                  (f.type == MOCK_SPDY_RST_STREAM ? 0xffffffff : 0x7fffffff);
        break;
    case MOCK_SPDY_GOAWAY:
        f.stream_id = be32(d) & 0x7fffffff; /* last good stream */
        f.value = be32(d + 4);
        break;
    default:
        return 0;
    }
    f.headers = s->hv;
    f.n_headers = s->n_hv;
    return s->on_frame(s->arg, &f) ? 1 : 0;
}

int mock_spdy_parse(struct mock_spdy *s, const uint8_t *data, size_t len)
{
    if (s->failed)
        return -1;
    if (len && mock_buf_add(&s->in, (const char *)data, len) != 0)
        return fail(s, MOCK_SPDY_INTERNAL_ERROR, "out of memory");
    size_t at = 0;
    int rc = 0;
    while (!s->held && s->in.len - at >= 8) {
        const uint8_t *p = (const uint8_t *)s->in.p + at;
        size_t flen = be32(p + 4) & 0xffffff;
        /* refused on its header: nothing past the limit is buffered for
         * long (what arrived in this call is dropped with the session) */
        if (flen > s->lim.max_frame) {
            rc = fail(s, MOCK_SPDY_FRAME_TOO_LARGE,
                      "a frame is larger than the limit");
            break;
        }
        if (s->in.len - at < 8 + flen)
            break;
        at += 8 + flen;
        rc = frame(s, p, flen);
        if (rc != 0)
            break;
    }
    if (at) {
        memmove(s->in.p, s->in.p + at, s->in.len - at);
        s->in.len -= at;
    }
    return rc;
}
