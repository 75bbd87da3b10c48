/* The header block a server receives: the caller's headers minus anything
 * that carries identity or belongs to one hop, in any spelling (checked
 * again here, whatever the core removed), plus the caller's extra headers
 * (its own credentials, the impersonation of the authenticated user); and
 * its HTTP/1.1 form. Every name must be a token, every value free of CR,
 * LF and NUL: nothing can split the block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <fedgate/util.h>

#include "client/client.h"

int fg_client_value_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == '\r' || v[i] == '\n' || v[i] == 0)
            return 0;
    return 1;
}

/* RFC 9110 token characters. */
static int token_ok(const char *s, size_t n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || (c && strchr(extra, c))))
            return 0;
    }
    return 1;
}

int fg_client_header_forbidden(const char *name, size_t len)
{
    /* the SDK's list (fedgate/util.h), the one the exchange applies too */
    return fg_header_is_hop_by_hop(name, len) ||
           fg_header_is_identity(name, len) || (len >= 1 && name[0] == ':');
}

/* A growing list of headers whose text lives in one arena; pointers are
 * fixed up once the arena stops moving. */
struct builder {
    struct fg_header *v;
    size_t n, cap;
    char *buf;
    size_t len, size;
    size_t *offs; /* name offset, value offset per header */
};

static int add(struct builder *b, const char *name, size_t nlen,
               const char *value, size_t vlen)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct fg_header *v = realloc(b->v, cap * sizeof(*v));
        if (!v)
            return -1;
        b->v = v;
        size_t *o = realloc(b->offs, cap * 2 * sizeof(*o));
        if (!o)
            return -1;
        b->offs = o;
        b->cap = cap;
    }
    size_t need = nlen + 1 + vlen + 1;
    if (b->len + need > b->size) {
        size_t size = b->size ? b->size : 1024;
        while (b->len + need > size)
            size *= 2;
        char *nb = realloc(b->buf, size);
        if (!nb)
            return -1;
        b->buf = nb;
        b->size = size;
    }
    size_t no = b->len;
    for (size_t i = 0; i < nlen; i++) {
        char c = name[i];
        b->buf[b->len++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    b->buf[b->len++] = 0;
    size_t vo = b->len;
    memcpy(b->buf + b->len, value, vlen);
    b->len += vlen;
    b->buf[b->len++] = 0;
    b->offs[2 * b->n] = no;
    b->offs[2 * b->n + 1] = vo;
    b->v[b->n].name_len = nlen;
    b->v[b->n].value_len = vlen;
    b->n++;
    return 0;
}

/* Adds H when it can be sent; -1 with ERR when not, -2 out of memory. */
static int add_checked(struct builder *b, const struct fg_header *h, char *err,
                       size_t err_len)
{
    if (!token_ok(h->name, h->name_len)) {
        snprintf(err, err_len, "invalid header name");
        return -1;
    }
    if (!fg_client_value_ok(h->value, h->value_len)) {
        snprintf(err, err_len, "header \"%.*s\" has an invalid value",
                 (int)(h->name_len > 64 ? 64 : h->name_len), h->name);
        return -1;
    }
    return add(b, h->name, h->name_len, h->value, h->value_len) ? -2 : 0;
}

int fg_client_headers_build(const struct fg_request_head *head,
                            const struct fg_header *extra, size_t n_extra,
                            struct fg_client_headers *out, char *err,
                            size_t err_len)
{
    struct builder b = {0};
    memset(out, 0, sizeof(*out));
    int rc = 0;
    for (size_t i = 0; i < head->n_headers && rc == 0; i++) {
        const struct fg_header *h = &head->headers[i];
        if (!fg_client_header_forbidden(h->name, h->name_len) &&
            !fg_header_named_by_connection(head->headers, head->n_headers,
                                           h->name, h->name_len))
            rc = add_checked(&b, h, err, err_len);
    }
    for (size_t i = 0; i < n_extra && rc == 0; i++)
        rc = add_checked(&b, &extra[i], err, err_len);
    if (rc != 0) {
        if (rc == -2)
            snprintf(err, err_len, "out of memory");
        free(b.v);
        free(b.buf);
        free(b.offs);
        return -1;
    }
    for (size_t i = 0; i < b.n; i++) {
        b.v[i].name = b.buf + b.offs[2 * i];
        b.v[i].value = b.buf + b.offs[2 * i + 1];
    }
    free(b.offs);
    out->v = b.v;
    out->n = b.n;
    out->storage = b.buf;
    return 0;
}

void fg_client_headers_free(struct fg_client_headers *h)
{
    free(h->v);
    free(h->storage);
    memset(h, 0, sizeof(*h));
}

int fg_client_h1_head_write(struct evbuffer *out, const char *method,
                            const char *target, const char *authority,
                            const struct fg_client_headers *h, int body_mode,
                            int64_t length, const char *upgrade)
{
    int rc = 0;
    rc |= evbuffer_add_printf(out, "%s %s HTTP/1.1\r\nhost: %s\r\n", method,
                              target, authority) < 0;
    for (size_t i = 0; i < h->n; i++) {
        const struct fg_header *x = &h->v[i];
        rc |= evbuffer_add(out, x->name, x->name_len);
        rc |= evbuffer_add(out, ": ", 2);
        rc |= evbuffer_add(out, x->value, x->value_len);
        rc |= evbuffer_add(out, "\r\n", 2);
    }
    if (body_mode == 1)
        rc |= evbuffer_add_printf(out, "content-length: %lld\r\n",
                                  (long long)length) < 0;
    else if (body_mode == 2)
        rc |= evbuffer_add_printf(out, "transfer-encoding: chunked\r\n") < 0;
    if (upgrade)
        rc |= evbuffer_add_printf(out, "connection: Upgrade\r\nupgrade: %s\r\n",
                                  upgrade) < 0;
    rc |= evbuffer_add(out, "\r\n", 2);
    return rc ? -1 : 0;
}
