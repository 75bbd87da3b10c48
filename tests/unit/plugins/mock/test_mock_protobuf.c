/* Unit tests of the mock's protobuf body decoder
 * (plugins/drivers/mock/protobuf.c): hand-encoded bodies as kubectl's
 * typed commands send them, and malformed ones that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake.h"

/* A small protobuf writer for building test bodies. */
struct pbw {
    uint8_t b[8192];
    size_t n;
};

static void w_raw(struct pbw *w, const void *p, size_t n)
{
    assert_true(w->n + n <= sizeof(w->b));
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_varint(struct pbw *w, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        w_raw(w, &c, 1);
    } while (v);
}

static void w_tag(struct pbw *w, unsigned fn, unsigned wt)
{
    w_varint(w, (uint64_t)fn << 3 | wt);
}

static void w_bytes(struct pbw *w, unsigned fn, const void *p, size_t n)
{
    w_tag(w, fn, 2);
    w_varint(w, n);
    w_raw(w, p, n);
}

static void w_str(struct pbw *w, unsigned fn, const char *s)
{
    w_bytes(w, fn, s, strlen(s));
}

static void w_int(struct pbw *w, unsigned fn, uint64_t v)
{
    w_tag(w, fn, 0);
    w_varint(w, v);
}

static void w_msg(struct pbw *w, unsigned fn, const struct pbw *sub)
{
    w_bytes(w, fn, sub->b, sub->n);
}

static void w_map(struct pbw *w, unsigned fn, const char *k, const char *v)
{
    struct pbw e = {0};
    w_str(&e, 1, k);
    w_str(&e, 2, v);
    w_msg(w, fn, &e);
}

/* The k8s envelope around RAW of API/KIND. */
static void envelope(struct pbw *out, const char *api, const char *kind,
                     const struct pbw *raw)
{
    struct pbw tm = {0};
    w_str(&tm, 1, api);
    w_str(&tm, 2, kind);
    out->n = 0;
    w_raw(out, "k8s\0", 4);
    w_msg(out, 1, &tm);
    w_msg(out, 2, raw);
    w_str(out, 3, "");
    w_str(out, 4, "");
}

/* ObjectMeta as Go writes it: every non-pointer field, even empty. */
static void meta(struct pbw *m, const char *name, const char *ns)
{
    struct pbw ts = {0};
    w_str(m, 1, name);
    w_str(m, 2, "");
    w_str(m, 3, ns);
    w_str(m, 5, "");
    w_str(m, 6, "");
    w_int(m, 7, 0);
    w_msg(m, 8, &ts);
}

static cJSON *decode_ok(const struct pbw *body)
{
    cJSON *out = NULL;
    char err[256] = "";
    int rc = mock_protobuf_decode(body->b, body->n, &out, err, sizeof(err));
    if (rc != 0)
        fail_msg("decode: %d %s", rc, err);
    return out;
}

/* Decodes BODY and checks its compact JSON is WANT. */
static void expect_decoded(const struct pbw *body, const char *want)
{
    cJSON *o = decode_ok(body);
    char *text = cJSON_PrintUnformatted(o);
    assert_string_equal(text, want);
    free(text);
    cJSON_Delete(o);
}

static void test_namespace(void **state)
{
    (void)state;
    struct pbw m = {0}, raw = {0}, spec = {0}, status = {0}, body = {0};
    meta(&m, "team-a", "");
    w_map(&m, 11, "env", "prod");
    w_map(&m, 11, "team", "a");
    w_msg(&raw, 1, &m);
    w_msg(&raw, 2, &spec);
    w_msg(&raw, 3, &status);
    envelope(&body, "v1", "Namespace", &raw);
    expect_decoded(&body, "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\","
                          "\"metadata\":{\"name\":\"team-a\",\"labels\":{"
                          "\"env\":\"prod\",\"team\":\"a\"}}}");
}

static void test_configmap_and_secret(void **state)
{
    (void)state;
    struct pbw m = {0}, raw = {0}, body = {0};
    meta(&m, "cfg", "shop");
    w_map(&m, 11, "app", "web");
    w_map(&m, 12, "note", "hello");
    w_msg(&raw, 1, &m);
    w_map(&raw, 2, "a", "1");
    w_map(&raw, 2, "b", "two words");
    envelope(&body, "v1", "ConfigMap", &raw);
    cJSON *o = decode_ok(&body);
    assert_string_equal(mock_json_str(o, "metadata.namespace", ""), "shop");
    assert_string_equal(mock_json_str(o, "metadata.labels.app", ""), "web");
    assert_string_equal(mock_json_str(o, "metadata.annotations.note", ""),
                        "hello");
    assert_string_equal(mock_json_str(o, "data.b", ""), "two words");
    assert_null(fg_json_path(o, "metadata.creationTimestamp"));
    assert_null(fg_json_path(o, "metadata.generation"));
    assert_null(fg_json_path(o, "immutable"));
    cJSON_Delete(o);

    /* A Secret's data is bytes: base64 in JSON. */
    struct pbw s = {0};
    meta(&m, "pw", "shop");
    m.n = 0;
    meta(&m, "pw", "shop");
    w_msg(&s, 1, &m);
    w_map(&s, 2, "password", "hunter2");
    w_str(&s, 3, "Opaque");
    w_int(&s, 5, 0); /* immutable is a pointer: false is meaningful */
    envelope(&body, "v1", "Secret", &s);
    o = decode_ok(&body);
    assert_string_equal(mock_json_str(o, "data.password", ""), "aHVudGVyMg==");
    assert_string_equal(mock_json_str(o, "type", ""), "Opaque");
    assert_true(cJSON_IsFalse(fg_json_path(o, "immutable")));
    cJSON_Delete(o);
}

/* `kubectl create serviceaccount` and a ServiceAccount with every field. */
static void test_serviceaccount(void **state)
{
    (void)state;
    struct pbw m = {0}, raw = {0}, body = {0}, ref = {0}, pull = {0};
    meta(&m, "fedgate", "fedgate");
    w_msg(&raw, 1, &m);
    envelope(&body, "v1", "ServiceAccount", &raw);
    expect_decoded(&body, "{\"kind\":\"ServiceAccount\",\"apiVersion\":"
                          "\"v1\",\"metadata\":{\"name\":\"fedgate\","
                          "\"namespace\":\"fedgate\"}}");

    w_str(&ref, 1, "Secret");
    w_str(&ref, 3, "token");
    w_msg(&raw, 2, &ref);
    w_str(&pull, 1, "registry");
    w_msg(&raw, 3, &pull);
    w_int(&raw, 4, 0); /* a pointer: false is meaningful */
    envelope(&body, "v1", "ServiceAccount", &raw);
    cJSON *o = decode_ok(&body);
    assert_string_equal(fake_item_str(o, "secrets", 0, "kind"), "Secret");
    assert_string_equal(fake_item_str(o, "secrets", 0, "name"), "token");
    assert_string_equal(
        mock_json_str(
            cJSON_GetArrayItem(fg_json_path(o, "imagePullSecrets"), 0), "name",
            ""),
        "registry");
    assert_true(cJSON_IsFalse(fg_json_path(o, "automountServiceAccountToken")));
    cJSON_Delete(o);
}

static void test_deployment(void **state)
{
    (void)state;
    struct pbw m = {0}, sel = {0}, tm = {0}, port = {0}, env = {0}, res = {0},
               q = {0}, ent = {0}, c = {0}, ps = {0}, tpl = {0}, spec = {0},
               strat = {0}, raw = {0}, body = {0};
    meta(&m, "web", "shop");
    w_map(&sel, 1, "app", "web");
    meta(&tm, "", "");
    w_map(&tm, 11, "app", "web");
    w_int(&port, 3, 8080);
    w_str(&port, 4, "TCP");
    w_str(&env, 1, "MODE");
    w_str(&env, 2, "fast");
    w_str(&q, 1, "250m");
    w_str(&ent, 1, "cpu");
    w_msg(&ent, 2, &q);
    w_msg(&res, 2, &ent);
    w_str(&c, 1, "nginx");
    w_str(&c, 2, "nginx:1.27");
    w_str(&c, 3, "nginx");
    w_str(&c, 4, "-g");
    w_str(&c, 4, "daemon off;");
    w_msg(&c, 6, &port);
    w_msg(&c, 7, &env);
    w_msg(&c, 8, &res);
    w_int(&c, 16, 0);
    w_msg(&ps, 2, &c);
    w_str(&ps, 3, "Always");
    w_int(&ps, 4, 30);
    w_msg(&tpl, 1, &tm);
    w_msg(&tpl, 2, &ps);
    w_int(&spec, 1, 0); /* replicas 0 is kept: a pointer in Go */
    w_msg(&spec, 2, &sel);
    w_msg(&spec, 3, &tpl);
    w_msg(&spec, 4, &strat);
    w_msg(&raw, 1, &m);
    w_msg(&raw, 2, &spec);
    envelope(&body, "apps/v1", "Deployment", &raw);
    cJSON *o = decode_ok(&body);
    assert_string_equal(mock_json_str(o, "apiVersion", ""), "apps/v1");
    assert_int_equal(mock_json_int(o, "spec.replicas", -1), 0);
    assert_string_equal(mock_json_str(o, "spec.selector.matchLabels.app", ""),
                        "web");
    assert_null(fg_json_path(o, "spec.strategy"));
    const cJSON *ctr =
        cJSON_GetArrayItem(fg_json_path(o, "spec.template.spec.containers"), 0);
    assert_string_equal(mock_json_str(ctr, "image", ""), "nginx:1.27");
    assert_int_equal(cJSON_GetArraySize(fg_json_path(ctr, "args")), 2);
    assert_string_equal(
        cJSON_GetArrayItem(fg_json_path(ctr, "args"), 1)->valuestring,
        "daemon off;");
    assert_int_equal(
        mock_json_int(cJSON_GetArrayItem(fg_json_path(ctr, "ports"), 0),
                      "containerPort", 0),
        8080);
    assert_string_equal(fake_item_str(ctr, "env", 0, "value"), "fast");
    assert_string_equal(mock_json_str(ctr, "resources.requests.cpu", ""),
                        "250m");
    assert_null(fg_json_path(ctr, "stdin"));
    assert_int_equal(mock_json_int(o,
                                   "spec.template.spec."
                                   "terminationGracePeriodSeconds",
                                   0),
                     30);
    assert_string_equal(
        mock_json_str(o, "spec.template.metadata.labels.app", ""), "web");
    cJSON_Delete(o);
}

static void expect_rc(const void *data, size_t len, int want)
{
    cJSON *out = NULL;
    char err[256] = "";
    int rc = mock_protobuf_decode(data, len, &out, err, sizeof(err));
    if (rc != want)
        fail_msg("rc %d (%s), want %d", rc, err, want);
    assert_null(out);
    assert_true(err[0] != '\0');
}

static void test_malformed(void **state)
{
    (void)state;
    struct pbw m = {0}, raw = {0}, body = {0};
    meta(&m, "x", "");
    w_msg(&raw, 1, &m);
    envelope(&body, "v1", "Namespace", &raw);
    /* Every truncation of a valid body is refused or decodes cleanly. */
    for (size_t n = 0; n < body.n; n++) {
        cJSON *out = NULL;
        char err[256];
        int rc = mock_protobuf_decode(body.b, n, &out, err, sizeof(err));
        assert_true(rc == 0 || rc == -1 || rc == -2);
        cJSON_Delete(out);
    }
    expect_rc("k8s", 3, -1);
    expect_rc("{\"kind\":\"Namespace\"}", 20, -1);

    /* A kind without a schema, an encoding: 415. */
    envelope(&body, "v1", "Node", &raw);
    expect_rc(body.b, body.n, -2);
    struct pbw tm = {0}, enc = {0};
    w_str(&tm, 1, "v1");
    w_str(&tm, 2, "Namespace");
    w_raw(&enc, "k8s\0", 4);
    w_msg(&enc, 1, &tm);
    w_msg(&enc, 2, &raw);
    w_str(&enc, 3, "gzip");
    expect_rc(enc.b, enc.n, -2);

    /* A length past the end, a wrong wire type, a group, bad UTF-8. */
    struct pbw bad = {0};
    w_tag(&bad, 1, 2);
    w_varint(&bad, 1000);
    envelope(&body, "v1", "Namespace", &bad);
    expect_rc(body.b, body.n, -1);
    bad.n = 0;
    w_int(&bad, 1, 5); /* metadata as a varint */
    envelope(&body, "v1", "Namespace", &bad);
    expect_rc(body.b, body.n, -1);
    bad.n = 0;
    w_tag(&bad, 9, 3);
    envelope(&body, "v1", "Namespace", &bad);
    expect_rc(body.b, body.n, -1);
    struct pbw bm = {0};
    w_bytes(&bm, 1, "\xff\xfe", 2);
    bad.n = 0;
    w_msg(&bad, 1, &bm);
    envelope(&body, "v1", "Namespace", &bad);
    expect_rc(body.b, body.n, -1);
    bm.n = 0;
    w_bytes(&bm, 1, "a\0b", 3);
    bad.n = 0;
    w_msg(&bad, 1, &bm);
    envelope(&body, "v1", "Namespace", &bad);
    expect_rc(body.b, body.n, -1);
    /* An over-long varint. */
    bad.n = 0;
    w_raw(&bad, "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
    envelope(&body, "v1", "Namespace", &bad);
    expect_rc(body.b, body.n, -1);

    /* Deeply nested messages in an unknown field are skipped whole,
     * without recursion. */
    struct pbw deep = {0};
    for (int i = 0; i < 200; i++) {
        struct pbw outer = {0};
        w_msg(&outer, 15, &deep);
        deep = outer;
        if (deep.n > 4000)
            break;
    }
    envelope(&body, "v1", "Namespace", &deep);
    cJSON *out = decode_ok(&body);
    cJSON_Delete(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_namespace),
        cmocka_unit_test(test_configmap_and_secret),
        cmocka_unit_test(test_serviceaccount),
        cmocka_unit_test(test_deployment),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
