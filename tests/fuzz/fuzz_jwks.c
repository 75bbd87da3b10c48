/* libFuzzer target for authn_oidc's JWK Set reader
 * (plugins/policy/authn_oidc/jwks.c): the input is a JWKS file. Whatever
 * the bytes, nothing crashes or leaks, and a set that parses holds at
 * least one key, each with an OpenSSL key of its algorithm's type. */
#include <stdint.h>
#include <stdlib.h>

#include "oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_oidc_jwks keys;
    char err[256];
    if (fg_oidc_jwks_parse((const char *)data, size, &keys, err, sizeof(err)) !=
        0)
        return 0;
    if (keys.n == 0)
        abort();
    for (size_t i = 0; i < keys.n; i++)
        if (!EVP_PKEY_is_a(keys.keys[i].pkey,
                           keys.keys[i].alg == FG_OIDC_RS256 ? "RSA" : "EC"))
            abort();
    fg_oidc_jwks_free(&keys);
    return 0;
}
