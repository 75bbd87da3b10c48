/* ratelimit: an admit plugin that answers 429 TooManyRequests, with
 * Retry-After, when a user goes over their token bucket, when a member
 * cluster goes over its own, or when a user has too many requests in
 * flight (long-running ones, watch, exec, attach, port-forward, logs -f,
 * counted apart under their own cap). The counts are shared by every
 * worker (limiter.c); each instance remembers which of its requests it
 * counted, to give them back when they finish (its audit op). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fedgate/fedgate.h>

#include "ratelimit.h"

/* A request this instance counted as in flight. */
struct counted {
    struct counted *next;
    const struct fg_policy_request *req;
    struct rl_entry *entry;
};

#define COUNTED_SLOTS 256u

struct ratelimit {
    const struct fg_host *host;
    struct rl_limiter *limiter;
    struct counted *slots[COUNTED_SLOTS];
    /* exempt_groups, each name followed by a NUL, the last by two */
    char *exempt;
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static size_t slot_of(const struct fg_policy_request *req)
{
    return ((uintptr_t)req >> 4) % COUNTED_SLOTS;
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    struct ratelimit *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    r->host = host;
    const char *exempt = s->get(s, "exempt_groups");
    size_t len = exempt && strcmp(exempt, "none") != 0 ? strlen(exempt) : 0;
    if (!(r->exempt = calloc(1, len + 2))) {
        snprintf(err, err_len, "out of memory");
        free(r);
        return NULL;
    }
    char *w = r->exempt;
    for (size_t i = 0; i < len; i++) {
        if (exempt[i] == ',')
            *w++ = '\0';
        else if (exempt[i] != ' ')
            *w++ = exempt[i];
    }
    const struct rl_limits limits = {
        .user_qps = s->get_int(s, "user_qps", 0),
        .user_burst = s->get_int(s, "user_burst", 0),
        .member_qps = s->get_int(s, "member_qps", 0),
        .member_burst = s->get_int(s, "member_burst", 0),
        .max_in_flight = s->get_int(s, "max_in_flight", 0),
        .max_long_running = s->get_int(s, "max_long_running", 0),
        .max_keys = s->get_int(s, "max_users", 0),
    };
    if ((limits.user_qps && limits.user_burst < 1) ||
        (limits.member_qps && limits.member_burst < 1)) {
        snprintf(err, err_len,
                 "%s:%d: a burst must be at least 1 where its qps is set",
                 s->file, s->line);
        free(r->exempt);
        free(r);
        return NULL;
    }
    if (!(r->limiter = rl_limiter_acquire(s->name, &limits, err, err_len))) {
        free(r->exempt);
        free(r);
        return NULL;
    }
    return r;
}

static void instance_free(void *instance)
{
    struct ratelimit *r = instance;
    for (size_t i = 0; i < COUNTED_SLOTS; i++)
        while (r->slots[i]) {
            struct counted *c = r->slots[i];
            r->slots[i] = c->next;
            free(c);
        }
    rl_limiter_release(r->limiter);
    free(r->exempt);
    free(r);
}

/* Whether ID is in one of exempt_groups (kube-apiserver's priority and
 * fairness exempts system:masters: an operator can always get in). */
static int exempt(const struct ratelimit *r, const struct fg_identity *id)
{
    for (const char *g = r->exempt; *g; g += strlen(g) + 1)
        for (size_t i = 0; id && i < id->n_groups; i++)
            if (strcmp(g, id->groups[i]) == 0)
                return 1;
    return 0;
}

static void deny(struct fg_policy_call *c, const struct rl_limits *lim,
                 const struct rl_decision *d, const char *user)
{
    char msg[512];
    const char *member = c->req->member ? c->req->member : "";
    switch (d->result) {
    case RL_USER_RATE:
        snprintf(msg, sizeof(msg),
                 "too many requests from user \"%s\": at most %lld per "
                 "second (burst %lld)",
                 user, (long long)lim->user_qps, (long long)lim->user_burst);
        break;
    case RL_MEMBER_RATE:
        snprintf(msg, sizeof(msg),
                 "too many requests to the cluster \"%s\": at most %lld per "
                 "second (burst %lld)",
                 member, (long long)lim->member_qps,
                 (long long)lim->member_burst);
        break;
    case RL_IN_FLIGHT:
        snprintf(msg, sizeof(msg),
                 "user \"%s\" has %lld requests in flight, the most allowed",
                 user, (long long)d->limit);
        break;
    case RL_LONG_RUNNING:
        snprintf(msg, sizeof(msg),
                 "user \"%s\" has %lld long-running requests (watch, exec, "
                 "attach, port-forward, logs -f) open, the most allowed",
                 user, (long long)d->limit);
        break;
    default:
        snprintf(msg, sizeof(msg),
                 "too many users are being limited at once (%lld), try again "
                 "later",
                 (long long)d->limit);
    }
    c->set_denial(c, 429, "TooManyRequests", msg);
    c->set_retry_after(c, d->retry_after);
}

static enum fg_verdict admit(void *instance, struct fg_policy_call *c)
{
    struct ratelimit *r = instance;
    const struct fg_policy_request *req = c->req;
    /* Authentication set an identity before admit; without one (a chain
     * with no authenticate plugin) every caller is the same nobody. */
    const char *user = req->identity ? req->identity->user : "";
    if (exempt(r, req->identity))
        return FG_NO_OPINION;
    struct counted *mark = malloc(sizeof(*mark));
    if (!mark) {
        c->set_denial(c, 503, "ServiceUnavailable",
                      "the gateway is out of memory");
        return FG_DENY;
    }
    struct rl_decision d;
    rl_limiter_admit(r->limiter, user, req->member, req->long_running,
                     mono_us(), &d);
    if (d.result != RL_OK) {
        free(mark);
        deny(c, rl_limiter_limits(r->limiter), &d, user);
        return FG_DENY;
    }
    size_t slot = slot_of(req);
    *mark = (struct counted){r->slots[slot], req, d.entry};
    r->slots[slot] = mark;
    return FG_NO_OPINION;
}

/* The request finished: what admit counted is given back. */
static void audit(void *instance, const struct fg_policy_request *req,
                  const struct fg_policy_outcome *outcome)
{
    (void)outcome;
    struct ratelimit *r = instance;
    for (struct counted **p = &r->slots[slot_of(req)]; *p; p = &(*p)->next) {
        struct counted *c = *p;
        if (c->req != req)
            continue;
        rl_limiter_done(r->limiter, c->entry, req->long_running);
        *p = c->next;
        free(c);
        return;
    }
}

/* Never pending: nothing to drop. */
static void cancel(void *instance, struct fg_policy_call *c)
{
    (void)instance;
    (void)c;
}

static const struct fg_policy_ops ops = {
    .struct_size = sizeof(struct fg_policy_ops),
    .phases = FG_PHASE_ADMIT | FG_PHASE_AUDIT,
    .instance_new = instance_new,
    .instance_free = instance_free,
    .admit = admit,
    .cancel = cancel,
    .audit = audit,
};

/* The defaults are kubectl's own client limits (50 per second, burst 300)
 * and more: an ordinary user never meets them. */
static const struct fg_config_key keys[] = {
    {"user_qps", FG_CONFIG_INT, "50", 0, 0, 1000000,
     "requests per second each user may make on average; 0: no limit"},
    {"user_burst", FG_CONFIG_INT, "300", 0, 0, 10000000,
     "requests a user may make at once before user_qps applies"},
    {"member_qps", FG_CONFIG_INT, "1000", 0, 0, 1000000,
     "requests per second to each member cluster, all users together; 0: "
     "no limit"},
    {"member_burst", FG_CONFIG_INT, "2000", 0, 0, 10000000,
     "requests to a member at once before member_qps applies"},
    {"max_in_flight", FG_CONFIG_INT, "100", 0, 0, 1000000,
     "requests a user may have in flight (long-running ones not counted); "
     "0: no limit"},
    {"max_long_running", FG_CONFIG_INT, "100", 0, 0, 1000000,
     "long-running requests (watch, exec, attach, port-forward, logs -f) a "
     "user may have open; 0: no limit"},
    {"exempt_groups", FG_CONFIG_STRING, "system:masters", 0, 0, 0,
     "comma-separated groups whose requests are never limited nor counted "
     "(as kube-apiserver exempts system:masters); none: nobody"},
    {"max_users", FG_CONFIG_INT, "10000", 0, 16, 10000000,
     "users (and members) whose state is kept; idle ones are forgotten "
     "first"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_POLICY,
    .name = "ratelimit",
    .version = "1.0.0",
    .description = "429 over per-user and per-member rates and in-flight caps",
    .config_keys = keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
