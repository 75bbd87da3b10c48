/* fedgate-agent: joins a member cluster to a fedgate host from inside the
 * member's network. It reads its own kube-apiserver's address and
 * credential (the in-cluster service account), dials the host's tunnel
 * listener with the host's CA pinned, and serves the tunnel (session.c)
 * until it drops; then it dials again after an exponential backoff with
 * full jitter (1 s doubling to 30 s). The host id of its first join is
 * kept in --state-dir and any other host is refused; --forget-host
 * removes it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/log.h"
#include "client/client.h"
#include "fedgate_agent.h"
#include "plugin/host_api.h"

#define BACKOFF_START_MS 1000
#define BACKOFF_CAP_MS 30000
#define STATE_FILE "host-id"
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: fedgate-agent --host https://HOST:PORT --name NAME\n"
        "                     --host-ca-file FILE\n"
        "                     --token-file FILE | --cert-file F --key-file F\n"
        "                     [--state-dir DIR] [--serviceaccount-dir DIR]\n"
        "                     [--ping-interval SECONDS (10)]\n"
        "                     [--log-level error|warn|info|debug]\n"
        "       fedgate-agent --forget-host [--state-dir DIR]\n"
        "The member's kube-apiserver is KUBERNETES_SERVICE_HOST:"
        "KUBERNETES_SERVICE_PORT,\n"
        "called with the service account's token and CA (default %s).\n",
        SA_DIR);
}

static void dial(struct agent *a);

/* Full jitter: a uniform delay in [0, min(cap, start * 2^attempt)]. */
static uint64_t backoff_ms(unsigned attempt)
{
    uint64_t ceiling = BACKOFF_START_MS;
    for (unsigned i = 0; i < attempt && ceiling < BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > BACKOFF_CAP_MS)
        ceiling = BACKOFF_CAP_MS;
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        return ceiling;
    return r % (ceiling + 1);
}

static void retry(struct agent *a)
{
    uint64_t ms = backoff_ms(a->attempt++);
    fg_info("dialling the host again in %llu ms", (unsigned long long)ms);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(a->retry_ev, &tv);
}

static int same_file(const struct stat *x, const struct stat *y)
{
    return x->st_ino == y->st_ino && x->st_dev == y->st_dev &&
           x->st_size == y->st_size && x->st_mtim.tv_sec == y->st_mtim.tv_sec &&
           x->st_mtim.tv_nsec == y->st_mtim.tv_nsec;
}

const char *agent_api_auth(struct agent *a)
{
    struct stat st;
    if (stat(a->sa_token, &st) != 0 ||
        (a->api_auth && same_file(&st, &a->sa_token_st)))
        return a->api_auth;
    char err[512];
    char *t = fg_secret_read(a->sa_token, "the service account token", err,
                             sizeof(err));
    char *auth = NULL;
    if (t) {
        size_t n = strlen(t);
        if ((auth = malloc(n + 8)) != NULL)
            snprintf(auth, n + 8, "Bearer %s", t);
        else
            snprintf(err, sizeof(err), "out of memory");
        OPENSSL_cleanse(t, n);
        free(t);
    }
    if (!auth) {
        fg_error_log("%s%s", err,
                     a->api_auth ? "; the token read before stays in use" : "");
        return a->api_auth;
    }
    if (a->api_auth) {
        fg_info("the service account token changed: read again from %s",
                a->sa_token);
        OPENSSL_cleanse(a->api_auth, strlen(a->api_auth));
        free(a->api_auth);
    }
    a->api_auth = auth;
    a->sa_token_st = st;
    return auth;
}

void agent_session_lost(struct agent *a)
{
    a->session = NULL;
    retry(a);
}

int agent_joined(struct agent *a, const char *host_id)
{
    if (!a->bound[0]) {
        char tmp[sizeof(a->state_file) + 8];
        snprintf(tmp, sizeof(tmp), "%s.tmp", a->state_file);
        FILE *f = fopen(tmp, "w");
        int ok = f && fprintf(f, "%s\n", host_id) > 0;
        ok = f && fclose(f) == 0 && ok;
        if (!ok || rename(tmp, a->state_file) != 0) {
            fg_error_log("cannot record the host id in %s: %s", a->state_file,
                         strerror(errno));
            unlink(tmp);
            return -1;
        }
        snprintf(a->bound, sizeof(a->bound), "%s", host_id);
        fg_info("bound to host %s (recorded in %s)", host_id, a->state_file);
    }
    a->attempt = 0;
    fg_info("joined host %s as member \"%s\"", host_id, a->name);
    return 0;
}

static void on_connected(void *arg, struct bufferevent *bev, int is_h2)
{
    (void)is_h2;
    struct agent *a = arg;
    a->dialing = NULL;
    a->session = agent_session_new(a, bev);
    if (!a->session) {
        bufferevent_free(bev);
        retry(a);
    }
}

static void on_connect_failed(void *arg, const char *reason, int timeout)
{
    (void)timeout;
    struct agent *a = arg;
    a->dialing = NULL;
    fg_warn("cannot reach the host: %s", reason);
    retry(a);
}

static void dial(struct agent *a)
{
    a->dialing =
        fg_client_connect_start(a->dial, 0, on_connected, on_connect_failed, a);
    if (!a->dialing)
        retry(a);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dial(arg);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* The bound host id from the state file: 0 (none or read), -1 when the
 * file holds something else. */
static int read_bound(struct agent *a)
{
    FILE *f = fopen(a->state_file, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char line[TUNNEL_HOST_ID_LEN + 4] = "";
    int ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[strcspn(line, "\n")] = 0;
    struct fg_header h = {TUNNEL_H_HOST_ID, sizeof(TUNNEL_H_HOST_ID) - 1, line,
                          strlen(line)};
    struct tunnel_hello v;
    char err[64];
    if (!ok || tunnel_hello_read(&h, 1, &v, err, sizeof(err)) != 0 ||
        !v.host_id[0])
        return -1;
    memcpy(a->bound, v.host_id, sizeof(a->bound));
    return 0;
}

struct options {
    const char *host, *name, *token_file, *host_ca, *state_dir, *sa_dir;
    const char *cert, *key;
    const char *log_level;
    int forget;
    unsigned ping_s;
};

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {
        {"host", required_argument, NULL, 'H'},
        {"name", required_argument, NULL, 'n'},
        {"token-file", required_argument, NULL, 't'},
        {"cert-file", required_argument, NULL, 'C'},
        {"key-file", required_argument, NULL, 'K'},
        {"host-ca-file", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 's'},
        {"serviceaccount-dir", required_argument, NULL, 'a'},
        {"log-level", required_argument, NULL, 'l'},
        {"ping-interval", required_argument, NULL, 'p'},
        {"forget-host", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.state_dir = "/var/lib/fedgate-agent",
                          .sa_dir = SA_DIR,
                          .log_level = "info",
                          .ping_s = 10};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'H':
            o->host = optarg;
            break;
        case 'n':
            o->name = optarg;
            break;
        case 't':
            o->token_file = optarg;
            break;
        case 'C':
            o->cert = optarg;
            break;
        case 'K':
            o->key = optarg;
            break;
        case 'c':
            o->host_ca = optarg;
            break;
        case 's':
            o->state_dir = optarg;
            break;
        case 'a':
            o->sa_dir = optarg;
            break;
        case 'l':
            o->log_level = optarg;
            break;
        case 'f':
            o->forget = 1;
            break;
        case 'p': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end || v < 1 || v > 3600) {
                fprintf(stderr, "fedgate-agent: --ping-interval is 1 to 3600 "
                                "seconds\n");
                return -1;
            }
            o->ping_s = (unsigned)v;
            break;
        }
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind != argc)
        return -1;
    if (o->forget)
        return 0;
    if (!o->host || !o->name || !o->host_ca || (!o->token_file && !o->cert) ||
        !o->cert != !o->key) {
        fprintf(stderr, "fedgate-agent: --host, --name, --host-ca-file and "
                        "--token-file or --cert-file with --key-file are "
                        "required\n");
        return -1;
    }
    if (!tunnel_name_ok(o->name, strlen(o->name))) {
        fprintf(stderr,
                "fedgate-agent: --name \"%s\" is not a DNS-1123 "
                "label\n",
                o->name);
        return -1;
    }
    return 0;
}

/* The kube-apiserver from the in-cluster environment. 0, or -1 with ERR. */
static int api_client(struct agent *a, const char *sa_dir, char *err,
                      size_t err_len)
{
    const char *h = getenv("KUBERNETES_SERVICE_HOST");
    const char *p = getenv("KUBERNETES_SERVICE_PORT");
    if (!h || !*h || !p || !*p) {
        snprintf(err, err_len,
                 "KUBERNETES_SERVICE_HOST and "
                 "KUBERNETES_SERVICE_PORT are not set: run "
                 "inside the member cluster");
        return -1;
    }
    char server[512], ca[4096];
    snprintf(server, sizeof(server),
             strchr(h, ':') ? "https://[%s]:%s" : "https://%s:%s", h, p);
    snprintf(ca, sizeof(ca), "%s/ca.crt", sa_dir);
    snprintf(a->sa_token, sizeof(a->sa_token), "%s/token", sa_dir);
    if (!agent_api_auth(a)) {
        snprintf(err, err_len, "cannot read the service account token %.400s",
                 a->sa_token);
        return -1;
    }
    struct fg_client_config cfg = {
        .struct_size = sizeof(cfg),
        .name = a->name,
        .server = server,
        .ca_file = ca,
        .http2 = 1,
    };
    if (!a->api)
        a->api = fg_client_new(&a->host, &cfg, err, err_len);
    return a->api ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct options o;
    fg_log_init();
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    enum fg_log_level level;
    if (fg_log_level_parse(o.log_level, &level) != 0) {
        fprintf(stderr, "fedgate-agent: --log-level \"%s\"?\n", o.log_level);
        return 2;
    }
    fg_log_set_level(level);
    static struct agent a;
    snprintf(a.state_file, sizeof(a.state_file), "%s/%s", o.state_dir,
             STATE_FILE);
    if (o.forget) {
        if (unlink(a.state_file) != 0 && errno != ENOENT) {
            fprintf(stderr, "fedgate-agent: %s: %s\n", a.state_file,
                    strerror(errno));
            return 1;
        }
        printf("forgot the host (removed %s)\n", a.state_file);
        return 0;
    }
    if (read_bound(&a) != 0) {
        fg_error_log("%s does not hold a host id: remove it with "
                     "--forget-host",
                     a.state_file);
        return 1;
    }
    snprintf(a.name, sizeof(a.name), "%s", o.name);
    a.ping_ms = o.ping_s * 1000;
    char err[512];
    if (o.token_file && !(a.token = fg_secret_read(o.token_file, "--token-file",
                                                   err, sizeof(err)))) {
        fg_error_log("%s", err);
        return 1;
    }
    a.base = event_base_new();
    static struct fg_host_ctx ctx;
    ctx.base = a.base;
    snprintf(ctx.prefix, sizeof(ctx.prefix), "agent");
    ctx.state_dir = o.state_dir;
    fg_host_init(&a.host, &ctx);
    struct fg_client_config dial_cfg = {
        .struct_size = sizeof(dial_cfg),
        .name = "host",
        .server = o.host,
        .ca_file = o.host_ca,
        .cert_file = o.cert,
        .key_file = o.key,
    };
    if (!a.base || api_client(&a, o.sa_dir, err, sizeof(err)) != 0 ||
        !(a.dial = fg_client_new(&a.host, &dial_cfg, err, sizeof(err)))) {
        fg_error_log("%s", a.base ? err : "out of memory");
        return 1;
    }
    a.retry_ev = evtimer_new(a.base, on_retry, &a);
    struct event *sigterm = evsignal_new(a.base, SIGTERM, on_signal, a.base);
    struct event *sigint = evsignal_new(a.base, SIGINT, on_signal, a.base);
    signal(SIGPIPE, SIG_IGN);
    if (!a.retry_ev || !sigterm || !sigint || event_add(sigterm, NULL) != 0 ||
        event_add(sigint, NULL) != 0) {
        fg_error_log("out of memory");
        return 1;
    }
    fg_info("member \"%s\": dialling %s%s%s", a.name, o.host,
            a.bound[0] ? ", bound to host " : "", a.bound);
    dial(&a);
    event_base_dispatch(a.base);
    fg_info("stopping");
    if (a.dialing)
        fg_client_connect_cancel(a.dialing);
    agent_session_free(a.session);
    fg_client_free(a.api);
    fg_client_free(a.dial);
    event_free(a.retry_ev);
    event_free(sigterm);
    event_free(sigint);
    if (a.token)
        OPENSSL_cleanse(a.token, strlen(a.token));
    free(a.token);
    OPENSSL_cleanse(a.api_auth, strlen(a.api_auth));
    free(a.api_auth);
    /* A bufferevent freed while its callbacks were deferred is finalized
     * by the loop: one more turn lets go of its TLS connection. */
    event_base_loop(a.base, EVLOOP_NONBLOCK);
    event_base_free(a.base);
    return 0;
}
