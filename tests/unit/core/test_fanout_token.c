/* Tests of the continue tokens of cross-cluster lists
 * (core/request/fanout_token.c): what the gateway writes reads back, and
 * every other kind of text a client may send is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>

#include "request/fanout_token.h"

/* The token of CLUSTER, MEMBER_TOKEN and a PodList, or NULL. */
static char *encode(const char *cluster, const char *member_token,
                    const char *kind, struct fg_error *err)
{
    struct fg_fanout_cursor c = {.token = (char *)member_token};
    snprintf(c.cluster, sizeof(c.cluster), "%s", cluster);
    snprintf(c.kind, sizeof(c.kind), "%s", kind);
    snprintf(c.api_version, sizeof(c.api_version), "v1");
    return fg_fanout_token_encode(&c, err);
}

static void round_trip(const char *cluster, const char *member_token)
{
    struct fg_error err = {{0}};
    char *t = encode(cluster, member_token, "PodList", &err);
    if (!t)
        fail_msg("%s: %s", cluster, err.msg);
    for (const char *p = t; *p; p++) /* base64url without padding */
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                               "vwxyz0123456789-_",
                               *p));
    struct fg_fanout_cursor c;
    if (fg_fanout_token_decode(t, strlen(t), &c, &err) != 0)
        fail_msg("%s: %s", t, err.msg);
    assert_string_equal(c.cluster, cluster);
    assert_string_equal(c.token, member_token);
    assert_string_equal(c.kind, "PodList");
    assert_string_equal(c.api_version, "v1");
    fg_fanout_cursor_free(&c);
    free(t);
}

static void test_round_trip(void **state)
{
    (void)state;
    round_trip("demo", "");
    round_trip("edge-1", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6ODR9");
    round_trip("a", "+/=~!\"\\{}");
    char name[64], tok[FG_FANOUT_MEMBER_TOKEN_MAX + 1];
    memset(name, 'n', 63);
    name[63] = '\0';
    memset(tok, 'x', FG_FANOUT_MEMBER_TOKEN_MAX);
    tok[FG_FANOUT_MEMBER_TOKEN_MAX] = '\0';
    round_trip(name, tok);
}

/* The gateway writes no token it could not read back. */
static void test_encode_refused(void **state)
{
    (void)state;
    struct fg_error err = {{0}};
    char tok[FG_FANOUT_MEMBER_TOKEN_MAX + 2];
    memset(tok, 'x', sizeof(tok) - 1);
    tok[sizeof(tok) - 1] = '\0';
    const char *const bad[][3] = {
        {"Demo", "", "PodList"},
        {"", "", "PodList"},
        {"-a", "", "PodList"},
        {"a_b", "", "PodList"},
        {"demo", "a b", "PodList"},
        {"demo", "a\nb", "PodList"},
        {"demo", "\xc3\xa9", "PodList"},
        {"demo", tok, "PodList"},
        {"demo", "", ""},
        {"demo", "", "Pod List"},
        {"demo", "", "Pod\"List"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = '\0';
        assert_null(encode(bad[i][0], bad[i][1], bad[i][2], &err));
        assert_true(err.msg[0] != '\0');
    }
}

static void refused(const char *text, size_t len)
{
    struct fg_fanout_cursor c;
    struct fg_error err = {{0}};
    if (fg_fanout_token_decode(text, len, &c, &err) != -1)
        fail_msg("accepted: %.*s", (int)len, text);
    assert_non_null(strstr(err.msg, "continue token"));
    assert_null(c.token);
}

/* base64url of JSON */
static void refused_json(const char *json)
{
    char *t = fg_base64_encode_alloc(json, strlen(json),
                                     FG_BASE64_URL | FG_BASE64_NOPAD);
    refused(t, strlen(t));
    free(t);
}

static void test_decode_refused(void **state)
{
    (void)state;
    refused("", 0);
    refused("not base64!", 11);
    refused("eyJ2IjoxfQ==", 12); /* padding */
    refused("eyJ2Ijox fQ", 11);
    refused("eyJ2IjoxLCJjbHVzdGVyIjoiZGVtbyIsImNvbnRpbnVlIjoiIn0\n", 52);
    char *big = malloc(FG_FANOUT_TOKEN_MAX + 2);
    memset(big, 'A', FG_FANOUT_TOKEN_MAX + 1);
    refused(big, FG_FANOUT_TOKEN_MAX + 1);
    free(big);
    static const char *const json[] = {
        "",
        "null",
        "[]",
        "\"x\"",
        "{}",
        "{\"v\":1,\"cluster\":\"demo\"}",
        "{\"v\":2,\"cluster\":\"demo\",\"continue\":\"\",\"kind\":\"PodList\","
        "\"apiVersion\":\"v1\"}",
        "{\"v\":\"1\",\"cluster\":\"demo\",\"continue\":\"\",\"kind\":"
        "\"PodList\",\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":\"Demo\",\"continue\":\"\",\"kind\":\"PodList\","
        "\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":\"\",\"continue\":\"\",\"kind\":\"PodList\","
        "\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":\"a.b\",\"continue\":\"\",\"kind\":\"PodList\","
        "\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":\"*\",\"continue\":\"\",\"kind\":\"PodList\","
        "\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":1,\"continue\":\"\",\"kind\":\"PodList\","
        "\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":\"demo\",\"continue\":null,\"kind\":\"PodList\","
        "\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":\"demo\",\"continue\":\"a "
        "b\",\"kind\":\"PodList\",\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":\"demo\",\"continue\":\"\\u0001\",\"kind\":"
        "\"PodList\",\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":\"demo\",\"continue\":\"\\u00e9\",\"kind\":"
        "\"PodList\",\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":\"demo\",\"continue\":\"\",\"kind\":\"PodList\","
        "\"apiVersion\":\"v1\",\"x\":1}",
        "{\"v\":1,\"cluster\":\"demo\",\"continue\":\"\",\"kind\":\"Pod "
        "List\",\"apiVersion\":\"v1\"}",
        "{\"v\":1,\"cluster\":\"demo\",\"continue\":\"\",\"kind\":\"PodList\","
        "\"apiVersion\":\"\"}",
        "{\"v\":1,\"cluster\":\"demo\",\"continue\":\"\",\"kind\":\"PodList\","
        "\"kind\":\"PodList\"}",
        "{\"v\":1,\"cluster\":\"demo\",\"continue\":\"\",\"kind\":\"PodList\","
        "\"apiVersion\":\"v1\"} trailing",
        "{\"v\":1,\"cluster\":\"demo\",\"continue\":{\"a\":[[]]},\"kind\":"
        "\"PodList\",\"apiVersion\":\"v1\"}",
        "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++)
        refused_json(json[i]);
    /* a NUL inside the JSON */
    static const char nul[] = "{\"v\":1,\"cluster\":\"demo\",\"continue\":\"\","
                              "\"kind\":\"PodList\",\"apiVersion\":\"v1\"}"
                              "\0x";
    char *t = fg_base64_encode_alloc(nul, sizeof(nul) - 1,
                                     FG_BASE64_URL | FG_BASE64_NOPAD);
    refused(t, strlen(t));
    free(t);
    /* a member name longer than a label */
    char json_long[200];
    snprintf(json_long, sizeof(json_long),
             "{\"v\":1,\"cluster\":\"%064d\",\"continue\":\"\",\"kind\":"
             "\"PodList\",\"apiVersion\":\"v1\"}",
             0);
    refused_json(json_long);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_encode_refused),
        cmocka_unit_test(test_decode_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
