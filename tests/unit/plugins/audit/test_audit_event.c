/* Tests of the audit Event line (plugins/policy/audit/event.c): the
 * audit.k8s.io/v1 fields kube-apiserver writes, read back with a JSON
 * parser, for resource and non-resource requests, identities with and
 * without uid, groups and extra, the source IPs from forwarding headers
 * and IPv4/IPv6 peers, and hostile header values that must stay inside
 * one line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit.h"

static struct fg_header hdr(const char *name, const char *value)
{
    return (struct fg_header){name, strlen(name), value, strlen(value)};
}

static const struct fg_request_info pod_info = {
    .is_resource = 1,
    .verb = "get",
    .api_prefix = "apis",
    .api_group = "apps",
    .api_version = "v1",
    .namespace_ = "team-a",
    .resource = "deployments",
    .subresource = "scale",
    .name = "web",
    .path = "/apis/apps/v1/namespaces/team-a/deployments/web/scale",
};

static const struct fg_request_info version_info = {.verb = "get",
                                                    .api_prefix = "",
                                                    .api_group = "",
                                                    .api_version = "",
                                                    .namespace_ = "",
                                                    .resource = "",
                                                    .subresource = "",
                                                    .name = "",
                                                    .path = "/version"};

/* The event of REQ as parsed JSON; checks it is exactly one line. */
static cJSON *event(const struct fg_policy_request *req, enum audit_stage st,
                    int status, const char *denied_by)
{
    const struct audit_event e = {
        .level = AUDIT_LEVEL_METADATA,
        .stage = st,
        .req = req,
        .status = status,
        .received_us = 1700000000123456ull,
        .stage_us = 1700000001000001ull,
        .denied_by = denied_by,
    };
    size_t len;
    char *line = audit_event_json(&e, &len);
    assert_non_null(line);
    assert_int_equal(strlen(line), len);
    assert_true(len > 2 && line[len - 1] == '\n');
    assert_null(memchr(line, '\n', len - 1));
    for (size_t i = 0; i < len - 1; i++)
        assert_true((unsigned char)line[i] >= 0x20);
    cJSON *j = cJSON_Parse(line);
    if (!j)
        fail_msg("not JSON: %s", line);
    free(line);
    return j;
}

static const char *get_s(const cJSON *j, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    const cJSON *at = j;
    for (char *save, *k = strtok_r(buf, ".", &save); k && at;
         k = strtok_r(NULL, ".", &save))
        at = cJSON_GetObjectItemCaseSensitive(at, k);
    return at && cJSON_IsString(at) ? at->valuestring : NULL;
}

static void test_resource_request(void **state)
{
    (void)state;
    const char *groups[] = {"dev", "system:authenticated"};
    const char *scopes[] = {"openid", "email"};
    const struct fg_identity_extra extra[] = {{"scopes", scopes, 2}};
    const struct fg_identity id = {"alice", "u-1", groups, 2, extra, 1};
    struct fg_header h[] = {hdr("user-agent", "kubectl/v1.32.4")};
    const struct fg_policy_request req = {
        .method = "PUT",
        .path = "/clusters/prod/apis/apps/v1/namespaces/team-a/deployments/"
                "web/scale",
        .query = "fieldManager=kubectl",
        .headers = h,
        .n_headers = 1,
        .member = "prod",
        .info = &pod_info,
        .request_id = "0a1b2c3d-0000-4000-8000-000000000001",
        .peer = "10.0.0.7:51234",
        .identity = &id,
    };
    cJSON *j = event(&req, AUDIT_STAGE_COMPLETE, 200, NULL);
    assert_string_equal(get_s(j, "kind"), "Event");
    assert_string_equal(get_s(j, "apiVersion"), "audit.k8s.io/v1");
    assert_string_equal(get_s(j, "level"), "Metadata");
    assert_string_equal(get_s(j, "auditID"),
                        "0a1b2c3d-0000-4000-8000-000000000001");
    assert_string_equal(get_s(j, "stage"), "ResponseComplete");
    assert_string_equal(get_s(j, "requestURI"),
                        "/clusters/prod/apis/apps/v1/namespaces/team-a/"
                        "deployments/web/scale?fieldManager=kubectl");
    assert_string_equal(get_s(j, "verb"), "get");
    assert_string_equal(get_s(j, "user.username"), "alice");
    assert_string_equal(get_s(j, "user.uid"), "u-1");
    const cJSON *user = cJSON_GetObjectItem(j, "user");
    const cJSON *g = cJSON_GetObjectItem(user, "groups");
    assert_int_equal(cJSON_GetArraySize(g), 2);
    assert_string_equal(cJSON_GetArrayItem(g, 1)->valuestring,
                        "system:authenticated");
    const cJSON *sc =
        cJSON_GetObjectItem(cJSON_GetObjectItem(user, "extra"), "scopes");
    assert_int_equal(cJSON_GetArraySize(sc), 2);
    assert_string_equal(cJSON_GetArrayItem(sc, 0)->valuestring, "openid");
    assert_null(cJSON_GetObjectItem(j, "impersonatedUser"));
    const cJSON *ips = cJSON_GetObjectItem(j, "sourceIPs");
    assert_int_equal(cJSON_GetArraySize(ips), 1);
    assert_string_equal(cJSON_GetArrayItem(ips, 0)->valuestring, "10.0.0.7");
    assert_string_equal(get_s(j, "userAgent"), "kubectl/v1.32.4");
    assert_string_equal(get_s(j, "objectRef.resource"), "deployments");
    assert_string_equal(get_s(j, "objectRef.namespace"), "team-a");
    assert_string_equal(get_s(j, "objectRef.name"), "web");
    assert_string_equal(get_s(j, "objectRef.apiGroup"), "apps");
    assert_string_equal(get_s(j, "objectRef.apiVersion"), "v1");
    assert_string_equal(get_s(j, "objectRef.subresource"), "scale");
    const cJSON *rs = cJSON_GetObjectItem(j, "responseStatus");
    assert_int_equal(cJSON_GetObjectItem(rs, "code")->valueint, 200);
    assert_string_equal(get_s(j, "requestReceivedTimestamp"),
                        "2023-11-14T22:13:20.123456Z");
    assert_string_equal(get_s(j, "stageTimestamp"),
                        "2023-11-14T22:13:21.000001Z");
    const cJSON *ann = cJSON_GetObjectItem(j, "annotations");
    assert_string_equal(
        cJSON_GetObjectItem(ann, "fedgate.io/cluster")->valuestring, "prod");
    assert_null(cJSON_GetObjectItem(ann, "fedgate.io/denied-by"));
    cJSON_Delete(j);
}

/* A non-resource request of the gateway's own, refused before anyone was
 * authenticated: no objectRef, a user with an empty name, the deciding
 * plugin in the annotations. */
static void test_denied_non_resource_request(void **state)
{
    (void)state;
    const struct fg_policy_request req = {
        .method = "GET",
        .path = "/version",
        .info = &version_info,
        .request_id = "id-2",
        .peer = "[2001:db8::1]:443",
    };
    cJSON *j = event(&req, AUDIT_STAGE_STARTED, 401, "authn");
    assert_string_equal(get_s(j, "stage"), "ResponseStarted");
    assert_string_equal(get_s(j, "requestURI"), "/version");
    assert_string_equal(get_s(j, "user.username"), "");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "user"), "groups"));
    assert_null(cJSON_GetObjectItem(j, "objectRef"));
    assert_null(cJSON_GetObjectItem(j, "userAgent"));
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "sourceIPs"), 0)->valuestring,
        "2001:db8::1");
    const cJSON *ann = cJSON_GetObjectItem(j, "annotations");
    assert_null(cJSON_GetObjectItem(ann, "fedgate.io/cluster"));
    assert_string_equal(
        cJSON_GetObjectItem(ann, "fedgate.io/denied-by")->valuestring, "authn");
    cJSON_Delete(j);
}

struct ips_case {
    const char *xff, *real, *peer;
    const char *want; /* comma-joined, "" for none */
};

static const struct ips_case ips_cases[] = {
    {NULL, NULL, "127.0.0.1:1", "127.0.0.1"},
    {"1.2.3.4", NULL, "127.0.0.1:1", "1.2.3.4,127.0.0.1"},
    {"1.2.3.4, 5.6.7.8", NULL, "5.6.7.8:1", "1.2.3.4,5.6.7.8"},
    {" 1.2.3.4 ,junk,,::1", NULL, "127.0.0.1:9", "1.2.3.4,::1,127.0.0.1"},
    {NULL, "9.9.9.9", "127.0.0.1:1", "9.9.9.9,127.0.0.1"},
    {"9.9.9.9", "9.9.9.9", "127.0.0.1:1", "9.9.9.9,127.0.0.1"},
    {NULL, "not-an-ip", "[::1]:8443", "::1"},
    {"1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,"
     "1.1.1.9,1.1.1.10,1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,"
     "1.1.1.17",
     "2.2.2.2", "3.3.3.3:1",
     "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,"
     "1.1.1.9,1.1.1.10,1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,2.2.2.2,3.3.3.3"},
    {NULL, NULL, "", ""},
};

static void test_source_ips(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ips_cases) / sizeof(ips_cases[0]); i++) {
        const struct ips_case *c = &ips_cases[i];
        struct fg_header h[2];
        size_t n = 0;
        if (c->xff)
            h[n++] = hdr("X-Forwarded-For", c->xff);
        if (c->real)
            h[n++] = hdr("x-real-ip", c->real);
        const struct fg_policy_request req = {.method = "GET",
                                              .path = "/version",
                                              .headers = h,
                                              .n_headers = n,
                                              .info = &version_info,
                                              .request_id = "i",
                                              .peer = c->peer};
        cJSON *j = event(&req, AUDIT_STAGE_COMPLETE, 200, NULL);
        char got[512] = "";
        const cJSON *ip;
        cJSON_ArrayForEach(ip, cJSON_GetObjectItem(j, "sourceIPs"))
        {
            if (*got)
                strcat(got, ",");
            strcat(got, ip->valuestring);
        }
        if (strcmp(got, c->want) != 0)
            fail_msg("case %zu: got %s, want %s", i, got, c->want);
        cJSON_Delete(j);
    }
}

/* Whatever bytes a client puts in its path, query or User-Agent, and
 * whatever names an identity has, the event stays one valid JSON line
 * (event() checks) holding them, invalid UTF-8 replaced. */
static void test_hostile_values_stay_in_one_line(void **state)
{
    (void)state;
    const char *groups[] = {"a\"b", "c\\d\n"};
    const struct fg_identity id = {
        "mallory\r\n{\"kind\":\"Event\"}", NULL, groups, 2, NULL, 0};
    struct fg_header h[] = {hdr("user-agent", "x\n\x01\xff\"}\n")};
    const struct fg_policy_request req = {
        .method = "GET",
        .path = "/clusters/a\"b/x\n",
        .query = "q=\x7f\xc3",
        .headers = h,
        .n_headers = 1,
        .member = "a\"b",
        .info = &version_info,
        .request_id = "i",
        .peer = "127.0.0.1:1",
        .identity = &id,
    };
    cJSON *j = event(&req, AUDIT_STAGE_COMPLETE, 200, "p\"q");
    assert_string_equal(get_s(j, "user.username"),
                        "mallory\r\n{\"kind\":\"Event\"}");
    assert_string_equal(get_s(j, "userAgent"), "x\n\x01\xef\xbf\xbd\"}\n");
    assert_string_equal(get_s(j, "requestURI"),
                        "/clusters/a\"b/x\n?q=\x7f\xef\xbf\xbd");
    cJSON_Delete(j);
}

static void test_time_format(void **state)
{
    (void)state;
    char t[40];
    audit_time_format(0, t, sizeof(t));
    assert_string_equal(t, "1970-01-01T00:00:00.000000Z");
    audit_time_format(951782400999999ull, t, sizeof(t)); /* a leap day */
    assert_string_equal(t, "2000-02-29T00:00:00.999999Z");
    /* the same second again (kept), the next one, a year past 9999 (no
     * half a time), then back */
    audit_time_format(951782400000007ull, t, sizeof(t));
    assert_string_equal(t, "2000-02-29T00:00:00.000007Z");
    audit_time_format(951782401000000ull, t, sizeof(t));
    assert_string_equal(t, "2000-02-29T00:00:01.000000Z");
    audit_time_format(253402300800000000ull, t, sizeof(t));
    assert_string_equal(t, "");
    audit_time_format(0, t, sizeof(t));
    assert_string_equal(t, "1970-01-01T00:00:00.000000Z");
    audit_time_format(0, t, 27); /* no room for it all */
    assert_string_equal(t, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resource_request),
        cmocka_unit_test(test_denied_non_resource_request),
        cmocka_unit_test(test_source_ips),
        cmocka_unit_test(test_hostile_values_stay_in_one_line),
        cmocka_unit_test(test_time_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
