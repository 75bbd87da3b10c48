/* authn_token: kube-apiserver's static token authentication. A request
 * whose one Authorization header is `Bearer TOKEN` (or `Basic` with TOKEN
 * as the password, as Helm sends it), TOKEN being a line of
 * the token file (token_file.c), runs as that line's user, uid and
 * groups. A token the file does not hold, or another scheme, is not this
 * plugin's to judge (no opinion: the next authenticator may know it); two
 * Authorization headers are refused, since another plugin could otherwise
 * accept the one this one did not look at. SIGHUP re-reads the file; a
 * file that does not parse keeps the table read before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/fedgate.h>

#include "token_file.h"

struct authn_token {
    const struct fg_host *host;
    const char *path; /* the section's, valid for the instance's life */
    size_t max_bytes;
    struct token_table *table;
};

static void warn(void *arg, const char *message)
{
    struct authn_token *a = arg;
    a->host->log(a->host, FG_LOG_WARN, "%s", message);
}

/* Reads the file into a new table: 0, or -1 with ERR (A keeps its table). */
static int load(struct authn_token *a, char *err, size_t err_len)
{
    int shared = 0;
    struct token_table *t =
        token_table_load(a->path, a->max_bytes, warn, a, &shared, err, err_len);
    if (!t)
        return -1;
    if (shared)
        a->host->log(a->host, FG_LOG_WARN,
                     "%s: others than its owner may read these tokens "
                     "(chmod 600)",
                     a->path);
    token_table_free(a->table);
    a->table = t;
    return 0;
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    struct authn_token *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    a->host = host;
    a->path = s->get(s, "token_file");
    a->max_bytes = (size_t)s->get_int(s, "max_file_bytes", 0);
    if (load(a, err, err_len) != 0) {
        free(a);
        return NULL;
    }
    return a;
}

static void instance_free(void *instance)
{
    struct authn_token *a = instance;
    token_table_free(a->table);
    free(a);
}

static void reload(void *instance)
{
    struct authn_token *a = instance;
    char err[512];
    if (load(a, err, sizeof(err)) != 0)
        a->host->log(a->host, FG_LOG_ERROR, "%s; the tokens read before stay",
                     err);
}

static enum fg_verdict authenticate(void *instance, struct fg_policy_call *c)
{
    struct authn_token *a = instance;
    const char *token;
    size_t len;
    char basic[FG_BASE64_DECODED_MAX(FG_SECRET_MAX)];
    int found = fg_request_token(c->req->headers, c->req->n_headers, basic,
                                 sizeof basic, &token, &len);
    if (found < 0) {
        c->set_denial(c, 401, "Unauthorized",
                      "more than one Authorization header");
        return FG_DENY;
    }
    const struct fg_identity *id =
        found ? token_table_lookup(a->table, token, len) : NULL;
    if (!id)
        return FG_NO_OPINION;
    return c->set_identity(c, id) == 0 ? FG_ALLOW : FG_DENY;
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
    {"token_file", FG_CONFIG_FILE, NULL, 1, 0, 0,
     "kube-apiserver's --token-auth-file CSV: "
     "token,user,uid,\"group1,group2\""},
    {"max_file_bytes", FG_CONFIG_INT, "4194304", 0, 1, 268435456,
     "the largest token file read"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_POLICY,
    .name = "authn_token",
    .version = "1.0.0",
    .description = "authenticates bearer tokens of a kube-apiserver static "
                   "token file",
    .config_keys = keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
