/* The [tunnel] listener shared by every agent member, the registry that
 * finds a member by the name an agent gives, and the host id sent in every
 * handshake. New tunnels are admitted at handshake_rate per second (a
 * token bucket as deep as one second's worth), so a host restart with
 * hundreds of agents dialling back does not stampede: the excess is closed
 * at once and those agents back off with jitter. All on the owner loop of
 * the one-loop instances. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/x509.h>

#include "agent.h"

#define LISTEN_RETRY_MS 5000

static struct {
    const struct fg_host *host; /* the first member's: the owner loop */
    struct fg_listener *l;
    struct fg_timer *opener; /* opens l from the loop (open_listener) */
    uint64_t handshake_ms;
    uint64_t ping_ms;
    uint64_t rate;        /* handshakes per second */
    uint64_t bucket;      /* admissions left, in thousandths */
    uint64_t refilled_ms; /* when the bucket was last filled */
    uint64_t shed;        /* closed over the rate since the last warning */
    char host_id[TUNNEL_HOST_ID_LEN + 1];
    LIST_HEAD(, agent_instance) members;
} reg;

static int read_host_id(const char *path, char *out, char *err, size_t err_len)
{
    char buf[TUNNEL_HOST_ID_LEN + 2];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    struct fg_header h = {TUNNEL_H_HOST_ID, sizeof(TUNNEL_H_HOST_ID) - 1, buf,
                          TUNNEL_HOST_ID_LEN};
    struct tunnel_hello v;
    char why[64];
    if (n != TUNNEL_HOST_ID_LEN + 1 || buf[TUNNEL_HOST_ID_LEN] != '\n' ||
        tunnel_hello_read(&h, 1, &v, why, sizeof(why)) != 0) {
        snprintf(err, err_len, "%s does not hold a host id (32 hex digits)",
                 path);
        return -1;
    }
    memcpy(out, v.host_id, TUNNEL_HOST_ID_LEN + 1);
    return 0;
}

int agent_host_id_ensure(const char *state_dir,
                         char out[TUNNEL_HOST_ID_LEN + 1], char *err,
                         size_t err_len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", state_dir, AGENT_HOST_ID_FILE);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return read_host_id(path, out, err, err_len);
    unsigned char raw[TUNNEL_HOST_ID_LEN / 2];
    if (fd < 0 || RAND_bytes(raw, sizeof(raw)) != 1) {
        snprintf(err, err_len, "cannot make %s: %s", path,
                 fd < 0 ? strerror(errno) : "no random bytes");
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return -1;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    char line[TUNNEL_HOST_ID_LEN + 1];
    memcpy(line, out, TUNNEL_HOST_ID_LEN);
    line[TUNNEL_HOST_ID_LEN] = '\n';
    int ok = write(fd, line, sizeof(line)) == (ssize_t)sizeof(line);
    ok = close(fd) == 0 && ok;
    if (!ok) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

/* Whether one more handshake fits in the rate now. */
static int admit(void)
{
    uint64_t now = reg.host->now_ms(reg.host), full = reg.rate * 1000;
    uint64_t gained = (now - reg.refilled_ms) * reg.rate;
    reg.refilled_ms = now;
    reg.bucket = gained >= full - reg.bucket ? full : reg.bucket + gained;
    if (reg.bucket < 1000)
        return 0;
    reg.bucket -= 1000;
    return 1;
}

/* The member name a verified client certificate proves: its one CN, when
 * that is a member name (a DNS-1123 label, no NUL). "" without a
 * certificate; -1 when it has one that names no member. */
static int peer_cn(const struct fg_tls_peer *p, char out[64])
{
    out[0] = 0;
    if (!p->cert_der || p->cert_der_len == 0)
        return 0;
    const unsigned char *der = p->cert_der;
    X509 *x = d2i_X509(NULL, &der, (long)p->cert_der_len);
    const X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
    int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    unsigned char *utf8 = NULL;
    int n = -1;
    if (i >= 0 && X509_NAME_get_index_by_NID(name, NID_commonName, i) < 0)
        n = ASN1_STRING_to_UTF8(
            &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    int ok = n > 0 && n < 64 && tunnel_name_ok((const char *)utf8, (size_t)n);
    if (ok) {
        memcpy(out, utf8, (size_t)n);
        out[n] = 0;
    }
    OPENSSL_free(utf8);
    X509_free(x);
    return ok ? 0 : -1;
}

static void on_accept(void *arg, struct fg_tls_conn *conn,
                      const struct fg_tls_peer *peer)
{
    (void)arg;
    char cn[64];
    if (peer_cn(peer, cn) != 0) {
        reg.host->log(reg.host, FG_LOG_WARN,
                      "tunnel from %s closed: its client certificate has no "
                      "CN that is a member name",
                      peer->address);
        reg.host->tls_conn_close(conn);
        return;
    }
    if (!admit()) {
        /* one line per burst, not one per agent */
        if (reg.shed++ == 0)
            reg.host->log(reg.host, FG_LOG_WARN,
                          "tunnel from %s closed: over handshake_rate "
                          "(%llu/s); its agent backs off",
                          peer->address, (unsigned long long)reg.rate);
        reg.host->tls_conn_close(conn);
        return;
    }
    if (reg.shed > 1)
        reg.host->log(reg.host, FG_LOG_WARN,
                      "%llu tunnels closed over handshake_rate",
                      (unsigned long long)reg.shed);
    reg.shed = 0;
    agent_handshake_start(reg.host, conn, peer->address, cn, reg.handshake_ms);
}

/* Opens the listener (and makes or reads the host id) from the loop, not
 * from instance_new: a configuration check makes instances too, and must
 * neither bind nor write. Until it succeeds it tries again every
 * LISTEN_RETRY_MS, logging why (the port may be taken for a while). */
static void open_listener(void *arg)
{
    (void)arg;
    const struct fg_host *host = reg.host;
    const struct fg_section *t = host->tunnel;
    char err[256];
    struct fg_listen_config cfg = {
        .struct_size = sizeof(cfg),
        .address = t->get(t, "listen"),
        .max_connections = (uint32_t)t->get_int(t, "max_connections", 1024),
        .handshake_timeout_ms =
            (uint64_t)t->get_int(t, "handshake_timeout", 10000),
        .client_ca_file = t->get(t, "client_ca_file"),
    };
    if (agent_host_id_ensure(host->state_dir, reg.host_id, err, sizeof(err)) !=
            0 ||
        !(reg.l =
              host->listen(host, &cfg, on_accept, NULL, err, sizeof(err)))) {
        host->log(host, FG_LOG_ERROR,
                  "no tunnel listener on %s: %s; trying again in %d s",
                  cfg.address, err, LISTEN_RETRY_MS / 1000);
        host->timer_arm(reg.opener, LISTEN_RETRY_MS);
        return;
    }
    char bound[80];
    host->listener_address(reg.l, bound, sizeof(bound));
    host->log(host, FG_LOG_INFO, "tunnel listener on %s, host id %s", bound,
              reg.host_id);
}

int agent_registry_join(struct agent_instance *in, char *err, size_t err_len)
{
    if (LIST_EMPTY(&reg.members)) {
        const struct fg_host *host = in->host;
        const struct fg_section *t = host->tunnel;
        if (!t || !t->get(t, "listen")) {
            snprintf(err, err_len,
                     "agent members need [tunnel] listen = ADDR:PORT, where "
                     "their agents connect");
            return -1;
        }
        if (!(reg.opener = host->timer_new(host, open_listener, NULL))) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        reg.host = host;
        reg.handshake_ms = (uint64_t)t->get_int(t, "handshake_timeout", 10000);
        reg.ping_ms = (uint64_t)t->get_int(t, "ping_interval", 10000);
        reg.rate = (uint64_t)t->get_int(t, "handshake_rate", 100);
        reg.bucket = reg.rate * 1000;
        reg.refilled_ms = host->now_ms(host);
        reg.shed = 0;
        host->timer_arm(reg.opener, 0);
    }
    LIST_INSERT_HEAD(&reg.members, in, link);
    return 0;
}

void agent_registry_leave(struct agent_instance *in)
{
    LIST_REMOVE(in, link);
    if (!LIST_EMPTY(&reg.members)) {
        /* every member's host is on the same loop: any one will do */
        if (reg.host == in->host)
            reg.host = LIST_FIRST(&reg.members)->host;
        return;
    }
    agent_handshake_abort_all();
    reg.host->timer_free(reg.opener);
    reg.opener = NULL;
    if (reg.l)
        reg.host->listener_free(reg.l);
    reg.l = NULL;
    reg.host = NULL;
}

struct agent_instance *agent_registry_find(const char *name)
{
    struct agent_instance *in;
    LIST_FOREACH(in, &reg.members, link)
    if (strcmp(in->name, name) == 0)
        return in;
    return NULL;
}

struct agent_instance *agent_registry_older(const struct agent_instance *in)
{
    for (struct agent_instance *o = LIST_NEXT(in, link); o;
         o = LIST_NEXT(o, link))
        if (strcmp(o->name, in->name) == 0)
            return o;
    return NULL;
}

const char *agent_registry_host_id(void)
{
    return reg.host_id;
}

uint64_t agent_registry_ping_ms(void)
{
    return reg.ping_ms;
}
