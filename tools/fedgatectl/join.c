/* Joining and removing direct members (join.h). A join asks the member's
 * /version with the credentials given before anything is written, so a
 * wrong CA, a wrong token or an unreachable server is refused with the
 * reason and leaves nothing behind; then it copies the credentials to
 * conf.d/members/NAME/ (0600) and writes conf.d/members/NAME.ini
 * atomically, makes the gateway reload, and waits for the Cluster to
 * show on the host's API; a reload that did not take it is undone. An
 * unjoin removes what a join wrote, also when the member's cluster is
 * gone. */
#include "join.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>
#include <openssl/crypto.h>

#include "client/ask.h"
#include "base/fsutil.h"
#include "clusters.h"
#include "config/config.h"
#include "config/labels.h"
#include "fleet/join.h"
#include "reload.h"

#define MAX_LABELS 32
#define CLUSTER_PATH "/apis/cluster.kubesphere.io/v1alpha1/clusters/"
/* how long the reload has to show the change on the host's API */
#define CONFIRM_MS 20000

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fedgatectl join NAME --direct --server URL --ca-file F\n"
            "                       (--token-file F | --client-cert F "
            "--client-key F)\n"
            "                       [--label KEY=VALUE]... [--provider P] "
            "[-c DIR]\n"
            "       fedgatectl join NAME --agent [--host URL] [--label "
            "KEY=VALUE]... [-c DIR]\n"
            "       fedgatectl unjoin NAME [-c DIR]\n"
            "\n"
            "join asks the member's /version with these credentials; only "
            "when it answers\n"
            "are they copied to DIR/members/NAME/ and DIR/members/NAME.ini "
            "written, the\n"
            "gateway reloaded and the Cluster awaited on its API. unjoin "
            "removes what join\n"
            "wrote and reloads. join --agent makes the member's agent "
            "token, reloads and\n"
            "prints the fedgate-agent command and the ConfigMap and Secret "
            "of\n"
            "packaging/kubernetes/agent for the member (--host: the "
            "[tunnel] listener as\n"
            "agents reach it).\n"
            "  -c, --config DIR   the gateway's configuration (default "
            "conf.d)\n"
            "Exit status: 0 done; 1 refused (the member's or the gateway's "
            "reason is\n"
            "printed, nothing is left written); 2 bad arguments; 3 the "
            "gateway could not\n"
            "be reached to confirm.\n");
}

struct join_opts {
    const char *name, *server, *ca, *token, *cert, *key, *provider, *config;
    const char *host; /* --agent: the tunnel listener as agents reach it */
    const char *labels[MAX_LABELS];
    size_t n_labels;
    int direct, agent;
};

static int parse(int argc, char **argv, struct join_opts *o, int join)
{
    static const struct option longopts[] = {
        {"direct", no_argument, NULL, 'd'},
        {"agent", no_argument, NULL, 'A'},
        {"host", required_argument, NULL, 'H'},
        {"server", required_argument, NULL, 's'},
        {"ca-file", required_argument, NULL, 'a'},
        {"token-file", required_argument, NULL, 't'},
        {"client-cert", required_argument, NULL, 'C'},
        {"client-key", required_argument, NULL, 'K'},
        {"label", required_argument, NULL, 'l'},
        {"provider", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->config = "conf.d";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (!join && c != 'c' && c != 'h')
            c = '?';
        switch (c) {
        case 'd':
            o->direct = 1;
            break;
        case 'A':
            o->agent = 1;
            break;
        case 'H':
            o->host = optarg;
            break;
        case 's':
            o->server = optarg;
            break;
        case 'a':
            o->ca = optarg;
            break;
        case 't':
            o->token = optarg;
            break;
        case 'C':
            o->cert = optarg;
            break;
        case 'K':
            o->key = optarg;
            break;
        case 'p':
            o->provider = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'l':
            if (o->n_labels == MAX_LABELS) {
                fprintf(stderr, "fedgatectl: at most %d labels\n", MAX_LABELS);
                return -1;
            }
            o->labels[o->n_labels++] = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "fedgatectl: %s needs one NAME\n",
                join ? "join" : "unjoin");
        return -1;
    }
    o->name = argv[optind];
    if (!fg_is_dns1123_label(o->name, strlen(o->name))) {
        fprintf(stderr,
                "fedgatectl: \"%s\" is not a member name (a DNS-1123 label: "
                "[a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63)\n",
                o->name);
        return -1;
    }
    if (!join)
        return 0;
    const char *why =
        o->direct == o->agent   ? "give --direct or --agent"
        : o->agent              ? (o->server || o->ca || o->token || o->cert
                                       ? "--agent takes no --server or credentials: the "
                                         "agent dials in"
                                       : NULL)
        : !o->server || !o->ca  ? "--server and --ca-file are required"
        : !o->token == !o->cert ? "give --token-file or --client-cert"
        : !o->cert != !o->key   ? "--client-cert and --client-key go together"
                                : NULL;
    if (strncmp(o->server ? o->server : "https://", "https://", 8) != 0 ||
        strncmp(o->host ? o->host : "https://", "https://", 8) != 0)
        why = "--server and --host must be https:// URLs";
    if (!why && o->provider &&
        !fg_label_value_ok(o->provider, strlen(o->provider)))
        why = "--provider is not a label value";
    if (why) {
        fprintf(stderr, "fedgatectl: %s\n", why);
        return -1;
    }
    return 0;
}

/* The labels as one member-section value; checked. NULL after saying why.*/
static char *labels_value(const struct join_opts *o)
{
    size_t len = 1;
    for (size_t i = 0; i < o->n_labels; i++)
        len += strlen(o->labels[i]) + 2;
    char *v = calloc(1, len), err[256];
    for (size_t i = 0; v && i < o->n_labels; i++) {
        if (strchr(o->labels[i], ',') || strchr(o->labels[i], '\n')) {
            fprintf(stderr, "fedgatectl: --label %s: one KEY=VALUE\n",
                    o->labels[i]);
            free(v);
            return NULL;
        }
        if (i)
            strcat(v, ", ");
        strcat(v, o->labels[i]);
    }
    if (v && fg_labels_parse(v, NULL, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "fedgatectl: --label: %s\n", err);
        free(v);
        return NULL;
    }
    return v;
}

/* The credentials of O read into J (the token trimmed): 0, or -1 after
 * saying why. */
static int read_credentials(const struct join_opts *o, struct fg_join *j)
{
    struct fg_error err = {{0}};
    char why[512];
    char *ca = NULL, *cert = NULL, *key = NULL;
    if (fg_read_file(o->ca, 1 << 20, &ca, &j->ca_len, NULL, &err) != 0 ||
        (o->cert &&
         (fg_read_file(o->cert, 1 << 20, &cert, &j->cert_len, NULL, &err) !=
              0 ||
          fg_read_file(o->key, 1 << 20, &key, &j->key_len, NULL, &err) != 0))) {
        fprintf(stderr, "fedgatectl: %s\n", err.msg);
    } else if (o->token && !(j->token = fg_secret_read(o->token, "--token-file",
                                                       why, sizeof(why)))) {
        fprintf(stderr, "fedgatectl: %s\n", why);
    }
    j->ca_pem = ca;
    j->cert_pem = cert;
    j->key_pem = key;
    return err.msg[0] || (o->token && !j->token) ? -1 : 0;
}

/* Wipes and frees what read_credentials read. */
static void drop_credentials(struct fg_join *j)
{
    char *p[] = {(char *)j->ca_pem, (char *)j->token, (char *)j->cert_pem,
                 (char *)j->key_pem};
    for (size_t i = 0; i < 4; i++) {
        if (p[i])
            OPENSSL_cleanse(p[i], strlen(p[i]));
        free(p[i]);
    }
}

/* Checks the direct member, then writes its files: 0, or -1 after saying
 * why (nothing written). */
static int join_files(const struct join_opts *o, const char *members,
                      const char *labels)
{
    struct fg_join j = {.name = o->name,
                        .kind = o->agent  ? FG_JOIN_AGENT
                                : o->cert ? FG_JOIN_CERT
                                          : FG_JOIN_TOKEN,
                        .server = o->server,
                        .labels = labels,
                        .provider = o->provider,
                        .writer = "fedgatectl join"};
    struct fg_error err = {{0}};
    char version[64];
    int rc = -1;
    if (!o->agent && read_credentials(o, &j) != 0) {
        drop_credentials(&j);
        return -1;
    }
    if (!o->agent &&
        fg_join_check(&j, 10000, version, sizeof(version), &err) != 0)
        fprintf(stderr, "fedgatectl: refused: %s\n", err.msg);
    else if ((rc = fg_join_write(members, &j, &err)) != 0)
        fprintf(stderr, "fedgatectl: %s\n", err.msg);
    else if (!o->agent)
        fprintf(stderr,
                "fedgatectl: member \"%s\" answers (%s); written to "
                "%s/%s.ini\n",
                o->name, version, members, o->name);
    drop_credentials(&j);
    return rc;
}

static int reload(const char *config)
{
    char *argv[] = {"reload", "-c", (char *)config, NULL};
    return fg_ctl_reload_to(3, argv, stderr);
}

/* Waits until the host's API has the Cluster NAME (WANT 1) or has it no
 * more (WANT 0). Returns 0, 1 when it did not come to that in time, or
 * the exit code of a gateway that cannot be asked. */
static int await_cluster(const struct fg_config *cfg, const char *name,
                         int want)
{
    char *kubeconfig = fg_path_join(cfg->state_dir, "admin.kubeconfig");
    char target[160];
    snprintf(target, sizeof(target), CLUSTER_PATH "%s", name);
    int rc = 1;
    for (int waited = 0; kubeconfig && waited < CONFIRM_MS; waited += 200) {
        struct fg_ask_answer a;
        int asked = fg_ctl_fleet_get(kubeconfig, NULL, target, NULL, &a);
        if (asked != FG_CTL_EXIT_OK) {
            rc = asked;
            break;
        }
        int there = a.status == 200;
        fg_ask_answer_free(&a);
        if (there == want) {
            rc = 0;
            break;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    free(kubeconfig);
    return rc;
}

static struct fg_config *load(const char *dir)
{
    struct fg_diag diag = {0};
    struct fg_config *cfg = fg_config_load(dir, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.lines[i]);
    fg_diag_free(&diag);
    return cfg;
}

static const struct fg_config_section *member_of(const struct fg_config *cfg,
                                                 const char *name)
{
    for (size_t i = 0; i < cfg->n_members; i++)
        if (strcmp(cfg->members[i].name, name) == 0)
            return &cfg->members[i];
    return NULL;
}

/* The URL agents dial: --host, else [tunnel] listen when it names an
 * address others can reach. -1 after saying why. */
static int agent_host(const struct join_opts *o, const struct fg_config *cfg,
                      char *out, size_t len)
{
    const char *listen =
        cfg->tunnel ? fg_config_get(cfg->tunnel, "listen") : NULL;
    if (!listen) {
        fprintf(stderr, "fedgatectl: refused: the gateway has no [tunnel] "
                        "listen for agents to dial\n");
        return -1;
    }
    if (o->host) {
        snprintf(out, len, "%s", o->host);
        return 0;
    }
    if (strncmp(listen, "0.0.0.0:", 8) == 0 ||
        strncmp(listen, "[::]:", 5) == 0 ||
        strstr(listen, ":0") == listen + strlen(listen) - 2) {
        fprintf(stderr,
                "fedgatectl: [tunnel] listen = %s names no address an agent "
                "can dial: give --host https://NAME:PORT\n",
                listen);
        return -1;
    }
    snprintf(out, len, "https://%s", listen);
    return 0;
}

/* What to run in the member: the fedgate-agent command, and the
 * ConfigMap and Secret packaging/kubernetes/agent's Deployment reads. */
static int agent_instructions(const struct join_opts *o,
                              const struct fg_config *cfg, const char *members,
                              const char *host)
{
    char token[PATH_MAX], ca[PATH_MAX], *t = NULL, *c = NULL;
    size_t tl = 0, cl = 0;
    struct fg_error err = {{0}};
    if (fg_path_format(token, "%s/%s/agent.token", members, o->name) != 0 ||
        fg_path_format(ca, "%s/ca.crt", cfg->state_dir) != 0 ||
        fg_read_file(token, 4096, &t, &tl, NULL, &err) != 0 ||
        fg_read_file(ca, 1 << 20, &c, &cl, NULL, &err) != 0) {
        fprintf(stderr, "fedgatectl: %s\n", err.msg);
        free(t);
        return FG_CTL_EXIT_REFUSED;
    }
    char *t64 = fg_base64_encode_alloc(t, tl, 0);
    char *c64 = fg_base64_encode_alloc(c, cl, 0);
    printf("# In the member, either run (with the token and CA copied "
           "there):\n"
           "#   fedgate-agent --host %s --name %s --token-file %s "
           "--host-ca-file %s --state-dir /var/lib/fedgate-agent\n"
           "# or: kubectl apply -k packaging/kubernetes/agent, then apply "
           "this manifest\n"
           "# and kubectl -n fedgate-agent rollout restart "
           "deploy/fedgate-agent\n"
           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
           "  name: fedgate-agent\n  namespace: fedgate-agent\n"
           "  labels: {app.kubernetes.io/name: fedgate-agent, "
           "app.kubernetes.io/part-of: fedgate}\n"
           "data:\n  host: %s\n  member: %s\n---\n"
           "apiVersion: v1\nkind: Secret\nmetadata:\n"
           "  name: fedgate-agent\n  namespace: fedgate-agent\n"
           "  labels: {app.kubernetes.io/name: fedgate-agent, "
           "app.kubernetes.io/part-of: fedgate}\n"
           "type: Opaque\ndata:\n  token: %s\n  host-ca.crt: %s\n",
           host, o->name, token, ca, host, o->name, t64 ? t64 : "",
           c64 ? c64 : "");
    OPENSSL_cleanse(t, tl);
    free(t);
    free(c);
    if (t64)
        OPENSSL_cleanse(t64, strlen(t64));
    free(t64);
    free(c64);
    return FG_CTL_EXIT_OK;
}

int fg_ctl_join(int argc, char **argv)
{
    struct join_opts o = {0};
    int p = parse(argc, argv, &o, 1);
    if (p != 0)
        return p > 0 ? FG_CTL_EXIT_OK : FG_CTL_EXIT_USAGE;
    char *labels = labels_value(&o);
    struct fg_config *cfg = labels ? load(o.config) : NULL;
    if (!cfg) {
        free(labels);
        return FG_CTL_EXIT_USAGE;
    }
    const struct fg_config_section *taken = member_of(cfg, o.name);
    char members[PATH_MAX], host[300];
    int rc = FG_CTL_EXIT_REFUSED;
    if (fg_join_members_dir(cfg, members) != 0)
        fprintf(stderr, "fedgatectl: %s: the path is too long\n", cfg->dir);
    else if (taken)
        fprintf(stderr,
                "fedgatectl: refused: %s:%d already declares member \"%s\"\n",
                taken->file, taken->line, o.name);
    else if (o.agent && agent_host(&o, cfg, host, sizeof(host)) != 0)
        ;
    else if (join_files(&o, members, labels) == 0) {
        int r = reload(o.config);
        rc = r == 0 ? await_cluster(cfg, o.name, 1) : FG_CTL_EXIT_REFUSED;
        if (rc == 0 && o.agent)
            rc = agent_instructions(&o, cfg, members, host);
        if (rc == 0) {
            fprintf(stderr,
                    "fedgatectl: joined \"%s\": kubectl --context %s get "
                    "clusters\n",
                    o.name, "fedgate.fleet");
        } else {
            fprintf(stderr,
                    "fedgatectl: the gateway did not take member \"%s\" "
                    "(its log and /readyz?verbose say why): removed "
                    "again\n",
                    o.name);
            fg_join_remove(members, o.name);
            if (r == 0)
                reload(o.config);
            if (rc == 0)
                rc = FG_CTL_EXIT_REFUSED;
        }
    }
    fg_config_free(cfg);
    free(labels);
    return rc;
}

int fg_ctl_unjoin(int argc, char **argv)
{
    struct join_opts o = {0};
    int p = parse(argc, argv, &o, 0);
    if (p != 0)
        return p > 0 ? FG_CTL_EXIT_OK : FG_CTL_EXIT_USAGE;
    struct fg_config *cfg = load(o.config);
    if (!cfg)
        return FG_CTL_EXIT_USAGE;
    const struct fg_config_section *s = member_of(cfg, o.name);
    char members[PATH_MAX];
    int fits = fg_join_members_dir(cfg, members) == 0;
    int rc = FG_CTL_EXIT_REFUSED;
    if (!s)
        fprintf(stderr, "fedgatectl: no member \"%s\" in %s\n", o.name,
                cfg->dir);
    else if (!fits || !fg_join_owns(members, s))
        fprintf(stderr,
                "fedgatectl: member \"%s\" is declared in %s:%d, not by "
                "a join: remove it there\n",
                o.name, s->file, s->line);
    else {
        fg_join_remove(members, o.name);
        rc = reload(o.config) == 0 ? await_cluster(cfg, o.name, 0)
                                   : FG_CTL_EXIT_REFUSED;
        if (rc == 0)
            fprintf(stderr, "fedgatectl: removed \"%s\"\n", o.name);
    }
    fg_config_free(cfg);
    return rc;
}
