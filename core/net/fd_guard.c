/* See fd_guard.h. libevent's listener retries accept() as soon as the
 * socket is readable again, which with EMFILE is at once and for ever: the
 * error callback below takes the listener off the loop instead, and a
 * timer puts it back after a backoff. */
#include "net/fd_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "daemon/gateway.h"
#include "base/log.h"

#define BACKOFF_FIRST_MS 50
#define BACKOFF_MAX_MS 1000
/* At most one log line per worker in this long, whatever happens. */
#define LOG_INTERVAL_MS 1000
/* Descriptors besides client connections: stdio, logs, plugins' files,
 * and per worker its loop, wake-ups, listener and reserve, and per member
 * and worker a driver's upstream connections and probes. */
#define FDS_FIXED 32
#define FDS_PER_WORKER 8
#define FDS_PER_MEMBER 4

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int out_of_descriptors(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

static void take_reserve(struct fg_accept_guard *g)
{
    if (g->reserve_fd < 0)
        g->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* One line per LOG_INTERVAL_MS with what happened since the last one. */
static void report(struct fg_worker *w, const char *what)
{
    struct fg_accept_guard *g = &w->accept_guard;
    uint64_t now = mono_ms();
    if (g->last_log_ms && now - g->last_log_ms < LOG_INTERVAL_MS)
        return;
    g->last_log_ms = now;
    fg_warn("worker %u: accept: %s; %s (%llu accept error(s) and %llu "
            "client(s) turned away since the last report)",
            w->index, strerror(g->last_errno), what,
            (unsigned long long)g->errors, (unsigned long long)g->shed);
    g->errors = g->shed = 0;
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_worker *w = arg;
    struct fg_accept_guard *g = &w->accept_guard;
    if (!w->listener)
        return;
    int probe = out_of_descriptors(g->last_errno)
                    ? open("/dev/null", O_RDONLY | O_CLOEXEC)
                    : -1;
    if (probe >= 0) {
        close(probe); /* descriptors are back: everyone is served again */
    } else if (out_of_descriptors(g->last_errno) && g->reserve_fd >= 0) {
        /* Still none: the reserve makes room for the oldest waiting
         * client, which is closed at once. It learns now that it should
         * retry, instead of waiting in the backlog for its own timeout. */
        close(g->reserve_fd);
        g->reserve_fd = -1;
        int c = accept4(evconnlistener_get_fd(w->listener), NULL, NULL,
                        SOCK_CLOEXEC);
        if (c >= 0) {
            close(c);
            g->shed++;
            atomic_fetch_add_explicit(&w->metrics.conns_shed, 1,
                                      memory_order_relaxed);
        }
        take_reserve(g);
    }
    g->paused = 0;
    atomic_store_explicit(&w->metrics.accept_paused, 0, memory_order_relaxed);
    /* If descriptors are still short, the next accept fails at once and
     * the error callback pauses again, for twice as long. */
    evconnlistener_enable(w->listener);
}

static void accept_error(struct evconnlistener *l, void *arg)
{
    struct fg_worker *w = arg;
    struct fg_accept_guard *g = &w->accept_guard;
    g->last_errno = EVUTIL_SOCKET_ERROR();
    g->errors++;
    atomic_fetch_add_explicit(&w->metrics.accept_errors, 1,
                              memory_order_relaxed);
    /* Any accept error that is not transient (libevent retries those)
     * would come back at once: every one pauses. */
    evconnlistener_disable(l);
    g->backoff_ms = g->backoff_ms ? g->backoff_ms * 2 : BACKOFF_FIRST_MS;
    if (g->backoff_ms > BACKOFF_MAX_MS)
        g->backoff_ms = BACKOFF_MAX_MS;
    g->paused = 1;
    atomic_store_explicit(&w->metrics.accept_paused, 1, memory_order_relaxed);
    char what[64];
    snprintf(what, sizeof(what), "not accepting for %llu ms",
             (unsigned long long)g->backoff_ms);
    report(w, what);
    struct timeval tv = {(time_t)(g->backoff_ms / 1000),
                         (suseconds_t)(g->backoff_ms % 1000) * 1000};
    evtimer_add(g->resume_ev, &tv);
}

void fg_accept_guard_ok(struct fg_worker *w)
{
    struct fg_accept_guard *g = &w->accept_guard;
    if (!g->backoff_ms)
        return;
    g->backoff_ms = 0;
    take_reserve(g);
    if (g->errors || g->shed)
        report(w, "accepting again");
}

int fg_accept_guard_init(struct fg_worker *w, struct fg_error *err)
{
    struct fg_accept_guard *g = &w->accept_guard;
    memset(g, 0, sizeof(*g));
    g->reserve_fd = -1;
    g->resume_ev = evtimer_new(w->base, resume_cb, w);
    if (!g->resume_ev)
        return fg_error_set(err, "out of memory");
    take_reserve(g);
    if (g->reserve_fd < 0)
        return fg_error_set(err, "cannot open /dev/null: %s", strerror(errno));
    evconnlistener_set_error_cb(w->listener, accept_error);
    return 0;
}

void fg_accept_guard_free(struct fg_worker *w)
{
    struct fg_accept_guard *g = &w->accept_guard;
    if (!g->resume_ev)
        return; /* never set up (the reserve was not taken), or freed */
    event_free(g->resume_ev);
    g->resume_ev = NULL;
    if (g->reserve_fd >= 0) {
        close(g->reserve_fd);
        g->reserve_fd = -1;
    }
    if (g->paused) {
        g->paused = 0;
        atomic_store_explicit(&w->metrics.accept_paused, 0,
                              memory_order_relaxed);
    }
}

/* ---- the budget --------------------------------------------------------- */

static const struct fg_config_section *
gateway_section(const struct fg_config *c)
{
    for (size_t i = 0; i < c->n_sections; i++)
        if (strcmp(c->sections[i].kind, "gateway") == 0)
            return &c->sections[i];
    return NULL;
}

int fg_fd_budget(struct fg_config *cfg, int raise, struct fg_diag *diag)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    uint64_t workers = cfg->workers ? cfg->workers : 1;
    uint64_t besides = FDS_FIXED + workers * FDS_PER_WORKER +
                       workers * cfg->n_members * FDS_PER_MEMBER;
    uint64_t need = workers * cfg->limits.max_connections + besides;
    rlim_t limit = raise ? rl.rlim_cur : rl.rlim_max;
    if (raise && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        struct rlimit up = rl;
        up.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need
                          ? (rlim_t)need
                          : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            limit = up.rlim_cur;
    }
    if (limit == RLIM_INFINITY || limit >= need)
        return 0;
    uint64_t room = limit > besides + workers ? (limit - besides) / workers : 1;
    const struct fg_config_section *s = gateway_section(cfg);
    fg_diag_add(
        diag, s ? s->file : NULL, s ? fg_config_line(s, "max_connections") : 0,
        "max_connections = %u with %llu worker(s) needs %llu file "
        "descriptors, but RLIMIT_NOFILE allows %llu: %s at most %llu "
        "connection(s) per worker (raise the limit, e.g. "
        "LimitNOFILE= in the systemd unit)",
        cfg->limits.max_connections, (unsigned long long)workers,
        (unsigned long long)need, (unsigned long long)limit,
        raise ? "serving" : "a start would serve", (unsigned long long)room);
    if (raise)
        cfg->limits.max_connections = (uint32_t)room;
    return 1;
}
