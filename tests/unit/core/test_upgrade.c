/* Tests of where a request may switch protocols (core/request/upgrade.c): the
 * subresources Kubernetes upgrades, read from the routed and normalised
 * path by segment, and near misses refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "request/upgrade.h"

static void test_targets(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "/api/v1/namespaces/shop/pods/web-1/exec?command=sh&stdin=true",
        "/api/v1/namespaces/shop/pods/web-1/attach",
        "/api/v1/namespaces/shop/pods/web-1/portforward?ports=80",
        "/api/v1/namespaces/shop/pods/web-1/proxy",
        "/api/v1/namespaces/shop/pods/web-1:8080/proxy/ws/x",
        "/api/v1/namespaces/shop/services/web/proxy/",
        "/api/v1/namespaces/shop/services/https:web:443/proxy/a/b",
        "/api/v1/nodes/node-1/proxy",
        "/api/v1/nodes/node-1/proxy/stats/summary",
        "/clusters/m1/api/v1/namespaces/shop/pods/web-1/exec",
        "/clusters/m1/api/v1/nodes/n/proxy/x",
        "/clusters/m1/api/v1/namespaces/shop/pods/web-1/./exec",
    };
    static const char *const no[] = {
        "/api/v1/namespaces/shop/pods",
        "/api/v1/pods",
        "/api/v1/namespaces/shop/pods/web-1",
        "/api/v1/namespaces/shop/pods/web-1/log",
        "/api/v1/namespaces/shop/pods/exec",
        "/api/v1/namespaces/shop/pods/exec?x=/exec",
        "/api/v1/namespaces/shop/pods?watch=1&x=/pods/a/exec",
        "/api/v1/namespaces/shop/services/web/exec",
        "/api/v1/namespaces/shop/configmaps/x/proxy",
        "/api/v1/namespaces/shop/pods/web-1/Exec",
        "/api/v1/namespaces/shop/pods/web-1/exec%2F",
        "/apis/apps/v1/namespaces/shop/pods/web-1/exec",
        "/api/v1/namespaces/shop/pods/web-1/proxyx",
        "/api/v1/nodes/node-1",
        "/api/v1/nodes/node-1/exec",
        "/api/v1/nodes/proxy",
        "/api/v1/namespaces/exec",
        "/exec",
        "/",
        "/clusters/m1/api/v1/namespaces",
        "/clusters/m1/../m2/api/v1/namespaces/a/pods/b/exec",
        "/x/api/v1/namespaces/shop/pods/web-1/exec",
        "/api/v1/namespaces/shop/pods/web-1/x/../../exec",
    };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (!fg_upgrade_allowed("GET", yes[i], strlen(yes[i]), 8192))
            fail_msg("%s: refused, want allowed", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (fg_upgrade_allowed("GET", no[i], strlen(no[i]), 8192))
            fail_msg("%s: allowed, want refused", no[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
