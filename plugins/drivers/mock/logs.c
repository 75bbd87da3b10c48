/* pods/NAME/log for the mock member: a container's log text, from the
 * pod's annotations (see seed.c) or made up from its containers, with
 * kubelet's parameters (container, previous, timestamps, sinceSeconds,
 * sinceTime, tailLines, limitBytes) and follow, which keeps the stream open
 * and adds a line about every second until the client goes away.
 *
 * Lines carry no time of their own; the log's clock puts line I at the
 * container's start plus I seconds, which gives timestamps= and sinceSeconds=
 * something stable to work on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define MOCK_LOG_ANNOTATION "mock.fedgate.io/log"
#define MOCK_PREV_ANNOTATION "mock.fedgate.io/previous-log"
#define MOCK_FOLLOW_MS 1000
/* A follower whose client stops reading keeps at most this much. */
#define MOCK_FOLLOW_PENDING (64 * 1024)

struct log_params {
    const char *container;
    int previous, timestamps, follow;
    int64_t since_ms; /* only lines at or after; 0: all */
    int64_t tail;     /* -1: all */
    int64_t limit;    /* -1: no limit */
};

static int bad_request(struct mock_answer *a, const char *msg)
{
    return mock_answer_body(
        a, 400, mock_status_json(400, "BadRequest", msg, NULL, NULL),
        "application/json");
}

static void timestamp(int64_t ms, char *buf, size_t len)
{
    char sec[32];
    mock_time_format(ms - ms % 1000, sec, sizeof(sec));
    /* "2026-11-25T00:00:00Z" -> "2026-11-25T00:00:00.000000000Z" */
    size_t n = strlen(sec);
    if (n > 0)
        sec[n - 1] = '\0';
    snprintf(buf, len, "%s.%09lldZ", sec, (long long)(ms % 1000) * 1000000);
}

/* ---- which container, which text -------------------------------------- */

static const cJSON *container_status(const cJSON *pod, const char *name)
{
    const char *lists[] = {"status.containerStatuses",
                           "status.initContainerStatuses"};
    for (size_t l = 0; l < 2; l++) {
        const cJSON *cs;
        cJSON_ArrayForEach(cs, fg_json_path(pod, lists[l]))
        {
            if (strcmp(mock_json_str(cs, "name", ""), name) == 0)
                return cs;
        }
    }
    return NULL;
}

static int names_into(const cJSON *list, char *buf, size_t len)
{
    const cJSON *c;
    size_t n = 0;
    int count = 0;
    buf[0] = '\0';
    cJSON_ArrayForEach(c, list)
    {
        int w = snprintf(buf + n, len - n, "%s%s", count ? " " : "",
                         mock_json_str(c, "name", ""));
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
        count++;
    }
    return count;
}

/* The container the request is for, or NULL after answering A. */
static const cJSON *pick_container(const cJSON *pod, const char *pod_name,
                                   const char *want, struct mock_answer *a,
                                   int *rc)
{
    const cJSON *containers = fg_json_path(pod, "spec.containers");
    const cJSON *inits = fg_json_path(pod, "spec.initContainers");
    char msg[1024];
    if (!want || !*want) {
        if (cJSON_GetArraySize(containers) == 1)
            return cJSON_GetArrayItem(containers, 0);
        char names[400], inames[400];
        names_into(containers, names, sizeof(names));
        if (names_into(inits, inames, sizeof(inames)) > 0)
            snprintf(msg, sizeof(msg),
                     "a container name must be specified for pod %s, choose "
                     "one of: [%s] or one of the init containers: [%s]",
                     pod_name, names, inames);
        else
            snprintf(msg, sizeof(msg),
                     "a container name must be specified for pod %s, choose "
                     "one of: [%s]",
                     pod_name, names);
        *rc = bad_request(a, msg);
        return NULL;
    }
    const cJSON *lists[] = {containers, inits};
    for (size_t l = 0; l < 2; l++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, lists[l])
        {
            if (strcmp(mock_json_str(c, "name", ""), want) == 0)
                return c;
        }
    }
    snprintf(msg, sizeof(msg), "container %.253s is not valid for pod %s", want,
             pod_name);
    *rc = bad_request(a, msg);
    return NULL;
}

static const char *annotation(const cJSON *pod, const char *base,
                              const char *container)
{
    const cJSON *ann = fg_json_path(pod, "metadata.annotations");
    char key[320];
    snprintf(key, sizeof(key), "%s.%s", base, container);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ann, key);
    if (!cJSON_IsString(v))
        v = cJSON_GetObjectItemCaseSensitive(ann, base);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void add_line(struct mock_buf *b, const char *line)
{
    mock_buf_adds(b, line);
    mock_buf_add(b, "\n", 1);
}

/* A believable log for a container without one in the seed: what a
 * typical service prints while it starts, and, for the run before a
 * restart, how it ended. */
static char *generated_log(const cJSON *pod, const cJSON *c,
                           const cJSON *last_term, int previous)
{
    struct mock_buf b = {0};
    char line[512];
    const char *name = mock_json_str(c, "name", "app");
    const cJSON *port = fg_json_path(
        cJSON_GetArrayItem(fg_json_path(c, "ports"), 0), "containerPort");
    snprintf(line, sizeof(line), "starting %s (image %s)", name,
             mock_json_str(c, "image", "app"));
    add_line(&b, line);
    snprintf(line, sizeof(line),
             "loading configuration from /etc/%s/config.yaml", name);
    add_line(&b, line);
    snprintf(line, sizeof(line), "pod %s in namespace %s",
             mock_json_str(pod, "metadata.name", ""),
             mock_json_str(pod, "metadata.namespace", ""));
    add_line(&b, line);
    add_line(&b, "connected to upstream services");
    if (cJSON_IsNumber(port)) {
        snprintf(line, sizeof(line), "listening on 0.0.0.0:%d", port->valueint);
        add_line(&b, line);
    }
    add_line(&b, "ready to serve requests");
    if (previous && last_term) {
        const char *reason = mock_json_str(last_term, "reason", "Error");
        if (strcmp(reason, "OOMKilled") == 0) {
            add_line(&b, "warning: heap usage at 96% of the memory limit");
        } else {
            add_line(&b, "error: lost connection to a dependency: "
                         "connection refused");
            add_line(&b, "fatal: giving up after 5 retries, exiting");
        }
    }
    if (!b.p)
        return strdup("");
    return b.p;
}

/* ---- producing the text ------------------------------------------------ */

/* The lines of TEXT from START_MS (one second apart) that the parameters
 * keep, with timestamps when asked, into OUT. */
static int render(const char *text, int64_t start_ms,
                  const struct log_params *p, struct mock_buf *out,
                  int64_t *next_line_ms)
{
    size_t n_lines = 0;
    for (const char *q = text; *q;) {
        const char *nl = strchr(q, '\n');
        n_lines++;
        q = nl ? nl + 1 : q + strlen(q);
    }
    size_t first = 0, idx = 0;
    /* Lines at or after since_ms, then the last TAIL of those. */
    size_t first_since = 0;
    while (p->since_ms && first_since < n_lines &&
           start_ms + (int64_t)first_since * 1000 < p->since_ms)
        first_since++;
    first = first_since;
    if (p->tail >= 0 && n_lines - first > (size_t)p->tail)
        first = n_lines - (size_t)p->tail;
    *next_line_ms = start_ms + (int64_t)n_lines * 1000;
    for (const char *q = text; *q; idx++) {
        const char *nl = strchr(q, '\n');
        size_t len = nl ? (size_t)(nl - q) : strlen(q);
        if (idx >= first) {
            if (p->timestamps) {
                char ts[48];
                timestamp(start_ms + (int64_t)idx * 1000, ts, sizeof(ts));
                if (mock_buf_adds(out, ts) || mock_buf_add(out, " ", 1))
                    return -1;
            }
            if (mock_buf_add(out, q, len) || mock_buf_add(out, "\n", 1))
                return -1;
        }
        q = nl ? nl + 1 : q + len;
    }
    return 0;
}

/* A followed log: the text so far, then a line every MOCK_FOLLOW_MS. */
struct follower {
    struct mock_producer p;
    struct mock_instance *in;
    struct mock_buf pending;
    size_t off;
    int64_t sent, limit;
    int timestamps, waiting;
    unsigned long line_no;
    char client_ip[32], port[16];
    struct fg_timer *timer;
};

static int follow_fill(struct mock_producer *pp, struct mock_buf *out,
                       size_t want)
{
    struct follower *f = (struct follower *)pp;
    size_t n = f->pending.len - f->off;
    if (n > want)
        n = want;
    if (f->limit >= 0 && (int64_t)n > f->limit - f->sent)
        n = (size_t)(f->limit - f->sent);
    if (mock_buf_add(out, f->pending.p ? f->pending.p + f->off : "", n) != 0)
        return -1;
    f->off += n;
    f->sent += (int64_t)n;
    if (f->off == f->pending.len) {
        f->off = 0;
        f->pending.len = 0;
    }
    if (f->limit >= 0 && f->sent >= f->limit)
        return MOCK_FILL_DONE;
    if (f->pending.len > f->off)
        return MOCK_FILL_MORE;
    f->waiting = 1;
    return MOCK_FILL_WAIT;
}

static void follow_tick(void *arg)
{
    struct follower *f = arg;
    const struct fg_host *h = f->in->host;
    int64_t now = (int64_t)h->now_ms(h);
    h->timer_arm(f->timer, MOCK_FOLLOW_MS);
    if (f->pending.len - f->off > MOCK_FOLLOW_PENDING)
        return; /* the client is not reading: like a blocked pipe */
    char line[512], ts[48], clf[40];
    f->line_no++;
    timestamp(now, ts, sizeof(ts));
    /* Common log format time: 25/Nov/2026:00:00:01 +0000 */
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, mo, d, hh, mm, ss;
    if (sscanf(ts, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &hh, &mm, &ss) == 6 &&
        mo >= 1 && mo <= 12)
        snprintf(clf, sizeof(clf), "%02d/%s/%04d:%02d:%02d:%02d +0000", d,
                 mon[mo - 1], y, hh, mm, ss);
    else
        snprintf(clf, sizeof(clf), "-");
    if (f->port[0])
        snprintf(line, sizeof(line),
                 "%s%s%s - - [%s] \"GET /healthz HTTP/1.1\" 200 2 \"-\" "
                 "\"kube-probe/1.32\"\n",
                 f->timestamps ? ts : "", f->timestamps ? " " : "",
                 f->client_ip, clf);
    else
        snprintf(line, sizeof(line), "%s%sheartbeat %lu: ok\n",
                 f->timestamps ? ts : "", f->timestamps ? " " : "", f->line_no);
    if (mock_buf_adds(&f->pending, line) != 0)
        return;
    if (f->waiting && f->p.wake) {
        f->waiting = 0;
        f->p.wake(f->p.wake_arg);
    }
}

static void follow_free(struct mock_producer *pp)
{
    struct follower *f = (struct follower *)pp;
    if (f->timer)
        f->in->host->timer_free(f->timer);
    mock_buf_free(&f->pending);
    free(f);
}

/* ---- parameters ----------------------------------------------------- */

static int get_int(const char *query, const char *key, int64_t *out,
                   int *present)
{
    char val[32];
    int r = fg_query_get(query, key, val, sizeof(val));
    *present = r > 0;
    if (r == 0)
        return 0;
    char *end;
    long long v = r > 0 ? strtoll(val, &end, 10) : 0;
    if (r < 0 || !val[0] || *end)
        return -1;
    *out = v;
    return 0;
}

static int get_bool(const char *query, const char *key, int *out)
{
    char val[16];
    int r = fg_query_get(query, key, val, sizeof(val));
    *out = 0;
    if (r == 0)
        return 0;
    int b = r > 0 ? mock_parse_bool(val) : -1;
    if (b < 0)
        return -1;
    *out = b;
    return 0;
}

static int read_params(const char *query, struct log_params *p, char *cbuf,
                       size_t clen, int64_t now, struct mock_answer *a, int *rc)
{
    char msg[160];
    int present;
    memset(p, 0, sizeof(*p));
    p->tail = p->limit = -1;
    int r = fg_query_get(query, "container", cbuf, clen);
    p->container = r > 0 ? cbuf : NULL;
    const char *bools[] = {"previous", "timestamps", "follow"};
    int *bvals[] = {&p->previous, &p->timestamps, &p->follow};
    for (size_t i = 0; i < 3; i++) {
        if (r < 0 || get_bool(query, bools[i], bvals[i]) != 0) {
            snprintf(msg, sizeof(msg), "%s must be a boolean", bools[i]);
            *rc = bad_request(a, msg);
            return -1;
        }
    }
    int64_t v = 0;
    if (get_int(query, "tailLines", &v, &present) != 0 || (present && v < 0)) {
        *rc = bad_request(a, "tailLines: Invalid value: must be greater than "
                             "or equal to 0");
        return -1;
    }
    if (present)
        p->tail = v;
    if (get_int(query, "limitBytes", &v, &present) != 0 || (present && v < 1)) {
        *rc = bad_request(a, "limitBytes: Invalid value: must be greater "
                             "than 0");
        return -1;
    }
    if (present)
        p->limit = v;
    if (get_int(query, "sinceSeconds", &v, &present) != 0 ||
        (present && v < 1)) {
        *rc = bad_request(a, "sinceSeconds: Invalid value: must be greater "
                             "than 0");
        return -1;
    }
    if (present)
        p->since_ms = now - v * 1000;
    char tbuf[64];
    r = fg_query_get(query, "sinceTime", tbuf, sizeof(tbuf));
    if (r != 0) {
        int64_t t = r > 0 ? mock_time_parse(tbuf) : -1;
        if (t < 0 || p->since_ms) {
            *rc = bad_request(a, p->since_ms
                                     ? "at most one of sinceTime or "
                                       "sinceSeconds may be specified"
                                     : "sinceTime must be an RFC 3339 time");
            return -1;
        }
        p->since_ms = t;
    }
    return 0;
}

/* The log of the pod NAME (its object POD) as P asks for it at NOW. */
static int serve_log(struct mock_instance *in, const char *name,
                     const cJSON *pod, struct log_params p, int64_t now,
                     struct mock_answer *a)
{
    int rc = 0;
    const cJSON *c = pick_container(pod, name, p.container, a, &rc);
    if (!c)
        return rc;
    const char *cname = mock_json_str(c, "name", "");
    char msg[640];
    /* A pod no node runs has no logs yet: kube answers an empty body. */
    if (!mock_json_str(pod, "spec.nodeName", NULL))
        return mock_answer_body(a, 200, strdup(""), "text/plain");
    const cJSON *cs = container_status(pod, cname);
    const cJSON *last_term = fg_json_path(cs, "lastState.terminated");
    const cJSON *waiting = fg_json_path(cs, "state.waiting");
    int previous = p.previous;
    if (previous && !last_term) {
        snprintf(msg, sizeof(msg),
                 "previous terminated container \"%s\" in pod \"%s\" not "
                 "found",
                 cname, name);
        return bad_request(a, msg);
    }
    if (!previous && waiting) {
        /* Waiting to restart: kubelet serves the run that just ended. */
        if (!last_term) {
            snprintf(msg, sizeof(msg),
                     "container \"%s\" in pod \"%s\" is waiting to start: %s",
                     cname, name,
                     mock_json_str(waiting, "reason", "ContainerCreating"));
            return bad_request(a, msg);
        }
        previous = 1;
        p.follow = 0;
    }
    const char *text = annotation(
        pod, previous ? MOCK_PREV_ANNOTATION : MOCK_LOG_ANNOTATION, cname);
    char *made = NULL;
    if (!text)
        text = made = generated_log(pod, c, last_term, previous);
    if (!text)
        return -1;
    const char *started =
        previous ? mock_json_str(last_term, "startedAt", NULL)
                 : mock_json_str(cs, "state.running.startedAt", NULL);
    int64_t start_ms = started ? mock_time_parse(started) : -1;
    if (start_ms < 0)
        start_ms = mock_time_parse(
            mock_json_str(pod, "metadata.creationTimestamp", ""));
    if (start_ms < 0)
        start_ms = now;
    struct mock_buf out = {0};
    int64_t next_ms;
    int r = render(text, start_ms, &p, &out, &next_ms);
    free(made);
    if (r != 0 || mock_buf_add(&out, "", 0) != 0) {
        mock_buf_free(&out);
        return -1;
    }
    if (!p.follow || !fg_json_path(cs, "state.running")) {
        if (p.limit >= 0 && (int64_t)out.len > p.limit)
            out.p[p.limit] = '\0';
        return mock_answer_body(a, 200, out.p, "text/plain");
    }
    struct follower *f = calloc(1, sizeof(*f));
    if (!f) {
        mock_buf_free(&out);
        return -1;
    }
    f->p.fill = follow_fill;
    f->p.free = follow_free;
    f->in = in;
    f->pending = out;
    f->limit = p.limit;
    f->timestamps = p.timestamps;
    const char *host_ip = mock_json_str(pod, "status.hostIP", "10.244.0.1");
    snprintf(f->client_ip, sizeof(f->client_ip), "%s", host_ip);
    if (cJSON_GetArraySize(fg_json_path(c, "ports")) > 0)
        snprintf(f->port, sizeof(f->port), "%s", "http");
    f->timer = in->host->timer_new(in->host, follow_tick, f);
    if (!f->timer) {
        follow_free(&f->p);
        return -1;
    }
    in->host->timer_arm(f->timer, MOCK_FOLLOW_MS);
    a->status = 200;
    a->content_type = "text/plain";
    a->producer = &f->p;
    return 0;
}

int mock_logs_serve(struct mock_instance *in, const char *ns, const char *name,
                    const char *query, struct mock_answer *a)
{
    const struct mock_kind *pods = mock_kind_by_resource("", "v1", "pods");
    int64_t now = (int64_t)in->host->now_ms(in->host);
    struct log_params p;
    char cbuf[256];
    int rc = 0;
    if (read_params(query, &p, cbuf, sizeof(cbuf), now, a, &rc) != 0)
        return rc;
    const struct mock_obj *o = mock_store_get(in->store, pods, ns, name);
    if (!o)
        return mock_answer_body(a, 404, mock_status_not_found(pods, name),
                                "application/json");
    cJSON *pod = mock_obj_json(o);
    rc = pod ? serve_log(in, name, pod, p, now, a) : -1;
    cJSON_Delete(pod);
    return rc;
}
