/* Tests of request-target normalisation and member routing
 * (core/request/target.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "request/target.h"

#define MAX_URI 8192

struct expect {
    const char *in;
    int status;
    const char *path;
    const char *query;
    enum fg_member_ref ref;
    const char *member;
    const char *rest;
};

static void check(const struct expect *e)
{
    struct fg_target t;
    struct fg_error err = {{0}};
    int rc = fg_target_parse(e->in, strlen(e->in), MAX_URI, &t, &err);
    if (rc != e->status)
        fail_msg("%s: status %d, want %d (%s)", e->in, rc, e->status, err.msg);
    if (rc != 0) {
        assert_null(t.path);
        assert_true(err.msg[0] != '\0');
        return;
    }
    assert_string_equal(t.path, e->path);
    if (e->query)
        assert_string_equal(t.query, e->query);
    else
        assert_null(t.query);
    if (t.member_ref != e->ref)
        fail_msg("%s: member_ref %d, want %d", e->in, t.member_ref, e->ref);
    if (e->ref != FG_MEMBER_NONE) {
        assert_string_equal(t.member, e->member);
        assert_string_equal(t.rest, e->rest);
    } else {
        assert_ptr_equal(t.rest, t.path);
    }
    fg_target_free(&t);
}

/* IN must be refused with 400. */
static void check_refused(const char *in)
{
    struct expect e = {in, 400, NULL, NULL, FG_MEMBER_NONE, NULL, NULL};
    check(&e);
}

static void test_routing(void **state)
{
    (void)state;
    static const struct expect cases[] = {
        {"/clusters/demo/api/v1/pods", 0, "/clusters/demo/api/v1/pods", NULL,
         FG_MEMBER_NAMED, "demo", "/api/v1/pods"},
        {"/clusters/demo", 0, "/clusters/demo", NULL, FG_MEMBER_NAMED, "demo",
         "/"},
        {"/clusters/demo/", 0, "/clusters/demo", NULL, FG_MEMBER_NAMED, "demo",
         "/"},
        {"/clusters", 0, "/clusters", NULL, FG_MEMBER_NONE, NULL, NULL},
        {"/clusters/", 0, "/clusters", NULL, FG_MEMBER_NONE, NULL, NULL},
        {"/clusters/DEMO/api", 0, "/clusters/DEMO/api", NULL, FG_MEMBER_INVALID,
         "DEMO", "/api"},
        {"/clusters/-demo/api", 0, "/clusters/-demo/api", NULL,
         FG_MEMBER_INVALID, "-demo", "/api"},
        {"/clusters/de_mo", 0, "/clusters/de_mo", NULL, FG_MEMBER_INVALID,
         "de_mo", "/"},
        {"/clusters/de.mo/x", 0, "/clusters/de.mo/x", NULL, FG_MEMBER_INVALID,
         "de.mo", "/x"},
        /* inside the member's part, normalisation stays */
        {"/clusters/demo/./api//v1/x/../pods/", 0, "/clusters/demo/api/v1/pods",
         NULL, FG_MEMBER_NAMED, "demo", "/api/v1/pods"},
        {"/clusters/demo/api/%2e%2e/apis", 0, "/clusters/demo/apis", NULL,
         FG_MEMBER_NAMED, "demo", "/apis"},
        {"/clusters/demo/api/..", 0, "/clusters/demo", NULL, FG_MEMBER_NAMED,
         "demo", "/"},
        {"/clusters/demo/..%2e", 0, "/clusters/demo/...", NULL, FG_MEMBER_NAMED,
         "demo", "/..."},
        {"/Clusters/demo/api", 0, "/Clusters/demo/api", NULL, FG_MEMBER_NONE,
         NULL, NULL},
        {"/clustersx/demo", 0, "/clustersx/demo", NULL, FG_MEMBER_NONE, NULL,
         NULL},
        {"/api/v1/namespaces/default/pods?watch=1&labelSelector=a%3Db", 0,
         "/api/v1/namespaces/default/pods", "watch=1&labelSelector=a%3Db",
         FG_MEMBER_NONE, NULL, NULL},
        {"/clusters/demo/api?a=/../b?c", 0, "/clusters/demo/api", "a=/../b?c",
         FG_MEMBER_NAMED, "demo", "/api"},
        {"/api?", 0, "/api", NULL, FG_MEMBER_NONE, NULL, NULL},
        {"/", 0, "/", NULL, FG_MEMBER_NONE, NULL, NULL},
        {"/.", 0, "/", NULL, FG_MEMBER_NONE, NULL, NULL},
        {"/a/..", 0, "/", NULL, FG_MEMBER_NONE, NULL, NULL},
        {"/?x=1", 0, "/", "x=1", FG_MEMBER_NONE, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

/* Copies FORM into BUF with each '*' replaced by DOT. */
static void fill(char *buf, size_t size, const char *form, const char *dot)
{
    size_t n = 0;
    for (; *form && n + strlen(dot) + 1 < size; form++) {
        if (*form == '*') {
            memcpy(buf + n, dot, strlen(dot));
            n += strlen(dot);
        } else {
            buf[n++] = *form;
        }
    }
    buf[n] = '\0';
}

/* The member is the segment after /clusters/ as sent: every way of
 * leaving /clusters/NAME/ or of reaching it only after decoding or
 * normalisation is refused, never routed (RFC 3986 dot segments, raw or
 * encoded in any mix, empty segments, encoded or look-alike names). */
static void test_member_escapes(void **state)
{
    (void)state;
    static const char *const dots[] = {
        "..",   "%2e%2e", "%2E%2E", "%2e%2E", "%2E%2e",
        ".%2e", ".%2E",   "%2e.",   "%2E.",
    };
    static const char *const forms[] = {
        /* leaving the member's part */
        "/clusters/m1/*/m2/api/v1/pods",
        "/clusters/m1/*/*/clusters/m2/api",
        "/clusters/m1/api/*/*/m2",
        "/clusters/m1/api/v1/*/*/*/m2/x",
        "/clusters/m1/*",
        "/clusters/m1/./*/m2",
        "/clusters/m1//*/m2",
        "/clusters/m1/*?x=/clusters/m1",
        /* the name itself a dot segment */
        "/clusters/*/m2/api",
        "/clusters/*",
        /* reaching /clusters/ only by normalisation */
        "/x/*/clusters/m2/api",
        "/*/clusters/m2",
        "/clusters/m1/../*/m2",
    };
    char buf[256];
    for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++)
        for (size_t d = 0; d < sizeof(dots) / sizeof(dots[0]); d++) {
            fill(buf, sizeof(buf), forms[f], dots[d]);
            check_refused(buf);
        }
    static const char *const bad[] = {
        "/clusters/./m1",
        "/clusters/%2e/m1",
        "/clusters//m1",
        "/clusters//m1/api",
        "/clusters///m1",
        "/clusters/%6d1/api",
        "/clusters/%6D1",
        "/clusters/m%31/api",
        "/clusters/m1%2f..%2fm2/api",
        "/clusters/m1%2F",
        "/clusters/m1%00",
        "/clusters/m1%20",
        "/clusters/m1;x=1/api",
        "/clusters/m1:443/api",
        "/clusters/m1@m2/api",
        "/clusters/m1%5C..%5Cm2/api",
        "/%63lusters/m1/api",
        "/%63%6c%75%73%74%65%72%73/m1/api",
        "/cluster%73/m1",
        "//clusters/m1/api",
        "/./clusters/m1/api",
        "/x/../clusters/m1/api",
        "/clusters/../clusters/m1/api",
        "/clusters/./clusters/m1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_refused(bad[i]);
    /* look-alike names are answered as unknown members, never routed to
     * the member they resemble */
    static const struct expect lookalike[] = {
        {"/clusters/M1/api", 0, "/clusters/M1/api", NULL, FG_MEMBER_INVALID,
         "M1", "/api"},
        {"/clusters/m1./api", 0, "/clusters/m1./api", NULL, FG_MEMBER_INVALID,
         "m1.", "/api"},
        {"/clusters/m1~/api", 0, "/clusters/m1~/api", NULL, FG_MEMBER_INVALID,
         "m1~", "/api"},
        {"/clusters/m_1/api", 0, "/clusters/m_1/api", NULL, FG_MEMBER_INVALID,
         "m_1", "/api"},
        {"/clusters/m1-/api", 0, "/clusters/m1-/api", NULL, FG_MEMBER_INVALID,
         "m1-", "/api"},
        {"/clusters/...", 0, "/clusters/...", NULL, FG_MEMBER_INVALID, "...",
         "/"},
    };
    for (size_t i = 0; i < sizeof(lookalike) / sizeof(lookalike[0]); i++)
        check(&lookalike[i]);
}

/* The segment "*" (or "%2A", as Go's url package escapes it for kubectl
 * and client-go) means every member; no other spelling does, and nothing
 * after it leaves it. */
static void test_all_clusters(void **state)
{
    (void)state;
    static const struct expect all[] = {
        {"/clusters/*/api/v1/pods", 0, "/clusters/*/api/v1/pods", NULL,
         FG_MEMBER_ALL, "*", "/api/v1/pods"},
        {"/clusters/%2A/api/v1/pods?limit=2", 0, "/clusters/*/api/v1/pods",
         "limit=2", FG_MEMBER_ALL, "*", "/api/v1/pods"},
        {"/clusters/%2a/api", 0, "/clusters/*/api", NULL, FG_MEMBER_ALL, "*",
         "/api"},
        {"/clusters/*", 0, "/clusters/*", NULL, FG_MEMBER_ALL, "*", "/"},
        {"/clusters/%2A/", 0, "/clusters/*", NULL, FG_MEMBER_ALL, "*", "/"},
        {"/clusters/*/api/./v1//x/../pods", 0, "/clusters/*/api/v1/pods", NULL,
         FG_MEMBER_ALL, "*", "/api/v1/pods"},
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        check(&all[i]);
    static const char *const dots[] = {"..", "%2e%2e", ".%2E", "%2E."};
    static const char *const forms[] = {
        "/clusters/*/#/m2/api",   "/clusters/%2A/#/m2/api",
        "/clusters/*/api/#/#/m2", "/clusters/%2a/#",
        "/x/#/clusters/*/api",    "/#/clusters/%2A",
    };
    char buf[256];
    for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++)
        for (size_t d = 0; d < sizeof(dots) / sizeof(dots[0]); d++) {
            /* fill() replaces '*': mark the dots with '#' here instead */
            size_t n = 0;
            for (const char *p = forms[f]; *p && n + 8 < sizeof(buf); p++) {
                if (*p == '#') {
                    memcpy(buf + n, dots[d], strlen(dots[d]));
                    n += strlen(dots[d]);
                } else {
                    buf[n++] = *p;
                }
            }
            buf[n] = '\0';
            check_refused(buf);
        }
    static const char *const other[] = {
        "/clusters/**/api", "/clusters/*a/api",   "/clusters/a*/api",
        "/clusters/%2A%2A", "/clusters/%252A",    "/clusters/%2A1/api",
        "/clusters/%2",     "/clusters/%2B/api",  "/clusters/*%2F..%2Fm2",
        "/clusters//*/api", "/clusters/./*/api",  "/%63lusters/*/api",
        "/x/../clusters/*", "/clusters/%2a%00/x",
    };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        check_refused(other[i]);
}

static void test_canonical_encoding(void **state)
{
    (void)state;
    static const struct expect cases[] = {
        /* Unreserved and sub-delims are decoded; the rest is upper-case. */
        {"/a%7e%41%2d%5f%2E", 0, "/a~A-_.", NULL, FG_MEMBER_NONE, NULL, NULL},
        {"/x/!$&'()*+,;=:@", 0, "/x/!$&'()*+,;=:@", NULL, FG_MEMBER_NONE, NULL,
         NULL},
        {"/%21%3a%40", 0, "/!:@", NULL, FG_MEMBER_NONE, NULL, NULL},
        {"/a%3fb%23c%25d", 0, "/a%3Fb%23c%25d", NULL, FG_MEMBER_NONE, NULL,
         NULL},
        {"/\"<>[]^`{|}", 0, "/%22%3C%3E%5B%5D%5E%60%7B%7C%7D", NULL,
         FG_MEMBER_NONE, NULL, NULL},
        /* An encoded dot that is only part of a segment stays a dot. */
        {"/a/%2e%2e%2e", 0, "/a/...", NULL, FG_MEMBER_NONE, NULL, NULL},
        /* A double-encoded dot-dot is data, not navigation. */
        {"/a/%252e%252e/b", 0, "/a/%252e%252e/b", NULL, FG_MEMBER_NONE, NULL,
         NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

static void test_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "api/v1",
        "*",
        "http://example.com/api",
        "/..",
        "/a/../..",
        "/clusters/../../etc",
        "/clusters/demo/%2e%2e/%2e%2e/etc",
        "/clusters/..",
        "/clusters/de%20mo",
        "/%2e%2e",
        "/clusters/de%2Fmo/api",
        "/clusters/de%2fmo/api",
        "/clusters/demo%5C..%5Chost/api",
        "/a%00b",
        "/a%0ab",
        "/a%7fb",
        "/a%80b",
        "/a%ffb",
        "/a%",
        "/a%4",
        "/a%4g",
        "/a%%41",
        "/a b",
        "/a\tb",
        "/a\\b",
        "/a#frag",
        "/a?b#frag",
        "/a?b c",
        "/a?b\x01",
        "/a\x7f",
        "/a\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_refused(bad[i]);
}

static void test_embedded_nul(void **state)
{
    (void)state;
    static const char in[] = "/api\0/x";
    struct fg_target t;
    struct fg_error err;
    assert_int_equal(fg_target_parse(in, sizeof(in) - 1, MAX_URI, &t, &err),
                     400);
    assert_null(t.path);
}

static void test_too_long(void **state)
{
    (void)state;
    char buf[100];
    memset(buf, 'a', sizeof(buf));
    buf[0] = '/';
    struct fg_target t;
    struct fg_error err;
    assert_int_equal(fg_target_parse(buf, sizeof(buf), 99, &t, &err), 414);
    assert_int_equal(fg_target_parse(buf, sizeof(buf), 100, &t, &err), 0);
    fg_target_free(&t);
}

static void test_long_member_name(void **state)
{
    (void)state;
    char in[128] = "/clusters/";
    size_t n = strlen(in);
    for (int i = 0; i < 70; i++)
        in[n++] = 'a';
    memcpy(in + n, "/api", 5);
    struct fg_target t;
    struct fg_error err;
    assert_int_equal(fg_target_parse(in, strlen(in), MAX_URI, &t, &err), 0);
    assert_int_equal(t.member_ref, FG_MEMBER_INVALID);
    assert_int_equal(strlen(t.member), 63);
    assert_string_equal(t.rest, "/api");
    fg_target_free(&t);

    /* 63 is the longest valid label. */
    in[10 + 63] = '\0';
    assert_int_equal(fg_target_parse(in, strlen(in), MAX_URI, &t, &err), 0);
    assert_int_equal(t.member_ref, FG_MEMBER_NAMED);
    assert_int_equal(strlen(t.member), 63);
    assert_string_equal(t.rest, "/");
    fg_target_free(&t);
}

static void test_idempotent(void **state)
{
    (void)state;
    static const char *const in[] = {
        "/clusters/demo/api/v1/namespaces/a%20b/pods",
        "/a/%252e%252e/b/%22/%7E",
        "/clusters/DEMO/./x/../y",
    };
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        struct fg_target a, b;
        struct fg_error err;
        assert_int_equal(
            fg_target_parse(in[i], strlen(in[i]), MAX_URI, &a, &err), 0);
        assert_int_equal(
            fg_target_parse(a.path, strlen(a.path), MAX_URI, &b, &err), 0);
        assert_string_equal(a.path, b.path);
        assert_int_equal(a.member_ref, b.member_ref);
        assert_string_equal(a.rest, b.rest);
        fg_target_free(&a);
        fg_target_free(&b);
    }
}

static void test_free_zeroed(void **state)
{
    (void)state;
    struct fg_target t;
    memset(&t, 0, sizeof(t));
    fg_target_free(&t);
    fg_target_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_member_escapes),
        cmocka_unit_test(test_all_clusters),
        cmocka_unit_test(test_canonical_encoding),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_long_member_name),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_free_zeroed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
