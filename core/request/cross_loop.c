/* The cross-loop stream proxy (see cross_loop.h).
 *
 * A stream has two halves: R, the request's loop (the exchange's side),
 * and O, the owner loop (the driver's side). Each half's fields are
 * touched only on its own loop; they talk by jobs posted to each other's
 * queue, which run in order, so a write, end or close always follows the
 * open it belongs to. The head is copied once into memory the stream owns,
 * so the request's own arena may go as soon as R is done.
 *
 * Flow control: O counts the response bytes it posted and R has not yet
 * handed to the client; past a window, or while R's client is full, the
 * driver's data() gets FG_PAUSE, and R's credits resume it.
 *
 * Lifetime: R's close marks R closed (nothing more reaches the exchange)
 * and posts O's close; O closes the driver stream and posts "released",
 * the last job for this stream on R's queue, which frees it. */
#include "request/cross_loop.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon/gateway.h"
#include "request/arena.h"

/* Response bytes in flight between the loops before the driver pauses. */
#define WINDOW_HIGH (256 * 1024)
#define WINDOW_LOW (64 * 1024)

struct xstream {
    /* R: the request's loop */
    struct fg_worker *rw;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    int r_closed;
    /* O: the owner loop */
    struct fg_member_rt *om;
    void *real;    /* the driver's stream, NULL before open / after close */
    int o_paused;  /* the driver was told FG_PAUSE */
    int r_blocked; /* R's client said FG_PAUSE and has not resumed */
    size_t inflight;
    struct fg_arena *arena; /* the head's copy, and cb->alloc */
    struct fg_request_head head;
};

/* One job: which stream, what, and a payload. */
struct xjob {
    struct xstream *xs;
    int a;      /* status / code / flag */
    size_t len; /* payload length */
    const struct fg_header *headers;
    size_t n_headers;
    const char *reason, *message;
    unsigned char data[];
};

static struct xjob *job_new(struct xstream *xs, size_t extra)
{
    struct xjob *j = calloc(1, sizeof(*j) + extra);
    if (j)
        j->xs = xs;
    return j;
}

/* Posts J to the queue of W; on failure (out of memory, the loop is gone)
 * the job is dropped: the other half learns of it by its own close. */
static int post(struct fg_worker *w, fg_job_fn run, struct xjob *j)
{
    if (!j)
        return -1;
    if (fg_loop_queue_post(&w->queue, run, j) != 0) {
        free(j);
        return -1;
    }
    return 0;
}

/* ---- the head, copied for the owner loop ------------------------------- */

static const char *dup_str(struct fg_arena *a, const char *s, int *bad)
{
    if (!s)
        return NULL;
    char *p = fg_arena_strndup(a, s, strlen(s));
    *bad |= !p;
    return p;
}

static const char *const *dup_strv(struct fg_arena *a, const char *const *v,
                                   size_t n, int *bad)
{
    if (!n)
        return NULL;
    const char **out = fg_arena_alloc(a, n * sizeof(*out));
    if (!out) {
        *bad = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = dup_str(a, v[i], bad);
    return out;
}

static const struct fg_identity *
dup_identity(struct fg_arena *a, const struct fg_identity *id, int *bad)
{
    if (!id)
        return NULL;
    struct fg_identity *c = fg_arena_alloc(a, sizeof(*c));
    struct fg_identity_extra *ex =
        id->n_extra ? fg_arena_alloc(a, id->n_extra * sizeof(*ex)) : NULL;
    if (!c || (id->n_extra && !ex)) {
        *bad = 1;
        return NULL;
    }
    c->user = dup_str(a, id->user, bad);
    c->uid = dup_str(a, id->uid, bad);
    c->groups = dup_strv(a, id->groups, id->n_groups, bad);
    c->n_groups = id->n_groups;
    for (size_t i = 0; i < id->n_extra; i++) {
        ex[i].key = dup_str(a, id->extra[i].key, bad);
        ex[i].values =
            dup_strv(a, id->extra[i].values, id->extra[i].n_values, bad);
        ex[i].n_values = id->extra[i].n_values;
    }
    c->extra = ex;
    c->n_extra = id->n_extra;
    return c;
}

static const struct fg_request_info *dup_info(struct fg_arena *a,
                                              const struct fg_request_info *ri,
                                              const char *path, int *bad)
{
    if (!ri)
        return NULL;
    struct fg_request_info *c = fg_arena_alloc(a, sizeof(*c));
    if (!c) {
        *bad = 1;
        return NULL;
    }
    c->is_resource = ri->is_resource;
    c->verb = dup_str(a, ri->verb, bad);
    c->api_prefix = dup_str(a, ri->api_prefix, bad);
    c->api_group = dup_str(a, ri->api_group, bad);
    c->api_version = dup_str(a, ri->api_version, bad);
    c->namespace_ = dup_str(a, ri->namespace_, bad);
    c->resource = dup_str(a, ri->resource, bad);
    c->subresource = dup_str(a, ri->subresource, bad);
    c->name = dup_str(a, ri->name, bad);
    c->path = path;
    return c;
}

static int copy_head(struct xstream *xs, const struct fg_request_head *h)
{
    struct fg_arena *a = xs->arena;
    struct fg_request_head *c = &xs->head;
    int bad = 0;
    *c = *h;
    c->method = dup_str(a, h->method, &bad);
    c->path = dup_str(a, h->path, &bad);
    c->query = dup_str(a, h->query, &bad);
    c->upgrade = dup_str(a, h->upgrade, &bad);
    c->base_path = dup_str(a, h->base_path, &bad);
    c->request_id = dup_str(a, h->request_id, &bad);
    struct fg_header *hs =
        h->n_headers ? fg_arena_alloc(a, h->n_headers * sizeof(*hs)) : NULL;
    if (h->n_headers && !hs)
        return -1;
    for (size_t i = 0; i < h->n_headers; i++) {
        hs[i] = h->headers[i];
        hs[i].name =
            fg_arena_strndup(a, h->headers[i].name, h->headers[i].name_len);
        hs[i].value =
            fg_arena_strndup(a, h->headers[i].value, h->headers[i].value_len);
        bad |= !hs[i].name || !hs[i].value;
    }
    c->headers = hs;
    c->identity = dup_identity(a, h->identity, &bad);
    c->info = dup_info(a, h->info, c->path, &bad);
    return bad ? -1 : 0;
}

/* ---- R: the request's loop ---------------------------------------------- */

static void r_released(void *arg)
{
    struct xjob *j = arg;
    fg_arena_free(j->xs->arena);
    free(j->xs);
    free(j);
}

static void r_head(void *arg)
{
    struct xjob *j = arg;
    if (!j->xs->r_closed)
        j->xs->cb->head(j->xs->ctx, j->a, j->headers, j->n_headers);
    free(j);
}

static void o_credit(void *arg);

static void r_data(void *arg)
{
    struct xjob *j = arg;
    struct xstream *xs = j->xs;
    if (xs->r_closed) {
        /* O's close is queued before anything posted now: no credit. */
        free(j);
        return;
    }
    int rc = xs->cb->data(xs->ctx, j->data, j->len);
    struct xjob *c = job_new(xs, 0);
    if (c) {
        c->len = j->len;
        c->a = rc == FG_PAUSE;
        post(xs->om->worker, o_credit, c);
    }
    free(j);
}

static void r_end(void *arg)
{
    struct xjob *j = arg;
    if (!j->xs->r_closed)
        j->xs->cb->end(j->xs->ctx);
    free(j);
}

static void r_error(void *arg)
{
    struct xjob *j = arg;
    if (!j->xs->r_closed)
        j->xs->cb->error(j->xs->ctx, j->a, j->reason, j->message);
    free(j);
}

static void r_body_flow(void *arg)
{
    struct xjob *j = arg;
    if (!j->xs->r_closed) {
        if (j->a)
            j->xs->cb->body_resume(j->xs->ctx);
        else
            j->xs->cb->body_pause(j->xs->ctx);
    }
    free(j);
}

/* ---- O: the driver's callbacks, on the owner loop ----------------------- */

static int x_head(void *ctx, int status, const struct fg_header *headers,
                  size_t n)
{
    struct xstream *xs = ctx;
    size_t bytes = n * sizeof(struct fg_header);
    for (size_t i = 0; i < n; i++)
        bytes += headers[i].name_len + headers[i].value_len;
    struct xjob *j = job_new(xs, bytes);
    if (!j)
        return -1;
    struct fg_header *out = (struct fg_header *)(void *)j->data;
    char *p = (char *)(out + n);
    for (size_t i = 0; i < n; i++) {
        out[i] = headers[i];
        out[i].name = memcpy(p, headers[i].name, headers[i].name_len);
        p += headers[i].name_len;
        out[i].value = memcpy(p, headers[i].value, headers[i].value_len);
        p += headers[i].value_len;
    }
    j->a = status;
    j->headers = out;
    j->n_headers = n;
    return post(xs->rw, r_head, j);
}

static int x_data(void *ctx, const void *buf, size_t len)
{
    struct xstream *xs = ctx;
    struct xjob *j = job_new(xs, len);
    if (!j)
        return -1;
    memcpy(j->data, buf, len);
    j->len = len;
    if (post(xs->rw, r_data, j) != 0)
        return -1;
    xs->inflight += len;
    if (xs->r_blocked || xs->inflight > WINDOW_HIGH) {
        xs->o_paused = 1;
        return FG_PAUSE;
    }
    return 0;
}

static int x_data_ref(void *ctx, const void *buf, size_t len,
                      fg_buffer_free_fn free_fn, void *arg)
{
    int rc = x_data(ctx, buf, len);
    free_fn(arg, buf, len);
    return rc;
}

static void x_end(void *ctx)
{
    struct xstream *xs = ctx;
    post(xs->rw, r_end, job_new(xs, 0));
}

static void x_error(void *ctx, int code, const char *reason,
                    const char *message)
{
    struct xstream *xs = ctx;
    size_t rl = reason ? strlen(reason) + 1 : 0;
    size_t ml = message ? strlen(message) + 1 : 0;
    struct xjob *j = job_new(xs, rl + ml);
    if (!j)
        return;
    j->a = code;
    if (reason)
        j->reason = memcpy(j->data, reason, rl);
    if (message)
        j->message = memcpy(j->data + rl, message, ml);
    post(xs->rw, r_error, j);
}

static void x_body_flow(struct xstream *xs, int resume)
{
    struct xjob *j = job_new(xs, 0);
    if (j)
        j->a = resume;
    post(xs->rw, r_body_flow, j);
}

static void x_body_pause(void *ctx)
{
    x_body_flow(ctx, 0);
}

static void x_body_resume(void *ctx)
{
    x_body_flow(ctx, 1);
}

static void *x_alloc(void *ctx, size_t len)
{
    struct xstream *xs = ctx;
    return fg_arena_alloc(xs->arena, len);
}

static const struct fg_stream_callbacks owner_callbacks = {
    x_head,       x_data,        x_end,      x_error,
    x_body_pause, x_body_resume, x_data_ref, x_alloc,
};

/* ---- O: jobs on the owner loop ----------------------------------------- */

static void o_fail(struct xstream *xs, int code, const char *message)
{
    x_error(xs, code, NULL, message);
}

static void o_open(void *arg)
{
    struct xjob *j = arg;
    struct xstream *xs = j->xs;
    const struct fg_member_rt *m = xs->om;
    xs->real =
        m->ops->stream_open(m->instance, &xs->head, &owner_callbacks, xs);
    if (!xs->real)
        o_fail(xs, 503, "the member's driver refused the request");
    free(j);
}

static void o_write(void *arg)
{
    struct xjob *j = arg;
    struct xstream *xs = j->xs;
    if (xs->real && xs->om->ops->stream_write(xs->real, j->data, j->len) != 0)
        o_fail(xs, 502, "the member's driver failed");
    free(j);
}

static void o_end(void *arg)
{
    struct xjob *j = arg;
    if (j->xs->real)
        j->xs->om->ops->stream_end(j->xs->real);
    free(j);
}

static void o_maybe_resume(struct xstream *xs)
{
    if (xs->real && xs->o_paused && !xs->r_blocked &&
        xs->inflight <= WINDOW_LOW) {
        xs->o_paused = 0;
        xs->om->ops->stream_resume(xs->real);
    }
}

static void o_credit(void *arg)
{
    struct xjob *j = arg;
    struct xstream *xs = j->xs;
    xs->inflight -= j->len;
    if (j->a)
        xs->r_blocked = 1;
    o_maybe_resume(xs);
    free(j);
}

static void o_resume(void *arg)
{
    struct xjob *j = arg;
    j->xs->r_blocked = 0;
    o_maybe_resume(j->xs);
    free(j);
}

static void o_close(void *arg)
{
    struct xjob *j = arg;
    struct xstream *xs = j->xs;
    if (xs->real)
        xs->om->ops->stream_close(xs->real);
    xs->real = NULL;
    /* The last job of this stream on R's queue: the others came before. */
    if (fg_loop_queue_post(&xs->rw->queue, r_released, j) != 0) {
        /* R's loop is gone (teardown): nothing there can touch XS. */
        fg_arena_free(xs->arena);
        free(xs);
        free(j);
    }
}

/* ---- the proxy's driver ops, on R --------------------------------------- */

/* INSTANCE is this worker's fg_member_rt of the member (see gateway.h). */
static void *p_open(void *instance, const struct fg_request_head *head,
                    const struct fg_stream_callbacks *cb, void *ctx)
{
    struct fg_member_rt *local = instance;
    struct xstream *xs = calloc(1, sizeof(*xs));
    if (!xs)
        return NULL;
    xs->arena = fg_arena_new(0);
    xs->cb = cb;
    xs->ctx = ctx;
    xs->om = local->owner;
    xs->rw = local->worker;
    if (!xs->arena || copy_head(xs, head) != 0 ||
        post(xs->om->worker, o_open, job_new(xs, 0)) != 0) {
        fg_arena_free(xs->arena);
        free(xs);
        return NULL;
    }
    return xs;
}

static int p_write(void *stream, const void *buf, size_t len)
{
    struct xstream *xs = stream;
    struct xjob *j = job_new(xs, len);
    if (!j)
        return -1;
    memcpy(j->data, buf, len);
    j->len = len;
    return post(xs->om->worker, o_write, j);
}

static void p_end(void *stream)
{
    struct xstream *xs = stream;
    post(xs->om->worker, o_end, job_new(xs, 0));
}

static void p_resume(void *stream)
{
    struct xstream *xs = stream;
    post(xs->om->worker, o_resume, job_new(xs, 0));
}

static void p_close(void *stream)
{
    struct xstream *xs = stream;
    xs->r_closed = 1;
    struct xjob *j = job_new(xs, 0);
    if (post(xs->om->worker, o_close, j) != 0) {
        /* The owner loop is gone (teardown): it holds no stream any more. */
        fg_arena_free(xs->arena);
        free(xs);
    }
}

/* ---- health, readable from any worker ---------------------------------- */

static void p_health(void *instance, struct fg_member_health *out)
{
    const struct fg_member_rt *local = instance;
    struct fg_member_rt *owner = local->owner;
    pthread_mutex_lock(&owner->health_lock);
    *out = owner->health_copy;
    pthread_mutex_unlock(&owner->health_lock);
}

static void refresh_health(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_member_rt *owner = arg;
    struct fg_member_health h;
    memset(&h, 0, sizeof(h));
    owner->ops->health(owner->instance, &h);
    pthread_mutex_lock(&owner->health_lock);
    owner->health_copy = h;
    pthread_mutex_unlock(&owner->health_lock);
}

int fg_cross_loop_health_start(struct fg_member_rt *owner)
{
    memset(&owner->health_copy, 0, sizeof(owner->health_copy));
    if (!owner->ops->health)
        owner->health_copy.ready = 1;
    if (pthread_mutex_init(&owner->health_lock, NULL) != 0)
        return -1;
    owner->health_lock_ready = 1;
    if (!owner->ops->health)
        return 0;
    owner->health_ev =
        event_new(owner->worker->base, -1, EV_PERSIST, refresh_health, owner);
    if (!owner->health_ev)
        return -1;
    struct timeval second = {1, 0};
    refresh_health(-1, 0, owner);
    return event_add(owner->health_ev, &second);
}

void fg_cross_loop_health_stop(struct fg_member_rt *owner)
{
    if (owner->health_ev)
        event_free(owner->health_ev);
    owner->health_ev = NULL;
    if (owner->health_lock_ready)
        pthread_mutex_destroy(&owner->health_lock);
    owner->health_lock_ready = 0;
}

const struct fg_driver_ops fg_cross_loop_ops = {
    .struct_size = sizeof(struct fg_driver_ops),
    .scope = FG_SCOPE_WORKER,
    .stream_open = p_open,
    .stream_write = p_write,
    .stream_end = p_end,
    .stream_resume = p_resume,
    .stream_close = p_close,
    .health = p_health,
};
