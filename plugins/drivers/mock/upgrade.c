/* The part of the mock's streaming subresources (exec, port-forward) that
 * comes before the switch: the upgrade headers the client sent, answers
 * that refuse the request with a Status, and the two handshakes: WebSocket
 * (RFC 6455, a subprotocol from Sec-WebSocket-Protocol) and SPDY/3.1 (a
 * protocol from X-Stream-Protocol-Version, as client-go's spdy round
 * tripper negotiates it). Either way the server picks the first protocol
 * in the client's order that it speaks, as kubelet does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mock.h"

static int header_is(const struct fg_header *h, const char *lit)
{
    size_t n = strlen(lit);
    return h->name_len == n && strncasecmp(h->name, lit, n) == 0;
}

/* Several fields of one name are one comma-separated list (RFC 9110 5.3).
 */
static int collect(struct mock_buf *b, int *seen, const struct fg_header *h)
{
    int bad = 0;
    if (*seen)
        bad |= mock_buf_add(b, ",", 1);
    bad |= mock_buf_add(b, h->value, h->value_len); /* NUL-terminated */
    *seen = 1;
    return bad;
}

int mock_upgrade_init(struct mock_upgrade *u,
                      const struct fg_request_head *head,
                      const struct fg_stream_callbacks *cb, void *ctx)
{
    memset(u, 0, sizeof(*u));
    u->cb = cb;
    u->ctx = ctx;
    if (head->upgrade && strcasecmp(head->upgrade, "websocket") == 0)
        u->kind = MOCK_UP_WEBSOCKET;
    else if (head->upgrade && strcasecmp(head->upgrade, "SPDY/3.1") == 0)
        u->kind = MOCK_UP_SPDY;
    int bad = 0;
    for (size_t i = 0; i < head->n_headers; i++) {
        const struct fg_header *h = &head->headers[i];
        if (header_is(h, "sec-websocket-key"))
            bad |= collect(&u->key, &u->has_key, h);
        else if (header_is(h, "sec-websocket-version"))
            bad |= collect(&u->version, &u->has_version, h);
        else if (header_is(h, "sec-websocket-protocol"))
            bad |= collect(&u->protocols, &u->has_protocols, h);
        else if (header_is(h, "x-stream-protocol-version"))
            bad |= collect(&u->streams, &u->has_streams, h);
    }
    return bad ? -1 : 0;
}

void mock_upgrade_free(struct mock_upgrade *u)
{
    mock_buf_free(&u->key);
    mock_buf_free(&u->version);
    mock_buf_free(&u->protocols);
    mock_buf_free(&u->streams);
}

void mock_upgrade_answer(struct mock_upgrade *u, int code, char *json)
{
    u->answered = 1;
    if (!json) {
        u->cb->error(u->ctx, 500, "InternalError", "out of memory");
        return;
    }
    char len[24];
    size_t n = strlen(json);
    snprintf(len, sizeof(len), "%zu", n);
    struct fg_header h[2] = {
        {"content-type", 12, "application/json", 16},
        {"content-length", 14, len, strlen(len)},
    };
    if (u->cb->head(u->ctx, code, h, 2) == 0 &&
        u->cb->data(u->ctx, json, n) >= 0)
        u->cb->end(u->ctx);
    free(json);
}

void mock_upgrade_status(struct mock_upgrade *u, int code, const char *reason,
                         const char *message)
{
    mock_upgrade_answer(u, code,
                        mock_status_json(code, reason, message, NULL, NULL));
}

int mock_upgrade_pick(const char *list, const char *const *known)
{
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        for (int i = 0; known[i]; i++) {
            size_t n = strlen(known[i]);
            if ((size_t)(e - s) == n && memcmp(s, known[i], n) == 0)
                return i;
        }
    }
    return -1;
}

/* "a, b, c" of KNOWN into BUF for a refusal's message. */
static void list_known(char *buf, size_t len, const char *const *known)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; known[i] && o < len; i++)
        o +=
            (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", known[i]);
}

/* Answers the 101 with H; 0, or -1 when the client is gone. */
static int switch_now(struct mock_upgrade *u, const struct fg_header *h,
                      size_t n)
{
    u->answered = 1;
    return u->cb->head(u->ctx, 101, h, n) == 0 ? 0 : -1;
}

int mock_upgrade_websocket(struct mock_upgrade *u, const char *const *known,
                           int fallback)
{
    char msg[768], names[256];
    if (!u->has_version || strcmp(u->version.p, "13") != 0) {
        mock_upgrade_status(u, 400, "BadRequest",
                            "the WebSocket handshake needs "
                            "Sec-WebSocket-Version: 13");
        return -1;
    }
    char accept[29];
    if (!u->has_key || mock_ws_accept(u->key.p, u->key.len, accept) != 0) {
        mock_upgrade_status(u, 400, "BadRequest",
                            "the WebSocket handshake needs a "
                            "Sec-WebSocket-Key that is a base64 16-byte "
                            "nonce");
        return -1;
    }
    struct fg_header h[2] = {{"sec-websocket-accept", 20, accept, 28}};
    size_t nh = 1;
    int pick = fallback;
    if (u->has_protocols && u->protocols.len) {
        pick = mock_upgrade_pick(u->protocols.p, known);
        if (pick < 0) {
            list_known(names, sizeof(names), known);
            snprintf(msg, sizeof(msg),
                     "none of the requested WebSocket subprotocols [%.300s] "
                     "is supported; supported: %s",
                     u->protocols.p, names);
            mock_upgrade_status(u, 400, "BadRequest", msg);
            return -1;
        }
        h[nh++] = (struct fg_header){"sec-websocket-protocol", 22, known[pick],
                                     strlen(known[pick])};
    }
    if (pick < 0) {
        list_known(names, sizeof(names), known);
        snprintf(msg, sizeof(msg),
                 "the WebSocket handshake needs a subprotocol: one of %s",
                 names);
        mock_upgrade_status(u, 400, "BadRequest", msg);
        return -1;
    }
    return switch_now(u, h, nh) == 0 ? pick : -1;
}

int mock_upgrade_spdy(struct mock_upgrade *u, const char *const *known)
{
    char msg[768], names[256];
    int pick = u->has_streams ? mock_upgrade_pick(u->streams.p, known) : -1;
    if (pick < 0) {
        /* client-go's words for it (httpstream.Handshake) */
        list_known(names, sizeof(names), known);
        snprintf(msg, sizeof(msg),
                 "unable to upgrade: unable to negotiate protocol: client "
                 "supports [%.300s], server supports [%s]",
                 u->has_streams ? u->streams.p : "", names);
        mock_upgrade_status(u, 403, "Forbidden", msg);
        return -1;
    }
    struct fg_header h = {"x-stream-protocol-version", 25, known[pick],
                          strlen(known[pick])};
    return switch_now(u, &h, 1) == 0 ? pick : -1;
}
