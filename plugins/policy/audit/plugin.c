/* audit: one audit.k8s.io/v1 Event per request as a JSON line, at the level
 * an audit Policy file gives it (kube-apiserver's --audit-policy-file
 * format; without one every request is recorded at Metadata), stage
 * ResponseComplete for every request and ResponseStarted for long-running
 * ones, written by the process-wide writer thread (writer.c). The gateway
 * hands policy plugins no request bodies, so the Request and
 * RequestResponse levels are recorded as Metadata. SIGHUP reopens the file
 * and re-reads the policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"

/* A policy file larger than this is a mistake, not a policy. */
#define POLICY_MAX_BYTES (4u << 20)

/* A long-running request that passed admit: when it came, for both its
 * stages (ResponseStarted and ResponseComplete carry the same time). */
struct started {
    struct started *next;
    const struct fg_policy_request *req;
    uint64_t received_us;
};

struct audit {
    const struct fg_host *host;
    struct audit_writer *writer;
    struct audit_policy *policy; /* NULL: everything at Metadata */
    const char *policy_file;     /* the section's, lives as long */
    struct started *started;
};

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void say_bodies(struct audit *a)
{
    if (a->policy && audit_policy_wants_bodies(a->policy))
        a->host->log(a->host, FG_LOG_WARN,
                     "%s: the Request and RequestResponse levels are "
                     "recorded as Metadata (the gateway does not read "
                     "request bodies)",
                     a->policy_file);
}

static void instance_free(void *instance)
{
    struct audit *a = instance;
    while (a->started) {
        struct started *s = a->started;
        a->started = s->next;
        free(s);
    }
    if (a->writer)
        audit_writer_release(a->writer);
    audit_policy_free(a->policy);
    free(a);
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    struct audit *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    a->host = host;
    a->policy_file = s->get(s, "policy_file");
    if (a->policy_file &&
        !(a->policy = audit_policy_load(a->policy_file, POLICY_MAX_BYTES, err,
                                        err_len))) {
        instance_free(a);
        return NULL;
    }
    const struct audit_writer_config cfg = {
        .path = s->get(s, "path"),
        .max_size = s->get_int(s, "max_size", 0),
        .max_backups = (int)s->get_int(s, "max_backups", 0),
        .queue_max = (size_t)s->get_int(s, "queue", 0),
        .retry_ms = (uint64_t)s->get_int(s, "retry", 0),
    };
    if (!(a->writer = audit_writer_acquire(&cfg, err, err_len))) {
        instance_free(a);
        return NULL;
    }
    say_bodies(a);
    return a;
}

/* Writes REQ's event at STAGE, when the policy records it there. */
static void record(struct audit *a, const struct fg_policy_request *req,
                   enum audit_stage stage, int status, uint64_t received_us,
                   const char *denied_by)
{
    unsigned omit = 0;
    enum audit_level level =
        a->policy
            ? audit_policy_level(a->policy, req->identity, req->info, &omit)
            : AUDIT_LEVEL_METADATA;
    if (level == AUDIT_LEVEL_NONE || (omit & stage))
        return;
    const struct audit_event e = {
        .level = AUDIT_LEVEL_METADATA,
        .stage = stage,
        .req = req,
        .status = status,
        .received_us = received_us,
        .stage_us = wall_us(),
        .denied_by = denied_by,
    };
    size_t len;
    char *line = audit_event_json(&e, &len);
    if (line)
        audit_writer_submit(a->writer, line, len); /* a drop is counted */
    else
        a->host->log(a->host, FG_LOG_ERROR,
                     "out of memory: the audit event of request %s is lost",
                     req->request_id);
    char report[512];
    if (audit_writer_report(a->writer, report, sizeof(report)))
        a->host->log(a->host, FG_LOG_WARN, "%s", report);
}

/* Admit lets everything through: it only notes when a long-running
 * request came, for its ResponseStarted event. */
static enum fg_verdict admit(void *instance, struct fg_policy_call *c)
{
    struct audit *a = instance;
    if (!c->req->long_running)
        return FG_NO_OPINION;
    struct started *s = malloc(sizeof(*s));
    if (s) {
        *s = (struct started){a->started, c->req, wall_us()};
        a->started = s;
    }
    return FG_NO_OPINION;
}

/* Takes REQ's entry off the list: its received time, or 0. */
static uint64_t take_started(struct audit *a,
                             const struct fg_policy_request *req, int remove)
{
    for (struct started **p = &a->started; *p; p = &(*p)->next) {
        struct started *s = *p;
        if (s->req != req)
            continue;
        uint64_t t = s->received_us;
        if (remove) {
            *p = s->next;
            free(s);
        }
        return t;
    }
    return 0;
}

static void response_started(void *instance,
                             const struct fg_policy_request *req, int status)
{
    struct audit *a = instance;
    uint64_t received = take_started(a, req, 0);
    record(a, req, AUDIT_STAGE_STARTED, status, received ? received : wall_us(),
           NULL);
}

static void audit(void *instance, const struct fg_policy_request *req,
                  const struct fg_policy_outcome *outcome)
{
    struct audit *a = instance;
    uint64_t received = req->long_running ? take_started(a, req, 1) : 0;
    if (!received)
        received = wall_us() - outcome->duration_us;
    record(a, req, AUDIT_STAGE_COMPLETE, outcome->status, received,
           outcome->denied_by);
}

static void reload(void *instance)
{
    struct audit *a = instance;
    audit_writer_reopen(a->writer);
    struct audit_writer_stats st;
    audit_writer_stats(a->writer, &st);
    a->host->log(a->host, FG_LOG_INFO,
                 "reopening the audit log: %llu events written, %llu "
                 "dropped, %llu failed attempts, %llu rotations, %zu queued",
                 (unsigned long long)st.written, (unsigned long long)st.dropped,
                 (unsigned long long)st.failures,
                 (unsigned long long)st.rotations, st.queued);
    if (!a->policy_file)
        return;
    char err[512];
    struct audit_policy *p =
        audit_policy_load(a->policy_file, POLICY_MAX_BYTES, err, sizeof(err));
    if (!p) {
        a->host->log(a->host, FG_LOG_ERROR, "%s; the policy read before stays",
                     err);
        return;
    }
    audit_policy_free(a->policy);
    a->policy = p;
    say_bodies(a);
}

/* Never pending: nothing to drop. */
static void cancel(void *instance, struct fg_policy_call *c)
{
    (void)instance;
    (void)c;
}

static const struct fg_policy_ops ops = {
    .struct_size = sizeof(struct fg_policy_ops),
    .phases = FG_PHASE_ADMIT | FG_PHASE_AUDIT,
    .instance_new = instance_new,
    .instance_free = instance_free,
    .admit = admit,
    .cancel = cancel,
    .audit = audit,
    .reload = reload,
    .response_started = response_started,
};

static const struct fg_config_key keys[] = {
    {"path", FG_CONFIG_PATH, NULL, 1, 0, 0,
     "the audit log: one JSON Event per line (created mode 0600)"},
    {"policy_file", FG_CONFIG_FILE, NULL, 0, 0, 0,
     "an audit.k8s.io/v1 Policy (YAML or JSON); without it every request "
     "is recorded at Metadata"},
    {"max_size", FG_CONFIG_INT, "104857600", 0, 1024, INT64_C(1) << 40,
     "bytes after which the log is rotated to PATH.1"},
    {"max_backups", FG_CONFIG_INT, "5", 0, 1, 1000,
     "rotated files kept (PATH.1 .. PATH.N)"},
    {"queue", FG_CONFIG_INT, "10000", 0, 1, 1000000,
     "events waiting for the writer; beyond, events are dropped and counted"},
    {"retry", FG_CONFIG_DURATION, "1s", 0, 10, 60000,
     "wait before a failed write (a full disk) is tried again"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_POLICY,
    .name = "audit",
    .version = "1.0.0",
    .description = "writes an audit.k8s.io/v1 Event per request (JSON lines)",
    .config_keys = keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
