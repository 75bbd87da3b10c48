/* Unit tests of the mock driver's watch (plugins/drivers/mock/watch.c and
 * the producer path of plugin.c): initial ADDED events, resuming from a
 * resourceVersion, 410 Expired for one older than the log, selector
 * transitions (ADDED when an object moves in, DELETED when it moves out),
 * timeoutSeconds, bookmarks, Table events, one buffer of an event shared
 * by the watchers that send it alike, the legacy /watch/ path, a slow
 * watcher cut off, and stream_close in the middle of a watch. Writes are
 * simulated the way every write path makes them: store, then record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake.h"

static const char *seed =
    "{\"objects\":["
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\","
    "\"namespace\":\"a\",\"labels\":{\"app\":\"web\"}},\"spec\":{"
    "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]},\"status\":{"
    "\"phase\":\"Running\"}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p2\","
    "\"namespace\":\"a\",\"labels\":{\"app\":\"db\"}},\"spec\":{"
    "\"containers\":[{\"name\":\"c\",\"image\":\"redis\"}]},\"status\":{"
    "\"phase\":\"Running\"}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p3\","
    "\"namespace\":\"b\",\"labels\":{\"app\":\"web\"}},\"spec\":{"
    "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]},\"status\":{"
    "\"phase\":\"Running\"}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
    "\"cm\",\"namespace\":\"a\"},\"data\":{\"k\":\"v\"}}"
    "]}";

static char *seed_path;

static int group_setup(void **state)
{
    (void)state;
    seed_path = fake_temp_file(seed);
    return seed_path ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(seed_path);
    free(seed_path);
    return 0;
}

static struct mock_instance *new_instance(size_t history)
{
    struct fake_section fs;
    char err[256];
    fake_now_ms = FAKE_NOW_MS;
    fake_section_init(&fs, seed_path, NULL);
    struct mock_instance *in =
        mock_driver_ops.instance_new(&fake_host, &fs.s, err, sizeof(err));
    assert_non_null(in);
    if (history) {
        mock_watch_hub_free(in->watch);
        in->watch = mock_watch_hub_new(in, history);
        assert_non_null(in->watch);
    }
    return in;
}

/* A write as a write path makes it: the store, then the event log with
 * the version it replaced. */
static uint64_t write_pod_phase(struct mock_instance *in, const char *ns,
                                const char *name, const char *app,
                                const char *phase, enum mock_event ev)
{
    const struct mock_kind *k = mock_kind_by_resource("", "v1", "pods");
    char text[512];
    snprintf(text, sizeof(text),
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
             "\"%s\",\"namespace\":\"%s\",\"labels\":{\"app\":\"%s\"}},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]},"
             "\"status\":{\"phase\":\"%s\"}}",
             name, ns, app, phase);
    cJSON *obj = cJSON_Parse(text);
    assert_non_null(obj);
    struct mock_doc *old = NULL;
    assert_int_equal(mock_store_put(in->store, k, ns, name, obj, &old), 0);
    const struct mock_obj *o = mock_store_get(in->store, k, ns, name);
    mock_watch_record(in, k, ev, old, o->doc, o->rv);
    mock_doc_unref(old);
    return o->rv;
}

static uint64_t write_pod(struct mock_instance *in, const char *ns,
                          const char *name, const char *app, enum mock_event ev)
{
    return write_pod_phase(in, ns, name, app, "Running", ev);
}

struct watch {
    struct fake_client c;
    void *s;
    /* the request, alive until stream_close as driver.h promises */
    struct fg_header h[1];
    struct fg_request_head head;
};

static void drive(int turns)
{
    for (int i = 0; i < turns; i++) {
        if (!fake_run_one_timer())
            break;
    }
}

static void watch_open(struct mock_instance *in, struct watch *w,
                       const char *path, const char *query, const char *accept)
{
    memset(w, 0, sizeof(*w));
    size_t nh = 0;
    if (accept)
        w->h[nh++] = (struct fg_header){"accept", 6, accept, strlen(accept)};
    w->head = (struct fg_request_head){
        .method = "GET",
        .path = path,
        .query = query,
        .headers = w->h,
        .n_headers = nh,
        .http_version = 20,
    };
    fake_set_info(&w->head);
    w->s = mock_driver_ops.stream_open(in, &w->head, &fake_callbacks, &w->c);
    assert_non_null(w->s);
    mock_driver_ops.stream_end(w->s);
    drive(50);
}

static void watch_close(struct watch *w)
{
    mock_driver_ops.stream_close(w->s);
    w->c.closed = 1;
}

/* The events received so far: "TYPE name" lines into BUF. */
static int events(struct watch *w, char *buf, size_t len)
{
    buf[0] = '\0';
    int n = 0;
    mock_buf_add(&w->c.body, "", 0);
    const char *p = w->c.body.p ? w->c.body.p : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every event ends its line */
        cJSON *e = cJSON_ParseWithLength(p, (size_t)(nl - p));
        assert_non_null(e);
        const char *type = mock_json_str(e, "type", "?");
        const char *name = mock_json_str(e, "object.metadata.name", "");
        if (strcmp(mock_json_str(e, "object.kind", ""), "Table") == 0)
            name = mock_json_str(
                cJSON_GetArrayItem(fg_json_path(e, "object.rows"), 0),
                "object.metadata.name", "?");
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s %s", n ? "," : "", type, name);
        cJSON_Delete(e);
        n++;
        p = nl + 1;
    }
    return n;
}

static void test_initial_then_changes(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    struct watch w;
    watch_open(in, &w, "/api/v1/namespaces/a/pods", "watch=true", NULL);
    assert_int_equal(w.c.status, 200);
    assert_string_equal(w.c.content_type, "application/json");
    assert_false(w.c.has_length);
    char ev[512];
    assert_int_equal(events(&w, ev, sizeof(ev)), 2);
    assert_string_equal(ev, "ADDED p1,ADDED p2");
    write_pod(in, "a", "p1", "web", MOCK_EVENT_MODIFIED);
    write_pod(in, "b", "p3", "web", MOCK_EVENT_MODIFIED); /* other ns */
    write_pod(in, "a", "p9", "web", MOCK_EVENT_ADDED);
    drive(50);
    events(&w, ev, sizeof(ev));
    assert_string_equal(ev, "ADDED p1,ADDED p2,MODIFIED p1,ADDED p9");
    assert_int_equal(w.c.ended, 0);
    watch_close(&w);
    assert_int_equal(w.c.calls_after_close, 0);
    fake_client_free(&w.c);
    mock_driver_ops.instance_free(in);
    assert_int_equal(fake_timers_alive(), 0);
}

static void test_resume_from_rv(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    uint64_t rv1 = write_pod(in, "a", "p1", "web", MOCK_EVENT_MODIFIED);
    write_pod(in, "a", "p2", "db", MOCK_EVENT_MODIFIED);
    write_pod(in, "b", "p3", "web", MOCK_EVENT_MODIFIED);
    char q[64];
    snprintf(q, sizeof(q), "watch=1&resourceVersion=%llu",
             (unsigned long long)rv1);
    struct watch w;
    watch_open(in, &w, "/api/v1/pods", q, NULL);
    char ev[512];
    events(&w, ev, sizeof(ev));
    assert_string_equal(ev, "MODIFIED p2,MODIFIED p3");
    watch_close(&w);
    fake_client_free(&w.c);

    /* The legacy path means the same. */
    watch_open(in, &w, "/api/v1/watch/namespaces/a/pods", q + 8, NULL);
    events(&w, ev, sizeof(ev));
    assert_string_equal(ev, "MODIFIED p2");
    watch_close(&w);
    fake_client_free(&w.c);
    mock_driver_ops.instance_free(in);
}

static void test_too_old(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(2);
    uint64_t start = in->store->rv;
    for (int i = 0; i < 5; i++)
        write_pod(in, "a", "p1", "web", MOCK_EVENT_MODIFIED);
    char q[64];
    snprintf(q, sizeof(q), "watch=True&resourceVersion=%llu",
             (unsigned long long)start);
    struct watch w;
    watch_open(in, &w, "/api/v1/namespaces/a/pods", q, NULL);
    assert_int_equal(w.c.status, 200);
    assert_int_equal(w.c.ended, 1);
    assert_int_equal(w.c.error_code, 0);
    cJSON *e = cJSON_Parse(w.c.body.p);
    assert_non_null(e);
    assert_string_equal(mock_json_str(e, "type", ""), "ERROR");
    assert_string_equal(mock_json_str(e, "object.reason", ""), "Expired");
    assert_int_equal(mock_json_int(e, "object.code", 0), 410);
    assert_non_null(strstr(mock_json_str(e, "object.message", ""),
                           "too old resource version"));
    cJSON_Delete(e);
    watch_close(&w);
    fake_client_free(&w.c);
    /* A continue token from then is too old as well. */
    assert_true(mock_watch_compacted_rv(in) > start);
    mock_driver_ops.instance_free(in);
}

static void test_selector_transitions(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    char q[96];
    snprintf(q, sizeof(q),
             "watch=true&labelSelector=app%%3Dweb&"
             "resourceVersion=%llu",
             (unsigned long long)in->store->rv);
    struct watch w;
    watch_open(in, &w, "/api/v1/pods", q, NULL);
    write_pod(in, "a", "p2", "web", MOCK_EVENT_MODIFIED); /* moves in */
    uint64_t out_rv = write_pod(in, "a", "p1", "db", MOCK_EVENT_MODIFIED);
    write_pod(in, "a", "p1", "db", MOCK_EVENT_MODIFIED);  /* stays out */
    write_pod(in, "b", "p3", "web", MOCK_EVENT_MODIFIED); /* stays in */
    drive(50);
    char ev[512];
    events(&w, ev, sizeof(ev));
    assert_string_equal(ev, "ADDED p2,DELETED p1,MODIFIED p3");
    /* The DELETED event carries the last matching state at the new RV. */
    const char *second = strchr(w.c.body.p, '\n') + 1;
    cJSON *e =
        cJSON_ParseWithLength(second, (size_t)(strchr(second, '\n') - second));
    assert_non_null(e);
    assert_string_equal(mock_json_str(e, "object.metadata.labels.app", ""),
                        "web");
    char rv[24];
    snprintf(rv, sizeof(rv), "%llu", (unsigned long long)out_rv);
    assert_string_equal(mock_json_str(e, "object.metadata.resourceVersion", ""),
                        rv);
    cJSON_Delete(e);
    watch_close(&w);
    fake_client_free(&w.c);
    mock_driver_ops.instance_free(in);
}

/* The Nth event line (from 0) of W as parsed JSON, for its fields. */
static cJSON *event_at(struct watch *w, int n)
{
    mock_buf_add(&w->c.body, "", 0);
    const char *p = w->c.body.p;
    for (; n > 0; n--) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    const char *nl = strchr(p, '\n');
    assert_non_null(nl);
    cJSON *e = cJSON_ParseWithLength(p, (size_t)(nl - p));
    assert_non_null(e);
    return e;
}

static void assert_event_rv(struct watch *w, int n, uint64_t rv)
{
    char want[24];
    snprintf(want, sizeof(want), "%llu", (unsigned long long)rv);
    cJSON *e = event_at(w, n);
    assert_string_equal(mock_json_str(e, "object.metadata.resourceVersion", ""),
                        want);
    cJSON_Delete(e);
}

/* A merge patch through the driver's own write path (write.c), which hands
 * the replaced version to the event log. */
static void patch_pod(struct mock_instance *in, const char *ns,
                      const char *name, const char *patch)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
    static const char ct[] = "application/merge-patch+json";
    struct mock_body b = {ct, sizeof(ct) - 1, patch, strlen(patch)};
    struct fg_request_head head = {.method = "PATCH", .path = path};
    fake_set_info(&head);
    struct mock_answer a = {0};
    assert_int_equal(mock_serve(in, &head, &b, 0, &a), 0);
    assert_int_equal(a.status, 200);
    free(a.body);
}

static void watch_at(struct mock_instance *in, struct watch *w,
                     const char *selector, uint64_t rv)
{
    char q[160];
    snprintf(q, sizeof(q), "watch=true&%s&resourceVersion=%llu", selector,
             (unsigned long long)rv);
    watch_open(in, w, "/api/v1/pods", q, NULL);
    assert_int_equal(w->c.status, 200);
}

static void test_modified_out_of_selector(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    struct watch lw, fw;
    watch_at(in, &lw, "labelSelector=app%3Dweb", in->store->rv);
    watch_at(in, &fw, "fieldSelector=status.phase%3DRunning", in->store->rv);
    uint64_t rv = write_pod(in, "a", "p1", "db", MOCK_EVENT_MODIFIED);
    uint64_t rv2 =
        write_pod_phase(in, "b", "p3", "web", "Failed", MOCK_EVENT_MODIFIED);
    drive(50);
    char ev[512];
    events(&lw, ev, sizeof(ev));
    assert_string_equal(ev, "DELETED p1,MODIFIED p3");
    /* The last state that matched, at the resourceVersion of the change. */
    cJSON *e = event_at(&lw, 0);
    assert_string_equal(mock_json_str(e, "object.metadata.labels.app", ""),
                        "web");
    cJSON_Delete(e);
    assert_event_rv(&lw, 0, rv);
    events(&fw, ev, sizeof(ev));
    assert_string_equal(ev, "MODIFIED p1,DELETED p3");
    e = event_at(&fw, 1);
    assert_string_equal(mock_json_str(e, "object.status.phase", ""), "Running");
    cJSON_Delete(e);
    assert_event_rv(&fw, 1, rv2);
    watch_close(&lw);
    watch_close(&fw);
    fake_client_free(&lw.c);
    fake_client_free(&fw.c);
    mock_driver_ops.instance_free(in);
}

/* Watchers that send a change as the log recorded it share one buffer of
 * it; one that sees it another way (ADDED into its selector, a Table)
 * gets its own. */
static void test_event_shared(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    struct watch all1, all2, web, table;
    uint64_t rv = in->store->rv;
    watch_at(in, &all1, "", rv);
    watch_at(in, &all2, "", rv);
    watch_at(in, &web, "labelSelector=app%3Dweb", rv);
    char q[96];
    snprintf(q, sizeof(q), "watch=true&resourceVersion=%llu",
             (unsigned long long)rv);
    watch_open(in, &table, "/api/v1/pods", q,
               "application/json;as=Table;v=v1;g=meta.k8s.io");
    write_pod(in, "a", "p1", "web", MOCK_EVENT_MODIFIED);
    write_pod(in, "a", "p2", "web", MOCK_EVENT_MODIFIED); /* was db */
    drive(50);
    char ev[512];
    events(&all1, ev, sizeof(ev));
    assert_string_equal(ev, "MODIFIED p1,MODIFIED p2");
    events(&all2, ev, sizeof(ev));
    assert_string_equal(ev, "MODIFIED p1,MODIFIED p2");
    events(&web, ev, sizeof(ev));
    assert_string_equal(ev, "MODIFIED p1,ADDED p2");
    events(&table, ev, sizeof(ev));
    assert_string_equal(ev, "MODIFIED p1,MODIFIED p2");
    assert_int_equal(all1.c.n_refs, 2);
    assert_int_equal(web.c.n_refs, 2);
    assert_ptr_equal(all1.c.refs[0], all2.c.refs[0]);
    assert_ptr_equal(all1.c.refs[0], web.c.refs[0]);
    assert_ptr_equal(all1.c.refs[1], all2.c.refs[1]);
    assert_ptr_not_equal(all1.c.refs[1], web.c.refs[1]);
    assert_ptr_not_equal(all1.c.refs[0], table.c.refs[0]);
    struct watch *ws[] = {&all1, &all2, &web, &table};
    for (size_t i = 0; i < 4; i++) {
        watch_close(ws[i]);
        fake_client_free(&ws[i]->c);
    }
    mock_driver_ops.instance_free(in);
}

static void test_modified_into_selector(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    struct watch w;
    watch_at(in, &w, "labelSelector=app%3Ddb", in->store->rv);
    uint64_t rv = write_pod(in, "a", "p1", "db", MOCK_EVENT_MODIFIED);
    write_pod(in, "a", "p1", "db", MOCK_EVENT_MODIFIED); /* stays in */
    drive(50);
    char ev[512];
    events(&w, ev, sizeof(ev));
    assert_string_equal(ev, "ADDED p1,MODIFIED p1");
    assert_event_rv(&w, 0, rv);
    watch_close(&w);
    fake_client_free(&w.c);
    mock_driver_ops.instance_free(in);
}

/* The same transitions when write.c makes the changes, and for a watcher
 * that resumes from before them: it reads them from the ring, which holds
 * the previous version of each modified object. */
static void test_resume_sees_transitions(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    uint64_t before = in->store->rv;
    struct watch live;
    watch_at(in, &live, "labelSelector=app%3Dweb", before);
    patch_pod(in, "a", "p1", "{\"metadata\":{\"labels\":{\"app\":\"db\"}}}");
    patch_pod(in, "a", "p2", "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
    patch_pod(in, "b", "p3", "{\"metadata\":{\"labels\":{\"tier\":\"x\"}}}");
    patch_pod(in, "a", "p1", "{\"metadata\":{\"labels\":{\"tier\":\"y\"}}}");
    drive(50);
    char ev[512], ev2[512];
    events(&live, ev, sizeof(ev));
    assert_string_equal(ev, "DELETED p1,ADDED p2,MODIFIED p3");

    struct watch late;
    watch_at(in, &late, "labelSelector=app%3Dweb", before);
    drive(50);
    events(&late, ev2, sizeof(ev2));
    assert_string_equal(ev2, ev);
    /* Byte for byte what the live watcher got. */
    assert_string_equal(late.c.body.p, live.c.body.p);
    cJSON *e = event_at(&late, 0);
    assert_string_equal(mock_json_str(e, "object.metadata.labels.app", ""),
                        "web");
    cJSON_Delete(e);
    assert_event_rv(&late, 0, before + 1);
    watch_close(&live);
    watch_close(&late);
    fake_client_free(&live.c);
    fake_client_free(&late.c);
    mock_driver_ops.instance_free(in);
}

/* The hub copies objects into ring events only: none for the store it
 * starts from, at most two per event (object and previous version), and
 * fewer as events of other types replace them. */
static void test_hub_memory_bounded_by_ring(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    const struct mock_kind *k = mock_kind_by_resource("", "v1", "pods");
    for (int i = 0; i < 500; i++) {
        char name[32];
        snprintf(name, sizeof(name), "bulk-%03d", i);
        cJSON *o = mock_obj_json(mock_store_get(in->store, k, "a", "p1"));
        assert_non_null(o);
        cJSON_ReplaceItemInObjectCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(o, "metadata"), "name",
            cJSON_CreateString(name));
        assert_int_equal(mock_store_put(in->store, k, "a", name, o, NULL), 0);
    }
    mock_watch_hub_free(in->watch);
    in->watch = mock_watch_hub_new(in, 4);
    assert_non_null(in->watch);
    assert_int_equal(mock_watch_hub_copies(in->watch), 0);
    for (int i = 0; i < 20; i++)
        write_pod(in, "a", i % 2 ? "p1" : "bulk-007", "web",
                  MOCK_EVENT_MODIFIED);
    assert_int_equal(mock_watch_hub_copies(in->watch), 8);
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof(name), "new-%d", i);
        write_pod(in, "a", name, "web", MOCK_EVENT_ADDED);
    }
    assert_int_equal(mock_watch_hub_copies(in->watch), 2 + 3);
    struct mock_doc *gone = mock_store_remove(in->store, k, "a", "bulk-001");
    assert_non_null(gone);
    mock_watch_record(in, k, MOCK_EVENT_DELETED, NULL, gone, in->store->rv);
    mock_doc_unref(gone);
    assert_int_equal(mock_watch_hub_copies(in->watch), 4);
    /* A watcher reading the ring adds nothing to the hub. */
    struct watch w;
    watch_open(in, &w, "/api/v1/namespaces/a/pods", "watch=1", NULL);
    char ev[512];
    assert_true(events(&w, ev, sizeof(ev)) > 500);
    assert_int_equal(mock_watch_hub_copies(in->watch), 4);
    watch_close(&w);
    fake_client_free(&w.c);
    mock_driver_ops.instance_free(in);
}

static void test_timeout_and_bookmarks(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    struct watch w;
    char q[128];
    snprintf(q, sizeof(q),
             "watch=1&timeoutSeconds=100&allowWatchBookmarks=true&"
             "resourceVersion=%llu",
             (unsigned long long)in->store->rv);
    watch_open(in, &w, "/api/v1/namespaces/a/pods", q, NULL);
    assert_int_equal(w.c.ended, 0);
    fake_now_ms += 61 * 1000;
    drive(50);
    char ev[512];
    events(&w, ev, sizeof(ev));
    assert_string_equal(ev, "BOOKMARK ");
    assert_non_null(strstr(w.c.body.p, "\"resourceVersion\""));
    assert_int_equal(w.c.ended, 0);
    fake_now_ms += 40 * 1000;
    drive(50);
    assert_int_equal(w.c.ended, 1);
    assert_int_equal(w.c.error_code, 0);
    watch_close(&w);
    fake_client_free(&w.c);
    mock_driver_ops.instance_free(in);
    assert_int_equal(fake_timers_alive(), 0);
}

static void test_initial_events_end(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    struct watch w;
    watch_open(in, &w, "/api/v1/namespaces/a/pods",
               "watch=1&sendInitialEvents=true&allowWatchBookmarks=true&"
               "resourceVersionMatch=NotOlderThan",
               NULL);
    char ev[512];
    events(&w, ev, sizeof(ev));
    assert_string_equal(ev, "ADDED p1,ADDED p2,BOOKMARK ");
    assert_non_null(strstr(w.c.body.p, "k8s.io/initial-events-end"));
    watch_close(&w);
    fake_client_free(&w.c);
    mock_driver_ops.instance_free(in);
}

static void test_table_events(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    struct watch w;
    watch_open(in, &w, "/api/v1/namespaces/a/pods", "watch=true",
               "application/json;as=Table;v=v1;g=meta.k8s.io,"
               "application/json");
    char ev[512];
    events(&w, ev, sizeof(ev));
    assert_string_equal(ev, "ADDED p1,ADDED p2");
    cJSON *e = cJSON_Parse(w.c.body.p);
    assert_non_null(e);
    assert_string_equal(mock_json_str(e, "object.kind", ""), "Table");
    assert_int_equal(cJSON_GetArraySize(fg_json_path(e, "object.rows")), 1);
    assert_true(
        cJSON_GetArraySize(fg_json_path(e, "object.columnDefinitions")) > 3);
    cJSON_Delete(e);
    watch_close(&w);
    fake_client_free(&w.c);
    mock_driver_ops.instance_free(in);
}

static void test_slow_watcher_cut_off(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(4);
    struct watch w;
    char q[64];
    snprintf(q, sizeof(q), "watch=1&resourceVersion=%llu",
             (unsigned long long)in->store->rv);
    watch_open(in, &w, "/api/v1/namespaces/a/pods", q, NULL);
    w.c.pause_every = 1; /* the client stops reading after one chunk */
    write_pod(in, "a", "p1", "web", MOCK_EVENT_MODIFIED);
    drive(50);
    assert_int_equal(w.c.paused, 1);
    assert_int_equal(w.c.ended, 0);
    /* Events of other kinds do not cut it off. */
    const struct mock_kind *cmk = mock_kind_by_resource("", "v1", "configmaps");
    for (int i = 0; i < 10; i++)
        mock_watch_record(in, cmk, MOCK_EVENT_MODIFIED, NULL,
                          mock_store_get(in->store, cmk, "a", "cm")->doc,
                          ++in->store->rv);
    for (int i = 0; i < 10; i++)
        write_pod(in, "a", "p2", "db", MOCK_EVENT_MODIFIED);
    drive(50);
    assert_int_equal(w.c.ended, 0);
    w.c.pause_every = 0;
    w.c.paused = 0;
    mock_driver_ops.stream_resume(w.s);
    drive(50);
    assert_int_equal(w.c.ended, 1);
    char ev[512];
    events(&w, ev, sizeof(ev));
    assert_string_equal(ev, "MODIFIED p1");
    watch_close(&w);
    fake_client_free(&w.c);
    mock_driver_ops.instance_free(in);
}

static void test_close_mid_stream(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    struct watch w1, w2;
    watch_open(in, &w1, "/api/v1/pods", "watch=true", NULL);
    watch_open(in, &w2, "/api/v1/pods", "watch=true", NULL);
    write_pod(in, "a", "p1", "web", MOCK_EVENT_MODIFIED);
    /* w1 goes away with an event queued and its wake-up armed. */
    watch_close(&w1);
    write_pod(in, "a", "p1", "web", MOCK_EVENT_MODIFIED);
    drive(50);
    assert_int_equal(w1.c.calls_after_close, 0);
    char ev[512];
    events(&w2, ev, sizeof(ev));
    assert_string_equal(ev, "ADDED p1,ADDED p2,ADDED p3,MODIFIED p1,"
                            "MODIFIED p1");
    /* A client that fails a write ends the stream; closing is still fine. */
    w2.c.gone_after = (int)w2.c.data_calls + 1;
    write_pod(in, "a", "p2", "db", MOCK_EVENT_DELETED);
    drive(50);
    watch_close(&w2);
    write_pod(in, "a", "p2", "db", MOCK_EVENT_ADDED);
    drive(50);
    assert_int_equal(w2.c.calls_after_close, 0);
    fake_client_free(&w1.c);
    fake_client_free(&w2.c);
    mock_driver_ops.instance_free(in);
    assert_int_equal(fake_timers_alive(), 0);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    struct mock_instance *in = new_instance(0);
    struct fake_client c = {0};
    fake_request(in, "GET", "/api/v1/pods", "watch=1&resourceVersion=abc", NULL,
                 &c);
    assert_int_equal(c.status, 400);
    fake_client_free(&c);
    memset(&c, 0, sizeof(c));
    fake_request(in, "GET", "/api/v1/pods", "watch=1&timeoutSeconds=x", NULL,
                 &c);
    assert_int_equal(c.status, 400);
    fake_client_free(&c);
    mock_driver_ops.instance_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_then_changes),
        cmocka_unit_test(test_resume_from_rv),
        cmocka_unit_test(test_too_old),
        cmocka_unit_test(test_selector_transitions),
        cmocka_unit_test(test_modified_out_of_selector),
        cmocka_unit_test(test_modified_into_selector),
        cmocka_unit_test(test_resume_sees_transitions),
        cmocka_unit_test(test_hub_memory_bounded_by_ring),
        cmocka_unit_test(test_timeout_and_bookmarks),
        cmocka_unit_test(test_initial_events_end),
        cmocka_unit_test(test_table_events),
        cmocka_unit_test(test_event_shared),
        cmocka_unit_test(test_slow_watcher_cut_off),
        cmocka_unit_test(test_close_mid_stream),
        cmocka_unit_test(test_bad_parameters),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
