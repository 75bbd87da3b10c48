/* pods/exec for the mock member, as kubelet serves it over WebSocket: the
 * checks kube-apiserver makes first (pod, container, options, upgrade), the
 * handshake with the Kubernetes channel subprotocols (v5.channel.k8s.io,
 * v4.channel.k8s.io, channel.k8s.io), and a pretend container that runs a
 * handful of commands: echo, cat, hostname, env, exit N, true, false, and
 * one of these under "sh -c". Anything else ends with exit code 127 and
 * "NAME: command not found" on stderr, as a shell reports it (the mock
 * has no runtime whose "executable file not found" it could imitate).
 *
 * Channel protocol: every message's first byte is the stream (0 stdin,
 * 1 stdout, 2 stderr, 3 error, 4 resize; v5 adds 255, "close stream N").
 * The end of a command is a v1 Status on channel 3 (v4 and v5; a plain
 * message on failure for channel.k8s.io), then a close frame, and the
 * session ends at once, as kube-apiserver's does: the core closes the
 * connection once they are written. Waiting for the client's answer to
 * the close would stall clients that poll the socket for each frame (the
 * Python client): the frames sit decrypted in their TLS buffer, and only
 * the connection's end wakes them. cat's stdin ends with v5's close of
 * stream 0, or with the client's close frame (v4 has no other way to say
 * it).
 *
 * pods/attach is refused with a 400: the mock's containers run no main
 * process to attach to. SPDY/3.1, which kubectl falls back to when the
 * WebSocket upgrade fails, is refused with a 400 saying so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mock.h"

#define EXEC_MAX_MESSAGE (1024 * 1024) /* largest client message */
#define EXEC_MAX_ARGS 64
#define EXEC_MAX_ARG 8192
#define EXEC_MAX_NAME 254 /* DNS subdomain, plus the NUL */

enum {
    CH_STDIN = 0,
    CH_STDOUT = 1,
    CH_STDERR = 2,
    CH_ERROR = 3,
    CH_CLOSE = 255, /* v5: the payload's next byte is the stream closed */
};

enum { UP_NONE, UP_WEBSOCKET, UP_SPDY };

struct mock_exec {
    struct mock_instance *in;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    /* the request, read in place: valid until stream_close (driver.h) */
    const struct fg_request_head *head;
    struct mock_route route;                 /* the pod and subresource */
    int upgrade;                             /* UP_* */
    struct mock_buf key, version, protocols; /* header values */
    int has_key, has_version, has_protocols;

    int ended;    /* stream_end seen: the answer was decided */
    int finished; /* end() or error() given, or the client is gone */
    int upgraded; /* the 101 went out */
    int proto;    /* 1 (channel.k8s.io), 4 or 5 */
    int want_stdin, want_stdout, want_stderr;
    char *argv[EXEC_MAX_ARGS]; /* the command as the client gave it */
    size_t argc;
    int cat;        /* cat runs: stdin goes to stdout until it ends */
    int close_sent; /* our close frame is out: the session is over */
    int close_received;
    int out_paused; /* data() said FG_PAUSE: stdin is paused too */
    /* Until the pretend process starts (exec_start_delay), stdin waits
     * (the body is paused) and these hold what the start needs. */
    struct fg_timer *start_timer;
    cJSON *start_container;
    struct mock_ws_parser ws;
    struct mock_buf payload, frame;
};

/* ---- the request ------------------------------------------------------ */

/* Fills R when RI names /api/v1/namespaces/NS/pods/NAME/exec or attach. */
static int exec_route(const struct fg_request_info *ri, struct mock_route *r)
{
    return mock_route_of(ri, r) == 0 && !r->group[0] &&
           strcmp(r->version, "v1") == 0 && r->ns[0] &&
           strcmp(r->resource, "pods") == 0 && r->sub &&
           (strcmp(r->sub, "exec") == 0 || strcmp(r->sub, "attach") == 0);
}

int mock_exec_match(const struct fg_request_info *ri)
{
    struct mock_route r;
    return exec_route(ri, &r);
}

static int header_is(const struct fg_header *h, const char *lit)
{
    size_t n = strlen(lit);
    return h->name_len == n && strncasecmp(h->name, lit, n) == 0;
}

/* Several fields of one name are one comma-separated list (RFC 9110 5.3).
 */
static int collect(struct mock_buf *b, int *seen, const struct fg_header *h)
{
    int bad = 0;
    if (*seen)
        bad |= mock_buf_add(b, ",", 1);
    bad |= mock_buf_add(b, h->value, h->value_len); /* NUL-terminated */
    *seen = 1;
    return bad;
}

struct mock_exec *mock_exec_open(struct mock_instance *in,
                                 const struct fg_request_head *head,
                                 const struct fg_stream_callbacks *cb,
                                 void *ctx)
{
    struct mock_exec *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->in = in;
    x->cb = cb;
    x->ctx = ctx;
    x->head = head;
    exec_route(head->info, &x->route);
    if (head->upgrade && strcasecmp(head->upgrade, "websocket") == 0)
        x->upgrade = UP_WEBSOCKET;
    else if (head->upgrade)
        x->upgrade = UP_SPDY;
    int bad = 0;
    for (size_t i = 0; i < head->n_headers; i++) {
        const struct fg_header *h = &head->headers[i];
        if (header_is(h, "sec-websocket-key"))
            bad |= collect(&x->key, &x->has_key, h);
        else if (header_is(h, "sec-websocket-version"))
            bad |= collect(&x->version, &x->has_version, h);
        else if (header_is(h, "sec-websocket-protocol"))
            bad |= collect(&x->protocols, &x->has_protocols, h);
    }
    mock_ws_parser_init(&x->ws, EXEC_MAX_MESSAGE, NULL, NULL);
    if (bad) {
        mock_exec_close(x);
        return NULL;
    }
    return x;
}

/* ---- answers before the switch ---------------------------------------- */

/* Answers with the Status JSON (taken) and ends the stream. */
static void answer_json(struct mock_exec *x, int code, char *json)
{
    x->finished = 1;
    if (!json) {
        x->cb->error(x->ctx, 500, "InternalError", "out of memory");
        return;
    }
    char len[24];
    size_t n = strlen(json);
    snprintf(len, sizeof(len), "%zu", n);
    struct fg_header h[2] = {
        {"content-type", 12, "application/json", 16},
        {"content-length", 14, len, strlen(len)},
    };
    if (x->cb->head(x->ctx, code, h, 2) == 0 &&
        x->cb->data(x->ctx, json, n) >= 0)
        x->cb->end(x->ctx);
    free(json);
}

static void answer_status(struct mock_exec *x, int code, const char *reason,
                          const char *message)
{
    answer_json(x, code, mock_status_json(code, reason, message, NULL, NULL));
}

/* Every value of KEY in the query, percent-decoded, into x->argv. */
static int query_commands(struct mock_exec *x)
{
    const char *p = x->head->query;
    char *buf = malloc(EXEC_MAX_ARG);
    if (!buf)
        return -1;
    int rc = 0;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n >= 7 && strncmp(p, "command", 7) == 0 &&
            (n == 7 || p[7] == '=')) {
            /* fg_query_get decodes the first "command" from P: this one */
            int r = fg_query_get(p, "command", buf, EXEC_MAX_ARG);
            if (r < 0 || x->argc == EXEC_MAX_ARGS) {
                rc = -2;
                break;
            }
            x->argv[x->argc] = strdup(buf);
            if (!x->argv[x->argc]) {
                rc = -1;
                break;
            }
            x->argc++;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    free(buf);
    return rc;
}

/* kube-apiserver's defaults for PodExecOptions: stdout and stderr on. */
static int query_flag(const char *q, const char *key, int def)
{
    char v[16];
    int r = fg_query_get(q, key, v, sizeof(v));
    if (r <= 0)
        return def;
    int b = mock_parse_bool(v);
    return b < 0 ? def : b;
}

/* The container the request names, or the pod's only one. NULL after
 * answering the request with the reason. */
static const cJSON *pick_container(struct mock_exec *x, const cJSON *pod,
                                   const char *pod_name)
{
    const cJSON *list = mock_json_path(pod, "spec.containers");
    char want[EXEC_MAX_NAME];
    char msg[1024];
    int r = fg_query_get(x->head->query, "container", want, sizeof(want));
    if (r > 0 && want[0]) {
        const cJSON *c;
        cJSON_ArrayForEach(c, list)
        {
            if (strcmp(mock_json_str(c, "name", ""), want) == 0)
                return c;
        }
        snprintf(msg, sizeof(msg), "container %s is not valid for pod %s", want,
                 pod_name);
        answer_status(x, 400, "BadRequest", msg);
        return NULL;
    }
    int n = cJSON_GetArraySize(list);
    if (n == 1)
        return cJSON_GetArrayItem(list, 0);
    if (n == 0) {
        snprintf(msg, sizeof(msg), "pod %s does not have a host assigned",
                 pod_name);
        answer_status(x, 400, "BadRequest", msg);
        return NULL;
    }
    size_t o = (size_t)snprintf(msg, sizeof(msg),
                                "a container name must be specified for pod "
                                "%s, choose one of: [",
                                pod_name);
    const cJSON *c;
    int first = 1;
    cJSON_ArrayForEach(c, list)
    {
        if (o < sizeof(msg))
            o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s%s",
                                  first ? "" : " ",
                                  mock_json_str(c, "name", ""));
        first = 0;
    }
    if (o < sizeof(msg))
        snprintf(msg + o, sizeof(msg) - o, "]");
    answer_status(x, 400, "BadRequest", msg);
    return NULL;
}

/* The first subprotocol the client lists that the mock speaks, in the
 * client's order as kubelet picks it; 0 when there is none. */
static int pick_protocol(const char *list, const char **name)
{
    static const struct {
        const char *name;
        int version;
    } known[] = {
        {"v5.channel.k8s.io", 5},
        {"v4.channel.k8s.io", 4},
        {"channel.k8s.io", 1},
    };
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            size_t n = strlen(known[i].name);
            if ((size_t)(e - s) == n && memcmp(s, known[i].name, n) == 0) {
                *name = known[i].name;
                return known[i].version;
            }
        }
    }
    return 0;
}

/* ---- the session ------------------------------------------------------ */

static void end_now(struct mock_exec *x)
{
    if (x->finished)
        return;
    x->finished = 1;
    x->cb->end(x->ctx);
}

/* Hands x->frame to the client. */
static int emit(struct mock_exec *x)
{
    if (x->finished)
        return -1;
    int rc = x->cb->data(x->ctx, x->frame.p, x->frame.len);
    if (rc < 0) {
        x->finished = 1; /* the client is gone */
        return -1;
    }
    /* The client is full: take no more stdin, whose copies are what could
     * make the output grow, until it has room. (The core never resumes
     * from inside data(): driver.h.) */
    if (rc == FG_PAUSE && !x->out_paused) {
        x->out_paused = 1;
        x->cb->body_pause(x->ctx);
    }
    return 0;
}

static int send_message(struct mock_exec *x, int ch, const void *data,
                        size_t len)
{
    uint8_t c = (uint8_t)ch;
    x->payload.len = 0;
    x->frame.len = 0;
    if (mock_buf_add(&x->payload, (const char *)&c, 1) != 0 ||
        (len && mock_buf_add(&x->payload, data, len) != 0) ||
        mock_ws_frame(&x->frame, MOCK_WS_OP_BINARY, x->payload.p,
                      x->payload.len) != 0) {
        x->finished = 1;
        x->cb->error(x->ctx, 500, "InternalError", "out of memory");
        return -1;
    }
    return emit(x);
}

/* Output of the pretend process; dropped when the client did not ask for
 * that stream. */
static void out(struct mock_exec *x, int ch, const char *s, size_t len)
{
    if (len == 0 || x->finished || x->close_sent)
        return;
    if ((ch == CH_STDOUT && !x->want_stdout) ||
        (ch == CH_STDERR && !x->want_stderr))
        return;
    send_message(x, ch, s, len);
}

static void outs(struct mock_exec *x, int ch, const char *s)
{
    out(x, ch, s, strlen(s));
}

static void send_close(struct mock_exec *x, unsigned code, const char *reason)
{
    if (x->close_sent || x->finished)
        return;
    x->close_sent = 1;
    x->cat = 0;
    x->frame.len = 0;
    if (mock_ws_close_frame(&x->frame, code, reason) == 0)
        emit(x);
    end_now(x); /* RFC 6455 7.1.1: the server closes the connection first */
}

/* kubelet's Status for how the command ended (its writeStatus). */
static char *exit_status(const struct mock_exec *x, int code)
{
    if (code == 0)
        return strdup("{\"metadata\":{},\"status\":\"Success\"}");
    struct mock_buf cmd = {0};
    int bad = 0;
    for (size_t i = 0; i < x->argc; i++) {
        if (i)
            bad |= mock_buf_add(&cmd, " ", 1);
        bad |= mock_buf_adds(&cmd, x->argv[i]);
    }
    bad |= mock_buf_add(&cmd, "", 0);
    char num[16];
    snprintf(num, sizeof(num), "%d", code);
    size_t mlen = (cmd.p ? strlen(cmd.p) : 0) + 128;
    char *msg = malloc(mlen);
    cJSON *st = cJSON_CreateObject();
    char *json = NULL;
    if (!bad && msg && st) {
        /* Go prints the argv slice as [a b c] */
        snprintf(msg, mlen,
                 "command terminated with non-zero exit code: error "
                 "executing command [%s], exit code %d",
                 cmd.p, code);
        cJSON_AddObjectToObject(st, "metadata");
        cJSON_AddStringToObject(st, "status", "Failure");
        cJSON_AddStringToObject(st, "message", msg);
        cJSON_AddStringToObject(st, "reason", "NonZeroExitCode");
        cJSON *details = cJSON_AddObjectToObject(st, "details");
        cJSON *causes =
            details ? cJSON_AddArrayToObject(details, "causes") : NULL;
        cJSON *cause = cJSON_CreateObject();
        if (cause && causes) {
            cJSON_AddStringToObject(cause, "reason", "ExitCode");
            cJSON_AddStringToObject(cause, "message", num);
            cJSON_AddItemToArray(causes, cause);
        } else {
            cJSON_Delete(cause);
        }
        json = cJSON_PrintUnformatted(st);
    }
    cJSON_Delete(st);
    free(msg);
    mock_buf_free(&cmd);
    return json;
}

/* The command ended with CODE: its status, then the close. */
static void exited(struct mock_exec *x, int code)
{
    if (x->close_sent || x->finished)
        return;
    x->cat = 0;
    char *st = exit_status(x, code);
    if (!st) {
        x->finished = 1;
        x->cb->error(x->ctx, 500, "InternalError", "out of memory");
        return;
    }
    if (x->proto >= 4) {
        send_message(x, CH_ERROR, st, strlen(st));
    } else if (code != 0) {
        /* channel.k8s.io carries the error as text, not as a Status */
        cJSON *j = cJSON_Parse(st);
        const char *m = mock_json_str(j, "message", "");
        send_message(x, CH_ERROR, m, strlen(m));
        cJSON_Delete(j);
    }
    free(st);
    send_close(x, 1000, "");
}

/* ---- the pretend container ------------------------------------------- */

struct words {
    char *v[EXEC_MAX_ARGS];
    size_t n;
};

static void words_free(struct words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i]);
    w->n = 0;
}

/* Splits an "sh -c" script into the words of one simple command, with
 * sh's quoting: blanks separate, '...' is literal, "..." keeps \" \\ \$ \`
 * escapes, a backslash outside quotes escapes the next character. Returns
 * 0, -1 for an unterminated quote, -2 for an operator or an expansion this
 * shell does not run, -3 when out of memory or words. */
static int split_words(const char *s, struct words *w)
{
    struct mock_buf cur = {0};
    int in_word = 0, rc = 0;
    for (const char *p = s;; p++) {
        char c = *p;
        if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
            if (in_word) {
                if (w->n == EXEC_MAX_ARGS ||
                    (!cur.p && mock_buf_add(&cur, "", 0) != 0)) {
                    rc = -3;
                    break;
                }
                w->v[w->n++] = cur.p;
                cur = (struct mock_buf){0};
                in_word = 0;
            }
            if (c == '\0')
                break;
            continue;
        }
        if (strchr(";&|<>()$`*?[]{}~#", c)) {
            rc = -2;
            break;
        }
        in_word = 1;
        int bad = 0;
        if (c == '\\') {
            if (!p[1]) {
                rc = -1;
                break;
            }
            bad = mock_buf_add(&cur, ++p, 1);
        } else if (c == '\'') {
            const char *q = strchr(p + 1, '\'');
            if (!q) {
                rc = -1;
                break;
            }
            bad = mock_buf_add(&cur, p + 1, (size_t)(q - p - 1));
            p = q;
        } else if (c == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '$' || *p == '`') {
                    rc = -2;
                    break;
                }
                if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                    p++;
                bad |= mock_buf_add(&cur, p, 1);
            }
            if (rc)
                break;
            if (!*p) {
                rc = -1;
                break;
            }
        } else {
            bad = mock_buf_add(&cur, p, 1);
        }
        if (bad) {
            rc = -3;
            break;
        }
    }
    mock_buf_free(&cur);
    if (rc)
        words_free(w);
    return rc;
}

static const char *base_name(const char *s)
{
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

static int is_shell(const char *s)
{
    const char *b = base_name(s);
    return strcmp(b, "sh") == 0 || strcmp(b, "bash") == 0 ||
           strcmp(b, "ash") == 0 || strcmp(b, "dash") == 0;
}

static void cmd_echo(struct mock_exec *x, char *const *argv, size_t argc)
{
    struct mock_buf b = {0};
    size_t i = 1;
    int newline = 1, bad = 0;
    if (argc > 1 && strcmp(argv[1], "-n") == 0) {
        newline = 0;
        i = 2;
    }
    for (size_t first = i; i < argc; i++) {
        if (i > first)
            bad |= mock_buf_add(&b, " ", 1);
        bad |= mock_buf_adds(&b, argv[i]);
    }
    if (newline)
        bad |= mock_buf_add(&b, "\n", 1);
    if (!bad)
        out(x, CH_STDOUT, b.p, b.len);
    mock_buf_free(&b);
    exited(x, bad ? 1 : 0);
}

static void env_line(struct mock_exec *x, const char *name, const char *value)
{
    struct mock_buf b = {0};
    int bad = mock_buf_adds(&b, name) | mock_buf_add(&b, "=", 1) |
              mock_buf_adds(&b, value) | mock_buf_add(&b, "\n", 1);
    if (!bad)
        out(x, CH_STDOUT, b.p, b.len);
    mock_buf_free(&b);
}

/* What a container's environment holds: the image's PATH, HOSTNAME, the
 * pod spec's env (plain values; valueFrom needs objects the mock does not
 * resolve), the service links kubelet adds for the API, and HOME. */
static void cmd_env(struct mock_exec *x, const cJSON *container,
                    const char *pod)
{
    env_line(x, "PATH",
             "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    env_line(x, "HOSTNAME", pod);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(container, "env"))
    {
        const char *name = mock_json_str(e, "name", NULL);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
        if (!name || (!cJSON_IsString(v) &&
                      cJSON_GetObjectItemCaseSensitive(e, "valueFrom")))
            continue;
        env_line(x, name, cJSON_IsString(v) ? v->valuestring : "");
    }
    env_line(x, "KUBERNETES_SERVICE_HOST", "10.96.0.1");
    env_line(x, "KUBERNETES_SERVICE_PORT", "443");
    env_line(x, "KUBERNETES_SERVICE_PORT_HTTPS", "443");
    env_line(x, "KUBERNETES_PORT", "tcp://10.96.0.1:443");
    env_line(x, "HOME", "/root");
    exited(x, 0);
}

/* sh's exit: the status modulo 256; a non-number is sh's usage error. */
static void cmd_exit(struct mock_exec *x, char *const *argv, size_t argc)
{
    if (argc < 2) {
        exited(x, 0);
        return;
    }
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (!argv[1][0] || *end || v < 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "sh: exit: Illegal number: %.64s\n",
                 argv[1]);
        outs(x, CH_STDERR, msg);
        exited(x, 2);
        return;
    }
    exited(x, (int)(v & 255));
}

static void cmd_cat(struct mock_exec *x, char *const *argv, size_t argc)
{
    if (argc > 1) {
        /* The container has no files. */
        for (size_t i = 1; i < argc; i++) {
            char msg[EXEC_MAX_NAME + 64];
            snprintf(msg, sizeof(msg),
                     "cat: %.200s: No such file or directory\n", argv[i]);
            outs(x, CH_STDERR, msg);
        }
        exited(x, 1);
        return;
    }
    if (!x->want_stdin) {
        exited(x, 0); /* no stdin: it is empty */
        return;
    }
    x->cat = 1;
}

static void run_words(struct mock_exec *x, char *const *argv, size_t argc,
                      const cJSON *container, const char *pod)
{
    if (argc == 0) {
        exited(x, 0);
        return;
    }
    const char *name = base_name(argv[0]);
    if (strcmp(name, "echo") == 0) {
        cmd_echo(x, argv, argc);
    } else if (strcmp(name, "hostname") == 0) {
        char line[EXEC_MAX_NAME + 1];
        snprintf(line, sizeof(line), "%s\n", pod);
        outs(x, CH_STDOUT, line);
        exited(x, 0);
    } else if (strcmp(name, "env") == 0 || strcmp(name, "printenv") == 0) {
        cmd_env(x, container, pod);
    } else if (strcmp(name, "exit") == 0) {
        cmd_exit(x, argv, argc);
    } else if (strcmp(name, "true") == 0) {
        exited(x, 0);
    } else if (strcmp(name, "false") == 0) {
        exited(x, 1);
    } else if (strcmp(name, "cat") == 0) {
        cmd_cat(x, argv, argc);
    } else {
        char msg[256];
        snprintf(msg, sizeof(msg), "%.200s: command not found\n", argv[0]);
        outs(x, CH_STDERR, msg);
        exited(x, 127);
    }
}

static void run(struct mock_exec *x, const cJSON *container, const char *pod)
{
    if (!is_shell(x->argv[0])) {
        run_words(x, x->argv, x->argc, container, pod);
        return;
    }
    if (x->argc < 3 || strcmp(x->argv[1], "-c") != 0) {
        outs(x, CH_STDERR,
             "sh: the mock container's shell only runs \"sh -c COMMAND\"\n");
        exited(x, 2);
        return;
    }
    struct words w = {{0}, 0};
    int r = split_words(x->argv[2], &w);
    if (r == -1) {
        outs(x, CH_STDERR, "sh: syntax error: unterminated quoted string\n");
        exited(x, 2);
    } else if (r == -2) {
        outs(x, CH_STDERR,
             "sh: the mock container's shell runs one simple command, "
             "without operators, globs or expansions\n");
        exited(x, 2);
    } else if (r < 0) {
        x->finished = 1;
        x->cb->error(x->ctx, 500, "InternalError", "out of memory");
    } else {
        run_words(x, w.v, w.n, container, pod);
    }
    words_free(&w);
}

/* The pretend process starts (exec_start_delay after the 101): it runs,
 * and stdin, held meanwhile, flows again. */
static void start_process(void *arg)
{
    struct mock_exec *x = arg;
    x->in->host->timer_free(x->start_timer);
    x->start_timer = NULL;
    if (!x->finished)
        run(x, x->start_container, x->route.name);
    cJSON_Delete(x->start_container);
    x->start_container = NULL;
    if (!x->finished && !x->out_paused)
        x->cb->body_resume(x->ctx);
}

/* ---- client messages --------------------------------------------------- */

static void channel_message(struct mock_exec *x, const uint8_t *d, size_t len)
{
    if (len == 0)
        return;
    int ch = d[0];
    if (ch == CH_STDIN) {
        if (x->cat)
            out(x, CH_STDOUT, (const char *)d + 1, len - 1);
    } else if (ch == CH_CLOSE && x->proto == 5 && len >= 2 &&
               d[1] == CH_STDIN) {
        if (x->cat)
            exited(x, 0); /* cat's stdin ended */
    }
    /* resize (4) and anything else: the pretend process has no terminal */
}

static int on_ws(void *arg, int op, const uint8_t *d, size_t len)
{
    struct mock_exec *x = arg;
    if (x->finished)
        return 1;
    switch (op) {
    case MOCK_WS_OP_CLOSE:
        x->close_received = 1;
        if (x->cat) {
            exited(x, 0); /* v4's only end of stdin; we answer the close */
        } else {
            send_close(x, 1000, "");
        }
        return 1; /* nothing after a close counts (RFC 6455 5.5.1) */
    case MOCK_WS_OP_PING:
        if (!x->close_sent) {
            x->frame.len = 0;
            if (mock_ws_frame(&x->frame, MOCK_WS_OP_PONG, d, len) == 0)
                emit(x);
        }
        return x->finished;
    case MOCK_WS_OP_PONG:
        return 0;
    default:
        if (!x->close_sent)
            channel_message(x, d, len);
        return x->finished;
    }
}

int mock_exec_write(struct mock_exec *x, const void *buf, size_t len)
{
    /* Before the switch this is a request body, which exec has not; after
     * either close, what the client sends goes nowhere. */
    if (!x->upgraded || x->finished || x->close_received)
        return 0;
    if (mock_ws_parse(&x->ws, buf, len, NULL) < 0 && !x->finished) {
        x->in->host->log(x->in->host, FG_LOG_DEBUG,
                         "exec: closing a WebSocket: %s", x->ws.error);
        send_close(x, x->ws.close_code, x->ws.error);
    }
    return 0;
}

/* ---- the answer -------------------------------------------------------- */

/* Checks the handshake and switches. Returns the 101's success. */
static int handshake(struct mock_exec *x)
{
    char msg[512];
    if (!x->has_version || strcmp(x->version.p, "13") != 0) {
        answer_status(x, 400, "BadRequest",
                      "the WebSocket handshake needs Sec-WebSocket-Version: "
                      "13");
        return 0;
    }
    char accept[29];
    if (!x->has_key || mock_ws_accept(x->key.p, x->key.len, accept) != 0) {
        answer_status(x, 400, "BadRequest",
                      "the WebSocket handshake needs a Sec-WebSocket-Key "
                      "that is a base64 16-byte nonce");
        return 0;
    }
    const char *proto = NULL;
    x->proto = 1; /* no subprotocol offered: channel.k8s.io */
    if (x->has_protocols && x->protocols.len) {
        x->proto = pick_protocol(x->protocols.p, &proto);
        if (!x->proto) {
            snprintf(msg, sizeof(msg),
                     "none of the requested WebSocket subprotocols [%.300s] "
                     "is supported; supported: v5.channel.k8s.io, "
                     "v4.channel.k8s.io, channel.k8s.io",
                     x->protocols.p);
            answer_status(x, 400, "BadRequest", msg);
            return 0;
        }
    }
    struct fg_header h[2] = {{"sec-websocket-accept", 20, accept, 28}};
    size_t nh = 1;
    if (proto)
        h[nh++] = (struct fg_header){"sec-websocket-protocol", 22, proto,
                                     strlen(proto)};
    x->ws.on_message = on_ws;
    x->ws.arg = x;
    if (x->cb->head(x->ctx, 101, h, nh) != 0) {
        x->finished = 1;
        return 0;
    }
    x->upgraded = 1;
    return 1;
}

void mock_exec_end(struct mock_exec *x)
{
    if (x->ended || x->finished)
        return;
    x->ended = 1;
    const char *method = x->head->method, *name = x->route.name;
    char msg[512];
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) {
        answer_status(
            x, 405, "MethodNotAllowed",
            "the server does not allow this method on the requested resource");
        return;
    }
    const struct mock_kind *k = mock_kind_by_resource("", "v1", "pods");
    const struct mock_obj *o =
        mock_store_get(x->in->store, k, x->route.ns, name);
    if (!o) {
        answer_json(x, 404, mock_status_not_found(k, name));
        return;
    }
    const cJSON *container = pick_container(x, o->json, name);
    if (!container)
        return;
    if (strcmp(x->route.sub, "attach") == 0) {
        snprintf(msg, sizeof(msg),
                 "attach is not supported by this mock member: container %s "
                 "of pod %s runs no process to attach to; use exec",
                 mock_json_str(container, "name", ""), name);
        answer_status(x, 400, "BadRequest", msg);
        return;
    }
    int r = query_commands(x);
    if (r == -1) {
        answer_status(x, 500, "InternalError", "out of memory");
        return;
    }
    if (r < 0) {
        answer_status(x, 400, "BadRequest",
                      "the command has too many or too long arguments");
        return;
    }
    if (x->argc == 0) {
        answer_status(x, 400, "BadRequest",
                      "you must specify at least 1 command");
        return;
    }
    const char *query = x->head->query;
    x->want_stdin = query_flag(query, "stdin", 0);
    x->want_stdout = query_flag(query, "stdout", 1);
    x->want_stderr = query_flag(query, "stderr", 1);
    if (!x->want_stdin && !x->want_stdout && !x->want_stderr) {
        answer_status(x, 400, "BadRequest",
                      "you must specify at least one of stdin, stdout, "
                      "stderr");
        return;
    }
    if (x->upgrade == UP_NONE) {
        answer_status(x, 400, "BadRequest", "Upgrade request required");
        return;
    }
    if (x->upgrade == UP_SPDY) {
        answer_status(x, 400, "BadRequest",
                      "SPDY/3.1 is not supported by this mock member: exec "
                      "works over WebSocket (v5.channel.k8s.io, "
                      "v4.channel.k8s.io, channel.k8s.io) only");
        return;
    }
    if (!handshake(x))
        return;
    const struct fg_host *host = x->in->host;
    if (x->in->exec_start_ms == 0) {
        /* The store may change after this call: the container is used
         * now, while it is valid (the pod's name is the request's). */
        run(x, container, name);
        return;
    }
    x->start_container = cJSON_Duplicate(container, 1);
    x->start_timer = host->timer_new(host, start_process, x);
    if (!x->start_container || !x->start_timer) {
        x->finished = 1;
        x->cb->error(x->ctx, 500, "InternalError", "out of memory");
        return;
    }
    x->cb->body_pause(x->ctx);
    host->timer_arm(x->start_timer, x->in->exec_start_ms);
}

void mock_exec_resume(struct mock_exec *x)
{
    if (x->out_paused) {
        x->out_paused = 0;
        if (!x->finished && !x->start_timer)
            x->cb->body_resume(x->ctx);
    }
}

void mock_exec_close(struct mock_exec *x)
{
    if (!x)
        return;
    mock_ws_parser_free(&x->ws);
    if (x->start_timer)
        x->in->host->timer_free(x->start_timer);
    cJSON_Delete(x->start_container);
    for (size_t i = 0; i < x->argc; i++)
        free(x->argv[i]);
    mock_buf_free(&x->key);
    mock_buf_free(&x->version);
    mock_buf_free(&x->protocols);
    mock_buf_free(&x->payload);
    mock_buf_free(&x->frame);
    free(x);
}
