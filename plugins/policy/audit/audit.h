/* The audit plugin's internal interface:
 * the audit Policy and its rule matching (policy.c), the audit.k8s.io/v1
 * Event line (event.c) and the process-wide file writer (writer.c). */
#ifndef FG_AUDIT_H
#define FG_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <fedgate/fedgate.h>
#include <fedgate/yaml.h>

/* Limits of what a policy file (YAML or JSON, fedgate/yaml.h) may hold: a
 * small document, not a bomb. */
#define AUDIT_YAML_MAX_DEPTH 32
#define AUDIT_YAML_MAX_NODES 100000

/* ---- the audit Policy (policy.c) --------------------------------------- */

enum audit_level {
    AUDIT_LEVEL_NONE,
    AUDIT_LEVEL_METADATA,
    AUDIT_LEVEL_REQUEST,
    AUDIT_LEVEL_REQUEST_RESPONSE,
};

enum audit_stage {
    AUDIT_STAGE_RECEIVED = 1u << 0,
    AUDIT_STAGE_STARTED = 1u << 1,
    AUDIT_STAGE_COMPLETE = 1u << 2,
    AUDIT_STAGE_PANIC = 1u << 3,
};

struct audit_policy;

/* Reads an audit.k8s.io/v1 Policy (kube-apiserver's --audit-policy-file
 * format) from FILE, at most MAX_BYTES. NULL with "FILE:LINE: why" in ERR. */
struct audit_policy *audit_policy_load(const char *file, size_t max_bytes,
                                       char *err, size_t err_len);
/* The same from text; NAME is what ERR calls it. */
struct audit_policy *audit_policy_parse(const char *name, const char *buf,
                                        size_t len, char *err, size_t err_len);
void audit_policy_free(struct audit_policy *p);

/* Whether any rule asks for more than Metadata (the gateway has no
 * request bodies to give it). */
int audit_policy_wants_bodies(const struct audit_policy *p);

/* The level of the first rule that matches the request (None when none
 * does), and the stages (audit_stage bits) to leave out for it. ID may be
 * NULL (no identity: refused before). Non-resource rules match INFO->path,
 * the member's path (the gateway's own for its own paths). */
enum audit_level audit_policy_level(const struct audit_policy *p,
                                    const struct fg_identity *id,
                                    const struct fg_request_info *info,
                                    unsigned *omit);

const char *audit_level_name(enum audit_level level);

/* ---- one Event (event.c) ----------------------------------------------- */

struct audit_event {
    enum audit_level level;
    enum audit_stage stage;
    const struct fg_policy_request *req;
    int status;
    uint64_t received_us, stage_us; /* wall clock, µs since the epoch */
    const char *denied_by;          /* the deciding plugin, or NULL */
};

/* The event as one JSON line ending in '\n', malloc'd; *LEN its length.
 * NULL when out of memory. */
char *audit_event_json(const struct audit_event *e, size_t *len);

/* "2006-01-02T15:04:05.000000Z" of US into OUT (28 bytes at least). */
void audit_time_format(uint64_t us, char *out, size_t len);

/* ---- the file writer (writer.c) ---------------------------------------- */

struct audit_writer_config {
    const char *path;
    int64_t max_size;  /* rotate before the file would grow past it */
    int max_backups;   /* PATH.1 .. PATH.N kept */
    size_t queue_max;  /* events waiting for the writer thread */
    uint64_t retry_ms; /* after a failed write */
};

struct audit_writer_stats {
    uint64_t written;   /* events in a file */
    uint64_t dropped;   /* events refused: queue full */
    uint64_t failures;  /* write or open attempts that failed */
    uint64_t rotations; /* files rotated */
    size_t queued;      /* waiting now, the batch being retried included */
};

struct audit_writer;

/* The writer of CFG->path, shared by every instance in the process that
 * names the same file (refcounted; its thread starts with the first). NULL
 * with ERR when the file cannot be opened or another section writes the
 * same file with other settings. */
struct audit_writer *audit_writer_acquire(const struct audit_writer_config *cfg,
                                          char *err, size_t err_len);
/* Drops one reference; the last one writes what is queued and stops. */
void audit_writer_release(struct audit_writer *w);
/* Queues LINE (LEN bytes, malloc'd; taken over). Never blocks on I/O:
 * returns 0, or -1 when the queue is full (the event is counted as
 * dropped and freed). */
int audit_writer_submit(struct audit_writer *w, char *line, size_t len);
/* Reopens the file by its path (after it was moved away) once what was
 * queued before is written; nothing queued is lost. */
void audit_writer_reopen(struct audit_writer *w);
void audit_writer_stats(struct audit_writer *w, struct audit_writer_stats *out);
/* A line for the log when the writer's state changed since the last call
 * (failing, writing again, dropping): 1 and OUT filled, else 0. */
int audit_writer_report(struct audit_writer *w, char *out, size_t len);
/* Waits until every queued event is written or failed, at most
 * TIMEOUT_MS. 0 when the queue is empty. */
int audit_writer_flush(struct audit_writer *w, uint64_t timeout_ms);

#endif
