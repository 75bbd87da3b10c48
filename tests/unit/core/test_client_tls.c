/* Tests of the shared client TLS contexts (core/client/tls.c): clients
 * whose files hold the same bytes share one context, whatever the paths;
 * other bytes or settings make another; a file that changed (a reload)
 * makes a new one; a bad file is named in the error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "client/client.h"
#include "config/certs.h"

struct fixture {
    char root[64];
    struct fg_cert_files a, b; /* two CAs, each with a serving pair */
    char copy[128];            /* a second path: A's CA bytes at first */
};

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    strcpy(f->root, "/tmp/fg-test-client-tls-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char dir[128];
    struct fg_error err = {0};
    snprintf(dir, sizeof(dir), "%s/a", f->root);
    if (fg_certs_ensure(dir, NULL, 0, &f->a, &err) != 0)
        return -1;
    snprintf(dir, sizeof(dir), "%s/b", f->root);
    if (fg_certs_ensure(dir, NULL, 0, &f->b, &err) != 0)
        return -1;
    snprintf(f->copy, sizeof(f->copy), "%s/copy.crt", f->root);
    copy_file(f->a.ca_cert, f->copy);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
    int rc = system(cmd);
    fg_cert_files_free(&f->a);
    fg_cert_files_free(&f->b);
    free(f);
    return rc == 0 ? 0 : -1;
}

static SSL_CTX *get(const char *ca, const char *cert, const char *key,
                    int insecure)
{
    struct fg_client_cfg cfg = {.ca_file = (char *)ca,
                                .cert_file = (char *)cert,
                                .key_file = (char *)key,
                                .insecure = insecure};
    char err[512] = "";
    SSL_CTX *ctx = fg_client_tls_ctx_get(&cfg, err, sizeof(err));
    assert_non_null(ctx);
    return ctx;
}

static void shared_by_contents(void **state)
{
    struct fixture *f = *state;
    SSL_CTX *a1 = get(f->a.ca_cert, NULL, NULL, 0);
    SSL_CTX *a2 = get(f->copy, NULL, NULL, 0);
    SSL_CTX *b = get(f->b.ca_cert, NULL, NULL, 0);
    SSL_CTX *a_id = get(f->a.ca_cert, f->a.server_cert, f->a.server_key, 0);
    SSL_CTX *a_id2 = get(f->copy, f->a.server_cert, f->a.server_key, 0);
    SSL_CTX *b_id = get(f->a.ca_cert, f->b.server_cert, f->b.server_key, 0);
    SSL_CTX *any1 = get(NULL, NULL, NULL, 1);
    SSL_CTX *any2 = get(f->b.ca_cert, NULL, NULL, 1); /* CA unused */
    assert_ptr_equal(a1, a2);
    assert_ptr_equal(a_id, a_id2);
    assert_ptr_equal(any1, any2);
    SSL_CTX *all[] = {a1, b, a_id, b_id, any1};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = i + 1; j < 5; j++)
            assert_ptr_not_equal(all[i], all[j]);
    /* verification as configured: peer checked, or not at all */
    assert_int_equal(SSL_CTX_get_verify_mode(a1), SSL_VERIFY_PEER);
    assert_int_equal(SSL_CTX_get_verify_mode(any1), SSL_VERIFY_NONE);
    assert_non_null(SSL_CTX_get0_certificate(a_id));
    assert_null(SSL_CTX_get0_certificate(a1));
    SSL_CTX *users[] = {a1, a2, b, a_id, a_id2, b_id, any1, any2};
    for (size_t i = 0; i < 8; i++)
        fg_client_tls_ctx_put(users[i]);
}

static void changed_file_makes_a_new_context(void **state)
{
    struct fixture *f = *state;
    SSL_CTX *old = get(f->copy, NULL, NULL, 0); /* held: a live client */
    SSL_CTX *b = get(f->b.ca_cert, NULL, NULL, 0);
    copy_file(f->b.ca_cert, f->copy);
    SSL_CTX *fresh = get(f->copy, NULL, NULL, 0); /* the reload */
    assert_ptr_not_equal(fresh, old);
    assert_ptr_equal(fresh, b);
    SSL_CTX *a = get(f->a.ca_cert, NULL, NULL, 0);
    assert_ptr_equal(a, old); /* A's bytes still have their context */
    fg_client_tls_ctx_put(old);
    fg_client_tls_ctx_put(a);
    fg_client_tls_ctx_put(b);
    fg_client_tls_ctx_put(fresh);
    copy_file(f->a.ca_cert, f->copy);
}

static void bad_files_are_named(void **state)
{
    struct fixture *f = *state;
    char missing[128], err[512];
    snprintf(missing, sizeof(missing), "%s/missing.crt", f->root);
    struct {
        struct fg_client_cfg cfg;
        const char *says;
    } cases[] = {
        {{.ca_file = missing}, "cannot read ca_file"},
        {{.ca_file = f->a.server_key}, "cannot load ca_file"},
        {{.ca_file = f->a.ca_cert,
          .cert_file = f->a.server_cert,
          .key_file = missing},
         "cannot read client_key_file"},
        {{.ca_file = f->a.ca_cert,
          .cert_file = f->a.server_cert,
          .key_file = f->b.server_key},
         "key values mismatch"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = 0;
        assert_null(fg_client_tls_ctx_get(&cases[i].cfg, err, sizeof(err)));
        if (!strstr(err, cases[i].says))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err,
                     cases[i].says);
    }
    /* a failed load is not cached: the fixed file loads */
    err[0] = 0;
    assert_null(fg_client_tls_ctx_get(&cases[0].cfg, err, sizeof(err)));
    copy_file(f->a.ca_cert, missing);
    SSL_CTX *ok = get(missing, NULL, NULL, 0);
    fg_client_tls_ctx_put(ok);
    unlink(missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_by_contents),
        cmocka_unit_test(changed_file_makes_a_new_context),
        cmocka_unit_test(bad_files_are_named),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
