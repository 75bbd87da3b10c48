/* One validation for --check, the start and a reload (config_validate.h):
 * an operator who ran `fedgate --check` knows what SIGHUP will accept. */
#include "plugin/config_validate.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "net/tls.h"

static const struct fg_config_section *find_section(const struct fg_config *cfg,
                                                    const char *kind)
{
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strcmp(cfg->sections[i].kind, kind) == 0)
            return &cfg->sections[i];
    return NULL;
}

/* Loads the configured certificate and key as a start would. */
static int check_tls(const struct fg_config *cfg, struct fg_diag *diag)
{
    if (!cfg->cert_file)
        return 0;
    struct fg_error err = {{0}};
    SSL_CTX *ctx = fg_tls_server_ctx(cfg->cert_file, cfg->key_file,
                                     cfg->client_ca_file, &err);
    if (ctx) {
        SSL_CTX_free(ctx);
        return 0;
    }
    const struct fg_config_section *tls = find_section(cfg, "tls");
    fg_diag_add(diag, tls ? tls->file : NULL, tls ? tls->line : 0, "%s",
                err.msg);
    return 1;
}

int fg_config_validate(struct fg_config *cfg, const struct fg_plugin_set *set,
                       struct fg_diag *diag)
{
    return check_tls(cfg, diag) + fg_config_check_members(cfg, set, diag) +
           fg_config_check_plugins(cfg, set, diag);
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Where NEXT says KEY of [gateway]: its line, else the section's. */
static void restart_line(const struct fg_config *next, const char *kind,
                         const char *key, struct fg_diag *diag)
{
    const struct fg_config_section *s = find_section(next, kind);
    const char *file = s ? s->file : next->dir;
    int line = s ? (key ? fg_config_line(s, key) : s->line) : 0;
    fg_diag_add(diag, file, line,
                "%s%s%s: changed; a reload cannot apply this, restart the "
                "gateway (the running configuration stays)",
                kind, key ? " " : "", key ? key : "");
}

/* Whether sections of KIND in A and B are the same (or both absent). */
static int same_section(const struct fg_config *a, const struct fg_config *b,
                        const char *kind)
{
    const struct fg_config_section *x = find_section(a, kind);
    const struct fg_config_section *y = find_section(b, kind);
    return x == y || (x && y && fg_config_section_equal(x, y));
}

int fg_config_restart_only(const struct fg_config *running,
                           const struct fg_config *next, struct fg_diag *diag)
{
    const struct {
        const char *key;
        int changed;
    } keys[] = {
        {"role", running->role != next->role},
        {"state_dir", !same(running->state_dir, next->state_dir)},
        {"plugin_dir", !same(running->plugin_dir, next->plugin_dir)},
        {"workers", running->workers != next->workers},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (keys[i].changed) {
            restart_line(next, "gateway", keys[i].key, diag);
            n++;
        }
    if (!same_section(running, next, "tunnel")) {
        restart_line(next, "tunnel", NULL, diag);
        n++;
    }
    return n;
}
