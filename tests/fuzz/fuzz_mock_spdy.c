/* Fuzz target for the mock's SPDY/3.1 frame reader (plugins/drivers/mock/
 * spdy.c), which reads what exec and port-forward clients send. The first
 * byte picks the size of the pieces the rest is fed in; the frames seen
 * and the outcome must be the same as when the whole input is read at
 * once, so no frame boundary depends on how TCP or WebSocket messages
 * cut the bytes. Every frame must respect the limits: its payload within
 * max_frame, its header block within max_header_block, every header's
 * name and value inside the inflated block. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "mock.h"

#define MAX_SEEN 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct mock_spdy_limits limits = {8192, 4096};

struct seen {
    const struct mock_spdy *s;
    size_t n;
    uint32_t sum[MAX_SEEN];
};

static uint32_t mix(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static int on_frame(void *arg, const struct mock_spdy_frame *f)
{
    struct seen *s = arg;
    CHECK(f->len <= limits.max_frame);
    CHECK(s->s->block_len <= limits.max_header_block);
    uint32_t h = mix(2166136261u, &f->type, sizeof(f->type));
    h = mix(h, &f->stream_id, sizeof(f->stream_id));
    h = mix(h, &f->value, sizeof(f->value));
    h = mix(h, &f->flags, 1);
    h = mix(h, f->data, f->len);
    for (size_t i = 0; i < f->n_headers; i++) {
        const struct mock_spdy_header *x = &f->headers[i];
        const char *lo = s->s->block, *hi = lo + s->s->block_len;
        CHECK(x->name >= lo && x->name + x->name_len <= hi);
        CHECK(x->value >= lo && x->value + x->value_len <= hi);
        CHECK(x->name_len > 0);
        h = mix(h, x->name, x->name_len);
        h = mix(h, x->value, x->value_len);
    }
    if (s->n < MAX_SEEN)
        s->sum[s->n] = h;
    s->n++;
    return f->type == MOCK_SPDY_GOAWAY; /* a session ends at a GOAWAY */
}

static int run(const uint8_t *data, size_t size, size_t step, struct seen *s)
{
    struct mock_spdy p;
    s->s = &p;
    if (mock_spdy_init(&p, &limits, on_frame, s) != 0)
        abort();
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += step) {
        size_t n = size - off < step ? size - off : step;
        rc = mock_spdy_parse(&p, data + off, n);
    }
    if (rc < 0)
        CHECK(p.failed && p.error && p.goaway_status);
    mock_spdy_free(&p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 64 + 1;
    struct seen whole = {0}, cut = {0};
    int a = run(data + 1, size - 1, size, &whole);
    int b = run(data + 1, size - 1, step, &cut);
    CHECK(a == b && whole.n == cut.n);
    for (size_t i = 0; i < whole.n && i < MAX_SEEN; i++)
        CHECK(whole.sum[i] == cut.sum[i]);
    return 0;
}
