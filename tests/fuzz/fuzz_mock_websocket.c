/* Fuzz target for the mock's WebSocket frame parser (plugins/drivers/mock/
 * websocket.c), which reads what exec clients send. The first byte picks
 * the size of the pieces the rest is fed in; the messages seen must be
 * the same, and the outcome (error code or not) too, as when the whole
 * input is parsed at once, so no frame boundary depends on how TCP cut
 * the bytes. Every message must respect the protocol's and the limit's
 * bounds. The accept-key derivation gets the same bytes as a key. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

/* Not assert(): NDEBUG must not hide a violation from the fuzzer. */
#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            abort();                                                           \
    } while (0)

#define MAX_MESSAGE 4096
#define MAX_SEEN 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    size_t n;
    int op[MAX_SEEN];
    size_t len[MAX_SEEN];
    uint32_t sum[MAX_SEEN];
};

static int on_message(void *arg, int op, const uint8_t *d, size_t len)
{
    struct seen *s = arg;
    if (op >= 8)
        CHECK(op <= MOCK_WS_OP_PONG && len <= 125);
    else
        CHECK((op == MOCK_WS_OP_TEXT || op == MOCK_WS_OP_BINARY) &&
              len <= MAX_MESSAGE);
    uint32_t sum = 2166136261u;
    for (size_t i = 0; i < len; i++)
        sum = (sum ^ d[i]) * 16777619u;
    if (s->n < MAX_SEEN) {
        s->op[s->n] = op;
        s->len[s->n] = len;
        s->sum[s->n] = sum;
    }
    s->n++;
    return op == MOCK_WS_OP_CLOSE; /* the exec session stops at a close */
}

static int run(const uint8_t *data, size_t size, size_t step, struct seen *s)
{
    struct mock_ws_parser p;
    mock_ws_parser_init(&p, MAX_MESSAGE, on_message, s);
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0;) {
        size_t n = size - off < step ? size - off : step;
        size_t used = 0;
        rc = mock_ws_parse(&p, data + off, n, &used);
        CHECK(used <= n);
        if (rc == 0)
            CHECK(used == n);
        off += used;
    }
    if (rc < 0)
        CHECK(p.close_code == 1002 || p.close_code == 1009 ||
              p.close_code == 1011);
    mock_ws_parser_free(&p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)(data[0] % 17) + 1;
    data++;
    size--;
    struct seen whole = {0}, pieces = {0};
    int a = run(data, size, size ? size : 1, &whole);
    int b = run(data, size, step, &pieces);
    CHECK(a == b);
    CHECK(whole.n == pieces.n);
    for (size_t i = 0; i < whole.n && i < MAX_SEEN; i++)
        CHECK(whole.op[i] == pieces.op[i] && whole.len[i] == pieces.len[i] &&
              whole.sum[i] == pieces.sum[i]);

    char accept[29];
    if (mock_ws_accept((const char *)data, size, accept) == 0)
        CHECK(strlen(accept) == 28);
    return 0;
}
