/* Tests of the direct driver's configuration (config.c, plugin.c, and the
 * core's client behind them): the refusals a member section gets, each a
 * one-line reason naming what is wrong, and credentials on SIGHUP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "direct.h"
#include "fake.h"

/* A self-signed CA certificate, for a ca_file that loads. */
static char *make_ca(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    X509_sign(x, key, EVP_sha256());
    char *path = fake_temp_file("");
    FILE *f = fopen(path, "w");
    PEM_write_X509(f, x);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
    return path;
}

static void *try_new(const char *const *kv, char *err, size_t len)
{
    struct fake_section fs;
    fake_section_init(&fs, kv);
    err[0] = 0;
    return direct_driver_ops.instance_new(&fake_host, &fs.s, err, len);
}

static void refusals(void **state)
{
    (void)state;
    char *ca = make_ca();
    char *token = fake_temp_file("  secret-token\n");
    char *empty = fake_temp_file("\n");
    char *garbage = fake_temp_file("not a certificate");
    char err[512];

    const char *const ok[] = {
        "server", "https://127.0.0.1:6443", "ca_file", ca, "token_file", token,
        NULL};
    struct direct_instance *in = try_new(ok, err, sizeof(err));
    assert_non_null(in);
    assert_string_equal(in->authorization, "Bearer secret-token");
    direct_driver_ops.instance_free(in);

    struct {
        const char *const kv[16];
        const char *needle;
    } cases[] = {
        {{"ca_file", "", "token_file", "", NULL}, "server"},
        {{"server", "http://h", "ca_file", "", "token_file", "", NULL},
         "https://"},
        {{"server", "https://h", "token_file", "", NULL}, "ca_file"},
        {{"server", "https://h", "ca_file", "", NULL}, "token_file"},
        {{"server", "https://h", "ca_file", "", "token_file",
          "/nonexistent/token", NULL},
         "/nonexistent/token"},
        {{"server", "https://h", "ca_file", "/nonexistent/ca.crt", "token_file",
          "", NULL},
         "/nonexistent/ca.crt"},
        {{"server", "https://h", "ca_file", "", "token_file", "", NULL},
         "empty"},
        {{"server", "https://h", "ca_file", "", "token_file", "", NULL},
         "ca_file"},
        {{"server", "https://h", "ca_file", "", "client_cert_file", "x", NULL},
         "client_key_file"},
        {{"server", "https://h", "ca_file", "", "token_file", "",
          "client_cert_file", "", "client_key_file", "", NULL},
         "not both"},
        {{"server", "https://h", "insecure_skip_tls_verify", "true",
          "client_cert_file", "/nonexistent/c.crt", "client_key_file",
          "/nonexistent/c.key", NULL},
         "/nonexistent/c.crt"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* empty values stand for the real files made above */
        const char *kv[16];
        memcpy(kv, cases[i].kv, sizeof(kv));
        for (size_t k = 0; kv[k]; k += 2) {
            if (kv[k + 1][0] == 0) {
                if (strcmp(kv[k], "ca_file") == 0)
                    kv[k + 1] = (i == 7) ? garbage : ca;
                else if (strcmp(kv[k], "token_file") == 0)
                    kv[k + 1] = (i == 6) ? empty : token;
                else
                    kv[k + 1] = token;
            }
        }
        void *x = try_new(kv, err, sizeof(err));
        if (x)
            direct_driver_ops.instance_free(x);
        assert_null(x);
        if (!strstr(err, cases[i].needle))
            fail_msg("case %zu: \"%s\" does not mention \"%s\"", i, err,
                     cases[i].needle);
        assert_null(strchr(err, '\n'));
    }

    /* insecure: allowed without ca_file, with a warning */
    const char *const insecure[] = {
        "server", "https://h:1", "insecure_skip_tls_verify",
        "true",   "token_file",  token,
        NULL};
    in = try_new(insecure, err, sizeof(err));
    assert_non_null(in);
    assert_non_null(strstr(fake_last_log, "insecure_skip_tls_verify"));
    direct_driver_ops.instance_free(in);

    unlink(ca);
    unlink(token);
    unlink(empty);
    unlink(garbage);
    free(ca);
    free(token);
    free(empty);
    free(garbage);
}

static void reload_keeps_old_token_on_failure(void **state)
{
    (void)state;
    char *ca = make_ca();
    char *token = fake_temp_file("one");
    char err[512];
    const char *const kv[] = {
        "server", "https://127.0.0.1:6443", "ca_file", ca, "token_file", token,
        NULL};
    struct direct_instance *in = try_new(kv, err, sizeof(err));
    assert_non_null(in);
    FILE *f = fopen(token, "w");
    fputs("two\n", f);
    fclose(f);
    direct_driver_ops.reload(in);
    assert_string_equal(in->authorization, "Bearer two");
    unlink(token);
    direct_driver_ops.reload(in);
    assert_string_equal(in->authorization, "Bearer two");
    assert_non_null(strstr(fake_last_log, "keeping the old credentials"));
    direct_driver_ops.instance_free(in);
    unlink(ca);
    free(ca);
    free(token);
}

static int teardown(void **state)
{
    (void)state;
    fake_host_done();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refusals),
        cmocka_unit_test(reload_keeps_old_token_on_failure),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
