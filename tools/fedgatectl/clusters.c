/* `fedgatectl clusters` (clusters.h). The kubeconfig is --kubeconfig,
 * else the first file of KUBECONFIG, else the gateway's admin one in its
 * state_dir; the context --context, else fedgate.fleet, else the current
 * one (its /clusters/NAME path dropped: the host's API is at the root).
 * Inline credentials and CA are handed to TLS as memory files, never
 * written to disk. */
#include "clusters.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "client/ask.h"
#include "base/fsutil.h"
#include "config/config.h"
#include "kubeconfig_read.h"
#include "print.h"

#define CLUSTERS_PATH "/apis/cluster.kubesphere.io/v1alpha1/clusters"

static void usage(FILE *out)
{
    fprintf(out, "usage: fedgatectl clusters [-o json|yaml|wide] [--kubeconfig "
                 "FILE] [--context NAME]\n"
                 "                           [-c DIR]\n"
                 "\n"
                 "Lists the fleet's clusters as the host gateway serves them "
                 "(kubectl get clusters):\n"
                 "NAME, TYPE, READY, VERSION, AGE; -o wide adds PROVIDER, "
                 "TUNNELS, RTT, LABELS.\n"
                 "  -o, --output FMT   json, yaml or wide (default: a table)\n"
                 "  --kubeconfig FILE  the kubeconfig (default: the first file "
                 "of KUBECONFIG,\n"
                 "                     else state_dir/admin.kubeconfig of the "
                 "configuration)\n"
                 "  --context NAME     its context (default: fedgate.fleet, "
                 "else current-context)\n"
                 "  -c, --config DIR   the gateway's configuration, for the "
                 "default kubeconfig\n"
                 "                     (default conf.d)\n"
                 "Exit status: 0 listed; 1 the gateway refused (its message is "
                 "printed);\n"
                 "2 bad arguments or kubeconfig; 3 the gateway could not be "
                 "reached.\n");
}

struct options {
    const char *output, *kubeconfig, *context, *config;
};

static int parse(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"kubeconfig", required_argument, NULL, 'k'},
        {"context", required_argument, NULL, 'x'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->config = "conf.d";
    int c;
    while ((c = getopt_long(argc, argv, "o:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->output = optarg;
            break;
        case 'k':
            o->kubeconfig = optarg;
            break;
        case 'x':
            o->context = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "fedgatectl clusters: unexpected argument \"%s\"\n",
                argv[optind]);
        return -1;
    }
    if (o->output && strcmp(o->output, "json") != 0 &&
        strcmp(o->output, "yaml") != 0 && strcmp(o->output, "wide") != 0) {
        fprintf(stderr,
                "fedgatectl clusters: -o \"%s\": one of json, yaml, wide\n",
                o->output);
        return -1;
    }
    return 0;
}

/* The kubeconfig's path, malloc'd, or NULL after saying why. */
static char *kubeconfig_path(const struct options *o)
{
    if (o->kubeconfig)
        return strdup(o->kubeconfig);
    const char *env = getenv("KUBECONFIG");
    if (env && *env) {
        /* kubectl merges the list; the first file is where a context
         * fedgate wrote lives */
        size_t n = strcspn(env, ":");
        return strndup(env, n);
    }
    struct fg_diag diag = {0};
    struct fg_config *cfg = fg_config_load(o->config, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.lines[i]);
    fg_diag_free(&diag);
    char *path = cfg ? fg_path_join(cfg->state_dir, "admin.kubeconfig") : NULL;
    fg_config_free(cfg);
    return path;
}

/* Prints the Status message of a refused request. */
static void refused(const struct fg_ask_answer *a)
{
    cJSON *st = cJSON_ParseWithLength(a->body, a->len);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(st, "message");
    fprintf(stderr, "fedgatectl: the gateway answered %d: %s\n", a->status,
            cJSON_IsString(msg) ? msg->valuestring : "(no Status message)");
    cJSON_Delete(st);
}

static int show(const struct options *o, const struct fg_ask_answer *a)
{
    cJSON *doc = cJSON_ParseWithLength(a->body, a->len);
    int rc = FG_CTL_EXIT_OK;
    if (!doc) {
        fprintf(stderr, "fedgatectl: the gateway's answer is not JSON\n");
        return FG_CTL_EXIT_REFUSED;
    }
    if (o->output && strcmp(o->output, "json") == 0) {
        /* kubectl's indentation: four spaces for cJSON's tabs */
        char *text = cJSON_Print(doc);
        for (const char *p = text; p && *p; p++)
            fputs(*p == '\t' ? "    " : (char[2]){*p, 0}, stdout);
        if (text)
            putchar('\n');
        free(text);
    } else if (o->output && strcmp(o->output, "yaml") == 0) {
        fg_ctl_print_yaml(stdout, doc);
    } else if (fg_ctl_print_table(stdout, doc, o->output != NULL) != 0) {
        fprintf(stderr, "fedgatectl: the gateway's answer is no Table\n");
        rc = FG_CTL_EXIT_REFUSED;
    }
    cJSON_Delete(doc);
    return rc;
}

int fg_ctl_fleet_get(const char *path, const char *context, const char *target,
                     const char *accept, struct fg_ask_answer *a)
{
    char *text = NULL, err[512];
    size_t len;
    struct fg_error ferr = {{0}};
    struct fg_ctl_kubeconfig kc = {0};
    if (fg_read_file(path, 1 << 20, &text, &len, NULL, &ferr) != 0 ||
        fg_ctl_kubeconfig_read(text, len, path, context, &kc, err,
                               sizeof(err)) != 0) {
        fprintf(stderr, "fedgatectl: %s\n", ferr.msg[0] ? ferr.msg : err);
        free(text);
        return FG_CTL_EXIT_USAGE;
    }
    free(text);
    char ca[32] = "", cert[32] = "", key[32] = "";
    int fds[3] = {
        kc.ca_pem ? fg_memory_file(kc.ca_pem, strlen(kc.ca_pem), ca) : -2,
        kc.cert_pem ? fg_memory_file(kc.cert_pem, strlen(kc.cert_pem), cert)
                    : -2,
        kc.key_pem ? fg_memory_file(kc.key_pem, strlen(kc.key_pem), key) : -2,
    };
    struct fg_ask_server gw = {
        .server = kc.server,
        .ca_file = kc.ca_pem ? ca : kc.ca_file,
        .token = kc.token,
        .timeout_ms = 20000,
        .cert_file = kc.cert_pem ? cert : kc.cert_file,
        .key_file = kc.key_pem ? key : kc.key_file,
        .accept = accept,
    };
    int rc = FG_CTL_EXIT_OK;
    if (fds[0] == -1 || fds[1] == -1 || fds[2] == -1) {
        fprintf(stderr, "fedgatectl: cannot hold the kubeconfig's "
                        "certificates in memory files\n");
        rc = FG_CTL_EXIT_USAGE;
    } else if (fg_ask(&gw, "GET", target, NULL, 0, NULL, a, &ferr) != 0) {
        fprintf(stderr, "fedgatectl: %s: %s\n", kc.server, ferr.msg);
        rc = FG_CTL_EXIT_UNREACHABLE;
    }
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    fg_ctl_kubeconfig_free(&kc);
    return rc;
}

int fg_ctl_clusters(int argc, char **argv)
{
    struct options o = {0};
    int p = parse(argc, argv, &o);
    if (p != 0)
        return p > 0 ? FG_CTL_EXIT_OK : FG_CTL_EXIT_USAGE;
    char *path = kubeconfig_path(&o);
    if (!path) {
        fprintf(stderr, "fedgatectl: no kubeconfig\n");
        return FG_CTL_EXIT_USAGE;
    }
    int table = !o.output || strcmp(o.output, "wide") == 0;
    struct fg_ask_answer a;
    int rc =
        fg_ctl_fleet_get(path, o.context, CLUSTERS_PATH,
                         table ? "application/json;as=Table;v=v1;g=meta.k8s.io"
                               : "application/json",
                         &a);
    if (rc == FG_CTL_EXIT_OK) {
        if (a.status == 200) {
            rc = show(&o, &a);
        } else {
            refused(&a);
            rc = FG_CTL_EXIT_REFUSED;
        }
        fg_ask_answer_free(&a);
    }
    free(path);
    return rc;
}
