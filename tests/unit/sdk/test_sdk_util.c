/* Tests of the SDK's helpers (sdk/src/, fedgate/util.h): JSON quoting,
 * Status bodies, the protected header list, base64 and percent-decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>

/* ---- JSON strings ---------------------------------------------------- */

static void expect_quote(const char *in, size_t n, const char *want)
{
    char out[256];
    size_t len = fg_json_quote(out, sizeof(out), in, n);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

static void test_json_quote(void **state)
{
    (void)state;
    expect_quote("plain", 5, "\"plain\"");
    expect_quote("", 0, "\"\"");
    expect_quote("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    expect_quote("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
    expect_quote("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    expect_quote("a\0b", 3, "\"a\\u0000b\"");
    /* UTF-8 passes as it is; what is not UTF-8 becomes U+FFFD. */
    expect_quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
                 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    expect_quote("\xff", 1, "\"\\ufffd\"");
    expect_quote("\xc0\x80", 2, "\"\\ufffd\\ufffd\""); /* overlong */
    expect_quote("\xed\xa0\x80", 3,
                 "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    expect_quote("\xf4\x90\x80\x80", 4,
                 "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    expect_quote("\xc3", 1, "\"\\ufffd\"");           /* cut short */
    expect_quote("\x7f", 1, "\"\x7f\"");
}

static void test_json_quote_short_buffer(void **state)
{
    (void)state;
    char out[4];
    assert_int_equal(fg_json_quote(out, sizeof(out), "abcdef", 6), 8);
    assert_string_equal(out, "\"ab");
    assert_int_equal(fg_json_quote(NULL, 0, "a\"", 2), 5);
}

/* ---- Status ------------------------------------------------------------ */

static void test_status_failure(void **state)
{
    (void)state;
    size_t len;
    struct fg_status st = {.code = 404,
                           .message = "clusters \"x\" not found",
                           .name = "x",
                           .kind = "clusters",
                           .newline = 1};
    char *s = fg_status_build(&st, &len);
    assert_string_equal(
        s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
           "\"status\":\"Failure\",\"message\":\"clusters \\\"x\\\" not "
           "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"x\","
           "\"kind\":\"clusters\"},\"code\":404}\n");
    assert_int_equal(len, strlen(s));
    free(s);

    /* No reason for 418, no message, no details: all left out. */
    struct fg_status bare = {.code = 418};
    s = fg_status_build(&bare, NULL);
    assert_string_equal(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                           "\"metadata\":{},\"status\":\"Failure\","
                           "\"code\":418}");
    free(s);

    /* An explicit reason wins; "details":{} when asked for. */
    struct fg_status generic = {
        .code = 404, .reason = "NotFound", .message = "m", .always_details = 1};
    s = fg_status_build(&generic, NULL);
    assert_string_equal(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                           "\"metadata\":{},\"status\":\"Failure\","
                           "\"message\":\"m\",\"reason\":\"NotFound\","
                           "\"details\":{},\"code\":404}");
    free(s);
}

static void test_status_causes_and_success(void **state)
{
    (void)state;
    struct fg_status_cause c = {"FieldValueInvalid", "bad\nname",
                                "metadata.name"};
    struct fg_status st = {.code = 422,
                           .message = "Deployment.apps \"a\" is invalid",
                           .name = "a",
                           .group = "apps",
                           .kind = "Deployment",
                           .causes = &c,
                           .n_causes = 1};
    char *s = fg_status_build(&st, NULL);
    assert_string_equal(
        s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
           "\"status\":\"Failure\",\"message\":\"Deployment.apps \\\"a\\\" "
           "is invalid\",\"reason\":\"Invalid\",\"details\":{\"name\":\"a\","
           "\"group\":\"apps\",\"kind\":\"Deployment\",\"causes\":[{"
           "\"reason\":\"FieldValueInvalid\",\"message\":\"bad\\nname\","
           "\"field\":\"metadata.name\"}]},\"code\":422}");
    free(s);

    struct fg_status ok = {
        .status = "Success", .name = "cm", .kind = "configmaps", .uid = "u-1"};
    s = fg_status_build(&ok, NULL);
    assert_string_equal(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                           "\"metadata\":{},\"status\":\"Success\","
                           "\"details\":{\"name\":\"cm\",\"kind\":"
                           "\"configmaps\",\"uid\":\"u-1\"}}");
    free(s);
}

static void test_status_reason(void **state)
{
    (void)state;
    assert_string_equal(fg_status_reason(400), "BadRequest");
    assert_string_equal(fg_status_reason(431), "BadRequest");
    assert_string_equal(fg_status_reason(504), "Timeout");
    assert_string_equal(fg_status_reason(502), "InternalError");
    assert_null(fg_status_reason(418));
    assert_null(fg_status_reason(200));
}

/* ---- headers ------------------------------------------------------------ */

#define H(n, v)                                                                \
    {                                                                          \
        n, sizeof(n) - 1, v, sizeof(v) - 1                                     \
    }

static int hop(const char *name)
{
    return fg_header_is_hop_by_hop(name, strlen(name));
}

static void test_headers(void **state)
{
    (void)state;
    assert_true(hop("connection"));
    assert_true(hop("Transfer_Encoding"));
    assert_true(hop("KEEP-ALIVE"));
    assert_true(hop("te"));
    assert_true(hop("expect"));
    assert_true(hop("http2-settings"));
    assert_true(hop("Content-Length"));
    assert_false(hop("tee"));
    assert_false(hop("content-type"));
    assert_true(fg_header_is_identity("Impersonate_User", 16));
    assert_true(fg_header_is_identity("x-remote-group", 14));
    assert_true(fg_header_is_identity("authorization", 13));
    assert_false(fg_header_is_identity("authorizations", 14));

    struct fg_header block[] = {
        H("connection", "close, X-Secret"),
        H("connection", "\tx_other ,"),
        H("x-secret", "s"),
        H("X-Other", "o"),
        H("x-keep", "k"),
    };
    size_t n = sizeof(block) / sizeof(block[0]);
    assert_true(fg_header_named_by_connection(block, n, "X_SECRET", 8));
    assert_true(fg_header_named_by_connection(block, n, "x-other", 7));
    assert_false(fg_header_named_by_connection(block, n, "x-keep", 6));
    assert_true(fg_header_is_protected(block, n, &block[0]));
    assert_true(fg_header_is_protected(block, n, &block[2]));
    assert_true(fg_header_is_protected(block, n, &block[3]));
    assert_false(fg_header_is_protected(block, n, &block[4]));
}

/* ---- base64 ------------------------------------------------------------- */

static void test_base64_vectors(void **state)
{
    (void)state;
    /* RFC 4648 10. */
    static const char *const plain[] = {"",     "f",     "fo",    "foo",
                                        "foob", "fooba", "foobar"};
    static const char *const text[] = {
        "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        size_t n = strlen(plain[i]);
        assert_int_equal(fg_base64_encode(out, plain[i], n, 0),
                         strlen(text[i]));
        assert_string_equal(out, text[i]);
        unsigned char back[16];
        assert_int_equal(
            fg_base64_decode(back, sizeof(back), text[i], strlen(text[i]), 0),
            (long)n);
        assert_memory_equal(back, plain[i], n);
        /* Unpadded, when allowed. */
        size_t t = strlen(text[i]);
        while (t && text[i][t - 1] == '=')
            t--;
        assert_int_equal(
            fg_base64_decode(back, sizeof(back), text[i], t, FG_BASE64_NOPAD),
            (long)n);
        assert_int_equal(fg_base64_decode(back, sizeof(back), text[i], t, 0),
                         t == strlen(text[i]) ? (long)n : -1);
    }
}

static void test_base64_alphabets(void **state)
{
    (void)state;
    const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
    char out[8];
    fg_base64_encode(out, bytes, 3, 0);
    assert_string_equal(out, "+/+/");
    fg_base64_encode(out, bytes, 3, FG_BASE64_URL);
    assert_string_equal(out, "-_-_");
    fg_base64_encode(out, bytes, 1, FG_BASE64_URL | FG_BASE64_NOPAD);
    assert_string_equal(out, "-w");
    unsigned char back[8];
    assert_int_equal(fg_base64_decode(back, 8, "-_-_", 4, 0), -1);
    assert_int_equal(fg_base64_decode(back, 8, "+/+/", 4, FG_BASE64_URL), -1);
    assert_int_equal(fg_base64_decode(back, 8, "-_+/", 4,
                                      FG_BASE64_URL | FG_BASE64_ANY_ALPHABET),
                     3);
    assert_memory_equal(back, bytes, 3);
    char *a = fg_base64_encode_alloc("hi", 2, 0);
    assert_string_equal(a, "aGk=");
    free(a);
}

static void test_base64_refused(void **state)
{
    (void)state;
    unsigned char b[16];
    static const char *const bad[] = {
        "Zm9v\n", " Zm9v",    "Zm=v",     "Zg=",  "Z===",
        "Zm9vY",  "Zm9v====", "Zg==Zg==", "Zm9*", "=",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(fg_base64_decode(b, sizeof(b), bad[i], strlen(bad[i]),
                                          FG_BASE64_NOPAD),
                         -1);
    /* Too small a buffer is refused, never overrun. */
    assert_int_equal(fg_base64_decode(b, 5, "Zm9vYmFy", 8, 0), -1);
    assert_int_equal(fg_base64_decode(b, 6, "Zm9vYmFy", 8, 0), 6);
}

static void test_base64_long(void **state)
{
    (void)state;
    /* Longer than one EVP chunk, and not a multiple of it. */
    size_t n = 10001;
    unsigned char *in = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++)
        in[i] = (unsigned char)(i * 7 + 3);
    char *text = fg_base64_encode_alloc(in, n, FG_BASE64_URL | FG_BASE64_NOPAD);
    assert_int_equal(strlen(text), (n * 4 + 2) / 3);
    assert_null(strpbrk(text, "+/="));
    assert_int_equal(fg_base64_decode(back, n, text, strlen(text),
                                      FG_BASE64_URL | FG_BASE64_NOPAD),
                     (long)n);
    assert_memory_equal(back, in, n);
    free(text);
    free(back);
    free(in);
}

/* ---- percent-decoding ---------------------------------------------------- */

static void test_percent(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(fg_percent_decode(out, sizeof(out), "a%20b%2fc", 9, 0), 5);
    assert_string_equal(out, "a b/c");
    assert_int_equal(fg_percent_decode(out, sizeof(out), "a+b", 3, 0), 3);
    assert_string_equal(out, "a+b");
    assert_int_equal(
        fg_percent_decode(out, sizeof(out), "a+b%2B", 6, FG_PCT_PLUS_SPACE), 4);
    assert_string_equal(out, "a b+");
    /* Malformed escapes are kept. */
    assert_int_equal(fg_percent_decode(out, sizeof(out), "%zz%4%", 6, 0), 6);
    assert_string_equal(out, "%zz%4%");
    /* LEN bounds the escape: "%4" then "1" outside is not "%41". */
    assert_int_equal(fg_percent_decode(out, sizeof(out), "%41", 2, 0), 2);
    assert_string_equal(out, "%4");
    assert_int_equal(fg_percent_decode(out, sizeof(out), "x%00y", 5, 0), 3);
    assert_memory_equal(out, "x\0y", 4);
    /* The NUL counts against CAP. */
    assert_int_equal(fg_percent_decode(out, 4, "abcd", 4, 0), -1);
    assert_int_equal(fg_percent_decode(out, 5, "abcd", 4, 0), 4);
    assert_int_equal(fg_percent_decode(out, 0, "", 0, 0), -1);
    /* In place. */
    char buf[] = "%41%42c";
    assert_int_equal(fg_percent_decode(buf, sizeof(buf), buf, 7, 0), 3);
    assert_string_equal(buf, "ABc");
}

static void test_hex_digit(void **state)
{
    (void)state;
    assert_int_equal(fg_hex_digit('0'), 0);
    assert_int_equal(fg_hex_digit('9'), 9);
    assert_int_equal(fg_hex_digit('a'), 10);
    assert_int_equal(fg_hex_digit('F'), 15);
    assert_int_equal(fg_hex_digit('g'), -1);
    assert_int_equal(fg_hex_digit('/'), -1);
    assert_int_equal(fg_hex_digit(0), -1);
    assert_int_equal(fg_hex_digit(0xc1), -1);
}

/* kube-apiserver's bearer reader: scheme in any case, one space, the token
 * up to the next space; two Authorization headers in any spelling: -1. */
static void test_bearer_token(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int want;
        const char *token;
    } cases[] = {
        {"Bearer abc", 1, "abc"}, {"bearer abc", 1, "abc"},
        {"BEARER abc", 1, "abc"}, {"Bearer abc def", 1, "abc"},
        {"Bearer  abc", 0, NULL}, {"Bearer ", 0, NULL},
        {"Bearer", 0, NULL},      {"Basic YWJj", 0, NULL},
        {"Bearerabc", 0, NULL},   {"", 0, NULL},
        {"Bearer\tabc", 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fg_header h = {"authorization", 13, cases[i].value,
                              strlen(cases[i].value)};
        const char *token = NULL;
        size_t len = 0;
        int got = fg_bearer_token(&h, 1, &token, &len);
        if (got != cases[i].want)
            fail_msg("\"%s\": got %d, want %d", cases[i].value, got,
                     cases[i].want);
        if (got == 1 && (len != strlen(cases[i].token) ||
                         memcmp(token, cases[i].token, len) != 0))
            fail_msg("\"%s\": token \"%.*s\"", cases[i].value, (int)len, token);
    }
    const char *token;
    size_t len;
    struct fg_header two[] = {{"x-other", 7, "Bearer a", 8},
                              {"authorization", 13, "Bearer a", 8},
                              {"Authorization", 13, "Bearer b", 8}};
    assert_int_equal(fg_bearer_token(two, 2, &token, &len), 1);
    assert_int_equal(fg_bearer_token(two, 3, &token, &len), -1);
    struct fg_header folded[] = {{"authorization", 13, "Bearer a", 8},
                                 {"AUTHORIZATION", 13, "Basic x", 7}};
    assert_int_equal(fg_bearer_token(folded, 2, &token, &len), -1);
    assert_int_equal(fg_bearer_token(NULL, 0, &token, &len), 0);
}

/* Basic (RFC 7617) as Helm sends a token: base64 of USER:PASSWORD, the
 * password the token; Bearer read as fg_bearer_token reads it. */
static void test_request_token(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int want;
        const char *token;
    } cases[] = {
        /* "u:tok", ":tok", "u:a:b", "u:" */
        {"Basic dTp0b2s=", 1, "tok"},
        {"basic dTp0b2s=", 1, "tok"},
        {"BASIC dTp0b2s=", 1, "tok"},
        {"Basic OnRvaw==", 1, "tok"},
        {"Basic dTphOmI=", 1, "a:b"},
        {"Basic dTo=", 0, NULL},     /* empty password */
        {"Basic dXRvaw==", 0, NULL}, /* "utok": no colon */
        {"Basic dTp0b2s", 0, NULL},  /* padding missing */
        {"Basic dTp0b2s=x", 0, NULL},
        {"Basic d!p0b2s=", 0, NULL},
        {"Basic  dTp0b2s=", 0, NULL},
        {"Basic dTp0b2s= ", 0, NULL},
        {"Basic ", 0, NULL},
        {"Basic", 0, NULL},
        {"Basic dTp0AGs=", 0, NULL}, /* "u:t\0k" */
        {"Basicx dTp0b2s=", 0, NULL},
        {"Bearer abc", 1, "abc"},
        {"bearer abc def", 1, "abc"},
        {"Bearer ", 0, NULL},
        {"Digest x", 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fg_header h = {"authorization", 13, cases[i].value,
                              strlen(cases[i].value)};
        const char *token = NULL;
        size_t len = 0;
        char buf[64];
        int got = fg_request_token(&h, 1, buf, sizeof buf, &token, &len);
        if (got != cases[i].want)
            fail_msg("\"%s\": got %d, want %d", cases[i].value, got,
                     cases[i].want);
        if (got == 1 && (len != strlen(cases[i].token) ||
                         memcmp(token, cases[i].token, len) != 0))
            fail_msg("\"%s\": token \"%.*s\"", cases[i].value, (int)len, token);
    }
    /* credentials that do not fit the buffer are no token */
    struct fg_header h = {"authorization", 13, "Basic dTp0b2s=", 14};
    const char *token;
    size_t len;
    char small[4];
    assert_int_equal(fg_request_token(&h, 1, small, sizeof small, &token, &len),
                     0);
    /* two Authorization headers, in any spelling and scheme */
    char buf[64];
    struct fg_header two[] = {{"authorization", 13, "Basic dTp0b2s=", 14},
                              {"Authorization", 13, "Bearer b", 8}};
    assert_int_equal(fg_request_token(two, 2, buf, sizeof buf, &token, &len),
                     -1);
    assert_int_equal(fg_request_token(NULL, 0, buf, sizeof buf, &token, &len),
                     0);
}

/* Appends across the buffer's growth keep every byte, NUL-terminated. */
static void test_buf(void **state)
{
    (void)state;
    struct fg_buf b = {0};
    char expect[5000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) {
        char piece[8];
        int len = snprintf(piece, sizeof(piece), "%d,", i % 97);
        fg_buf_puts(&b, piece);
        memcpy(expect + n, piece, (size_t)len);
        n += (size_t)len;
    }
    fg_buf_put(&b, "x\0y", 3);
    memcpy(expect + n, "x\0y", 3);
    n += 3;
    assert_false(b.oom);
    assert_int_equal(b.len, n);
    assert_true(b.cap > b.len);
    assert_memory_equal(b.buf, expect, n);
    assert_int_equal(b.buf[b.len], '\0');
    free(b.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_quote),
        cmocka_unit_test(test_json_quote_short_buffer),
        cmocka_unit_test(test_status_failure),
        cmocka_unit_test(test_status_causes_and_success),
        cmocka_unit_test(test_status_reason),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_alphabets),
        cmocka_unit_test(test_base64_refused),
        cmocka_unit_test(test_base64_long),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_hex_digit),
        cmocka_unit_test(test_bearer_token),
        cmocka_unit_test(test_request_token),
        cmocka_unit_test(test_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
