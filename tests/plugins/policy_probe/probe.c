/* policy_probe: a test policy plugin. Its section chooses the verdict of
 * each phase (allow, deny, none), whether one phase answers later (after
 * `delay`, through done(); or through a done() called from inside the op,
 * the plugin bug the core tolerates), and the denial's code, reason,
 * message and Retry-After. Every call, pending verdict, done, cancel and
 * audit is written as one line to `log_file`, which the integration test
 * reads: "PHASE key=value ...". Built as audit_probe (PROBE_AUDIT_ONLY) it
 * takes part in audit only. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fedgate/fedgate.h>

struct waiting;

struct probe {
    const struct fg_host *host;
    const struct fg_section *s;
    const char *log_file;
    const char *async_phase; /* the phase answered later, or "none" */
    uint64_t delay_ms;
    int done_inside;
    struct waiting *waiting; /* pending verdicts */
};

/* A verdict on its way: delivered by TIMER unless cancelled first. */
struct waiting {
    struct probe *p;
    struct fg_policy_call *call;
    struct fg_timer *timer;
    const char *phase;
    enum fg_verdict verdict;
    struct waiting *next;
};

__attribute__((format(printf, 2, 3))) static void note(struct probe *p,
                                                       const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    int fd = open(p->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) != n)
        p->host->log(p->host, FG_LOG_ERROR, "%s: short write", p->log_file);
    close(fd);
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    struct probe *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    p->host = host;
    p->s = s;
    p->log_file = s->get(s, "log_file");
    p->async_phase = s->get(s, "async_phase");
    p->delay_ms = (uint64_t)s->get_int(s, "delay", 0);
    p->done_inside = (int)s->get_int(s, "done_inside", 0);
    note(p, "instance %s", s->name);
    return p;
}

static void instance_free(void *instance)
{
    struct probe *p = instance;
    while (p->waiting) {
        struct waiting *w = p->waiting;
        p->waiting = w->next;
        p->host->timer_free(w->timer);
        free(w);
    }
    free(p);
}

static void reload(void *instance)
{
    note(instance, "reload");
}

#ifndef PROBE_AUDIT_ONLY
static enum fg_verdict parse_verdict(const char *v)
{
    if (v && strcmp(v, "allow") == 0)
        return FG_ALLOW;
    if (v && strcmp(v, "deny") == 0)
        return FG_DENY;
    return FG_NO_OPINION;
}

static const char *verdict_name(enum fg_verdict v)
{
    return v == FG_ALLOW ? "allow" : v == FG_DENY ? "deny" : "none";
}

/* What the verdict needs besides itself: the identity, the denial. */
static void prepare(struct probe *p, struct fg_policy_call *c,
                    const char *phase, enum fg_verdict v)
{
    const struct fg_section *s = p->s;
    if (v == FG_ALLOW && strcmp(phase, "authenticate") == 0) {
        static const char *const groups[] = {"probe:group",
                                             "system:authenticated"};
        static const char *const colours[] = {"blue"};
        static const struct fg_identity_extra extra[] = {
            {"colour", colours, 1}};
        struct fg_identity id = {.user = s->get(s, "user"),
                                 .uid = "probe-uid",
                                 .groups = groups,
                                 .n_groups = 2,
                                 .extra = extra,
                                 .n_extra = 1};
        c->set_identity(c, &id);
    }
    if (v == FG_DENY) {
        c->set_denial(c, (int)s->get_int(s, "deny_code", 0),
                      s->get(s, "deny_reason"), s->get(s, "deny_message"));
        c->set_retry_after(c, (unsigned)s->get_int(s, "retry_after", 0));
    }
}

static void deliver(void *arg)
{
    struct waiting *w = arg;
    struct probe *p = w->p;
    for (struct waiting **pp = &p->waiting; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    note(p, "done %s %s", w->phase, verdict_name(w->verdict));
    prepare(p, w->call, w->phase, w->verdict);
    struct fg_policy_call *c = w->call;
    enum fg_verdict v = w->verdict;
    p->host->timer_free(w->timer);
    free(w);
    c->done(c, v);
}

static void describe(struct probe *p, const char *phase,
                     const struct fg_policy_request *r)
{
    const struct fg_request_info *ri = r->info;
    const struct fg_identity *id = r->identity;
    char auth[16] = "-";
    for (size_t i = 0; i < r->n_headers; i++)
        if (fg_header_name_folds_to(r->headers[i].name, r->headers[i].name_len,
                                    "authorization", 0))
            snprintf(auth, sizeof(auth), "yes");
    note(p,
         "%s method=%s path=%s member=%s verb=%s resource=%s "
         "subresource=%s namespace=%s name=%s user=%s groups=%zu uid=%s "
         "authorization=%s peer=%s",
         phase, r->method, r->path, r->member ? r->member : "-", ri->verb,
         ri->resource, ri->subresource, ri->namespace_, ri->name,
         id ? id->user : "-", id ? id->n_groups : 0,
         id && id->uid ? id->uid : "-", auth, r->peer);
}

static enum fg_verdict decide(struct probe *p, struct fg_policy_call *c,
                              const char *phase)
{
    enum fg_verdict v = parse_verdict(p->s->get(p->s, phase));
    describe(p, phase, c->req);
    if (!p->async_phase || strcmp(p->async_phase, phase) != 0) {
        prepare(p, c, phase, v);
        return v;
    }
    if (p->done_inside) {
        /* The bug the core tolerates: the verdict through done() at once,
         * and a return value that would say otherwise. */
        note(p, "done-inside %s %s", phase, verdict_name(v));
        prepare(p, c, phase, v);
        c->done(c, v);
        return FG_PENDING;
    }
    struct waiting *w = calloc(1, sizeof(*w));
    if (!w)
        return FG_DENY;
    *w = (struct waiting){.p = p, .call = c, .phase = phase, .verdict = v};
    w->timer = p->host->timer_new(p->host, deliver, w);
    if (!w->timer) {
        free(w);
        return FG_DENY;
    }
    w->next = p->waiting;
    p->waiting = w;
    p->host->timer_arm(w->timer, p->delay_ms);
    note(p, "pending %s", phase);
    return FG_PENDING;
}

static enum fg_verdict authenticate(void *instance, struct fg_policy_call *c)
{
    return decide(instance, c, "authenticate");
}

static enum fg_verdict authorize(void *instance, struct fg_policy_call *c)
{
    return decide(instance, c, "authorize");
}

static enum fg_verdict admit(void *instance, struct fg_policy_call *c)
{
    return decide(instance, c, "admit");
}

static void cancel(void *instance, struct fg_policy_call *c)
{
    struct probe *p = instance;
    for (struct waiting **pp = &p->waiting; *pp; pp = &(*pp)->next) {
        struct waiting *w = *pp;
        if (w->call != c)
            continue;
        *pp = w->next;
        note(p, "cancel %s", w->phase);
        p->host->timer_free(w->timer);
        free(w);
        return;
    }
    note(p, "cancel unknown");
}
#endif

static void audit(void *instance, const struct fg_policy_request *r,
                  const struct fg_policy_outcome *o)
{
    struct probe *p = instance;
    note(p, "audit status=%d denied_by=%s bytes=%lld path=%s user=%s",
         o->status, o->denied_by ? o->denied_by : "-",
         (long long)o->request_bytes, r->path,
         r->identity ? r->identity->user : "-");
}

static const struct fg_policy_ops ops = {
    .struct_size = sizeof(struct fg_policy_ops),
#ifdef PROBE_AUDIT_ONLY
    .phases = FG_PHASE_AUDIT,
#else
    .phases = FG_PHASE_AUTHENTICATE | FG_PHASE_AUTHORIZE | FG_PHASE_ADMIT |
              FG_PHASE_AUDIT,
    .authenticate = authenticate,
    .authorize = authorize,
    .admit = admit,
    .cancel = cancel,
#endif
    .instance_new = instance_new,
    .instance_free = instance_free,
    .audit = audit,
    .reload = reload,
};

static const struct fg_config_key keys[] = {
    {"log_file", FG_CONFIG_PATH, NULL, 1, 0, 0, "where lines go"},
    {"authenticate", FG_CONFIG_STRING, "none", 0, 0, 0, "allow|deny|none"},
    {"authorize", FG_CONFIG_STRING, "none", 0, 0, 0, "allow|deny|none"},
    {"admit", FG_CONFIG_STRING, "none", 0, 0, 0, "allow|deny|none"},
    {"async_phase", FG_CONFIG_STRING, "none", 0, 0, 0,
     "the phase whose verdict comes later"},
    {"delay", FG_CONFIG_DURATION, "0", 0, 0, 600000, "how much later"},
    {"done_inside", FG_CONFIG_BOOL, "false", 0, 0, 0,
     "call done() from inside the op instead"},
    {"user", FG_CONFIG_STRING, "probe:user", 0, 0, 0, "authenticated user"},
    {"deny_code", FG_CONFIG_INT, "0", 0, 0, 599, "0: the phase's"},
    {"deny_reason", FG_CONFIG_STRING, NULL, 0, 0, 0, "Status reason"},
    {"deny_message", FG_CONFIG_STRING, NULL, 0, 0, 0, "Status message"},
    {"retry_after", FG_CONFIG_INT, "0", 0, 0, 3600, "seconds"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_POLICY,
#ifdef PROBE_AUDIT_ONLY
    .name = "audit_probe",
#else
    .name = "policy_probe",
#endif
    .version = "0.0.1",
    .description = "test policy plugin: chosen verdicts, writes what it saw",
    .config_keys = keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
