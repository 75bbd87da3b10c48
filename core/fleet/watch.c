/* Watches of clusters: each lives on the worker that serves its request,
 * in that worker's list; a change posts one flush to each worker with a
 * watch, which sends every watch what it has not seen, one JSON event per
 * line, flushed per event as kube-apiserver streams them. A watch that
 * fell behind the ring gets 410 Expired and ends, so its client lists
 * again; timeoutSeconds (default 30-60 min, as kube-apiserver picks)
 * ends it cleanly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "daemon/gateway.h"
#include "fleet/fleet_internal.h"
#include "request/exchange_internal.h"
#include "request/status.h"

struct fg_fleet_watch {
    struct fg_fleet_watch *prev, *next;
    struct fg_exchange *ex;
    struct fg_fleet *fleet;
    unsigned worker;
    uint64_t rv; /* the last change sent */
    int table;
    char include[16];
    struct fg_fleet_filter filter;
    struct event *timeout;
};

int fg_fleet_watchers_init(struct fg_fleet_watchers *w, struct fg_gateway *gw)
{
    w->gw = gw;
    w->n = gw->n_workers;
    w->heads = calloc(w->n, sizeof(*w->heads));
    w->posted = calloc(w->n, 1);
    if (!w->heads || !w->posted) {
        free(w->heads);
        free(w->posted);
        return -1;
    }
    pthread_mutex_init(&w->lock, NULL);
    return 0;
}

void fg_fleet_watchers_free(struct fg_fleet_watchers *w)
{
    if (!w->heads)
        return;
    free(w->heads);
    free(w->posted);
    pthread_mutex_destroy(&w->lock);
}

static void unlink_watch(struct fg_fleet_watch *fw)
{
    struct fg_fleet_watchers *w = fg_fleet_watchers_of(fw->fleet);
    if (fw->prev)
        fw->prev->next = fw->next;
    else
        w->heads[fw->worker] = fw->next;
    if (fw->next)
        fw->next->prev = fw->prev;
    if (fw->timeout)
        event_free(fw->timeout);
    fg_selector_free(fw->filter.labels);
    fw->filter.labels = NULL;
    fw->ex->fleet_watch = NULL;
}

/* Ends FW's stream (sending ERROR first when given). */
static void end_watch(struct fg_fleet_watch *fw, const char *error)
{
    struct fg_exchange *ex = fw->ex;
    unlink_watch(fw);
    if (error)
        fg_exchange_stream_data(ex, error, strlen(error));
    fg_exchange_stream_end(ex);
}

static const char expired[] =
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
    "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
    "resource version\",\"reason\":\"Expired\",\"code\":410}}\n";

/* Sends one event of TYPE about OBJ, as FW asked for it (the object, or a
 * Table of its one row). Returns 0, or -1 when the client is gone. */
static int send_event(struct fg_fleet_watch *fw, const char *type, cJSON *obj)
{
    if (!fg_fleet_shown(fw->ex, &fw->filter, obj))
        return 0; /* a watch from a label selector: as the object is now */
    cJSON *one = NULL, *table = NULL, *out = obj;
    if (fw->table) {
        one = cJSON_CreateArray();
        if (one && cJSON_AddItemReferenceToArray(one, obj))
            table = fg_fleet_table(one, fw->table, fw->include, fw->rv);
        out = table;
    }
    cJSON *line = cJSON_CreateObject();
    char *text = NULL;
    if (line && out && cJSON_AddStringToObject(line, "type", type) &&
        cJSON_AddItemReferenceToObject(line, "object", out))
        text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    cJSON_Delete(table);
    cJSON_Delete(one);
    if (!text)
        return -1;
    size_t len = strlen(text);
    text[len] = '\n'; /* over the NUL: the length is known */
    int rc = fg_exchange_stream_data(fw->ex, text, len + 1);
    free(text);
    return rc;
}

/* Sends FW what changed since it last heard. */
static void send_news(struct fg_fleet_watch *fw)
{
    cJSON *events = cJSON_CreateArray();
    uint64_t last;
    int rc =
        events ? fg_fleet_events_since(fw->fleet, fw->rv, events, &last) : -1;
    if (rc != 0) {
        cJSON_Delete(events);
        end_watch(fw, rc == 1 ? expired : NULL);
        return;
    }
    fw->rv = last;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, events)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
        rc = send_event(fw, type->valuestring,
                        cJSON_GetObjectItemCaseSensitive(ev, "object"));
        if (rc != 0)
            break;
    }
    cJSON_Delete(events);
    if (rc != 0)
        end_watch(fw, NULL);
}

static void flush_worker(void *arg)
{
    struct fg_worker *wk = arg;
    struct fg_fleet *f = wk->gw->fleet;
    struct fg_fleet_watchers *w = fg_fleet_watchers_of(f);
    pthread_mutex_lock(&w->lock);
    w->posted[wk->index] = 0;
    pthread_mutex_unlock(&w->lock);
    struct fg_fleet_watch *fw = w->heads[wk->index];
    while (fw) {
        struct fg_fleet_watch *next = fw->next;
        struct fg_exchange *ex = fw->ex;
        fg_exchange_hold(ex);
        send_news(fw);
        fg_exchange_unhold(ex);
        fw = next;
    }
}

void fg_fleet_watchers_notify(struct fg_fleet_watchers *w)
{
    for (unsigned i = 0; i < w->n; i++) {
        pthread_mutex_lock(&w->lock);
        int post = !w->posted[i];
        w->posted[i] = 1;
        pthread_mutex_unlock(&w->lock);
        if (post && fg_loop_queue_post(&w->gw->workers[i].queue, flush_worker,
                                       &w->gw->workers[i]) != 0) {
            pthread_mutex_lock(&w->lock);
            w->posted[i] = 0;
            pthread_mutex_unlock(&w->lock);
        }
    }
}

static void timed_out(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    end_watch(arg, NULL);
}

void fg_fleet_watch_start(struct fg_exchange *ex, uint64_t rv, int table,
                          const char *include, struct fg_fleet_filter *flt,
                          int64_t timeout_s)
{
    struct fg_fleet *f = ex->worker->gw->fleet;
    struct fg_fleet_watchers *w = fg_fleet_watchers_of(f);
    struct fg_fleet_watch *fw = fg_arena_alloc(ex->arena, sizeof(*fw));
    if (!fw) {
        fg_selector_free(flt->labels);
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    memset(fw, 0, sizeof(*fw));
    fw->filter = *flt;
    fw->ex = ex;
    fw->fleet = f;
    fw->worker = ex->worker->index;
    fw->table = table;
    snprintf(fw->include, sizeof(fw->include), "%s", include);
    if (timeout_s <= 0) {
        uint32_t r = 0;
        RAND_bytes((unsigned char *)&r, sizeof(r));
        timeout_s = 1800 + r % 1800;
    }
    struct timeval tv = {(time_t)timeout_s, 0};
    fw->timeout = evtimer_new(ex->worker->base, timed_out, fw);
    cJSON *items = NULL;
    if (!fw->timeout ||
        (rv == 0 && fg_fleet_snapshot(f, &items, &fw->rv) != 0)) {
        if (fw->timeout)
            event_free(fw->timeout);
        fg_selector_free(fw->filter.labels);
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    if (rv)
        fw->rv = rv;
    const char *ct = table == 2   ? "application/json;as=Table;v=v1beta1;"
                                    "g=meta.k8s.io"
                     : table == 1 ? "application/json;as=Table;v=v1;"
                                    "g=meta.k8s.io"
                                  : "application/json";
    ex->fleet_watch = fw;
    fw->next = w->heads[fw->worker];
    if (fw->next)
        fw->next->prev = fw;
    w->heads[fw->worker] = fw;
    evtimer_add(fw->timeout, &tv);
    fg_exchange_hold(ex);
    int rc = fg_exchange_stream_head(ex, ct);
    /* the current state first, as ADDED events, then what changes */
    cJSON *obj;
    cJSON_ArrayForEach(obj, items)
    {
        if (rc == 0)
            rc = send_event(fw, "ADDED", obj);
    }
    cJSON_Delete(items);
    if (rc != 0)
        end_watch(fw, NULL);
    else
        send_news(fw);
    fg_exchange_unhold(ex);
}

void fg_fleet_finish(struct fg_exchange *ex)
{
    if (ex->fleet_watch)
        unlink_watch(ex->fleet_watch);
}

void fg_fleet_drain(struct fg_worker *wk)
{
    struct fg_fleet *f = wk->gw->fleet;
    if (!f)
        return;
    struct fg_fleet_watchers *w = fg_fleet_watchers_of(f);
    while (w->heads[wk->index]) {
        struct fg_fleet_watch *fw = w->heads[wk->index];
        struct fg_exchange *ex = fw->ex;
        fg_exchange_hold(ex);
        end_watch(fw, NULL);
        fg_exchange_unhold(ex);
    }
}
