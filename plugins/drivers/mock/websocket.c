/* The server's side of WebSocket (RFC 6455) for the mock's exec sessions:
 * the handshake's accept key, an incremental parser of client frames and
 * the writer of server frames. No extension is ever negotiated, so every
 * RSV bit must be clear; clients must mask (5.1), the server never does.
 * Text messages are not checked for UTF-8: the Kubernetes channel
 * protocols put a binary channel byte first even in text frames. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mock.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* RFC 6455 4.1: the key is a base64-encoded 16-byte nonce: 24 characters,
 * "==" at the end. */
static int valid_key(const char *key, size_t len)
{
    unsigned char nonce[16];
    return len == 24 &&
           fg_base64_decode(nonce, sizeof(nonce), key, len, 0) == 16;
}

int mock_ws_accept(const char *key, size_t len, char out[29])
{
    if (!valid_key(key, len))
        return -1;
    char buf[24 + sizeof(WS_GUID)];
    memcpy(buf, key, len);
    memcpy(buf + len, WS_GUID, sizeof(WS_GUID) - 1);
    unsigned char digest[20];
    unsigned int digest_len = 0;
    if (EVP_Digest(buf, len + sizeof(WS_GUID) - 1, digest, &digest_len,
                   EVP_sha1(), NULL) != 1 ||
        digest_len != sizeof(digest))
        return -1;
    fg_base64_encode(out, digest, sizeof(digest), 0);
    return 0;
}

int mock_ws_frame(struct mock_buf *out, int opcode, const void *payload,
                  size_t len)
{
    uint8_t h[10];
    size_t n = 0;
    h[n++] = (uint8_t)(0x80 | (opcode & 0x0f)); /* FIN: never fragmented */
    if (len < 126) {
        h[n++] = (uint8_t)len;
    } else if (len <= 0xffff) {
        h[n++] = 126;
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        h[n++] = 127;
        for (int i = 7; i >= 0; i--)
            h[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (mock_buf_add(out, (const char *)h, n) != 0)
        return -1;
    return len ? mock_buf_add(out, payload, len) : 0;
}

int mock_ws_close_frame(struct mock_buf *out, unsigned code, const char *reason)
{
    char p[125];
    size_t rlen = reason ? strlen(reason) : 0;
    if (rlen > sizeof(p) - 2)
        rlen = sizeof(p) - 2;
    p[0] = (char)(code >> 8);
    p[1] = (char)code;
    if (rlen)
        memcpy(p + 2, reason, rlen);
    return mock_ws_frame(out, MOCK_WS_OP_CLOSE, p, 2 + rlen);
}

/* ---- the parser ------------------------------------------------------- */

void mock_ws_parser_init(struct mock_ws_parser *p, size_t max_message,
                         mock_ws_message_cb cb, void *arg)
{
    memset(p, 0, sizeof(*p));
    p->max_message = max_message;
    p->on_message = cb;
    p->arg = arg;
}

void mock_ws_parser_free(struct mock_ws_parser *p)
{
    mock_buf_free(&p->msg);
    p->msg.len = 0;
}

static int fail(struct mock_ws_parser *p, unsigned code, const char *why)
{
    p->failed = 1;
    p->close_code = code;
    p->error = why;
    return -1;
}

/* Checks the two fixed header bytes; returns the header's full size or -1.
 */
static int header_size(struct mock_ws_parser *p)
{
    uint8_t b0 = p->hdr[0], b1 = p->hdr[1];
    int op = b0 & 0x0f;
    if (b0 & 0x70)
        return fail(p, 1002, "a reserved bit is set");
    if (!(b1 & 0x80))
        return fail(p, 1002, "a client frame is not masked");
    int len7 = b1 & 0x7f;
    if (op >= 8) {
        if (op > MOCK_WS_OP_PONG)
            return fail(p, 1002, "unknown control opcode");
        if (!(b0 & 0x80))
            return fail(p, 1002, "a control frame is fragmented");
        if (len7 > 125)
            return fail(p, 1002, "a control frame is longer than 125 bytes");
    } else if (op > MOCK_WS_OP_BINARY) {
        return fail(p, 1002, "unknown data opcode");
    } else if (op == MOCK_WS_OP_CONT && !p->msg_opcode) {
        return fail(p, 1002, "a continuation frame starts no message");
    } else if (op != MOCK_WS_OP_CONT && p->msg_opcode) {
        return fail(p, 1002, "a new message began inside a fragmented one");
    }
    return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
}

/* The header is complete: reads length and mask, checks the limit. */
static int header_done(struct mock_ws_parser *p)
{
    int len7 = p->hdr[1] & 0x7f;
    uint64_t len = (uint64_t)len7;
    size_t at = 2;
    if (len7 == 126) {
        len = (uint64_t)p->hdr[2] << 8 | p->hdr[3];
        at = 4;
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p->hdr[2 + i];
        at = 10;
        if (len >> 63)
            return fail(p, 1002, "the frame length has its top bit set");
    }
    memcpy(p->mask, p->hdr + at, 4);
    p->fin = (p->hdr[0] & 0x80) != 0;
    p->opcode = p->hdr[0] & 0x0f;
    p->payload_len = len;
    p->payload_got = 0;
    if (p->opcode < 8) {
        /* Refused before any of it is read: nothing is buffered past the
         * limit, whatever the frame claims. */
        if (len > p->max_message || p->msg.len + len > p->max_message)
            return fail(p, 1009, "the message is larger than the limit");
        if (p->opcode != MOCK_WS_OP_CONT)
            p->msg_opcode = p->opcode;
    }
    return 0;
}

static int check_close_payload(struct mock_ws_parser *p, const uint8_t *d,
                               size_t len)
{
    if (len == 0)
        return 0;
    if (len == 1)
        return fail(p, 1002, "a close frame has a one-byte payload");
    unsigned code = (unsigned)d[0] << 8 | d[1];
    /* 7.4.1: 1004-1006 and 1015 are never sent; below 1000 and 1012-2999
     * are unassigned (1012-1014 were registered later and are allowed). */
    if (code < 1000 || code == 1004 || code == 1005 || code == 1006 ||
        code == 1015 || (code > 1014 && code < 3000) || code > 4999)
        return fail(p, 1002, "a close frame has an invalid status code");
    return 0;
}

/* The frame's payload is complete. Returns 0, 1 (the callback stopped) or
 * -1. */
static int frame_done(struct mock_ws_parser *p)
{
    p->hdr_len = 0;
    if (p->opcode >= 8) {
        size_t n = (size_t)p->payload_len;
        if (p->opcode == MOCK_WS_OP_CLOSE &&
            check_close_payload(p, p->ctl, n) < 0)
            return -1;
        return p->on_message(p->arg, p->opcode, p->ctl, n) ? 1 : 0;
    }
    if (!p->fin)
        return 0;
    int op = p->msg_opcode;
    p->msg_opcode = 0;
    size_t n = p->msg.len;
    p->msg.len = 0; /* reset before the callback: it may stop parsing */
    return p->on_message(p->arg, op, (const uint8_t *)p->msg.p, n) ? 1 : 0;
}

int mock_ws_parse(struct mock_ws_parser *p, const uint8_t *data, size_t len,
                  size_t *used)
{
    size_t i = 0;
    int rc = 0;
    if (p->failed) {
        rc = -1;
        goto out;
    }
    while (i < len) {
        if (p->hdr_len < 2 || p->hdr_len < p->hdr_need) {
            p->hdr[p->hdr_len++] = data[i++];
            if (p->hdr_len == 2) {
                int n = header_size(p);
                if (n < 0) {
                    rc = -1;
                    goto out;
                }
                p->hdr_need = (size_t)n;
            }
            if (p->hdr_len < 2 || p->hdr_len < p->hdr_need)
                continue;
            if (header_done(p) < 0) {
                rc = -1;
                goto out;
            }
            if (p->payload_len > 0)
                continue;
        } else {
            size_t n = len - i;
            if ((uint64_t)n > p->payload_len - p->payload_got)
                n = (size_t)(p->payload_len - p->payload_got);
            uint8_t *dst;
            if (p->opcode >= 8) {
                dst = p->ctl + p->payload_got;
            } else {
                if (mock_buf_add(&p->msg, (const char *)data + i, n) != 0) {
                    rc = fail(p, 1011, "out of memory");
                    goto out;
                }
                dst = (uint8_t *)p->msg.p + p->msg.len - n;
            }
            for (size_t k = 0; k < n; k++)
                dst[k] = data[i + k] ^ p->mask[(p->payload_got + k) & 3];
            p->payload_got += n;
            i += n;
            if (p->payload_got < p->payload_len)
                continue;
        }
        rc = frame_done(p);
        if (rc != 0)
            goto out;
    }
out:
    if (used)
        *used = i;
    return rc;
}
