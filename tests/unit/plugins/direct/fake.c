/* Test doubles for the direct driver's unit tests (see fake.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "fake.h"

char fake_last_log[512];
static struct event_base *base;

struct fg_timer {
    struct event *ev;
    fg_timer_cb cb;
    void *arg;
};

static void host_log(const struct fg_host *h, enum fg_log_level level,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void host_log(const struct fg_host *h, enum fg_log_level level,
                     const char *fmt, ...)
{
    (void)h;
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fake_last_log, sizeof(fake_last_log), fmt, ap);
    va_end(ap);
}

static void timer_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_timer *t = arg;
    t->cb(t->arg);
}

static void *event_base_get(const struct fg_host *h)
{
    (void)h;
    if (!base)
        base = event_base_new();
    return base;
}

static struct fg_timer *timer_new(const struct fg_host *h, fg_timer_cb cb,
                                  void *arg)
{
    struct fg_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cb = cb;
    t->arg = arg;
    t->ev = evtimer_new((struct event_base *)event_base_get(h), timer_fire, t);
    return t;
}

static void timer_arm(struct fg_timer *t, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(t->ev, &tv);
}

static void timer_cancel(struct fg_timer *t)
{
    evtimer_del(t->ev);
}

static void timer_free(struct fg_timer *t)
{
    event_free(t->ev);
    free(t);
}

static uint64_t now_ms(const struct fg_host *h)
{
    (void)h;
    return 0;
}

struct fg_host fake_host = {
    .struct_size = sizeof(struct fg_host),
    .log = host_log,
    .timer_new = timer_new,
    .timer_arm = timer_arm,
    .timer_cancel = timer_cancel,
    .timer_free = timer_free,
    .now_ms = now_ms,
    .event_base = event_base_get,
};

void fake_host_done(void)
{
    if (base)
        event_base_free(base);
    base = NULL;
}

static const char *section_get(const struct fg_section *s, const char *key)
{
    const struct fake_section *fs = (const struct fake_section *)s;
    for (const char *const *p = fs->kv; p && p[0]; p += 2)
        if (strcmp(p[0], key) == 0)
            return p[1];
    return NULL;
}

static int64_t section_get_int(const struct fg_section *s, const char *key,
                               int64_t def)
{
    const char *v = section_get(s, key);
    if (!v)
        return def;
    if (strcasecmp(v, "true") == 0)
        return 1;
    if (strcasecmp(v, "false") == 0)
        return 0;
    return strtoll(v, NULL, 10);
}

void fake_section_init(struct fake_section *fs, const char *const *kv)
{
    memset(fs, 0, sizeof(*fs));
    fs->s.name = "prod-east";
    fs->s.file = "test.ini";
    fs->s.line = 1;
    fs->s.get = section_get;
    fs->s.get_int = section_get_int;
    fs->kv = kv;
}

char *fake_temp_file(const char *text)
{
    char *path = strdup("/tmp/fedgate-direct-test-XXXXXX");
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
