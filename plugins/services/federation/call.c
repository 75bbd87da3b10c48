/* Member calls with a gathered answer (call.h). The call is closed and the
 * continuation run from a zero timer, never from inside a callback of the
 * call itself. */
#include "call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fed_call {
    const struct fg_host *host;
    struct fg_member_call *call;
    struct fg_timer *timer;
    struct fg_request_head head;
    struct fg_header ct;
    fed_call_done done;
    void *arg;
    int status;
    char *body;
    size_t len, cap;
    int finished;
};

static void finish(struct fed_call *c)
{
    if (c->finished)
        return;
    c->finished = 1;
    c->host->timer_arm(c->timer, 0);
}

static void set_status(struct fed_call *c, int status, const char *reason,
                       const char *message)
{
    c->status = status;
    free(c->body);
    struct fg_status st = {
        .code = status, .reason = reason, .message = message};
    c->body = fg_status_build(&st, &c->len);
    if (!c->body)
        c->len = 0;
}

static int on_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    (void)h;
    (void)n;
    struct fed_call *c = ctx;
    c->status = status;
    return 0;
}

static int on_data(void *ctx, const void *buf, size_t len)
{
    struct fed_call *c = ctx;
    if (c->finished)
        return -1;
    if (c->len + len > FED_CALL_MAX_BODY) {
        set_status(c, 502, "BadGateway", "the member's answer is too large");
        finish(c);
        return -1;
    }
    if (c->len + len + 1 > c->cap) {
        size_t cap = (c->len + len + 1) * 2;
        char *b = realloc(c->body, cap);
        if (!b) {
            set_status(c, 500, "InternalError", "out of memory");
            finish(c);
            return -1;
        }
        c->body = b;
        c->cap = cap;
    }
    memcpy(c->body + c->len, buf, len);
    c->len += len;
    c->body[c->len] = '\0';
    return 0;
}

static void on_end(void *ctx)
{
    finish(ctx);
}

static void on_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    struct fed_call *c = ctx;
    if (c->finished)
        return;
    set_status(c, code, reason, message);
    finish(c);
}

static void on_body(void *ctx)
{
    (void)ctx; /* bodies are small and written at once */
}

static const struct fg_stream_callbacks callbacks = {
    .head = on_head,
    .data = on_data,
    .end = on_end,
    .error = on_error,
    .body_pause = on_body,
    .body_resume = on_body,
};

static void release(struct fed_call *c)
{
    if (c->call)
        c->host->member_call_close(c->call);
    c->host->timer_free(c->timer);
    free(c->body);
    free(c);
}

static void fire(void *arg)
{
    struct fed_call *c = arg;
    if (!c->body)
        set_status(c, c->status ? c->status : 502, NULL, "");
    c->done(c->arg, c->status, c->body ? c->body : "", c->len);
    release(c);
}

struct fed_call *fed_call_start(const struct fg_host *host, const char *member,
                                const struct fg_identity *who,
                                const char *method, const char *path,
                                const char *query, const char *content_type,
                                const char *body, fed_call_done done, void *arg)
{
    struct fed_call *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->host = host;
    c->done = done;
    c->arg = arg;
    if (!(c->timer = host->timer_new(host, fire, c))) {
        free(c);
        return NULL;
    }
    size_t blen = body ? strlen(body) : 0;
    c->head = (struct fg_request_head){
        .method = method,
        .path = path,
        .query = query,
        .identity = who,
        .content_length = (int64_t)blen,
    };
    if (content_type) {
        c->ct = (struct fg_header){"content-type", 12, content_type,
                                   strlen(content_type)};
        c->head.headers = &c->ct;
        c->head.n_headers = 1;
    }
    char err[256];
    c->call = host->member_call(host, member, &c->head, &callbacks, c, err,
                                sizeof(err));
    if (!c->call) {
        set_status(c, 500, "InternalError", err);
        finish(c);
        return c;
    }
    if (!c->finished && blen)
        host->member_call_write(c->call, body, blen);
    if (!c->finished)
        host->member_call_end(c->call);
    return c;
}

void fed_call_cancel(struct fed_call *c)
{
    if (c)
        release(c);
}
