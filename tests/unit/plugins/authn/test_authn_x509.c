/* authn_x509's reading of client certificates: certificates issued the
 * way fedgatectl issues them (fg_certs_issue_client) map CN to the user
 * and every O, in order, to a group; certificates of another CA, expired
 * or not yet valid, for servers only, or naming two users are refused; a
 * certificate without a CN names nobody. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "config/certs.h"
#include "x509_identity.h"

#define HOUR 3600L

struct fixture {
    char dir[64], other[64];
    X509_STORE *store;
    time_t now;
};

static void remove_tree(const char *dir)
{
    static const char *const files[] = {"ca.crt", "ca.key", "server.crt",
                                        "server.key"};
    char path[128];
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int make_state(char *dir, time_t now)
{
    strcpy(dir, "/tmp/fg-authn-x509-XXXXXX");
    struct fg_cert_files f;
    struct fg_error err;
    if (!mkdtemp(dir) || fg_certs_ensure_at(dir, NULL, 0, now, &f, &err) != 0)
        return -1;
    fg_cert_files_free(&f);
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->now = time(NULL);
    if (make_state(f->dir, f->now) != 0 || make_state(f->other, f->now) != 0)
        return -1;
    char ca[128], err[256];
    snprintf(ca, sizeof(ca), "%s/ca.crt", f->dir);
    f->store = fg_x509_store_load(ca, err, sizeof(err));
    *state = f;
    return f->store ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    X509_STORE_free(f->store);
    remove_tree(f->dir);
    remove_tree(f->other);
    free(f);
    return 0;
}

/* DER of a certificate issued from DIR's CA at NOW for TTL. */
static unsigned char *issue(const char *dir, const char *user,
                            const char *const *groups, size_t n, time_t now,
                            long ttl, int *len)
{
    char *cert = NULL, *key = NULL;
    struct fg_error err;
    assert_int_equal(fg_certs_issue_client(dir, user, groups, n, ttl, now,
                                           &cert, &key, &err),
                     0);
    BIO *bio = BIO_new_mem_buf(cert, -1);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    assert_non_null(x);
    unsigned char *der = NULL;
    *len = i2d_X509(x, &der);
    X509_free(x);
    BIO_free(bio);
    free(cert);
    free(key);
    return der;
}

static int identify(struct fixture *f, const unsigned char *der, int len,
                    time_t now, struct fg_x509_user *u, char *err)
{
    return fg_x509_identify(f->store, der, (size_t)len, now, u, err, 256);
}

static void test_cn_and_organizations(void **state)
{
    struct fixture *f = *state;
    static const char *const groups[] = {"team-a", "system:masters",
                                         "ünïcode group"};
    for (size_t n = 0; n <= 3; n++) {
        int len;
        unsigned char *der = issue(f->dir, "alice@example.com", groups, n,
                                   f->now, 24 * HOUR, &len);
        struct fg_x509_user u;
        char err[256];
        assert_int_equal(identify(f, der, len, 0, &u, err), 1);
        assert_string_equal(u.name, "alice@example.com");
        assert_int_equal(u.n_groups, n + 1);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(u.groups[i], groups[i]);
        assert_string_equal(u.groups[n], "system:authenticated");
        fg_x509_user_free(&u);
        OPENSSL_free(der);
    }
}

static void test_refused(void **state)
{
    struct fixture *f = *state;
    struct fg_x509_user u;
    char err[256];
    int len;
    /* Another CA's certificate. */
    unsigned char *der =
        issue(f->other, "mallory", NULL, 0, f->now, 24 * HOUR, &len);
    assert_int_equal(identify(f, der, len, 0, &u, err), -1);
    assert_non_null(strstr(err, "x509: unable to get local issuer"));
    OPENSSL_free(der);
    /* Valid for an hour: refused before and after it, not inside. */
    der = issue(f->dir, "bob", NULL, 0, f->now, HOUR, &len);
    assert_int_equal(identify(f, der, len, f->now + 2 * HOUR, &u, err), -1);
    assert_non_null(strstr(err, "expired"));
    assert_int_equal(identify(f, der, len, f->now - HOUR, &u, err), -1);
    assert_non_null(strstr(err, "not yet valid"));
    assert_int_equal(identify(f, der, len, f->now + HOUR / 2, &u, err), 1);
    fg_x509_user_free(&u);
    /* Not DER, or with bytes after it. */
    unsigned char *longer = malloc((size_t)len + 1);
    memcpy(longer, der, (size_t)len);
    longer[len] = 0;
    assert_int_equal(identify(f, longer, len + 1, 0, &u, err), -1);
    assert_int_equal(identify(f, der, len - 1, 0, &u, err), -1);
    assert_int_equal(identify(f, (const unsigned char *)"\x30\x03\x02\x01\x00",
                              5, 0, &u, err),
                     -1);
    free(longer);
    OPENSSL_free(der);
}

/* The gateway's own serving certificate is signed by the same CA but is
 * for servers only (extended key usage serverAuth): purpose sslclient
 * refuses it. */
static void test_server_certificate_is_no_client(void **state)
{
    struct fixture *f = *state;
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/server.crt", f->dir);
    FILE *fp = fopen(path, "r");
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    struct fg_x509_user u;
    assert_int_equal(identify(f, der, len, 0, &u, err), -1);
    assert_non_null(strstr(err, "purpose"));
    OPENSSL_free(der);
    X509_free(x);
}

/* Subjects fedgatectl would not write, signed by the CA here. */
static unsigned char *signed_subject(struct fixture *f, const char *const *cns,
                                     size_t n_cns, int *len)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/ca.crt", f->dir);
    FILE *fp = fopen(path, "r");
    X509 *ca = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/ca.key", f->dir);
    fp = fopen(path, "r");
    EVP_PKEY *ca_key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const unsigned char *)"grp", -1, -1, 0);
    for (size_t i = 0; i < n_cns; i++)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)cns[i], -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(ca));
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_sign(x, ca_key, EVP_sha256());
    unsigned char *der = NULL;
    *len = i2d_X509(x, &der);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    return der;
}

static void test_subjects(void **state)
{
    struct fixture *f = *state;
    struct fg_x509_user u;
    char err[256];
    int len;
    static const char *const none[] = {NULL};
    unsigned char *der = signed_subject(f, none, 0, &len);
    assert_int_equal(identify(f, der, len, 0, &u, err), 0);
    OPENSSL_free(der);
    static const char *const empty[] = {""};
    der = signed_subject(f, empty, 1, &len);
    assert_int_equal(identify(f, der, len, 0, &u, err), 0);
    OPENSSL_free(der);
    static const char *const two[] = {"alice", "admin"};
    der = signed_subject(f, two, 2, &len);
    assert_int_equal(identify(f, der, len, 0, &u, err), -1);
    assert_non_null(strstr(err, "two common names"));
    OPENSSL_free(der);
    /* Without extensions the certificate may serve any purpose. */
    static const char *const one[] = {"carol"};
    der = signed_subject(f, one, 1, &len);
    assert_int_equal(identify(f, der, len, 0, &u, err), 1);
    assert_string_equal(u.name, "carol");
    assert_string_equal(u.groups[0], "grp");
    fg_x509_user_free(&u);
    OPENSSL_free(der);
}

static void test_store_load(void **state)
{
    (void)state;
    char err[256];
    assert_null(fg_x509_store_load("/nonexistent/ca.crt", err, sizeof(err)));
    assert_null(fg_x509_store_load("/dev/null", err, sizeof(err)));
    assert_non_null(strstr(err, "holds no PEM certificate"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cn_and_organizations),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_server_certificate_is_no_client),
        cmocka_unit_test(test_subjects),
        cmocka_unit_test(test_store_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
