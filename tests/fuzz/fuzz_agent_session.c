/* Fuzzes fedgate-agent's side of a tunnel (plugins/drivers/agent/cmd/
 * session.c): bytes from the host, which should be an HTTP/2 client's
 * preface and frames, reach the agent's nghttp2 server session over a
 * bufferevent pair on a real loop: the handshake's two requests, requests
 * passed on to the member's apiserver (here an address nothing answers,
 * so they fail as a dead apiserver's would), extended CONNECT upgrades,
 * PINGs. Whatever the bytes, nothing may crash, leak or trip a sanitizer,
 * and the session must be freed whether it ended itself or not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/client.h"
#include "cmd/fedgate_agent.h"
#include "plugin/host_api.h"

static struct agent a;
static struct fg_host_ctx ctx;

/* main.c's part, without the state file, the redial and the token file. */
void agent_session_lost(struct agent *x)
{
    x->session = NULL;
}

const char *agent_api_auth(struct agent *x)
{
    return x->api_auth;
}

int agent_joined(struct agent *x, const char *host_id)
{
    (void)x;
    return strlen(host_id) == TUNNEL_HOST_ID_LEN ? 0 : -1;
}

static void setup(void)
{
    a.base = event_base_new();
    if (!a.base)
        abort();
    ctx.base = a.base;
    snprintf(ctx.prefix, sizeof(ctx.prefix), "agent");
    fg_host_init(&a.host, &ctx);
    struct fg_client_config cfg = {
        .struct_size = sizeof(cfg),
        .name = "edge",
        .server = "https://127.0.0.1:1",
        .insecure = 1,
        .http2 = 1,
        .connect_timeout_ms = 50,
    };
    char err[256];
    a.api = fg_client_new(&a.host, &cfg, err, sizeof(err));
    a.api_auth = strdup("Bearer fuzz");
    a.token = strdup("fuzz-token");
    if (!a.api || !a.api_auth || !a.token)
        abort();
    snprintf(a.name, sizeof(a.name), "edge");
    a.ping_ms = 10000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!a.base)
        setup();
    struct bufferevent *pair[2];
    if (bufferevent_pair_new(a.base, BEV_OPT_CLOSE_ON_FREE, pair) != 0)
        return 0;
    a.session = agent_session_new(&a, pair[0]);
    if (!a.session) {
        bufferevent_free(pair[0]);
        bufferevent_free(pair[1]);
        return 0;
    }
    bufferevent_enable(pair[1], EV_READ | EV_WRITE);
    bufferevent_write(pair[1], data, size);
    for (int i = 0; i < 16 && a.session; i++)
        event_base_loop(a.base, EVLOOP_NONBLOCK);
    agent_session_free(a.session);
    a.session = NULL;
    bufferevent_free(pair[1]);
    for (int i = 0; i < 4; i++)
        event_base_loop(a.base, EVLOOP_NONBLOCK);
    return 0;
}
