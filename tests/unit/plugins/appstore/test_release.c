/* Tests of the app store's release pieces: manifest.c (a plain template
 * file cut into its documents, each checked for what it is; Helm's
 * manifest text and its reading back; a document's path on the member
 * from discovery) and helm_release.c (Helm's storage encoding of a release,
 * the Secret that holds it and its reading back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include <fedgate/util.h>

#include "helm_release.h"
#include "manifest.h"

#define CM "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
#define DEPLOY                                                                 \
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"          \
    "  namespace: shop\nspec: {replicas: 1}\n"

static size_t split(const char *text, struct appstore_manifest *m, char *err,
                    size_t len)
{
    *m = (struct appstore_manifest){0};
    if (appstore_manifest_split(m, "c/templates/t.yaml", text, strlen(text),
                                err, len) < 0)
        return (size_t)-1;
    return m->n;
}

static void test_split_documents(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t docs;
    } cases[] = {
        {CM, 1},
        {"---\n" CM, 1},
        {CM "---\n" DEPLOY, 2},
        {CM "...\n---\n" DEPLOY "---\n", 2},
        {"# only a comment\n---\n\n---   \n" CM "--- \t\r\n# end\n", 1},
        {"", 0},
        {"\n\n# nothing\n", 0},
        /* a marker must start the line: indented dashes are content */
        {"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n"
         "  x: |\n    ---\n",
         1},
        {CM "---\r\n" DEPLOY, 2},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct appstore_manifest m;
        size_t n = split(cases[i].text, &m, err, sizeof(err));
        if (n != cases[i].docs)
            fail_msg("case %zu: %zu documents, want %zu (%s)", i, n,
                     cases[i].docs, err);
        appstore_manifest_free(&m);
    }
    struct appstore_manifest m;
    assert_int_equal(split(CM "---\n" DEPLOY, &m, err, sizeof(err)), 2);
    assert_string_equal(m.v[0].kind, "ConfigMap");
    assert_string_equal(m.v[0].api_version, "v1");
    assert_null(m.v[0].ns);
    assert_string_equal(m.v[1].name, "web");
    assert_string_equal(m.v[1].ns, "shop");
    assert_string_equal(m.v[1].api_version, "apps/v1");
    assert_string_equal(m.v[1].text, DEPLOY);
    appstore_manifest_free(&m);
}

static void test_split_refuses(void **state)
{
    (void)state;
    static const struct {
        const char *text, *why;
    } cases[] = {
        {"--- x: 1\n", ":1: content after a document marker"},
        {CM "... junk\n", ":5: content after a document marker"},
        {"- a\n- b\n", ":1: a document is not one object"},
        {"just text\n", ":1: a document is not one object"},
        {"kind: ConfigMap\nmetadata: {name: a}\n", "apiVersion"},
        {"apiVersion: v1/../x\nkind: A\nmetadata: {name: a}\n", "apiVersion"},
        {"apiVersion: Apps/v1\nkind: A\nmetadata: {name: a}\n", "apiVersion"},
        {"apiVersion: v1\nkind: config map\nmetadata: {name: a}\n", "kind"},
        {"apiVersion: v1\nkind: [A]\nmetadata: {name: a}\n", "kind"},
        {"apiVersion: v1\nkind: A\n", "metadata.name"},
        {"apiVersion: v1\nkind: A\nmetadata: {name: ../a}\n", "metadata.name"},
        {"apiVersion: v1\nkind: A\nmetadata: {name: A}\n", "metadata.name"},
        {"apiVersion: v1\nkind: A\nmetadata: {name: \"a\\r\\nX: y\"}\n",
         "metadata.name"},
        {"apiVersion: v1\nkind: A\nmetadata: {name: a, namespace: a.b}\n",
         "metadata.namespace"},
        {"apiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n"
         "apiVersion: v1\nkind: A\nmetadata: {name: [x]}\n",
         ":5: metadata.name"},
        {"a: &x 1\nb: *x\n", "alias"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct appstore_manifest m;
        err[0] = 0;
        if (split(cases[i].text, &m, err, sizeof(err)) != (size_t)-1)
            fail_msg("case %zu accepted", i);
        if (!strstr(err, cases[i].why) || !strstr(err, "c/templates/t.yaml"))
            fail_msg("case %zu: \"%s\" does not say %s", i, err, cases[i].why);
        appstore_manifest_free(&m);
    }
    /* a NUL byte anywhere */
    struct appstore_manifest m = {0};
    assert_int_equal(appstore_manifest_split(&m, "f", CM "\0x", sizeof(CM) + 1,
                                             err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "NUL"));
    /* a bounded count of documents */
    size_t n = APPSTORE_MANIFEST_MAX_DOCS + 1, one = strlen(CM "---\n");
    char *many = malloc(n * one + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(many + i * one, CM "---\n", one);
    many[n * one] = 0;
    assert_int_equal(split(many, &m, err, sizeof(err)), (size_t)-1);
    assert_non_null(strstr(err, "more than"));
    appstore_manifest_free(&m);
    free(many);
}

static void test_manifest_round_trip(void **state)
{
    (void)state;
    char err[256];
    struct appstore_manifest m, back = {0};
    assert_int_equal(split(CM "---\n" DEPLOY, &m, err, sizeof(err)), 2);
    size_t len;
    char *text = appstore_manifest_text(&m, &len);
    assert_string_equal(text, "---\n# Source: c/templates/t.yaml\n" CM
                              "---\n# Source: c/templates/t.yaml\n" DEPLOY);
    assert_int_equal(strlen(text), len);
    assert_int_equal(appstore_manifest_read(&back, text, len, err, sizeof(err)),
                     0);
    assert_int_equal(back.n, 2);
    for (size_t i = 0; i < 2; i++)
        assert_true(appstore_manifest_has(&m, &back.v[i]));
    /* another namespace, name or kind is another object */
    struct appstore_doc other = back.v[1];
    other.ns = "default";
    assert_false(appstore_manifest_has(&m, &other));
    other = back.v[0];
    other.kind = "Secret";
    assert_false(appstore_manifest_has(&m, &other));
    free(text);
    appstore_manifest_free(&m);
    appstore_manifest_free(&back);
}

/* Where a document is on the member: its resource from discovery,
 * namespaced or not, in its own namespace or the release's. */
static void test_doc_path(void **state)
{
    (void)state;
    char err[256], path[300];
    struct appstore_manifest m;
    assert_int_equal(split(CM "---\n" DEPLOY "---\n"
                              "apiVersion: rbac.authorization.k8s.io/v1\n"
                              "kind: ClusterRole\nmetadata:\n  name: r\n"
                              "---\napiVersion: v1\nkind: Widget\n"
                              "metadata:\n  name: w\n",
                           &m, err, sizeof(err)),
                     4);
    cJSON *disc = cJSON_Parse(
        "{\"v1\":{\"resources\":["
        "{\"name\":\"configmaps/status\",\"kind\":\"ConfigMap\","
        "\"namespaced\":true},"
        "{\"name\":\"configmaps\",\"kind\":\"ConfigMap\","
        "\"namespaced\":true}]},"
        "\"apps/v1\":{\"resources\":[{\"name\":\"deployments\","
        "\"kind\":\"Deployment\",\"namespaced\":true}]},"
        "\"rbac.authorization.k8s.io/v1\":{\"resources\":[{\"name\":"
        "\"clusterroles\",\"kind\":\"ClusterRole\",\"namespaced\":false}"
        "]}}");
    static const char *const want[] = {
        "/api/v1/namespaces/web/configmaps/a",
        "/apis/apps/v1/namespaces/shop/deployments/web",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/r",
    };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(
            appstore_doc_path(disc, &m.v[i], "web", path, sizeof(path)), 0);
        assert_string_equal(path, want[i]);
    }
    /* a kind the member does not serve; a path that does not fit */
    assert_int_equal(
        appstore_doc_path(disc, &m.v[3], "web", path, sizeof(path)), -1);
    assert_int_equal(
        appstore_doc_path(NULL, &m.v[0], "web", path, sizeof(path)), -1);
    assert_int_equal(appstore_doc_path(disc, &m.v[0], "web", path, 10), -1);
    cJSON_Delete(disc);
    appstore_manifest_free(&m);
}

static void test_dns_label(void **state)
{
    (void)state;
    assert_true(appstore_dns_label("web", 63));
    assert_true(appstore_dns_label("a-1", 63));
    assert_false(appstore_dns_label("", 63));
    assert_false(appstore_dns_label("-a", 63));
    assert_false(appstore_dns_label("a-", 63));
    assert_false(appstore_dns_label("A", 63));
    assert_false(appstore_dns_label("a.b", 63));
    assert_false(appstore_dns_label("a_b", 63));
    assert_true(appstore_dns_label("abcd", 4));
    assert_false(appstore_dns_label("abcde", 4));
}

static cJSON *sample(void)
{
    cJSON *chart = cJSON_Parse("{\"name\":\"web\",\"version\":\"0.1.0\"}");
    char data[] = "kind: A\n";
    struct appstore_file f = {"templates/a.yaml", data, 8};
    struct appstore_files t = {&f, 1};
    struct appstore_helm_info in = {
        .name = "web",
        .ns = "shop",
        .version = 3,
        .status = "deployed",
        .first_deployed = "2026-01-01T00:00:00Z",
        .last_deployed = "2026-01-02T00:00:00Z",
        .description = "Upgrade complete",
        .chart = chart,
        .templates = &t,
        .manifest = "---\n" CM,
    };
    cJSON *r = appstore_helm_release(&in);
    cJSON_Delete(chart);
    return r;
}

/* Helm's reading of an encoded release, done here with zlib directly:
 * base64, then gunzip. */
static cJSON *helm_reads(const char *text)
{
    size_t n = strlen(text);
    unsigned char *gz = malloc(FG_BASE64_DECODED_MAX(n));
    long m = fg_base64_decode(gz, FG_BASE64_DECODED_MAX(n), text, n, 0);
    assert_true(m > 3);
    assert_int_equal(gz[0], 0x1f);
    assert_int_equal(gz[1], 0x8b);
    static char json[1 << 16];
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
    z.next_in = gz;
    z.avail_in = (uInt)m;
    z.next_out = (unsigned char *)json;
    z.avail_out = sizeof(json) - 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    json[sizeof(json) - 1 - z.avail_out] = 0;
    inflateEnd(&z);
    free(gz);
    return cJSON_Parse(json);
}

static void test_release_encoding(void **state)
{
    (void)state;
    cJSON *r = sample();
    char *text = appstore_helm_encode(r);
    cJSON *read = helm_reads(text);
    assert_true(cJSON_Compare(r, read, 1));
    assert_string_equal(cJSON_GetStringValue(fg_json_path(read, "info.status")),
                        "deployed");
    assert_string_equal(
        cJSON_GetStringValue(fg_json_path(read, "chart.metadata.version")),
        "0.1.0");
    assert_int_equal(fg_json_path(read, "version")->valueint, 3);
    /* the template's bytes as Helm keeps them: base64 */
    const cJSON *t =
        cJSON_GetArrayItem(fg_json_path(read, "chart.templates"), 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(t, "data")),
                        "a2luZDogQQo=");
    char err[256];
    cJSON *back =
        appstore_helm_decode(text, strlen(text), 1 << 20, err, sizeof(err));
    assert_true(cJSON_Compare(r, back, 1));
    /* bounded: a release larger than the limit is refused */
    assert_null(
        appstore_helm_decode(text, strlen(text), 100, err, sizeof(err)));
    assert_non_null(strstr(err, "larger than"));
    /* Helm also reads a release that is base64 of plain JSON */
    char *plain = fg_base64_encode_alloc("{\"name\":\"x\"}", 12, 0);
    cJSON *p =
        appstore_helm_decode(plain, strlen(plain), 1 << 20, err, sizeof(err));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(p, "name")),
                        "x");
    /* what is not a release */
    static const char *const bad[] = {"!!!", "H4sI", "bnVsbA==", "W10="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_null(appstore_helm_decode(bad[i], strlen(bad[i]), 1 << 20, err,
                                         sizeof(err)));
    cJSON_Delete(p);
    free(plain);
    cJSON_Delete(back);
    cJSON_Delete(read);
    free(text);
    cJSON_Delete(r);
}

static void test_release_secret(void **state)
{
    (void)state;
    cJSON *r = sample();
    cJSON *s = appstore_helm_secret(r);
    assert_string_equal(cJSON_GetStringValue(fg_json_path(s, "metadata.name")),
                        "sh.helm.release.v1.web.v3");
    assert_string_equal(
        cJSON_GetStringValue(fg_json_path(s, "metadata.namespace")), "shop");
    assert_string_equal(cJSON_GetStringValue(fg_json_path(s, "type")),
                        "helm.sh/release.v1");
    cJSON *want = cJSON_Parse("{\"name\":\"web\",\"owner\":\"helm\","
                              "\"status\":\"deployed\",\"version\":\"3\"}");
    assert_true(cJSON_Compare(fg_json_path(s, "metadata.labels"), want, 1));
    /* data.release: the Secret's base64 of Helm's own base64 text */
    const char *data = cJSON_GetStringValue(fg_json_path(s, "data.release"));
    size_t n = strlen(data);
    char *inner = calloc(1, FG_BASE64_DECODED_MAX(n) + 1);
    assert_true(fg_base64_decode(inner, FG_BASE64_DECODED_MAX(n), data, n, 0) >
                0);
    cJSON *read = helm_reads(inner);
    assert_true(cJSON_Compare(r, read, 1));
    /* the release the Secret holds, read back; bounded */
    cJSON *held = appstore_helm_secret_release(s, 1 << 20);
    assert_true(cJSON_Compare(r, held, 1));
    cJSON_Delete(held);
    assert_null(appstore_helm_secret_release(s, 100));
    /* a Secret without a release, or with one that is not base64 */
    static const char *const not_held[] = {"{}", "{\"data\":{}}",
                                           "{\"data\":{\"release\":7}}",
                                           "{\"data\":{\"release\":\"!!!\"}}"};
    for (size_t i = 0; i < sizeof(not_held) / sizeof(not_held[0]); i++) {
        cJSON *o = cJSON_Parse(not_held[i]);
        assert_null(appstore_helm_secret_release(o, 1 << 20));
        cJSON_Delete(o);
    }
    /* a release without what names its Secret has none */
    cJSON_DeleteItemFromObject(r, "namespace");
    assert_null(appstore_helm_secret(r));
    cJSON_Delete(read);
    free(inner);
    cJSON_Delete(want);
    cJSON_Delete(s);
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_documents),
        cmocka_unit_test(test_split_refuses),
        cmocka_unit_test(test_manifest_round_trip),
        cmocka_unit_test(test_doc_path),
        cmocka_unit_test(test_dns_label),
        cmocka_unit_test(test_release_encoding),
        cmocka_unit_test(test_release_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
