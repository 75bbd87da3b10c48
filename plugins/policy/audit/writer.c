/* The audit file writer: one thread per file for the whole process, shared
 * by the per-worker instances that name it (refcounted), so that no event
 * loop ever waits for a disk. Loops hand events over through a bounded
 * queue; when it is full the event is dropped and counted, never waited
 * for. The thread rotates the file by size (PATH.1 .. PATH.N), reopens it
 * by its path on request (SIGHUP, after a `mv`) once what came before is
 * written, and when a write fails (a full disk) it holds the batch and
 * retries it, so that nothing is lost unless the queue overflows
 * meanwhile; failures and drops are counted for the log. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"

struct item {
    char *line;
    size_t len;
};

struct audit_writer {
    struct audit_writer *next; /* the registry's list */
    int refs;                  /* under the registry's lock */
    struct audit_writer_config cfg;
    char *path;
    pthread_t thread;

    pthread_mutex_t mu; /* everything below */
    pthread_cond_t wake, idle;
    struct item *ring;
    size_t head, count;
    int stop, reopen, sleeping;
    size_t in_batch; /* taken by the thread, not yet written */
    struct audit_writer_stats st;
    int failing, err; /* the last attempt failed, with errno ERR */
    int reported_failing;
    uint64_t reported_dropped;
    uint64_t report_ms; /* when a drop was last reported */

    /* the thread's own */
    int fd;
    int regular; /* only a regular file is rotated */
    int64_t size;
};

/* Longest path accepted: room for ".N" of the backups. */
#define AUDIT_PATH_MAX 4000

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct audit_writer *registry;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the file (the thread's, or before the thread starts) --------------- */

static int open_file(struct audit_writer *w)
{
    int fd = open(w->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
                  0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    if (w->fd >= 0)
        close(w->fd);
    w->fd = fd;
    w->regular = S_ISREG(st.st_mode);
    w->size = st.st_size;
    return 0;
}

/* PATH -> PATH.1 -> ... -> PATH.N (the oldest goes), then a new PATH. */
static int rotate(struct audit_writer *w)
{
    char from[AUDIT_PATH_MAX + 16], to[AUDIT_PATH_MAX + 16];
    size_t n = sizeof(to);
    for (int i = w->cfg.max_backups; i > 1; i--) {
        snprintf(from, n, "%s.%d", w->path, i - 1);
        snprintf(to, n, "%s.%d", w->path, i);
        if (rename(from, to) != 0 && errno != ENOENT)
            return -1;
    }
    snprintf(to, n, "%s.1", w->path);
    if (rename(w->path, to) != 0 && errno != ENOENT)
        return -1;
    pthread_mutex_lock(&w->mu);
    w->st.rotations++;
    pthread_mutex_unlock(&w->mu);
    return open_file(w);
}

/* Writes the events of BATCH from *DONE on (with *OFF bytes of the first
 * already in the file), rotating where the next event would not fit. 0
 * when all are written; -1 with errno, *DONE and *OFF where it stopped. */
static int write_events(struct audit_writer *w, struct item *batch, size_t n,
                        size_t *done, size_t *off)
{
    while (*done < n) {
        /* As many whole events as fit before the size limit, at once. */
        struct item *it = &batch[*done];
        if (*off == 0 && w->regular && w->size > 0 &&
            w->size + (int64_t)it->len > w->cfg.max_size && rotate(w) != 0)
            return -1;
        size_t end = *done + 1;
        int64_t room = w->cfg.max_size - w->size - (int64_t)it->len;
        while (end < n && (!w->regular || (int64_t)batch[end].len <= room)) {
            room -= (int64_t)batch[end].len;
            end++;
        }
        char *buf = NULL;
        size_t len = it->len - *off;
        const char *p = it->line + *off;
        if (end > *done + 1) {
            for (size_t i = *done + 1; i < end; i++)
                len += batch[i].len;
            if ((buf = malloc(len))) {
                size_t at = it->len - *off;
                memcpy(buf, p, at);
                for (size_t i = *done + 1; i < end; i++) {
                    memcpy(buf + at, batch[i].line, batch[i].len);
                    at += batch[i].len;
                }
                p = buf;
            } else {
                end = *done + 1; /* one at a time then */
                len = it->len - *off;
            }
        }
        ssize_t wrote = write(w->fd, p, len);
        int e = errno;
        free(buf);
        if (wrote > 0)
            w->size += wrote;
        /* Move DONE/OFF past what reached the file. */
        size_t left = wrote > 0 ? (size_t)wrote : 0;
        size_t ok = 0;
        while (left && *done < end) {
            size_t rest = batch[*done].len - *off;
            if (left < rest) {
                *off += left;
                break;
            }
            left -= rest;
            *off = 0;
            (*done)++;
            ok++;
        }
        pthread_mutex_lock(&w->mu);
        w->st.written += ok;
        w->in_batch -= ok;
        pthread_mutex_unlock(&w->mu);
        if (wrote < 0 || (size_t)wrote < len) {
            errno = wrote < 0 ? e : ENOSPC;
            return -1;
        }
    }
    return 0;
}

/* ---- the thread --------------------------------------------------------- */

/* A batch smaller than this waits up to COALESCE_MS for more events. */
#define COALESCE_EVENTS 64
#define COALESCE_MS 1

static void wait_ms(struct audit_writer *w, uint64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&w->wake, &w->mu, &ts);
}

static void *run(void *arg)
{
    struct audit_writer *w = arg;
    size_t cap = w->cfg.queue_max;
    struct item *batch = malloc(cap * sizeof(*batch));
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->count && !w->reopen && !w->stop) {
            w->sleeping = 1;
            pthread_cond_wait(&w->wake, &w->mu);
            w->sleeping = 0;
        }
        if (!w->count && !w->reopen)
            break; /* stopping, all written */
        if (w->count < COALESCE_EVENTS && !w->reopen && !w->stop)
            /* woken by one event: let the loops add more for a moment
             * (SLEEPING is clear, so they do not signal), so that a
             * busy gateway pays one wake-up and one write per batch, not
             * per request */
            wait_ms(w, COALESCE_MS);
        /* Without room for a batch, one event at a time. */
        size_t want = batch ? w->count : 1, n = 0;
        struct item one;
        struct item *b = batch ? batch : &one;
        while (n < want && w->count) {
            b[n++] = w->ring[w->head];
            w->head = (w->head + 1) % cap;
            w->count--;
        }
        w->in_batch = n;
        int reopen = w->reopen;
        w->reopen = 0;
        pthread_mutex_unlock(&w->mu);

        size_t done = 0, off = 0;
        int rc = write_events(w, b, n, &done, &off);
        if (reopen) {
            /* What came before the request is in the old file (or, when
             * that one failed, goes to the new one). */
            off = 0;
            if (open_file(w) == 0)
                rc = write_events(w, b, n, &done, &off);
            else
                rc = -1;
        }
        while (rc != 0) {
            int e = errno;
            pthread_mutex_lock(&w->mu);
            w->st.failures++;
            w->failing = 1;
            w->err = e;
            if (w->stop) {
                /* Shutting down on a failing file: the rest is lost. */
                w->st.dropped += n - done;
                w->in_batch = 0;
                pthread_mutex_unlock(&w->mu);
                break;
            }
            wait_ms(w, w->cfg.retry_ms);
            reopen = w->reopen;
            w->reopen = 0;
            pthread_mutex_unlock(&w->mu);
            if (reopen) {
                off = 0;
                if (open_file(w) != 0)
                    continue;
            }
            rc = write_events(w, b, n, &done, &off);
        }
        for (size_t i = 0; i < n; i++)
            free(b[i].line);
        pthread_mutex_lock(&w->mu);
        if (rc == 0)
            w->failing = 0;
        w->in_batch = 0;
        pthread_cond_broadcast(&w->idle);
    }
    pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->mu);
    free(batch);
    return NULL;
}

/* ---- the loops' side ---------------------------------------------------- */

static int same_settings(const struct audit_writer_config *a,
                         const struct audit_writer_config *b)
{
    return a->max_size == b->max_size && a->max_backups == b->max_backups &&
           a->queue_max == b->queue_max && a->retry_ms == b->retry_ms;
}

static void destroy(struct audit_writer *w)
{
    for (size_t i = 0; i < w->count; i++)
        free(w->ring[(w->head + i) % w->cfg.queue_max].line);
    if (w->fd >= 0)
        close(w->fd);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->idle);
    pthread_mutex_destroy(&w->mu);
    free(w->ring);
    free(w->path);
    free(w);
}

static struct audit_writer *create(const struct audit_writer_config *cfg,
                                   char *err, size_t err_len)
{
    if (strlen(cfg->path) > AUDIT_PATH_MAX) {
        snprintf(err, err_len, "%.64s...: the path is too long", cfg->path);
        return NULL;
    }
    struct audit_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    w->fd = -1;
    w->cfg = *cfg;
    w->path = strdup(cfg->path);
    w->cfg.path = w->path;
    w->ring = calloc(cfg->queue_max, sizeof(*w->ring));
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, &ca);
    pthread_cond_init(&w->idle, &ca);
    pthread_condattr_destroy(&ca);
    if (!w->path || !w->ring) {
        snprintf(err, err_len, "out of memory");
        destroy(w);
        return NULL;
    }
    if (open_file(w) != 0) {
        snprintf(err, err_len, "%s: %s", cfg->path, strerror(errno));
        destroy(w);
        return NULL;
    }
    /* The thread takes no signal: the gateway's loops handle them, and a
     * write past RLIMIT_FSIZE then fails with EFBIG (counted) instead of
     * SIGXFSZ ending the process. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, run, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, err_len, "cannot start the audit writer thread: %s",
                 strerror(rc));
        destroy(w);
        return NULL;
    }
    return w;
}

struct audit_writer *audit_writer_acquire(const struct audit_writer_config *cfg,
                                          char *err, size_t err_len)
{
    pthread_mutex_lock(&registry_mu);
    struct audit_writer *w = registry;
    while (w && strcmp(w->path, cfg->path) != 0)
        w = w->next;
    if (w && !same_settings(&w->cfg, cfg)) {
        snprintf(err, err_len,
                 "%s is written by another [plugin] section with other "
                 "settings",
                 cfg->path);
        w = NULL;
    } else if (w) {
        w->refs++;
    } else if ((w = create(cfg, err, err_len))) {
        w->refs = 1;
        w->next = registry;
        registry = w;
    }
    pthread_mutex_unlock(&registry_mu);
    return w;
}

void audit_writer_release(struct audit_writer *w)
{
    pthread_mutex_lock(&registry_mu);
    int last = --w->refs == 0;
    if (last) {
        struct audit_writer **p = &registry;
        while (*p != w)
            p = &(*p)->next;
        *p = w->next;
    }
    pthread_mutex_unlock(&registry_mu);
    if (!last)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    destroy(w);
}

int audit_writer_submit(struct audit_writer *w, char *line, size_t len)
{
    pthread_mutex_lock(&w->mu);
    /* The bound counts the batch the thread holds (retried on a full
     * disk) with what waits behind it. */
    if (w->count + w->in_batch >= w->cfg.queue_max) {
        w->st.dropped++;
        pthread_mutex_unlock(&w->mu);
        free(line);
        return -1;
    }
    w->ring[(w->head + w->count) % w->cfg.queue_max] = (struct item){line, len};
    w->count++;
    if (w->sleeping)
        pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

void audit_writer_reopen(struct audit_writer *w)
{
    pthread_mutex_lock(&w->mu);
    w->reopen = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
}

void audit_writer_stats(struct audit_writer *w, struct audit_writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->st;
    out->queued = w->count + w->in_batch;
    pthread_mutex_unlock(&w->mu);
}

/* Drops are reported at most this often; state changes at once. */
#define DROP_REPORT_MS 10000u

int audit_writer_report(struct audit_writer *w, char *out, size_t len)
{
    pthread_mutex_lock(&w->mu);
    int said = 1;
    unsigned long long written = w->st.written, dropped = w->st.dropped,
                       failures = w->st.failures;
    size_t queued = w->count + w->in_batch;
    if (w->failing && !w->reported_failing) {
        snprintf(out, len,
                 "%s: cannot write: %s; %zu events held and retried every "
                 "%llums (%llu written, %llu dropped, %llu failed attempts)",
                 w->path, strerror(w->err), queued,
                 (unsigned long long)w->cfg.retry_ms, written, dropped,
                 failures);
        w->reported_failing = 1;
    } else if (!w->failing && w->reported_failing) {
        snprintf(out, len,
                 "%s: writing again (%llu written, %llu dropped, %llu failed "
                 "attempts)",
                 w->path, written, dropped, failures);
        w->reported_failing = 0;
    } else if (dropped > w->reported_dropped &&
               (w->reported_dropped == 0 ||
                mono_ms() - w->report_ms >= DROP_REPORT_MS)) {
        snprintf(out, len,
                 "%s: the queue of %zu events is full: %llu events dropped "
                 "so far (%llu written)",
                 w->path, w->cfg.queue_max, dropped, written);
        w->reported_dropped = dropped;
        w->report_ms = mono_ms();
    } else {
        said = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return said;
}

int audit_writer_flush(struct audit_writer *w, uint64_t timeout_ms)
{
    uint64_t end = mono_ms() + timeout_ms;
    pthread_mutex_lock(&w->mu);
    while ((w->count || w->in_batch || w->reopen) && mono_ms() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 10 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->idle, &w->mu, &ts);
    }
    int rc = w->count || w->in_batch || w->reopen ? -1 : 0;
    pthread_mutex_unlock(&w->mu);
    return rc;
}
