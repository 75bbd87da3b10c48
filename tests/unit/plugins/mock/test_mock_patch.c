/* Unit tests of the mock's patch formats (plugins/drivers/mock/patch.c,
 * smpatch.c): the examples of RFC 7386 and of RFC 6902's appendix A, and
 * strategic merge patches as kubectl sends them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mock.h"

static void expect_json(cJSON *got, const char *want)
{
    cJSON *w = cJSON_Parse(want);
    assert_non_null(w);
    if (!cJSON_Compare(got, w, 1)) {
        char *g = cJSON_PrintUnformatted(got);
        fail_msg("got %s, want %s", g, want);
    }
    cJSON_Delete(w);
}

static void merge_case(const char *target, const char *patch, const char *want)
{
    cJSON *t = cJSON_Parse(target), *p = cJSON_Parse(patch);
    assert_non_null(t);
    assert_non_null(p);
    cJSON *r = fg_json_merge_patch(t, p);
    assert_non_null(r);
    expect_json(r, want);
    cJSON_Delete(r);
    cJSON_Delete(p);
}

/* RFC 7386, appendix A. */
static void test_merge_rfc7386(void **state)
{
    (void)state;
    merge_case("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    merge_case("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    merge_case("{\"a\":\"b\"}", "{\"a\":null}", "{}");
    merge_case("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    merge_case("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    merge_case("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
    merge_case("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
               "{\"a\":{\"b\":\"d\"}}");
    merge_case("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    merge_case("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    merge_case("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    merge_case("{\"a\":\"foo\"}", "null", "null");
    merge_case("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
    merge_case("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    merge_case("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    merge_case("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

/* Applies OPS to DOC: WANT is the result, or NULL when the patch must fail
 * with RC. */
static void jp_case(const char *doc, const char *ops, const char *want,
                    int rc_want)
{
    cJSON *d = cJSON_Parse(doc), *o = cJSON_Parse(ops);
    assert_non_null(d);
    assert_non_null(o);
    char err[256] = "";
    int rc = mock_json_patch(&d, o, err, sizeof(err));
    if (rc != rc_want)
        fail_msg("patch %s: rc %d (%s), want %d", ops, rc, err, rc_want);
    if (want)
        expect_json(d, want);
    else
        assert_true(err[0] != '\0');
    cJSON_Delete(d);
    cJSON_Delete(o);
}

/* RFC 6902, appendix A. */
static void test_json_patch_rfc6902(void **state)
{
    (void)state;
    /* A.1 - A.10 */
    jp_case("{\"foo\":\"bar\"}",
            "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
            "{\"baz\":\"qux\",\"foo\":\"bar\"}", 0);
    jp_case("{\"foo\":[\"bar\",\"baz\"]}",
            "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
            "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", 0);
    jp_case("{\"baz\":\"qux\",\"foo\":\"bar\"}",
            "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}", 0);
    jp_case("{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
            "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
            "{\"foo\":[\"bar\",\"baz\"]}", 0);
    jp_case("{\"baz\":\"qux\",\"foo\":\"bar\"}",
            "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
            "{\"baz\":\"boo\",\"foo\":\"bar\"}", 0);
    jp_case("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":"
            "\"grault\"}}",
            "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/"
            "thud\"}]",
            "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\","
            "\"thud\":\"fred\"}}",
            0);
    jp_case("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
            "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
            "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}", 0);
    jp_case("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
            "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
            "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
            "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}", 0);
    jp_case("{\"baz\":\"qux\"}",
            "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", NULL,
            -2);
    jp_case("{\"foo\":\"bar\"}",
            "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":"
            "{}}}]",
            "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}", 0);
    /* A.11: unknown members of an operation are ignored. */
    jp_case("{\"foo\":\"bar\"}",
            "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":"
            "123}]",
            "{\"foo\":\"bar\",\"baz\":\"qux\"}", 0);
    /* A.12: adding to a nonexistent target. */
    jp_case("{\"foo\":\"bar\"}",
            "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", NULL,
            -2);
    /* A.14: ~0 and ~1 escapes. */
    jp_case("{\"/\":9,\"~1\":10}",
            "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
            "{\"/\":9,\"~1\":10}", 0);
    jp_case("{\"a/b\":1}", "[{\"op\":\"remove\",\"path\":\"/a~1b\"}]", "{}", 0);
    /* A.15: comparing strings and numbers. */
    jp_case("{\"/\":9,\"~1\":10}",
            "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", NULL, -2);
    /* A.16: adding an array value; "-" appends. */
    jp_case("{\"foo\":[\"bar\"]}",
            "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\","
            "\"def\"]}]",
            "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}", 0);
    /* copy, and the whole document. */
    jp_case("{\"a\":{\"b\":1}}",
            "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]",
            "{\"a\":{\"b\":1},\"c\":{\"b\":1}}", 0);
    jp_case("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[]}]",
            "[]", 0);
    /* Malformed patches. */
    jp_case("{}", "{\"op\":\"add\"}", NULL, -1);
    jp_case("{}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", NULL, -1);
    jp_case("{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL, -2);
    jp_case("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":1}]",
            NULL, -2);
    jp_case("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":1}]",
            NULL, -2);
    jp_case("{\"a\":{}}",
            "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b\"}]", NULL, -2);
    jp_case("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\"}]", NULL, -2);
}

/* Copies that double the document are capped, not allowed to eat memory. */
static void test_json_patch_limits(void **state)
{
    (void)state;
    struct mock_buf b = {0};
    mock_buf_adds(&b, "[");
    for (int i = 0; i < 40; i++)
        mock_buf_adds(&b, "{\"op\":\"copy\",\"from\":\"\",\"path\":\"/x\"},");
    mock_buf_adds(&b, "{\"op\":\"test\",\"path\":\"\",\"value\":1}]");
    cJSON *ops = cJSON_Parse(b.p);
    cJSON *doc = cJSON_Parse("{\"x\":[1,2,3,4,5,6,7,8]}");
    char err[256];
    assert_int_equal(mock_json_patch(&doc, ops, err, sizeof(err)), -2);
    cJSON_Delete(doc);
    cJSON_Delete(ops);
    mock_buf_free(&b);
}

static void sm_case(const char *doc, const char *patch, const char *want)
{
    cJSON *d = cJSON_Parse(doc), *p = cJSON_Parse(patch);
    assert_non_null(d);
    assert_non_null(p);
    char err[256] = "";
    int rc = mock_strategic_patch(&d, p, err, sizeof(err));
    if (rc != 0)
        fail_msg("patch %s: %d %s", patch, rc, err);
    expect_json(d, want);
    cJSON_Delete(d);
    cJSON_Delete(p);
}

#define POD_SPEC                                                               \
    "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:1\",\"env\":["   \
    "{\"name\":\"X\",\"value\":\"1\"}]},{\"name\":\"b\",\"image\":\"b:1\"}],"  \
    "\"tolerations\":[{\"key\":\"k\"}]},\"metadata\":{\"finalizers\":["        \
    "\"f1\"],\"labels\":{\"app\":\"x\"}}}"

static void test_strategic(void **state)
{
    (void)state;
    /* Containers merge by name; a new one is appended. */
    sm_case(POD_SPEC,
            "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"b:2\"},"
            "{\"name\":\"c\",\"image\":\"c:1\"}]}}",
            "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:1\","
            "\"env\":[{\"name\":\"X\",\"value\":\"1\"}]},{\"name\":\"b\","
            "\"image\":\"b:2\"},{\"name\":\"c\",\"image\":\"c:1\"}],"
            "\"tolerations\":[{\"key\":\"k\"}]},\"metadata\":{\"finalizers\":["
            "\"f1\"],\"labels\":{\"app\":\"x\"}}}");
    /* $patch: delete removes an element; $setElementOrder is applied;
     * env merges by name inside a container. */
    sm_case(POD_SPEC,
            "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"}],"
            "\"containers\":[{\"$patch\":\"delete\",\"name\":\"b\"},{\"name\":"
            "\"a\",\"env\":[{\"name\":\"Y\",\"value\":\"2\"}]}]}}",
            "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:1\","
            "\"env\":[{\"name\":\"X\",\"value\":\"1\"},{\"name\":\"Y\","
            "\"value\":\"2\"}]}],\"tolerations\":[{\"key\":\"k\"}]},"
            "\"metadata\":{\"finalizers\":[\"f1\"],\"labels\":{\"app\":"
            "\"x\"}}}");
    /* Atomic lists are replaced; finalizers merge as a set; null deletes;
     * $deleteFromPrimitiveList removes. */
    sm_case(POD_SPEC,
            "{\"spec\":{\"tolerations\":[{\"key\":\"z\"}]},\"metadata\":{"
            "\"finalizers\":[\"f2\"],\"labels\":{\"app\":null,\"t\":\"1\"}}}",
            "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:1\","
            "\"env\":[{\"name\":\"X\",\"value\":\"1\"}]},{\"name\":\"b\","
            "\"image\":\"b:1\"}],\"tolerations\":[{\"key\":\"z\"}]},"
            "\"metadata\":{\"finalizers\":[\"f1\",\"f2\"],\"labels\":{\"t\":"
            "\"1\"}}}");
    sm_case("{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
            "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}}",
            "{\"metadata\":{\"finalizers\":[\"b\"]}}");
    /* $setElementOrder: a new element placed where the order says, the
     * elements it names first (keyed and scalar lists), others after. */
    sm_case(POD_SPEC,
            "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"},"
            "{\"name\":\"b\"},{\"name\":\"a\"}],\"containers\":[{\"name\":"
            "\"c\",\"image\":\"c:1\"}]}}",
            "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"c:1\"},"
            "{\"name\":\"b\",\"image\":\"b:1\"},{\"name\":\"a\",\"image\":"
            "\"a:1\",\"env\":[{\"name\":\"X\",\"value\":\"1\"}]}],"
            "\"tolerations\":[{\"key\":\"k\"}]},\"metadata\":{\"finalizers\":"
            "[\"f1\"],\"labels\":{\"app\":\"x\"}}}");
    sm_case("{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
            "{\"metadata\":{\"$setElementOrder/finalizers\":[\"c\",\"a\"]}}",
            "{\"metadata\":{\"finalizers\":[\"c\",\"a\",\"b\"]}}");
    /* $patch: replace on a map and on a list. */
    sm_case("{\"spec\":{\"a\":1,\"b\":2}}",
            "{\"spec\":{\"$patch\":\"replace\",\"c\":3}}",
            "{\"spec\":{\"c\":3}}");
    sm_case("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
            "{\"spec\":{\"containers\":[{\"$patch\":\"replace\"},{\"name\":"
            "\"c\"}]}}",
            "{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    /* $patch: delete on a map; $retainKeys clears what is not listed. */
    sm_case("{\"spec\":{\"strategy\":{\"type\":\"Recreate\"},\"x\":1}}",
            "{\"spec\":{\"strategy\":{\"$patch\":\"delete\"}}}",
            "{\"spec\":{\"x\":1}}");
    sm_case("{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\","
            "\"rollingUpdate\":{\"maxSurge\":1}}}}",
            "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":"
            "\"Recreate\"}}}",
            "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}");
    /* A Service's ports merge on port, a container's on containerPort. */
    sm_case("{\"spec\":{\"ports\":[{\"port\":80,\"name\":\"http\"},{\"port\":"
            "443}]}}",
            "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}]}}",
            "{\"spec\":{\"ports\":[{\"port\":80,\"name\":\"http\","
            "\"targetPort\":8080},{\"port\":443}]}}");
    sm_case("{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{"
            "\"containerPort\":80}]}]}}",
            "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{"
            "\"containerPort\":81}]}]}}",
            "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{"
            "\"containerPort\":80},{\"containerPort\":81}]}]}}");

    /* An element without its merge key, an unknown directive: refused. */
    const char *bad[] = {
        "{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}",
        "{\"spec\":{\"$patch\":\"frob\"}}",
        "{\"$frob\":1}",
        "[1]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *d = cJSON_Parse(POD_SPEC), *p = cJSON_Parse(bad[i]);
        char err[256] = "";
        assert_int_equal(mock_strategic_patch(&d, p, err, sizeof(err)), -1);
        assert_true(err[0] != '\0');
        cJSON_Delete(d);
        cJSON_Delete(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_rfc7386),
        cmocka_unit_test(test_json_patch_rfc6902),
        cmocka_unit_test(test_json_patch_limits),
        cmocka_unit_test(test_strategic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
