/* The agent driver's internal interface: members that run fedgate-agent,
 * which dials the host's [tunnel] listener; the host is the HTTP/2 client
 * over each joined tunnel (host.h client_adopt) and every request for the
 * member is one stream on one of its tunnels. One instance per member, on
 * one owner loop (FG_SCOPE_ONE_LOOP): every tunnel of every agent member
 * lives on that loop, so the shared listener and the registry of members
 * (listener.c) are touched from one thread only. */
#ifndef FG_AGENT_H
#define FG_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <fedgate/fedgate.h>

#include "tunnel/tunnel.h"

/* The host id's file in the gateway's state_dir. */
#define AGENT_HOST_ID_FILE "agent-host-id"

struct agent_instance;

/* A joined tunnel: the core's HTTP/2 client over the agent's connection. */
struct agent_tunnel {
    struct agent_instance *in;
    struct fg_client *client;
    char peer[64];
    size_t n_streams; /* open streams: the client is freed after the last */
    int dead;         /* its connection is gone */
    int answered;     /* its last PING was answered */
    TAILQ_ENTRY(agent_tunnel) link;
};
TAILQ_HEAD(agent_tunnel_list, agent_tunnel);

struct agent_instance {
    const struct fg_host *host;
    char name[64];
    char *token_file; /* NULL: agents prove the name by certificate only */
    struct agent_tunnel_list tunnels;
    size_t n_live;
    size_t expected;       /* expected_tunnels: fewer live is logged, shown */
    struct fg_timer *ping; /* every ping_interval: PING each tunnel */
    LIST_ENTRY(agent_instance) link;
};

/* ---- the listener and the members it serves (listener.c) ---------------- */

/* Registers IN; the first instance opens the [tunnel] listener and loads
 * (or makes) the host id. 0, or -1 with ERR. */
int agent_registry_join(struct agent_instance *in, char *err, size_t err_len);
/* Unregisters IN; the last one closes the listener. */
void agent_registry_leave(struct agent_instance *in);
/* The agent member NAME (its newest instance), or NULL. */
struct agent_instance *agent_registry_find(const char *name);
/* The next older instance of IN's member (a reload's changed member has
 * one until the old one's streams are done), or NULL. */
struct agent_instance *agent_registry_older(const struct agent_instance *in);
/* The host id, 32 hex digits. */
const char *agent_registry_host_id(void);
/* [tunnel] ping_interval: a tunnel silent for 3 of them is dead. */
uint64_t agent_registry_ping_ms(void);

/* STATE_DIR/agent-host-id: 128 random bits as hex, made once (0600) and
 * read back afterwards. 0 with OUT filled, or -1 with ERR. */
int agent_host_id_ensure(const char *state_dir,
                         char out[TUNNEL_HOST_ID_LEN + 1], char *err,
                         size_t err_len);

/* ---- handshakes (handshake.c) ------------------------------------------- */

/* Runs the handshake on an accepted connection (tunnel.h); a joined tunnel
 * is handed to its member with agent_tunnel_add. CN: the member name its
 * verified client certificate proves, or "" (then the token must). */
void agent_handshake_start(const struct fg_host *host, struct fg_tls_conn *conn,
                           const char *peer, const char *cn,
                           uint64_t timeout_ms);
/* Ends every handshake in flight (the listener closes). */
void agent_handshake_abort_all(void);

/* Whether TOKEN is the token in IN's token_file: SHA-256 of both compared
 * in constant time. 0 yes, -1 no (or IN has no token_file), with a reason
 * in ERR (the file's problem is logged, not sent). */
int agent_token_check(struct agent_instance *in, const char *token, char *err,
                      size_t err_len);

/* ---- tunnels (plugin.c) ------------------------------------------------- */

/* Gives IN a joined tunnel over CLIENT. */
void agent_tunnel_add(struct agent_instance *in, struct fg_client *client,
                      const char *peer);

extern const struct fg_driver_ops agent_driver_ops;

#endif
