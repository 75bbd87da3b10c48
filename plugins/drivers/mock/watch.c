/* Watch for the mock member: the per-instance event log that every write
 * records into, and the watchers that stream it as newline-delimited JSON
 * events the way kube-apiserver's watch cache does.
 *
 * Why a ring of events with the previous object: kube-apiserver's cache
 * keeps the last N events with each object's previous state, so a watch can
 * resume from a resourceVersion (or get 410 Expired when it is older than
 * the ring), and a selector watch sees ADDED when an object moves into the
 * selector and DELETED (with its last matching state) when it moves out.
 * The writers know the previous version when they replace it and hand it
 * over, so the hub references it (the store's immutable doc, no copy) in
 * the event and holds nothing per object: its memory is bounded by the
 * ring, not by the store.
 *
 * Why watchers pull: a watcher keeps only its position in the ring and
 * serializes events when the client has room. A slow client therefore
 * costs nothing until the ring overwrites an event it has not read; then
 * it is cut off (its stream ends, and the client re-lists), which bounds
 * the memory per watcher by the ring, like kube closing slow watchers.
 *
 * Why an event's line is shared: one change may go to thousands of
 * watchers, and most send it the same way (its JSON, the type the log
 * recorded). The first of them makes the line, and every one hands the
 * same reference-counted bytes to the core (data_ref): one copy for all
 * instead of one per watcher. A Table, or a change crossing a watcher's
 * selector, is written for that watcher. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define MOCK_BOOKMARK_MS (60 * 1000)
/* kube-apiserver ends a watch without timeoutSeconds after
 * --min-request-timeout (1800 s) times a random factor in [1, 2). */
#define MOCK_MIN_REQUEST_TIMEOUT_MS (1800 * 1000)

/* An event's line as sent: {"type":...,"object":...}\n. */
struct line {
    uint32_t refs;
    size_t len;
    char text[];
};

struct entry {
    uint64_t rv;
    const struct mock_kind *k;
    enum mock_event ev;
    struct mock_doc *obj;  /* a reference */
    struct mock_doc *prev; /* MODIFIED: a reference to the object before;
                              NULL when the writer did not know it */
    struct line *line;     /* a reference, once a watcher has sent it */
};

struct watcher;

struct mock_watch_hub {
    struct mock_instance *in;
    struct entry *ring;
    size_t cap;
    uint64_t next_seq; /* sequence number of the next event */
    uint64_t base_rv;  /* every event after this resourceVersion is held */
    size_t copies;     /* doc references held, all of them in the ring */
    struct watcher *watchers;
};

enum wstate { W_ERROR, W_INITIAL, W_LIVE, W_DONE };

struct watcher {
    struct mock_producer p; /* first: plugin.c holds a pointer to it */
    struct mock_watch_hub *hub;
    struct mock_instance *in;
    struct watcher *prev, *next;
    const struct mock_kind *k;
    char *ns, *name;
    struct fg_selector *labels, *fields;
    enum mock_table_version table;
    enum mock_include inc;
    enum wstate state;
    uint64_t err_rv;         /* W_ERROR: the requested resourceVersion */
    char *cur_ns, *cur_name; /* W_INITIAL: the last key sent */
    uint64_t next_seq;       /* W_LIVE: next ring event to look at */
    int bookmarks, end_bookmark, bookmark_due;
    int64_t deadline_ms, next_bookmark_ms;
    struct fg_timer *timer;
    int waiting; /* answered MOCK_FILL_WAIT: wake on news */
};

static struct mock_doc *copy_of(struct mock_watch_hub *h, struct mock_doc *d)
{
    h->copies++;
    return mock_doc_ref(d);
}

static void copy_free(struct mock_watch_hub *h, struct mock_doc *d)
{
    if (d) {
        mock_doc_unref(d);
        h->copies--;
    }
}

static void line_unref(struct line *l)
{
    if (l && --l->refs == 0)
        free(l);
}

static void line_sent(void *arg, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    line_unref(arg);
}

/* Drops what the ring entry E holds. */
static void entry_clear(struct mock_watch_hub *h, struct entry *e)
{
    copy_free(h, e->obj);
    copy_free(h, e->prev);
    line_unref(e->line);
}

/* ---- the hub ----------------------------------------------------------- */

struct mock_watch_hub *mock_watch_hub_new(struct mock_instance *in,
                                          size_t history)
{
    struct mock_watch_hub *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->in = in;
    h->cap = history ? history : 1;
    h->ring = calloc(h->cap, sizeof(*h->ring));
    h->base_rv = in->store ? in->store->rv : 0;
    if (!h->ring) {
        free(h);
        return NULL;
    }
    return h;
}

static void wake_watcher(struct watcher *w)
{
    if (w->waiting && w->p.wake) {
        w->waiting = 0;
        w->p.wake(w->p.wake_arg);
    }
}

static uint64_t first_seq(const struct mock_watch_hub *h)
{
    return h->next_seq > h->cap ? h->next_seq - h->cap : 0;
}

void mock_watch_hub_free(struct mock_watch_hub *h)
{
    if (!h)
        return;
    for (struct watcher *w = h->watchers, *next; w; w = next) {
        next = w->next;
        w->hub = NULL;
        w->prev = w->next = NULL;
        wake_watcher(w);
    }
    for (uint64_t s = first_seq(h); s < h->next_seq; s++)
        entry_clear(h, &h->ring[s % h->cap]);
    free(h->ring);
    free(h);
}

uint64_t mock_watch_compacted_rv(const struct mock_instance *in)
{
    return in->watch ? in->watch->base_rv : 0;
}

size_t mock_watch_hub_copies(const struct mock_watch_hub *h)
{
    return h ? h->copies : 0;
}

void mock_watch_record(struct mock_instance *in, const struct mock_kind *k,
                       enum mock_event ev, struct mock_doc *old_obj,
                       struct mock_doc *obj, uint64_t rv)
{
    struct mock_watch_hub *h = in->watch;
    if (!h || !k || !obj)
        return;
    struct mock_doc *cur = copy_of(h, obj), *prev = NULL;
    /* Only a MODIFIED event can cross a selector; the others need no
     * previous state. */
    if (ev == MOCK_EVENT_MODIFIED && old_obj)
        prev = copy_of(h, old_obj);
    if (h->next_seq >= h->cap) {
        uint64_t gone = h->next_seq - h->cap;
        struct entry *e = &h->ring[gone % h->cap];
        /* A watcher that has yet to read this event loses nothing when it
         * is of another kind; when it is of its own, the watcher is cut. */
        for (struct watcher *w = h->watchers; w; w = w->next) {
            if (w->next_seq == gone && e->k != w->k)
                w->next_seq = gone + 1;
        }
        h->base_rv = e->rv;
        entry_clear(h, e);
    }
    h->ring[h->next_seq % h->cap] =
        (struct entry){.rv = rv, .k = k, .ev = ev, .obj = cur, .prev = prev};
    h->next_seq++;
    for (struct watcher *w = h->watchers; w; w = w->next) {
        if (w->k == k)
            wake_watcher(w);
    }
}

/* ---- events --------------------------------------------------------- */

/* 1 when the watcher sees D, 0 when not, -1 when out of memory. */
static int in_scope(const struct watcher *w, const struct mock_doc *d)
{
    if (w->ns[0] && strcmp(d->ns, w->ns) != 0)
        return 0;
    if (w->name && strcmp(d->name, w->name) != 0)
        return 0;
    int rc = mock_selector_match_doc(w->labels, d);
    return rc > 0 ? mock_selector_match_doc(w->fields, d) : rc;
}

/* A meta.k8s.io Table of one row for D, as `kubectl get -w` reads it. */
static int event_table(const struct watcher *w, struct mock_buf *out,
                       const struct mock_doc *d)
{
    char head[160];
    snprintf(head, sizeof(head),
             "{\"kind\":\"Table\",\"apiVersion\":\"%s\",\"metadata\":{"
             "\"resourceVersion\":\"%.*s\"},\"columnDefinitions\":",
             w->table == MOCK_TABLE_V1BETA1 ? "meta.k8s.io/v1beta1"
                                            : "meta.k8s.io/v1",
             (int)d->rv_len, d->json + d->rv_off);
    return mock_buf_adds(out, head) == 0 &&
                   mock_table_columns_append(out, w->k) == 0 &&
                   mock_buf_adds(out, ",\"rows\":[") == 0 &&
                   mock_table_row_append(
                       out, w->k, d, (int64_t)w->in->host->now_ms(w->in->host),
                       w->inc, w->table) == 0 &&
                   mock_buf_adds(out, "]}") == 0
               ? 0
               : -1;
}

static int emit_head(struct mock_buf *out, const char *type)
{
    return mock_buf_adds(out, "{\"type\":\"") == 0 &&
                   mock_buf_adds(out, type) == 0 &&
                   mock_buf_adds(out, "\",\"object\":") == 0
               ? 0
               : -1;
}

static int emit(struct mock_buf *out, const char *type, const char *object)
{
    if (!object)
        return -1;
    return emit_head(out, type) == 0 && mock_buf_adds(out, object) == 0 &&
                   mock_buf_adds(out, "}\n") == 0
               ? 0
               : -1;
}

/* An event of D as the client asked for it: the stored bytes (with
 * resourceVersion RV unless 0) or a Table of one row. */
static int emit_obj(const struct watcher *w, struct mock_buf *out,
                    const char *type, const struct mock_doc *d, uint64_t rv)
{
    if (w->table == MOCK_TABLE_NONE)
        return emit_head(out, type) == 0 && mock_doc_append(out, d, rv) == 0 &&
                       mock_buf_adds(out, "}\n") == 0
                   ? 0
                   : -1;
    struct mock_doc *c = rv ? mock_doc_with_rv(d, rv) : NULL;
    int rc = (rv && !c) || emit_head(out, type) != 0 ||
                     event_table(w, out, c ? c : d) != 0 ||
                     mock_buf_adds(out, "}\n") != 0
                 ? -1
                 : 0;
    mock_doc_unref(c);
    return rc;
}

/* One ring entry as this watcher sees it: kube's cache turns a change
 * that crosses the selector into ADDED or DELETED. */
static int emit_entry(const struct watcher *w, const struct entry *e,
                      struct mock_buf *out)
{
    const struct mock_doc *cur = e->obj;
    int now = in_scope(w, cur);
    if (now < 0)
        return -1;
    switch (e->ev) {
    case MOCK_EVENT_ADDED:
        return now ? emit_obj(w, out, "ADDED", cur, 0) : 0;
    case MOCK_EVENT_DELETED:
        return now ? emit_obj(w, out, "DELETED", cur, 0) : 0;
    case MOCK_EVENT_MODIFIED:
        break;
    }
    int before = e->prev ? in_scope(w, e->prev) : now;
    if (before < 0)
        return -1;
    if (now)
        return emit_obj(w, out, before ? "MODIFIED" : "ADDED", cur, 0);
    /* It left the selector: kube sends its last matching state with the
     * new resourceVersion. */
    return before ? emit_obj(w, out, "DELETED", e->prev, e->rv) : 0;
}

/* 1 when W sends E as the shared line (its JSON, the type the log
 * recorded); 0 when W writes its own (a Table, a change crossing its
 * selector) or has nothing to send; -1 when out of memory. */
static int shares_line(const struct watcher *w, const struct entry *e)
{
    if (w->table != MOCK_TABLE_NONE)
        return 0;
    int now = in_scope(w, e->obj);
    if (now <= 0 || e->ev != MOCK_EVENT_MODIFIED || !e->prev)
        return now;
    return in_scope(w, e->prev);
}

/* E's line, made by the first watcher to send it: a reference for the
 * caller, or NULL when out of memory. */
static struct line *line_of(struct entry *e)
{
    static const char *const type[] = {"ADDED", "MODIFIED", "DELETED"};
    if (!e->line) {
        char head[48];
        int hn = snprintf(head, sizeof(head),
                          "{\"type\":\"%s\",\"object\":", type[e->ev]);
        size_t n = (size_t)hn + e->obj->len + 2;
        struct line *l = malloc(sizeof(*l) + n);
        if (!l)
            return NULL;
        memcpy(l->text, head, (size_t)hn);
        memcpy(l->text + hn, e->obj->json, e->obj->len);
        memcpy(l->text + hn + e->obj->len, "}\n", 2);
        l->len = n;
        l->refs = 1;
        e->line = l;
    }
    e->line->refs++;
    return e->line;
}

static int emit_bookmark(const struct watcher *w, struct mock_buf *out,
                         int initial_end)
{
    char av[64], rv[24];
    snprintf(rv, sizeof(rv), "%llu", (unsigned long long)w->in->store->rv);
    cJSON *o = cJSON_CreateObject();
    cJSON *meta = o ? cJSON_CreateObject() : NULL;
    if (!meta) {
        cJSON_Delete(o);
        return -1;
    }
    if (w->table == MOCK_TABLE_NONE) {
        cJSON_AddStringToObject(o, "kind", w->k->kind);
        cJSON_AddStringToObject(o, "apiVersion",
                                mock_kind_api_version(w->k, av, sizeof(av)));
    } else {
        cJSON_AddStringToObject(o, "kind", "Table");
        cJSON_AddStringToObject(o, "apiVersion", "meta.k8s.io/v1");
    }
    cJSON_AddItemToObject(o, "metadata", meta);
    cJSON_AddStringToObject(meta, "resourceVersion", rv);
    if (initial_end) {
        cJSON *ann = cJSON_AddObjectToObject(meta, "annotations");
        if (ann)
            cJSON_AddStringToObject(ann, "k8s.io/initial-events-end", "true");
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = emit(out, "BOOKMARK", text);
    free(text);
    return rc;
}

static int emit_expired(struct mock_buf *out, uint64_t rv, uint64_t base)
{
    char msg[96];
    snprintf(msg, sizeof(msg), "too old resource version: %llu (%llu)",
             (unsigned long long)rv, (unsigned long long)base);
    char *st = mock_status_json(410, "Expired", msg, NULL, NULL);
    int rc = emit(out, "ERROR", st);
    free(st);
    return rc;
}

/* ---- the watcher as a producer --------------------------------------- */

/* Synthetic ADDED events for the objects that exist, resumed from the last
 * key sent, so that a long initial state costs one chunk at a time.
 * Returns 1 while more remain, 0 when all are sent, -1 on failure. */
static int fill_initial(struct watcher *w, struct mock_buf *out, size_t want)
{
    const struct mock_store *s = w->in->store;
    const struct mock_bucket *b = mock_store_bucket(s, w->k);
    size_t i = w->cur_name ? mock_store_seek(s, w->k, w->cur_ns, w->cur_name, 0)
                           : mock_store_seek(s, w->k, w->ns, "", 1);
    for (size_t first = i; i < b->n; i++) {
        const struct mock_obj *o = b->v[i];
        if (w->ns[0] && strcmp(o->ns, w->ns) != 0)
            break;
        if (out->len >= want && i > first)
            return mock_store_key_copy(&w->cur_ns, &w->cur_name, b->v[i - 1]) ==
                           0
                       ? 1
                       : -1;
        int in = in_scope(w, o->doc);
        if (in < 0 || (in && emit_obj(w, out, "ADDED", o->doc, 0) != 0))
            return -1;
    }
    return 0;
}

static void arm_timer(struct watcher *w);

static int watch_fill(struct mock_producer *p, struct mock_buf *out,
                      size_t want)
{
    struct watcher *w = (struct watcher *)p;
    struct mock_watch_hub *h = w->hub;
    if (w->state == W_ERROR) {
        w->state = W_DONE;
        return emit_expired(out, w->err_rv, h ? h->base_rv : 0) == 0
                   ? MOCK_FILL_DONE
                   : -1;
    }
    if (w->state == W_DONE || !h)
        return MOCK_FILL_DONE;
    if (w->deadline_ms &&
        (int64_t)w->in->host->now_ms(w->in->host) >= w->deadline_ms)
        return MOCK_FILL_DONE;
    if (w->state == W_INITIAL) {
        int r = fill_initial(w, out, want);
        if (r != 0)
            return r < 0 ? -1 : MOCK_FILL_MORE;
        w->state = W_LIVE;
        if (w->end_bookmark && emit_bookmark(w, out, 1) != 0)
            return -1;
    }
    if (w->next_seq < first_seq(h)) {
        /* Events it has not read are gone: a slow watcher ends here and
         * its client starts over with a list. */
        w->state = W_DONE;
        return MOCK_FILL_DONE;
    }
    while (w->next_seq < h->next_seq) {
        if (out->len >= want)
            return MOCK_FILL_MORE;
        struct entry *e = &h->ring[w->next_seq % h->cap];
        int shared = e->k == w->k ? shares_line(w, e) : 0;
        if (shared < 0)
            return -1;
        if (shared && out->len)
            return MOCK_FILL_MORE; /* what comes before it goes first */
        struct line *l = shared ? line_of(e) : NULL;
        if (shared && !l)
            return -1;
        w->next_seq++;
        if (l) {
            w->p.ref = (struct mock_ref){l->text, l->len, line_sent, l};
            return MOCK_FILL_REF;
        }
        if (e->k == w->k && emit_entry(w, e, out) != 0)
            return -1;
    }
    if (w->bookmark_due) {
        w->bookmark_due = 0;
        if (emit_bookmark(w, out, 0) != 0)
            return -1;
    }
    w->waiting = 1;
    return MOCK_FILL_WAIT;
}

static void on_timer(void *arg)
{
    struct watcher *w = arg;
    int64_t now = (int64_t)w->in->host->now_ms(w->in->host);
    if (w->bookmarks && now >= w->next_bookmark_ms) {
        w->bookmark_due = 1;
        w->next_bookmark_ms = now + MOCK_BOOKMARK_MS;
    }
    int over = w->deadline_ms && now >= w->deadline_ms;
    if (!over)
        arm_timer(w);
    if (w->bookmark_due || over)
        wake_watcher(w);
}

static void arm_timer(struct watcher *w)
{
    int64_t now = (int64_t)w->in->host->now_ms(w->in->host);
    int64_t at = w->deadline_ms;
    if (w->bookmarks && (!at || w->next_bookmark_ms < at))
        at = w->next_bookmark_ms;
    if (!at || !w->timer)
        return;
    w->in->host->timer_arm(w->timer, at > now ? (uint64_t)(at - now) : 0);
}

static void watch_free(struct mock_producer *p)
{
    struct watcher *w = (struct watcher *)p;
    if (!w)
        return;
    if (w->hub) {
        if (w->prev)
            w->prev->next = w->next;
        else
            w->hub->watchers = w->next;
        if (w->next)
            w->next->prev = w->prev;
    }
    if (w->timer)
        w->in->host->timer_free(w->timer);
    fg_selector_free(w->labels);
    fg_selector_free(w->fields);
    free(w->ns);
    free(w->name);
    free(w->cur_ns);
    free(w->cur_name);
    free(w);
}

/* The first ring position holding an event after RV. */
static uint64_t seq_after(const struct mock_watch_hub *h, uint64_t rv)
{
    uint64_t lo = first_seq(h), hi = h->next_seq;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (h->ring[mid % h->cap].rv <= rv)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int parse_rv(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static int answer_status(struct mock_answer *a, int code, const char *reason,
                         const char *msg)
{
    return mock_answer_body(a, code,
                            mock_status_json(code, reason, msg, NULL, NULL),
                            "application/json");
}

int mock_watch_serve(struct mock_instance *in, const struct mock_kind *k,
                     const char *ns, const char *name, const char *query,
                     enum mock_table_version tv, enum mock_include inc,
                     struct fg_selector *labels, struct fg_selector *fields,
                     struct mock_answer *a)
{
    char rvs[64], val[64];
    int has_rv = fg_query_get(query, "resourceVersion", rvs, sizeof(rvs));
    uint64_t rv = 0;
    int bad = has_rv < 0 || (has_rv > 0 && rvs[0] && parse_rv(rvs, &rv));
    int64_t timeout_ms = 0;
    int r = fg_query_get(query, "timeoutSeconds", val, sizeof(val));
    if (r != 0) {
        char *end;
        long long t = r > 0 ? strtoll(val, &end, 10) : -1;
        if (r < 0 || !val[0] || *end || t < 0) {
            fg_selector_free(labels);
            fg_selector_free(fields);
            return answer_status(a, 400, "BadRequest",
                                 "timeoutSeconds must be a non-negative "
                                 "integer");
        }
        timeout_ms = t * 1000;
    }
    if (bad) {
        fg_selector_free(labels);
        fg_selector_free(fields);
        char msg[128];
        snprintf(msg, sizeof(msg), "invalid resource version: %.64s", rvs);
        return answer_status(a, 400, "BadRequest", msg);
    }
    r = fg_query_get(query, "allowWatchBookmarks", val, sizeof(val));
    int bookmarks = r > 0 && mock_parse_bool(val) == 1;
    /* Unset or "0": the current state first, as synthetic ADDED events. */
    int initial = has_rv == 0 || !rvs[0] || rv == 0;
    r = fg_query_get(query, "sendInitialEvents", val, sizeof(val));
    if (r > 0 && mock_parse_bool(val) >= 0)
        initial = mock_parse_bool(val);
    int end_bookmark = r > 0 && initial && bookmarks;

    if (!in->watch)
        in->watch = mock_watch_hub_new(in, 1000);
    struct watcher *w = in->watch ? calloc(1, sizeof(*w)) : NULL;
    if (!w || !(w->ns = strdup(ns ? ns : "")) ||
        (name && !(w->name = strdup(name)))) {
        if (w)
            free(w->ns);
        free(w);
        fg_selector_free(labels);
        fg_selector_free(fields);
        return -1;
    }
    struct mock_watch_hub *h = in->watch;
    w->p.fill = watch_fill;
    w->p.free = watch_free;
    w->hub = h;
    w->in = in;
    w->k = k;
    w->labels = labels;
    w->fields = fields;
    w->table = tv;
    w->inc = inc;
    w->bookmarks = bookmarks;
    w->end_bookmark = end_bookmark;
    int64_t now = (int64_t)in->host->now_ms(in->host);
    if (timeout_ms == 0) /* unset or 0: the server's own limit */
        timeout_ms = MOCK_MIN_REQUEST_TIMEOUT_MS +
                     (int64_t)(rand() % MOCK_MIN_REQUEST_TIMEOUT_MS);
    w->deadline_ms = timeout_ms ? now + timeout_ms : 0;
    w->next_bookmark_ms = now + MOCK_BOOKMARK_MS;
    if (initial) {
        w->state = W_INITIAL;
        w->next_seq = h->next_seq;
    } else if (rv < h->base_rv) {
        w->state = W_ERROR;
        w->err_rv = rv;
    } else {
        w->state = W_LIVE;
        w->next_seq = seq_after(h, rv);
    }
    w->timer = in->host->timer_new(in->host, on_timer, w);
    if (!w->timer) {
        watch_free(&w->p);
        return -1;
    }
    arm_timer(w);
    w->next = h->watchers;
    if (h->watchers)
        h->watchers->prev = w;
    h->watchers = w;
    a->status = 200;
    a->content_type = tv == MOCK_TABLE_V1 ? "application/json;as=Table;v=v1;"
                                            "g=meta.k8s.io"
                      : tv == MOCK_TABLE_V1BETA1
                          ? "application/json;as=Table;v=v1beta1;"
                            "g=meta.k8s.io"
                          : "application/json";
    a->producer = &w->p;
    return 0;
}
