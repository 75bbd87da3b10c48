/* Tests of the self-generated CA and serving certificate (core/config/certs.c),
 * checked with OpenSSL's own verification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config/certs.h"

#define DAY (24 * 3600)

struct fixture {
    char root[64];
    char dir[128]; /* root/state/nested: created by fg_certs_ensure */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    strcpy(f->root, "/tmp/fg-test-certs-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s/state/nested", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static char *path_in(const char *dir, const char *name)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

static X509 *load_cert(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(x);
    return x;
}

static EVP_PKEY *load_key(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    EVP_PKEY *k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(k);
    return k;
}

static unsigned mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* The serial number as hex, malloc'd; NULL if PATH holds no certificate. */
static char *serial_of(const char *path)
{
    FILE *fp = fopen(path, "r");
    X509 *x = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
    if (fp)
        fclose(fp);
    ERR_clear_error();
    if (!x)
        return NULL;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = BN_bn2hex(bn);
    char *s = strdup(hex);
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(x);
    return s;
}

/* Verifies server.crt against ca.crt as a TLS client would at time NOW. */
static int verify_chain(const char *dir, const char *host, time_t now)
{
    X509 *ca = load_cert(path_in(dir, "ca.crt"));
    X509 *srv = load_cert(path_in(dir, "server.crt"));
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX_init(ctx, store, srv, NULL);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, now);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
    if (host)
        X509_VERIFY_PARAM_set1_host(param, host, 0);
    int ok = X509_verify_cert(ctx);
    if (ok != 1)
        print_error("verify: %s\n", X509_verify_cert_error_string(
                                        X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(srv);
    X509_free(ca);
    return ok == 1;
}

static void copy_file(const char *from, const char *to)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static void test_first_start(void **state)
{
    struct fixture *f = *state;
    const char *extra[] = {"gw.example.com", "10.1.2.3", "fd00::1"};
    struct fg_cert_files out;
    struct fg_error err = {{0}};
    time_t now = time(NULL);

    assert_int_equal(fg_certs_ensure(f->dir, extra, 3, &out, &err), 0);
    assert_true(out.ca_created);
    assert_true(out.server_issued);
    assert_string_equal(out.ca_cert, path_in(f->dir, "ca.crt"));
    assert_string_equal(out.server_cert, path_in(f->dir, "server.crt"));
    assert_string_equal(out.server_key, path_in(f->dir, "server.key"));

    assert_int_equal(mode_of(f->dir), 0700);
    assert_int_equal(mode_of(path_in(f->root, "state")), 0700);
    assert_int_equal(mode_of(out.ca_cert), 0644);
    assert_int_equal(mode_of(out.server_cert), 0644);
    assert_int_equal(mode_of(out.server_key), 0600);
    assert_int_equal(mode_of(path_in(f->dir, "ca.key")), 0600);

    X509 *ca = load_cert(out.ca_cert);
    X509 *srv = load_cert(out.server_cert);
    EVP_PKEY *ca_key = load_key(path_in(f->dir, "ca.key"));
    EVP_PKEY *srv_key = load_key(out.server_key);

    /* The CA: self-signed P-256, CA:TRUE critical, certificate signing. */
    assert_int_equal(X509_verify(ca, ca_key), 1);
    assert_int_equal(X509_check_private_key(ca, ca_key), 1);
    assert_true(X509_check_ca(ca) >= 1);
    assert_true(EVP_PKEY_is_a(ca_key, "EC"));
    assert_int_equal(EVP_PKEY_get_bits(ca_key), 256);
    int crit = 0;
    BASIC_CONSTRAINTS *bc =
        X509_get_ext_d2i(ca, NID_basic_constraints, &crit, NULL);
    assert_non_null(bc);
    assert_true(bc->ca);
    assert_int_equal(crit, 1);
    BASIC_CONSTRAINTS_free(bc);
    assert_true(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
    assert_true(X509_get_key_usage(ca) & KU_CRL_SIGN);
    assert_non_null(X509_get0_subject_key_id(ca));
    assert_non_null(X509_get0_authority_key_id(ca));
    char cn[64];
    X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, cn,
                              sizeof(cn));
    assert_string_equal(cn, "fedgate-ca");
    time_t nine_years = now + 9 * 365 * (time_t)DAY;
    assert_int_equal(X509_cmp_time(X509_get0_notAfter(ca), &nine_years), 1);

    /* The serving certificate: signed by the CA, matching key, names. */
    assert_int_equal(X509_verify(srv, X509_get0_pubkey(ca)), 1);
    assert_int_equal(X509_check_private_key(srv, srv_key), 1);
    assert_int_equal(X509_check_issued(ca, srv), X509_V_OK);
    assert_int_equal(X509_check_purpose(srv, X509_PURPOSE_SSL_SERVER, 0), 1);
    assert_int_equal(X509_check_ca(srv), 0);
    assert_true(X509_get_key_usage(srv) & KU_DIGITAL_SIGNATURE);
    assert_false(X509_get_key_usage(srv) & KU_KEY_CERT_SIGN);
    assert_true(X509_get_extended_key_usage(srv) & XKU_SSL_SERVER);
    X509_NAME_get_text_by_NID(X509_get_subject_name(srv), NID_commonName, cn,
                              sizeof(cn));
    assert_string_equal(cn, "fedgate");
    assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(srv, "gw.example.com", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(srv, "other.example.com", 0, 0, NULL), 0);
    assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "::1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "10.1.2.3", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "fd00::1", 0), 1);
    char host[256];
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    assert_int_equal(X509_check_host(srv, host, 0, 0, NULL), 1);
    time_t in_300_days = now + 300 * (time_t)DAY;
    time_t in_400_days = now + 400 * (time_t)DAY;
    assert_int_equal(X509_cmp_time(X509_get0_notAfter(srv), &in_300_days), 1);
    assert_int_equal(X509_cmp_time(X509_get0_notAfter(srv), &in_400_days), -1);

    /* A 128-bit random positive serial. */
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(srv), NULL);
    assert_false(BN_is_negative(bn));
    assert_true(BN_num_bits(bn) > 100 && BN_num_bits(bn) <= 127);
    BN_free(bn);

    assert_true(verify_chain(f->dir, "localhost", now));

    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(ca_key);
    X509_free(srv);
    X509_free(ca);
    fg_cert_files_free(&out);
}

static void test_reuse(void **state)
{
    struct fixture *f = *state;
    struct fg_cert_files out;
    struct fg_error err;
    assert_int_equal(fg_certs_ensure(f->dir, NULL, 0, &out, &err), 0);
    char *ca1 = serial_of(out.ca_cert), *srv1 = serial_of(out.server_cert);
    fg_cert_files_free(&out);

    assert_int_equal(fg_certs_ensure(f->dir, NULL, 0, &out, &err), 0);
    assert_false(out.ca_created);
    assert_false(out.server_issued);
    char *ca2 = serial_of(out.ca_cert), *srv2 = serial_of(out.server_cert);
    assert_string_equal(ca1, ca2);
    assert_string_equal(srv1, srv2);
    fg_cert_files_free(&out);
    free(ca1);
    free(ca2);
    free(srv1);
    free(srv2);
}

/* Each case changes something, then checks that only the serving
 * certificate is re-issued and that it verifies against the same CA. */
static void expect_reissue(const char *dir, const char *const *extra, size_t n,
                           time_t now)
{
    char *ca1 = serial_of(path_in(dir, "ca.crt"));
    char *srv1 = serial_of(path_in(dir, "server.crt"));
    struct fg_cert_files out;
    struct fg_error err = {{0}};
    if (fg_certs_ensure_at(dir, extra, n, now, &out, &err) != 0)
        fail_msg("%s", err.msg);
    assert_false(out.ca_created);
    assert_true(out.server_issued);
    char *ca2 = serial_of(out.ca_cert), *srv2 = serial_of(out.server_cert);
    assert_non_null(ca1);
    assert_string_equal(ca1, ca2);
    assert_non_null(srv2);
    if (srv1)
        assert_string_not_equal(srv1, srv2);
    assert_int_equal(mode_of(out.server_key), 0600);
    assert_true(verify_chain(dir, "localhost", now));
    fg_cert_files_free(&out);
    free(ca1);
    free(ca2);
    free(srv1);
    free(srv2);
}

static void test_reissue_when_expiring(void **state)
{
    struct fixture *f = *state;
    struct fg_cert_files out;
    struct fg_error err;
    time_t now = time(NULL);
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, now, &out, &err), 0);
    fg_cert_files_free(&out);

    /* 300 days on, 65 remain: kept. 340 days on, 25 remain: renewed. */
    time_t later = now + 300 * (time_t)DAY;
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, later, &out, &err), 0);
    assert_false(out.server_issued);
    fg_cert_files_free(&out);
    expect_reissue(f->dir, NULL, 0, now + 340 * (time_t)DAY);
}

static void test_reissue_when_unfit(void **state)
{
    struct fixture *f = *state;
    struct fg_cert_files out;
    struct fg_error err;
    char other[160];
    snprintf(other, sizeof(other), "%s/other", f->root);
    assert_int_equal(fg_certs_ensure(f->dir, NULL, 0, &out, &err), 0);
    fg_cert_files_free(&out);
    assert_int_equal(fg_certs_ensure(other, NULL, 0, &out, &err), 0);
    fg_cert_files_free(&out);
    time_t now = time(NULL);

    /* A new name is wanted. */
    const char *extra[] = {"gw.example.com"};
    expect_reissue(f->dir, extra, 1, now);

    /* A serving certificate from another CA. */
    copy_file(path_in(other, "server.crt"), path_in(f->dir, "server.crt"));
    expect_reissue(f->dir, NULL, 0, now);

    /* A key that does not match. */
    copy_file(path_in(other, "server.key"), path_in(f->dir, "server.key"));
    expect_reissue(f->dir, NULL, 0, now);

    /* A key others could have read. */
    assert_int_equal(chmod(path_in(f->dir, "server.key"), 0644), 0);
    expect_reissue(f->dir, NULL, 0, now);

    /* Garbage, or nothing. */
    FILE *fp = fopen(path_in(f->dir, "server.crt"), "w");
    fputs("not a certificate\n", fp);
    fclose(fp);
    expect_reissue(f->dir, NULL, 0, now);
    assert_int_equal(unlink(path_in(f->dir, "server.key")), 0);
    expect_reissue(f->dir, NULL, 0, now);
}

static void test_ca_key_problems(void **state)
{
    struct fixture *f = *state;
    struct fg_cert_files out;
    struct fg_error err;
    time_t now = time(NULL);
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, now, &out, &err), 0);
    fg_cert_files_free(&out);

    /* A CA key readable by others is refused, naming the file. */
    char *ca_key = strdup(path_in(f->dir, "ca.key"));
    assert_int_equal(chmod(ca_key, 0640), 0);
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, now, &out, &err), -1);
    assert_non_null(strstr(err.msg, ca_key));
    assert_null(out.ca_cert);
    assert_int_equal(chmod(ca_key, 0600), 0);

    /* Without the CA key a fit serving certificate is still used; an
     * unfit one cannot be re-issued. */
    char saved[256];
    snprintf(saved, sizeof(saved), "%s/ca.key.saved", f->root);
    assert_int_equal(rename(ca_key, saved), 0);
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, now, &out, &err), 0);
    fg_cert_files_free(&out);
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0,
                                        now + 340 * (time_t)DAY, &out, &err),
                     -1);
    assert_non_null(strstr(err.msg, ca_key));

    /* A CA key that is not the CA's. */
    char other[160];
    snprintf(other, sizeof(other), "%s/other", f->root);
    assert_int_equal(fg_certs_ensure(other, NULL, 0, &out, &err), 0);
    fg_cert_files_free(&out);
    copy_file(path_in(other, "ca.key"), ca_key);
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, now, &out, &err), -1);
    assert_non_null(strstr(err.msg, "does not match"));

    /* A broken CA certificate is reported with the OpenSSL reason. */
    assert_int_equal(rename(saved, ca_key), 0);
    FILE *fp = fopen(path_in(f->dir, "ca.crt"), "w");
    fputs("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", fp);
    fclose(fp);
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, now, &out, &err), -1);
    assert_non_null(strstr(err.msg, "ca.crt"));
    assert_non_null(strstr(err.msg, "cannot parse certificate"));
    free(ca_key);
}

static void test_ca_renewed_when_expiring(void **state)
{
    struct fixture *f = *state;
    struct fg_cert_files out;
    struct fg_error err;
    time_t now = time(NULL);
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, now, &out, &err), 0);
    char *ca1 = serial_of(out.ca_cert);
    fg_cert_files_free(&out);

    /* Shortly before the CA's ten years are up, the server certificate
     * would be capped to the CA's life; a new CA is made instead. */
    time_t late = now + (10 * 365 - 20) * (time_t)DAY;
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, late, &out, &err), 0);
    assert_true(out.ca_created);
    assert_true(out.server_issued);
    char *ca2 = serial_of(out.ca_cert);
    assert_string_not_equal(ca1, ca2);
    assert_true(verify_chain(f->dir, "localhost", late));
    fg_cert_files_free(&out);
    free(ca1);
    free(ca2);
}

static void test_server_capped_by_ca(void **state)
{
    struct fixture *f = *state;
    struct fg_cert_files out;
    struct fg_error err;
    time_t now = time(NULL);
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, now, &out, &err), 0);
    fg_cert_files_free(&out);
    /* 100 days before the CA ends, a new serving certificate ends with the
     * CA rather than a year later. */
    time_t late = now + (10 * 365 - 100) * (time_t)DAY;
    assert_int_equal(fg_certs_ensure_at(f->dir, NULL, 0, late, &out, &err), 0);
    assert_false(out.ca_created);
    assert_true(out.server_issued);
    X509 *ca = load_cert(out.ca_cert), *srv = load_cert(out.server_cert);
    assert_int_equal(
        ASN1_TIME_compare(X509_get0_notAfter(srv), X509_get0_notAfter(ca)), 0);
    X509_free(ca);
    X509_free(srv);
    fg_cert_files_free(&out);
}

static void test_bad_input(void **state)
{
    struct fixture *f = *state;
    struct fg_cert_files out;
    struct fg_error err;
    const char *bad[] = {"a b", "x,DNS:evil.example.com", "", "h\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fg_certs_ensure(f->dir, &bad[i], 1, &out, &err), -1);
        assert_non_null(strstr(err.msg, "subject alternative name"));
    }

    /* The state directory cannot be created under a file. */
    char file[160], dir[200];
    snprintf(file, sizeof(file), "%s/file", f->root);
    FILE *fp = fopen(file, "w");
    fclose(fp);
    snprintf(dir, sizeof(dir), "%s/sub", file);
    assert_int_equal(fg_certs_ensure(dir, NULL, 0, &out, &err), -1);
    assert_non_null(strstr(err.msg, file));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reissue_when_expiring, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reissue_when_unfit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ca_key_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_renewed_when_expiring, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server_capped_by_ca, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
