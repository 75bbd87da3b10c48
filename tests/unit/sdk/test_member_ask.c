/* fg_member_ask (fedgate/member_ask.h) against a fake host: the answer is
 * gathered whole and handed over from the timer only, a failure before the
 * member's answer is whole is the gateway's code with a Status body, the
 * bound holds, and a cancel runs nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fedgate/member_ask.h>

/* What the fake member does when called. */
enum script {
    ANSWER_LATER,  /* the test drives the callbacks */
    REFUSE_INSIDE, /* head(403) + Status + end from inside member_call */
    NO_WORKER,     /* member_call returns NULL with a reason */
};

static struct fake {
    enum script script;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    fg_timer_cb timer_cb;
    void *timer_arg;
    int armed, timers, calls_open;
    char method[16], path[64], query[64], ct[64], accept[64];
    char sent[256];
    size_t sent_len;
    int ended;
    /* what DONE saw */
    int done_runs, status;
    char body[4096];
    size_t len;
} fk;

static struct fg_timer *timer_new(const struct fg_host *h, fg_timer_cb cb,
                                  void *arg)
{
    (void)h;
    fk.timer_cb = cb;
    fk.timer_arg = arg;
    fk.timers++;
    return (struct fg_timer *)&fk;
}

static void timer_arm(struct fg_timer *t, uint64_t ms)
{
    (void)t;
    assert_int_equal(ms, 0);
    fk.armed = 1;
}

static void timer_free(struct fg_timer *t)
{
    (void)t;
    fk.timers--;
    fk.armed = 0;
}

static void copy_header(const struct fg_request_head *head, const char *name,
                        char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < head->n_headers; i++)
        if (!strcmp(head->headers[i].name, name))
            snprintf(out, cap, "%.*s", (int)head->headers[i].value_len,
                     head->headers[i].value);
}

static struct fg_member_call *member_call(const struct fg_host *h,
                                          const char *member,
                                          const struct fg_request_head *head,
                                          const struct fg_stream_callbacks *cb,
                                          void *ctx, char *err, size_t err_len)
{
    (void)h;
    assert_string_equal(member, "m1");
    assert_non_null(head->identity);
    if (fk.script == NO_WORKER) {
        snprintf(err, err_len, "no worker here");
        return NULL;
    }
    fk.cb = cb;
    fk.ctx = ctx;
    fk.calls_open++;
    snprintf(fk.method, sizeof(fk.method), "%s", head->method);
    snprintf(fk.path, sizeof(fk.path), "%s", head->path);
    snprintf(fk.query, sizeof(fk.query), "%s", head->query ? head->query : "");
    copy_header(head, "content-type", fk.ct, sizeof(fk.ct));
    copy_header(head, "accept", fk.accept, sizeof(fk.accept));
    assert_int_equal(head->content_length, fk.script == ANSWER_LATER ? 7 : 0);
    if (fk.script == REFUSE_INSIDE) {
        cb->head(ctx, 403, NULL, 0);
        cb->data(ctx, "{\"kind\":\"Status\"}", 17);
        cb->end(ctx);
        assert_int_equal(fk.done_runs, 0);
    }
    return (struct fg_member_call *)&fk;
}

static int call_write(struct fg_member_call *c, const void *buf, size_t len)
{
    (void)c;
    memcpy(fk.sent + fk.sent_len, buf, len);
    fk.sent_len += len;
    return 0;
}

static void call_end(struct fg_member_call *c)
{
    (void)c;
    fk.ended = 1;
}

static void call_close(struct fg_member_call *c)
{
    (void)c;
    fk.calls_open--;
}

static const struct fg_host host = {
    .struct_size = sizeof(struct fg_host),
    .timer_new = timer_new,
    .timer_arm = timer_arm,
    .timer_free = timer_free,
    .member_call = member_call,
    .member_call_write = call_write,
    .member_call_end = call_end,
    .member_call_close = call_close,
};

static const struct fg_identity who = {.user = "alice"};

static void done(void *arg, int status, const char *body, size_t len)
{
    assert_ptr_equal(arg, &fk);
    fk.done_runs++;
    fk.status = status;
    assert_true(len < sizeof(fk.body));
    assert_int_equal(strlen(body), len);
    memcpy(fk.body, body, len + 1);
    fk.len = len;
}

static struct fg_member_ask *start(enum script s, size_t max)
{
    memset(&fk, 0, sizeof(fk));
    fk.script = s;
    struct fg_member_ask_request req = {
        .method = "PATCH",
        .path = "/api/v1/namespaces/x/configmaps/y",
        .query = "fieldManager=fedgate",
        .content_type = "application/apply-patch+yaml",
        .body = "{\"a\":1}",
        .body_len = 7,
        .max_answer = max,
    };
    if (s != ANSWER_LATER) {
        req.body = NULL;
        req.content_type = NULL;
    }
    return fg_member_ask_start(&host, "m1", &who, &req, done, &fk);
}

/* fires the 0 ms timer the way the loop would */
static void run_timer(void)
{
    assert_true(fk.armed);
    fk.armed = 0;
    fk.timer_cb(fk.timer_arg);
}

static void test_whole_answer_after_the_callbacks(void **state)
{
    (void)state;
    struct fg_member_ask *a = start(ANSWER_LATER, 0);
    assert_non_null(a);
    assert_string_equal(fk.method, "PATCH");
    assert_string_equal(fk.query, "fieldManager=fedgate");
    assert_string_equal(fk.ct, "application/apply-patch+yaml");
    assert_string_equal(fk.accept, "application/json");
    assert_int_equal(fk.sent_len, 7);
    assert_memory_equal(fk.sent, "{\"a\":1}", 7);
    assert_true(fk.ended);
    assert_int_equal(fk.cb->head(fk.ctx, 200, NULL, 0), 0);
    assert_int_equal(fk.cb->data(fk.ctx, "{\"kind\":", 8), 0);
    assert_int_equal(fk.cb->data(fk.ctx, "\"ConfigMap\"}", 12), 0);
    fk.cb->end(fk.ctx);
    assert_int_equal(fk.done_runs, 0);
    run_timer();
    assert_int_equal(fk.done_runs, 1);
    assert_int_equal(fk.status, 200);
    assert_string_equal(fk.body, "{\"kind\":\"ConfigMap\"}");
    assert_int_equal(fk.calls_open, 0);
    assert_int_equal(fk.timers, 0);
}

static void test_answer_from_inside_member_call(void **state)
{
    (void)state;
    assert_non_null(start(REFUSE_INSIDE, 0));
    assert_false(fk.ended); /* the call was over: nothing more is sent */
    run_timer();
    assert_int_equal(fk.done_runs, 1);
    assert_int_equal(fk.status, 403);
    assert_string_equal(fk.body, "{\"kind\":\"Status\"}");
    assert_int_equal(fk.calls_open, 0);
}

static void assert_status_body(int code, const char *message_part)
{
    assert_int_equal(fk.status, code);
    assert_non_null(strstr(fk.body, "\"kind\":\"Status\""));
    char c[32];
    snprintf(c, sizeof(c), "\"code\":%d", code);
    assert_non_null(strstr(fk.body, c));
    assert_non_null(strstr(fk.body, message_part));
}

static void test_a_call_not_started_is_a_503_status(void **state)
{
    (void)state;
    assert_non_null(start(NO_WORKER, 0));
    assert_int_equal(fk.done_runs, 0);
    run_timer();
    assert_int_equal(fk.done_runs, 1);
    assert_status_body(503, "no worker here");
    assert_int_equal(fk.timers, 0);
}

static void test_error_before_head_keeps_the_core_code(void **state)
{
    (void)state;
    assert_non_null(start(ANSWER_LATER, 0));
    fk.cb->error(fk.ctx, 503, "ServiceUnavailable", "member m1 is not ready");
    fk.cb->error(fk.ctx, 500, "InternalError", "a second report is ignored");
    run_timer();
    assert_int_equal(fk.done_runs, 1);
    assert_status_body(503, "member m1 is not ready");
    assert_non_null(strstr(fk.body, "\"reason\":\"ServiceUnavailable\""));
    assert_int_equal(fk.calls_open, 0);
}

static void test_cut_answer_is_a_502_status(void **state)
{
    (void)state;
    assert_non_null(start(ANSWER_LATER, 0));
    fk.cb->head(fk.ctx, 200, NULL, 0);
    fk.cb->data(fk.ctx, "{\"kind\":\"Con", 12);
    fk.cb->error(fk.ctx, 502, "BadGateway", "stream reset");
    run_timer();
    assert_status_body(502, "cut short: stream reset");
    assert_null(strstr(fk.body, "\"kind\":\"Con\""));
}

static void test_answer_bound_at_each_size(void **state)
{
    (void)state;
    /* every split of a 10-byte bound: exactly 10 passes, 11 fails */
    for (size_t total = 10; total <= 11; total++)
        for (size_t first = 0; first <= total; first++) {
            assert_non_null(start(ANSWER_LATER, 10));
            fk.cb->head(fk.ctx, 200, NULL, 0);
            int r1 = fk.cb->data(fk.ctx, "xxxxxxxxxxx", first);
            int r2 = fk.cb->data(fk.ctx, "yyyyyyyyyyy", total - first);
            if (!(r1 < 0))
                fk.cb->end(fk.ctx);
            run_timer();
            assert_int_equal(fk.done_runs, 1);
            if (total == 10) {
                assert_int_equal(r1, 0);
                assert_int_equal(r2, 0);
                assert_int_equal(fk.status, 200);
                assert_int_equal(fk.len, 10);
            } else {
                assert_true(r1 < 0 || r2 < 0);
                assert_status_body(502, "larger than 10 bytes");
            }
            assert_int_equal(fk.calls_open, 0);
        }
}

static void test_cancel_runs_nothing(void **state)
{
    (void)state;
    struct fg_member_ask *a = start(ANSWER_LATER, 0);
    fk.cb->head(fk.ctx, 200, NULL, 0);
    fg_member_ask_cancel(a);
    assert_int_equal(fk.calls_open, 0);
    assert_int_equal(fk.timers, 0);
    assert_int_equal(fk.done_runs, 0);
    fg_member_ask_cancel(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_answer_after_the_callbacks),
        cmocka_unit_test(test_answer_from_inside_member_call),
        cmocka_unit_test(test_a_call_not_started_is_a_503_status),
        cmocka_unit_test(test_error_before_head_keeps_the_core_code),
        cmocka_unit_test(test_cut_answer_is_a_502_status),
        cmocka_unit_test(test_answer_bound_at_each_size),
        cmocka_unit_test(test_cancel_runs_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
