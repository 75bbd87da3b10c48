/* fedgatectl's configuration check: see setup_check.h. Warnings, not
 * errors: an operator may issue credentials before changing the
 * configuration, and is told what to change. */
#include "setup_check.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/fsutil.h"
#include "config/ini_values.h"

__attribute__((format(printf, 1, 2))) static void warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fedgatectl: warning: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Whether the PEM file BUNDLE holds the certificate CA. */
static int bundle_holds(const char *bundle, const X509 *ca)
{
    FILE *f = bundle ? fopen(bundle, "re") : NULL;
    int found = 0;
    X509 *x;
    while (f && !found && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
        found = X509_cmp(x, ca) == 0;
        X509_free(x);
    }
    if (f)
        fclose(f);
    ERR_clear_error();
    return found;
}

static X509 *read_ca(const char *path)
{
    FILE *f = fopen(path, "re");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    ERR_clear_error();
    return x;
}

/* The chain's [plugin] section that is plugin NAME, or NULL. */
static const struct fg_config_section *chain_plugin(const struct fg_config *cfg,
                                                    const char *name)
{
    for (size_t i = 0; i < cfg->n_chain; i++) {
        const struct fg_config_section *s = cfg->chain[i];
        const char *plugin = fg_config_get(s, "plugin");
        if (strcmp(plugin ? plugin : s->name, name) == 0)
            return s;
    }
    return NULL;
}

/* KEY of S as an absolute path (plugin keys are resolved against the
 * configuration directory when the gateway checks them), malloc'd. */
static char *section_path(const struct fg_config *cfg,
                          const struct fg_config_section *s, const char *key)
{
    const char *v = fg_config_get(s, key);
    return v ? fg_ini_path_join(cfg->dir, v) : NULL;
}

static int same_file(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    return a && b && realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

static int check_ca(const struct fg_config *cfg, const char *ca_file)
{
    X509 *ca = read_ca(ca_file);
    int problems = 0;
    if (!ca) {
        warn("%s holds no certificate", ca_file);
        return 1;
    }
    if (!cfg->client_ca_file) {
        warn("[tls] client_ca_file is not set, so the gateway asks for no "
             "client certificate: set it to %s",
             ca_file);
        problems++;
    } else if (!bundle_holds(cfg->client_ca_file, ca)) {
        warn("[tls] client_ca_file (%s) does not hold the CA %s",
             cfg->client_ca_file, ca_file);
        problems++;
    }
    const struct fg_config_section *s = chain_plugin(cfg, "authn_x509");
    char *plugin_ca = s ? section_path(cfg, s, "client_ca_file") : NULL;
    if (!s) {
        warn("no authn_x509 plugin in the [policy] chain: add one with "
             "client_ca_file = %s",
             ca_file);
        problems++;
    } else if (!bundle_holds(plugin_ca, ca)) {
        warn("the authn_x509 plugin's client_ca_file (%s) does not hold the "
             "CA %s",
             plugin_ca ? plugin_ca : "unset", ca_file);
        problems++;
    }
    free(plugin_ca);
    X509_free(ca);
    return problems;
}

static int check_token_file(const struct fg_config *cfg, const char *token_file)
{
    for (size_t i = 0; i < cfg->n_chain; i++) {
        char *p = section_path(cfg, cfg->chain[i], "token_file");
        int same = same_file(p, token_file);
        free(p);
        if (same)
            return 0;
    }
    warn("no plugin of the [policy] chain reads %s: add an authn_token "
         "plugin with token_file = %s",
         token_file, token_file);
    return 1;
}

int fg_ctl_check_setup(const struct fg_config *cfg, const char *ca_file,
                       const char *token_file)
{
    return ca_file ? check_ca(cfg, ca_file) : check_token_file(cfg, token_file);
}

char *fg_ctl_admin_token_file(const struct fg_config *cfg)
{
    const struct fg_config_section *s = chain_plugin(cfg, "admin_token");
    if (!s)
        return NULL;
    return fg_config_get(s, "token_file")
               ? section_path(cfg, s, "token_file")
               : fg_path_join(cfg->state_dir, "admin.token");
}
