/* Test doubles for the mock driver's unit tests (see fake.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "fake.h"
#include "request/request_info.h"

struct fg_timer {
    fg_timer_cb cb;
    void *arg;
    int armed;
    struct fg_timer *next;
};

static struct fg_timer *timers;
uint64_t fake_now_ms = FAKE_NOW_MS;

static void host_log(const struct fg_host *h, enum fg_log_level level,
                     const char *fmt, ...)
{
    (void)h;
    (void)level;
    (void)fmt;
}

static struct fg_timer *timer_new(const struct fg_host *h, fg_timer_cb cb,
                                  void *arg)
{
    (void)h;
    struct fg_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cb = cb;
    t->arg = arg;
    t->next = timers;
    timers = t;
    return t;
}

static void timer_arm(struct fg_timer *t, uint64_t ms)
{
    (void)ms;
    t->armed = 1;
}

static void timer_cancel(struct fg_timer *t)
{
    t->armed = 0;
}

static void timer_free(struct fg_timer *t)
{
    for (struct fg_timer **p = &timers; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    free(t);
}

static uint64_t now_ms(const struct fg_host *h)
{
    (void)h;
    return fake_now_ms;
}

struct fg_host fake_host = {
    .struct_size = sizeof(struct fg_host),
    .log = host_log,
    .timer_new = timer_new,
    .timer_arm = timer_arm,
    .timer_cancel = timer_cancel,
    .timer_free = timer_free,
    .now_ms = now_ms,
};

int fake_run_one_timer(void)
{
    for (struct fg_timer *t = timers; t; t = t->next) {
        if (t->armed) {
            t->armed = 0;
            t->cb(t->arg);
            return 1;
        }
    }
    return 0;
}

size_t fake_timers_alive(void)
{
    size_t n = 0;
    for (struct fg_timer *t = timers; t; t = t->next)
        n++;
    return n;
}

static const char *section_get(const struct fg_section *s, const char *key)
{
    const struct fake_section *fs = (const struct fake_section *)s;
    if (strcmp(key, "seed") == 0)
        return fs->seed;
    if (strcmp(key, "version") == 0)
        return fs->version;
    return NULL;
}

static int64_t section_get_int(const struct fg_section *s, const char *key,
                               int64_t def)
{
    const struct fake_section *fs = (const struct fake_section *)s;
    if (strcmp(key, "max_request_body_bytes") == 0 && fs->max_body)
        return fs->max_body;
    return def;
}

void fake_section_init(struct fake_section *fs, const char *seed,
                       const char *version)
{
    memset(fs, 0, sizeof(*fs));
    fs->s.name = "test";
    fs->s.file = "test.ini";
    fs->s.line = 1;
    fs->s.get = section_get;
    fs->s.get_int = section_get_int;
    fs->seed = seed;
    fs->version = version;
}

static int cb_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    struct fake_client *c = ctx;
    if (c->closed)
        c->calls_after_close++;
    c->heads++;
    c->status = status;
    for (size_t i = 0; i < n; i++) {
        if (h[i].name_len == 12 && memcmp(h[i].name, "content-type", 12) == 0)
            snprintf(c->content_type, sizeof(c->content_type), "%.*s",
                     (int)h[i].value_len, h[i].value);
        if (h[i].name_len == 14 && memcmp(h[i].name, "content-length", 14) == 0)
            c->has_length = 1;
        if (h[i].name_len == 7 && memcmp(h[i].name, "warning", 7) == 0)
            snprintf(c->warning, sizeof(c->warning), "%.*s",
                     (int)h[i].value_len, h[i].value);
    }
    return 0;
}

static int cb_data(void *ctx, const void *buf, size_t len)
{
    struct fake_client *c = ctx;
    if (c->closed)
        c->calls_after_close++;
    c->data_calls++;
    if (len > c->max_chunk)
        c->max_chunk = len;
    if (c->gone_after && c->data_calls >= (size_t)c->gone_after)
        return -1;
    if (mock_buf_add(&c->body, buf, len) != 0)
        return -1;
    if (c->pause_every && c->data_calls % (size_t)c->pause_every == 0) {
        c->paused = 1;
        return FG_PAUSE;
    }
    return 0;
}

/* The core owns a buffer handed over: here it is copied and freed at once. */
static int cb_data_ref(void *ctx, const void *buf, size_t len,
                       fg_buffer_free_fn free_fn, void *arg)
{
    struct fake_client *c = ctx;
    if (c->n_refs < sizeof(c->refs) / sizeof(c->refs[0]))
        c->refs[c->n_refs++] = buf;
    int rc = cb_data(ctx, buf, len);
    free_fn(arg, buf, len);
    return rc;
}

static void cb_end(void *ctx)
{
    struct fake_client *c = ctx;
    if (c->closed)
        c->calls_after_close++;
    c->ended++;
}

static void cb_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    (void)reason;
    (void)message;
    struct fake_client *c = ctx;
    if (c->closed)
        c->calls_after_close++;
    c->error_code = code;
    c->ended++;
}

static void cb_body(void *ctx)
{
    (void)ctx;
}

const struct fg_stream_callbacks fake_callbacks = {
    .head = cb_head,
    .data = cb_data,
    .end = cb_end,
    .error = cb_error,
    .body_pause = cb_body,
    .body_resume = cb_body,
    .data_ref = cb_data_ref,
};

void fake_request(void *inst, const char *method, const char *path,
                  const char *query, const char *accept, struct fake_client *c)
{
    struct fg_header h[2];
    size_t nh = 0;
    h[nh++] = (struct fg_header){"user-agent", 10, "test", 4};
    if (accept)
        h[nh++] = (struct fg_header){"accept", 6, accept, strlen(accept)};
    struct fg_request_head head = {
        .method = method,
        .path = path,
        .query = query,
        .headers = h,
        .n_headers = nh,
        .content_length = 0,
        .http_version = 20,
        .base_path = "/clusters/test",
    };
    fake_set_info(&head);
    void *s = mock_driver_ops.stream_open(inst, &head, &fake_callbacks, c);
    if (!s)
        return;
    mock_driver_ops.stream_end(s);
    for (int guard = 0; !c->ended && guard < 10000000; guard++) {
        if (c->paused) {
            c->paused = 0;
            mock_driver_ops.stream_resume(s);
        } else if (!fake_run_one_timer()) {
            break;
        }
    }
    mock_driver_ops.stream_close(s);
    c->closed = 1;
    mock_buf_add(&c->body, "", 0);
}

static struct fg_arena *info_arena;

static void info_arena_free(void)
{
    fg_arena_free(info_arena);
}

void fake_set_info(struct fg_request_head *head)
{
    if (!info_arena) {
        info_arena = fg_arena_new(0);
        assert_non_null(info_arena);
        atexit(info_arena_free);
    }
    struct fg_request_info *ri = fg_arena_alloc(info_arena, sizeof(*ri));
    assert_non_null(ri);
    assert_int_equal(fg_request_info_parse(info_arena, head->method, head->path,
                                           head->query, ri),
                     0);
    head->info = ri;
}

void fake_client_free(struct fake_client *c)
{
    mock_buf_free(&c->body);
}

char *fake_temp_file(const char *text)
{
    char *path = strdup("/tmp/fedgate-mock-test-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len) {
        close(fd);
        unlink(path);
        free(path);
        return NULL;
    }
    close(fd);
    return path;
}

void *fake_demo_instance(const char *version)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/conf.d/seeds/demo.json",
             FG_TEST_SOURCE_DIR);
    struct fake_section fs;
    fake_section_init(&fs, path, version);
    char err[512] = "";
    void *in =
        mock_driver_ops.instance_new(&fake_host, &fs.s, err, sizeof(err));
    if (!in)
        fail_msg("%s", err);
    return in;
}

const char *fake_item_str(const cJSON *obj, const char *path, int i,
                          const char *key)
{
    return mock_json_str(cJSON_GetArrayItem(fg_json_path(obj, path), i), key,
                         "");
}
