/* Compact JWS tokens (RFC 7515 section 7.1): splitting and decoding, and
 * the RS256 / ES256 signature check with OpenSSL. Only these two
 * algorithms exist here: "none", HS256 and the rest are refused, and a
 * key is used only for the algorithm of its own type, so an RSA public
 * key can never act as an HMAC secret. */
#include "oidc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#define ES256_HALF 32

int fg_oidc_json_depth(const char *data, size_t len, int limit)
{
    int depth = 0, deepest = 0;
    int quoted = 0;
    for (size_t i = 0; i < len && deepest <= limit; i++) {
        switch (data[i]) {
        case '\\':
            i += quoted; /* the escaped character is no delimiter */
            break;
        case '"':
            quoted = !quoted;
            break;
        case '[':
        case '{':
            if (!quoted && ++depth > deepest)
                deepest = depth;
            break;
        case ']':
        case '}':
            if (!quoted && depth > 0)
                depth--;
            break;
        default:
            break;
        }
    }
    return deepest;
}

/* Whether OBJ has two members of the same name: JSON parsers differ on
 * which one wins, so a signed token must not have any. */
static int has_duplicate_names(const cJSON *obj)
{
    for (const cJSON *a = obj->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (strcmp(a->string, b->string) == 0)
                return 1;
    return 0;
}

/* Decodes one base64url part (no padding) into a malloc'd buffer. */
static unsigned char *part_decode(const char *in, size_t len, size_t *out_len)
{
    if (len == 0 || memchr(in, '=', len))
        return NULL;
    size_t cap = FG_BASE64_DECODED_MAX(len) + 1;
    unsigned char *buf = malloc(cap);
    long n = buf ? fg_base64_decode(buf, cap, in, len,
                                    FG_BASE64_URL | FG_BASE64_NOPAD)
                 : -1;
    if (n <= 0) {
        free(buf);
        return NULL;
    }
    *out_len = (size_t)n;
    return buf;
}

static cJSON *part_object(const char *in, size_t len, int max_depth)
{
    size_t n;
    unsigned char *text = part_decode(in, len, &n);
    if (!text)
        return NULL;
    /* Trailing bytes after the object and NULs inside it are refused:
     * cJSON checks for the terminating NUL within the length it gets. */
    text[n] = '\0';
    cJSON *obj = NULL;
    if (strlen((const char *)text) == n &&
        fg_oidc_json_depth((const char *)text, n, max_depth) <= max_depth)
        obj = cJSON_ParseWithLengthOpts((const char *)text, n + 1, NULL, 1);
    free(text);
    if (obj && (!cJSON_IsObject(obj) || has_duplicate_names(obj))) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return obj;
}

int fg_oidc_jwt_decode(const char *token, size_t len,
                       const struct fg_oidc_limits *limits,
                       struct fg_oidc_jwt *out)
{
    memset(out, 0, sizeof(*out));
    if (len == 0 || len > limits->max_token_bytes)
        return -1;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 =
        dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return -1;
    const char *sig = dot2 + 1;
    out->header =
        part_object(token, (size_t)(dot1 - token), limits->max_json_depth);
    out->claims = out->header ? part_object(dot1 + 1, (size_t)(dot2 - dot1 - 1),
                                            limits->max_json_depth)
                              : NULL;
    out->sig = out->claims ? part_decode(sig, len - (size_t)(sig - token),
                                         &out->sig_len)
                           : NULL;
    if (!out->sig) {
        fg_oidc_jwt_free(out);
        return -1;
    }
    out->signing_input = token;
    out->signing_input_len = (size_t)(dot2 - token);
    return 0;
}

void fg_oidc_jwt_free(struct fg_oidc_jwt *t)
{
    cJSON_Delete(t->header);
    cJSON_Delete(t->claims);
    free(t->sig);
    memset(t, 0, sizeof(*t));
}

/* ES256 signatures are R || S, 32 bytes each (RFC 7518 3.4); OpenSSL
 * verifies the DER ECDSA-Sig-Value. Returns a malloc'd DER or NULL. */
static unsigned char *es256_der(const unsigned char *sig, size_t sig_len,
                                int *der_len)
{
    if (sig_len != 2 * ES256_HALF)
        return NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, ES256_HALF, NULL);
    BIGNUM *s = BN_bin2bn(sig + ES256_HALF, ES256_HALF, NULL);
    unsigned char *der = NULL;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by ES now */
        *der_len = i2d_ECDSA_SIG(es, &der);
        if (*der_len <= 0) {
            OPENSSL_free(der);
            der = NULL;
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return der;
}

static int signature_ok(const struct fg_oidc_jwt *t,
                        const struct fg_oidc_key *k)
{
    const unsigned char *sig = t->sig;
    size_t sig_len = t->sig_len;
    unsigned char *der = NULL;
    if (k->alg == FG_OIDC_ES256) {
        int der_len = 0;
        if (!(der = es256_der(t->sig, t->sig_len, &der_len)))
            return 0;
        sig = der;
        sig_len = (size_t)der_len;
    } else if (t->sig_len != (size_t)EVP_PKEY_get_size(k->pkey)) {
        return 0;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md &&
             EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
             EVP_DigestVerify(md, sig, sig_len,
                              (const unsigned char *)t->signing_input,
                              t->signing_input_len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ERR_clear_error();
    return ok;
}

int fg_oidc_jwt_verify(const struct fg_oidc_jwt *t,
                       const struct fg_oidc_jwks *keys, char *err,
                       size_t err_len)
{
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(t->header, "alg");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(t->header, "kid");
    enum fg_oidc_alg want;
    if (!cJSON_IsString(alg)) {
        snprintf(err, err_len, "the token's header names no algorithm");
        return -1;
    }
    if (strcmp(alg->valuestring, "RS256") == 0) {
        want = FG_OIDC_RS256;
    } else if (strcmp(alg->valuestring, "ES256") == 0) {
        want = FG_OIDC_ES256;
    } else {
        snprintf(err, err_len,
                 "signing algorithm %.32s is not accepted (RS256, ES256)",
                 alg->valuestring);
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(t->header, "crit")) {
        snprintf(err, err_len, "the token has critical header extensions");
        return -1;
    }
    if (kid && !cJSON_IsString(kid)) {
        snprintf(err, err_len, "the token's kid is not a string");
        return -1;
    }
    size_t tried = 0;
    for (size_t i = 0; i < keys->n; i++) {
        const struct fg_oidc_key *k = &keys->keys[i];
        if (kid && (!k->kid || strcmp(k->kid, kid->valuestring) != 0))
            continue;
        if (k->alg != want)
            continue;
        tried++;
        if (signature_ok(t, k))
            return 0;
    }
    if (tried == 0)
        snprintf(err, err_len, "no %s key%s%.64s%s in the key set",
                 alg->valuestring, kid ? " with kid \"" : "",
                 kid ? kid->valuestring : "", kid ? "\"" : "");
    else
        snprintf(err, err_len, "invalid signature");
    return -1;
}
