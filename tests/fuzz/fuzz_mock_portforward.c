/* Fuzz target for the mock's port-forward sessions (plugins/drivers/mock/
 * portforward.c): what a client sends after the 101, in each framing. The
 * first byte picks the framing (WebSocket channels for ports 6379, 8080
 * and 9999; SPDY inside WebSocket messages; plain SPDY) and the size of
 * the pieces the rest is written in. The session must never call back
 * after it ended or failed, and must stay within its limits. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "mock.h"
#include "request/arena.h"
#include "request/request_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char seed[] =
    "{\"objects\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
    "{\"name\":\"web\",\"namespace\":\"shop\",\"uid\":\"u1\"},\"spec\":"
    "{\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"ports\":["
    "{\"name\":\"http\",\"containerPort\":8080},"
    "{\"containerPort\":6379}]}]}}]}";

struct client {
    int status, done, after_done;
    size_t bytes;
};

static int on_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    struct client *c = ctx;
    (void)h;
    (void)n;
    c->after_done += c->done;
    c->status = status;
    return 0;
}

static int on_data(void *ctx, const void *buf, size_t len)
{
    struct client *c = ctx;
    (void)buf;
    c->after_done += c->done;
    c->bytes += len;
    return 0;
}

static void on_end(void *ctx)
{
    struct client *c = ctx;
    c->after_done += c->done;
    c->done = 1;
}

static void on_error(void *ctx, int code, const char *r, const char *m)
{
    struct client *c = ctx;
    (void)code;
    (void)r;
    (void)m;
    c->after_done += c->done;
    c->done = 1;
}

static void on_pause(void *ctx)
{
    (void)ctx;
}

static const struct fg_stream_callbacks callbacks = {
    .head = on_head,
    .data = on_data,
    .end = on_end,
    .error = on_error,
    .body_pause = on_pause,
    .body_resume = on_pause,
};

static void host_log(const struct fg_host *h, enum fg_log_level level,
                     const char *fmt, ...)
{
    (void)h;
    (void)level;
    (void)fmt;
}

static struct fg_host host = {.log = host_log};
static struct mock_instance inst;
static struct fg_arena *arena;
static struct fg_request_info info;

static void setup(void)
{
    char err[256];
    inst.host = &host;
    inst.store =
        mock_seed_load_mem(seed, sizeof(seed) - 1, "fuzz", 0, err, sizeof(err));
    inst.spdy = (struct mock_spdy_limits){16384, 4096};
    inst.spdy_max_streams = 8;
    arena = fg_arena_new(0);
    if (!inst.store || !arena ||
        fg_request_info_parse(arena, "GET",
                              "/api/v1/namespaces/shop/pods/web/portforward",
                              NULL, &info) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!inst.store)
        setup();
    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    size_t step = (size_t)(data[0] / 3) % 32 + 1;
    static const char *const protocols[] = {
        "v4.channel.k8s.io", "SPDY/3.1+portforward.k8s.io", NULL};
    struct fg_header h[4] = {
        {"sec-websocket-key", 17, "dGhlIHNhbXBsZSBub25jZQ==", 24},
        {"sec-websocket-version", 21, "13", 2},
        {"sec-websocket-protocol", 22, protocols[mode],
         protocols[mode] ? strlen(protocols[mode]) : 0},
        {"x-stream-protocol-version", 25, "portforward.k8s.io", 18},
    };
    struct fg_request_head head = {
        .method = mode == 2 ? "POST" : "GET",
        .path = "/api/v1/namespaces/shop/pods/web/portforward",
        .query = "ports=6379,8080,9999",
        .headers = mode == 2 ? h + 3 : h,
        .n_headers = mode == 2 ? 1 : 3,
        .info = &info,
        .upgrade = mode == 2 ? "SPDY/3.1" : "websocket",
        .base_path = "",
    };
    struct client c = {0};
    struct mock_pf *p = mock_pf_open(&inst, &head, &callbacks, &c);
    if (!p)
        return 0;
    mock_pf_end(p);
    CHECK(c.status == 101);
    for (size_t off = 1; off < size && !c.done; off += step) {
        size_t n = size - off < step ? size - off : step;
        CHECK(mock_pf_write(p, data + off, n) == 0);
    }
    CHECK(c.after_done == 0);
    mock_pf_close(p);
    return 0;
}
