/* Tests of plugins/services/appstore/catalog.c: the review machine of
 * application versions, and what the catalog admits, driven through the
 * objects store as kubectl's requests would be. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "catalog.h"

static void test_review_steps(void **state)
{
    (void)state;
    static const char *const states[] = {"draft",    "submitted", "passed",
                                         "rejected", "active",    "suspended"};
    /* every pair: exactly the steps are allowed */
    static const char *const allowed[] = {
        "draft>submitted",  "submitted>passed", "submitted>rejected",
        "submitted>draft",  "rejected>draft",   "passed>active",
        "active>suspended", "suspended>active", NULL};
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 6; j++) {
            char pair[32];
            snprintf(pair, sizeof(pair), "%s>%s", states[i], states[j]);
            int ok = i == j;
            for (const char *const *a = allowed; *a; a++)
                ok |= strcmp(*a, pair) == 0;
            if ((appstore_review_refusal(states[i], states[j]) == NULL) != ok)
                fail_msg("%s: want %s", pair, ok ? "allowed" : "refused");
        }
    assert_non_null(appstore_review_refusal("", "active"));
    assert_non_null(appstore_review_refusal("draft", "bogus"));
}

/* ---- through the store -------------------------------------------------- */

struct answer {
    int status;
    char body[8192];
};

static int cb_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    (void)h;
    (void)n;
    ((struct answer *)ctx)->status = status;
    return 0;
}

static int cb_data(void *ctx, const void *buf, size_t len)
{
    struct answer *a = ctx;
    size_t have = strlen(a->body);
    if (have + len < sizeof(a->body))
        memcpy(a->body + have, buf, len);
    return 0;
}

static void cb_end(void *ctx)
{
    (void)ctx;
}

static void cb_error(void *ctx, int code, const char *reason, const char *msg)
{
    struct answer *a = ctx;
    a->status = code;
    snprintf(a->body, sizeof(a->body), "%s: %s", reason, msg);
}

static const struct fg_stream_callbacks callbacks = {
    .head = cb_head,
    .data = cb_data,
    .end = cb_end,
    .error = cb_error,
    .body_pause = cb_end,
    .body_resume = cb_end,
};

struct fx {
    char dir[64];
    struct appstore_catalog c;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char err[256];
    snprintf(f->dir, sizeof(f->dir), "/tmp/fg-test-catalog-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    if (appstore_catalog_open(&f->c, f->dir, err, sizeof(err)) != 0)
        fail_msg("%s", err);
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
    appstore_catalog_close(&f->c);
    nftw(f->dir, rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* VERB on RESOURCE[/NAME[/SUB]] with BODY, as USER; the answer's code. */
static int request(struct fx *f, struct answer *a, const char *user,
                   const char *verb, const char *resource, const char *name,
                   const char *sub, const char *body)
{
    static const char *const groups[] = {"reviewers"};
    struct fg_identity who = {user, NULL, groups, 1, NULL, 0};
    struct fg_request_info info = {
        1,  verb,     "apis", APPSTORE_GROUP, APPSTORE_VERSION,
        "", resource, sub,    name,           "/"};
    const char *ctype = strcmp(verb, "patch") == 0
                            ? "application/merge-patch+json"
                            : "application/json";
    struct fg_header h = {"content-type", 12, ctype, strlen(ctype)};
    struct fg_request_head head = {.method = "X",
                                   .path = "/",
                                   .headers = &h,
                                   .n_headers = 1,
                                   .identity = &who,
                                   .info = &info};
    memset(a, 0, sizeof(*a));
    struct fg_objects_stream *st =
        fg_objects_open(f->c.objects, &head, &callbacks, a);
    if (body)
        fg_objects_write(st, body, strlen(body));
    fg_objects_end(st);
    fg_objects_close(st);
    return a->status;
}

#define APP(name)                                                              \
    "{\"apiVersion\":\"application.kubesphere.io/v2\",\"kind\":"               \
    "\"Application\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{"          \
    "\"appType\":\"helm\"},\"status\":{\"state\":\"active\"}}"
#define VERSION(name, app)                                                     \
    "{\"apiVersion\":\"application.kubesphere.io/v2\",\"kind\":"               \
    "\"ApplicationVersion\",\"metadata\":{\"name\":\"" name "\",\"labels\":{"  \
    "\"application.kubesphere.io/app-id\":\"" app "\"}},\"spec\":{"            \
    "\"versionName\":\"1.0.0\"}}"
#define MOVE(to) "{\"status\":{\"state\":\"" to "\"}}"

static const char *state_of(struct fx *f, int kind, const char *name)
{
    const cJSON *o =
        fg_objects_get(f->c.objects, &appstore_catalog_kinds[kind], NULL, name);
    const cJSON *s =
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "status"), "state");
    return cJSON_IsString(s) ? s->valuestring : "";
}

static void test_a_version_through_review(void **state)
{
    struct fx *f = *state;
    struct answer a;
    assert_int_equal(
        request(f, &a, "dev", "create", "applications", "", "", APP("nginx")),
        201);
    /* the client does not pick the state */
    assert_string_equal(state_of(f, APPSTORE_APPLICATIONS, "nginx"), "draft");
    assert_int_equal(request(f, &a, "dev", "create", "applicationversions", "",
                             "", VERSION("nginx-1", "ghost")),
                     422);
    assert_non_null(strstr(a.body, "Not found"));
    assert_int_equal(request(f, &a, "dev", "create", "applicationversions", "",
                             "", VERSION("nginx-1", "nginx")),
                     201);
    assert_string_equal(state_of(f, APPSTORE_VERSIONS, "nginx-1"), "draft");
    /* a skipped step is a conflict, and changes nothing */
    assert_int_equal(request(f, &a, "dev", "patch", "applicationversions",
                             "nginx-1", "status", MOVE("active")),
                     409);
    assert_non_null(strstr(a.body, "draft -> active"));
    assert_string_equal(state_of(f, APPSTORE_VERSIONS, "nginx-1"), "draft");
    const char *steps[] = {"submitted", "rejected", "draft",     "submitted",
                           "passed",    "active",   "suspended", "active"};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"status\":{\"state\":\"%s\"}}",
                 steps[i]);
        if (request(f, &a, "reviewer", "patch", "applicationversions",
                    "nginx-1", "status", body) != 200)
            fail_msg("-> %s: %d %s", steps[i], a.status, a.body);
    }
    const cJSON *v =
        fg_objects_get(f->c.objects, &appstore_catalog_kinds[APPSTORE_VERSIONS],
                       NULL, "nginx-1");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(v, "status"), "userName")
            ->valuestring,
        "reviewer");
    /* an active version's spec is frozen; its review state moves on */
    assert_int_equal(request(f, &a, "dev", "patch", "applicationversions",
                             "nginx-1", "",
                             "{\"spec\":{\"versionName\":\"2.0.0\"}}"),
                     409);
    assert_int_equal(request(f, &a, "dev", "patch", "applicationversions",
                             "nginx-1", "",
                             "{\"metadata\":{\"labels\":{\"application."
                             "kubesphere.io/app-id\":\"other\"}}}"),
                     422);
    assert_int_equal(request(f, &a, "dev", "patch", "applications", "nginx", "",
                             "{\"spec\":{\"appType\":\"rpm\"}}"),
                     422);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review_steps),
        cmocka_unit_test_setup_teardown(test_a_version_through_review, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
