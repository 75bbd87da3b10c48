/* The strict HTTP/1.1 request parser (see h1_parser.h).
 *
 * The head is collected in our own buffer and checked byte by byte before
 * http_parser sees it: http-parser 2.9.4 tolerates bare LF, obs-fold,
 * "Content-Length :" and more, each a way for two parsers to disagree on
 * where a request ends. Only a head that passed is handed to http_parser,
 * whose view of the framing is then cross-checked against ours. The body
 * is framed by us alone: http-parser does not check the CRLF after chunk
 * data (so "5\r\nhelloXX0\r\n\r\n" ends early and smuggles what follows),
 * so the chunked grammar of RFC 9112 7.1 is ours, byte by byte, and a
 * request's head is handed over only once every body byte that arrived
 * with it has passed that grammar. */
#include "http/h1_parser.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "config/config.h"

/* Chunk extensions carry nothing we forward and real clients send none:
 * a few bytes per chunk line are allowed, so that work spent on them stays
 * bounded. A chunk size has at most this many hex digits (leading zeros
 * included): 16 already exceed any body limit. */
#define FG_H1_MAX_CHUNK_EXT 256
#define FG_H1_MAX_CHUNK_DIGITS 16

/* Where the chunked body's grammar is (see chunk_scan). */
struct fg_h1_chunk {
    int state;
    uint64_t size;        /* the chunk-size read, then data bytes left */
    unsigned digits;      /* of the chunk-size */
    size_t ext_bytes;     /* of this chunk line's extensions */
    size_t trailer_bytes; /* of the trailer section */
    unsigned trailers;    /* trailer field lines */
    int64_t total;        /* body bytes announced so far */
};

struct fg_h1_parser {
    http_parser hp;
    http_parser_settings hs;
    const struct fg_h1_callbacks *cb;
    void *arg;

    uint32_t max_head;
    uint32_t max_headers;
    uint32_t max_uri;
    int64_t max_body;

    enum fg_h1_state state;
    struct fg_h1_error err;

    /* The raw head, request line to the empty line, CRLFs included. */
    char *head;
    size_t head_len, head_cap;
    size_t lead;      /* empty lines skipped before the request line */
    int cr;           /* the last byte seen was a CR */
    size_t line_len;  /* bytes of the current line so far, CR excluded */
    size_t n_lines;   /* complete lines of the head */
    int target_start; /* request line: 1 once the first SP was seen */
    size_t target_len;
    int target_end; /* request line: 1 once the second SP was seen */

    /* The parsed head: NUL-terminated copies, names lower-cased. */
    char *strings;
    size_t strings_cap;
    struct fg_header *headers;
    size_t n_headers;
    struct fg_request_in req;
    unsigned flags;
    int chunked;
    int64_t content_length; /* declared, -1 without Content-Length */

    /* Body framing. */
    int hp_head_done;  /* http_parser read the whole head */
    int64_t remaining; /* content-length body bytes still to come */
    struct fg_h1_chunk chunk;
    int complete; /* the message, body included, was read */
};

static int vfail(struct fg_h1_parser *p, int status, const char *fmt,
                 va_list ap) __attribute__((format(printf, 3, 0)));

static int vfail(struct fg_h1_parser *p, int status, const char *fmt,
                 va_list ap)
{
    if (p->state == FG_H1_ERROR)
        return -1; /* the first reason is the one the client hears */
    p->state = FG_H1_ERROR;
    p->err.status = status;
    vsnprintf(p->err.message, sizeof(p->err.message), fmt, ap);
    return -1;
}

static int fail(struct fg_h1_parser *p, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct fg_h1_parser *p, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(p, status, fmt, ap);
    va_end(ap);
    return -1;
}

void fg_h1_parser_set_error(struct fg_h1_parser *p, int status, const char *fmt,
                            ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(p, status, fmt, ap);
    va_end(ap);
}

enum fg_h1_state fg_h1_parser_state(const struct fg_h1_parser *p)
{
    return p->state;
}

const struct fg_h1_error *fg_h1_parser_error(const struct fg_h1_parser *p)
{
    return p->state == FG_H1_ERROR ? &p->err : NULL;
}

/* ---- character classes (RFC 9110 5.6.2, RFC 3986) --------------------- */

static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* A field-value byte: VCHAR, SP, HTAB or obs-text; never another CTL. */
static int is_field_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int is_token(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)s[i]))
            return 0;
    return 1;
}

static int eq_nocase(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/* Host = uri-host [ ":" port ] with uri-host a bracketed IPv6 literal or a
 * plain name / IPv4 address: nothing a URL parser downstream could split
 * differently (no userinfo, no percent-encoding, no path characters). */
static int valid_host(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0)
        return 0;
    if (s[0] == '[') {
        for (i = 1; i < len && s[i] != ']'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!(is_digit(c) || (c >= 'a' && c <= 'f') ||
                  (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
                return 0;
        }
        if (i >= len || i == 1)
            return 0;
        i++; /* the ']' */
    } else {
        for (; i < len && s[i] != ':'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~'))
                return 0;
        }
        if (i == 0)
            return 0;
    }
    if (i == len)
        return 1;
    if (s[i] != ':' || len - i - 1 == 0 || len - i - 1 > 5)
        return 0;
    unsigned port = 0;
    for (i++; i < len; i++) {
        if (!is_digit((unsigned char)s[i]))
            return 0;
        port = port * 10 + (unsigned)(s[i] - '0');
    }
    return port <= 65535;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int hp_headers_complete(http_parser *hp);
static void start_message(struct fg_h1_parser *p);

struct fg_h1_parser *fg_h1_parser_new(const struct fg_limits *limits,
                                      const struct fg_h1_callbacks *cb,
                                      void *arg)
{
    struct fg_h1_parser *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->cb = cb;
    p->arg = arg;
    p->max_head = limits->max_header_bytes;
    p->max_headers = limits->max_headers;
    p->max_uri = limits->max_uri_bytes;
    p->max_body = limits->max_request_body_bytes;
    http_parser_settings_init(&p->hs);
    p->hs.on_headers_complete = hp_headers_complete;
    start_message(p);
    return p;
}

void fg_h1_parser_free(struct fg_h1_parser *p)
{
    if (!p)
        return;
    free(p->head);
    free(p->strings);
    free(p->headers);
    free(p);
}

/* Forgets the previous message. Buffers are kept for the next one. */
static void start_message(struct fg_h1_parser *p)
{
    p->state = FG_H1_IDLE;
    p->head_len = 0;
    p->lead = 0;
    p->cr = 0;
    p->line_len = 0;
    p->n_lines = 0;
    p->target_start = p->target_end = 0;
    p->target_len = 0;
    p->n_headers = 0;
    memset(&p->req, 0, sizeof(p->req));
    p->flags = 0;
    p->chunked = 0;
    p->content_length = -1;
    p->remaining = 0;
    memset(&p->chunk, 0, sizeof(p->chunk));
    p->complete = 0;
}

/* ---- collecting the raw head -------------------------------------------- */

static int head_append(struct fg_h1_parser *p, char c)
{
    if (p->head_len == p->head_cap) {
        size_t cap = p->head_cap ? p->head_cap * 2 : 1024;
        if (cap > (size_t)p->max_head + 2)
            cap = (size_t)p->max_head + 2;
        char *h = realloc(p->head, cap);
        if (!h)
            return fail(p, 500, "out of memory reading the request head");
        p->head = h;
        p->head_cap = cap;
    }
    p->head[p->head_len++] = c;
    return 0;
}

/* Tracks the request target while the request line arrives, so that an
 * oversized URI is refused as such (414) and as early as possible. */
static int track_request_line(struct fg_h1_parser *p, char c)
{
    if (p->n_lines != 0 || p->target_end)
        return 0;
    if (c == ' ') {
        if (p->target_start)
            p->target_end = 1;
        else
            p->target_start = 1;
        return 0;
    }
    if (p->target_start && ++p->target_len > p->max_uri)
        return fail(p, 414, "the request target is longer than %u bytes",
                    (unsigned)p->max_uri);
    return 0;
}

/* Consumes head bytes from DATA. Returns the count consumed (all of LEN
 * unless the head ended inside it), or -1. Sets *DONE when the empty line
 * that ends the head was consumed. */
static ssize_t collect_head(struct fg_h1_parser *p, const char *data,
                            size_t len, int *done)
{
    *done = 0;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (p->lead + p->head_len + 1 > p->max_head)
            return fail(p, 431, "the request head is larger than %u bytes",
                        (unsigned)p->max_head);
        if (p->cr) {
            if (c != '\n')
                return fail(p, 400,
                            "a CR in the request head is not "
                            "followed by LF");
            p->cr = 0;
            if (p->state == FG_H1_IDLE) {
                /* RFC 9112 2.2: empty lines before a request are ignored */
                p->lead++;
                continue;
            }
            if (head_append(p, c) < 0)
                return -1;
            if (p->line_len == 0) {
                *done = 1;
                return (ssize_t)(i + 1);
            }
            p->n_lines++;
            p->line_len = 0;
            continue;
        }
        if (c == '\n')
            return fail(p, 400,
                        "the request head has a line ending in a "
                        "bare LF; lines must end in CRLF");
        if (c == '\r') {
            p->cr = 1;
            if (p->state == FG_H1_IDLE) {
                p->lead++;
                continue;
            }
        } else {
            if (p->state == FG_H1_IDLE)
                p->state = FG_H1_HEAD;
            p->line_len++;
            if (track_request_line(p, c) < 0)
                return -1;
        }
        if (head_append(p, c) < 0)
            return -1;
    }
    return (ssize_t)len;
}

/* ---- the strict pass over a complete head ------------------------------- */

/* Copies LEN bytes of S into the strings area, NUL-terminated. */
static char *put_string(struct fg_h1_parser *p, size_t *used, const char *s,
                        size_t len, int lower)
{
    char *out = p->strings + *used;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        out[i] = (lower && c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[len] = '\0';
    *used += len + 1;
    return out;
}

static int parse_request_line(struct fg_h1_parser *p, const char *line,
                              size_t len, size_t *used)
{
    const char *sp1 = memchr(line, ' ', len);
    if (!sp1)
        return fail(p, 400, "the request line is not METHOD TARGET VERSION");
    size_t mlen = (size_t)(sp1 - line);
    if (!is_token(line, mlen))
        return fail(p, 400, "the request method is not a valid token");
    const char *t = sp1 + 1;
    const char *end = line + len;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2)
        return fail(p, 400, "the request line is not METHOD TARGET VERSION");
    size_t tlen = (size_t)(sp2 - t);
    if (tlen == 0)
        return fail(p, 400, "the request target is empty");
    if (tlen > p->max_uri)
        return fail(p, 414, "the request target is longer than %u bytes",
                    (unsigned)p->max_uri);

    const char *v = sp2 + 1;
    size_t vlen = (size_t)(end - v);
    if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 ||
        !is_digit((unsigned char)v[5]) || v[6] != '.' ||
        !is_digit((unsigned char)v[7]))
        return fail(p, 400,
                    "the request line does not end in a valid "
                    "HTTP version");
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return fail(p, 505, "HTTP/%c.%c is not supported; use HTTP/1.1", v[5],
                    v[7]);

    for (size_t i = 0; i < tlen; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f)
            return fail(p, 400,
                        "the request target contains a byte that "
                        "is not visible ASCII (0x%02x)",
                        c);
        if (c == '#')
            return fail(p, 400, "the request target contains a fragment");
    }
    if (mlen == 7 && memcmp(line, "CONNECT", 7) == 0)
        return fail(p, 400,
                    "CONNECT is not supported: the gateway serves "
                    "requests for paths only");
    if (t[0] != '/') {
        if (tlen == 1 && t[0] == '*')
            return fail(p, 400,
                        "the asterisk-form request target is not "
                        "supported");
        return fail(p, 400,
                    "the request target must be a path starting "
                    "with '/' (absolute-form and authority-form "
                    "are not supported)");
    }

    p->req.method = put_string(p, used, line, mlen, 0);
    p->req.target = put_string(p, used, t, tlen, 0);
    p->req.http_version = v[7] == '1' ? 11 : 10;
    return 0;
}

/* Splits a comma-separated list header value and records the Connection
 * options we act on. */
static void scan_connection(const char *v, size_t len, int *close,
                            int *keep_alive)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (is_ows((unsigned char)v[i]) || v[i] == ','))
            i++;
        size_t s = i;
        while (i < len && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && is_ows((unsigned char)v[e - 1]))
            e--;
        if (eq_nocase(v + s, e - s, "close"))
            *close = 1;
        else if (eq_nocase(v + s, e - s, "keep-alive"))
            *keep_alive = 1;
    }
}

/* Content-Length = 1*DIGIT, one value only. */
static int parse_content_length(struct fg_h1_parser *p, const char *v,
                                size_t len)
{
    if (len == 0)
        return fail(p, 400, "the Content-Length header is empty");
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)v[i]))
            return fail(p, 400,
                        "the Content-Length header is not a single "
                        "decimal number");
        int d = v[i] - '0';
        if (n > (INT64_MAX - d) / 10)
            return fail(p, 400,
                        "the Content-Length header does not fit in 63 "
                        "bits");
        n = n * 10 + d;
    }
    p->content_length = n;
    return 0;
}

static int parse_transfer_encoding(struct fg_h1_parser *p, const char *v,
                                   size_t len)
{
    if (eq_nocase(v, len, "chunked")) {
        p->chunked = 1;
        return 0;
    }
    if (memchr(v, ',', len))
        return fail(p, 400,
                    "Transfer-Encoding lists are not supported; "
                    "only \"chunked\" alone is");
    if (is_token(v, len))
        return fail(p, 501,
                    "the transfer coding \"%.*s\" is not "
                    "implemented; only \"chunked\" is",
                    (int)(len > 64 ? 64 : len), v);
    return fail(p, 400, "the Transfer-Encoding header is malformed");
}

/* Checks one header line; returns 0 and the trimmed name and value. */
static int split_header(struct fg_h1_parser *p, const char *line, size_t len,
                        size_t *nlen, const char **value, size_t *vlen)
{
    if (is_ows((unsigned char)line[0]))
        return fail(p, 400,
                    "obsolete line folding (a header line starting "
                    "with whitespace) is not allowed");
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return fail(p, 400, "a header line has no colon");
    size_t n = (size_t)(colon - line);
    if (n == 0)
        return fail(p, 400, "a header has an empty name");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        if (is_ows(c))
            return fail(p, 400,
                        "whitespace between a header name and its "
                        "colon is not allowed");
        if (!is_tchar(c))
            return fail(p, 400,
                        "a header name contains an invalid "
                        "character (0x%02x)",
                        c);
    }
    const char *v = colon + 1;
    const char *end = line + len;
    for (const char *q = v; q < end; q++)
        if (!is_field_byte((unsigned char)*q))
            return fail(p, 400,
                        "the value of header \"%.*s\" contains a "
                        "control character (0x%02x)",
                        (int)(n > 64 ? 64 : n), line, (unsigned char)*q);
    while (v < end && is_ows((unsigned char)*v))
        v++;
    while (end > v && is_ows((unsigned char)end[-1]))
        end--;
    *nlen = n;
    *value = v;
    *vlen = (size_t)(end - v);
    return 0;
}

static int check_head(struct fg_h1_parser *p)
{
    /* Every line ends in CRLF and the last one is empty: collect_head
     * guarantees it. The strings never outgrow the head they come from:
     * each NUL replaces a SP, colon or CR. */
    if (p->strings_cap < p->head_len + 1) {
        char *s = realloc(p->strings, p->head_len + 1);
        if (!s)
            return fail(p, 500, "out of memory parsing the request head");
        p->strings = s;
        p->strings_cap = p->head_len + 1;
    }
    size_t lines = p->n_lines; /* request line + header lines */
    if (lines - 1 > p->max_headers)
        return fail(p, 431, "the request has more than %u headers",
                    (unsigned)p->max_headers);
    if (lines > 1) {
        struct fg_header *h = realloc(p->headers, (lines - 1) * sizeof(*h));
        if (!h)
            return fail(p, 500, "out of memory parsing the request head");
        p->headers = h;
    }

    size_t used = 0;
    const char *line = p->head;
    const char *end = p->head + p->head_len - 2; /* the final CRLF */
    const char *eol = memchr(line, '\r', (size_t)(end - line));
    if (parse_request_line(p, line, (size_t)(eol - line), &used) < 0)
        return -1;
    int is11 = p->req.http_version == 11;

    /* Framing headers are judged once all are seen, duplicates first: a
     * second Content-Length or Transfer-Encoding is the smuggling attempt,
     * whatever its value. */
    int n_host = 0, n_cl = 0, n_te = 0, conn_close = 0, conn_keep = 0;
    int upgrade = 0, expect_continue = 0;
    const char *cl = NULL, *te = NULL;
    size_t cl_len = 0, te_len = 0;
    for (line = eol + 2; line < end; line = eol + 2) {
        eol = memchr(line, '\r', (size_t)(end - line));
        size_t nlen = 0, vlen = 0;
        const char *v = NULL;
        if (split_header(p, line, (size_t)(eol - line), &nlen, &v, &vlen) < 0)
            return -1;
        if (eq_nocase(line, nlen, "host")) {
            if (++n_host > 1)
                return fail(p, 400,
                            "the request has more than one Host "
                            "header");
            if (!valid_host(v, vlen))
                return fail(p, 400,
                            "the Host header is not a valid "
                            "host[:port]");
            p->req.authority = put_string(p, &used, v, vlen, 0);
            continue; /* the authority travels apart from the headers */
        }
        if (eq_nocase(line, nlen, "content-length")) {
            n_cl++;
            cl = v;
            cl_len = vlen;
        } else if (eq_nocase(line, nlen, "transfer-encoding")) {
            n_te++;
            te = v;
            te_len = vlen;
        } else if (eq_nocase(line, nlen, "connection")) {
            scan_connection(v, vlen, &conn_close, &conn_keep);
        } else if (eq_nocase(line, nlen, "upgrade")) {
            upgrade = 1;
        } else if (eq_nocase(line, nlen, "expect") && is11) {
            /* RFC 9110 10.1.1: an HTTP/1.0 Expect is ignored */
            if (!eq_nocase(v, vlen, "100-continue"))
                return fail(p, 417,
                            "the only expectation supported is "
                            "100-continue");
            expect_continue = 1;
        }
        struct fg_header *h = &p->headers[p->n_headers++];
        h->name = put_string(p, &used, line, nlen, 1);
        h->name_len = nlen;
        h->value = put_string(p, &used, v, vlen, 0);
        h->value_len = vlen;
    }

    if (is11 && n_host == 0)
        return fail(p, 400, "an HTTP/1.1 request must have a Host header");
    if (n_cl > 1)
        return fail(p, 400,
                    "the request has more than one Content-Length "
                    "header");
    if (n_te > 1)
        return fail(p, 400,
                    "the request has more than one "
                    "Transfer-Encoding header");
    if (n_te && n_cl)
        return fail(p, 400,
                    "a request must not have both Content-Length "
                    "and Transfer-Encoding");
    if (n_te && !is11)
        return fail(p, 400,
                    "Transfer-Encoding is not allowed in an "
                    "HTTP/1.0 request");
    if (te && parse_transfer_encoding(p, te, te_len) < 0)
        return -1;
    if (cl && parse_content_length(p, cl, cl_len) < 0)
        return -1;
    if (p->content_length > p->max_body)
        return fail(p, 413,
                    "the request body of %lld bytes is larger than "
                    "the limit of %lld bytes",
                    (long long)p->content_length, (long long)p->max_body);

    p->req.headers = p->headers;
    p->req.n_headers = p->n_headers;
    p->req.content_length =
        p->chunked ? -1 : (p->content_length < 0 ? 0 : p->content_length);
    p->req.has_body = p->chunked || p->content_length > 0;
    p->flags = 0;
    if (is11 ? !conn_close : (conn_keep && !conn_close))
        p->flags |= FG_H1_KEEP_ALIVE;
    if (upgrade)
        p->flags |= FG_H1_UPGRADE;
    if (!is11)
        p->flags |= FG_H1_HTTP10;
    if (expect_continue && p->req.has_body)
        p->flags |= FG_H1_EXPECT_CONTINUE;
    return 0;
}

/* ---- http_parser: a second opinion on the head ----------------------------
 */

static int hp_headers_complete(http_parser *hp)
{
    struct fg_h1_parser *p = hp->data;
    /* Both parsers read the same bytes; a disagreement on the method, the
     * version or the framing means one of them is wrong: refuse. */
    int hp_chunked = (hp->flags & F_CHUNKED) != 0;
    int hp_version = hp->http_major * 10 + hp->http_minor;
    int ours = p->req.http_version;
    if (strcmp(http_method_str((enum http_method)hp->method), p->req.method) !=
            0 ||
        hp_version != ours || hp_chunked != p->chunked ||
        (p->content_length >= 0 &&
         hp->content_length != (uint64_t)p->content_length) ||
        (p->content_length < 0 && !p->chunked &&
         hp->content_length != UINT64_MAX && hp->content_length != 0))
        return fail(p, 400, "the request head is ambiguous");
    p->hp_head_done = 1;
    return 0;
}

/* Maps an http_parser error that our strict pass did not catch first. */
static int map_hp_error(struct fg_h1_parser *p)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
    if (p->state == FG_H1_ERROR)
        return -1;
    switch (e) {
    case HPE_INVALID_METHOD:
        return fail(p, 501, "the request method is not implemented");
    case HPE_INVALID_VERSION:
        return fail(p, 505, "the HTTP version is not supported");
    case HPE_HEADER_OVERFLOW:
        return fail(p, 431, "the request head is too large");
    default:
        return fail(p, 400, "malformed request: %s", http_errno_description(e));
    }
}

/* Runs http_parser over the head that passed check_head: it must read the
 * same request, ending at the same byte. Its body framing is never used. */
static int cross_check_head(struct fg_h1_parser *p)
{
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    p->hp_head_done = 0;
    size_t n = http_parser_execute(&p->hp, &p->hs, p->head, p->head_len);
    if (p->state == FG_H1_ERROR || HTTP_PARSER_ERRNO(&p->hp) != HPE_OK)
        return map_hp_error(p);
    if (n != p->head_len || !p->hp_head_done)
        return fail(p, 400, "the request head is ambiguous");
    return 0;
}

/* ---- the chunked body (RFC 9112 7.1) ------------------------------------ */

/* chunked-body = *chunk last-chunk trailer-section CRLF
 * chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 * with ext-val = token / quoted-string; trailer-section = *( field-line
 * CRLF ). One state per position in that grammar, so a body is read the
 * same whatever the read boundaries. */
enum {
    CH_SIZE_START,   /* first HEXDIG of chunk-size */
    CH_SIZE,         /* more HEXDIG, or what follows the size */
    CH_EXT_SEMI,     /* BWS before ";" */
    CH_EXT_NAME0,    /* BWS after ";", then the name's first tchar */
    CH_EXT_NAME,     /* ext-name */
    CH_EXT_EQ,       /* BWS after the name: "=" or ";" follows */
    CH_EXT_VAL0,     /* BWS after "=", then token or quoted-string */
    CH_EXT_TOKEN,    /* ext-val as a token */
    CH_EXT_QUOTED,   /* inside the quoted-string */
    CH_EXT_QPAIR,    /* after a backslash in it */
    CH_EXT_END,      /* after the closing quote */
    CH_LINE_LF,      /* the LF ending the chunk line */
    CH_DATA,         /* chunk-data */
    CH_DATA_CR,      /* the CRLF after chunk-data */
    CH_DATA_LF,      /* its LF */
    CH_TRAILER0,     /* a trailer field-line, or the final CRLF */
    CH_TRAILER_NAME, /* field-name */
    CH_TRAILER_VAL,  /* field-value */
    CH_TRAILER_LF,   /* the LF ending a field-line */
    CH_END_LF,       /* the LF of the final CRLF */
    CH_DONE,
};

static int is_hexdig(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* qdtext and the octets of a quoted-pair (RFC 9110 5.6.4). */
static int is_qdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

static int chunk_fail(struct fg_h1_parser *p, unsigned char c, const char *what)
{
    return fail(p, 400, "malformed chunked body: %s (byte 0x%02x)", what, c);
}

/* Passes body bytes to the caller. */
static int deliver(struct fg_h1_parser *p, const char *data, size_t len)
{
    if (p->cb->on_body && p->cb->on_body(p->arg, data, len) != 0)
        return fail(p, 500, "the request body could not be passed on");
    return p->state == FG_H1_ERROR ? -1 : 0;
}

/* Reads one byte of chunk framing (everything but chunk-data). */
static int chunk_byte(struct fg_h1_parser *p, struct fg_h1_chunk *ch,
                      unsigned char c)
{
    int sp = is_ows(c);
    if (ch->state >= CH_EXT_SEMI && ch->state <= CH_EXT_END &&
        ++ch->ext_bytes > FG_H1_MAX_CHUNK_EXT)
        return fail(p, 400,
                    "malformed chunked body: chunk extensions longer "
                    "than %d bytes",
                    FG_H1_MAX_CHUNK_EXT);
    switch (ch->state) {
    case CH_SIZE_START:
    case CH_SIZE:
        if (is_hexdig(c)) {
            if (++ch->digits > FG_H1_MAX_CHUNK_DIGITS)
                return fail(p, 400,
                            "malformed chunked body: a chunk size has "
                            "more than %d digits",
                            FG_H1_MAX_CHUNK_DIGITS);
            int v = is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
            ch->size = ch->size * 16 + (uint64_t)v;
            if (ch->size > (uint64_t)(p->max_body - ch->total))
                return fail(p, 413,
                            "the request body is larger than the limit "
                            "of %lld bytes",
                            (long long)p->max_body);
            ch->state = CH_SIZE;
            return 0;
        }
        if (ch->state == CH_SIZE_START)
            return chunk_fail(p, c, "a chunk size is not hexadecimal");
        if (c == '\r')
            ch->state = CH_LINE_LF;
        else if (c == ';')
            ch->state = CH_EXT_NAME0;
        else if (sp)
            ch->state = CH_EXT_SEMI;
        else
            return chunk_fail(p, c, "a chunk size is not hexadecimal");
        return 0;
    case CH_EXT_SEMI:
    case CH_EXT_END:
        if (c == ';')
            ch->state = CH_EXT_NAME0;
        else if (sp)
            ch->state = CH_EXT_SEMI;
        else if (c == '\r' && ch->state == CH_EXT_END)
            ch->state = CH_LINE_LF;
        else
            return chunk_fail(p, c, "a chunk extension is malformed");
        return 0;
    case CH_EXT_NAME0:
        if (is_tchar(c))
            ch->state = CH_EXT_NAME;
        else if (!sp)
            return chunk_fail(p, c, "a chunk extension has no name");
        return 0;
    case CH_EXT_NAME:
    case CH_EXT_EQ:
        if (is_tchar(c) && ch->state == CH_EXT_NAME)
            return 0;
        if (c == '=')
            ch->state = CH_EXT_VAL0;
        else if (c == ';')
            ch->state = CH_EXT_NAME0;
        else if (sp)
            ch->state = CH_EXT_EQ;
        else if (c == '\r' && ch->state == CH_EXT_NAME)
            ch->state = CH_LINE_LF;
        else
            return chunk_fail(p, c, "a chunk extension name is malformed");
        return 0;
    case CH_EXT_VAL0:
        if (is_tchar(c))
            ch->state = CH_EXT_TOKEN;
        else if (c == '"')
            ch->state = CH_EXT_QUOTED;
        else if (!sp)
            return chunk_fail(p, c, "a chunk extension value is malformed");
        return 0;
    case CH_EXT_TOKEN:
        if (is_tchar(c))
            return 0;
        if (c == ';')
            ch->state = CH_EXT_NAME0;
        else if (sp)
            ch->state = CH_EXT_SEMI;
        else if (c == '\r')
            ch->state = CH_LINE_LF;
        else
            return chunk_fail(p, c, "a chunk extension value is malformed");
        return 0;
    case CH_EXT_QUOTED:
        if (c == '"')
            ch->state = CH_EXT_END;
        else if (c == '\\')
            ch->state = CH_EXT_QPAIR;
        else if (!is_qdtext(c))
            return chunk_fail(p, c, "a quoted chunk extension is malformed");
        return 0;
    case CH_EXT_QPAIR:
        if (!is_qdtext(c) && c != '"' && c != '\\')
            return chunk_fail(p, c, "a quoted chunk extension is malformed");
        ch->state = CH_EXT_QUOTED;
        return 0;
    case CH_LINE_LF:
        if (c != '\n')
            return chunk_fail(p, c, "a chunk line does not end in CRLF");
        if (ch->size == 0) {
            ch->state = CH_TRAILER0;
        } else {
            ch->state = CH_DATA;
            ch->total += (int64_t)ch->size;
        }
        return 0;
    case CH_DATA_CR:
        if (c != '\r')
            return chunk_fail(p, c, "chunk data is not followed by CRLF");
        ch->state = CH_DATA_LF;
        return 0;
    case CH_DATA_LF:
        if (c != '\n')
            return chunk_fail(p, c, "chunk data is not followed by CRLF");
        ch->state = CH_SIZE_START;
        ch->size = 0;
        ch->digits = 0;
        ch->ext_bytes = 0;
        return 0;
    default:
        break;
    }
    /* the trailer section: strict field lines, bounded like a head */
    if (++ch->trailer_bytes > p->max_head)
        return fail(p, 431, "the request trailers are larger than %u bytes",
                    (unsigned)p->max_head);
    switch (ch->state) {
    case CH_TRAILER0:
        if (c == '\r') {
            ch->state = CH_END_LF;
        } else if (is_tchar(c)) {
            if (++ch->trailers > p->max_headers)
                return fail(p, 431, "the request has more than %u trailers",
                            (unsigned)p->max_headers);
            ch->state = CH_TRAILER_NAME;
        } else {
            return chunk_fail(p, c, "a trailer line is malformed");
        }
        return 0;
    case CH_TRAILER_NAME:
        if (c == ':')
            ch->state = CH_TRAILER_VAL;
        else if (!is_tchar(c))
            return chunk_fail(p, c, "a trailer field name is malformed");
        return 0;
    case CH_TRAILER_VAL:
        if (c == '\r')
            ch->state = CH_TRAILER_LF;
        else if (!is_field_byte(c))
            return chunk_fail(p, c, "a trailer field value is malformed");
        return 0;
    case CH_TRAILER_LF:
    case CH_END_LF:
        if (c != '\n')
            return chunk_fail(p, c, "a trailer line does not end in CRLF");
        ch->state = ch->state == CH_END_LF ? CH_DONE : CH_TRAILER0;
        return 0;
    default:
        return fail(p, 500, "the chunked body parser lost its place");
    }
}

/* Runs the chunked-body grammar over DATA from state CH. DELIVER: pass the
 * chunk data on; without it the bytes are only validated. Returns the
 * count consumed: all of LEN unless the body ended inside it (CH is then
 * CH_DONE and the rest is the next request), or -1. */
static ssize_t chunk_scan(struct fg_h1_parser *p, struct fg_h1_chunk *ch,
                          const char *data, size_t len, int deliver_data)
{
    size_t i = 0;
    while (i < len && ch->state != CH_DONE) {
        if (ch->state == CH_DATA) {
            size_t n = len - i;
            if (n > ch->size)
                n = (size_t)ch->size;
            if (deliver_data && deliver(p, data + i, n) < 0)
                return -1;
            ch->size -= n;
            i += n;
            if (ch->size == 0)
                ch->state = CH_DATA_CR;
            continue;
        }
        if (chunk_byte(p, ch, (unsigned char)data[i]) < 0)
            return -1;
        i++;
    }
    return (ssize_t)i;
}

/* Validates the framing of everything that has arrived of the current
 * body (DATA, then AHEAD) without consuming it, so that a head whose body
 * is already known to be malformed is refused before anyone sees it. */
static int validate_ahead(struct fg_h1_parser *p, const char *data, size_t len,
                          const char *ahead, size_t ahead_len)
{
    struct fg_h1_chunk ch = p->chunk;
    if (chunk_scan(p, &ch, data, len, 0) < 0)
        return -1;
    if (ch.state != CH_DONE && ahead &&
        chunk_scan(p, &ch, ahead, ahead_len, 0) < 0)
        return -1;
    return 0;
}

/* ---- feeding ------------------------------------------------------------ */

/* Body bytes: content-length counted down, or the chunked grammar. */
static ssize_t feed_body(struct fg_h1_parser *p, const char *data, size_t len)
{
    if (p->chunked) {
        ssize_t n = chunk_scan(p, &p->chunk, data, len, 1);
        if (n >= 0 && p->chunk.state == CH_DONE)
            p->complete = 1;
        return n;
    }
    size_t n = len;
    if ((uint64_t)n > (uint64_t)p->remaining)
        n = (size_t)p->remaining;
    if (n > 0 && deliver(p, data, n) < 0)
        return -1;
    p->remaining -= (int64_t)n;
    if (p->remaining == 0)
        p->complete = 1;
    return (ssize_t)n;
}

/* The head is valid and so is all of the body that arrived with it: hand
 * the request over. */
static int start_body(struct fg_h1_parser *p)
{
    /* http_version in fg_request_in is 11 for both HTTP/1.x: the exchange
     * needs to know it is not h2, the keep-alive flag carries the rest. */
    p->req.http_version = 11;
    p->state = FG_H1_BODY;
    p->remaining = p->content_length > 0 ? p->content_length : 0;
    p->complete = !p->req.has_body;
    if (p->cb->on_head && p->cb->on_head(p->arg, &p->req, p->flags) != 0)
        return fail(p, 500, "the request could not be started");
    return p->state == FG_H1_ERROR ? -1 : 0;
}

/* The message ended: tell the caller, and refuse the next feed until it
 * starts over. */
static int finish_message(struct fg_h1_parser *p)
{
    p->state = FG_H1_DONE;
    if (p->cb->on_complete && p->cb->on_complete(p->arg) != 0)
        return fail(p, 500, "the request could not be completed");
    if (p->state == FG_H1_ERROR)
        return -1;
    return 0;
}

ssize_t fg_h1_parser_feed_ahead(struct fg_h1_parser *p, const char *data,
                                size_t len, const char *ahead, size_t ahead_len)
{
    if (p->state == FG_H1_ERROR)
        return -1;
    if (p->state == FG_H1_DONE)
        start_message(p);
    size_t used = 0;
    if (p->state == FG_H1_IDLE || p->state == FG_H1_HEAD) {
        int done;
        ssize_t n = collect_head(p, data, len, &done);
        if (n < 0)
            return -1;
        used = (size_t)n;
        if (!done)
            return (ssize_t)used;
        if (check_head(p) < 0 || cross_check_head(p) < 0)
            return -1;
        if (p->chunked &&
            validate_ahead(p, data + used, len - used, ahead, ahead_len) < 0)
            return -1;
        if (start_body(p) < 0)
            return -1;
    }
    if (!p->complete && used < len) {
        ssize_t n = feed_body(p, data + used, len - used);
        if (n < 0)
            return -1;
        used += (size_t)n;
    }
    if (p->complete && finish_message(p) < 0)
        return -1;
    return (ssize_t)used;
}

ssize_t fg_h1_parser_feed(struct fg_h1_parser *p, const char *data, size_t len)
{
    return fg_h1_parser_feed_ahead(p, data, len, NULL, 0);
}
