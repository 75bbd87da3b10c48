/* authn_oidc: bearer tokens that are OpenID Connect ID tokens (JWTs)
 * signed by the configured issuer with a key of a JWKS file, mapped to an
 * identity as kube-apiserver's --oidc-* flags map them. A bearer token
 * that is no JWT, or a JWT of another issuer, is not this plugin's to
 * judge (no opinion: the next authenticator may know it); a JWT of our
 * issuer that fails any check is refused with the reason. The key set is
 * re-read on SIGHUP; a bad file keeps the keys read before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fedgate/fedgate.h>

#include "oidc.h"

#define MAX_REQUIRED 16

struct oidc {
    const struct fg_host *host;
    char *jwks_path;
    struct fg_oidc_jwks keys;
    struct fg_oidc_rules rules;
    struct fg_oidc_limits limits;
    char *issuer_prefix; /* the default username prefix: ISSUER# */
    struct fg_oidc_required required[MAX_REQUIRED];
};

/* "a=b, c=d" (--oidc-required-claim, repeated) into O->required. */
static int parse_required(struct oidc *o, const char *list, char *err,
                          size_t err_len)
{
    const char *p = list;
    while (*p) {
        p += strspn(p, " ");
        size_t len = strcspn(p, ",");
        size_t end = len;
        while (end > 0 && p[end - 1] == ' ')
            end--;
        const char *eq = memchr(p, '=', end);
        if (!eq || eq == p || o->rules.n_required == MAX_REQUIRED) {
            snprintf(err, err_len,
                     "required_claims: \"%.*s\" is not CLAIM=VALUE (at most "
                     "%d of them)",
                     (int)end, p, MAX_REQUIRED);
            return -1;
        }
        struct fg_oidc_required *r = &o->required[o->rules.n_required++];
        r->claim = strndup(p, (size_t)(eq - p));
        r->value = strndup(eq + 1, end - (size_t)(eq + 1 - p));
        if (!r->claim || !r->value) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        p += len + (p[len] == ',');
    }
    return 0;
}

static void instance_free(void *instance)
{
    struct oidc *o = instance;
    fg_oidc_jwks_free(&o->keys);
    for (size_t i = 0; i < o->rules.n_required; i++) {
        free(o->required[i].claim);
        free(o->required[i].value);
    }
    free(o->issuer_prefix);
    free(o->jwks_path);
    free(o);
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    struct oidc *o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    o->host = host;
    struct fg_oidc_rules *r = &o->rules;
    r->issuer = s->get(s, "issuer_url");
    r->client_id = s->get(s, "client_id");
    r->username_claim = s->get(s, "username_claim");
    r->groups_claim = s->get(s, "groups_claim");
    r->groups_prefix = s->get(s, "groups_prefix");
    r->required = o->required;
    r->skew_seconds = s->get_int(s, "clock_skew", 0) / 1000;
    o->limits.max_token_bytes = (size_t)s->get_int(s, "max_token_bytes", 0);
    o->limits.max_json_depth = (int)s->get_int(s, "max_json_depth", 0);
    /* kube-apiserver: no prefix given means ISSUER# for claims other than
     * email; "-" means none. */
    const char *prefix = s->get(s, "username_prefix");
    if (prefix && strcmp(prefix, "-") == 0) {
        r->username_prefix = NULL;
    } else if (prefix) {
        r->username_prefix = prefix;
    } else if (strcmp(r->username_claim, "email") != 0) {
        size_t n = strlen(r->issuer) + 2;
        if ((o->issuer_prefix = malloc(n)))
            snprintf(o->issuer_prefix, n, "%s#", r->issuer);
        r->username_prefix = o->issuer_prefix;
    }
    o->jwks_path = strdup(s->get(s, "jwks_file"));
    const char *required = s->get(s, "required_claims");
    if (strncmp(r->issuer, "https://", 8) != 0 || !r->issuer[8])
        snprintf(err, err_len, "issuer_url: \"%s\" is not an https:// URL",
                 r->issuer);
    else if (!o->jwks_path ||
             (!prefix && strcmp(r->username_claim, "email") != 0 &&
              !o->issuer_prefix))
        snprintf(err, err_len, "out of memory");
    else if ((!required || parse_required(o, required, err, err_len) == 0) &&
             fg_oidc_jwks_load(o->jwks_path, &o->keys, err, err_len) == 0)
        return o;
    instance_free(o);
    return NULL;
}

static void reload(void *instance)
{
    struct oidc *o = instance;
    struct fg_oidc_jwks keys;
    char err[512];
    if (fg_oidc_jwks_load(o->jwks_path, &keys, err, sizeof(err)) != 0) {
        o->host->log(o->host, FG_LOG_ERROR,
                     "%s; the keys read before stay in use", err);
        return;
    }
    fg_oidc_jwks_free(&o->keys);
    o->keys = keys;
}

static enum fg_verdict deny(struct fg_policy_call *c, const char *why)
{
    char msg[600];
    snprintf(msg, sizeof(msg), "oidc: %s", why);
    c->set_denial(c, 401, "Unauthorized", msg);
    return FG_DENY;
}

static enum fg_verdict authenticate(void *instance, struct fg_policy_call *c)
{
    struct oidc *o = instance;
    const char *token = NULL;
    size_t len = 0;
    int found =
        fg_bearer_token(c->req->headers, c->req->n_headers, &token, &len);
    if (found < 0)
        return deny(c, "more than one Authorization header");
    struct fg_oidc_jwt jwt;
    if (found == 0 || fg_oidc_jwt_decode(token, len, &o->limits, &jwt) != 0)
        return FG_NO_OPINION;
    if (!fg_oidc_claims_issuer_is(&o->rules, jwt.claims)) {
        fg_oidc_jwt_free(&jwt);
        return FG_NO_OPINION;
    }
    char err[512];
    struct fg_oidc_user user = {0};
    enum fg_verdict v = FG_DENY;
    if (fg_oidc_jwt_verify(&jwt, &o->keys, err, sizeof(err)) != 0 ||
        fg_oidc_claims_map(&o->rules, jwt.claims, time(NULL), &user, err,
                           sizeof(err)) != 0) {
        v = deny(c, err);
    } else {
        struct fg_identity id = {
            .user = user.name,
            .groups = (const char *const *)user.groups,
            .n_groups = user.n_groups,
        };
        v = c->set_identity(c, &id) == 0 ? FG_ALLOW
                                         : deny(c, "cannot keep the identity");
    }
    fg_oidc_user_free(&user);
    fg_oidc_jwt_free(&jwt);
    return v;
}

/* Never pending: nothing to drop. */
static void cancel(void *instance, struct fg_policy_call *c)
{
    (void)instance;
    (void)c;
}

static const struct fg_policy_ops ops = {
    .struct_size = sizeof(struct fg_policy_ops),
    .phases = FG_PHASE_AUTHENTICATE,
    .instance_new = instance_new,
    .instance_free = instance_free,
    .authenticate = authenticate,
    .cancel = cancel,
    .reload = reload,
};

static const struct fg_config_key keys[] = {
    {"issuer_url", FG_CONFIG_STRING, NULL, 1, 0, 0,
     "the iss of accepted tokens, an https:// URL (--oidc-issuer-url)"},
    {"client_id", FG_CONFIG_STRING, NULL, 1, 0, 0,
     "the audience tokens must name (--oidc-client-id)"},
    {"jwks_file", FG_CONFIG_FILE, NULL, 1, 0, 0,
     "the issuer's JWK Set (its jwks_uri document); re-read on SIGHUP"},
    {"username_claim", FG_CONFIG_STRING, "sub", 0, 0, 0,
     "the claim the user name is read from (--oidc-username-claim)"},
    {"username_prefix", FG_CONFIG_STRING, NULL, 0, 0, 0,
     "put before user names; default ISSUER# unless the claim is email; "
     "- for none (--oidc-username-prefix)"},
    {"groups_claim", FG_CONFIG_STRING, NULL, 0, 0, 0,
     "the claim (string or array of strings) groups are read from"},
    {"groups_prefix", FG_CONFIG_STRING, NULL, 0, 0, 0,
     "put before every group name (--oidc-groups-prefix)"},
    {"required_claims", FG_CONFIG_STRING, NULL, 0, 0, 0,
     "CLAIM=VALUE, ...: string claims a token must carry "
     "(--oidc-required-claim)"},
    {"clock_skew", FG_CONFIG_DURATION, "30s", 0, 0, 600000,
     "leeway on the exp and nbf claims"},
    {"max_token_bytes", FG_CONFIG_INT, "16384", 0, 256, 65536,
     "longer bearer tokens are not looked at"},
    {"max_json_depth", FG_CONFIG_INT, "16", 0, 2, 64,
     "deeper nested token headers and claims are not looked at"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_POLICY,
    .name = "authn_oidc",
    .version = "1.0.0",
    .description = "authenticates OpenID Connect ID tokens (RS256, ES256) "
                   "against a JWKS file",
    .config_keys = keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
