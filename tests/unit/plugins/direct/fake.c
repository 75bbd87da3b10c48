/* Test doubles for the direct driver's unit tests (see fake.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "fake.h"
#include "plugin/host_api.h"

char fake_last_log[512];
struct fg_host fake_host;
static struct fg_host_ctx ctx;

/* The core's log writes to stderr; the tests read the last line here. */
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

/* Before main: the tests use fake_host as a plain object. */
__attribute__((constructor)) static void fake_host_init(void)
{
    ctx.base = event_base_new();
    snprintf(ctx.prefix, sizeof(ctx.prefix), "direct[prod-east]");
    fg_host_init(&fake_host, &ctx);
    fake_host.log = host_log;
}

void fake_host_done(void)
{
    if (ctx.base)
        event_base_free(ctx.base);
    ctx.base = NULL;
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
