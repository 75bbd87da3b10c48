/* The one place the gateway edits a proxied body: the OpenAPI v3 index
 * (GET /openapi/v3). A member lists its per group-version documents as
 * "serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=...", relative to
 * the member's root; the client reached the member under /clusters/NAME,
 * and a client that resolves those URLs against the server root (as
 * older client-go does) would miss the prefix. The URLs are prefixed with
 * the stream's base path. The index is small: it is buffered up to
 * DIRECT_OPENAPI_MAX_BODY, larger answers are relayed unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "direct.h"

static int name_is(const struct fg_header *h, const char *name)
{
    size_t n = strlen(name);
    return h->name_len == n && memcmp(h->name, name, n) == 0;
}

int direct_openapi_wanted(const struct fg_request_head *head)
{
    return strcmp(head->method, "GET") == 0 &&
           strcmp(head->path, "/openapi/v3") == 0 && head->base_path &&
           head->base_path[0] == '/' && !head->upgrade;
}

int direct_openapi_answer_ok(int status, const struct fg_header *h, size_t n)
{
    if (status != 200)
        return 0;
    int json = 0;
    for (size_t i = 0; i < n; i++) {
        if (name_is(&h[i], "content-type")) {
            json = h[i].value_len >= 16 &&
                   strncasecmp(h[i].value, "application/json", 16) == 0 &&
                   (h[i].value_len == 16 || h[i].value[16] == ';' ||
                    h[i].value[16] == ' ');
        } else if (name_is(&h[i], "content-encoding")) {
            if (h[i].value_len != 8 ||
                strncasecmp(h[i].value, "identity", 8) != 0)
                return 0; /* compressed: not ours to read */
        } else if (name_is(&h[i], "content-length")) {
            uint64_t v = 0;
            for (size_t k = 0; k < h[i].value_len; k++) {
                char c = h[i].value[k];
                if (c < '0' || c > '9' || v > DIRECT_OPENAPI_MAX_BODY)
                    return 0;
                v = v * 10 + (uint64_t)(c - '0');
            }
            if (v > DIRECT_OPENAPI_MAX_BODY)
                return 0;
        }
    }
    return json;
}

/* The end of the JSON string whose opening quote is at S[I]: the index
 * of its closing quote, or LEN when it does not end. */
static size_t string_end(const char *s, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i;
    }
    return len;
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

int direct_openapi_rewrite(const char *body, size_t len, const char *base,
                           char **out, size_t *out_len)
{
    static const char key[] = "serverRelativeURL";
    static const char prefix[] = "/openapi/";
    size_t blen = strlen(base);
    /* BASE goes inside a JSON string as it is */
    for (size_t i = 0; i < blen; i++)
        if ((unsigned char)base[i] < 0x20 || base[i] == '"' || base[i] == '\\')
            return -1;
    /* first pass: where to insert */
    size_t hits = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *o = NULL;
        size_t w = 0, from = 0;
        if (pass == 1) {
            o = malloc(len + hits * blen + 1);
            if (!o)
                return -1;
        }
        for (size_t i = 0; i < len; i++) {
            if (body[i] != '"')
                continue;
            size_t e = string_end(body, len, i);
            if (e == len) {
                free(o);
                return -1; /* unterminated: not the index */
            }
            /* a key is a string followed by ':' */
            size_t colon = skip_ws(body, len, e + 1);
            if (e - i - 1 == sizeof(key) - 1 &&
                memcmp(body + i + 1, key, sizeof(key) - 1) == 0 &&
                colon < len && body[colon] == ':') {
                size_t v = skip_ws(body, len, colon + 1);
                if (v < len && body[v] == '"') {
                    size_t ve = string_end(body, len, v);
                    if (ve == len) {
                        free(o);
                        return -1;
                    }
                    if (ve - v - 1 >= sizeof(prefix) - 1 &&
                        memcmp(body + v + 1, prefix, sizeof(prefix) - 1) == 0) {
                        if (pass == 0) {
                            hits++;
                        } else {
                            memcpy(o + w, body + from, v + 1 - from);
                            w += v + 1 - from;
                            memcpy(o + w, base, blen);
                            w += blen;
                            from = v + 1;
                        }
                    }
                    e = ve;
                }
            }
            i = e;
        }
        if (pass == 1) {
            memcpy(o + w, body + from, len - from);
            w += len - from;
            o[w] = 0;
            *out = o;
            *out_len = w;
        }
    }
    return 0;
}

/* ---- the answer, held and rewritten ------------------------------------ */

struct direct_rewrite {
    const struct fg_stream_callbacks *cb; /* the core's */
    void *ctx;
    char *base;                /* base path to insert */
    int rewriting;             /* the head is held, the body collected */
    struct fg_header *rw_head; /* the held head (one allocation) */
    size_t rw_n;
    int rw_status;
    struct evbuffer *rw_body;
};

struct direct_rewrite *direct_rewrite_new(const char *base,
                                          const struct fg_stream_callbacks *cb,
                                          void *ctx)
{
    struct direct_rewrite *rw = calloc(1, sizeof(*rw));
    if (!rw)
        return NULL;
    rw->cb = cb;
    rw->ctx = ctx;
    rw->base = strdup(base);
    if (!rw->base) {
        free(rw);
        return NULL;
    }
    return rw;
}

void direct_rewrite_free(struct direct_rewrite *rw)
{
    if (!rw)
        return;
    if (rw->rw_body)
        evbuffer_free(rw->rw_body);
    free(rw->rw_head);
    free(rw->base);
    free(rw);
}

/* Keeps the member's head of an OpenAPI index until its body is whole:
 * one allocation, with room for one more header (the new length). */
static int hold_head(struct direct_rewrite *st, int status,
                     const struct fg_header *h, size_t n)
{
    size_t bytes = (n + 1) * sizeof(*h);
    for (size_t i = 0; i < n; i++)
        bytes += h[i].name_len + h[i].value_len;
    char *mem = malloc(bytes);
    st->rw_body = evbuffer_new();
    if (!mem || !st->rw_body) {
        free(mem);
        if (st->rw_body)
            evbuffer_free(st->rw_body);
        st->rw_body = NULL;
        return -1;
    }
    struct fg_header *v = (struct fg_header *)(void *)mem;
    char *p = mem + (n + 1) * sizeof(*h);
    for (size_t i = 0; i < n; i++) {
        memcpy(p, h[i].name, h[i].name_len);
        v[i].name = p;
        v[i].name_len = h[i].name_len;
        p += h[i].name_len;
        memcpy(p, h[i].value, h[i].value_len);
        v[i].value = p;
        v[i].value_len = h[i].value_len;
        p += h[i].value_len;
    }
    st->rw_head = v;
    st->rw_n = n;
    st->rw_status = status;
    return 0;
}

/* The held head goes out; with CLEN, as the content-length. */
static int send_held_head(struct direct_rewrite *st, const char *clen)
{
    struct fg_header *h = st->rw_head;
    size_t n = st->rw_n;
    if (clen) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!(h[i].name_len == 14 &&
                  memcmp(h[i].name, "content-length", 14) == 0))
                h[k++] = h[i];
        h[k].name = "content-length";
        h[k].name_len = 14;
        h[k].value = clen;
        h[k].value_len = strlen(clen);
        n = k + 1;
    }
    return st->cb->head(st->ctx, st->rw_status, h, n);
}

/* Too large for an index: what was held goes out unchanged, with BUF. */
static int release_held(struct direct_rewrite *st, const void *buf, size_t len)
{
    st->rewriting = 0;
    if (send_held_head(st, NULL) < 0 || evbuffer_add(st->rw_body, buf, len))
        return -1;
    size_t n = evbuffer_get_length(st->rw_body);
    int rc = st->cb->data(st->ctx, evbuffer_pullup(st->rw_body, -1), n);
    evbuffer_free(st->rw_body);
    st->rw_body = NULL;
    return rc;
}

/* The whole index arrived: rewritten (or as it came when it is not one
 * to edit), with its new length. */
static int send_rewritten(struct direct_rewrite *st)
{
    st->rewriting = 0;
    size_t len = evbuffer_get_length(st->rw_body);
    const char *body =
        len ? (const char *)evbuffer_pullup(st->rw_body, -1) : NULL;
    char *edited = NULL;
    size_t elen = 0;
    if (len &&
        direct_openapi_rewrite(body, len, st->base, &edited, &elen) == 0) {
        body = edited;
        len = elen;
    }
    char clen[24];
    snprintf(clen, sizeof(clen), "%zu", len);
    int rc = send_held_head(st, clen);
    if (rc == 0 && len > 0 && st->cb->data(st->ctx, body, len) < 0)
        rc = -1;
    free(edited);
    return rc;
}

static int rw_head(void *ctx, int status, const struct fg_header *h, size_t n)
{
    struct direct_rewrite *st = ctx;
    /* the OpenAPI v3 index is the one proxied body the gateway edits:
     * its head waits until the whole body is here */
    if (direct_openapi_answer_ok(status, h, n) &&
        hold_head(st, status, h, n) == 0) {
        st->rewriting = 1;
        return 0;
    }
    return st->cb->head(st->ctx, status, h, n);
}

static int rw_data(void *ctx, const void *buf, size_t len)
{
    struct direct_rewrite *st = ctx;
    if (st->rewriting) {
        if (evbuffer_get_length(st->rw_body) + len > DIRECT_OPENAPI_MAX_BODY)
            return release_held(st, buf, len);
        return evbuffer_add(st->rw_body, buf, len) == 0 ? 0 : -1;
    }
    return st->cb->data(st->ctx, buf, len);
}

static void rw_end(void *ctx)
{
    struct direct_rewrite *st = ctx;
    if (st->rewriting && send_rewritten(st) != 0) {
        st->cb->error(st->ctx, 502, "BadGateway", "the client went away");
        return;
    }
    st->cb->end(st->ctx);
}

static void rw_error(void *ctx, int code, const char *reason,
                     const char *message)
{
    struct direct_rewrite *st = ctx;
    st->cb->error(st->ctx, code, reason, message);
}

static void rw_body_pause(void *ctx)
{
    struct direct_rewrite *st = ctx;
    st->cb->body_pause(st->ctx);
}

static void rw_body_resume(void *ctx)
{
    struct direct_rewrite *st = ctx;
    st->cb->body_resume(st->ctx);
}

const struct fg_stream_callbacks direct_rewrite_callbacks = {
    .head = rw_head,
    .data = rw_data,
    .end = rw_end,
    .error = rw_error,
    .body_pause = rw_body_pause,
    .body_resume = rw_body_resume,
};
