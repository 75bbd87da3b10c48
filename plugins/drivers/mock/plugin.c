/* The mock driver plugin: its descriptor and configuration keys, member
 * instances (one store per instance, loaded from the seed), and the stream
 * operations that answer a request once its body is complete, sending the
 * answer in chunks with backpressure. A list's or a watch's chunk is a
 * buffer of its own, handed over with data_ref: the core writes it as it
 * is, where data() would copy every byte of the list once more.
 *
 * Production runs from stream_end and stream_resume directly, and yields
 * to the loop through a 0 ms host timer after MOCK_TURN_CHUNKS chunks so
 * that one long list cannot hold the worker. A generation counter makes a
 * stream_resume that arrives from inside data() win over the FG_PAUSE that
 * data() then returns.
 *
 * A pod's exec, attach or portforward request is a session, not a
 * document: its stream hands every operation to exec.c or portforward.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock.h"

#define MOCK_CHUNK_BYTES (16 * 1024)
#define MOCK_TURN_CHUNKS 16
#define MOCK_DEFAULT_VERSION "v1.32.0"
#define MOCK_DEFAULT_MAX_BODY (3 * 1024 * 1024)
#define MOCK_DEFAULT_WATCH_HISTORY 1000
#define MOCK_DEFAULT_POD_TERMINATION 1000 /* ms */

struct mock_stream {
    struct mock_instance *in;
    struct mock_exec *exec; /* pods/exec: exec.c runs the stream */
    struct mock_pf *pf;     /* pods/portforward: portforward.c does */
    const struct fg_stream_callbacks *cb;
    void *ctx;
    /* the request, read in place: valid until stream_close (driver.h) */
    const struct fg_request_head *head;
    struct mock_buf body; /* the request body, up to max_body */
    int64_t body_bytes;
    int too_large;
    int ended;    /* stream_end seen: the answer has started */
    int finished; /* end or error delivered, or the client is gone */
    int paused;
    struct fg_timer *timer;
    struct mock_answer ans;
    size_t body_off;
    struct mock_buf chunk;
};

/* ---- instances ------------------------------------------------------- */

static int valid_version(const char *v)
{
    unsigned a, b, c;
    int n = 0;
    return strlen(v) < 64 && sscanf(v, "v%u.%u.%u%n", &a, &b, &c, &n) == 3 &&
           n > 0 && (v[n] == '\0' || v[n] == '-' || v[n] == '+');
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    const char *seed = s->get(s, "seed");
    const char *version = s->get(s, "version");
    if (!seed || !*seed) {
        snprintf(err, err_len, "seed is required");
        return NULL;
    }
    if (!version)
        version = MOCK_DEFAULT_VERSION;
    if (!valid_version(version)) {
        snprintf(err, err_len,
                 "version \"%.64s\" is not a Kubernetes gitVersion like "
                 "v1.32.0",
                 version);
        return NULL;
    }
    struct mock_instance *in = calloc(1, sizeof(*in));
    if (!in) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    in->host = host;
    snprintf(in->git_version, sizeof(in->git_version), "%s", version);
    in->max_body =
        s->get_int(s, "max_request_body_bytes", MOCK_DEFAULT_MAX_BODY);
    in->exec_start_ms = (uint64_t)s->get_int(s, "exec_start_delay", 0);
    in->spdy.max_frame = (size_t)s->get_int(s, "spdy_max_frame_bytes", 0);
    in->spdy.max_header_block =
        (size_t)s->get_int(s, "spdy_max_header_bytes", 0);
    in->spdy_max_streams = (size_t)s->get_int(s, "spdy_max_streams", 0);
    size_t podfs_max = (size_t)s->get_int(s, "pod_files_max_bytes", 0);
    in->podfs = mock_podfs_new(podfs_max);
    /* an archive of that much data, with its headers and padding */
    in->stdin_max = podfs_max + podfs_max / 8 + 64 * 1024;
    in->pod_termination_ms = (uint64_t)s->get_int(s, "pod_termination",
                                                  MOCK_DEFAULT_POD_TERMINATION);
    /* persist = PATH: the saved store when there is one, else the seed. */
    const char *persist = s->get(s, "persist");
    if (persist && *persist && access(persist, F_OK) == 0) {
        in->store = mock_persist_load(persist, (int64_t)host->now_ms(host), err,
                                      err_len);
        seed = persist;
    } else {
        in->store = mock_seed_load_file(seed, (int64_t)host->now_ms(host), err,
                                        err_len);
    }
    if (in->store && persist && *persist) {
        in->persist = mock_persist_new(in, persist);
        if (!in->persist) {
            snprintf(err, err_len, "out of memory");
            mock_store_free(in->store);
            in->store = NULL;
        }
    }
    if (in->store && !in->podfs) {
        snprintf(err, err_len, "out of memory");
        mock_persist_free(in->persist);
        mock_store_free(in->store);
        in->store = NULL;
    }
    if (!in->store) {
        mock_podfs_free(in->podfs);
        free(in);
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < MOCK_N_KINDS; i++)
        n += mock_store_bucket(in->store, mock_kind_at(i))->n;
    host->log(host, FG_LOG_INFO, "member %s: %zu objects from %s", s->name, n,
              seed);
    snprintf(in->url_prefix, sizeof(in->url_prefix), "/clusters/%s", s->name);
    in->watch = mock_watch_hub_new(
        in, (size_t)s->get_int(s, "watch_history", MOCK_DEFAULT_WATCH_HISTORY));
    if (!in->watch) {
        snprintf(err, err_len, "out of memory");
        mock_persist_free(in->persist);
        mock_store_free(in->store);
        mock_podfs_free(in->podfs);
        free(in);
        return NULL;
    }
    return in;
}

static void instance_free(void *instance)
{
    struct mock_instance *in = instance;
    if (!in)
        return;
    mock_lifecycle_free(in->lifecycle);
    mock_watch_hub_free(in->watch);
    mock_persist_free(in->persist); /* saves first: needs the store */
    mock_store_free(in->store);
    mock_podfs_free(in->podfs);
    free(in);
}

static void health(void *instance, struct fg_member_health *out)
{
    struct mock_instance *in = instance;
    memset(out, 0, sizeof(*out));
    out->ready = 1;
    snprintf(out->version, sizeof(out->version), "%s", in->git_version);
    const struct mock_kind *nodes = mock_kind_by_resource("", "v1", "nodes");
    if (nodes) {
        out->node_count = (uint32_t)mock_store_bucket(in->store, nodes)->n;
        out->node_count_known = 1;
    }
}

/* ---- streams --------------------------------------------------------- */

static void *stream_open(void *instance, const struct fg_request_head *head,
                         const struct fg_stream_callbacks *cb, void *ctx)
{
    struct mock_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->in = instance;
    s->cb = cb;
    s->ctx = ctx;
    if (head->info && mock_exec_match(head->info)) {
        s->exec = mock_exec_open(instance, head, cb, ctx);
        if (!s->exec) {
            free(s);
            return NULL;
        }
        return s;
    }
    if (head->info && mock_pf_match(head->info)) {
        s->pf = mock_pf_open(instance, head, cb, ctx);
        if (!s->pf) {
            free(s);
            return NULL;
        }
        return s;
    }
    s->head = head;
    return s;
}

static int stream_write(void *stream, const void *buf, size_t len)
{
    struct mock_stream *s = stream;
    if (s->exec)
        return mock_exec_write(s->exec, buf, len);
    if (s->pf)
        return mock_pf_write(s->pf, buf, len);
    /* Writes act on the whole body at stream_end; past the limit it is
     * only counted, and the answer is 413. */
    s->body_bytes += (int64_t)len;
    if (s->body_bytes > s->in->max_body) {
        s->too_large = 1;
        mock_buf_free(&s->body);
    } else if (mock_buf_add(&s->body, buf, len) != 0) {
        return -1;
    }
    return 0;
}

static void on_timer(void *arg);

static void free_chunk(void *arg, const void *buf, size_t len)
{
    (void)arg;
    (void)len;
    free((void *)buf);
}

/* Hands the chunk produced over to the core (data_ref: no copy of it) and
 * starts the next one in a buffer of its own. Returns as data(). */
static int send_chunk(struct mock_stream *s)
{
    struct mock_buf c = s->chunk;
    s->chunk = (struct mock_buf){0};
    return s->cb->data_ref(s->ctx, c.p, c.len, free_chunk, NULL);
}

/* A buffer for a list's next chunk, sized for it at once rather than grown
 * through the doublings of mock_buf_add. */
static int chunk_ready(struct mock_stream *s)
{
    if (s->chunk.p) {
        s->chunk.len = 0;
        return 0;
    }
    s->chunk.p = malloc(MOCK_CHUNK_BYTES + MOCK_CHUNK_BYTES / 4);
    s->chunk.cap = s->chunk.p ? MOCK_CHUNK_BYTES + MOCK_CHUNK_BYTES / 4 : 0;
    return s->chunk.p ? 0 : -1;
}

/* What data() or data_ref() returned: the client gone, or full. */
static void sent(struct mock_stream *s, int rc)
{
    if (rc < 0)
        s->finished = 1;
    else if (rc == FG_PAUSE)
        s->paused = 1;
}

/* Sends what a producer shares (MOCK_FILL_REF). Returns as data(). */
static int send_ref(struct mock_stream *s)
{
    struct mock_ref r = s->ans.producer->ref;
    s->ans.producer->ref = (struct mock_ref){0};
    return s->cb->data_ref(s->ctx, r.buf, r.len, r.free_fn, r.arg);
}

/* Sends chunks until the answer is complete, the client is full or gone,
 * or this loop turn's share is used up. */
static void pump(struct mock_stream *s)
{
    const struct fg_host *host = s->in->host;
    int turn = 0;
    while (!s->finished && !s->paused) {
        if (turn++ == MOCK_TURN_CHUNKS) {
            if (!s->timer)
                s->timer = host->timer_new(host, on_timer, s);
            if (s->timer) {
                host->timer_arm(s->timer, 0);
                break;
            }
            turn = 0; /* no timer: finish within this turn */
        }
        const char *p;
        size_t n;
        int last;
        if (s->ans.producer) {
            /* Watch events are small: the chunk grows to what they need,
             * and an idle watch holds none. */
            s->chunk.len = 0;
            int r = s->ans.producer->fill(s->ans.producer, &s->chunk,
                                          MOCK_CHUNK_BYTES);
            if (r < 0) {
                s->finished = 1;
                s->cb->error(s->ctx, 500, "InternalError", "out of memory");
                break;
            }
            if (r == MOCK_FILL_REF) {
                sent(s, send_ref(s));
                continue;
            }
            p = s->chunk.p;
            n = s->chunk.len;
            last = r == MOCK_FILL_DONE;
            if (r == MOCK_FILL_WAIT) {
                /* Send what there is; the producer wakes us for more. */
                if (n > 0)
                    sent(s, send_chunk(s));
                break;
            }
        } else if (s->ans.list) {
            int r = chunk_ready(s) == 0 ? mock_list_fill(s->ans.list, &s->chunk,
                                                         MOCK_CHUNK_BYTES)
                                        : -1;
            if (r < 0) {
                s->finished = 1;
                s->cb->error(s->ctx, 500, "InternalError", "out of memory");
                break;
            }
            p = s->chunk.p;
            n = s->chunk.len;
            last = r == 0;
        } else {
            n = s->ans.body_len - s->body_off;
            if (n > MOCK_CHUNK_BYTES)
                n = MOCK_CHUNK_BYTES;
            p = s->ans.body + s->body_off;
            s->body_off += n;
            last = s->body_off == s->ans.body_len;
        }
        if (n > 0) {
            sent(s,
                 p == s->chunk.p ? send_chunk(s) : s->cb->data(s->ctx, p, n));
            if (s->finished)
                break;
        }
        if (last) {
            s->finished = 1;
            s->cb->end(s->ctx);
        }
    }
}

static void on_timer(void *arg)
{
    pump(arg);
}

/* A producer has bytes again: pump on the next loop turn, never from
 * inside the write that caused it. */
static void on_wake(void *arg)
{
    struct mock_stream *s = arg;
    if (s->finished)
        return;
    const struct fg_host *host = s->in->host;
    if (!s->timer)
        s->timer = host->timer_new(host, on_timer, s);
    if (s->timer)
        host->timer_arm(s->timer, 0);
}

static void stream_end(void *stream)
{
    struct mock_stream *s = stream;
    if (s->exec) {
        mock_exec_end(s->exec);
        return;
    }
    if (s->pf) {
        mock_pf_end(s->pf);
        return;
    }
    if (s->ended)
        return;
    s->ended = 1;
    struct mock_body body = {NULL, 0, s->body.p, s->body.len};
    for (size_t i = 0; i < s->head->n_headers; i++) {
        const struct fg_header *h = &s->head->headers[i];
        if (h->name_len == 12 && memcmp(h->name, "content-type", 12) == 0) {
            body.content_type = h->value;
            body.content_type_len = h->value_len;
            break;
        }
    }
    /* URLs the answer carries (the OpenAPI index) name this request's
     * prefix: the member may be reached as /clusters/NAME or unprefixed. */
    snprintf(s->in->url_prefix, sizeof(s->in->url_prefix), "%s",
             s->head->base_path ? s->head->base_path : "");
    if (mock_serve(s->in, s->head, &body, s->too_large, &s->ans) != 0) {
        s->finished = 1;
        s->cb->error(s->ctx, 500, "InternalError", "out of memory");
        return;
    }
    if (s->ans.producer) {
        s->ans.producer->wake = on_wake;
        s->ans.producer->wake_arg = s;
    }
    struct fg_header h[3];
    char len[24];
    size_t nh = 0;
    h[nh++] = (struct fg_header){"content-type", 12, s->ans.content_type,
                                 strlen(s->ans.content_type)};
    if (s->ans.warning)
        h[nh++] = (struct fg_header){"warning", 7, s->ans.warning,
                                     strlen(s->ans.warning)};
    if (s->ans.body) {
        snprintf(len, sizeof(len), "%zu", s->ans.body_len);
        h[nh++] = (struct fg_header){"content-length", 14, len, strlen(len)};
    }
    if (s->cb->head(s->ctx, s->ans.status, h, nh) < 0) {
        s->finished = 1;
        return;
    }
    pump(s);
}

static void stream_resume(void *stream)
{
    struct mock_stream *s = stream;
    if (s->exec) {
        mock_exec_resume(s->exec);
        return;
    }
    if (s->pf) {
        mock_pf_resume(s->pf);
        return;
    }
    s->paused = 0;
    if (s->ended && !s->finished)
        pump(s);
}

static void stream_close(void *stream)
{
    struct mock_stream *s = stream;
    if (!s)
        return;
    mock_exec_close(s->exec);
    mock_pf_close(s->pf);
    if (s->timer)
        s->in->host->timer_free(s->timer);
    if (s->ans.producer)
        s->ans.producer->free(s->ans.producer);
    mock_list_free(s->ans.list);
    free(s->ans.body);
    free(s->ans.warning);
    mock_buf_free(&s->chunk);
    mock_buf_free(&s->body);
    free(s);
}

const struct fg_driver_ops mock_driver_ops = {
    .struct_size = sizeof(struct fg_driver_ops),
    /* one store per member, whatever the number of workers */
    .scope = FG_SCOPE_ONE_LOOP,
    .instance_new = instance_new,
    .instance_free = instance_free,
    .stream_open = stream_open,
    .stream_write = stream_write,
    .stream_end = stream_end,
    .stream_resume = stream_resume,
    .stream_close = stream_close,
    .health = health,
};

static const struct fg_config_key config_keys[] = {
    {"seed", FG_CONFIG_FILE, NULL, 1, 0, 0,
     "JSON file of the Kubernetes objects the member starts with"},
    {"version", FG_CONFIG_STRING, MOCK_DEFAULT_VERSION, 0, 0, 0,
     "Kubernetes gitVersion the member reports at /version"},
    {"max_request_body_bytes", FG_CONFIG_INT, "3145728", 0, 0,
     1024LL * 1024 * 1024, "largest request body the member accepts"},
    {"persist", FG_CONFIG_PATH, NULL, 0, 0, 0,
     "file the member's objects are saved to after each write and loaded "
     "from at start (instead of the seed) when it exists"},
    {"watch_history", FG_CONFIG_INT, "1000", 0, 1, 1000000,
     "watch events kept to resume watches from a resourceVersion"},
    {"exec_start_delay", FG_CONFIG_DURATION, "50ms", 0, 0, 10000,
     "time an exec'd command takes to start before its first output, as a "
     "real container's does: kubectl sets up its streams meanwhile, and "
     "drops output that comes before"},
    {"spdy_max_frame_bytes", FG_CONFIG_INT, "1048576", 0, 1024,
     16 * 1024 * 1024 - 1,
     "largest SPDY/3.1 frame a client may send to exec or port-forward "
     "(client-go writes each read of up to 32 KiB as one frame)"},
    {"spdy_max_header_bytes", FG_CONFIG_INT, "65536", 0, 256, 16 * 1024 * 1024,
     "largest SPDY/3.1 header block after inflation: the bound on a zlib "
     "bomb"},
    {"spdy_max_streams", FG_CONFIG_INT, "128", 0, 2, 100000,
     "SPDY/3.1 streams a client may have open at once on one exec or "
     "port-forward connection (port-forward opens two per connection)"},
    {"pod_files_max_bytes", FG_CONFIG_INT, "4194304", 0, 0,
     1024LL * 1024 * 1024,
     "file data each pod's pretend container holds (kubectl cp into it: "
     "tar x over exec)"},
    {"pod_termination", FG_CONFIG_DURATION, "1s", 0, 0, 60000,
     "longest a deleted pod stays Terminating: its grace period, at most "
     "this, stands for its containers' stopping"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_DRIVER,
    .name = "mock",
    .version = "0.1.0",
    .description = "in-memory Kubernetes API seeded from a JSON file",
    .config_keys = config_keys,
    .ops = &mock_driver_ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
