/* Unit tests of the reader of a remote repository's index.yaml
 * (index_read.c): Helm's required apiVersion, the entries it keeps and
 * skips, the order and the cap of versions per chart, and the fields a
 * version carries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "repo.h"

static int read_text(const char *text, size_t max,
                     struct appstore_remote_index *idx, char *err)
{
    return appstore_index_read(text, strlen(text), max, idx, err, 256);
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"entries: {}\n", "no API version specified"},
        {"apiVersion: v2\nentries: {}\n", "is not v1"},
        {"apiVersion: v1\nentries: [a]\n", "entries is not a map"},
        {"- a\n", "not one YAML map"},
        {"apiVersion: v1\n---\napiVersion: v1\n", "not one YAML map"},
        {"apiVersion: v1\nentries: &a {}\nx: *a\n", "index.yaml"},
        {"apiVersion: [v1\n", "index.yaml"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct appstore_remote_index idx;
        char err[256] = "";
        assert_int_equal(read_text(bad[i].text, 10, &idx, err), -1);
        if (!strstr(err, bad[i].why) || strchr(err, '\n'))
            fail_msg("%s: \"%s\"", bad[i].text, err);
        assert_int_equal(idx.n, 0);
    }
}

static void test_empty(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "apiVersion: v1\n",
        "apiVersion: v1\nentries:\n",
        "apiVersion: v1\nentries: {}\ngenerated: x\n",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        struct appstore_remote_index idx;
        char err[256];
        assert_int_equal(read_text(ok[i], 10, &idx, err), 0);
        assert_int_equal(idx.n, 0);
        assert_int_equal(idx.charts, 0);
        appstore_remote_index_free(&idx);
    }
}

static const char index_text[] =
    "apiVersion: v1\n"
    "entries:\n"
    "  web:\n"
    "  - name: web\n"
    "    version: 1.2.0\n"
    "    appVersion: \"2.0\"\n"
    "    description: a web server\n"
    "    home: https://example.com\n"
    "    maintainers:\n"
    "    - name: Ann\n"
    "      email: ann@example.com\n"
    "    urls: [charts/web-1.2.0.tgz, https://mirror.example/web.tgz]\n"
    "    digest: "
    "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n"
    "    created: \"2024-01-02T03:04:05.123456789Z\"\n"
    "  - {name: web, version: 1.10.0, urls: [web-1.10.0.tgz]}\n"
    "  - {name: web, version: 1.10.0-rc.1, urls: [web-1.10.0-rc.1.tgz]}\n"
    "  - {name: web, version: latest, urls: [web-latest.tgz]}\n"
    "  - {name: web, version: 0.9.0, urls: [web-0.9.0.tgz]}\n"
    "  - {name: web, version: 1.2.0, urls: [again.tgz]}\n"
    "  - {name: web, version: 0.1.0}\n"
    "  - {name: other, version: 0.1.0, urls: [x.tgz]}\n"
    "  - {name: web, version: ../x, urls: [x.tgz]}\n"
    "  - not a map\n"
    "  db:\n"
    "  - {version: 3.0.0, urls: [db.tgz], digest: short}\n"
    "  \"bad/name\":\n"
    "  - {name: \"bad/name\", version: 1.0.0, urls: [b.tgz]}\n"
    "  nothing:\n";

static void test_entries(void **state)
{
    (void)state;
    struct appstore_remote_index idx;
    char err[256];
    assert_int_equal(read_text(index_text, 10, &idx, err), 0);
    /* db 3.0.0, then web's newest first, the version that is not SemVer
     * last, the one listed twice once */
    static const char *const want[][2] = {
        {"db", "3.0.0"},  {"web", "1.10.0"}, {"web", "1.10.0-rc.1"},
        {"web", "1.2.0"}, {"web", "0.9.0"},  {"web", "latest"},
    };
    assert_int_equal(idx.n, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(idx.versions[i].v.name, want[i][0]);
        assert_string_equal(idx.versions[i].v.version, want[i][1]);
    }
    assert_int_equal(idx.charts, 2);
    assert_int_equal(idx.dropped, 0);
    /* no url, a name not its key, a version with a slash, not a map, a
     * name that cannot be a file name */
    assert_int_equal(idx.skipped, 5);
    const struct appstore_remote_version *web = &idx.versions[3];
    assert_string_equal(web->url, "charts/web-1.2.0.tgz");
    assert_string_equal(
        web->v.digest,
        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    assert_string_equal(web->v.created, "2024-01-02T03:04:05.123456789Z");
    const cJSON *meta = web->v.meta;
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(meta, "appVersion")->valuestring,
        "2.0");
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(meta, "description")->valuestring,
        "a web server");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(meta, "maintainers");
    assert_int_equal(cJSON_GetArraySize(m), 1);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(m, 0), "email")
            ->valuestring,
        "ann@example.com");
    assert_null(cJSON_GetObjectItemCaseSensitive(meta, "urls"));
    assert_null(cJSON_GetObjectItemCaseSensitive(meta, "digest"));
    /* a digest that is not a SHA-256 is none */
    assert_string_equal(idx.versions[0].v.digest, "");
    appstore_remote_index_free(&idx);
}

static void test_cap(void **state)
{
    (void)state;
    for (size_t max = 1; max <= 6; max++) {
        struct appstore_remote_index idx;
        char err[256];
        assert_int_equal(read_text(index_text, max, &idx, err), 0);
        size_t web = max < 5 ? max : 5;
        assert_int_equal(idx.n, 1 + web);
        assert_int_equal(idx.dropped, 5 - web);
        assert_string_equal(idx.versions[1].v.version, "1.10.0");
        appstore_remote_index_free(&idx);
    }
}

/* Many versions of many charts in flow style, read and capped. */
static void test_large(void **state)
{
    (void)state;
    size_t cap = 1 << 20, len = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    len += (size_t)snprintf(t + len, cap - len, "apiVersion: v1\nentries:\n");
    for (int c = 0; c < 50; c++) {
        len += (size_t)snprintf(t + len, cap - len, "  c%d:\n", c);
        for (int v = 0; v < 100; v++)
            len += (size_t)snprintf(t + len, cap - len,
                                    "  - {name: c%d, version: 1.%d.0, urls: "
                                    "[c%d-1.%d.0.tgz]}\n",
                                    c, v, c, v);
    }
    struct appstore_remote_index idx;
    char err[256];
    assert_int_equal(appstore_index_read(t, len, 10, &idx, err, sizeof err), 0);
    assert_int_equal(idx.n, 500);
    assert_int_equal(idx.charts, 50);
    assert_int_equal(idx.dropped, 4500);
    assert_string_equal(idx.versions[0].v.version, "1.99.0");
    assert_string_equal(idx.versions[9].v.version, "1.90.0");
    appstore_remote_index_free(&idx);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused), cmocka_unit_test(test_empty),
        cmocka_unit_test(test_entries), cmocka_unit_test(test_cap),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
