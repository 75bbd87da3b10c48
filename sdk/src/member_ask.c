/* Member calls with a gathered answer (fedgate/member_ask.h). Whatever the
 * call reports is kept, and the caller hears of it from a 0 ms timer after
 * every callback of the call returned: the core may answer from inside
 * member_call itself, and a continuation that starts or closes calls must
 * not run inside one. */
#include <fedgate/member_ask.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>

#define DEFAULT_MAX_ANSWER (1u << 20)

struct fg_member_ask {
    const struct fg_host *h;
    struct fg_member_call *call;
    struct fg_timer *timer;
    fg_member_ask_done done;
    void *arg;
    size_t max;
    int status; /* the member's, once its head came */
    struct fg_buf body;
    int finished; /* the timer is armed: nothing more is taken */
};

static void finish(struct fg_member_ask *a)
{
    if (a->finished)
        return;
    a->finished = 1;
    a->h->timer_arm(a->timer, 0);
}

/* The gateway's answer replaces whatever part of the member's came. */
static void set_failure(struct fg_member_ask *a, int code, const char *message)
{
    a->status = code;
    free(a->body.buf);
    struct fg_status st = {.code = code, .message = message};
    size_t len = 0;
    char *text = fg_status_build(&st, &len);
    a->body = (struct fg_buf){
        .buf = text, .len = text ? len : 0, .cap = text ? len + 1 : 0};
}

static void fail(struct fg_member_ask *a, int code, const char *message)
{
    if (a->finished)
        return;
    set_failure(a, code, message);
    finish(a);
}

static int on_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    (void)h;
    (void)n;
    struct fg_member_ask *a = ctx;
    a->status = status;
    return 0;
}

static int on_data(void *ctx, const void *buf, size_t len)
{
    struct fg_member_ask *a = ctx;
    if (a->finished)
        return -1;
    if (len > a->max - a->body.len) {
        char m[128];
        snprintf(m, sizeof(m), "the member's answer is larger than %zu bytes",
                 a->max);
        fail(a, 502, m);
        return -1;
    }
    fg_buf_put(&a->body, buf, len);
    if (a->body.oom) {
        fail(a, 500, "out of memory gathering the member's answer");
        return -1;
    }
    return 0;
}

static void on_end(void *ctx)
{
    finish(ctx);
}

static void on_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    struct fg_member_ask *a = ctx;
    const char *why = message && *message ? message : reason ? reason : "";
    if (!a->status) {
        fail(a, code ? code : 502, why);
        return;
    }
    /* after the head: the member's answer was cut short */
    char m[512];
    snprintf(m, sizeof(m), "the member's answer was cut short: %s", why);
    fail(a, 502, m);
}

static void on_body(void *ctx)
{
    (void)ctx; /* the body is handed over whole at the start */
}

static const struct fg_stream_callbacks callbacks = {
    .head = on_head,
    .data = on_data,
    .end = on_end,
    .error = on_error,
    .body_pause = on_body,
    .body_resume = on_body,
};

static void release(struct fg_member_ask *a)
{
    if (a->call)
        a->h->member_call_close(a->call);
    a->h->timer_free(a->timer);
    free(a->body.buf);
    free(a);
}

static void fire(void *arg)
{
    struct fg_member_ask *a = arg;
    if (a->call) {
        a->h->member_call_close(a->call);
        a->call = NULL;
    }
    if (!a->status)
        set_failure(a, 502, "the member ended its answer without a status");
    a->done(a->arg, a->status, a->body.buf ? a->body.buf : "", a->body.len);
    release(a);
}

struct fg_member_ask *fg_member_ask_start(
    const struct fg_host *h, const char *member, const struct fg_identity *who,
    const struct fg_member_ask_request *req, fg_member_ask_done done, void *arg)
{
    struct fg_member_ask *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->h = h;
    a->done = done;
    a->arg = arg;
    a->max = req->max_answer ? req->max_answer : DEFAULT_MAX_ANSWER;
    if (!(a->timer = h->timer_new(h, fire, a))) {
        free(a);
        return NULL;
    }
    const char *ct = req->content_type;
    struct fg_header hd[2] = {
        {"accept", 6, "application/json", 16},
        {"content-type", 12, ct ? ct : "", ct ? strlen(ct) : 0},
    };
    size_t blen = req->body ? req->body_len : 0;
    struct fg_request_head head = {
        .method = req->method,
        .path = req->path,
        .query = req->query,
        .headers = hd,
        .n_headers = ct ? 2 : 1,
        .identity = who,
        .content_length = (int64_t)blen,
    };
    char err[256] = "";
    a->call = h->member_call(h, member, &head, &callbacks, a, err, sizeof(err));
    if (!a->call) { /* not started now (stopping, no worker, out of memory) */
        fail(a, 503, err);
        return a;
    }
    /* a refusal may already have come; its error callback says why a write
     * was not taken */
    if (!a->finished && blen &&
        h->member_call_write(a->call, req->body, blen) < 0)
        fail(a, 502, "the member call did not take the request body");
    if (!a->finished)
        h->member_call_end(a->call);
    return a;
}

void fg_member_ask_cancel(struct fg_member_ask *a)
{
    if (a)
        release(a);
}
