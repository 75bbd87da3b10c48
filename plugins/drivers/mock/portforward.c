/* pods/portforward for the mock member, as kube-apiserver and kubelet
 * serve it, in the three framings clients use:
 *   - WebSocket with the channel protocol (v4.channel.k8s.io, what the
 *     Python client speaks): the ports come from the query; port I has
 *     data channel 2I and error channel 2I+1, and the server's first
 *     message on each carries the port as two little-endian bytes;
 *   - SPDY/3.1 inside WebSocket binary messages
 *     (SPDY/3.1+portforward.k8s.io, kubectl's first choice since 1.31);
 *   - plain SPDY/3.1 after an Upgrade: SPDY/3.1 POST (portforward.k8s.io,
 *     kubectl's fallback and client-go's default).
 * Over SPDY every forwarded connection is a pair of client-opened streams
 * sharing a requestID header: streamType "error" and "data", each with a
 * "port" header.
 *
 * Behind the pod's declared container ports: a port named "http", or
 * numbered 80 or 8080, answers every HTTP/1.1 request with a small page
 * naming the pod and namespace; any other declared port echoes what it
 * receives; an undeclared port is refused with kubelet's message on the
 * error stream, as a container with nothing listening there would be. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mock.h"

#define PF_MAX_PORTS 32        /* ports one WebSocket request may name */
#define PF_MAX_REQUEST 16384   /* an HTTP request head, buffered */
#define PF_MAX_MESSAGE 1048576 /* a client WebSocket message */

enum { PF_CHANNELS, PF_SPDY_IN_WS, PF_SPDY };
enum { BE_REFUSED, BE_ECHO, BE_HTTP };

/* One forwarded connection: a port and what is behind it. */
struct pf_conn {
    int used;
    char request_id[64];
    uint32_t data_id, error_id; /* SPDY streams (0: not opened yet) */
    int port, behaviour, started;
    int in_fin, out_fin; /* client's / our data stream ended */
    int err_fin;         /* our error stream ended */
    struct mock_buf req; /* BE_HTTP: request bytes not yet answered */
};

struct mock_pf {
    struct mock_instance *in;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    const struct fg_request_head *head; /* valid until close (driver.h) */
    struct mock_route route;
    struct mock_upgrade up;
    int mode; /* PF_* */
    int ended, finished, upgraded, out_paused, close_received;
    /* the pod, copied at the switch: the store may change after */
    char *pod, *ns, *uid;
    cJSON *containers;
    struct mock_ws_parser ws;
    struct mock_spdy spdy;
    uint32_t last_id; /* the highest stream the client opened */
    struct pf_conn *conns;
    size_t n_conns; /* slots in conns: max_streams SPDY, ports WS */
    struct mock_buf out, frame;
};

static int pf_route(const struct fg_request_info *ri, struct mock_route *r)
{
    return mock_route_of(ri, r) == 0 && !r->group[0] &&
           strcmp(r->version, "v1") == 0 && r->ns[0] &&
           strcmp(r->resource, "pods") == 0 && r->sub &&
           strcmp(r->sub, "portforward") == 0;
}

int mock_pf_match(const struct fg_request_info *ri)
{
    struct mock_route r;
    return pf_route(ri, &r);
}

struct mock_pf *mock_pf_open(struct mock_instance *in,
                             const struct fg_request_head *head,
                             const struct fg_stream_callbacks *cb, void *ctx)
{
    struct mock_pf *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->in = in;
    p->cb = cb;
    p->ctx = ctx;
    p->head = head;
    pf_route(head->info, &p->route);
    if (mock_upgrade_init(&p->up, head, cb, ctx) != 0) {
        mock_pf_close(p);
        return NULL;
    }
    return p;
}

/* ---- output ----------------------------------------------------------- */

static void fail_internal(struct mock_pf *p)
{
    if (p->finished)
        return;
    p->finished = 1;
    p->cb->error(p->ctx, 500, "InternalError", "out of memory");
}

/* Hands BUF to the client, pausing its input while it is full. */
static int emit(struct mock_pf *p, const char *buf, size_t len)
{
    if (p->finished)
        return -1;
    int rc = p->cb->data(p->ctx, buf, len);
    if (rc < 0) {
        p->finished = 1; /* the client is gone */
        return -1;
    }
    if (rc == FG_PAUSE && !p->out_paused) {
        p->out_paused = 1;
        p->cb->body_pause(p->ctx);
    }
    return 0;
}

/* Sends the SPDY bytes in p->out: as they are, or as one binary message. */
static int flush_spdy(struct mock_pf *p)
{
    int rc = 0;
    if (p->mode == PF_SPDY) {
        rc = emit(p, p->out.p, p->out.len);
    } else {
        p->frame.len = 0;
        if (mock_ws_frame(&p->frame, MOCK_WS_OP_BINARY, p->out.p, p->out.len) !=
            0) {
            fail_internal(p);
            return -1;
        }
        rc = emit(p, p->frame.p, p->frame.len);
    }
    p->out.len = 0;
    return rc;
}

/* A channel message: the channel byte, then LEN bytes of D. */
static int send_channel(struct mock_pf *p, int ch, const void *d, size_t len)
{
    uint8_t c = (uint8_t)ch;
    p->out.len = 0;
    p->frame.len = 0;
    if (mock_buf_add(&p->out, (const char *)&c, 1) != 0 ||
        (len && mock_buf_add(&p->out, d, len) != 0) ||
        mock_ws_frame(&p->frame, MOCK_WS_OP_BINARY, p->out.p, p->out.len)) {
        fail_internal(p);
        return -1;
    }
    p->out.len = 0;
    return emit(p, p->frame.p, p->frame.len);
}

/* Bytes from the pod's port to the client on C's data stream. */
static int send_data(struct mock_pf *p, struct pf_conn *c, const void *d,
                     size_t len, int fin)
{
    if (p->mode == PF_CHANNELS)
        return len ? send_channel(p, 2 * (int)(c - p->conns), d, len) : 0;
    if (c->out_fin)
        return 0;
    c->out_fin = fin;
    if (mock_spdy_data(&p->out, c->data_id, fin, d, len) != 0) {
        fail_internal(p);
        return -1;
    }
    return flush_spdy(p);
}

/* ---- the ports -------------------------------------------------------- */

/* What listens on PORT in the pod; *CONTAINER names the container. */
static int behaviour_of(const struct mock_pf *p, long port,
                        const char **container)
{
    const cJSON *c, *cp;
    cJSON_ArrayForEach(c, p->containers){cJSON_ArrayForEach(
        cp, cJSON_GetObjectItemCaseSensitive(c, "ports")){
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(cp, "containerPort");
    if (!cJSON_IsNumber(n) || (long)n->valuedouble != port)
        continue;
    *container = mock_json_str(c, "name", "");
    const char *name = mock_json_str(cp, "name", "");
    return strcmp(name, "http") == 0 || port == 80 || port == 8080 ? BE_HTTP
                                                                   : BE_ECHO;
}
}
*container = "";
return BE_REFUSED;
}

/* kubelet's words when nothing listens on the port (containerd's). */
static void refusal(const struct mock_pf *p, int port, char *buf, size_t len)
{
    snprintf(buf, len,
             "error forwarding port %d to pod %s, uid %s: failed to connect "
             "to localhost:%d inside namespace of pod %s/%s, IPv4: dial "
             "tcp4 127.0.0.1:%d: connect: connection refused IPv6 dial tcp6 "
             "[::1]:%d: connect: connection refused",
             port, p->pod, p->uid, port, p->ns, p->pod, port, port);
}

/* The end of the request head in REQ (the blank line), or NULL. The
 * bytes are the client's: a NUL among them is no end. */
static char *head_end(const struct mock_buf *req)
{
    for (size_t i = 0; i + 4 <= req->len; i++) {
        if (memcmp(req->p + i, "\r\n\r\n", 4) == 0)
            return req->p + i;
    }
    return NULL;
}

/* Answers every complete request head in c->req. */
static void http_serve(struct mock_pf *p, struct pf_conn *c)
{
    for (;;) {
        char *end = head_end(&c->req);
        if (!end && c->req.len <= PF_MAX_REQUEST)
            return;
        const char *container = "";
        behaviour_of(p, c->port, &container);
        char body[1024], head[256];
        int too_big = !end;
        int bn = snprintf(body, sizeof(body),
                          too_big ? "request header fields too large\n"
                                  : "Hello from pod %s in namespace %s "
                                    "(container %s, port %d): served by "
                                    "the fedgate mock member\n",
                          p->pod, p->ns, container, c->port);
        if (bn < 0 || (size_t)bn >= sizeof(body))
            bn = (int)strlen(body);
        int hn =
            snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: text/plain; "
                     "charset=utf-8\r\nContent-Length: %d\r\n%s\r\n",
                     too_big ? "431 Request Header Fields Too Large" : "200 OK",
                     bn, too_big ? "Connection: close\r\n" : "");
        struct mock_buf r = {0};
        if (mock_buf_add(&r, head, (size_t)hn) != 0 ||
            mock_buf_add(&r, body, (size_t)bn) != 0) {
            mock_buf_free(&r);
            fail_internal(p);
            return;
        }
        int rc = send_data(p, c, r.p, r.len, too_big);
        mock_buf_free(&r);
        if (rc < 0 || too_big) {
            c->req.len = 0;
            return;
        }
        size_t used = (size_t)(end + 4 - c->req.p);
        memmove(c->req.p, c->req.p + used, c->req.len - used + 1);
        c->req.len -= used;
    }
}

/* Client bytes for C's port. */
static void port_input(struct mock_pf *p, struct pf_conn *c, const uint8_t *d,
                       size_t len)
{
    if (c->behaviour == BE_ECHO) {
        send_data(p, c, d, len, 0);
    } else if (c->behaviour == BE_HTTP) {
        if (mock_buf_add(&c->req, (const char *)d, len) != 0) {
            fail_internal(p);
            return;
        }
        http_serve(p, c);
    }
}

static void conn_reset(struct pf_conn *c)
{
    mock_buf_free(&c->req);
    memset(c, 0, sizeof(*c));
}

/* ---- WebSocket channels ----------------------------------------------- */

static int on_channel_ws(void *arg, int op, const uint8_t *d, size_t len);

/* Every port of the query "ports" (repeated or comma-separated). */
static int query_ports(struct mock_pf *p, int *ports, size_t *n)
{
    const char *q = p->head->query;
    *n = 0;
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t qn = amp ? (size_t)(amp - q) : strlen(q);
        char v[256];
        if (qn > 6 && strncmp(q, "ports=", 6) == 0) {
            if (fg_query_get(q, "ports", v, sizeof(v)) < 0)
                return -1;
            for (char *s = v, *tok; (tok = strsep(&s, ","));) {
                char *e;
                long port = strtol(tok, &e, 10);
                if (!*tok || *e || port < 1 || port > 65535 ||
                    *n == PF_MAX_PORTS)
                    return -1;
                ports[(*n)++] = (int)port;
            }
        }
        q += qn;
        if (*q == '&')
            q++;
    }
    return 0;
}

/* After the switch: each port's data and error channels announce the
 * port; a refused port says why on its error channel. */
static void channels_start(struct mock_pf *p, const int *ports, size_t n)
{
    for (size_t i = 0; i < n && !p->finished; i++) {
        struct pf_conn *c = &p->conns[i];
        const char *container;
        c->used = 1;
        c->port = ports[i];
        c->behaviour = behaviour_of(p, ports[i], &container);
        uint8_t le[2] = {(uint8_t)ports[i], (uint8_t)(ports[i] >> 8)};
        send_channel(p, 2 * (int)i, le, 2);
        send_channel(p, 2 * (int)i + 1, le, 2);
        if (c->behaviour == BE_REFUSED) {
            char msg[512];
            refusal(p, c->port, msg, sizeof(msg));
            send_channel(p, 2 * (int)i + 1, msg, strlen(msg));
        }
    }
}

/* ---- SPDY ------------------------------------------------------------- */

static struct pf_conn *conn_by_request(struct mock_pf *p, const char *id)
{
    struct pf_conn *free_slot = NULL;
    for (size_t i = 0; i < p->n_conns; i++) {
        struct pf_conn *c = &p->conns[i];
        if (c->used && strcmp(c->request_id, id) == 0)
            return c;
        if (!c->used && !free_slot)
            free_slot = c;
    }
    return free_slot;
}

static struct pf_conn *conn_by_stream(struct mock_pf *p, uint32_t id,
                                      int *is_data)
{
    for (size_t i = 0; i < p->n_conns; i++) {
        struct pf_conn *c = &p->conns[i];
        if (c->used && (c->data_id == id || c->error_id == id)) {
            *is_data = c->data_id == id;
            return c;
        }
    }
    return NULL;
}

/* Ends the session after a GOAWAY with STATUS. */
static void goaway(struct mock_pf *p, uint32_t status, const char *why)
{
    if (p->finished)
        return;
    p->in->host->log(p->in->host, FG_LOG_DEBUG,
                     "portforward: closing a SPDY session: %s", why);
    p->out.len = 0;
    if (mock_spdy_goaway(&p->out, p->last_id, status) == 0)
        flush_spdy(p);
    if (!p->finished) {
        p->finished = 1;
        p->cb->end(p->ctx);
    }
}

static int rst(struct mock_pf *p, uint32_t id, uint32_t status)
{
    p->out.len = 0;
    if (mock_spdy_rst(&p->out, id, status) != 0) {
        fail_internal(p);
        return -1;
    }
    return flush_spdy(p);
}

/* The header NAME of the SYN_STREAM being read, NUL-terminated into BUF;
 * "" when absent or too long. */
static const char *syn_header(struct mock_pf *p, const char *name, char *buf,
                              size_t len)
{
    const struct mock_spdy_header *h = mock_spdy_header(&p->spdy, name);
    if (!h || h->value_len >= len)
        return "";
    memcpy(buf, h->value, h->value_len);
    buf[h->value_len] = '\0';
    return buf;
}

/* Both streams of C are open: the port answers or refuses. */
static void conn_start(struct mock_pf *p, struct pf_conn *c)
{
    c->started = 1;
    if (c->behaviour != BE_REFUSED)
        return;
    char msg[512];
    refusal(p, c->port, msg, sizeof(msg));
    p->out.len = 0;
    c->err_fin = 1;
    if (mock_spdy_data(&p->out, c->error_id, 1, msg, strlen(msg)) != 0) {
        fail_internal(p);
        return;
    }
    if (flush_spdy(p) == 0)
        send_data(p, c, NULL, 0, 1);
}

static void syn_stream(struct mock_pf *p, const struct mock_spdy_frame *f)
{
    uint32_t id = f->stream_id;
    if (id == 0 || !(id & 1) || id <= p->last_id) {
        goaway(p, MOCK_SPDY_PROTOCOL_ERROR,
               "a client stream id is even or not increasing");
        return;
    }
    p->last_id = id;
    char type[16], port_s[16], req[64];
    syn_header(p, "streamtype", type, sizeof(type));
    syn_header(p, "port", port_s, sizeof(port_s));
    const char *rid = syn_header(p, "requestid", req, sizeof(req));
    int is_data = strcmp(type, "data") == 0;
    char *e;
    long port = strtol(port_s, &e, 10);
    if ((!is_data && strcmp(type, "error") != 0) || !port_s[0] || *e ||
        port < 1 || port > 65535) {
        rst(p, id, MOCK_SPDY_PROTOCOL_ERROR);
        return;
    }
    /* Clients before requestID pair an error stream with the data stream
     * opened next (kubelet's fallback). */
    char fallback[16];
    if (!rid[0]) {
        snprintf(fallback, sizeof(fallback), "%u", is_data ? id - 2 : id);
        rid = fallback;
    }
    struct pf_conn *c = conn_by_request(p, rid);
    if (!c || (c->used && (is_data ? c->data_id : c->error_id))) {
        rst(p, id, c ? MOCK_SPDY_STREAM_IN_USE : MOCK_SPDY_REFUSED_STREAM);
        return;
    }
    if (!c->used) {
        const char *container;
        c->used = 1;
        snprintf(c->request_id, sizeof(c->request_id), "%s", rid);
        c->port = (int)port;
        c->behaviour = behaviour_of(p, port, &container);
    }
    if (is_data)
        c->data_id = id;
    else
        c->error_id = id;
    p->out.len = 0;
    if (mock_spdy_syn_reply(&p->spdy, &p->out, id, 0, NULL, 0) != 0) {
        fail_internal(p);
        return;
    }
    if (flush_spdy(p) == 0 && c->data_id && c->error_id)
        conn_start(p, c);
}

/* The forwarded connection is over: the error stream ends too, as
 * kubelet closes it (the client waits for that end before it lets the
 * connection go), except a stream the client reset (RESET_ID). */
static void conn_done(struct mock_pf *p, struct pf_conn *c, uint32_t reset_id)
{
    if (c->error_id && !c->err_fin && c->error_id != reset_id) {
        c->err_fin = 1;
        p->out.len = 0;
        if (mock_spdy_data(&p->out, c->error_id, 1, NULL, 0) != 0)
            fail_internal(p);
        else
            flush_spdy(p);
    }
    conn_reset(c);
}

static int on_spdy(void *arg, const struct mock_spdy_frame *f)
{
    struct mock_pf *p = arg;
    int is_data = 0;
    struct pf_conn *c;
    switch (f->type) {
    case MOCK_SPDY_SYN_STREAM:
        syn_stream(p, f);
        break;
    case MOCK_SPDY_DATA:
        c = conn_by_stream(p, f->stream_id, &is_data);
        if (!c) {
            rst(p, f->stream_id, MOCK_SPDY_INVALID_STREAM);
            break;
        }
        if (!is_data) /* the error stream is the server's to write */
            break;
        if (c->started && f->len)
            port_input(p, c, f->data, f->len);
        if ((f->flags & MOCK_SPDY_FIN) && !c->in_fin) {
            c->in_fin = 1;
            send_data(p, c, NULL, 0, 1); /* the connection closes */
        }
        if (c->in_fin && c->out_fin)
            conn_done(p, c, 0);
        break;
    case MOCK_SPDY_RST_STREAM:
        c = conn_by_stream(p, f->stream_id, &is_data);
        if (c) /* a reset stream takes no more frames */
            conn_done(p, c, f->stream_id);
        break;
    case MOCK_SPDY_PING:
        p->out.len = 0;
        if (mock_spdy_ping(&p->out, f->value) != 0)
            fail_internal(p);
        else
            flush_spdy(p);
        break;
    case MOCK_SPDY_GOAWAY:
        if (!p->finished) {
            p->finished = 1;
            p->cb->end(p->ctx);
        }
        break;
    default: /* SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do */
        break;
    }
    return p->finished;
}

static void spdy_input(struct mock_pf *p, const uint8_t *d, size_t len)
{
    if (mock_spdy_parse(&p->spdy, d, len) < 0)
        goaway(p, p->spdy.goaway_status, p->spdy.error);
}

/* ---- WebSocket messages ----------------------------------------------- */

static void ws_close(struct mock_pf *p, unsigned code, const char *why)
{
    if (p->finished)
        return;
    p->frame.len = 0;
    if (mock_ws_close_frame(&p->frame, code, why) == 0)
        emit(p, p->frame.p, p->frame.len);
    if (!p->finished) {
        p->finished = 1;
        p->cb->end(p->ctx);
    }
}

static int on_channel_ws(void *arg, int op, const uint8_t *d, size_t len)
{
    struct mock_pf *p = arg;
    if (p->finished)
        return 1;
    switch (op) {
    case MOCK_WS_OP_CLOSE:
        p->close_received = 1;
        ws_close(p, 1000, "");
        return 1;
    case MOCK_WS_OP_PING:
        p->frame.len = 0;
        if (mock_ws_frame(&p->frame, MOCK_WS_OP_PONG, d, len) == 0)
            emit(p, p->frame.p, p->frame.len);
        return p->finished;
    case MOCK_WS_OP_PONG:
        return 0;
    default:
        break;
    }
    if (p->mode == PF_SPDY_IN_WS) {
        spdy_input(p, d, len);
    } else if (len > 0 && !(d[0] & 1) && d[0] / 2 < p->n_conns &&
               p->conns[d[0] / 2].used) {
        /* a data channel; the error channels are the server's */
        port_input(p, &p->conns[d[0] / 2], d + 1, len - 1);
    }
    return p->finished;
}

int mock_pf_write(struct mock_pf *p, const void *buf, size_t len)
{
    if (!p->upgraded || p->finished || p->close_received)
        return 0;
    if (p->mode == PF_SPDY) {
        spdy_input(p, buf, len);
    } else if (mock_ws_parse(&p->ws, buf, len, NULL) < 0 && !p->finished) {
        p->in->host->log(p->in->host, FG_LOG_DEBUG,
                         "portforward: closing a WebSocket: %s", p->ws.error);
        ws_close(p, p->ws.close_code, p->ws.error);
    }
    return 0;
}

/* ---- the answer ------------------------------------------------------- */

static int copy_pod(struct mock_pf *p, const cJSON *pod)
{
    p->pod = strdup(p->route.name);
    p->ns = strdup(p->route.ns);
    p->uid = strdup(mock_json_str(pod, "metadata.uid", ""));
    p->containers = cJSON_Duplicate(fg_json_path(pod, "spec.containers"), 1);
    return p->pod && p->ns && p->uid && p->containers ? 0 : -1;
}

static int setup_spdy(struct mock_pf *p)
{
    p->n_conns = p->in->spdy_max_streams / 2; /* a pair each */
    p->conns = calloc(p->n_conns, sizeof(*p->conns));
    return p->conns && mock_spdy_init(&p->spdy, &p->in->spdy, on_spdy, p) == 0
               ? 0
               : -1;
}

void mock_pf_end(struct mock_pf *p)
{
    static const char *const ws_protocols[] = {
        "SPDY/3.1+portforward.k8s.io", "v4.channel.k8s.io",
        "portforward.k8s.io", "channel.k8s.io", NULL};
    static const char *const spdy_protocols[] = {"portforward.k8s.io", NULL};
    if (p->ended || p->finished)
        return;
    p->ended = 1;
    if (strcmp(p->head->method, "GET") != 0 &&
        strcmp(p->head->method, "POST") != 0) {
        mock_upgrade_status(&p->up, 405, "MethodNotAllowed",
                            "the server does not allow this method on the "
                            "requested resource");
        return;
    }
    const struct mock_kind *k = mock_kind_by_resource("", "v1", "pods");
    const struct mock_obj *o =
        mock_store_get(p->in->store, k, p->route.ns, p->route.name);
    if (!o) {
        mock_upgrade_answer(&p->up, 404,
                            mock_status_not_found(k, p->route.name));
        return;
    }
    cJSON *pod = mock_obj_json(o);
    int copied = pod ? copy_pod(p, pod) : -1;
    cJSON_Delete(pod);
    if (copied != 0) {
        mock_upgrade_status(&p->up, 500, "InternalError", "out of memory");
        return;
    }
    int ports[PF_MAX_PORTS];
    size_t n_ports = 0;
    if (p->up.kind == MOCK_UP_NONE) {
        mock_upgrade_status(&p->up, 400, "BadRequest",
                            "Upgrade request required");
        return;
    }
    if (p->up.kind == MOCK_UP_SPDY) {
        if (setup_spdy(p) != 0) {
            mock_upgrade_status(&p->up, 500, "InternalError", "out of memory");
            return;
        }
        if (mock_upgrade_spdy(&p->up, spdy_protocols) < 0) {
            p->finished = 1;
            return;
        }
        p->mode = PF_SPDY;
        p->upgraded = 1;
        return;
    }
    int tunnel = p->up.has_protocols &&
                 mock_upgrade_pick(p->up.protocols.p, ws_protocols) == 0;
    if (tunnel ? setup_spdy(p) != 0 : query_ports(p, ports, &n_ports) != 0) {
        mock_upgrade_status(&p->up, 400, "BadRequest",
                            "the ports query parameter must list 1 to 32 "
                            "port numbers between 1 and 65535");
        return;
    }
    if (!tunnel && n_ports == 0) {
        mock_upgrade_status(&p->up, 400, "BadRequest",
                            "query parameter \"ports\" is required");
        return;
    }
    if (!tunnel) {
        p->n_conns = n_ports;
        p->conns = calloc(n_ports, sizeof(*p->conns));
        if (!p->conns) {
            mock_upgrade_status(&p->up, 500, "InternalError", "out of memory");
            return;
        }
    }
    mock_ws_parser_init(&p->ws, PF_MAX_MESSAGE, on_channel_ws, p);
    int pick = mock_upgrade_websocket(&p->up, ws_protocols, 3);
    if (pick < 0) {
        p->finished = 1;
        return;
    }
    p->mode = pick == 0 ? PF_SPDY_IN_WS : PF_CHANNELS;
    p->upgraded = 1;
    if (p->mode == PF_CHANNELS)
        channels_start(p, ports, n_ports);
}

void mock_pf_resume(struct mock_pf *p)
{
    if (p->out_paused) {
        p->out_paused = 0;
        if (!p->finished)
            p->cb->body_resume(p->ctx);
    }
}

void mock_pf_close(struct mock_pf *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_conns; i++)
        conn_reset(&p->conns[i]);
    free(p->conns);
    mock_upgrade_free(&p->up);
    mock_ws_parser_free(&p->ws);
    mock_spdy_free(&p->spdy);
    cJSON_Delete(p->containers);
    free(p->pod);
    free(p->ns);
    free(p->uid);
    mock_buf_free(&p->out);
    mock_buf_free(&p->frame);
    free(p);
}
