/* fedgate-agent's internal interface: the process that runs in a member
 * cluster, dials the host's tunnel listener (pinning the host's CA),
 * proves its member name with its token, and then serves the host's
 * HTTP/2 streams by calling its own kube-apiserver with its own
 * credential (never one the host sends, never an address the host names). */
#ifndef FG_FEDGATE_AGENT_H
#define FG_FEDGATE_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <fedgate/fedgate.h>

#include "tunnel/tunnel.h"

struct event_base;
struct event;
struct bufferevent;
struct fg_client;
struct agent_session;

struct agent {
    struct event_base *base;
    struct fg_host host;
    struct fg_client *api; /* the member's kube-apiserver */
    char *api_auth;        /* "Bearer TOKEN" of the agent's account */
    char sa_token[4096];   /* its file ("": none), re-read when it changes */
    const char *sa_token_what; /* that file, as messages name it */
    int pem_fds[3]; /* kubeconfig *-data PEM the client reads, or -1 */
    struct stat sa_token_st;
    struct fg_client *dial; /* dials the host (never sends a request) */
    struct fg_client_connect *dialing;
    struct agent_session *session;
    struct event *retry_ev;
    unsigned attempt; /* failed connections since the last join */
    unsigned ping_ms; /* keepalive: a tunnel silent for 3 of these is dead */
    char name[64];
    char *token; /* NULL: a client certificate proves the name */
    char state_file[4096];
    char bound[TUNNEL_HOST_ID_LEN + 1]; /* the host id joined, or "" */
};

/* ---- settings: command line and --config file (options.c) -------------- */

enum agent_key {
    AGENT_HOST,
    AGENT_NAME,
    AGENT_TOKEN_FILE,
    AGENT_CERT_FILE,
    AGENT_KEY_FILE,
    AGENT_HOST_CA_FILE,
    AGENT_STATE_DIR,
    AGENT_SA_DIR,
    AGENT_KUBECONFIG,
    AGENT_PING_INTERVAL,
    AGENT_LOG_LEVEL,
    AGENT_N_KEYS
};

struct agent_options {
    const char *v[AGENT_N_KEYS]; /* the command line's, the file's, a
                                  * default, or NULL */
    char *from_file[AGENT_N_KEYS];
    int forget;
    unsigned ping_s;
    enum fg_log_level level;
};

void agent_usage(FILE *f);
/* 0, 1 for --help, -1 after a message on stderr. Free O with
 * agent_options_free whatever it returned. */
int agent_options_parse(int argc, char **argv, struct agent_options *o);
void agent_options_free(struct agent_options *o);

/* ---- the tunnel session: the HTTP/2 server role (session.c) ------------- */

/* Serves the host over BEV (a verified TLS connection). NULL when out of
 * memory; agent_session_lost runs when it ends. */
struct agent_session *agent_session_new(struct agent *a,
                                        struct bufferevent *bev);
void agent_session_free(struct agent_session *s);

/* ---- the process (main.c) ------------------------------------------------ */

/* "Bearer TOKEN" for the agent's own account, from its token file as it
 * is now: kubelet rotates projected tokens by swapping the file, so a
 * changed file is read again (if that fails, the token read before stays
 * in use). NULL only before a token was ever read. */
const char *agent_api_auth(struct agent *a);
/* The session ended: dial again after a backoff. */
void agent_session_lost(struct agent *a);
/* The host said joined: record its id (first join) and reset the backoff.
 * 0, or -1 when the id could not be recorded (the session is dropped). */
int agent_joined(struct agent *a, const char *host_id);

#endif
