/* Fuzzes the real accept path after TLS: bytes from a client go through a
 * connection's codec (HTTP/1.1 or HTTP/2, chosen by the first byte), the
 * exchange, the policy chain, the router and the gateway's own endpoints,
 * on a real event loop over a bufferevent pair. The chain is one
 * authenticate policy of the harness's own that lets "Bearer aaa...a" (64)
 * in, so that requests go on past the chain as the corpus expects. Whatever the
 * bytes, nothing may crash, leak or trip a sanitizer, and every connection must
 * be freed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "config/config.h"
#include "net/conn.h"
#include "daemon/gateway.h"
#include "daemon/generation.h"

static struct fg_gateway gw;
static struct fg_worker worker;

static enum fg_verdict authenticate(void *instance, struct fg_policy_call *c)
{
    (void)instance;
    static const char *const groups[] = {"system:masters"};
    static const struct fg_identity fuzzer = {
        .user = "fuzzer", .groups = groups, .n_groups = 1};
    const struct fg_policy_request *r = c->req;
    for (size_t i = 0; i < r->n_headers; i++) {
        const struct fg_header *h = &r->headers[i];
        if (h->name_len == 13 && memcmp(h->name, "authorization", 13) == 0 &&
            h->value_len == 7 + 64 && memcmp(h->value, "Bearer ", 7) == 0 &&
            strspn(h->value + 7, "a") >= 64)
            return c->set_identity(c, &fuzzer) == 0 ? FG_ALLOW : FG_DENY;
    }
    return FG_NO_OPINION;
}

static void cancel(void *instance, struct fg_policy_call *c)
{
    (void)instance;
    (void)c;
}

static const struct fg_policy_ops fuzz_policy = {
    .struct_size = sizeof(struct fg_policy_ops),
    .phases = FG_PHASE_AUTHENTICATE,
    .authenticate = authenticate,
    .cancel = cancel,
};
static struct fg_config_section fuzz_section = {.kind = "plugin",
                                                .name = "fuzz"};
static struct fg_policy_rt fuzz_chain = {
    .section = &fuzz_section, .refs = 1, .ops = &fuzz_policy};
static struct fg_policy_rt *fuzz_policies[] = {&fuzz_chain};
/* The worker's view, held for the whole run: requests never free it. */
static struct fg_generation fuzz_generation = {.id = 1};
static struct fg_worker_gen fuzz_gen = {.refs = 1,
                                        .gen = &fuzz_generation,
                                        .policies = fuzz_policies,
                                        .n_policies = 1};

/* A host gateway without members, on default limits (short timeouts so a
 * partial request cannot keep timers alive between inputs). */
static void setup(void)
{
    char dir[] = "/tmp/fg-fuzz-conn-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char path[256];
    snprintf(path, sizeof(path), "%s/gateway.ini", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs("[gateway]\nmax_uri_bytes = 1024\nmax_header_bytes = 4096\n"
          "stream_buffer_bytes = 4096\nh2_max_control_frames = 50\n",
          f);
    fclose(f);
    struct fg_diag diag = {0};
    gw.cfg = fg_config_load(dir, &diag);
    fg_diag_free(&diag);
    unlink(path);
    rmdir(dir);
    if (!gw.cfg)
        abort();
    gw.workers = &worker;
    fuzz_gen.cfg = gw.cfg;
    fuzz_gen.worker = &worker;
    worker.gen = &fuzz_gen;
    gw.n_workers = 1;
    worker.gw = &gw;
    worker.base = event_base_new();
    if (!worker.base || fg_metrics_shard_init(&worker.metrics) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!gw.cfg)
        setup();
    if (size == 0)
        return 0;
    struct bufferevent *pair[2];
    if (bufferevent_pair_new(worker.base, BEV_OPT_CLOSE_ON_FREE, pair) != 0)
        return 0;
    struct fg_conn *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->worker = &worker;
    c->bev = pair[0];
    snprintf(c->peer, sizeof(c->peer), "fuzz");
    c->next = worker.conns;
    if (worker.conns)
        worker.conns->prev = c;
    worker.conns = c;
    worker.n_conns++;
    c->codec = (data[0] & 1) ? &fg_h2_codec : &fg_h1_codec;
    c->codec_state = c->codec->attach(c, pair[0]);
    if (c->codec_state) {
        bufferevent_enable(pair[1], EV_READ | EV_WRITE);
        bufferevent_write(pair[1], data + 1, size - 1);
        for (int i = 0; i < 16; i++)
            event_base_loop(worker.base, EVLOOP_NONBLOCK);
        if (data[0] & 2) { /* the client goes away first */
            bufferevent_free(pair[1]);
            pair[1] = NULL;
            for (int i = 0; i < 4; i++)
                event_base_loop(worker.base, EVLOOP_NONBLOCK);
        }
    } else {
        c->codec = NULL;
    }
    fg_conn_close_all(&worker);
    for (int i = 0; i < 4; i++)
        event_base_loop(worker.base, EVLOOP_NONBLOCK);
    if (pair[1])
        bufferevent_free(pair[1]);
    if (worker.n_conns != 0 || worker.in_flight != 0)
        abort();
    return 0;
}
