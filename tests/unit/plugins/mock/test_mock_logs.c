/* Unit tests of pods/NAME/log in the mock driver (logs.c): the seed's log
 * annotation, generated logs, container choice, tailLines, timestamps,
 * sinceSeconds, limitBytes, previous, and follow emitting a line per tick
 * of the fake host's timers until stream_close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake.h"

/* Containers started at 2026-11-24T23:59:50Z: ten seconds before "now". */
#define RUNNING(c)                                                             \
    "{\"name\":\"" c "\",\"ready\":true,\"restartCount\":0,\"image\":\"x\","   \
    "\"imageID\":\"\",\"state\":{\"running\":{\"startedAt\":"                  \
    "\"2026-11-24T23:59:50Z\"}}}"

static const char *seed =
    "{\"objects\":["
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"one\","
    "\"namespace\":\"a\",\"annotations\":{\"mock.fedgate.io/log\":"
    "\"l1\\nl2\\nl3\\nl4\\n\"}},\"spec\":{\"nodeName\":\"n\",\"containers\":"
    "[{\"name\":\"c\",\"image\":\"x\",\"ports\":[{\"containerPort\":80}]}]},"
    "\"status\":{\"phase\":\"Running\",\"hostIP\":\"10.0.0.1\","
    "\"containerStatuses\":[" RUNNING(
        "c") "]}},"
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
             "\"two\","
             "\"namespace\":\"a\",\"annotations\":{\"mock.fedgate.io/"
             "log.side\":"
             "\"side says "
             "hi\\n\"}},\"spec\":{\"nodeName\":\"n\",\"containers\":["
             "{\"name\":\"main\",\"image\":\"ghcr.io/x/"
             "main:1\"},{\"name\":\"side\","
             "\"image\":\"y\"}]},\"status\":{\"phase\":\"Running\","
             "\"containerStatuses\":[" RUNNING("main") "," RUNNING(
                 "side") "]}},"
                         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                         "{\"name\":\"crash\","
                         "\"namespace\":\"a\"},\"spec\":{\"nodeName\":\"n\","
                         "\"containers\":["
                         "{\"name\":\"c\",\"image\":\"x\"}]},\"status\":{"
                         "\"phase\":\"Running\","
                         "\"containerStatuses\":[{\"name\":\"c\",\"ready\":"
                         "false,"
                         "\"restartCount\":3,\"state\":{\"waiting\":{"
                         "\"reason\":"
                         "\"CrashLoopBackOff\"}},\"lastState\":{\"terminated\":"
                         "{\"exitCode\":1,"
                         "\"reason\":\"Error\",\"startedAt\":\"2026-11-24T23:"
                         "00:00Z\"}}}]}},"
                         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                         "{\"name\":"
                         "\"pending\",\"namespace\":\"a\"},\"spec\":{"
                         "\"containers\":["
                         "{\"name\":\"c\",\"image\":\"x\"}]},\"status\":{"
                         "\"phase\":\"Pending\"}}"
                         "]}";

static char *seed_path;
static struct mock_instance *in;

static int setup(void **state)
{
    (void)state;
    seed_path = fake_temp_file(seed);
    struct fake_section fs;
    char err[256];
    fake_section_init(&fs, seed_path, NULL);
    fake_now_ms = FAKE_NOW_MS;
    in = mock_driver_ops.instance_new(&fake_host, &fs.s, err, sizeof(err));
    if (!in)
        fprintf(stderr, "%s\n", err);
    return in ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mock_driver_ops.instance_free(in);
    unlink(seed_path);
    free(seed_path);
    return 0;
}

static void get_log(const char *pod, const char *query, struct fake_client *c)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/namespaces/a/pods/%s/log", pod);
    memset(c, 0, sizeof(*c));
    fake_request(in, "GET", path, query, NULL, c);
}

static void test_annotation_and_tail(void **state)
{
    (void)state;
    struct fake_client c;
    get_log("one", NULL, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.content_type, "text/plain");
    assert_string_equal(c.body.p, "l1\nl2\nl3\nl4\n");
    fake_client_free(&c);
    get_log("one", "tailLines=2", &c);
    assert_string_equal(c.body.p, "l3\nl4\n");
    fake_client_free(&c);
    get_log("one", "tailLines=0", &c);
    assert_string_equal(c.body.p, "");
    fake_client_free(&c);
    get_log("one", "limitBytes=4", &c);
    assert_string_equal(c.body.p, "l1\nl");
    fake_client_free(&c);
    get_log("one", "timestamps=true&tailLines=1", &c);
    assert_string_equal(c.body.p, "2026-11-24T23:59:53.000000000Z l4\n");
    fake_client_free(&c);
    /* Lines are a second apart from 23:59:50; now is 00:00:00. */
    get_log("one", "sinceSeconds=8", &c);
    assert_string_equal(c.body.p, "l3\nl4\n");
    fake_client_free(&c);
    get_log("one", "tailLines=-1", &c);
    assert_int_equal(c.status, 400);
    fake_client_free(&c);
}

static void test_container_choice(void **state)
{
    (void)state;
    struct fake_client c;
    get_log("two", NULL, &c);
    assert_int_equal(c.status, 400);
    assert_non_null(strstr(c.body.p, "a container name must be specified "
                                     "for pod two, choose one of: [main "
                                     "side]"));
    fake_client_free(&c);
    get_log("two", "container=side", &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body.p, "side says hi\n");
    fake_client_free(&c);
    get_log("two", "container=main", &c);
    assert_int_equal(c.status, 200);
    assert_non_null(strstr(c.body.p, "starting main (image ghcr.io/x/main:1)"));
    fake_client_free(&c);
    get_log("two", "container=nope", &c);
    assert_int_equal(c.status, 400);
    assert_non_null(
        strstr(c.body.p, "container nope is not valid for pod two"));
    fake_client_free(&c);
    get_log("missing", NULL, &c);
    assert_int_equal(c.status, 404);
    fake_client_free(&c);
}

static void test_previous_and_states(void **state)
{
    (void)state;
    struct fake_client c;
    get_log("one", "previous=true", &c);
    assert_int_equal(c.status, 400);
    assert_non_null(strstr(c.body.p, "previous terminated container \\\"c\\\" "
                                     "in pod \\\"one\\\" not found"));
    fake_client_free(&c);
    get_log("crash", "previous=true", &c);
    assert_int_equal(c.status, 200);
    assert_non_null(strstr(c.body.p, "fatal: giving up"));
    fake_client_free(&c);
    /* Waiting to restart: the run that ended. */
    get_log("crash", NULL, &c);
    assert_int_equal(c.status, 200);
    assert_non_null(strstr(c.body.p, "fatal: giving up"));
    fake_client_free(&c);
    get_log("pending", NULL, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body.p, "");
    fake_client_free(&c);
}

static void test_follow(void **state)
{
    (void)state;
    struct fake_client c = {0};
    struct fg_request_head head = {
        .method = "GET",
        .path = "/api/v1/namespaces/a/pods/one/log",
        .query = "follow=true&tailLines=1",
        .http_version = 11,
    };
    fake_set_info(&head);
    void *s = mock_driver_ops.stream_open(in, &head, &fake_callbacks, &c);
    assert_non_null(s);
    mock_driver_ops.stream_end(s);
    assert_int_equal(c.status, 200);
    assert_false(c.has_length);
    mock_buf_add(&c.body, "", 0);
    assert_string_equal(c.body.p, "l4\n");
    for (int i = 1; i <= 3; i++) {
        fake_now_ms += 1000;
        /* The fake host ignores delays: one tick, then the wake-up. */
        fake_run_one_timer();
        fake_run_one_timer();
        size_t lines = 0;
        for (const char *p = c.body.p; (p = strchr(p, '\n')); p++)
            lines++;
        assert_int_equal(lines, 1 + (size_t)i);
    }
    assert_non_null(strstr(c.body.p, "\"GET /healthz HTTP/1.1\" 200"));
    assert_int_equal(c.ended, 0);
    mock_driver_ops.stream_close(s);
    c.closed = 1;
    fake_run_one_timer();
    assert_int_equal(c.calls_after_close, 0);
    assert_int_equal(fake_timers_alive(), 0);
    fake_client_free(&c);

    /* limitBytes ends a follow. */
    memset(&c, 0, sizeof(c));
    head.query = "follow=1&limitBytes=10";
    fake_set_info(&head);
    s = mock_driver_ops.stream_open(in, &head, &fake_callbacks, &c);
    mock_driver_ops.stream_end(s);
    for (int t = 0; t < 10 && !c.ended; t++)
        fake_run_one_timer();
    assert_int_equal(c.ended, 1);
    assert_int_equal(c.body.len, 10);
    mock_driver_ops.stream_close(s);
    fake_client_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_annotation_and_tail),
        cmocka_unit_test(test_container_choice),
        cmocka_unit_test(test_previous_and_states),
        cmocka_unit_test(test_follow),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
