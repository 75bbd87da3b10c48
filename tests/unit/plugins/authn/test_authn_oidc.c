/* authn_oidc's token checks with keys made here: RS256 and ES256 tokens
 * good and bad (signature, algorithm confusion: none, HS256 keyed with the
 * public key, an algorithm another key type's), time claims with the
 * leeway, issuer and audience, username and groups claims and prefixes,
 * required claims, and the grammar of compact tokens and JWK Sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fedgate/util.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "oidc.h"

#define ISSUER "https://issuer.example"
#define NOW 1700000000L

static EVP_PKEY *rsa, *ec, *rsa_other;
static struct fg_oidc_jwks jwks;

static const struct fg_oidc_limits limits = {16384, 16};

static char *b64url(const void *p, size_t n)
{
    return fg_base64_encode_alloc(p, n, FG_BASE64_URL | FG_BASE64_NOPAD);
}

static char *bn_param(EVP_PKEY *k, const char *name)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
    unsigned char buf[1024];
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64url(buf, (size_t)n);
}

/* The JWK of K with KID, as JSON (malloc'd). */
static char *jwk(EVP_PKEY *k, const char *kid)
{
    char *out = malloc(4096);
    if (EVP_PKEY_is_a(k, "RSA")) {
        char *n = bn_param(k, OSSL_PKEY_PARAM_RSA_N);
        char *e = bn_param(k, OSSL_PKEY_PARAM_RSA_E);
        snprintf(out, 4096,
                 "{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"%s\",\"n\":\"%s\","
                 "\"e\":\"%s\"}",
                 kid, n, e);
        free(n);
        free(e);
    } else {
        unsigned char pt[65];
        size_t len = 0;
        assert_int_equal(EVP_PKEY_get_octet_string_param(
                             k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len),
                         1);
        char *x = b64url(pt + 1, 32), *y = b64url(pt + 33, 32);
        snprintf(out, 4096,
                 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\","
                 "\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
                 kid, x, y);
        free(x);
        free(y);
    }
    return out;
}

enum how { SIGN_RS256, SIGN_ES256, SIGN_NONE, SIGN_HS256_PUBKEY };

/* HEADER.CLAIMS signed with KEY as HOW says, malloc'd. */
static char *token(const char *header, const char *claims, EVP_PKEY *key,
                   enum how how)
{
    char *h = b64url(header, strlen(header));
    char *c = b64url(claims, strlen(claims));
    size_t in_len = strlen(h) + strlen(c) + 1;
    char *in = malloc(in_len + 1);
    snprintf(in, in_len + 1, "%s.%s", h, c);
    unsigned char sig[1024];
    size_t sig_len = 0;
    if (how == SIGN_RS256 || how == SIGN_ES256) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char der[256];
        size_t der_len = sizeof(der);
        unsigned char *out = how == SIGN_RS256 ? sig : der;
        size_t *out_len = how == SIGN_RS256 ? &sig_len : &der_len;
        *out_len = how == SIGN_RS256 ? sizeof(sig) : sizeof(der);
        assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key),
                         1);
        assert_int_equal(
            EVP_DigestSign(md, out, out_len, (const unsigned char *)in, in_len),
            1);
        EVP_MD_CTX_free(md);
        if (how == SIGN_ES256) {
            const unsigned char *p = der;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
            BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
            ECDSA_SIG_free(es);
            sig_len = 64;
        }
    } else if (how == SIGN_HS256_PUBKEY) {
        /* The classic confusion: the public key's PEM as HMAC secret. */
        BIO *bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(bio, key);
        char *pem;
        long pem_len = BIO_get_mem_data(bio, &pem);
        unsigned int n = 0;
        HMAC(EVP_sha256(), pem, (int)pem_len, (const unsigned char *)in, in_len,
             sig, &n);
        sig_len = n;
        BIO_free(bio);
    } else {
        sig[0] = 0; /* "none": a signature part is still needed */
        sig_len = 1;
    }
    char *s = b64url(sig, sig_len);
    size_t total = in_len + strlen(s) + 2;
    char *t = malloc(total);
    snprintf(t, total, "%s.%s", in, s);
    free(h);
    free(c);
    free(in);
    free(s);
    return t;
}

static int group_setup(void **state)
{
    (void)state;
    rsa = EVP_RSA_gen(2048);
    rsa_other = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    char *a = jwk(rsa, "rsa1"), *b = jwk(ec, "ec1");
    char set[10000];
    /* An encryption key and an HMAC key beside them are skipped. */
    snprintf(
        set, sizeof(set),
        "{\"keys\":[%s,{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},%s,"
        "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        a, b);
    free(a);
    free(b);
    char err[256];
    int rc = fg_oidc_jwks_parse(set, strlen(set), &jwks, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    return rc;
}

static int group_teardown(void **state)
{
    (void)state;
    fg_oidc_jwks_free(&jwks);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa_other);
    EVP_PKEY_free(ec);
    return 0;
}

static struct fg_oidc_rules rules(void)
{
    struct fg_oidc_rules r = {
        .issuer = ISSUER,
        .client_id = "fedgate",
        .username_claim = "sub",
        .username_prefix = ISSUER "#",
        .groups_claim = "groups",
        .skew_seconds = 30,
    };
    return r;
}

/* What the plugin would decide for CLAIMS signed as HOW with KEY under
 * HEADER: 'n' no opinion (not a JWT, or another issuer), 'd' deny, 'a'
 * allow (then *USER is set; free it). ERR gets the reason of a deny. */
static char judge(const struct fg_oidc_rules *r, const char *header,
                  const char *claims, EVP_PKEY *key, enum how how,
                  struct fg_oidc_user *user, char *err, size_t err_len)
{
    char *t = token(header, claims, key, how);
    struct fg_oidc_jwt jwt;
    char verdict;
    memset(user, 0, sizeof(*user));
    if (fg_oidc_jwt_decode(t, strlen(t), &limits, &jwt) != 0) {
        free(t);
        return 'n';
    }
    if (!fg_oidc_claims_issuer_is(r, jwt.claims))
        verdict = 'n';
    else if (fg_oidc_jwt_verify(&jwt, &jwks, err, err_len) != 0 ||
             fg_oidc_claims_map(r, jwt.claims, NOW, user, err, err_len) != 0)
        verdict = 'd';
    else
        verdict = 'a';
    fg_oidc_jwt_free(&jwt);
    free(t);
    return verdict;
}

#define RS "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}"
#define ES "{\"alg\":\"ES256\",\"kid\":\"ec1\"}"
#define GOOD                                                                   \
    "{\"iss\":\"" ISSUER "\",\"aud\":\"fedgate\",\"sub\":\"alice\","           \
    "\"exp\":1700000600,\"groups\":[\"dev\",\"ops\"]}"

static void expect_deny(const char *header, const char *claims, EVP_PKEY *key,
                        enum how how, const char *reason)
{
    struct fg_oidc_rules r = rules();
    struct fg_oidc_user u;
    char err[256] = "";
    assert_int_equal(judge(&r, header, claims, key, how, &u, err, sizeof(err)),
                     'd');
    if (!strstr(err, reason))
        fail_msg("reason \"%s\" does not say \"%s\"", err, reason);
}

static void test_good_tokens(void **state)
{
    (void)state;
    struct fg_oidc_rules r = rules();
    struct fg_oidc_user u;
    char err[256] = "";
    assert_int_equal(judge(&r, RS, GOOD, rsa, SIGN_RS256, &u, err, sizeof(err)),
                     'a');
    assert_string_equal(u.name, ISSUER "#alice");
    assert_int_equal(u.n_groups, 3);
    assert_string_equal(u.groups[0], "dev");
    assert_string_equal(u.groups[1], "ops");
    assert_string_equal(u.groups[2], "system:authenticated");
    fg_oidc_user_free(&u);
    assert_int_equal(judge(&r, ES, GOOD, ec, SIGN_ES256, &u, err, sizeof(err)),
                     'a');
    fg_oidc_user_free(&u);
    /* Without a kid, every key of the algorithm is tried. */
    assert_int_equal(judge(&r, "{\"alg\":\"ES256\"}", GOOD, ec, SIGN_ES256, &u,
                           err, sizeof(err)),
                     'a');
    fg_oidc_user_free(&u);
}

static void test_bad_signatures(void **state)
{
    (void)state;
    /* Signed by a key the set does not hold. */
    expect_deny(RS, GOOD, rsa_other, SIGN_RS256, "invalid signature");
    expect_deny("{\"alg\":\"RS256\"}", GOOD, rsa_other, SIGN_RS256,
                "invalid signature");
    /* A key id the set does not know. */
    expect_deny("{\"alg\":\"RS256\",\"kid\":\"nope\"}", GOOD, rsa, SIGN_RS256,
                "no RS256 key with kid \"nope\"");
    /* The kid of an EC key on an RS256 token: never used across types. */
    expect_deny("{\"alg\":\"RS256\",\"kid\":\"ec1\"}", GOOD, rsa, SIGN_RS256,
                "no RS256 key");
    expect_deny("{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", GOOD, ec, SIGN_ES256,
                "no ES256 key");
    /* A signature made over other claims. */
    char *t = token(RS, GOOD, rsa, SIGN_RS256);
    char *other = token(RS,
                        "{\"iss\":\"" ISSUER "\",\"aud\":\"fedgate\","
                        "\"sub\":\"mallory\",\"exp\":1700000600}",
                        rsa, SIGN_RS256);
    char spliced[4096];
    snprintf(spliced, sizeof(spliced), "%.*s%s",
             (int)(strrchr(other, '.') - other), other, strrchr(t, '.'));
    struct fg_oidc_jwt jwt;
    char err[256];
    assert_int_equal(
        fg_oidc_jwt_decode(spliced, strlen(spliced), &limits, &jwt), 0);
    assert_int_equal(fg_oidc_jwt_verify(&jwt, &jwks, err, sizeof(err)), -1);
    fg_oidc_jwt_free(&jwt);
    /* Every single flipped signature bit fails (a sample of positions). */
    char *sig = strrchr(t, '.') + 1;
    for (size_t i = 0; i < strlen(sig); i += 37) {
        char *copy = strdup(t);
        char *c = copy + (sig - t) + i;
        *c = *c == 'A' ? 'B' : 'A';
        if (fg_oidc_jwt_decode(copy, strlen(copy), &limits, &jwt) == 0) {
            assert_int_equal(fg_oidc_jwt_verify(&jwt, &jwks, err, sizeof(err)),
                             -1);
            fg_oidc_jwt_free(&jwt);
        }
        free(copy);
    }
    free(t);
    free(other);
}

static void test_wrong_algorithms(void **state)
{
    (void)state;
    expect_deny("{\"alg\":\"none\"}", GOOD, rsa, SIGN_NONE, "not accepted");
    expect_deny("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", GOOD, rsa,
                SIGN_HS256_PUBKEY, "not accepted");
    expect_deny("{\"alg\":\"RS512\"}", GOOD, rsa, SIGN_RS256, "not accepted");
    expect_deny("{\"alg\":\"rs256\"}", GOOD, rsa, SIGN_RS256, "not accepted");
    expect_deny("{\"kid\":\"rsa1\"}", GOOD, rsa, SIGN_RS256, "no algorithm");
    expect_deny("{\"alg\":[\"RS256\"]}", GOOD, rsa, SIGN_RS256, "no algorithm");
    expect_deny("{\"alg\":\"RS256\",\"crit\":[\"exp\"]}", GOOD, rsa, SIGN_RS256,
                "critical");
    expect_deny("{\"alg\":\"RS256\",\"kid\":7}", GOOD, rsa, SIGN_RS256,
                "kid is not a string");
    /* An RSA signature on an ES256 header: the wrong length for ES256. */
    expect_deny("{\"alg\":\"ES256\"}", GOOD, rsa, SIGN_RS256,
                "invalid signature");
}

static void test_times(void **state)
{
    (void)state;
    struct fg_oidc_rules r = rules();
    struct fg_oidc_user u;
    char err[256];
    char claims[512];
    /* exp: (claim relative to NOW, accepted?) with 30 s of leeway. */
    static const struct {
        long exp;
        char want;
    } exps[] = {{600, 'a'}, {0, 'a'}, {-30, 'a'}, {-31, 'd'}, {-86400, 'd'}};
    for (size_t i = 0; i < sizeof(exps) / sizeof(exps[0]); i++) {
        snprintf(claims, sizeof(claims),
                 "{\"iss\":\"" ISSUER "\",\"aud\":\"fedgate\",\"sub\":\"a\","
                 "\"exp\":%ld}",
                 NOW + exps[i].exp);
        assert_int_equal(
            judge(&r, RS, claims, rsa, SIGN_RS256, &u, err, sizeof(err)),
            exps[i].want);
        fg_oidc_user_free(&u);
    }
    static const struct {
        long nbf;
        char want;
    } nbfs[] = {{-600, 'a'}, {30, 'a'}, {31, 'd'}, {3600, 'd'}};
    for (size_t i = 0; i < sizeof(nbfs) / sizeof(nbfs[0]); i++) {
        snprintf(claims, sizeof(claims),
                 "{\"iss\":\"" ISSUER "\",\"aud\":\"fedgate\",\"sub\":\"a\","
                 "\"exp\":%ld,\"nbf\":%ld}",
                 NOW + 7200, NOW + nbfs[i].nbf);
        assert_int_equal(
            judge(&r, RS, claims, rsa, SIGN_RS256, &u, err, sizeof(err)),
            nbfs[i].want);
        fg_oidc_user_free(&u);
    }
    expect_deny(RS,
                "{\"iss\":\"" ISSUER "\",\"aud\":\"fedgate\",\"sub\":\"a\"}",
                rsa, SIGN_RS256, "no numeric exp");
    expect_deny(RS,
                "{\"iss\":\"" ISSUER "\",\"aud\":\"fedgate\",\"sub\":\"a\","
                "\"exp\":\"1800000000\"}",
                rsa, SIGN_RS256, "no numeric exp");
    expect_deny(RS,
                "{\"iss\":\"" ISSUER "\",\"aud\":\"fedgate\",\"sub\":\"a\","
                "\"exp\":1800000000,\"nbf\":\"0\"}",
                rsa, SIGN_RS256, "not valid before");
}

static void test_issuer_and_audience(void **state)
{
    (void)state;
    struct fg_oidc_rules r = rules();
    struct fg_oidc_user u;
    char err[256];
    /* Another issuer's token, or none named: not ours to judge. */
    static const char *const others[] = {
        "{\"iss\":\"https://other.example\",\"aud\":\"fedgate\",\"sub\":\"a\","
        "\"exp\":1800000000}",
        "{\"iss\":\"" ISSUER "/\",\"aud\":\"fedgate\",\"sub\":\"a\","
        "\"exp\":1800000000}",
        "{\"aud\":\"fedgate\",\"sub\":\"a\",\"exp\":1800000000}",
        "{\"iss\":[\"" ISSUER "\"],\"sub\":\"a\",\"exp\":1800000000}",
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        assert_int_equal(
            judge(&r, RS, others[i], rsa, SIGN_RS256, &u, err, sizeof(err)),
            'n');
    static const char *const auds[] = {"[\"x\",\"fedgate\"]", "\"fedgate\""};
    static const char *const bad_auds[] = {
        "\"x\"", "[]", "[\"fedgatex\"]", "7", "{\"fedgate\":1}", "null"};
    char claims[512];
    for (size_t i = 0; i < 2; i++) {
        snprintf(claims, sizeof(claims),
                 "{\"iss\":\"" ISSUER "\",\"aud\":%s,\"sub\":\"a\","
                 "\"exp\":1800000000}",
                 auds[i]);
        assert_int_equal(
            judge(&r, RS, claims, rsa, SIGN_RS256, &u, err, sizeof(err)), 'a');
        fg_oidc_user_free(&u);
    }
    for (size_t i = 0; i < sizeof(bad_auds) / sizeof(bad_auds[0]); i++) {
        snprintf(claims, sizeof(claims),
                 "{\"iss\":\"" ISSUER "\",\"aud\":%s,\"sub\":\"a\","
                 "\"exp\":1800000000}",
                 bad_auds[i]);
        expect_deny(RS, claims, rsa, SIGN_RS256, "audience");
    }
}

/* The user and groups CLAIMS give under R ('a'), or the deny ('d'). */
static char map(const struct fg_oidc_rules *r, const char *extra,
                struct fg_oidc_user *u)
{
    char claims[1024], err[256];
    snprintf(claims, sizeof(claims),
             "{\"iss\":\"" ISSUER "\",\"aud\":\"fedgate\","
             "\"exp\":1800000000%s}",
             extra);
    return judge(r, RS, claims, rsa, SIGN_RS256, u, err, sizeof(err));
}

static void test_claims(void **state)
{
    (void)state;
    struct fg_oidc_rules r = rules();
    struct fg_oidc_user u;
    /* username claim and prefix */
    assert_int_equal(map(&r, ",\"sub\":\"\"", &u), 'd');
    assert_int_equal(map(&r, ",\"sub\":5", &u), 'd');
    assert_int_equal(map(&r, ",\"name\":\"x\"", &u), 'd');
    r.username_prefix = NULL;
    assert_int_equal(map(&r, ",\"sub\":\"bob\"", &u), 'a');
    assert_string_equal(u.name, "bob");
    fg_oidc_user_free(&u);
    r.username_prefix = "oidc:";
    r.username_claim = "email";
    assert_int_equal(map(&r, ",\"email\":\"b@x.io\"", &u), 'a');
    assert_string_equal(u.name, "oidc:b@x.io");
    fg_oidc_user_free(&u);
    assert_int_equal(
        map(&r, ",\"email\":\"b@x.io\",\"email_verified\":true", &u), 'a');
    fg_oidc_user_free(&u);
    assert_int_equal(
        map(&r, ",\"email\":\"b@x.io\",\"email_verified\":false", &u), 'd');
    assert_int_equal(
        map(&r, ",\"email\":\"b@x.io\",\"email_verified\":\"true\"", &u), 'd');
    /* groups: a string, an array of strings, absent; prefixed */
    r = rules();
    r.groups_prefix = "oidc:";
    assert_int_equal(map(&r, ",\"sub\":\"a\",\"groups\":\"admins\"", &u), 'a');
    assert_int_equal(u.n_groups, 2);
    assert_string_equal(u.groups[0], "oidc:admins");
    assert_string_equal(u.groups[1], "system:authenticated");
    fg_oidc_user_free(&u);
    assert_int_equal(map(&r, ",\"sub\":\"a\",\"groups\":[]", &u), 'a');
    assert_int_equal(u.n_groups, 1);
    fg_oidc_user_free(&u);
    assert_int_equal(map(&r, ",\"sub\":\"a\"", &u), 'a');
    assert_int_equal(u.n_groups, 1);
    fg_oidc_user_free(&u);
    static const char *const bad_groups[] = {
        ",\"groups\":5", ",\"groups\":[\"a\",5]", ",\"groups\":{\"a\":1}",
        ",\"groups\":[[\"a\"]]", ",\"groups\":null"};
    for (size_t i = 0; i < sizeof(bad_groups) / sizeof(bad_groups[0]); i++) {
        char extra[128];
        snprintf(extra, sizeof(extra), ",\"sub\":\"a\"%s", bad_groups[i]);
        assert_int_equal(map(&r, extra, &u), 'd');
    }
    /* Groups are not read unless a claim is configured. */
    r.groups_claim = NULL;
    assert_int_equal(map(&r, ",\"sub\":\"a\",\"groups\":5", &u), 'a');
    assert_int_equal(u.n_groups, 1);
    fg_oidc_user_free(&u);
}

static void test_required_claims(void **state)
{
    (void)state;
    struct fg_oidc_rules r = rules();
    static const struct fg_oidc_required req[] = {{"hd", "example.com"},
                                                  {"tier", "gold"}};
    r.required = req;
    r.n_required = 2;
    struct fg_oidc_user u;
    assert_int_equal(
        map(&r, ",\"sub\":\"a\",\"hd\":\"example.com\",\"tier\":\"gold\"", &u),
        'a');
    fg_oidc_user_free(&u);
    assert_int_equal(map(&r, ",\"sub\":\"a\",\"hd\":\"example.com\"", &u), 'd');
    assert_int_equal(
        map(&r, ",\"sub\":\"a\",\"hd\":\"example.org\",\"tier\":\"gold\"", &u),
        'd');
    assert_int_equal(
        map(&r, ",\"sub\":\"a\",\"hd\":[\"example.com\"],\"tier\":\"gold\"",
            &u),
        'd');
}

/* Not JWTs: no opinion, whatever the bytes. */
static void test_malformed_tokens(void **state)
{
    (void)state;
    char *good = token(RS, GOOD, rsa, SIGN_RS256);
    char *d1 = strchr(good, '.'), *d2 = strrchr(good, '.');
    struct fg_oidc_jwt jwt;
    assert_int_equal(fg_oidc_jwt_decode(good, strlen(good), &limits, &jwt), 0);
    fg_oidc_jwt_free(&jwt);
    char bad[8192];
    const char *cases[16];
    size_t n = 0;
    cases[n++] = "";
    cases[n++] = "abc";
    cases[n++] = "a.b";
    cases[n++] = "a.b.c.d";
    cases[n++] = "..";
    cases[n++] = "e30.e30."; /* empty signature */
    cases[n++] = "e30.e30.AA.";
    cases[n++] = "W10.e30.AA";      /* header [] */
    cases[n++] = "e30.ImEi.AA";     /* claims "a" */
    cases[n++] = "e30=.e30.AA";     /* padding */
    cases[n++] = "e3+.e30.AA";      /* not the URL alphabet */
    cases[n++] = "e30.e30gICB9.AA"; /* "{}   }": bytes after the object */
    cases[n++] = "eyJhIjoxLCJhIjoyfQ.e30.AA"; /* {"a":1,"a":2} */
    cases[n++] = "e30.eyJpc3MiOiJhIgB9.AA";   /* a NUL in the JSON */
    for (size_t i = 0; i < n; i++)
        if (fg_oidc_jwt_decode(cases[i], strlen(cases[i]), &limits, &jwt) == 0)
            fail_msg("\"%s\" decoded", cases[i]);
    /* The good token cut anywhere: not a JWT before its signature, a bad
     * signature within it. */
    char err[256];
    for (size_t cut = 0; cut < strlen(good); cut += 7) {
        int decoded = fg_oidc_jwt_decode(good, cut, &limits, &jwt) == 0;
        if (decoded && good + cut <= d2 + 1)
            fail_msg("a token cut at %zu decoded", cut);
        if (decoded) {
            assert_int_equal(fg_oidc_jwt_verify(&jwt, &jwks, err, sizeof(err)),
                             -1);
            fg_oidc_jwt_free(&jwt);
        }
    }
    /* A byte inserted before each dot. */
    snprintf(bad, sizeof(bad), "%.*s.%s", (int)(d1 - good), good, d1);
    assert_int_equal(fg_oidc_jwt_decode(bad, strlen(bad), &limits, &jwt), -1);
    snprintf(bad, sizeof(bad), "%.*s!%s", (int)(d2 - good), good, d2);
    assert_int_equal(fg_oidc_jwt_decode(bad, strlen(bad), &limits, &jwt), -1);
    /* Over the size bound. */
    struct fg_oidc_limits small = {strlen(good) - 1, 16};
    assert_int_equal(fg_oidc_jwt_decode(good, strlen(good), &small, &jwt), -1);
    free(good);
    /* Nested deeper than the bound: refused before cJSON recurses. */
    char deep[256] = "{\"a\":";
    for (int i = 0; i < 20; i++)
        strcat(deep, "[");
    for (int i = 0; i < 20; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    char *t = token(RS, deep, rsa, SIGN_RS256);
    assert_int_equal(fg_oidc_jwt_decode(t, strlen(t), &limits, &jwt), -1);
    struct fg_oidc_limits roomy = {16384, 32};
    assert_int_equal(fg_oidc_jwt_decode(t, strlen(t), &roomy, &jwt), 0);
    fg_oidc_jwt_free(&jwt);
    free(t);
}

static void test_json_depth(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int depth;
    } cases[] = {
        {"1", 0},
        {"{}", 1},
        {"[[],[[]]]", 3},
        {"{\"a\":\"[[[[\"}", 1},
        {"{\"a\":\"\\\"[[[\"}", 1},
        {"]]]][", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(
            fg_oidc_json_depth(cases[i].json, strlen(cases[i].json), 10),
            cases[i].depth);
    /* Counting stops past the limit. */
    assert_int_equal(fg_oidc_json_depth("[[[[[[", 6, 2), 3);
}

static void expect_bad_set(const char *set, const char *reason)
{
    struct fg_oidc_jwks k;
    char err[256] = "";
    assert_int_equal(fg_oidc_jwks_parse(set, strlen(set), &k, err, sizeof(err)),
                     -1);
    if (!strstr(err, reason))
        fail_msg("\"%s\": reason \"%s\" does not say \"%s\"", set, err, reason);
}

static void test_jwks_grammar(void **state)
{
    (void)state;
    expect_bad_set("", "not a JWK Set");
    expect_bad_set("[]", "not a JWK Set");
    expect_bad_set("{\"keys\":{}}", "not a JWK Set");
    expect_bad_set("{\"keys\":[]}", "no RS256 or ES256");
    expect_bad_set("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}",
                   "no RS256 or ES256");
    expect_bad_set("{\"keys\":[7]}", "keys[0] is not an object");
    expect_bad_set(
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "not an RSA key");
    expect_bad_set("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\","
                   "\"y\":\"AA\"}]}",
                   "not a P-256 point");
    /* A point that is not on the curve. */
    char x[64], set[512];
    memset(x, 'A', 43);
    x[43] = '\0';
    snprintf(set, sizeof(set),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
             "\"y\":\"%s\"}]}",
             x, x);
    expect_bad_set(set, "not a P-256 point");
    char deep[64] = "{\"keys\":[[[[[[[[[[]]]]]]]]]]}";
    expect_bad_set(deep, "nested deeper");
    /* A 1024-bit RSA key is too weak. */
    EVP_PKEY *weak = EVP_RSA_gen(1024);
    char *w = jwk(weak, "weak");
    char weak_set[4096];
    snprintf(weak_set, sizeof(weak_set), "{\"keys\":[%s]}", w);
    expect_bad_set(weak_set, "not an RSA key of 2048");
    free(w);
    EVP_PKEY_free(weak);
    /* Two keys with one kid. */
    char *a = jwk(ec, "same"), *b = jwk(rsa, "same");
    char twice[8192];
    snprintf(twice, sizeof(twice), "{\"keys\":[%s,%s]}", a, b);
    expect_bad_set(twice, "used twice");
    free(a);
    free(b);
    /* An "alg" other than the key type's skips the key. */
    a = jwk(ec, "e");
    char *p = strstr(a, "ES256");
    memcpy(p, "ES384", 5);
    snprintf(twice, sizeof(twice), "{\"keys\":[%s]}", a);
    expect_bad_set(twice, "no RS256 or ES256");
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_tokens),
        cmocka_unit_test(test_bad_signatures),
        cmocka_unit_test(test_wrong_algorithms),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_issuer_and_audience),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_required_claims),
        cmocka_unit_test(test_malformed_tokens),
        cmocka_unit_test(test_json_depth),
        cmocka_unit_test(test_jwks_grammar),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
