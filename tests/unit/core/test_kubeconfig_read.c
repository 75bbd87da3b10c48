/* Tests of the kubeconfig reader (core/config/kubeconfig_read.c): what
 * fg_kubeconfig_text writes reads back; relative paths resolve against
 * the kubeconfig's directory; each way a kubeconfig can be wrong or
 * unsupported is refused with FILE:LINE and the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/kubeconfig.h"
#include "config/kubeconfig_read.h"

#define CA_PEM                                                                 \
    "-----BEGIN CERTIFICATE-----\n"                                            \
    "MIIBdzCCAR2gAwIBAgIRAJ5v\n"                                               \
    "-----END CERTIFICATE-----\n"

static int parse(const char *text, struct fg_kubeconfig_target *t,
                 struct fg_error *err)
{
    return fg_kubeconfig_read(text, strlen(text), "/etc/kc/config", t, err);
}

/* The writer's kubeconfig, for a token user and a certificate user. */
static void test_reads_what_the_writer_writes(void **state)
{
    (void)state;
    char ca[] = "/tmp/fg-test-kcread-XXXXXX";
    int fd = mkstemp(ca);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, CA_PEM, strlen(CA_PEM)), strlen(CA_PEM));
    close(fd);
    const char *members[] = {"edge", "core"};
    struct fg_kubeconfig_user users[] = {
        {.name = "alice", .token = "tok-123"},
        {.name = "bob", .client_cert_pem = "CERT\n", .client_key_pem = "KEY\n"},
    };
    for (size_t i = 0; i < 2; i++) {
        struct fg_error err;
        char *text = fg_kubeconfig_text("test", "https://gw.example:6443", ca,
                                        &users[i], members, 2, "core", &err);
        assert_non_null(text);
        struct fg_kubeconfig_target t;
        assert_int_equal(parse(text, &t, &err), 0);
        assert_string_equal(t.server, "https://gw.example:6443/clusters/core");
        assert_non_null(t.ca_pem);
        assert_string_equal(t.ca_pem, CA_PEM);
        assert_int_equal(t.ca_pem_len, strlen(CA_PEM));
        if (i == 0) {
            assert_string_equal(t.token, "tok-123");
            assert_null(t.cert_pem);
        } else {
            assert_null(t.token);
            assert_string_equal(t.cert_pem, "CERT\n");
            assert_string_equal(t.key_pem, "KEY\n");
        }
        fg_kubeconfig_target_free(&t);
        free(text);
    }
    unlink(ca);
}

#define HEAD                                                                   \
    "current-context: a\n"                                                     \
    "contexts:\n"                                                              \
    "- name: a\n"                                                              \
    "  context: {cluster: c, user: u}\n"

static void test_paths_and_precedence(void **state)
{
    (void)state;
    struct fg_kubeconfig_target t;
    struct fg_error err;
    assert_int_equal(parse(HEAD "clusters:\n"
                                "- name: c\n"
                                "  cluster:\n"
                                "    server: https://10.0.0.1\n"
                                "    certificate-authority: pki/ca.crt\n"
                                "    tls-server-name: kubernetes\n"
                                "users:\n"
                                "- name: other\n"
                                "  user: {token: nope}\n"
                                "- name: u\n"
                                "  user:\n"
                                "    tokenFile: tok\n"
                                "    client-certificate: /abs/c.crt\n"
                                "    client-key: k.key\n",
                           &t, &err),
                     0);
    assert_string_equal(t.ca_file, "/etc/kc/pki/ca.crt");
    assert_string_equal(t.tls_server_name, "kubernetes");
    assert_string_equal(t.token_file, "/etc/kc/tok");
    assert_null(t.token);
    assert_string_equal(t.cert_file, "/abs/c.crt");
    assert_string_equal(t.key_file, "/etc/kc/k.key");
    fg_kubeconfig_target_free(&t);
    /* a token wins over tokenFile; -data over a file */
    assert_int_equal(
        parse(HEAD "clusters: [{name: c, cluster: {server: 'https://x', "
                   "certificate-authority: a, certificate-authority-data: "
                   "QUJD}}]\n"
                   "users: [{name: u, user: {token: t, tokenFile: f}}]\n",
              &t, &err),
        0);
    assert_null(t.ca_file);
    assert_string_equal(t.ca_pem, "ABC");
    assert_string_equal(t.token, "t");
    assert_null(t.token_file);
    fg_kubeconfig_target_free(&t);
}

static void test_refusals(void **state)
{
    (void)state;
    static const char cluster[] =
        "clusters: [{name: c, cluster: {server: 'https://x', "
        "certificate-authority: ca}}]\n";
    static const char user[] = "users: [{name: u, user: {token: t}}]\n";
    struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"", "/etc/kc/config: kubeconfig: holds 0 documents"},
        {"[1]\n", "/etc/kc/config:1: kubeconfig: is not a map"},
        {"kind: Config\n", "/etc/kc/config: current-context: is not set"},
        {"current-context: [a]\n", "current-context is not a string"},
        {"current-context: a\ncontexts: []\n",
         "/etc/kc/config:1: current-context: no contexts is named \"a\""},
        {"current-context: a\ncontexts: {a: 1}\n",
         "/etc/kc/config:2: contexts: is not a list"},
        {"current-context: a\ncontexts:\n- 1\n", ":3: contexts: an item"},
        {"current-context: a\ncontexts:\n- name: a\n",
         ":3: contexts[a].context: is missing"},
        {"current-context: a\ncontexts:\n- name: a\n  context: {user: u}\n",
         ":4: contexts[a].context: cluster is missing"},
        {HEAD "clusters: []\n",
         ":4: contexts[a].context.cluster: no clusters is named \"c\""},
        {HEAD "clusters: [{name: c, cluster: {server: 'http://x'}}]\n",
         ":5: clusters[c].cluster: server \"http://x\" is not an https://"},
        {HEAD "clusters: [{name: c, cluster: {certificate-authority: a}}]\n",
         ":5: clusters[c].cluster: server is missing"},
        {HEAD "clusters: [{name: c, cluster: {server: 'https://x'}}]\n",
         "certificate-authority(-data) is missing"},
        {HEAD "clusters: [{name: c, cluster: {server: 'https://x', "
              "insecure-skip-tls-verify: true}}]\n",
         "insecure-skip-tls-verify is refused"},
        {HEAD "clusters: [{name: c, cluster: {server: 'https://x', "
              "certificate-authority-data: '!!'}}]\n",
         "certificate-authority-data is not base64"},
        {HEAD "clusters: [{name: c, cluster: {server: 'https://x', "
              "proxy-url: 'http://p'}}]\n",
         "proxy-url is not supported"},
        {HEAD "@Cusers: []\n", "contexts[a].context.user: no users"},
        {HEAD "@Cusers: [{name: u, user: {exec: {command: aws}}}]\n",
         ":6: users[u].user: exec is not supported"},
        {HEAD "@Cusers: [{name: u, user: {auth-provider: {name: oidc}}}]\n",
         "auth-provider is not supported"},
        {HEAD "@Cusers: [{name: u, user: {username: a, password: b}}]\n",
         "username (basic authentication) is refused"},
        {HEAD "@Cusers: [{name: u, user: {token: t, as: root}}]\n",
         "as is refused"},
        {HEAD "@Cusers: [{name: u, user: {token: \"a b\"}}]\n",
         "token holds characters a header cannot carry"},
        {HEAD "@Cusers: [{name: u, user: {client-certificate: c}}]\n",
         "client-certificate without client-key"},
        {HEAD "@Cusers: [{name: u, user: {client-key-data: QUJD}}]\n",
         "client-key without client-certificate"},
        {HEAD "@Cusers: [{name: u, user: {}}]\n",
         ":6: users[u].user: has no token, tokenFile or client-certificate"},
        {HEAD "@Cusers: [{name: u, user: {token: [t]}}]\n",
         "users[u].user: token is not a string"},
        {"a: &x [1]\nb: *x\n", "/etc/kc/config:"},
        {HEAD "@C@U---\n{}\n", ":8: kubeconfig: holds 2 documents"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024] = "";
        /* "@C": the valid cluster goes there, "@U": the valid user */
        for (const char *p = cases[i].text; *p; p++) {
            const char *part = p[0] == '@' && p[1] == 'C'   ? cluster
                               : p[0] == '@' && p[1] == 'U' ? user
                                                            : NULL;
            if (part)
                p++;
            size_t at = strlen(text), n = part ? strlen(part) : 1;
            assert_true(at + n < sizeof(text));
            memcpy(text + at, part ? part : p, n);
            text[at + n] = '\0';
        }
        struct fg_kubeconfig_target t;
        struct fg_error err = {""};
        if (parse(text, &t, &err) == 0 || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].msg,
                     err.msg);
        assert_null(t.server);
        assert_null(t.token);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_what_the_writer_writes),
        cmocka_unit_test(test_paths_and_precedence),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
