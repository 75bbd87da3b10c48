/* fedgatectl: the operator's tool beside the gateway. `fedgatectl
 * kubeconfig` hands a user a kubeconfig for the members of the
 * configuration, with either a client certificate signed by the gateway's
 * CA (state_dir/ca.key: run it as the gateway's user) or a new bearer
 * token appended to an authn_token file (the gateway reads it on SIGHUP).
 * The gateway's authorizers decide at request time; the contexts are for
 * convenience: with --server, the running gateway is asked first (reach.h)
 * and only members where the user may do more than every user may get a
 * context, defaulting to the user's namespace when there is one; without
 * it, every member gets one. `fedgatectl reload` makes the running gateway
 * read its configuration again. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "base/fsutil.h"
#include "config/certs.h"
#include "config/config.h"
#include "config/ini_values.h"
#include "config/kubeconfig.h"
#include "clusters.h"
#include "join.h"
#include "reach.h"
#include "reload.h"
#include "setup_check.h"
#include "token_line.h"

#define MAX_GROUPS 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fedgatectl kubeconfig --user USER [--group GROUP]... "
            "[--ttl 24h]\n"
            "                  [--config DIR] [--server URL] [--server-ca "
            "FILE] [--token-file FILE]\n"
            "       fedgatectl reload [-c DIR] [--state-dir DIR] [--pid PID]\n"
            "       fedgatectl clusters [-o json|yaml|wide] [--kubeconfig "
            "FILE] [--context NAME]\n"
            "       fedgatectl join NAME --direct --server URL --ca-file F "
            "(--token-file F |\n"
            "                       --client-cert F --client-key F) "
            "[--label K=V]... [-c DIR]\n"
            "       fedgatectl unjoin NAME [-c DIR]\n"
            "\n"
            "Prints a kubeconfig with one context per member of the "
            "configuration; with\n"
            "--server, only for the members where the user may do more "
            "than every user\n"
            "may (the running gateway is asked, as its admin).\n"
            "  --user USER        the user name (certificate CN)\n"
            "  --group GROUP      a group (certificate O); repeat for more\n"
            "  --ttl DURATION     the certificate's lifetime (default 24h; "
            "s, m, h)\n"
            "  -c, --config DIR   the gateway's configuration (default "
            "conf.d)\n"
            "  --server URL       the gateway as users reach it (default: "
            "from [gateway] listen);\n"
            "                     given, the gateway there is asked which "
            "members to list\n"
            "  --server-ca FILE   the CA of the gateway's serving "
            "certificate (default:\n"
            "                     state_dir/ca.crt; needed with [tls] "
            "cert_file)\n"
            "  --token-file FILE  a bearer token appended to this "
            "authn_token file instead\n"
            "                     of a certificate; then send the gateway "
            "SIGHUP\n");
}

struct options {
    const char *user, *config, *server, *server_ca, *token_file;
    const char *groups[MAX_GROUPS];
    size_t n_groups;
    long ttl_seconds;
};

static int parse(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"user", required_argument, NULL, 'u'},
        {"group", required_argument, NULL, 'g'},
        {"ttl", required_argument, NULL, 't'},
        {"config", required_argument, NULL, 'c'},
        {"server", required_argument, NULL, 's'},
        {"server-ca", required_argument, NULL, 'a'},
        {"token-file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* At least a minute, at most a year: a certificate cannot be revoked,
     * so its lifetime is the only bound on a leaked one. */
    static const struct fg_config_key ttl_key = {
        "ttl", FG_CONFIG_DURATION,       NULL, 0,
        60000, 366LL * 24 * 3600 * 1000, NULL};
    char *ms = NULL, err[256];
    int c;
    o->config = "conf.d";
    o->ttl_seconds = 24 * 3600;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            o->user = optarg;
            break;
        case 'g':
            if (o->n_groups == MAX_GROUPS) {
                fprintf(stderr, "fedgatectl: at most %d groups\n", MAX_GROUPS);
                return -1;
            }
            o->groups[o->n_groups++] = optarg;
            break;
        case 't':
            if (fg_ini_value_check(&ttl_key, ".", optarg, &ms, err,
                                   sizeof(err)) != 0) {
                fprintf(stderr, "fedgatectl: --%s\n", err);
                return -1;
            }
            o->ttl_seconds = strtol(ms, NULL, 10) / 1000;
            free(ms);
            break;
        case 'c':
            o->config = optarg;
            break;
        case 's':
            o->server = optarg;
            break;
        case 'a':
            o->server_ca = optarg;
            break;
        case 'f':
            o->token_file = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -1;
    }
    if (!fg_ctl_name_ok(o->user, 0)) {
        fprintf(stderr, "fedgatectl: --user must be a name without control "
                        "characters\n");
        return -1;
    }
    for (size_t i = 0; i < o->n_groups; i++) {
        if (!fg_ctl_name_ok(o->groups[i], 1)) {
            fprintf(stderr,
                    "fedgatectl: --group \"%s\" must be a name without "
                    "commas or control characters\n",
                    o->groups[i]);
            return -1;
        }
    }
    return 0;
}

/* https://HOST:PORT from [gateway] listen; a wildcard address is no name
 * a client can use, so the local host stands in (and a warning says so). */
static char *default_server(const struct fg_config *cfg)
{
    const char *host = cfg->listen_host;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
        fprintf(stderr, "fedgatectl: warning: [gateway] listen is a wildcard "
                        "address; the kubeconfig names localhost (use "
                        "--server)\n");
        host = "localhost";
    }
    int v6 = strchr(host, ':') != NULL;
    size_t n = strlen(host) + 32;
    char *url = malloc(n);
    if (url)
        snprintf(url, n, "https://%s%s%s:%u", v6 ? "[" : "", host,
                 v6 ? "]" : "", (unsigned)cfg->listen_port);
    return url;
}

/* The admin's token, for asking the gateway (wiped by the caller). */
static int admin_token(const struct fg_config *cfg, char **out,
                       struct fg_error *err)
{
    char *path = fg_ctl_admin_token_file(cfg);
    size_t len;
    if (!path)
        return fg_error_set(err, "--server asks the gateway as its admin, "
                                 "but the [policy] chain has no admin_token "
                                 "plugin");
    int rc = fg_read_file(path, 4096, out, &len, NULL, err);
    free(path);
    while (rc == 0 && len > 0 &&
           ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r'))
        (*out)[--len] = '\0';
    return rc;
}

/* With --server: keeps in MEMBERS (N of them, compacted) those where O's
 * user may do more than every user may, and sets NAMESPACES beside them.
 * A member that cannot be asked keeps its context, and a warning says so.
 * Returns how many are kept, or -1. */
static int keep_reached(const struct options *o, const char *ca_file,
                        const char *token, const char **members,
                        char **namespaces, size_t n)
{
    struct fg_ask_server gw = {.server = o->server,
                               .ca_file = ca_file,
                               .token = token,
                               .timeout_ms = 10000};
    struct fg_ctl_identity id = {o->user, o->groups, o->n_groups};
    size_t kept = 0;
    /* A gateway that closes a connection is an error to report, not a
     * signal that ends the tool. */
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < n; i++) {
        struct fg_error err = {{0}};
        char *ns = NULL;
        int rc = fg_ctl_reach(&gw, &id, members[i], &ns, &err);
        if (rc < 0)
            fprintf(stderr, "fedgatectl: warning: %s; its context is kept\n",
                    err.msg);
        if (rc != 0) {
            members[kept] = members[i];
            namespaces[kept++] = ns;
        }
    }
    if (kept == 0)
        fprintf(stderr,
                "fedgatectl: warning: %s may do nothing beyond discovery on "
                "any member: the kubeconfig has no context\n",
                o->user);
    return (int)kept;
}

static int kubeconfig(const struct options *o, const struct fg_config *cfg)
{
    struct fg_error err = {{0}};
    char *ca_file = fg_path_join(cfg->state_dir, "ca.crt");
    char *server = o->server ? strdup(o->server) : default_server(cfg);
    const char **members = calloc(cfg->n_members + 1, sizeof(*members));
    char **namespaces = calloc(cfg->n_members + 1, sizeof(*namespaces));
    char token[65] = "";
    char *cert = NULL, *key = NULL, *text = NULL, *admin = NULL;
    /* the host's own API (fleet.h) lists only the clusters the user may
     * see, so every user of a host gets its context */
    struct fg_kubeconfig_user user = {.name = o->user,
                                      .fleet = cfg->role == FG_ROLE_HOST};
    size_t n_members = cfg->n_members;
    if (!ca_file || !server || !members || !namespaces) {
        fprintf(stderr, "fedgatectl: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < cfg->n_members; i++)
        members[i] = cfg->members[i].name;
    if (o->server) {
        int kept = admin_token(cfg, &admin, &err) == 0
                       ? keep_reached(o, o->server_ca ? o->server_ca : ca_file,
                                      admin, members, namespaces, n_members)
                       : -1;
        if (kept < 0)
            goto done;
        n_members = (size_t)kept;
        user.namespaces = (const char *const *)namespaces;
    }
    if (cfg->cert_file && !o->server_ca)
        fprintf(stderr,
                "fedgatectl: warning: [tls] cert_file is set: the "
                "kubeconfig pins %s, which is not its CA (use --server-ca)\n",
                ca_file);
    if (o->token_file) {
        fg_ctl_check_setup(cfg, NULL, o->token_file);
        if (fg_ctl_token_append(o->token_file, o->user, o->groups, o->n_groups,
                                token, &err) != 0)
            goto done;
        user.token = token;
    } else {
        fg_ctl_check_setup(cfg, ca_file, NULL);
        if (fg_certs_issue_client(cfg->state_dir, o->user, o->groups,
                                  o->n_groups, o->ttl_seconds, time(NULL),
                                  &cert, &key, &err) != 0)
            goto done;
        user.client_cert_pem = cert;
        user.client_key_pem = key;
    }
    /* the context for every member at once, when there are several */
    user.all_context = n_members > 1;
    text = fg_kubeconfig_text("kubeconfig", server,
                              o->server_ca ? o->server_ca : ca_file, &user,
                              members, n_members, NULL, &err);
    if (text && fputs(text, stdout) >= 0 && fflush(stdout) == 0 &&
        o->token_file)
        fprintf(stderr,
                "fedgatectl: added a token for %s to %s; send the gateway "
                "SIGHUP (systemctl reload fedgate) so that it reads it\n",
                o->user, o->token_file);
done:
    if (err.msg[0])
        fprintf(stderr, "fedgatectl: %s\n", err.msg);
    int ok = text != NULL && !ferror(stdout);
    if (text) {
        OPENSSL_cleanse(text, strlen(text));
        free(text);
    }
    if (key) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
    OPENSSL_cleanse(token, sizeof(token));
    if (admin) {
        OPENSSL_cleanse(admin, strlen(admin));
        free(admin);
    }
    for (size_t i = 0; namespaces && i < cfg->n_members; i++)
        free(namespaces[i]);
    free(namespaces);
    free(cert);
    free(members);
    free(server);
    free(ca_file);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "reload") == 0)
        return fg_ctl_reload(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "clusters") == 0)
        return fg_ctl_clusters(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "join") == 0)
        return fg_ctl_join(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "unjoin") == 0)
        return fg_ctl_unjoin(argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "kubeconfig") != 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                             strcmp(argv[1], "-h") == 0)
                   ? 0
                   : 2;
    }
    struct options o = {0};
    if (parse(argc - 1, argv + 1, &o) != 0)
        return 2;
    struct fg_diag diag = {0};
    struct fg_config *cfg = fg_config_load(o.config, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.lines[i]);
    fg_diag_free(&diag);
    if (!cfg)
        return 1;
    int rc = kubeconfig(&o, cfg);
    fg_config_free(cfg);
    return rc;
}
