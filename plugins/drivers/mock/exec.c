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
 * Over SPDY/3.1 (kubectl's fallback when the WebSocket upgrade fails,
 * client-go's default: X-Stream-Protocol-Version v5 to v2.channel.k8s.io)
 * the client opens one stream per channel, named by its streamType header
 * (stdin, stdout, stderr, error, resize); the command starts once the
 * streams the query asked for are open, as kubelet waits for them. Its
 * end is the status on the error stream and a FIN on each stream the
 * server writes, then the connection closes.
 *
 * pods/attach is refused with a 400: the mock's containers run no main
 * process to attach to. */
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
    CH_RESIZE = 4,
    CH_CLOSE = 255, /* v5: the payload's next byte is the stream closed */
};

struct mock_exec {
    struct mock_instance *in;
    const struct fg_stream_callbacks *cb;
    void *ctx;
    /* the request, read in place: valid until stream_close (driver.h) */
    const struct fg_request_head *head;
    struct mock_route route; /* the pod and subresource */
    struct mock_upgrade up;

    int ended;    /* stream_end seen: the answer was decided */
    int finished; /* end() or error() given, or the client is gone */
    int upgraded; /* the 101 went out */
    int proto;    /* 1 (channel.k8s.io) to 5 */
    int want_stdin, want_stdout, want_stderr, tty;
    char *argv[EXEC_MAX_ARGS]; /* the command as the client gave it */
    size_t argc;
    int cat;       /* cat runs: stdin goes to stdout until it ends */
    int tar_x;     /* tar x runs: stdin is gathered until it ends */
    char *tar_dir; /* ... and extracted here */
    struct mock_buf stdin_buf;
    char *uid;      /* the pod's: its files (podfs.c) */
    int close_sent; /* our close frame is out: the session is over */
    int close_received;
    int out_paused; /* data() said FG_PAUSE: stdin is paused too */
    /* Until the pretend process starts (exec_start_delay), stdin waits
     * (the body is paused) and these hold what the start needs. */
    struct fg_timer *start_timer;
    cJSON *start_container;
    struct mock_ws_parser ws;
    struct mock_buf payload, frame;
    /* SPDY/3.1: the session, and each channel's stream (0: not open) */
    int spdy_on;
    struct mock_spdy spdy;
    uint32_t sid[CH_RESIZE + 1], last_id;
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
    mock_ws_parser_init(&x->ws, EXEC_MAX_MESSAGE, NULL, NULL);
    if (mock_upgrade_init(&x->up, head, cb, ctx) != 0) {
        mock_exec_close(x);
        return NULL;
    }
    return x;
}

/* ---- answers before the switch ---------------------------------------- */

static void answer_status(struct mock_exec *x, int code, const char *reason,
                          const char *message)
{
    x->finished = 1;
    mock_upgrade_status(&x->up, code, reason, message);
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
    const cJSON *list = fg_json_path(pod, "spec.containers");
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

static void out_of_memory(struct mock_exec *x)
{
    x->finished = 1;
    x->cb->error(x->ctx, 500, "InternalError", "out of memory");
}

/* A data frame on channel CH's SPDY stream (none: dropped), FIN ends it. */
static int send_spdy(struct mock_exec *x, int ch, const void *data, size_t len,
                     int fin)
{
    if (!x->sid[ch])
        return 0;
    x->frame.len = 0;
    if (mock_spdy_data(&x->frame, x->sid[ch], fin, data, len) != 0) {
        out_of_memory(x);
        return -1;
    }
    return emit(x);
}

static int send_message(struct mock_exec *x, int ch, const void *data,
                        size_t len)
{
    if (x->spdy_on)
        return send_spdy(x, ch, data, len, 0);
    uint8_t c = (uint8_t)ch;
    x->payload.len = 0;
    x->frame.len = 0;
    if (mock_buf_add(&x->payload, (const char *)&c, 1) != 0 ||
        (len && mock_buf_add(&x->payload, data, len) != 0) ||
        mock_ws_frame(&x->frame, MOCK_WS_OP_BINARY, x->payload.p,
                      x->payload.len) != 0) {
        out_of_memory(x);
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

/* SPDY: the streams the server writes end, then the connection. */
static void spdy_finish(struct mock_exec *x)
{
    if (x->close_sent || x->finished)
        return;
    x->close_sent = 1;
    x->cat = 0;
    for (int ch = CH_STDOUT; ch <= CH_ERROR && !x->finished; ch++)
        send_spdy(x, ch, NULL, 0, 1);
    end_now(x);
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
        out_of_memory(x);
        return;
    }
    if (x->proto >= 4) {
        send_message(x, CH_ERROR, st, strlen(st));
    } else if (code != 0) {
        /* channel.k8s.io to v3 carry the error as text, not a Status */
        cJSON *j = cJSON_Parse(st);
        const char *m = mock_json_str(j, "message", "");
        send_message(x, CH_ERROR, m, strlen(m));
        cJSON_Delete(j);
    }
    free(st);
    if (x->spdy_on)
        spdy_finish(x);
    else
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
        int code = 0;
        for (size_t i = 1; i < argc && !x->finished; i++) {
            char path[EXEC_MAX_ARG + 2], msg[EXEC_MAX_NAME + 64];
            const struct mock_file *f = NULL;
            if (mock_path_join(argv[i], NULL, path, sizeof(path)) == 0)
                f = mock_podfs_get(x->in->podfs, x->uid, path);
            if (f && !f->is_dir) {
                out(x, CH_STDOUT, f->data, f->len);
                continue;
            }
            snprintf(msg, sizeof(msg), "cat: %.200s: %s\n", argv[i],
                     f || mock_podfs_is_dir(x->in->podfs, x->uid, path)
                         ? "Is a directory"
                         : "No such file or directory");
            outs(x, CH_STDERR, msg);
            code = 1;
        }
        exited(x, code);
        return;
    }
    if (!x->want_stdin) {
        exited(x, 0); /* no stdin: it is empty */
        return;
    }
    x->cat = 1;
}

/* test -d/-e/-f PATH (what kubectl cp asks of its destination). */
static void cmd_test(struct mock_exec *x, char *const *argv, size_t argc)
{
    char path[EXEC_MAX_ARG + 2];
    if (argc != 3 || strlen(argv[1]) != 2 || !strchr("def", argv[1][1]) ||
        argv[1][0] != '-' ||
        mock_path_join(argv[2], NULL, path, sizeof(path)) != 0) {
        exited(x, 2);
        return;
    }
    const struct mock_file *f = mock_podfs_get(x->in->podfs, x->uid, path);
    int dir = mock_podfs_is_dir(x->in->podfs, x->uid, path);
    int ok = argv[1][1] == 'd'   ? dir
             : argv[1][1] == 'f' ? f && !f->is_dir
                                 : f || dir;
    exited(x, ok ? 0 : 1);
}

static void tar_usage(struct mock_exec *x, const char *why)
{
    char msg[256];
    snprintf(msg, sizeof(msg),
             "tar: %s\nTry 'tar --help' or 'tar --usage' for more "
             "information.\n",
             why);
    outs(x, CH_STDERR, msg);
    exited(x, 2);
}

/* tar's create (c) or extract (x) on an archive piped through stdin or
 * stdout ("f -"), with -C DIR; GNU tar's option clusters, the first
 * without its dash ("cf"); long options (--no-same-owner, ...) and the
 * letters m, p, o, v change nothing here. */
static void cmd_tar(struct mock_exec *x, char *const *argv, size_t argc)
{
    int mode = 0, piped = 0;
    const char *dir = "/", *path = NULL;
    for (size_t i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) == 0)
            continue;
        if (a[0] != '-' && i > 1) {
            if (path) {
                tar_usage(x, "the mock's tar takes one path");
                return;
            }
            path = a;
            continue;
        }
        for (const char *c = a[0] == '-' ? a + 1 : a; *c; c++) {
            if (*c == 'c' || *c == 'x') {
                mode = *c;
            } else if (*c == 'f' || *c == 'C') {
                if (i + 1 >= argc) {
                    tar_usage(x, "option requires an argument");
                    return;
                }
                if (*c == 'C')
                    dir = argv[++i];
                else
                    piped = strcmp(argv[++i], "-") == 0;
            } else if (!strchr("mpov", *c)) {
                tar_usage(x, "an option the mock's tar does not have");
                return;
            }
        }
    }
    if (!mode || !piped) {
        tar_usage(x, "the mock's tar runs \"tar cf - PATH\" or "
                     "\"tar xf - [-C DIR]\"");
        return;
    }
    char full[EXEC_MAX_ARG + 2], err[512];
    if (mode == 'c') {
        struct mock_buf b = {0};
        if (!path || mock_path_join(path, NULL, full, sizeof(full)) != 0) {
            tar_usage(x, "Cowardly refusing to create an empty archive");
        } else if (mock_tar_create(x->in->podfs, x->uid, full, &b, err,
                                   sizeof(err)) != 0) {
            outs(x, CH_STDERR, err);
            exited(x, 2);
        } else {
            if (full[1] && path[0] == '/')
                outs(x, CH_STDERR,
                     "tar: Removing leading `/' from member names\n");
            out(x, CH_STDOUT, b.p, b.len);
            exited(x, 0);
        }
        mock_buf_free(&b);
        return;
    }
    if (mock_path_join(dir, NULL, full, sizeof(full)) != 0 ||
        !(x->tar_dir = strdup(full))) {
        out_of_memory(x);
        return;
    }
    if (!mock_podfs_is_dir(x->in->podfs, x->uid, full)) {
        snprintf(err, sizeof(err),
                 "tar: %.200s: Cannot open: No such file or directory\n", dir);
        outs(x, CH_STDERR, err);
        exited(x, 2);
        return;
    }
    if (!x->want_stdin) {
        tar_usage(x, "This does not look like a tar archive");
        return;
    }
    x->tar_x = 1;
}

/* stdin bytes for the command that reads them. */
static void stdin_data(struct mock_exec *x, const char *d, size_t len)
{
    if (x->cat) {
        out(x, CH_STDOUT, d, len);
    } else if (x->tar_x) {
        if (x->stdin_buf.len + len > x->in->stdin_max) {
            x->tar_x = 0;
            outs(x, CH_STDERR,
                 "tar: the archive is larger than the "
                 "container's space: No space left on "
                 "device\n");
            exited(x, 2);
        } else if (mock_buf_add(&x->stdin_buf, d, len) != 0) {
            out_of_memory(x);
        }
    }
}

/* stdin ended: cat ends, tar extracts what it gathered. */
static void stdin_ended(struct mock_exec *x)
{
    if (x->cat) {
        exited(x, 0);
    } else if (x->tar_x) {
        char err[512];
        x->tar_x = 0;
        if (mock_tar_extract(x->in->podfs, x->uid, x->tar_dir,
                             (const uint8_t *)x->stdin_buf.p, x->stdin_buf.len,
                             err, sizeof(err)) != 0) {
            outs(x, CH_STDERR, err);
            exited(x, 2);
        } else {
            exited(x, 0);
        }
    }
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
    } else if (strcmp(name, "tar") == 0) {
        cmd_tar(x, argv, argc);
    } else if (strcmp(name, "test") == 0) {
        cmd_test(x, argv, argc);
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
        out_of_memory(x);
    } else {
        run_words(x, w.v, w.n, container, pod);
    }
    words_free(&w);
}

static void spdy_input(struct mock_exec *x, const uint8_t *d, size_t len);

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
    /* SPDY frames after the last stream's waited in the reader */
    x->spdy.held = 0;
    if (x->spdy_on && !x->finished)
        spdy_input(x, NULL, 0);
    if (!x->finished && !x->out_paused)
        x->cb->body_resume(x->ctx);
}

/* The command starts now, or after exec_start_delay (stdin held). */
static void start(struct mock_exec *x, const cJSON *container)
{
    const struct fg_host *host = x->in->host;
    if (x->in->exec_start_ms == 0) {
        run(x, container, x->route.name);
        return;
    }
    x->start_timer = host->timer_new(host, start_process, x);
    if (!x->start_timer) {
        out_of_memory(x);
        return;
    }
    x->spdy.held = 1; /* frames wait for the start */
    x->cb->body_pause(x->ctx);
    host->timer_arm(x->start_timer, x->in->exec_start_ms);
}

/* ---- client messages --------------------------------------------------- */

static void channel_message(struct mock_exec *x, const uint8_t *d, size_t len)
{
    if (len == 0)
        return;
    int ch = d[0];
    if (ch == CH_STDIN) {
        stdin_data(x, (const char *)d + 1, len - 1);
    } else if (ch == CH_CLOSE && x->proto == 5 && len >= 2 &&
               d[1] == CH_STDIN) {
        stdin_ended(x);
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
        if (x->cat || x->tar_x) {
            stdin_ended(x); /* v4's only end of stdin; we answer the close */
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

/* Ends the SPDY session after a GOAWAY with STATUS. */
static void spdy_goaway(struct mock_exec *x, uint32_t status, const char *why)
{
    if (x->finished)
        return;
    x->in->host->log(x->in->host, FG_LOG_DEBUG,
                     "exec: closing a SPDY session: %s", why);
    x->frame.len = 0;
    if (mock_spdy_goaway(&x->frame, x->last_id, status) == 0)
        emit(x);
    end_now(x);
}

/* The streams the query asks for are open: kubelet's condition to run. */
static int streams_ready(const struct mock_exec *x)
{
    return x->sid[CH_ERROR] && (!x->want_stdin || x->sid[CH_STDIN]) &&
           (!x->want_stdout || x->sid[CH_STDOUT]) &&
           (!x->want_stderr || x->tty || x->sid[CH_STDERR]);
}

static void spdy_stream(struct mock_exec *x, const struct mock_spdy_frame *f)
{
    static const char *const types[] = {"stdin", "stdout", "stderr", "error",
                                        "resize"};
    if (f->stream_id == 0 || !(f->stream_id & 1) ||
        f->stream_id <= x->last_id) {
        spdy_goaway(x, MOCK_SPDY_PROTOCOL_ERROR,
                    "a client stream id is even or not increasing");
        return;
    }
    x->last_id = f->stream_id;
    const struct mock_spdy_header *h = mock_spdy_header(&x->spdy, "streamtype");
    int ch = -1;
    for (int i = 0; h && i <= CH_RESIZE; i++) {
        if (h->value_len == strlen(types[i]) &&
            memcmp(h->value, types[i], h->value_len) == 0)
            ch = i;
    }
    x->frame.len = 0;
    if (ch < 0 || x->sid[ch]) {
        if (mock_spdy_rst(&x->frame, f->stream_id,
                          ch < 0 ? MOCK_SPDY_PROTOCOL_ERROR
                                 : MOCK_SPDY_STREAM_IN_USE) == 0)
            emit(x);
        return;
    }
    int was_ready = streams_ready(x);
    x->sid[ch] = f->stream_id;
    if (mock_spdy_syn_reply(&x->spdy, &x->frame, f->stream_id, 0, NULL, 0)) {
        out_of_memory(x);
        return;
    }
    if (emit(x) == 0 && !was_ready && streams_ready(x))
        start(x, x->start_container);
}

static int on_spdy(void *arg, const struct mock_spdy_frame *f)
{
    struct mock_exec *x = arg;
    switch (f->type) {
    case MOCK_SPDY_SYN_STREAM:
        spdy_stream(x, f);
        break;
    case MOCK_SPDY_DATA:
        if (!f->stream_id || f->stream_id != x->sid[CH_STDIN])
            break; /* resize, or the server's streams: nothing to read */
        if (f->len)
            stdin_data(x, (const char *)f->data, f->len);
        if (f->flags & MOCK_SPDY_FIN)
            stdin_ended(x);
        break;
    case MOCK_SPDY_PING:
        x->frame.len = 0;
        if (mock_spdy_ping(&x->frame, f->value) != 0)
            out_of_memory(x);
        else
            emit(x);
        break;
    case MOCK_SPDY_GOAWAY:
        end_now(x);
        break;
    default: /* RST_STREAM, SETTINGS, WINDOW_UPDATE, HEADERS */
        break;
    }
    /* while the command has not started, later frames wait */
    return x->finished || x->spdy.held;
}

static void spdy_input(struct mock_exec *x, const uint8_t *d, size_t len)
{
    if (mock_spdy_parse(&x->spdy, d, len) < 0)
        spdy_goaway(x, x->spdy.goaway_status, x->spdy.error);
}

int mock_exec_write(struct mock_exec *x, const void *buf, size_t len)
{
    /* Before the switch this is a request body, which exec has not; after
     * either close, what the client sends goes nowhere. */
    if (!x->upgraded || x->finished || x->close_received)
        return 0;
    if (x->spdy_on) {
        spdy_input(x, buf, len);
        return 0;
    }
    if (mock_ws_parse(&x->ws, buf, len, NULL) < 0 && !x->finished) {
        x->in->host->log(x->in->host, FG_LOG_DEBUG,
                         "exec: closing a WebSocket: %s", x->ws.error);
        send_close(x, x->ws.close_code, x->ws.error);
    }
    return 0;
}

/* ---- the answer -------------------------------------------------------- */

/* The WebSocket or SPDY/3.1 handshake; 1 when switched. */
static int handshake(struct mock_exec *x)
{
    static const char *const ws_known[] = {
        "v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io", NULL};
    static const int ws_proto[] = {5, 4, 1};
    static const char *const spdy_known[] = {
        "v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io",
        "v2.channel.k8s.io", NULL};
    static const int spdy_proto[] = {5, 4, 3, 2};
    if (x->up.kind == MOCK_UP_SPDY) {
        if (mock_spdy_init(&x->spdy, &x->in->spdy, on_spdy, x) != 0) {
            answer_status(x, 500, "InternalError", "out of memory");
            return 0;
        }
        int pick = mock_upgrade_spdy(&x->up, spdy_known);
        if (pick < 0) {
            x->finished = 1;
            return 0;
        }
        x->proto = spdy_proto[pick];
        x->spdy_on = 1;
    } else {
        /* no subprotocol offered: channel.k8s.io */
        int pick = mock_upgrade_websocket(&x->up, ws_known, 2);
        if (pick < 0) {
            x->finished = 1;
            return 0;
        }
        x->proto = ws_proto[pick];
        x->ws.on_message = on_ws;
        x->ws.arg = x;
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
        x->finished = 1;
        mock_upgrade_answer(&x->up, 404, mock_status_not_found(k, name));
        return;
    }
    char uid[MOCK_UID_MAX];
    x->uid = strdup(mock_doc_uid(o->doc, uid, sizeof(uid)));
    cJSON *pod = mock_obj_json(o);
    if (!x->uid || !pod) {
        cJSON_Delete(pod);
        answer_status(x, 500, "InternalError", "out of memory");
        return;
    }
    /* The store may change before the command starts: it runs in a copy
     * of the container as it is now. */
    const cJSON *picked = pick_container(x, pod, name);
    x->start_container = picked ? cJSON_Duplicate(picked, 1) : NULL;
    cJSON_Delete(pod);
    if (!picked)
        return;
    const cJSON *container = x->start_container;
    if (!container) {
        out_of_memory(x);
        return;
    }
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
    x->tty = query_flag(query, "tty", 0);
    if (!x->want_stdin && !x->want_stdout && !x->want_stderr) {
        answer_status(x, 400, "BadRequest",
                      "you must specify at least one of stdin, stdout, "
                      "stderr");
        return;
    }
    if (x->up.kind == MOCK_UP_NONE) {
        answer_status(x, 400, "BadRequest", "Upgrade request required");
        return;
    }
    if (!handshake(x))
        return;
    /* over SPDY the command starts once its streams are open */
    if (!x->spdy_on)
        start(x, container);
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
    mock_spdy_free(&x->spdy);
    mock_upgrade_free(&x->up);
    mock_buf_free(&x->stdin_buf);
    free(x->tar_dir);
    free(x->uid);
    if (x->start_timer)
        x->in->host->timer_free(x->start_timer);
    cJSON_Delete(x->start_container);
    for (size_t i = 0; i < x->argc; i++)
        free(x->argv[i]);
    mock_buf_free(&x->payload);
    mock_buf_free(&x->frame);
    free(x);
}
