/* Tests of Kubernetes Status bodies and reason phrases (core/request/status.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "request/status.h"

static void test_exact_body(void **state)
{
    (void)state;
    size_t len = 0;
    char *s = fg_status_json(404, NULL, "the server could not find it", &len);
    assert_non_null(s);
    assert_string_equal(
        s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
           "\"status\":\"Failure\",\"message\":\"the server could not find "
           "it\",\"reason\":\"NotFound\",\"code\":404}\n");
    assert_int_equal(len, strlen(s));
    free(s);
}

static void test_details(void **state)
{
    (void)state;
    char *s = fg_status_json_details(404, NULL, "clusters \"x\" not found", "x",
                                     "clusters", NULL);
    assert_non_null(s);
    assert_string_equal(
        s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
           "\"status\":\"Failure\",\"message\":\"clusters \\\"x\\\" not "
           "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"x\","
           "\"kind\":\"clusters\"},\"code\":404}\n");
    free(s);

    s = fg_status_json_details(404, NULL, "m", NULL, NULL, NULL);
    assert_null(strstr(s, "details"));
    free(s);
}

static void test_escaping(void **state)
{
    (void)state;
    const char *msg = "quote \" backslash \\ newline \n tab \t ctl \x01 </x>";
    char *s = fg_status_json(400, NULL, msg, NULL);
    assert_non_null(s);
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(j, "message")->valuestring, msg);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(j, "reason")->valuestring,
        "BadRequest");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "code")->valueint,
                     400);
    cJSON_Delete(j);
    free(s);
}

static void test_reasons(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *reason;
    } cases[] = {
        {400, "BadRequest"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "NotFound"},
        {405, "MethodNotAllowed"},
        {406, "NotAcceptable"},
        {408, "Timeout"},
        {409, "Conflict"},
        {410, "Expired"},
        {413, "RequestEntityTooLarge"},
        {414, "BadRequest"},
        {415, "UnsupportedMediaType"},
        {422, "Invalid"},
        {429, "TooManyRequests"},
        {431, "BadRequest"},
        {500, "InternalError"},
        {501, "InternalError"},
        {502, "InternalError"},
        {503, "ServiceUnavailable"},
        {504, "Timeout"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(fg_status_reason(cases[i].code), cases[i].reason);
    assert_null(fg_status_reason(418));
}

static void test_defaults_and_omissions(void **state)
{
    (void)state;
    /* No known reason and no message: both fields are left out, as
     * kube-apiserver's omitempty would. */
    char *s = fg_status_json(418, NULL, "", NULL);
    assert_string_equal(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                           "\"metadata\":{},\"status\":\"Failure\","
                           "\"code\":418}\n");
    free(s);

    /* NULL message: the reason phrase. Explicit reason wins. */
    s = fg_status_json(409, "AlreadyExists", NULL, NULL);
    cJSON *j = cJSON_Parse(s);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(j, "message")->valuestring,
        "Conflict");
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(j, "reason")->valuestring,
        "AlreadyExists");
    cJSON_Delete(j);
    free(s);
}

static void test_phrases(void **state)
{
    (void)state;
    assert_string_equal(fg_http_reason_phrase(200), "OK");
    assert_string_equal(fg_http_reason_phrase(101), "Switching Protocols");
    assert_string_equal(fg_http_reason_phrase(404), "Not Found");
    assert_string_equal(fg_http_reason_phrase(414), "URI Too Long");
    assert_string_equal(fg_http_reason_phrase(431),
                        "Request Header Fields Too Large");
    assert_string_equal(fg_http_reason_phrase(502), "Bad Gateway");
    assert_string_equal(fg_http_reason_phrase(599), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_body),
        cmocka_unit_test(test_details),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_defaults_and_omissions),
        cmocka_unit_test(test_phrases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
