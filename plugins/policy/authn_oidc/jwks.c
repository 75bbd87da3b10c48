/* The JWK Set (RFC 7517) the plugin verifies tokens with, read from a
 * file: RSA public keys (RFC 7518 6.3.1: n, e) and EC P-256 public keys
 * (6.2.1: x, y), imported into OpenSSL. The point of an EC key is checked
 * to be on the curve by the import itself. */
#include "oidc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
#define P256_COORD 32
#define MAX_KID 256

/* The base64url member NAME of JWK, decoded into OUT (CAP bytes). Returns
 * its length, or -1. */
static long member_bytes(const cJSON *jwk, const char *name, unsigned char *out,
                         size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, name);
    if (!cJSON_IsString(v) || strchr(v->valuestring, '='))
        return -1;
    return fg_base64_decode(out, cap, v->valuestring, strlen(v->valuestring),
                            FG_BASE64_URL | FG_BASE64_NOPAD);
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_key(const cJSON *jwk)
{
    unsigned char n[RSA_MAX_BITS / 8 + 1], e[8];
    long n_len = member_bytes(jwk, "n", n, sizeof(n));
    long e_len = member_bytes(jwk, "e", e, sizeof(e));
    if (n_len <= 0 || e_len <= 0 || !(e[e_len - 1] & 1))
        return NULL;
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    int bits = bn_n ? BN_num_bits(bn_n) : 0;
    if (bn_e && bld && bits >= RSA_MIN_BITS && bits <= RSA_MAX_BITS &&
        !BN_is_one(bn_e) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1)
        pkey = from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return pkey;
}

static EVP_PKEY *ec_key(const cJSON *jwk)
{
    const cJSON *crv = cJSON_GetObjectItemCaseSensitive(jwk, "crv");
    unsigned char point[1 + 2 * P256_COORD] = {0x04}; /* uncompressed */
    /* A longer coordinate does not fit and fails to decode. */
    if (!cJSON_IsString(crv) || strcmp(crv->valuestring, "P-256") != 0 ||
        member_bytes(jwk, "x", point + 1, P256_COORD) != P256_COORD ||
        member_bytes(jwk, "y", point + 1 + P256_COORD, P256_COORD) !=
            P256_COORD)
        return NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bld &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        "prime256v1", 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                         sizeof(point)) == 1)
        pkey = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* Whether JWK is a signing key for one of our algorithms; sets *ALG. A
 * key for something else (encryption, RS384, Ed25519) is skipped, not an
 * error: providers publish those beside the ones they sign tokens with. */
static int usable(const cJSON *jwk, enum fg_oidc_alg *alg)
{
    const cJSON *kty = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(jwk, "use");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
    if (!cJSON_IsString(kty) ||
        (use && (!cJSON_IsString(use) || strcmp(use->valuestring, "sig") != 0)))
        return 0;
    if (strcmp(kty->valuestring, "RSA") == 0)
        *alg = FG_OIDC_RS256;
    else if (strcmp(kty->valuestring, "EC") == 0)
        *alg = FG_OIDC_ES256;
    else
        return 0;
    return !a || (cJSON_IsString(a) &&
                  strcmp(a->valuestring,
                         *alg == FG_OIDC_RS256 ? "RS256" : "ES256") == 0);
}

static int add_key(struct fg_oidc_jwks *out, const cJSON *jwk, size_t index,
                   char *err, size_t err_len)
{
    enum fg_oidc_alg alg;
    if (!cJSON_IsObject(jwk)) {
        snprintf(err, err_len, "keys[%zu] is not an object", index);
        return -1;
    }
    if (!usable(jwk, &alg))
        return 0;
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
    if (kid && (!cJSON_IsString(kid) || strlen(kid->valuestring) > MAX_KID)) {
        snprintf(err, err_len,
                 "keys[%zu]: kid is not a string of at most %d "
                 "bytes",
                 index, MAX_KID);
        return -1;
    }
    for (size_t i = 0; kid && i < out->n; i++) {
        if (out->keys[i].kid &&
            strcmp(out->keys[i].kid, kid->valuestring) == 0) {
            snprintf(err, err_len, "keys[%zu]: kid \"%s\" is used twice", index,
                     kid->valuestring);
            return -1;
        }
    }
    if (out->n == FG_OIDC_MAX_KEYS) {
        snprintf(err, err_len, "more than %d keys", FG_OIDC_MAX_KEYS);
        return -1;
    }
    EVP_PKEY *pkey = alg == FG_OIDC_RS256 ? rsa_key(jwk) : ec_key(jwk);
    ERR_clear_error();
    if (!pkey) {
        if (alg == FG_OIDC_RS256)
            snprintf(err, err_len,
                     "keys[%zu]: not an RSA key of %d to %d bits (n, e)", index,
                     RSA_MIN_BITS, RSA_MAX_BITS);
        else
            snprintf(err, err_len, "keys[%zu]: not a P-256 point (crv, x, y)",
                     index);
        return -1;
    }
    struct fg_oidc_key *k = &out->keys[out->n];
    k->kid = kid ? strdup(kid->valuestring) : NULL;
    if (kid && !k->kid) {
        EVP_PKEY_free(pkey);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    k->alg = alg;
    k->pkey = pkey;
    out->n++;
    return 0;
}

int fg_oidc_jwks_parse(const char *json, size_t len, struct fg_oidc_jwks *out,
                       char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (len > FG_OIDC_JWKS_MAX_BYTES ||
        fg_oidc_json_depth(json, len, FG_OIDC_JWKS_MAX_DEPTH) >
            FG_OIDC_JWKS_MAX_DEPTH) {
        snprintf(err, err_len, "larger than %d bytes or nested deeper than %d",
                 FG_OIDC_JWKS_MAX_BYTES, FG_OIDC_JWKS_MAX_DEPTH);
        return -1;
    }
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(keys)) {
        cJSON_Delete(root);
        snprintf(err, err_len, "not a JWK Set: {\"keys\": [...]}");
        return -1;
    }
    out->keys = calloc(FG_OIDC_MAX_KEYS, sizeof(*out->keys));
    int rc = out->keys ? 0 : -1;
    if (rc)
        snprintf(err, err_len, "out of memory");
    size_t i = 0;
    for (const cJSON *jwk = keys->child; rc == 0 && jwk; jwk = jwk->next)
        rc = add_key(out, jwk, i++, err, err_len);
    cJSON_Delete(root);
    if (rc == 0 && out->n == 0) {
        snprintf(err, err_len, "no RS256 or ES256 signing key");
        rc = -1;
    }
    if (rc)
        fg_oidc_jwks_free(out);
    return rc;
}

int fg_oidc_jwks_load(const char *path, struct fg_oidc_jwks *out, char *err,
                      size_t err_len)
{
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(FG_OIDC_JWKS_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, FG_OIDC_JWKS_MAX_BYTES + 1, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    char why[256];
    int rc = -1;
    if (bad)
        snprintf(err, err_len, "%s: cannot read it", path);
    else if ((rc = fg_oidc_jwks_parse(buf, n, out, why, sizeof(why))) != 0)
        snprintf(err, err_len, "%s: %s", path, why);
    free(buf);
    return rc;
}

void fg_oidc_jwks_free(struct fg_oidc_jwks *k)
{
    for (size_t i = 0; k->keys && i < k->n; i++) {
        free(k->keys[i].kid);
        EVP_PKEY_free(k->keys[i].pkey);
    }
    free(k->keys);
    memset(k, 0, sizeof(*k));
}
