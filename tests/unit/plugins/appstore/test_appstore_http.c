/* Unit tests of the app store's routes and answers (http.c, with the store
 * and index behind them) and of multipart/form-data bodies: what Helm and
 * ChartMuseum's clients send, and each refusal with its code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "appstore.h"
#include "tgz.h"

static const char *const repos[] = {"main"};

struct fx {
    char dir[64];
    struct appstore a;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/appstore-http-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char err[256];
    f->a.limits = (struct appstore_limits){APPSTORE_MAX_CHART_BYTES,
                                           APPSTORE_MAX_FILE_BYTES,
                                           APPSTORE_MAX_EXPANDED_BYTES};
    f->a.max_body = APPSTORE_MAX_CHART_BYTES + 1024;
    f->a.store = appstore_store_open(f->dir, repos, 1, NULL, err, sizeof err);
    assert_non_null(f->a.store);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    appstore_store_free(f->a.store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Serves a request; checks the status and that the body contains WANT;
 * returns the answer's body (malloc'd). */
static char *call(struct fx *f, const char *method, const char *path,
                  const char *query, const char *ct, const void *body,
                  size_t len, int status, const char *want)
{
    struct appstore_answer ans;
    assert_int_equal(appstore_serve(&f->a, method, path, query, ct,
                                    ct ? strlen(ct) : 0, body, len, 0, &ans),
                     0);
    char *b = malloc(ans.len + 1);
    memcpy(b, ans.body, ans.len);
    b[ans.len] = 0;
    free(ans.body);
    if (ans.status != status ||
        (want && !memmem(b, ans.len, want, strlen(want))))
        fail_msg("%s %s: %d %s (want %d, \"%s\")", method, path, ans.status, b,
                 status, want ? want : "");
    return b;
}

static void ok(struct fx *f, const char *method, const char *path,
               const char *query, const char *ct, const void *body, size_t len,
               int status, const char *want)
{
    free(call(f, method, path, query, ct, body, len, status, want));
}

static unsigned char *chart(const char *name, const char *version, size_t *len)
{
    char y[200];
    snprintf(y, sizeof y, "apiVersion: v2\nname: %s\nversion: %s\n", name,
             version);
    return tgz_chart(name, y, len);
}

static void test_routes(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        int op;
        const char *repo, *name, *version;
    } good[] = {
        {"/helm/health", APPSTORE_HEALTH, "", "", ""},
        {"/helm/main/index.yaml", APPSTORE_INDEX, "main", "", ""},
        {"/helm/main/charts/a-1.0.0.tgz", APPSTORE_FILE, "main", "a-1.0.0.tgz",
         ""},
        {"/helm/main/charts/a-1.0.0%2Bb.tgz", APPSTORE_FILE, "main",
         "a-1.0.0+b.tgz", ""},
        {"/helm/api/main/charts", APPSTORE_API_CHARTS, "main", "", ""},
        {"/helm/api/main/charts/a", APPSTORE_API_CHART, "main", "a", ""},
        {"/helm/api/main/charts/a/1.0.0", APPSTORE_API_VERSION, "main", "a",
         "1.0.0"},
        {"/helm/api/main/prov", APPSTORE_API_PROV, "main", "", ""},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        struct appstore_route r;
        if (appstore_route(good[i].path, &r) < 0)
            fail_msg("refused %s", good[i].path);
        assert_int_equal(r.op, good[i].op);
        assert_string_equal(r.repo, good[i].repo);
        assert_string_equal(r.name, good[i].name);
        assert_string_equal(r.version, good[i].version);
    }
    static const char *const bad[] = {"/helm",
                                      "/helm/",
                                      "/helmx/main/index.yaml",
                                      "/helm/health/x",
                                      "/helm/main",
                                      "/helm/main/",
                                      "/helm/main/index.yaml/x",
                                      "/helm/main/charts",
                                      "/helm/main/charts/",
                                      "/helm/main/charts/a/b",
                                      "/helm/main/other/a.tgz",
                                      "/helm/api",
                                      "/helm/api/main",
                                      "/helm/api/main/other",
                                      "/helm/api/main/charts/a/1/x",
                                      "/helm/api/main/prov/x",
                                      "/helm/api/main/charts//1",
                                      "/helm/main/charts/%00.tgz",
                                      "/clusters/x/helm/main/index.yaml"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct appstore_route r;
        if (appstore_route(bad[i], &r) == 0)
            fail_msg("accepted %s", bad[i]);
    }
}

static void test_push_pull_delete(void **state)
{
    struct fx *f = *state;
    size_t len;
    unsigned char *c = chart("web", "1.0.0", &len);
    ok(f, "GET", "/helm/health", NULL, NULL, NULL, 0, 200,
       "{\"healthy\":true}");
    ok(f, "POST", "/helm/api/main/charts", NULL, "application/octet-stream", c,
       len, 201, "{\"saved\":true}");
    ok(f, "POST", "/helm/api/main/charts", NULL, NULL, c, len, 409,
       "{\"error\":\"web-1.0.0.tgz already exists\"}");
    ok(f, "POST", "/helm/api/main/charts", "force", NULL, c, len, 201, NULL);
    ok(f, "POST", "/helm/api/main/charts", "force=false", NULL, c, len, 409,
       NULL);
    ok(f, "POST", "/helm/api/main/charts", "force=true", NULL, c, len, 201,
       NULL);
    ok(f, "POST", "/helm/api/other/charts", NULL, NULL, c, len, 404,
       "repository other not found");
    /* the file downloads as pushed; the index names its digest */
    char *got = call(f, "GET", "/helm/main/charts/web-1.0.0.tgz", NULL, NULL,
                     NULL, 0, 200, NULL);
    assert_memory_equal(got, c, len);
    free(got);
    char digest[65];
    appstore_sha256_hex(c, len, digest);
    ok(f, "GET", "/helm/main/index.yaml", NULL, NULL, NULL, 0, 200, digest);
    ok(f, "HEAD", "/helm/main/index.yaml", NULL, NULL, NULL, 0, 200, NULL);
    ok(f, "GET", "/helm/main/charts/web-1.0.1.tgz", NULL, NULL, NULL, 0, 404,
       "not found");
    ok(f, "GET", "/helm/main/charts/web-1.0.0.tgz.prov", NULL, NULL, NULL, 0,
       404, NULL);
    /* the API's lists */
    ok(f, "GET", "/helm/api/main/charts", NULL, NULL, NULL, 0, 200,
       "{\"web\":[{");
    ok(f, "GET", "/helm/api/main/charts/web", NULL, NULL, NULL, 0, 200,
       "\"urls\":[\"charts/web-1.0.0.tgz\"]");
    ok(f, "HEAD", "/helm/api/main/charts/web", NULL, NULL, NULL, 0, 200, NULL);
    ok(f, "GET", "/helm/api/main/charts/nope", NULL, NULL, NULL, 0, 404,
       "chart nope not found");
    ok(f, "GET", "/helm/api/main/charts/web/1.0.0", NULL, NULL, NULL, 0, 200,
       "\"version\":\"1.0.0\"");
    ok(f, "HEAD", "/helm/api/main/charts/web/2.0.0", NULL, NULL, NULL, 0, 404,
       NULL);
    /* methods */
    ok(f, "PUT", "/helm/api/main/charts", NULL, NULL, NULL, 0, 405, NULL);
    ok(f, "POST", "/helm/main/index.yaml", NULL, NULL, NULL, 0, 405, NULL);
    ok(f, "DELETE", "/helm/api/main/charts/web", NULL, NULL, NULL, 0, 405,
       NULL);
    ok(f, "GET", "/helm/api/main/prov", NULL, NULL, NULL, 0, 405, NULL);
    /* delete */
    ok(f, "DELETE", "/helm/api/main/charts/web/1.0.0", NULL, NULL, NULL, 0, 200,
       "{\"deleted\":true}");
    ok(f, "DELETE", "/helm/api/main/charts/web/1.0.0", NULL, NULL, NULL, 0, 404,
       NULL);
    ok(f, "GET", "/helm/main/charts/web-1.0.0.tgz", NULL, NULL, NULL, 0, 404,
       NULL);
    ok(f, "GET", "/helm/main/index.yaml", NULL, NULL, NULL, 0, 200,
       "entries: {}");
    free(c);
}

static void test_bad_uploads(void **state)
{
    struct fx *f = *state;
    ok(f, "POST", "/helm/api/main/charts", NULL, NULL, "", 0, 400,
       "body is empty");
    ok(f, "POST", "/helm/api/main/charts", NULL, NULL, "abc", 3, 400,
       "not gzip");
    size_t len;
    unsigned char *c =
        tgz_chart("bad", "apiVersion: v2\nname: bad\nversion: 1.0\n", &len);
    ok(f, "POST", "/helm/api/main/charts", NULL, NULL, c, len, 400, "SemVer");
    free(c);
    struct appstore_answer ans;
    assert_int_equal(appstore_serve(&f->a, "POST", "/helm/api/main/charts",
                                    NULL, NULL, 0, NULL, 0, 1, &ans),
                     0);
    assert_int_equal(ans.status, 413);
    free(ans.body);
    ok(f, "GET", "/helm/main/index.yaml", NULL, NULL, NULL, 0, 200,
       "entries: {}");
}

/* A multipart body with the parts NAMES[i] = DATA[i]. */
static char *form(const char *boundary, size_t n, const char *const *names,
                  const void *const *data, const size_t *lens, size_t *len)
{
    size_t cap = 4096;
    for (size_t i = 0; i < n; i++)
        cap += lens[i];
    char *b = malloc(cap);
    size_t o = 0;
    o += (size_t)sprintf(b + o, "preamble\r\n");
    for (size_t i = 0; i < n; i++) {
        o += (size_t)sprintf(b + o,
                             "--%s\r\nContent-Disposition: form-data; "
                             "name=\"%s\"; filename=\"x.tgz\"\r\n"
                             "Content-Type: application/octet-stream\r\n\r\n",
                             boundary, names[i]);
        memcpy(b + o, data[i], lens[i]);
        o += lens[i];
        o += (size_t)sprintf(b + o, "\r\n");
    }
    o += (size_t)sprintf(b + o, "--%s--\r\nepilogue", boundary);
    *len = o;
    return b;
}

/* A provenance file for VERSION of chart web whose archive's SHA-256 is
 * the one of DATA (LEN bytes), into OUT (1024 bytes). */
static size_t make_prov(char *out, const char *version, const void *data,
                        size_t len)
{
    char digest[65];
    appstore_sha256_hex(data, len, digest);
    return (size_t)snprintf(
        out, 1024,
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
        "apiVersion: v2\nname: web\nversion: %s\nmaintainers:\n"
        "- - name: Ann\n\n...\nfiles:\n  web-%s.tgz: sha256:%s\n"
        "-----BEGIN PGP SIGNATURE-----\n\nwsBcBAEBCgAQ\n"
        "-----END PGP SIGNATURE-----\n",
        version, version, digest);
}

static void test_multipart_and_prov(void **state)
{
    struct fx *f = *state;
    size_t clen, blen;
    unsigned char *c = chart("web", "2.0.0", &clen);
    char prov[1024], other[1024];
    size_t plen = make_prov(prov, "2.0.0", c, clen);
    const char *names[] = {"chart", "prov"};
    const void *data[] = {c, prov};
    size_t lens[] = {clen, plen};
    /* a provenance file for another archive, or another version */
    make_prov(other, "2.0.0", "x", 1);
    data[1] = other;
    char *body = form("b", 2, names, data, lens, &blen);
    ok(f, "POST", "/helm/api/main/charts", NULL,
       "multipart/form-data; boundary=b", body, blen, 400,
       "sha256 for web-2.0.0.tgz is not the chart's");
    free(body);
    lens[1] = make_prov(other, "2.0.1", c, clen);
    body = form("b", 2, names, data, lens, &blen);
    ok(f, "POST", "/helm/api/main/charts", NULL,
       "multipart/form-data; boundary=b", body, blen, 400,
       "is for web 2.0.1, not web 2.0.0");
    free(body);
    data[1] = prov;
    lens[1] = plen;
    body = form("XyZ'()+_,-./:=?", 2, names, data, lens, &blen);
    ok(f, "POST", "/helm/api/main/charts", NULL,
       "multipart/form-data; boundary=\"XyZ'()+_,-./:=?\"", body, blen, 201,
       NULL);
    char *got = call(f, "GET", "/helm/main/charts/web-2.0.0.tgz.prov", NULL,
                     NULL, NULL, 0, 200, NULL);
    assert_string_equal(got, prov);
    free(got);
    free(body);
    /* prov alone: raw, and as the multipart field prov */
    ok(f, "POST", "/helm/api/main/prov", NULL, NULL, prov, plen, 409,
       "already exists");
    body = form("b", 1, &names[1], &data[1], &lens[1], &blen);
    ok(f, "POST", "/helm/api/main/prov", "force",
       "multipart/form-data; boundary=b", body, blen, 201, NULL);
    free(body);
    ok(f, "POST", "/helm/api/main/prov", NULL, NULL, "x", 1, 400,
       "not a Helm provenance file");
    make_prov(other, "2.0.0", "x", 1);
    ok(f, "POST", "/helm/api/main/prov", "force", NULL, other, strlen(other),
       400, "is not the chart's");
    make_prov(other, "3.0.0", c, clen);
    ok(f, "POST", "/helm/api/main/prov", NULL, NULL, other, strlen(other), 404,
       "version 3.0.0 not found");
    strcpy(other, prov);
    memcpy(strstr(other, "files:"), "filez:", 6);
    ok(f, "POST", "/helm/api/main/prov", NULL, NULL, other, strlen(other), 400,
       "gives no sha256 digest for web-2.0.0.tgz");
    strcpy(other, prov);
    memcpy(strstr(other, "\n...\n"), "\n..,\n", 5);
    ok(f, "POST", "/helm/api/main/prov", NULL, NULL, other, strlen(other), 400,
       "Chart.yaml, then");
    strcpy(other, prov);
    *strstr(other, "-----BEGIN PGP SIGNATURE") = 'x';
    ok(f, "POST", "/helm/api/main/prov", NULL, NULL, other, strlen(other), 400,
       "a PGP signed message");
    /* forms that are not right */
    const char *twice[] = {"chart", "chart"};
    const void *d2[] = {c, c};
    size_t l2[] = {clen, clen};
    body = form("b", 2, twice, d2, l2, &blen);
    ok(f, "POST", "/helm/api/main/charts", NULL,
       "multipart/form-data; boundary=b", body, blen, 400, "twice");
    free(body);
    const char *other_name[] = {"file"};
    body = form("b", 1, other_name, d2, l2, &blen);
    ok(f, "POST", "/helm/api/main/charts", NULL,
       "multipart/form-data; boundary=b", body, blen, 400, "no field chart");
    free(body);
    ok(f, "POST", "/helm/api/main/charts", NULL, "multipart/form-data", "x", 1,
       400, "boundary");
    free(c);
}

/* A body is refused with WANT, or (WANT NULL) split into N parts. */
static void parts(const char *body, int n, const char *want)
{
    struct appstore_part p[APPSTORE_MAX_PARTS];
    char err[256] = "";
    int got = appstore_multipart("b", body, strlen(body), p, err, sizeof err);
    if (want ? got >= 0 || !strstr(err, want) : got != n)
        fail_msg("%s: got %d (%s)", body, got, err);
}

static void test_multipart_grammar(void **state)
{
    (void)state;
    static const char cd[] = "Content-Disposition: form-data; name=";
    char b[2048];
    snprintf(b, sizeof b,
             "--b\r\n%sa\r\n\r\nx\r\n--b\r\n%s\"c\\\"d\"\r\n\r\n"
             "\r\n--b--",
             cd, cd);
    parts(b, 2, NULL);
    struct appstore_part p[APPSTORE_MAX_PARTS];
    char err[256];
    assert_int_equal(appstore_multipart("b", b, strlen(b), p, err, sizeof err),
                     2);
    assert_string_equal(p[0].name, "a");
    assert_int_equal(p[0].len, 1);
    assert_string_equal(p[1].name, "c\"d");
    assert_int_equal(p[1].len, 0);
    snprintf(b, sizeof b, "--b  \r\n%sa\r\n\r\nx\r\n--b--\r\n", cd);
    parts(b, 1, NULL); /* transport padding */
    parts("no boundary here", 0, "never appears");
    snprintf(b, sizeof b, "--b\n%sa\r\n\r\nx\r\n--b--", cd);
    parts(b, 0, "CRLF");
    snprintf(b, sizeof b, "--b\r\n%sa\r\n\r\nx", cd);
    parts(b, 0, "not closed");
    parts("--b\r\nX-A: 1\r\n\r\nx\r\n--b--", 0, "no Content-Disposition");
    parts("--b\r\n\r\nx\r\n--b--", 0, "no Content-Disposition");
    parts("--b\r\nbroken\r\n\r\nx\r\n--b--", 0, "no colon");
    parts("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--", 0,
          "form-data");
    parts("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", 0,
          "form-data");
    parts("--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n"
          "x\r\n--b--",
          0, "form-data");
    parts("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--",
          0, "form-data");
    snprintf(b, sizeof b, "--b\r\n%sa\r\n%sb\r\n\r\nx\r\n--b--", cd, cd);
    parts(b, 0, "form-data");
    snprintf(b, sizeof b, "--b\r\n%sa\r\nX: \x01\r\n\r\nx\r\n--b--", cd);
    parts(b, 0, "control character");
    /* headers that never end, too many parts */
    memset(b, 'h', sizeof b);
    memcpy(b, "--b\r\nX: ", 8);
    b[sizeof b - 1] = 0;
    parts(b, 0, "do not end");
    size_t o = 0;
    for (int i = 0; i <= APPSTORE_MAX_PARTS; i++)
        o += (size_t)snprintf(b + o, sizeof b - o, "--b\r\n%sa\r\n\r\nx\r\n",
                              cd);
    snprintf(b + o, sizeof b - o, "--b--");
    parts(b, 0, "more than");
    /* the content type's boundary */
    static const struct {
        const char *ct;
        int want;
        const char *boundary;
    } types[] = {
        {"multipart/form-data; boundary=abc", 1, "abc"},
        {"Multipart/Form-Data;boundary=\"a b\"", 1, "a b"},
        {"multipart/form-data; charset=x; BOUNDARY=q", 1, "q"},
        {"application/octet-stream", 0, NULL},
        {"multipart/form-datax; boundary=a", 0, NULL},
        {"multipart/mixed; boundary=a", 0, NULL},
        {"multipart/form-data", -1, NULL},
        {"multipart/form-data; boundary=", -1, NULL},
        {"multipart/form-data; boundary=\"a \"", -1, NULL},
        {"multipart/form-data; boundary=\"a\x01\"", -1, NULL},
        {"multipart/form-data; boundary=a; boundary=b", -1, NULL},
        {"multipart/form-data; boundary=a{", -1, NULL},
        {"multipart/form-data; boundary=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
         -1, NULL},
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        char bd[71];
        int got = appstore_multipart_type(types[i].ct, strlen(types[i].ct), bd,
                                          err, sizeof err);
        if (got != types[i].want)
            fail_msg("%s: %d", types[i].ct, got);
        if (got == 1)
            assert_string_equal(bd, types[i].boundary);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test_setup_teardown(test_push_pull_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_uploads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipart_and_prov, setup,
                                        teardown),
        cmocka_unit_test(test_multipart_grammar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
