/* swap_probe: a test policy plugin whose build decides its answer, so a
 * test can tell which copy of it served a request. SWAP_VARIANT "a"
 * allows every request, any other variant denies it naming itself. With
 * `delay` the verdict comes that much later (the request waits in the
 * policy phase). Each authorize and audit call is one line in
 * `log_file`: "VARIANT authorize PATH", "VARIANT audit PATH STATUS". */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fedgate/fedgate.h>

#ifndef SWAP_VARIANT
#error "SWAP_VARIANT names the build"
#endif

struct later;

struct swap {
    const struct fg_host *host;
    const char *log_file;
    uint64_t delay_ms;
    struct later *later; /* verdicts not given yet */
};

struct later {
    struct swap *s;
    struct fg_policy_call *call;
    struct fg_timer *timer;
    struct later *next;
};

__attribute__((format(printf, 2, 3))) static void note(struct swap *s,
                                                       const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    int fd = open(s->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) != n)
        s->host->log(s->host, FG_LOG_ERROR, "%s: short write", s->log_file);
    close(fd);
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *sec, char *err,
                          size_t err_len)
{
    struct swap *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->host = host;
    s->log_file = sec->get(sec, "log_file");
    s->delay_ms = (uint64_t)sec->get_int(sec, "delay", 0);
    return s;
}

static void forget(struct later *l)
{
    for (struct later **pp = &l->s->later; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    l->s->host->timer_free(l->timer);
    free(l);
}

static void instance_free(void *instance)
{
    struct swap *s = instance;
    while (s->later)
        forget(s->later);
    free(s);
}

static enum fg_verdict verdict(struct fg_policy_call *c)
{
    if (strcmp(SWAP_VARIANT, "a") == 0)
        return FG_ALLOW;
    c->set_denial(c, 0, NULL, "swap_probe variant " SWAP_VARIANT " denies");
    return FG_DENY;
}

static void deliver(void *arg)
{
    struct later *l = arg;
    struct fg_policy_call *c = l->call;
    forget(l);
    c->done(c, verdict(c));
}

static enum fg_verdict authorize(void *instance, struct fg_policy_call *c)
{
    struct swap *s = instance;
    note(s, SWAP_VARIANT " authorize %s", c->req->path);
    if (s->delay_ms == 0)
        return verdict(c);
    struct later *l = calloc(1, sizeof(*l));
    if (!l)
        return FG_DENY;
    l->s = s;
    l->call = c;
    if (!(l->timer = s->host->timer_new(s->host, deliver, l))) {
        free(l);
        return FG_DENY;
    }
    l->next = s->later;
    s->later = l;
    s->host->timer_arm(l->timer, s->delay_ms);
    return FG_PENDING;
}

static void cancel(void *instance, struct fg_policy_call *c)
{
    struct swap *s = instance;
    for (struct later *l = s->later; l; l = l->next)
        if (l->call == c) {
            forget(l);
            return;
        }
}

static void audit(void *instance, const struct fg_policy_request *r,
                  const struct fg_policy_outcome *o)
{
    note(instance, SWAP_VARIANT " audit %s %d", r->path, o->status);
}

static const struct fg_policy_ops ops = {
    .struct_size = sizeof(struct fg_policy_ops),
    .phases = FG_PHASE_AUTHORIZE | FG_PHASE_AUDIT,
    .instance_new = instance_new,
    .instance_free = instance_free,
    .authorize = authorize,
    .cancel = cancel,
    .audit = audit,
};

static const struct fg_config_key keys[] = {
    {"log_file", FG_CONFIG_PATH, NULL, 1, 0, 0, "where lines go"},
    {"delay", FG_CONFIG_DURATION, "0", 0, 0, 600000, "verdicts this late"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_POLICY,
    .name = "swap_probe",
    .version = "0.0.1-" SWAP_VARIANT,
    .description = "test policy plugin: its build decides its answer",
    .config_keys = keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
