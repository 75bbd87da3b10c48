/* libFuzzer target for authn_oidc's token path (plugins/policy/authn_oidc:
 * jwt.c, claims.c): the input is a bearer token, decoded, checked for our
 * issuer, verified against a fixed key set (an RSA and a P-256 key; the
 * seeds are tokens they signed, so the claim rules are reached too) and
 * mapped to a user. Whatever the bytes, nothing crashes or leaks, a
 * decoded token's signing input is a prefix of the input, and a mapped
 * user has a name and system:authenticated last. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char keys_json[] =
    "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"r1\", \"use\": \"sig\", "
    "\"alg\": \"RS25"
    "6\", \"n\": \"rwzjyCof62xiI-90paKwHEM7y-r_Jf2mzeJgh-idzTG5VFjJCizbL1"
    "8tFfK35EWqfNZffDzZQ_Wai1H5JXNe4rC2n5pP3OlNRIkL_7-Rk99owhRdnVeN_R"
    "WLbo9hclaz1ZYDSpSqyIMopYeHzh81mZhBZAp0SJAtL54iW7ziSU3rVsNH4f4-OB"
    "HXTdbSc6bwpL6gv9XSVs1pit_K7aGxwiX9L8495xCmWp0WKFx7UMslTY476KiKSm"
    "f52PljTWOu_ne2pVrneSXJ-8Tp11cqHyG4hJolvut6rM-x8jKiCGhJCLSsnerQYJ"
    "_ACON30IcvYsGHvojMG5bWNqao4c3P-w\", \"e\": \"AQAB\"}, {\"kty\": \"EC\", \""
    "kid\": \"e1\", \"crv\": \"P-256\", \"x\": \"pWalYQ-LobepxubkIcBzGtAt3nkh8t"
    "ZTO32q4WV1MZs\", \"y\": \"K3gzTUMv8xkMDaYcnOcSy2li2-rTvhaIzxa6eXrB6B"
    "c\"}]}";

static const struct fg_oidc_required required[] = {{"hd", "example.com"}};

static const struct fg_oidc_rules rules = {
    .issuer = "https://issuer.fuzz",
    .client_id = "fedgate",
    .username_claim = "email",
    .username_prefix = "oidc:",
    .groups_claim = "groups",
    .groups_prefix = "oidc:",
    .required = required,
    .n_required = 1,
    .skew_seconds = 30,
};

static const struct fg_oidc_limits limits = {16384, 16};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fg_oidc_jwks keys;
    char err[512];
    if (!keys.n && fg_oidc_jwks_parse(keys_json, strlen(keys_json), &keys, err,
                                      sizeof(err)) != 0)
        abort();
    struct fg_oidc_jwt jwt;
    if (fg_oidc_jwt_decode((const char *)data, size, &limits, &jwt) != 0)
        return 0;
    if (jwt.signing_input != (const char *)data ||
        jwt.signing_input_len >= size)
        abort();
    struct fg_oidc_user user;
    /* Claims are mapped even when the signature fails, to reach every
     * rule with what the fuzzer makes. */
    (void)fg_oidc_claims_issuer_is(&rules, jwt.claims);
    (void)fg_oidc_jwt_verify(&jwt, &keys, err, sizeof(err));
    if (fg_oidc_claims_map(&rules, jwt.claims, 1700000000, &user, err,
                           sizeof(err)) == 0) {
        if (!user.name || user.n_groups == 0 ||
            strcmp(user.groups[user.n_groups - 1], "system:authenticated") != 0)
            abort();
        fg_oidc_user_free(&user);
    }
    fg_oidc_jwt_free(&jwt);
    return 0;
}
