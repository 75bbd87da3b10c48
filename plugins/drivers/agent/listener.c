/* The [tunnel] listener shared by every agent member, the registry that
 * finds a member by the name an agent gives, and the host id sent in every
 * handshake. All on the owner loop of the one-loop instances. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "agent.h"

static struct {
    const struct fg_host *host; /* the first member's: the owner loop */
    struct fg_listener *l;
    uint64_t handshake_ms;
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

static void on_accept(void *arg, struct fg_tls_conn *conn,
                      const struct fg_tls_peer *peer)
{
    (void)arg;
    agent_handshake_start(reg.host, conn, peer->address, reg.handshake_ms);
}

static int open_listener(const struct fg_host *host, char *err, size_t err_len)
{
    const struct fg_section *t =
        host->struct_size >= sizeof(struct fg_host) ? host->tunnel : NULL;
    const char *address = t ? t->get(t, "listen") : NULL;
    if (!address) {
        snprintf(err, err_len,
                 "agent members need [tunnel] listen = ADDR:PORT, where "
                 "their agents connect");
        return -1;
    }
    if (agent_host_id_ensure(host->state_dir, reg.host_id, err, err_len) != 0)
        return -1;
    struct fg_listen_config cfg = {
        .struct_size = sizeof(cfg),
        .address = address,
        .max_connections = (uint32_t)t->get_int(t, "max_connections", 1024),
        .handshake_timeout_ms =
            (uint64_t)t->get_int(t, "handshake_timeout", 10000),
    };
    reg.handshake_ms = cfg.handshake_timeout_ms;
    reg.l = host->listen(host, &cfg, on_accept, NULL, err, err_len);
    if (!reg.l)
        return -1;
    char bound[80];
    host->listener_address(reg.l, bound, sizeof(bound));
    host->log(host, FG_LOG_INFO, "tunnel listener on %s, host id %s", bound,
              reg.host_id);
    return 0;
}

int agent_registry_join(struct agent_instance *in, char *err, size_t err_len)
{
    if (LIST_EMPTY(&reg.members)) {
        if (open_listener(in->host, err, err_len) != 0)
            return -1;
        reg.host = in->host;
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

const char *agent_registry_host_id(void)
{
    return reg.host_id;
}
