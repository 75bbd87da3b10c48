/* The claims of a verified ID token as kube-apiserver's OIDC authenticator
 * reads them (--oidc-* flags): the audience must hold the client id, exp
 * is required and nbf honoured (both with the configured leeway), the
 * username comes from one string claim (with "email", an email_verified
 * claim must be true when present), groups from a string or an array of
 * strings, and every required claim must be a string of the given value. */
#include "oidc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The plugin adds the group every authenticated user is in, as
 * kube-apiserver's authenticator chain does. */
#define AUTHENTICATED "system:authenticated"

int fg_oidc_claims_issuer_is(const struct fg_oidc_rules *rules,
                             const cJSON *claims)
{
    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(claims, "iss");
    return cJSON_IsString(iss) && strcmp(iss->valuestring, rules->issuer) == 0;
}

static int audience_ok(const struct fg_oidc_rules *rules, const cJSON *claims)
{
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims, "aud");
    if (cJSON_IsString(aud))
        return strcmp(aud->valuestring, rules->client_id) == 0;
    const cJSON *list = cJSON_IsArray(aud) ? aud : NULL;
    const cJSON *a;
    cJSON_ArrayForEach(a, list)
    {
        if (cJSON_IsString(a) && strcmp(a->valuestring, rules->client_id) == 0)
            return 1;
    }
    return 0;
}

/* NumericDate NAME: 1 with *OUT, 0 when absent, -1 when not a number. */
static int numeric_date(const cJSON *claims, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v))
        return -1;
    *out = v->valuedouble;
    return 1;
}

static int times_ok(const struct fg_oidc_rules *rules, const cJSON *claims,
                    time_t now, char *err, size_t err_len)
{
    double exp = 0, nbf = 0;
    double t = (double)now, skew = (double)rules->skew_seconds;
    int has_exp = numeric_date(claims, "exp", &exp);
    int has_nbf = numeric_date(claims, "nbf", &nbf);
    if (has_exp <= 0) {
        snprintf(err, err_len, "the token has no numeric exp claim");
        return -1;
    }
    if (t > exp + skew) {
        snprintf(err, err_len, "the token expired at %.0f", exp);
        return -1;
    }
    if (has_nbf < 0 || (has_nbf && t + skew < nbf)) {
        snprintf(err, err_len, "the token is not valid before %.0f", nbf);
        return -1;
    }
    return 0;
}

static int required_ok(const struct fg_oidc_rules *rules, const cJSON *claims,
                       char *err, size_t err_len)
{
    for (size_t i = 0; i < rules->n_required; i++) {
        const struct fg_oidc_required *r = &rules->required[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, r->claim);
        if (!cJSON_IsString(v) || strcmp(v->valuestring, r->value) != 0) {
            snprintf(err, err_len,
                     "required claim %s is not present with its value",
                     r->claim);
            return -1;
        }
    }
    return 0;
}

static char *prefixed(const char *prefix, const char *value)
{
    size_t p = prefix ? strlen(prefix) : 0, v = strlen(value);
    char *s = malloc(p + v + 1);
    if (s) {
        memcpy(s, prefix ? prefix : "", p);
        memcpy(s + p, value, v + 1);
    }
    return s;
}

static int username(const struct fg_oidc_rules *rules, const cJSON *claims,
                    struct fg_oidc_user *out, char *err, size_t err_len)
{
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(claims, rules->username_claim);
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        snprintf(err, err_len, "username claim %s is not a non-empty string",
                 rules->username_claim);
        return -1;
    }
    if (strcmp(rules->username_claim, "email") == 0) {
        const cJSON *verified =
            cJSON_GetObjectItemCaseSensitive(claims, "email_verified");
        if (verified && !cJSON_IsTrue(verified)) {
            snprintf(err, err_len, "email not verified");
            return -1;
        }
    }
    if (!(out->name = prefixed(rules->username_prefix, v->valuestring))) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

static int add_group(struct fg_oidc_user *out, const char *prefix,
                     const char *name)
{
    char *g = prefixed(prefix, name);
    if (!g)
        return -1;
    out->groups[out->n_groups++] = g;
    return 0;
}

static int groups(const struct fg_oidc_rules *rules, const cJSON *claims,
                  struct fg_oidc_user *out, char *err, size_t err_len)
{
    const cJSON *v =
        rules->groups_claim
            ? cJSON_GetObjectItemCaseSensitive(claims, rules->groups_claim)
            : NULL;
    size_t n = 0;
    if (cJSON_IsArray(v)) {
        const cJSON *g;
        cJSON_ArrayForEach(g, v)
        {
            if (!cJSON_IsString(g))
                break;
            n++;
        }
    }
    int ok = !v || cJSON_IsString(v) ||
             (cJSON_IsArray(v) && n == (size_t)cJSON_GetArraySize(v));
    if (!ok) {
        snprintf(err, err_len,
                 "groups claim %s is not a string or an array of strings",
                 rules->groups_claim);
        return -1;
    }
    out->groups = calloc(n + 2, sizeof(*out->groups));
    ok = out->groups != NULL;
    if (ok && cJSON_IsString(v))
        ok = add_group(out, rules->groups_prefix, v->valuestring) == 0;
    const cJSON *list = ok && cJSON_IsArray(v) ? v : NULL;
    const cJSON *g;
    cJSON_ArrayForEach(g, list)
    {
        if (add_group(out, rules->groups_prefix, g->valuestring) != 0) {
            ok = 0;
            break;
        }
    }
    if (!ok || add_group(out, NULL, AUTHENTICATED) != 0) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

int fg_oidc_claims_map(const struct fg_oidc_rules *rules, const cJSON *claims,
                       time_t now, struct fg_oidc_user *out, char *err,
                       size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (!audience_ok(rules, claims)) {
        snprintf(err, err_len, "the token's audience is not %s",
                 rules->client_id);
        return -1;
    }
    if (times_ok(rules, claims, now, err, err_len) != 0 ||
        required_ok(rules, claims, err, err_len) != 0 ||
        username(rules, claims, out, err, err_len) != 0 ||
        groups(rules, claims, out, err, err_len) != 0) {
        fg_oidc_user_free(out);
        return -1;
    }
    return 0;
}

void fg_oidc_user_free(struct fg_oidc_user *u)
{
    free(u->name);
    for (size_t i = 0; u->groups && i < u->n_groups; i++)
        free(u->groups[i]);
    free(u->groups);
    memset(u, 0, sizeof(*u));
}
