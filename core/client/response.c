/* The strict HTTP/1.1 response parser for what members answer. The head
 * is collected and checked byte by byte before http_parser sees it (bare
 * LF, lone CR, NUL, obs-fold refused), and its framing is checked after
 * (two Content-Lengths, Content-Length with Transfer-Encoding, any coding
 * but chunked refused): a response whose end two parsers could disagree
 * on is never relayed. The body is framed by http_parser. Interim 1xx
 * answers other than 101 are skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "client/client.h"

enum phase { PH_HEAD, PH_BODY, PH_DONE, PH_ERROR };

struct fg_client_response {
    http_parser hp;
    const struct fg_client_response_callbacks *cb;
    void *arg;
    int no_body;
    enum phase phase;
    const char *error;

    /* the head being checked, and its parsed form */
    char *head;
    size_t head_len, head_cap;
    size_t scanned; /* bytes of HEAD already checked */
    int in_field;   /* parser: the last callback was a field name */
    char *strings;
    size_t strings_len, strings_cap;
    size_t offs[FG_CLIENT_MAX_RESPONSE_HEADERS][4]; /* name, nlen, val, vlen */
    size_t n_headers;
    int n_cl, n_te, te_bad;
    int paused;
    int status; /* of the final answer */
};

static int on_field(http_parser *p, const char *at, size_t len);
static int on_value(http_parser *p, const char *at, size_t len);
static int on_headers_complete(http_parser *p);
static int on_body(http_parser *p, const char *at, size_t len);
static int on_message_complete(http_parser *p);

static const http_parser_settings settings = {
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

struct fg_client_response *
fg_client_response_new(const struct fg_client_response_callbacks *cb, void *arg,
                       int no_body)
{
    struct fg_client_response *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cb = cb;
    r->arg = arg;
    r->no_body = no_body;
    http_parser_init(&r->hp, HTTP_RESPONSE);
    r->hp.data = r;
    return r;
}

void fg_client_response_free(struct fg_client_response *r)
{
    if (!r)
        return;
    free(r->head);
    free(r->strings);
    free(r);
}

const char *fg_client_response_error(const struct fg_client_response *r)
{
    return r->error ? r->error : "invalid response";
}

static enum fg_client_parse_result fail(struct fg_client_response *r,
                                        const char *why)
{
    r->phase = PH_ERROR;
    if (!r->error)
        r->error = why;
    return FG_CLIENT_PARSE_ERROR;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 512;
        while (*len + n + 1 > c)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    return 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
    struct fg_client_response *r = p->data;
    if (!r->in_field) {
        if (r->n_headers == FG_CLIENT_MAX_RESPONSE_HEADERS) {
            r->error = "too many response headers";
            return -1;
        }
        size_t *o = r->offs[r->n_headers++];
        o[0] = r->strings_len;
        o[1] = 0;
        o[2] = 0;
        o[3] = 0;
        r->in_field = 1;
    }
    size_t *o = r->offs[r->n_headers - 1];
    size_t start = r->strings_len;
    if (append(&r->strings, &r->strings_len, &r->strings_cap, at, len))
        return -1;
    for (size_t i = start; i < r->strings_len; i++)
        if (r->strings[i] >= 'A' && r->strings[i] <= 'Z')
            r->strings[i] = (char)(r->strings[i] + 32);
    o[1] += len;
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
    struct fg_client_response *r = p->data;
    if (r->n_headers == 0)
        return -1;
    size_t *o = r->offs[r->n_headers - 1];
    if (r->in_field) {
        r->in_field = 0;
        o[2] = r->strings_len;
    }
    if (append(&r->strings, &r->strings_len, &r->strings_cap, at, len))
        return -1;
    o[3] += len;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct fg_client_response *r = p->data;
    if (p->http_major != 1 || p->http_minor > 1) {
        r->error = "unsupported HTTP version";
        return -1;
    }
    struct fg_header h[FG_CLIENT_MAX_RESPONSE_HEADERS];
    for (size_t i = 0; i < r->n_headers; i++) {
        size_t *o = r->offs[i];
        if (r->in_field && i == r->n_headers - 1)
            o[2] = r->strings_len; /* a name without a value */
        h[i].name = r->strings + o[0];
        h[i].name_len = o[1];
        h[i].value = r->strings + o[2];
        h[i].value_len = o[3];
        if (o[1] == 14 && memcmp(h[i].name, "content-length", 14) == 0) {
            r->n_cl++;
            if (o[3] == 0 || o[3] > 18) {
                r->error = "invalid Content-Length";
                return -1;
            }
            for (size_t k = 0; k < o[3]; k++)
                if (h[i].value[k] < '0' || h[i].value[k] > '9') {
                    r->error = "invalid Content-Length";
                    return -1;
                }
        } else if (o[1] == 17 &&
                   memcmp(h[i].name, "transfer-encoding", 17) == 0) {
            r->n_te++;
            if (o[3] != 7 || strncasecmp(h[i].value, "chunked", 7) != 0)
                r->te_bad = 1;
        }
    }
    if (r->n_cl > 1) {
        r->error = "more than one Content-Length";
        return -1;
    }
    if (r->n_te && r->n_cl) {
        r->error = "both Content-Length and Transfer-Encoding";
        return -1;
    }
    if (r->n_te > 1 || r->te_bad) {
        r->error = "unsupported Transfer-Encoding";
        return -1;
    }
    if (r->n_te && p->http_minor == 0) {
        r->error = "chunked HTTP/1.0 response";
        return -1;
    }
    int status = (int)p->status_code;
    if (status >= 100 && status < 200 && status != 101) {
        /* interim: forget it, the real answer follows */
        r->n_headers = 0;
        r->strings_len = 0;
        r->n_cl = r->n_te = r->te_bad = 0;
        return 0;
    }
    r->status = status;
    if (r->cb->head(r->arg, status, h, r->n_headers) != 0) {
        r->error = "the client went away";
        return -1;
    }
    r->phase = PH_BODY;
    return r->no_body ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct fg_client_response *r = p->data;
    int rc = r->cb->body(r->arg, at, len);
    if (rc < 0) {
        r->error = "the client went away";
        return -1;
    }
    if (rc == FG_PAUSE) {
        r->paused = 1;
        http_parser_pause(p, 1);
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct fg_client_response *r = p->data;
    if (r->phase == PH_HEAD) {
        /* end of an interim answer: parse the next head from scratch */
        r->head_len = 0;
        r->scanned = 0;
        r->in_field = 0;
        return 0;
    }
    r->phase = PH_DONE;
    r->cb->complete(r->arg, http_should_keep_alive(p) && !p->upgrade);
    http_parser_pause(p, 1);
    return 0;
}

/* Checks the head bytes gathered so far; returns the head's length once
 * its empty line is seen, 0 when more is needed, -1 when refused. */
static long scan_head(struct fg_client_response *r)
{
    const char *h = r->head;
    for (size_t i = r->scanned; i < r->head_len; i++) {
        char c = h[i];
        if (c == 0)
            return fail(r, "NUL in the response head"), -1;
        if (c == '\n') {
            if (i == 0 || h[i - 1] != '\r')
                return fail(r, "bare LF in the response head"), -1;
            if (i >= 3 && h[i - 2] == '\n' && h[i - 3] == '\r')
                return (long)(i + 1);
            if (i + 1 < r->head_len && (h[i + 1] == ' ' || h[i + 1] == '\t'))
                return fail(r, "obs-fold in the response head"), -1;
        } else if (i > 0 && h[i - 1] == '\r') {
            return fail(r, "CR without LF in the response head"), -1;
        }
    }
    /* keep the last byte unscanned: a LF decides about the CR before it,
     * and the byte after a LF may be a fold */
    r->scanned = r->head_len > 2 ? r->head_len - 2 : 0;
    if (r->head_len >= FG_CLIENT_MAX_RESPONSE_HEAD)
        return fail(r, "the response head is too large"), -1;
    return 0;
}

static int tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Every header line of a complete head must be NAME ":" with NAME a
 * token: "Content-Length : 1" is what http_parser would read as a length
 * another parser ignores. */
static int check_names(struct fg_client_response *r, size_t end)
{
    const char *h = r->head;
    size_t i = 0;
    while (i < end && (h[i] == '\r' || h[i] == '\n'))
        i++; /* empty lines before the status line */
    const char *eol = memchr(h + i, '\n', end - i);
    i = (size_t)(eol - h) + 1;
    while (i < end) {
        size_t start = i;
        while (i < end && tchar((unsigned char)h[i]))
            i++;
        if (h[i] == '\r' && i == start)
            return 0; /* the empty line */
        if (i == start || h[i] != ':') {
            fail(r, "invalid header name in the response");
            return -1;
        }
        eol = memchr(h + i, '\n', end - i);
        i = (size_t)(eol - h) + 1;
    }
    return 0;
}

static enum fg_client_parse_result
execute(struct fg_client_response *r, const char *buf, size_t len, size_t *used)
{
    r->paused = 0;
    size_t n = http_parser_execute(&r->hp, &settings, buf, len);
    *used = n;
    enum http_errno e = HTTP_PARSER_ERRNO(&r->hp);
    if (e == HPE_PAUSED) {
        http_parser_pause(&r->hp, 0);
        if (r->phase == PH_DONE)
            return FG_CLIENT_PARSE_DONE;
        return FG_CLIENT_PARSE_PAUSED;
    }
    if (e != HPE_OK)
        return fail(r, http_errno_description(e));
    if (r->phase == PH_DONE || (r->phase == PH_BODY && r->hp.upgrade))
        return r->phase = PH_DONE, FG_CLIENT_PARSE_DONE;
    return FG_CLIENT_PARSE_MORE;
}

enum fg_client_parse_result
fg_client_response_feed(struct fg_client_response *r, const char *buf,
                        size_t len, size_t *used)
{
    *used = 0;
    while (*used < len || r->phase == PH_HEAD) {
        if (r->phase == PH_ERROR)
            return FG_CLIENT_PARSE_ERROR;
        if (r->phase == PH_DONE)
            return FG_CLIENT_PARSE_DONE;
        if (r->phase == PH_BODY) {
            size_t n;
            enum fg_client_parse_result rc =
                execute(r, buf + *used, len - *used, &n);
            *used += n;
            if (rc != FG_CLIENT_PARSE_MORE || r->phase != PH_HEAD)
                return rc;
            continue;
        }
        /* PH_HEAD: gather up to the empty line, at most the limit */
        size_t room = FG_CLIENT_MAX_RESPONSE_HEAD - r->head_len;
        size_t take = len - *used < room ? len - *used : room;
        if (take == 0 && *used == len)
            return FG_CLIENT_PARSE_MORE;
        size_t before = r->head_len;
        if (append(&r->head, &r->head_len, &r->head_cap, buf + *used, take))
            return fail(r, "out of memory");
        long end = scan_head(r);
        if (end < 0)
            return FG_CLIENT_PARSE_ERROR;
        if (end == 0) {
            *used += take;
            return FG_CLIENT_PARSE_MORE;
        }
        if (check_names(r, (size_t)end) != 0)
            return FG_CLIENT_PARSE_ERROR;
        /* only the head goes in now; the rest is parsed as body */
        *used += (size_t)end - before;
        size_t n;
        enum fg_client_parse_result rc = execute(r, r->head, (size_t)end, &n);
        if (rc == FG_CLIENT_PARSE_ERROR)
            return rc;
        if (n != (size_t)end && rc == FG_CLIENT_PARSE_MORE)
            return fail(r, "invalid response head");
        if (r->phase == PH_HEAD) {
            /* an interim answer was skipped */
            r->head_len = 0;
            r->scanned = 0;
            if (*used == len)
                return FG_CLIENT_PARSE_MORE;
            continue;
        }
        r->head_len = 0;
        r->scanned = 0;
        if (rc != FG_CLIENT_PARSE_MORE)
            return rc;
    }
    return FG_CLIENT_PARSE_MORE;
}

enum fg_client_parse_result fg_client_response_eof(struct fg_client_response *r)
{
    if (r->phase == PH_DONE)
        return FG_CLIENT_PARSE_DONE;
    if (r->phase != PH_BODY)
        return fail(r, "the member closed the connection before answering");
    /* a body without length ends at close; http_parser knows which */
    size_t n;
    if (execute(r, NULL, 0, &n) == FG_CLIENT_PARSE_DONE || r->phase == PH_DONE)
        return FG_CLIENT_PARSE_DONE;
    r->phase = PH_BODY;
    r->error = NULL;
    return fail(r, "the member closed the connection mid-response");
}

int fg_client_response_status_101(const struct fg_client_response *r)
{
    return r->phase == PH_DONE && r->status == 101;
}
