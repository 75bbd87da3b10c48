/* authn_oidc's internal interface: the JWKS key set (jwks.c), compact JWS
 * tokens and their signatures (jwt.c), and the claim rules of
 * kube-apiserver's --oidc-* flags (claims.c). The plugin (plugin.c) and
 * the unit and fuzz tests use these; nothing here touches the host. */
#ifndef FG_AUTHN_OIDC_H
#define FG_AUTHN_OIDC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

/* The JWKS file is the operator's, but it is parsed like outside input. */
#define FG_OIDC_JWKS_MAX_BYTES (1024 * 1024)
#define FG_OIDC_JWKS_MAX_DEPTH 8
#define FG_OIDC_MAX_KEYS 64

enum fg_oidc_alg { FG_OIDC_RS256 = 1, FG_OIDC_ES256 = 2 };

struct fg_oidc_key {
    char *kid; /* NULL when the JWK names none */
    enum fg_oidc_alg alg;
    EVP_PKEY *pkey;
};

struct fg_oidc_jwks {
    struct fg_oidc_key *keys;
    size_t n;
};

/* Parses a JWK Set ({"keys":[...]}) of LEN bytes: RSA keys (n, e; 2048 to
 * 8192 bits) for RS256 and EC P-256 keys (x, y) for ES256. A JWK for
 * another algorithm or use than signing is skipped; a malformed one, a
 * duplicate kid, or a set without a usable key is an error. Returns 0, or
 * -1 with a one-line reason in ERR. */
int fg_oidc_jwks_parse(const char *json, size_t len, struct fg_oidc_jwks *out,
                       char *err, size_t err_len);
/* The same, from the file PATH (at most FG_OIDC_JWKS_MAX_BYTES). */
int fg_oidc_jwks_load(const char *path, struct fg_oidc_jwks *out, char *err,
                      size_t err_len);
void fg_oidc_jwks_free(struct fg_oidc_jwks *k);

/* A compact JWS, decoded but not verified. */
struct fg_oidc_jwt {
    cJSON *header;
    cJSON *claims;
    const char *signing_input; /* "HEADER.PAYLOAD" in the token */
    size_t signing_input_len;
    unsigned char *sig;
    size_t sig_len;
};

/* Limits on a token from a client. */
struct fg_oidc_limits {
    size_t max_token_bytes;
    int max_json_depth;
};

/* Decodes TOKEN (LEN bytes): three base64url parts without padding, the
 * first two JSON objects without duplicate member names, nested at most
 * LIMITS->max_json_depth deep. Returns 0 (free OUT with
 * fg_oidc_jwt_free), or -1 when TOKEN is not such a JWT. */
int fg_oidc_jwt_decode(const char *token, size_t len,
                       const struct fg_oidc_limits *limits,
                       struct fg_oidc_jwt *out);
void fg_oidc_jwt_free(struct fg_oidc_jwt *t);

/* Checks the header (alg RS256 or ES256, no "crit") and the signature
 * against KEYS: the key with the header's kid, or with no kid every key of
 * the token's algorithm. Returns 0, or -1 with a reason in ERR. */
int fg_oidc_jwt_verify(const struct fg_oidc_jwt *t,
                       const struct fg_oidc_jwks *keys, char *err,
                       size_t err_len);

/* Nesting depth of the JSON text DATA (LEN bytes), counted up to LIMIT + 1
 * (what is beyond is not looked at): checked before cJSON parses it, whose
 * recursion would otherwise overflow a worker's stack (DESIGN.md). */
int fg_oidc_json_depth(const char *data, size_t len, int limit);

/* One --oidc-required-claim. */
struct fg_oidc_required {
    char *claim;
    char *value;
};

/* kube-apiserver's --oidc-* flags. */
struct fg_oidc_rules {
    const char *issuer;          /* --oidc-issuer-url */
    const char *client_id;       /* --oidc-client-id */
    const char *username_claim;  /* --oidc-username-claim (sub) */
    const char *username_prefix; /* as applied: NULL for none */
    const char *groups_claim;    /* NULL: no groups */
    const char *groups_prefix;   /* NULL: none */
    const struct fg_oidc_required *required;
    size_t n_required;
    int64_t skew_seconds; /* leeway on exp and nbf */
};

/* The identity a token's claims give, malloc'd. */
struct fg_oidc_user {
    char *name;
    char **groups;
    size_t n_groups;
};

/* Whether CLAIMS' "iss" is RULES->issuer (else the token is another
 * issuer's, and not this plugin's to judge). */
int fg_oidc_claims_issuer_is(const struct fg_oidc_rules *rules,
                             const cJSON *claims);

/* Checks CLAIMS against RULES at time NOW (aud, exp, nbf, required
 * claims, email_verified) and maps them to OUT. Returns 0, or -1 with a
 * reason in ERR. */
int fg_oidc_claims_map(const struct fg_oidc_rules *rules, const cJSON *claims,
                       time_t now, struct fg_oidc_user *out, char *err,
                       size_t err_len);
void fg_oidc_user_free(struct fg_oidc_user *u);

#endif
