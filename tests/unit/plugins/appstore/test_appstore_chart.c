/* Unit tests of the app store's chart reading: SemVer, the gzip+tar
 * reader (every entry class and limit) and Chart.yaml's checks. */
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

static const struct appstore_limits limits = {APPSTORE_MAX_CHART_BYTES,
                                              APPSTORE_MAX_FILE_BYTES,
                                              APPSTORE_MAX_EXPANDED_BYTES};

static void test_semver_grammar(void **state)
{
    (void)state;
    static const char *const good[] = {"0.0.0",
                                       "1.2.3",
                                       "10.20.30",
                                       "1.0.0-alpha",
                                       "1.0.0-alpha.1",
                                       "1.0.0-0.3.7",
                                       "1.0.0-x.7.z.92",
                                       "1.0.0+20130313144700",
                                       "1.0.0-beta+exp.sha.5114f85",
                                       "1.0.0-x-y-z.--",
                                       "2.0.0+build.01"};
    static const char *const bad[] = {
        "",         "1",        "1.2",        "v1.2.3",
        "01.2.3",   "1.02.3",   "1.2.03",     "1.2.3-",
        "1.2.3+",   "1.2.3-01", "1.2.3-a..b", "1.2.3-a_b",
        "1.2.3 ",   " 1.2.3",   "1.2.3.4",    "1.2.-3",
        "1.2.3-+a", "a.b.c",    "1.2.3+a+b",  "99999999999999999999.0.0"};
    struct appstore_semver v;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(appstore_semver_parse(good[i], &v), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (appstore_semver_parse(bad[i], &v) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

static void test_semver_precedence(void **state)
{
    (void)state;
    /* SemVer 2.0.0 section 11's own example chain, and more */
    static const char *const order[] = {
        "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
        "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0",
        "1.0.1",        "1.2.0",         "1.10.0",           "2.0.0"};
    size_t n = sizeof order / sizeof *order;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            struct appstore_semver a, b;
            assert_int_equal(appstore_semver_parse(order[i], &a), 0);
            assert_int_equal(appstore_semver_parse(order[j], &b), 0);
            int want = i < j ? -1 : i > j;
            if (appstore_semver_cmp(&a, &b) != want)
                fail_msg("%s vs %s", order[i], order[j]);
        }
    }
    struct appstore_semver a, b;
    appstore_semver_parse("1.0.0+a", &a);
    appstore_semver_parse("1.0.0+b", &b);
    assert_int_equal(appstore_semver_cmp(&a, &b), 0);
}

/* Reads ARCHIVE under LIM; expects the error to contain WANT (NULL: ok). */
static void expect(unsigned char *archive, size_t len,
                   const struct appstore_limits *lim, const char *want)
{
    char err[256] = "";
    cJSON *md = appstore_chart_read(archive, len, lim, err, sizeof err);
    free(archive);
    if (!want) {
        if (!md)
            fail_msg("refused: %s", err);
        cJSON_Delete(md);
        return;
    }
    if (md) {
        cJSON_Delete(md);
        fail_msg("accepted, expected \"%s\"", want);
    }
    if (!strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    assert_null(strchr(err, '\n'));
}

/* Gzips T's tar and reads it as expect() does. */
static void expect_tar(struct tgz *t, const struct appstore_limits *lim,
                       const char *want)
{
    size_t len;
    unsigned char *a = tgz_gzip(t, &len);
    expect(a, len, lim, want);
}

/* A chart whose one extra entry is TYPE NAME, refused with WANT. */
static void one_entry(char type, const char *name, const char *want)
{
    struct tgz t = {0};
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    tgz_entry(&t, type, name, "x", type == '0' ? 1 : 0);
    tgz_end(&t);
    size_t len;
    unsigned char *a = tgz_gzip(&t, &len);
    expect(a, len, &limits, want);
}

static void test_archive_good(void **state)
{
    (void)state;
    size_t len;
    unsigned char *a = tgz_chart("nginx", NULL, &len);
    expect(a, len, &limits, NULL);
    /* directories, the top one included, and a long path split into
     * ustar's prefix */
    struct tgz t = {0};
    tgz_entry(&t, '5', "c/", "", 0);
    tgz_entry(&t, '5', "c/templates/", "", 0);
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v1\nname: c\nversion: 1.0.0\n");
    char lp[200];
    memset(lp, 'a', sizeof lp);
    memcpy(lp, "c/templates/", 12);
    lp[120] = '/';
    lp[199] = 0;
    tgz_file(&t, lp, "x");
    tgz_end(&t);
    expect_tar(&t, &limits, NULL);
}

static void test_archive_paths(void **state)
{
    (void)state;
    one_entry('0', "/etc/passwd", "absolute path");
    one_entry('0', "c/../../etc/passwd", "\"..\" in path");
    one_entry('0', "c/templates/..", "\"..\" in path");
    one_entry('0', "c\\..\\x", "backslash");
    one_entry('0', "C:/x", "drive");
    one_entry('0', "c/./x", "\".\" component");
    one_entry('0', "c//x", "empty or");
    one_entry('0', "c/a\x01", "control character");
    one_entry('0', "d/values.yaml", "more than one top-level folder");
    one_entry('5', "d/", "more than one top-level folder");
    one_entry('0', "README", "outside the chart's folder");
}

static void test_archive_types(void **state)
{
    (void)state;
    static const char types[] = {'1', '2', '3', '4', '6',
                                 '7', 'K', 'S', 'V', 'A'};
    for (size_t i = 0; i < sizeof types; i++)
        one_entry(types[i], "c/link", "only regular files and directories");
}

static void test_archive_pax_and_gnu(void **state)
{
    (void)state;
    size_t len;
    /* pax path names the next entry; a long GNU name too */
    struct tgz t = {0};
    tgz_pax(&t, "21 path=c/Chart.yaml\n");
    tgz_file(&t, "ignored", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    char longname[300];
    memset(longname, 'b', sizeof longname);
    memcpy(longname, "c/", 2);
    longname[299] = 0;
    tgz_entry(&t, 'L', "././@LongLink", longname, strlen(longname) + 1);
    tgz_file(&t, "short", "x");
    tgz_end(&t);
    unsigned char *a = tgz_gzip(&t, &len);
    expect(a, len, &limits, NULL);
    /* the path a pax header gives is checked like any other */
    tgz_pax(&t, "21 path=/etc/shadow1\n");
    tgz_file(&t, "c/x", "x");
    tgz_end(&t);
    expect_tar(&t, &limits, "absolute path");
    tgz_entry(&t, 'L', "././@LongLink", "c/../x", 7);
    tgz_file(&t, "c/x", "x");
    tgz_end(&t);
    expect_tar(&t, &limits, "\"..\"");
    /* malformed records */
    static const char *const bad[] = {"99 path=x\n",
                                      "5 path=c/x\n",
                                      "11 path=c/x",
                                      "x path=c/x\n",
                                      "08 pat=c/x\n",
                                      "9 =c/xyz\n",
                                      "20 size=12345678901234567890\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tgz_pax(&t, bad[i]);
        tgz_file(&t, "c/Chart.yaml", "x");
        tgz_end(&t);
        expect_tar(&t, &limits, "pax");
    }
    tgz_pax(&t, "22 GNU.sparse.major=1\n");
    tgz_file(&t, "c/x", "x");
    tgz_end(&t);
    expect_tar(&t, &limits, "sparse");
    /* a pax header with no entry after it */
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    tgz_pax(&t, "12 path=c/x\n");
    tgz_end(&t);
    expect_tar(&t, &limits, "extended header");
}

static void test_archive_framing(void **state)
{
    (void)state;
    size_t len;
    unsigned char *a = tgz_chart("c", NULL, &len);
    /* truncated anywhere in the gzip stream */
    for (size_t cut = 0; cut < len; cut += len / 13 + 1) {
        unsigned char *b = malloc(cut + 1);
        memcpy(b, a, cut);
        expect(b, cut, &limits, cut < 2 ? "not gzip" : "chart archive");
    }
    /* trailing bytes, a flipped byte (the CRC catches it) */
    unsigned char *b = malloc(len + 3);
    memcpy(b, a, len);
    memcpy(b + len, "abc", 3);
    expect(b, len + 3, &limits, "after the gzip stream");
    b = malloc(len);
    memcpy(b, a, len);
    b[len / 2] ^= 0x55;
    expect(b, len, &limits, "chart archive");
    /* not gzip: the raw tar, zlib framing */
    struct tgz t = {0};
    tgz_file(&t, "c/Chart.yaml", "x");
    tgz_end(&t);
    expect(t.tar, t.len, &limits, "not gzip");
    free(a);
    /* a bad checksum, and a V7 header without the ustar magic */
    memset(&t, 0, sizeof t);
    tgz_file(&t, "c/Chart.yaml", "x");
    t.tar[0] = 'd';
    tgz_end(&t);
    expect_tar(&t, &limits, "checksum");
    tgz_file(&t, "c/Chart.yaml", "x");
    memset(t.tar + 257, 0, 8);
    tgz_end(&t);
    expect_tar(&t, &limits, "not a ustar");
    /* an entry after the end marker, a missing Chart.yaml, two */
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    static const unsigned char zero[512];
    tgz_put(&t, zero, sizeof zero);
    tgz_file(&t, "c/x", "x");
    tgz_end(&t);
    expect_tar(&t, &limits, "after an end-of-archive");
    tgz_file(&t, "c/values.yaml", "x");
    tgz_end(&t);
    expect_tar(&t, &limits, "Chart.yaml is missing");
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    tgz_end(&t);
    expect_tar(&t, &limits, "twice");
    /* a tar cut in a file's data */
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    tgz_entry(&t, '0', "c/big", "0123456789", 10);
    t.len -= 600;
    expect_tar(&t, &limits, "truncated tar");
}

static void test_archive_limits(void **state)
{
    (void)state;
    struct appstore_limits lim = {100000, 1000, 1000000};
    char *big = malloc(200001);
    memset(big, 'x', 200000);
    big[200000] = 0;
    struct tgz t = {0};
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    big[1000] = 0;
    tgz_file(&t, "c/ok", big); /* exactly max_file_bytes */
    tgz_end(&t);
    expect_tar(&t, &lim, NULL);
    big[1000] = 'x';
    big[1001] = 0;
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    tgz_file(&t, "c/big", big);
    tgz_end(&t);
    expect_tar(&t, &lim, "max_file_bytes (1000)");
    /* many small files expanding past max_expanded_bytes */
    big[1001] = 'x';
    big[900] = 0;
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    for (int i = 0; i < 1200; i++) {
        char name[32];
        snprintf(name, sizeof name, "c/f%d", i);
        tgz_file(&t, name, big);
    }
    tgz_end(&t);
    expect_tar(&t, &lim, "max_expanded_bytes");
    /* compressed size: random-looking data does not compress */
    lim.max_file_bytes = 1000000;
    lim.max_chart_bytes = 1000;
    unsigned x = 1;
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (char)('!' + (x >> 16) % 90);
    }
    big[5000] = 0;
    tgz_file(&t, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    tgz_file(&t, "c/noise", big);
    tgz_end(&t);
    expect_tar(&t, &lim, "max_chart_bytes (1000)");
    free(big);
}

/* Archives from another writer (Python's tarfile: ustar, pax, GNU), the
 * fuzz target's seeds. */
static void test_archive_other_writer(void **state)
{
    (void)state;
    static const struct {
        const char *file, *want;
    } cases[] = {{"ustar.tgz", NULL},
                 {"pax.tgz", NULL},
                 {"gnu.tgz", NULL},
                 {"symlink.tgz", "only regular files"},
                 {"dotdot.tgz", "\"..\""}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/appstore_archive/%s",
                 FG_TEST_SOURCE_DIR, cases[i].file);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        unsigned char *a = malloc(1 << 16);
        size_t len = fread(a, 1, 1 << 16, f);
        fclose(f);
        expect(a, len, &limits, cases[i].want);
    }
}

/* Chart.yaml TEXT is refused with WANT (NULL: accepted). */
static cJSON *meta(const char *text, const char *want)
{
    char err[256] = "";
    cJSON *md = appstore_chart_metadata(text, strlen(text), err, sizeof err);
    if (want) {
        if (md)
            fail_msg("accepted:\n%s", text);
        if (!strstr(err, want))
            fail_msg("error \"%s\" lacks \"%s\"", err, want);
        assert_string_equal(strncmp(err, "Chart.yaml:", 11) == 0 ? "ok" : err,
                            "ok");
        return NULL;
    }
    if (!md)
        fail_msg("refused: %s", err);
    return md;
}

static void test_chart_yaml_fields(void **state)
{
    (void)state;
    cJSON *md = meta("apiVersion: v2\n"
                     "name: web-app_1.x\n"
                     "version: 1.10.0\n"
                     "appVersion: 1.10\n"
                     "description: \"two\\tparts\"\n"
                     "deprecated: yes\n"
                     "keywords: [a, 'b']\n"
                     "unknownField: {a: 1}\n"
                     "maintainers:\n- name: Ann\n  email: a@x\n"
                     "annotations:\n  category: \"Web\"\n"
                     "dependencies:\n- name: redis\n  version: ~1.2\n"
                     "  import-values: [data, {child: a, parent: b}]\n"
                     "  enabled: false\n",
                     NULL);
    char *s = cJSON_PrintUnformatted(md);
    assert_string_equal(
        s, "{\"apiVersion\":\"v2\",\"name\":\"web-app_1.x\",\"version\":"
           "\"1.10.0\",\"description\":\"two parts\",\"keywords\":[\"a\","
           "\"b\"],\"appVersion\":\"1.10\",\"deprecated\":true,"
           "\"maintainers\":[{\"name\":\"Ann\",\"email\":\"a@x\"}],"
           "\"dependencies\":[{\"name\":\"redis\",\"version\":\"~1.2\","
           "\"enabled\":false,\"import-values\":[\"data\",{\"child\":\"a\","
           "\"parent\":\"b\"}]}],\"annotations\":{\"category\":\"Web\"}}");
    free(s);
    cJSON_Delete(md);
}

static void test_chart_yaml_refused(void **state)
{
    (void)state;
    meta("", "empty");
    meta("a: [", "Chart.yaml:");
    meta("- a\n", "must be a map");
    meta("name: c\nversion: 1.0.0\n", "apiVersion is required");
    meta("apiVersion: v3\nname: c\nversion: 1.0.0\n", "v1 or v2");
    meta("apiVersion: v2\nversion: 1.0.0\n", "name is required");
    meta("apiVersion: v2\nname: a/b\nversion: 1.0.0\n", "is invalid");
    meta("apiVersion: v2\nname: ..\nversion: 1.0.0\n", "is invalid");
    meta("apiVersion: v2\nname: \"a b\"\nversion: 1.0.0\n", "is invalid");
    meta("apiVersion: v2\nname: c\n", "version is required");
    meta("apiVersion: v2\nname: c\nversion: 1.0\n", "SemVer");
    meta("apiVersion: v2\nname: c\nversion: v1.0.0\n", "SemVer");
    meta("apiVersion: v2\nname: c\nversion: 1.0.0\ntype: x\n",
         "application or library");
    meta("apiVersion: v1\nname: c\nversion: 1.0.0\ndependencies:\n"
         "- name: d\n",
         "apiVersion v2");
    meta("apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n"
         "- name: d\n- name: e\n  alias: d\n",
         "more than one dependency");
    meta("apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n"
         "- version: 1\n",
         "must have a name");
    meta("apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n"
         "- name: d\n  alias: a.b\n",
         "alias");
    meta("apiVersion: v2\nname: c\nversion: 1.0.0\nmaintainers:\n"
         "- email: x\n",
         "must have a name");
    meta("apiVersion: v2\nname: [c]\nversion: 1.0.0\n", "must be a string");
    meta("apiVersion: v2\nname: c\nversion: 1.0.0\ndeprecated: maybe\n",
         "true or false");
    meta("apiVersion: v2\nname: c\nversion: 1.0.0\nkeywords: a\n",
         "list of strings");
    meta("apiVersion: v2\nname: c\nversion: 1.0.0\nannotations: [a]\n",
         "must be a map");
    meta("apiVersion: v2\nname: c\nversion: 1.0.0\n---\na: 1\n",
         "more than one");
    meta("apiVersion: v2\nname: &a c\nversion: *a\n", "Chart.yaml:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semver_grammar),
        cmocka_unit_test(test_semver_precedence),
        cmocka_unit_test(test_archive_good),
        cmocka_unit_test(test_archive_paths),
        cmocka_unit_test(test_archive_types),
        cmocka_unit_test(test_archive_pax_and_gnu),
        cmocka_unit_test(test_archive_framing),
        cmocka_unit_test(test_archive_limits),
        cmocka_unit_test(test_archive_other_writer),
        cmocka_unit_test(test_chart_yaml_fields),
        cmocka_unit_test(test_chart_yaml_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
