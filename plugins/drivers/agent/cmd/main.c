/* fedgate-agent: joins a member cluster to a fedgate host from inside the
 * member's network. It reads its own kube-apiserver's address and
 * credential (from a kubeconfig or the in-cluster service account), dials the
 * host's tunnel listener with the host's CA pinned, and serves the tunnel
 * (session.c) until it drops; then it dials again after an exponential backoff
 * with full jitter (1 s doubling to 30 s). The host id of its first join is
 * kept in --state-dir and any other host is refused; --forget-host
 * removes it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/log.h"
#include "client/client.h"
#include "config/kubeconfig_read.h"
#include "base/fsutil.h"
#include "fedgate_agent.h"
#include "plugin/host_api.h"

#define BACKOFF_START_MS 1000
#define BACKOFF_CAP_MS 30000
#define STATE_FILE "host-id"

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
    char *t = fg_secret_read(a->sa_token, a->sa_token_what, err, sizeof(err));
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
        fg_info("%s changed: read again from %s", a->sa_token_what,
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

/* The client of the member's kube-apiserver at SERVER; every file named
 * is read now (and again by fg_client_reload). */
static int api_new(struct agent *a, struct fg_client_config *cfg, char *err,
                   size_t err_len)
{
    cfg->struct_size = sizeof(*cfg);
    cfg->name = a->name;
    cfg->http2 = 1;
    a->api = fg_client_new(&a->host, cfg, err, err_len);
    return a->api ? 0 : -1;
}

/* The token file as the credential (re-read when it changes). */
static int token_file_auth(struct agent *a, const char *path, const char *what,
                           char *err, size_t err_len)
{
    snprintf(a->sa_token, sizeof(a->sa_token), "%s", path);
    a->sa_token_what = what;
    if (agent_api_auth(a))
        return 0;
    snprintf(err, err_len, "cannot read %s %.400s", what, a->sa_token);
    return -1;
}

/* The kube-apiserver from the in-cluster environment. 0, or -1 with ERR. */
static int in_cluster_client(struct agent *a, const char *sa_dir, char *err,
                             size_t err_len)
{
    const char *h = getenv("KUBERNETES_SERVICE_HOST");
    const char *p = getenv("KUBERNETES_SERVICE_PORT");
    if (!h || !*h || !p || !*p) {
        snprintf(err, err_len,
                 "KUBERNETES_SERVICE_HOST and "
                 "KUBERNETES_SERVICE_PORT are not set: run "
                 "inside the member cluster or give --kubeconfig");
        return -1;
    }
    char server[512], ca[4096], token[4096];
    snprintf(server, sizeof(server),
             strchr(h, ':') ? "https://[%s]:%s" : "https://%s:%s", h, p);
    snprintf(ca, sizeof(ca), "%.4000s/ca.crt", sa_dir);
    snprintf(token, sizeof(token), "%.4000s/token", sa_dir);
    if (token_file_auth(a, token, "the service account token", err, err_len) !=
        0)
        return -1;
    struct fg_client_config cfg = {.server = server, .ca_file = ca};
    return api_new(a, &cfg, err, err_len);
}

/* A PEM text of the kubeconfig (a *-data field) as a file the client can
 * read: an anonymous memory file, so that a key never touches a disk.
 * NULL when PEM is; "" after an error in ERR. */
static const char *pem_file(struct agent *a, int slot, const char *pem,
                            size_t len, char path[32], char *err,
                            size_t err_len)
{
    if (!pem)
        return NULL;
    int fd = memfd_create("fedgate-agent-pem", MFD_CLOEXEC);
    size_t done = 0;
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, pem + done, len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (fd < 0 || done < len) {
        snprintf(err, err_len, "cannot hold the kubeconfig's PEM data: %s",
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return "";
    }
    a->pem_fds[slot] = fd;
    snprintf(path, 32, "/proc/self/fd/%d", fd);
    return path;
}

/* The kubeconfig user's token, or its token file, or nothing (a client
 * certificate alone). */
static int kubeconfig_auth(struct agent *a,
                           const struct fg_kubeconfig_target *t, char *err,
                           size_t err_len)
{
    if (t->token_file)
        return token_file_auth(a, t->token_file, "the kubeconfig's tokenFile",
                               err, err_len);
    if (!t->token)
        return 0;
    size_t n = strlen(t->token) + 8;
    if (!(a->api_auth = malloc(n))) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    snprintf(a->api_auth, n, "Bearer %s", t->token);
    return 0;
}

/* The kube-apiserver of PATH's current context. 0, or -1 with ERR. */
static int kubeconfig_client(struct agent *a, const char *path, char *err,
                             size_t err_len)
{
    char *text;
    size_t len;
    struct fg_error e;
    if (fg_read_file(path, FG_KUBECONFIG_MAX_BYTES, &text, &len, NULL, &e) !=
        0) {
        snprintf(err, err_len, "--kubeconfig: %.480s", e.msg);
        return -1;
    }
    struct fg_kubeconfig_target t;
    int rc = fg_kubeconfig_read(text, len, path, &t, &e);
    OPENSSL_cleanse(text, len);
    free(text);
    if (rc != 0) {
        snprintf(err, err_len, "%s", e.msg);
        return -1;
    }
    char paths[3][32];
    struct fg_client_config cfg = {
        .server = t.server,
        .server_name = t.tls_server_name,
        .ca_file = t.ca_file,
        .cert_file = t.cert_file,
        .key_file = t.key_file,
    };
    if (t.ca_pem)
        cfg.ca_file =
            pem_file(a, 0, t.ca_pem, t.ca_pem_len, paths[0], err, err_len);
    if (t.cert_pem)
        cfg.cert_file =
            pem_file(a, 1, t.cert_pem, t.cert_pem_len, paths[1], err, err_len);
    if (t.key_pem)
        cfg.key_file =
            pem_file(a, 2, t.key_pem, t.key_pem_len, paths[2], err, err_len);
    int pem_failed = (cfg.ca_file && !cfg.ca_file[0]) ||
                     (cfg.cert_file && !cfg.cert_file[0]) ||
                     (cfg.key_file && !cfg.key_file[0]);
    rc = pem_failed ? -1 : kubeconfig_auth(a, &t, err, err_len);
    if (rc != 0 && !pem_failed) {
        char why[400];
        snprintf(why, sizeof(why), "%.390s", err);
        snprintf(err, err_len, "%.100s: %s", path, why);
    }
    if (rc == 0)
        rc = api_new(a, &cfg, err, err_len);
    if (rc == 0)
        fg_info("the member's API server: %s (from %s)", t.server, path);
    fg_kubeconfig_target_free(&t);
    return rc;
}

/* Serves the tunnel until SIGTERM or SIGINT. The exit code. */
static int run(const struct agent_options *o)
{
    static struct agent a = {.pem_fds = {-1, -1, -1}};
    snprintf(a.state_file, sizeof(a.state_file), "%s/%s", o->v[AGENT_STATE_DIR],
             STATE_FILE);
    if (o->forget) {
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
    snprintf(a.name, sizeof(a.name), "%s", o->v[AGENT_NAME]);
    a.ping_ms = o->ping_s * 1000;
    char err[512];
    const char *token_file = o->v[AGENT_TOKEN_FILE];
    if (token_file && !(a.token = fg_secret_read(token_file, "--token-file",
                                                 err, sizeof(err)))) {
        fg_error_log("%s", err);
        return 1;
    }
    a.base = event_base_new();
    static struct fg_host_ctx ctx;
    ctx.base = a.base;
    snprintf(ctx.prefix, sizeof(ctx.prefix), "agent");
    ctx.state_dir = o->v[AGENT_STATE_DIR];
    fg_host_init(&a.host, &ctx);
    struct fg_client_config dial_cfg = {
        .struct_size = sizeof(dial_cfg),
        .name = "host",
        .server = o->v[AGENT_HOST],
        .ca_file = o->v[AGENT_HOST_CA_FILE],
        .cert_file = o->v[AGENT_CERT_FILE],
        .key_file = o->v[AGENT_KEY_FILE],
    };
    const char *kubeconfig = o->v[AGENT_KUBECONFIG];
    int rc = 1;
    struct event *sigterm = NULL, *sigint = NULL;
    if (!a.base) {
        fg_error_log("out of memory");
        return 1;
    }
    if ((kubeconfig ? kubeconfig_client(&a, kubeconfig, err, sizeof(err))
                    : in_cluster_client(&a, o->v[AGENT_SA_DIR], err,
                                        sizeof(err))) != 0 ||
        !(a.dial = fg_client_new(&a.host, &dial_cfg, err, sizeof(err)))) {
        fg_error_log("%s", err);
        goto out;
    }
    a.retry_ev = evtimer_new(a.base, on_retry, &a);
    sigterm = evsignal_new(a.base, SIGTERM, on_signal, a.base);
    sigint = evsignal_new(a.base, SIGINT, on_signal, a.base);
    signal(SIGPIPE, SIG_IGN);
    if (a.retry_ev && sigterm && sigint && event_add(sigterm, NULL) == 0 &&
        event_add(sigint, NULL) == 0) {
        fg_info("member \"%s\": dialling %s%s%s", a.name, o->v[AGENT_HOST],
                a.bound[0] ? ", bound to host " : "", a.bound);
        dial(&a);
        event_base_dispatch(a.base);
        fg_info("stopping");
        rc = 0;
    } else {
        fg_error_log("out of memory");
    }
out:
    if (a.dialing)
        fg_client_connect_cancel(a.dialing);
    agent_session_free(a.session);
    if (a.retry_ev)
        event_free(a.retry_ev);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    fg_client_free(a.api);
    fg_client_free(a.dial);
    for (int i = 0; i < 3; i++)
        if (a.pem_fds[i] >= 0)
            close(a.pem_fds[i]);
    if (a.token)
        OPENSSL_cleanse(a.token, strlen(a.token));
    free(a.token);
    if (a.api_auth)
        OPENSSL_cleanse(a.api_auth, strlen(a.api_auth));
    free(a.api_auth);
    /* A bufferevent freed while its callbacks were deferred is finalized
     * by the loop, and finalizing one may defer another step (an SSL
     * bufferevent over a socket one): turn until nothing is left to run
     * (1), a few turns at most, and only then let go of the base. */
    for (int turns = 0;
         turns < 16 && event_base_loop(a.base, EVLOOP_NONBLOCK) == 0; turns++)
        ;
    event_base_free(a.base);
    return rc;
}

int main(int argc, char **argv)
{
    static struct agent_options o;
    fg_log_init();
    int rc = agent_options_parse(argc, argv, &o);
    if (rc == 1) {
        agent_usage(stdout);
    } else if (rc != 0) {
        agent_usage(stderr);
        rc = 2;
    } else {
        fg_log_set_level(o.level);
        rc = run(&o);
    }
    agent_options_free(&o);
    return rc;
}
