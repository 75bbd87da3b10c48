/* The fg_host a plugin receives: logging with the plugin's name, timers on
 * the worker's loop, the clock, and the core's networking (client/). */
#ifndef FG_HOST_API_H
#define FG_HOST_API_H

#include <fedgate/host.h>

struct event_base;
struct fg_worker;

/* Context behind fg_host.core: where the plugin's timers live and how its
 * log lines are prefixed. Owned by the caller, must outlive HOST. */
struct fg_host_ctx {
    struct event_base *base;
    char prefix[96]; /* "mock[demo]" */
    /* The gateway's serving certificate, lent to listeners that name
     * none; NULL when there is none (config checks). */
    const char *serving_cert_file;
    const char *serving_key_file;
    const char *state_dir;           /* fg_host.state_dir */
    const struct fg_section *tunnel; /* fg_host.tunnel */
    /* The worker whose loop the instance runs on, for member calls; NULL
     * where there is none (configuration checks). */
    struct fg_worker *worker;
    int may_call_members; /* a service's instance (host.h member_call) */
};

void fg_host_init(struct fg_host *host, struct fg_host_ctx *ctx);

#endif
