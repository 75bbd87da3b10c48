/* The tunnel handshake both sides speak, shared by the host's agent driver
 * and fedgate-agent. After TLS (the agent pins the host's CA) the roles
 * turn at once: the host is the HTTP/2 client, the agent the server, and
 * the handshake is two requests on that connection before any other:
 *
 *   POST /fedgate-tunnel/v1/hello     fedgate-host-id: ID (32 hex digits)
 *     agent: 200 with fedgate-member: NAME and fedgate-token: TOKEN, or
 *            409 with fedgate-reason when it is bound to another host id
 *   POST /fedgate-tunnel/v1/verdict   fedgate-verdict: joined | refused,
 *                                     fedgate-reason: why (when refused)
 *     agent: 200; after "joined" it records the host id and serves every
 *            later stream by calling its own kube-apiserver.
 *
 * An upgrade (exec, attach, port-forward) is an extended CONNECT stream,
 * whose :method is CONNECT: the host names the client's own method (GET
 * for WebSocket, POST for kubectl's SPDY/3.1) in fedgate-method, and the
 * agent upgrades to its apiserver with that method: the member authorizes
 * the verb it makes (get or create on pods/exec). A second one (a client
 * sent its own) makes the stream's head invalid.
 *
 * Framing, sizes and flow control are HTTP/2's (nghttp2 on both sides), so
 * no byte parser of ours runs before the peer is known; what is parsed is
 * the values, here, and they are checked before anything uses them. */
#ifndef FG_AGENT_TUNNEL_H
#define FG_AGENT_TUNNEL_H

#include <stddef.h>

#include <fedgate/fedgate.h>

#define TUNNEL_HELLO_PATH "/fedgate-tunnel/v1/hello"
#define TUNNEL_VERDICT_PATH "/fedgate-tunnel/v1/verdict"
#define TUNNEL_H_HOST_ID "fedgate-host-id"
#define TUNNEL_H_MEMBER "fedgate-member"
#define TUNNEL_H_TOKEN "fedgate-token"
#define TUNNEL_H_VERDICT "fedgate-verdict"
#define TUNNEL_H_REASON "fedgate-reason"
#define TUNNEL_H_METHOD "fedgate-method"

/* A host id: 128 random bits as lower-case hex. */
#define TUNNEL_HOST_ID_LEN 32
/* Longest token and reason carried. */
#define TUNNEL_TOKEN_MAX 4096
#define TUNNEL_REASON_MAX 255

/* What a handshake answer or request carried, NUL-terminated copies;
 * "" for what was absent. */
struct tunnel_hello {
    char host_id[TUNNEL_HOST_ID_LEN + 1];
    char member[64];
    char token[TUNNEL_TOKEN_MAX + 1];
    char verdict[16];
    char reason[TUNNEL_REASON_MAX + 1];
};

/* Reads the handshake headers of H (N of them) into OUT. A header given
 * twice, or a value that is not of its kind (host id: 32 lower-case hex;
 * member: DNS-1123 label; token: 1..4096 visible ASCII; verdict: "joined"
 * or "refused"; reason: up to 255 printable ASCII), fails. Other headers
 * are ignored. 0, or -1 with ERR saying which header was wrong. */
int tunnel_hello_read(const struct fg_header *h, size_t n,
                      struct tunnel_hello *out, char *err, size_t err_len);

/* Whether S (LEN bytes) is a member name: a DNS-1123 label. */
int tunnel_name_ok(const char *s, size_t len);

/* Copies REASON into OUT (TUNNEL_REASON_MAX + 1 bytes), cut to the limit
 * and with every byte that is not printable ASCII replaced by '?', so it
 * can travel in a header. */
void tunnel_reason_clean(char *out, const char *reason);

#endif
