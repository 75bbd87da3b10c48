/* fedgate-agent's settings: the long options of its command line and the
 * same keys in one [agent] section of an ini file (--config). One table
 * names them both, so the two can never drift apart; a value from the
 * command line wins over the file's. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "config/ini_reader.h"
#include "fedgate_agent.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define CONFIG_MAX_BYTES (64 * 1024)

static const char *const key_names[AGENT_N_KEYS] = {
    [AGENT_HOST] = "host",
    [AGENT_NAME] = "name",
    [AGENT_TOKEN_FILE] = "token-file",
    [AGENT_CERT_FILE] = "cert-file",
    [AGENT_KEY_FILE] = "key-file",
    [AGENT_HOST_CA_FILE] = "host-ca-file",
    [AGENT_STATE_DIR] = "state-dir",
    [AGENT_SA_DIR] = "serviceaccount-dir",
    [AGENT_KUBECONFIG] = "kubeconfig",
    [AGENT_PING_INTERVAL] = "ping-interval",
    [AGENT_LOG_LEVEL] = "log-level",
};

static const char *const defaults[AGENT_N_KEYS] = {
    [AGENT_STATE_DIR] = "/var/lib/fedgate-agent",
    [AGENT_PING_INTERVAL] = "10",
    [AGENT_LOG_LEVEL] = "info",
};

/* Why VALUE is not good for KEY, or NULL when it is; fills O's parsed
 * forms. */
static const char *check(struct agent_options *o, enum agent_key key,
                         const char *value)
{
    switch (key) {
    case AGENT_NAME:
        return tunnel_name_ok(value, strlen(value)) ? NULL
                                                    : "not a DNS-1123 label";
    case AGENT_HOST:
        return strncmp(value, "https://", 8) == 0 && value[8]
                   ? NULL
                   : "not an https:// URL";
    case AGENT_PING_INTERVAL: {
        char *end;
        unsigned long v = strtoul(value, &end, 10);
        if (*value < '0' || *value > '9' || *end || v < 1 || v > 3600)
            return "1 to 3600 seconds";
        o->ping_s = (unsigned)v;
        return NULL;
    }
    case AGENT_LOG_LEVEL:
        return fg_log_level_parse(value, &o->level) == 0
                   ? NULL
                   : "error, warn, info or debug";
    default:
        return value[0] ? NULL : "empty";
    }
}

struct file_reader {
    struct agent_options *o;
    const char *path;
    int in_agent; /* the current section is [agent] */
    int errors;
};

static void file_error(struct file_reader *r, int line, const char *key,
                       const char *why)
{
    fprintf(stderr, "fedgate-agent: %s:%d: %s: %s\n", r->path, line, key, why);
    r->errors++;
}

static void on_section(void *user, int line, const char *text, size_t len)
{
    struct file_reader *r = user;
    r->in_agent = text && len == 5 && memcmp(text, "agent", 5) == 0;
    if (text && !r->in_agent) {
        char name[80];
        snprintf(name, sizeof(name), "[%.*s]", (int)(len < 64 ? len : 64),
                 text);
        file_error(r, line, name, "unknown section (the file has one [agent])");
    }
}

static void on_entry(void *user, int line, const char *key, const char *value)
{
    struct file_reader *r = user;
    if (!r->in_agent) {
        file_error(r, line, key, "outside the [agent] section");
        return;
    }
    for (int k = 0; k < AGENT_N_KEYS; k++) {
        if (strcmp(key, key_names[k]) != 0)
            continue;
        struct agent_options *o = r->o;
        const char *why = NULL;
        if (o->from_file[k])
            why = "set twice";
        else if (!o->v[k] && (why = check(o, k, value)) == NULL) {
            if (!(o->from_file[k] = strdup(value)))
                why = "out of memory";
            o->v[k] = o->from_file[k];
        } else if (o->v[k] && !(o->from_file[k] = strdup(value))) {
            why = "out of memory"; /* kept only to see it set twice */
        }
        if (why)
            file_error(r, line, key, why);
        return;
    }
    file_error(r, line, key, "unknown key");
}

static void on_error(void *user, int line, const char *msg)
{
    struct file_reader *r = user;
    fprintf(stderr, "fedgate-agent: %s:%d: %s\n", r->path, line, msg);
}

static int read_file(struct agent_options *o, const char *path)
{
    char *buf;
    size_t len;
    struct fg_error err;
    if (fg_read_file(path, CONFIG_MAX_BYTES, &buf, &len, NULL, &err) != 0) {
        fprintf(stderr, "fedgate-agent: --config: %s\n", err.msg);
        return -1;
    }
    struct file_reader r = {.o = o, .path = path};
    static const struct fg_ini_callbacks cb = {on_section, on_entry, on_error};
    int errors = fg_ini_parse_buffer(buf, len, &cb, &r);
    free(buf);
    return errors + r.errors ? -1 : 0;
}

void agent_usage(FILE *f)
{
    fprintf(
        f,
        "usage: fedgate-agent --host https://HOST:PORT --name NAME\n"
        "                     --host-ca-file FILE\n"
        "                     --token-file FILE | --cert-file F --key-file F\n"
        "                     [--kubeconfig FILE | --serviceaccount-dir DIR]\n"
        "                     [--state-dir DIR] [--config FILE]\n"
        "                     [--ping-interval SECONDS (10)]\n"
        "                     [--log-level error|warn|info|debug]\n"
        "       fedgate-agent --forget-host [--state-dir DIR]\n"
        "The member's kube-apiserver is the current context's of --kubeconfig,"
        "\nor else KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT called "
        "with\nthe service account's token and CA (default %s).\n"
        "--config FILE: the same keys in an [agent] section; the command\n"
        "line wins.\n",
        SA_DIR);
}

int agent_options_parse(int argc, char **argv, struct agent_options *o)
{
    enum { CONFIG = AGENT_N_KEYS, FORGET, HELP };
    struct option longs[AGENT_N_KEYS + 4];
    for (int k = 0; k < AGENT_N_KEYS; k++)
        longs[k] = (struct option){key_names[k], required_argument, NULL, k};
    longs[CONFIG] = (struct option){"config", required_argument, NULL, CONFIG};
    longs[FORGET] = (struct option){"forget-host", no_argument, NULL, FORGET};
    longs[HELP] = (struct option){"help", no_argument, NULL, HELP};
    longs[HELP + 1] = (struct option){NULL, 0, NULL, 0};
    *o = (struct agent_options){0};
    const char *config = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c >= 0 && c < AGENT_N_KEYS) {
            const char *why = check(o, c, optarg);
            if (why) {
                fprintf(stderr, "fedgate-agent: --%s \"%s\": %s\n",
                        key_names[c], optarg, why);
                return -1;
            }
            o->v[c] = optarg;
        } else if (c == CONFIG) {
            config = optarg;
        } else if (c == FORGET) {
            o->forget = 1;
        } else if (c == HELP) {
            return 1;
        } else {
            return -1;
        }
    }
    if (optind != argc || (config && read_file(o, config) != 0))
        return -1;
    for (int k = 0; k < AGENT_N_KEYS; k++)
        if (!o->v[k] && defaults[k])
            check(o, k, o->v[k] = defaults[k]);
    if (o->forget)
        return 0;
    const char *const *v = o->v;
    if (!v[AGENT_HOST] || !v[AGENT_NAME] || !v[AGENT_HOST_CA_FILE] ||
        (!v[AGENT_TOKEN_FILE] && !v[AGENT_CERT_FILE]) ||
        !v[AGENT_CERT_FILE] != !v[AGENT_KEY_FILE]) {
        fprintf(stderr, "fedgate-agent: host, name, host-ca-file and "
                        "token-file or cert-file with key-file are required\n");
        return -1;
    }
    if (v[AGENT_KUBECONFIG] && v[AGENT_SA_DIR]) {
        fprintf(stderr, "fedgate-agent: kubeconfig and serviceaccount-dir "
                        "name two API servers: give one\n");
        return -1;
    }
    if (!v[AGENT_KUBECONFIG] && !v[AGENT_SA_DIR])
        o->v[AGENT_SA_DIR] = SA_DIR;
    return 0;
}

void agent_options_free(struct agent_options *o)
{
    for (int k = 0; k < AGENT_N_KEYS; k++)
        free(o->from_file[k]);
}
