/* authn_x509: the client certificate TLS verified ([tls] client_ca_file
 * makes the gateway ask for one) is verified again against this plugin's
 * own client_ca_file, so that a [tls] CA trusted for other purposes does
 * not name users by itself; then CN is the user and each O a group, as in
 * kube-apiserver. No certificate, or one without a CN: no opinion. A
 * certificate the CA did not sign, or that expired: 401. SIGHUP re-reads
 * the CA file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/fedgate.h>

#include "x509_identity.h"

struct authn_x509 {
    const struct fg_host *host;
    char *ca_path;
    X509_STORE *store;
};

static void instance_free(void *instance)
{
    struct authn_x509 *x = instance;
    X509_STORE_free(x->store);
    free(x->ca_path);
    free(x);
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    struct authn_x509 *x = calloc(1, sizeof(*x));
    if (!x || !(x->ca_path = strdup(s->get(s, "client_ca_file")))) {
        snprintf(err, err_len, "out of memory");
        free(x);
        return NULL;
    }
    x->host = host;
    if (!(x->store = fg_x509_store_load(x->ca_path, err, err_len))) {
        instance_free(x);
        return NULL;
    }
    return x;
}

static void reload(void *instance)
{
    struct authn_x509 *x = instance;
    char err[512];
    X509_STORE *store = fg_x509_store_load(x->ca_path, err, sizeof(err));
    if (!store) {
        x->host->log(x->host, FG_LOG_ERROR,
                     "%s; the CA read before stays in use", err);
        return;
    }
    X509_STORE_free(x->store);
    x->store = store;
}

static enum fg_verdict authenticate(void *instance, struct fg_policy_call *c)
{
    struct authn_x509 *x = instance;
    const struct fg_policy_request *req = c->req;
    if (!req->client_cert_der)
        return FG_NO_OPINION;
    struct fg_x509_user user;
    char err[512];
    int rc = fg_x509_identify(x->store, req->client_cert_der,
                              req->client_cert_len, 0, &user, err, sizeof(err));
    if (rc == 0)
        return FG_NO_OPINION;
    if (rc < 0) {
        c->set_denial(c, 401, "Unauthorized", err);
        return FG_DENY;
    }
    struct fg_identity id = {
        .user = user.name,
        .groups = (const char *const *)user.groups,
        .n_groups = user.n_groups,
    };
    enum fg_verdict v = c->set_identity(c, &id) == 0 ? FG_ALLOW : FG_DENY;
    fg_x509_user_free(&user);
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
    {"client_ca_file", FG_CONFIG_FILE, NULL, 1, 0, 0,
     "the CA (PEM) whose client certificates name users: CN user, O "
     "groups; re-read on SIGHUP"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_POLICY,
    .name = "authn_x509",
    .version = "1.0.0",
    .description = "authenticates client certificates: CN user, O groups",
    .config_keys = keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
