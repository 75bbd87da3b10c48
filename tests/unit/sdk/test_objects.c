/* Tests of fedgate/objects.h (sdk/src/objects*.c): a store of two kinds
 * in a temporary directory, driven through its stream ops as the core
 * drives a service's streams, and reopened from its files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <fedgate/objects.h>

static const struct fg_object_column gadget_columns[] = {
    {"Color", "string", "spec.color", 0},
    {"State", "string", "status.state", 0},
    {"Team", "string", "metadata.labels.probe\\.io/team", 1},
    {NULL, NULL, NULL, 0},
};
static const struct fg_object_kind kinds[] = {
    {"probe.fedgate.io", "v1", "gadgets", "Gadget", 0, gadget_columns, 0, NULL},
    {"probe.fedgate.io", "v1", "parts", "Part", 1, NULL, 0,
     "{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\"}}}"},
    {NULL, NULL, NULL, NULL, 0, NULL, 0, NULL},
};

/* What the store answered on one stream. */
struct answer {
    int status; /* head's, or error's */
    char body[65536];
    size_t len;
    int ended, errored, pause_next;
};

static int cb_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    struct answer *a = ctx;
    (void)h;
    (void)n;
    a->status = status;
    return 0;
}

static int cb_data(void *ctx, const void *buf, size_t len)
{
    struct answer *a = ctx;
    assert_true(a->len + len < sizeof(a->body));
    memcpy(a->body + a->len, buf, len);
    a->len += len;
    a->body[a->len] = '\0';
    if (a->pause_next) {
        a->pause_next = 0;
        return FG_PAUSE;
    }
    return 0;
}

static void cb_end(void *ctx)
{
    ((struct answer *)ctx)->ended = 1;
}

static void cb_error(void *ctx, int code, const char *reason, const char *msg)
{
    struct answer *a = ctx;
    a->status = code;
    a->errored = 1;
    a->len = (size_t)snprintf(a->body, sizeof(a->body), "%s: %s", reason, msg);
}

static void cb_nop(void *ctx)
{
    (void)ctx;
}

static const struct fg_stream_callbacks callbacks = {
    .head = cb_head,
    .data = cb_data,
    .end = cb_end,
    .error = cb_error,
    .body_pause = cb_nop,
    .body_resume = cb_nop,
};

struct fx {
    char dir[128];
    struct fg_objects *s;
    int admits, changes;
    int refuse; /* admit answers this code */
    char last_change[64];
};

static int admit(void *arg, const struct fg_object_kind *k,
                 const struct fg_identity *who, struct cJSON *obj,
                 const struct cJSON *old, int status, char *err, size_t len)
{
    struct fx *f = arg;
    (void)k;
    (void)who;
    (void)obj;
    (void)old;
    (void)status;
    f->admits++;
    if (f->refuse)
        snprintf(err, len, "refused by the test");
    return f->refuse;
}

static void changed(void *arg, const struct fg_object_kind *k,
                    enum fg_object_event ev, const struct cJSON *obj)
{
    struct fx *f = arg;
    const cJSON *meta = cJSON_GetObjectItem(obj, "metadata");
    f->changes++;
    snprintf(f->last_change, sizeof(f->last_change), "%d %s %s", (int)ev,
             k->resource, cJSON_GetObjectItem(meta, "name")->valuestring);
}

static struct fg_objects *open_store(struct fx *f)
{
    struct fg_object_hooks hooks = {admit, changed, f};
    char err[256] = "";
    struct fg_objects *s =
        fg_objects_new(f->dir, kinds, &hooks, err, sizeof(err));
    if (!s)
        fail_msg("fg_objects_new: %s", err);
    return s;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/fg-test-objects-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    strcat(f->dir, "/store"); /* made by the store */
    f->s = open_store(f);
    *state = f;
    return 0;
}

static int rm(const char *path, const struct stat *st, int flag,
              struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fg_objects_free(f->s);
    *strrchr(f->dir, '/') = '\0';
    nftw(f->dir, rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* One request: METHOD on RESOURCE (NAME, SUB may be ""), in NS, with
 * QUERY, BODY of CONTENT_TYPE. Returns the open stream (a watch stays
 * open) with the answer in A. */
static struct fg_objects_stream *
call(struct fx *f, struct answer *a, const char *verb, const char *method,
     const char *resource, const char *ns, const char *name, const char *sub,
     const char *query, const char *ctype, const char *body, const char *accept)
{
    static struct fg_request_info info;
    static struct fg_request_head head;
    static struct fg_header headers[2];
    static const char *const groups[] = {"team"};
    static const struct fg_identity who = {"alice", NULL, groups, 1, NULL, 0};
    size_t n = 0;
    memset(a, 0, sizeof(*a));
    info = (struct fg_request_info){1,    verb, "apis",   "probe.fedgate.io",
                                    "v1", ns,   resource, sub,
                                    name, "/"};
    if (ctype)
        headers[n++] =
            (struct fg_header){"content-type", 12, ctype, strlen(ctype)};
    if (accept)
        headers[n++] = (struct fg_header){"accept", 6, accept, strlen(accept)};
    head = (struct fg_request_head){.method = method,
                                    .path = "/",
                                    .query = query,
                                    .headers = headers,
                                    .n_headers = n,
                                    .identity = &who,
                                    .info = &info};
    struct fg_objects_stream *st = fg_objects_open(f->s, &head, &callbacks, a);
    assert_non_null(st);
    if (body)
        assert_int_equal(fg_objects_write(st, body, strlen(body)), 0);
    fg_objects_end(st);
    return st;
}

static void done(struct fg_objects_stream *st)
{
    fg_objects_close(st);
}

static cJSON *parsed(const struct answer *a)
{
    cJSON *o = cJSON_Parse(a->body);
    assert_non_null(o);
    return o;
}

static const char *meta(const cJSON *o, const char *key)
{
    const cJSON *v =
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

#define GADGET(name, color)                                                    \
    "{\"apiVersion\":\"probe.fedgate.io/v1\",\"kind\":\"Gadget\","             \
    "\"metadata\":{\"name\":\"" name "\",\"labels\":{\"tier\":\"" color        \
    "\",\"probe.io/team\":\"t-" color "\"}},"                                  \
    "\"spec\":{\"color\":\"" color "\"}}"
#define JSON "application/json"

static void create_gadget(struct fx *f, const char *body)
{
    struct answer a;
    done(call(f, &a, "create", "POST", "gadgets", "", "", "", NULL, JSON, body,
              NULL));
    if (a.status != 201)
        fail_msg("create: %d %s", a.status, a.body);
}

static void test_create_get_and_reopen(void **state)
{
    struct fx *f = *state;
    struct answer a;
    create_gadget(f, GADGET("g1", "red"));
    done(call(f, &a, "get", "GET", "gadgets", "", "g1", "", NULL, NULL, NULL,
              NULL));
    assert_int_equal(a.status, 200);
    cJSON *o = parsed(&a);
    assert_int_equal(strlen(meta(o, "uid")), 36);
    assert_true(strlen(meta(o, "creationTimestamp")) == 20);
    char rv[24];
    snprintf(rv, sizeof(rv), "%s", meta(o, "resourceVersion"));
    assert_true(strtoull(rv, NULL, 10) > 0);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "generation")
            ->valueint,
        1);
    cJSON_Delete(o);
    assert_int_equal(f->admits, 1);
    assert_string_equal(f->last_change, "1 gadgets g1");

    /* a new store on the same files has it, and goes on counting */
    fg_objects_free(f->s);
    f->s = open_store(f);
    const cJSON *back = fg_objects_get(f->s, &kinds[0], NULL, "g1");
    assert_non_null(back);
    assert_string_equal(meta(back, "resourceVersion"), rv);
    create_gadget(f, GADGET("g2", "blue"));
    assert_true(strtoull(meta(fg_objects_get(f->s, &kinds[0], NULL, "g2"),
                              "resourceVersion"),
                         NULL, 10) > strtoull(rv, NULL, 10));
}

static void test_create_refusals(void **state)
{
    struct fx *f = *state;
    struct answer a;
    create_gadget(f, GADGET("g1", "red"));
    const struct {
        const char *body, *ctype;
        int code;
        const char *says;
    } cases[] = {
        {GADGET("g1", "red"), JSON, 409, "already exists"},
        {GADGET("Bad_Name", "red"), JSON, 422, "metadata.name"},
        {"{\"apiVersion\":\"v1\",\"kind\":\"Gadget\",\"metadata\":{\"name\":"
         "\"x\"}}",
         JSON, 400, "does not belong here"},
        {GADGET("g3", "red"), "application/yaml", 415, "send JSON"},
        {"[1,2]", JSON, 400, "not a JSON object"},
        {"{", JSON, 400, "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        done(call(f, &a, "create", "POST", "gadgets", "", "", "", NULL,
                  cases[i].ctype, cases[i].body, NULL));
        assert_int_equal(a.status, cases[i].code);
        assert_non_null(strstr(a.body, cases[i].says));
    }
    /* a namespaced kind needs its namespace; generateName names */
    done(call(f, &a, "create", "POST", "parts", "", "", "", NULL, JSON,
              "{\"apiVersion\":\"probe.fedgate.io/v1\",\"kind\":\"Part\"}",
              NULL));
    assert_int_equal(a.status, 404);
    done(call(f, &a, "create", "POST", "parts", "ns1", "", "", NULL, JSON,
              "{\"apiVersion\":\"probe.fedgate.io/v1\",\"kind\":\"Part\","
              "\"metadata\":{\"generateName\":\"p-\"}}",
              NULL));
    assert_int_equal(a.status, 201);
    cJSON *o = parsed(&a);
    assert_int_equal(strlen(meta(o, "name")), 7);
    assert_string_equal(meta(o, "namespace"), "ns1");
    cJSON_Delete(o);
    /* admit has the last word; dryRun stores nothing */
    f->refuse = 422;
    done(call(f, &a, "create", "POST", "gadgets", "", "", "", NULL, JSON,
              GADGET("g4", "red"), NULL));
    assert_int_equal(a.status, 422);
    assert_non_null(strstr(a.body, "refused by the test"));
    f->refuse = 0;
    done(call(f, &a, "create", "POST", "gadgets", "", "", "", "dryRun=All",
              JSON, GADGET("g5", "red"), NULL));
    assert_int_equal(a.status, 201);
    assert_null(fg_objects_get(f->s, &kinds[0], NULL, "g5"));
}

static void test_update_patch_status(void **state)
{
    struct fx *f = *state;
    struct answer a;
    create_gadget(f, GADGET("g1", "red"));
    const char *rv1 =
        meta(fg_objects_get(f->s, &kinds[0], NULL, "g1"), "resourceVersion");
    char stale[64];
    snprintf(stale, sizeof(stale), "%s", rv1);
    /* the status subresource changes the status only */
    done(call(f, &a, "update", "PUT", "gadgets", "", "g1", "status", NULL, JSON,
              "{\"apiVersion\":\"probe.fedgate.io/v1\",\"kind\":\"Gadget\","
              "\"metadata\":{\"name\":\"g1\"},\"spec\":{\"color\":\"x\"},"
              "\"status\":{\"state\":\"ready\"}}",
              NULL));
    assert_int_equal(a.status, 200);
    const cJSON *g = fg_objects_get(f->s, &kinds[0], NULL, "g1");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(g, "spec"), "color")
            ->valuestring,
        "red");
    /* an update with an old resourceVersion conflicts */
    char body[512];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"probe.fedgate.io/v1\",\"kind\":\"Gadget\","
             "\"metadata\":{\"name\":\"g1\",\"resourceVersion\":\"%s\"},"
             "\"spec\":{\"color\":\"green\"}}",
             stale);
    done(call(f, &a, "update", "PUT", "gadgets", "", "g1", "", NULL, JSON, body,
              NULL));
    assert_int_equal(a.status, 409);
    /* a merge patch of the spec: generation 2, status kept */
    done(call(f, &a, "patch", "PATCH", "gadgets", "", "g1", "", NULL,
              "application/merge-patch+json",
              "{\"spec\":{\"color\":\"green\"},\"status\":{\"state\":\"x\"}}",
              NULL));
    assert_int_equal(a.status, 200);
    cJSON *o = parsed(&a);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "status"), "state")
            ->valuestring,
        "ready");
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "generation")
            ->valueint,
        2);
    cJSON_Delete(o);
    done(call(f, &a, "patch", "PATCH", "gadgets", "", "g1", "", NULL,
              "application/strategic-merge-patch+json", "{}", NULL));
    assert_int_equal(a.status, 415);
    done(call(f, &a, "patch", "PATCH", "gadgets", "", "nope", "", NULL,
              "application/merge-patch+json", "{}", NULL));
    assert_int_equal(a.status, 404);
    assert_non_null(strstr(a.body, "gadgets.probe.fedgate.io \"nope\" not "
                                   "found"));
}

static void test_list_selectors_table_delete(void **state)
{
    struct fx *f = *state;
    struct answer a;
    create_gadget(f, GADGET("g1", "red"));
    create_gadget(f, GADGET("g2", "blue"));
    create_gadget(f, GADGET("g3", "red"));
    done(call(f, &a, "list", "GET", "gadgets", "", "", "",
              "labelSelector=tier"
              "%3Dred",
              NULL, NULL, NULL));
    assert_int_equal(a.status, 200);
    cJSON *o = parsed(&a);
    assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring,
                        "GadgetList");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "items")), 2);
    cJSON_Delete(o);
    done(call(f, &a, "list", "GET", "gadgets", "", "", "", NULL, NULL, NULL,
              "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"));
    o = parsed(&a);
    assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "Table");
    cJSON *cols = cJSON_GetObjectItem(o, "columnDefinitions");
    assert_int_equal(cJSON_GetArraySize(cols), 5); /* Name Color State Team
                                                      Age */
    cJSON *cells = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(o, "rows"), 1), "cells");
    assert_string_equal(cJSON_GetArrayItem(cells, 0)->valuestring, "g2");
    assert_string_equal(cJSON_GetArrayItem(cells, 1)->valuestring, "blue");
    assert_true(cJSON_IsNull(cJSON_GetArrayItem(cells, 2)));
    assert_string_equal(cJSON_GetArrayItem(cells, 3)->valuestring, "t-blue");
    cJSON_Delete(o);
    /* kubectl get NAME: a one-row Table */
    done(call(f, &a, "get", "GET", "gadgets", "", "g3", "", NULL, NULL, NULL,
              "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"));
    assert_int_equal(a.status, 200);
    o = parsed(&a);
    assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "Table");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "rows")), 1);
    cells = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(o, "rows"), 0), "cells");
    assert_string_equal(cJSON_GetArrayItem(cells, 0)->valuestring, "g3");
    assert_string_equal(cJSON_GetArrayItem(cells, 1)->valuestring, "red");
    cJSON_Delete(o);
    done(call(f, &a, "delete", "DELETE", "gadgets", "", "g2", "", NULL, NULL,
              NULL, NULL));
    assert_int_equal(a.status, 200);
    assert_string_equal(f->last_change, "3 gadgets g2");
    assert_null(fg_objects_get(f->s, &kinds[0], NULL, "g2"));
    char path[256];
    snprintf(path, sizeof(path), "%s/gadgets/g2.json", f->dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/gadgets/g1.json", f->dir);
    assert_int_equal(access(path, F_OK), 0);
}

/* A finalizer holds a deletion: DELETE marks the object, no new finalizer
 * may come, and the update (or the service's put) that removes the last
 * one ends it. */
static void test_finalizers(void **state)
{
    struct fx *f = *state;
    struct answer a;
    done(call(f, &a, "create", "POST", "gadgets", "", "", "", NULL, JSON,
              "{\"apiVersion\":\"probe.fedgate.io/v1\",\"kind\":\"Gadget\","
              "\"metadata\":{\"name\":\"g1\",\"finalizers\":[7]}}",
              NULL));
    assert_int_equal(a.status, 422);
    done(call(f, &a, "create", "POST", "gadgets", "", "", "", NULL, JSON,
              "{\"apiVersion\":\"probe.fedgate.io/v1\",\"kind\":\"Gadget\","
              "\"metadata\":{\"name\":\"g1\",\"finalizers\":[\"a.io/x\","
              "\"a.io/y\"],\"deletionTimestamp\":\"2020-01-01T00:00:00Z\"}}",
              NULL));
    assert_int_equal(a.status, 201);
    cJSON *o = parsed(&a);
    assert_string_equal(meta(o, "deletionTimestamp"), "");
    cJSON_Delete(o);
    done(call(f, &a, "delete", "DELETE", "gadgets", "", "g1", "", NULL, NULL,
              NULL, NULL));
    assert_int_equal(a.status, 200);
    const cJSON *g = fg_objects_get(f->s, &kinds[0], NULL, "g1");
    assert_non_null(g);
    assert_int_not_equal(strlen(meta(g, "deletionTimestamp")), 0);
    assert_string_equal(f->last_change, "2 gadgets g1");
    /* asked again: still there, unchanged */
    char rv[32];
    snprintf(rv, sizeof(rv), "%s", meta(g, "resourceVersion"));
    done(call(f, &a, "delete", "DELETE", "gadgets", "", "g1", "", NULL, NULL,
              NULL, NULL));
    assert_int_equal(a.status, 200);
    g = fg_objects_get(f->s, &kinds[0], NULL, "g1");
    assert_string_equal(meta(g, "resourceVersion"), rv);
    done(call(f, &a, "patch", "PATCH", "gadgets", "", "g1", "", NULL,
              "application/merge-patch+json",
              "{\"metadata\":{\"finalizers\":[\"a.io/x\",\"a.io/z\"]}}", NULL));
    assert_int_equal(a.status, 422);
    assert_non_null(strstr(a.body, "no new finalizers"));
    /* a client removes one, the service the other: then it is gone */
    done(call(f, &a, "patch", "PATCH", "gadgets", "", "g1", "", NULL,
              "application/merge-patch+json",
              "{\"metadata\":{\"finalizers\":[\"a.io/y\"],"
              "\"deletionTimestamp\":null}}",
              NULL));
    assert_int_equal(a.status, 200);
    g = fg_objects_get(f->s, &kinds[0], NULL, "g1");
    assert_non_null(g);
    assert_int_not_equal(strlen(meta(g, "deletionTimestamp")), 0);
    cJSON *last = cJSON_Duplicate(g, 1);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(last, "metadata"),
                               "finalizers");
    char err[128];
    assert_int_equal(fg_objects_put(f->s, &kinds[0], last, err, sizeof(err)),
                     0);
    assert_null(fg_objects_get(f->s, &kinds[0], NULL, "g1"));
    assert_string_equal(f->last_change, "3 gadgets g1");
    char path[256];
    snprintf(path, sizeof(path), "%s/gadgets/g1.json", f->dir);
    assert_int_equal(access(path, F_OK), -1);
    /* through the API: the update that empties the list answers with the
     * object's last state and it is gone */
    create_gadget(f, "{\"apiVersion\":\"probe.fedgate.io/v1\",\"kind\":"
                     "\"Gadget\",\"metadata\":{\"name\":\"g2\",\"finalizers\":"
                     "[\"a.io/x\"]}}");
    done(call(f, &a, "delete", "DELETE", "gadgets", "", "g2", "", NULL, NULL,
              NULL, NULL));
    done(call(f, &a, "patch", "PATCH", "gadgets", "", "g2", "", NULL,
              "application/merge-patch+json",
              "{\"metadata\":{\"finalizers\":null}}", NULL));
    assert_int_equal(a.status, 200);
    o = parsed(&a);
    assert_string_equal(meta(o, "name"), "g2");
    cJSON_Delete(o);
    assert_null(fg_objects_get(f->s, &kinds[0], NULL, "g2"));
}

/* Events after the first line of A's body, as "TYPE name" lines. */
static void events(const struct answer *a, char *out, size_t len)
{
    out[0] = '\0';
    for (const char *p = a->body; *p;) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        cJSON *e = cJSON_ParseWithLength(p, (size_t)(nl - p));
        assert_non_null(e);
        const cJSON *obj = cJSON_GetObjectItem(e, "object");
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s %s", n ? "," : "",
                 cJSON_GetObjectItem(e, "type")->valuestring,
                 cJSON_GetObjectItem(obj, "code") ? "410" : meta(obj, "name"));
        cJSON_Delete(e);
        p = nl + 1;
    }
}

static void test_watch(void **state)
{
    struct fx *f = *state;
    struct answer w, a;
    char got[512];
    create_gadget(f, GADGET("g1", "red"));
    char rv[24];
    snprintf(
        rv, sizeof(rv), "resourceVersion=%s",
        meta(fg_objects_get(f->s, &kinds[0], NULL, "g1"), "resourceVersion"));
    create_gadget(f, GADGET("g2", "blue"));
    /* from now: every object as ADDED, then what happens */
    struct fg_objects_stream *st =
        call(f, &w, "watch", "GET", "gadgets", "", "", "",
             "labelSelector=tier%3Dred", NULL, NULL, NULL);
    assert_int_equal(w.status, 200);
    create_gadget(f, GADGET("g3", "red"));
    create_gadget(f, GADGET("g4", "blue"));
    done(call(f, &a, "delete", "DELETE", "gadgets", "", "g1", "", NULL, NULL,
              NULL, NULL));
    events(&w, got, sizeof(got));
    assert_string_equal(got, "ADDED g1,ADDED g3,DELETED g1");
    assert_int_equal(w.ended, 0);
    /* a paused client gets what happened once it resumes */
    w.pause_next = 1;
    w.len = 0;
    create_gadget(f, GADGET("g5", "red"));
    create_gadget(f, GADGET("g6", "red"));
    events(&w, got, sizeof(got));
    assert_string_equal(got, "ADDED g5");
    w.len = 0;
    fg_objects_resume(st);
    events(&w, got, sizeof(got));
    assert_string_equal(got, "ADDED g6");
    done(st);
    /* from a resourceVersion: the ring replays what came after */
    st = call(f, &w, "watch", "GET", "gadgets", "", "", "", rv, NULL, NULL,
              NULL);
    events(&w, got, sizeof(got));
    assert_string_equal(got, "ADDED g2,ADDED g3,ADDED g4,DELETED g1,ADDED "
                             "g5,ADDED g6");
    done(st);
    /* beyond the ring: 410 Expired, and the watch ends */
    for (int i = 0; i < 1100; i++)
        done(call(f, &a, "patch", "PATCH", "gadgets", "", "g3", "", NULL,
                  "application/merge-patch+json",
                  i % 2 ? "{\"spec\":{\"n\":1}}" : "{\"spec\":{\"n\":2}}",
                  NULL));
    st = call(f, &w, "watch", "GET", "gadgets", "", "", "", rv, NULL, NULL,
              NULL);
    events(&w, got, sizeof(got));
    assert_string_equal(got, "ERROR 410");
    assert_int_equal(w.ended, 1);
    done(st);
    /* freeing the store ends the watches still open */
    st = call(f, &w, "watch", "GET", "gadgets", "", "", "", NULL, NULL, NULL,
              NULL);
    fg_objects_free(f->s);
    assert_int_equal(w.ended, 1);
    done(st);
    f->s = open_store(f);
}

static void test_bad_files_are_named(void **state)
{
    struct fx *f = *state;
    char path[256], err[512] = "";
    create_gadget(f, GADGET("g1", "red"));
    fg_objects_free(f->s);
    f->s = NULL;
    snprintf(path, sizeof(path), "%s/gadgets/g2.json", f->dir);
    FILE *fp = fopen(path, "w");
    fputs(GADGET("other", "red"), fp);
    fclose(fp);
    struct fg_objects *s =
        fg_objects_new(f->dir, kinds, NULL, err, sizeof(err));
    assert_null(s);
    assert_non_null(strstr(err, "g2.json: its metadata names another object"));
    fp = fopen(path, "w");
    fputs("{\"metadata\":", fp);
    fclose(fp);
    assert_null(fg_objects_new(f->dir, kinds, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "g2.json: not a JSON object"));
    unlink(path);
    f->s = open_store(f);
}

static void test_openapi(void **state)
{
    struct fx *f = *state;
    char *doc = fg_objects_openapi(f->s, "probe.fedgate.io", "v1");
    cJSON *d = cJSON_Parse(doc);
    free(doc);
    assert_non_null(d);
    cJSON *schemas =
        cJSON_GetObjectItem(cJSON_GetObjectItem(d, "components"), "schemas");
    cJSON *g = cJSON_GetObjectItem(schemas, "probe.fedgate.io.v1.Gadget");
    cJSON *p = cJSON_GetObjectItem(schemas, "probe.fedgate.io.v1.Part");
    assert_true(cJSON_IsTrue(
        cJSON_GetObjectItem(g, "x-kubernetes-preserve-unknown-fields")));
    assert_non_null(cJSON_GetObjectItem(p, "properties"));
    cJSON *gvk = cJSON_GetArrayItem(
        cJSON_GetObjectItem(p, "x-kubernetes-group-version-kind"), 0);
    assert_string_equal(cJSON_GetObjectItem(gvk, "kind")->valuestring, "Part");
    /* writes list fieldValidation: kubectl then lets the server validate */
    cJSON *patch = cJSON_GetObjectItem(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(d, "paths"),
            "/apis/probe.fedgate.io/v1/namespaces/{namespace}/parts/{name}"),
        "patch");
    char *params =
        cJSON_PrintUnformatted(cJSON_GetObjectItem(patch, "parameters"));
    assert_non_null(strstr(params, "\"fieldValidation\""));
    free(params);
    cJSON_Delete(d);
    doc = fg_objects_openapi(f->s, "other.io", "v1");
    d = cJSON_Parse(doc);
    free(doc);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
                         cJSON_GetObjectItem(d, "components"), "schemas")),
                     0);
    cJSON_Delete(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_and_reopen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_create_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_patch_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_selectors_table_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_finalizers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files_are_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_openapi, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
