/* One member call as a user with its whole answer (call.h). The core may
 * answer from inside member_call itself; whatever arrives is kept and the
 * caller hears of it from a 0 ms timer, after every callback returned. */
#include "call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/fedgate.h>

struct appstore_call {
    const struct fg_host *h;
    struct fg_member_call *mc;
    struct fg_timer *timer;
    appstore_call_done done;
    void *arg;
    int status;
    char *body;
    size_t len, cap;
    char message[512];
};

static void finish(struct appstore_call *c)
{
    c->h->timer_arm(c->timer, 0);
}

static int on_head(void *ctx, int status, const struct fg_header *headers,
                   size_t n)
{
    (void)headers;
    (void)n;
    struct appstore_call *c = ctx;
    c->status = status;
    return 0;
}

static int on_data(void *ctx, const void *buf, size_t len)
{
    struct appstore_call *c = ctx;
    if (c->len + len > APPSTORE_CALL_MAX_ANSWER) {
        snprintf(c->message, sizeof(c->message),
                 "the member's answer is larger than %u bytes",
                 APPSTORE_CALL_MAX_ANSWER);
        c->status = 0;
        finish(c);
        return -1;
    }
    if (c->len + len + 1 > c->cap) {
        size_t cap = (c->len + len + 1) * 2;
        char *b = realloc(c->body, cap);
        if (!b)
            return -1;
        c->body = b;
        c->cap = cap;
    }
    memcpy(c->body + c->len, buf, len);
    c->len += len;
    c->body[c->len] = 0;
    return 0;
}

static void on_end(void *ctx)
{
    finish(ctx);
}

static void on_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    struct appstore_call *c = ctx;
    c->status = c->status ? 0 : code; /* after the head: a cut answer */
    snprintf(c->message, sizeof(c->message), "%s", message ? message : reason);
    finish(c);
}

static void on_body(void *ctx)
{
    (void)ctx; /* the body was handed over whole */
}

static const struct fg_stream_callbacks callbacks = {
    .head = on_head,
    .data = on_data,
    .end = on_end,
    .error = on_error,
    .body_pause = on_body,
    .body_resume = on_body,
};

static void fire(void *arg)
{
    struct appstore_call *c = arg;
    if (c->mc) {
        c->h->member_call_close(c->mc);
        c->mc = NULL;
    }
    c->done(c->arg, c->status, c->body ? c->body : "", c->len, c->message);
}

struct appstore_call *appstore_call(const struct fg_host *h, const char *member,
                                    const struct fg_identity *who,
                                    const char *method, const char *path,
                                    const char *query, const char *content_type,
                                    const char *body, size_t len,
                                    appstore_call_done done, void *arg)
{
    struct appstore_call *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->h = h;
    c->done = done;
    c->arg = arg;
    if (!(c->timer = h->timer_new(h, fire, c))) {
        free(c);
        return NULL;
    }
    struct fg_header hd[2] = {
        {"accept", 6, "application/json", 16},
        {"content-type", 12, content_type ? content_type : "",
         content_type ? strlen(content_type) : 0},
    };
    struct fg_request_head head = {
        .method = method,
        .path = path,
        .query = query,
        .headers = hd,
        .n_headers = body ? 2 : 1,
        .identity = who,
        .content_length = body ? (int64_t)len : 0,
    };
    char err[256];
    c->mc = h->member_call(h, member, &head, &callbacks, c, err, sizeof(err));
    if (!c->mc) {
        snprintf(c->message, sizeof(c->message), "%s", err);
        finish(c);
        return c;
    }
    if (body && len && h->member_call_write(c->mc, body, len) != 0)
        return c; /* the call failed: its error callback says why */
    h->member_call_end(c->mc);
    return c;
}

void appstore_call_free(struct appstore_call *c)
{
    if (!c)
        return;
    if (c->mc)
        c->h->member_call_close(c->mc);
    c->h->timer_free(c->timer);
    free(c->body);
    free(c);
}
