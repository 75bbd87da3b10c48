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

/* Whether the caller's header H goes on to the server. */
static int passes(const struct fg_request_head *head, const struct fg_header *h)
{
    return !fg_client_header_forbidden(h->name, h->name_len) &&
           !fg_header_named_by_connection(head->headers, head->n_headers,
                                          h->name, h->name_len);
}

/* Checks H and appends it at V[*N], its text (name lower-cased, both
 * NUL-terminated) at *TEXT; -1 with ERR when it cannot be sent. */
static int add_checked(struct fg_header *v, size_t *n, char **text,
                       const struct fg_header *h, char *err, size_t err_len)
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
    char *t = *text;
    for (size_t i = 0; i < h->name_len; i++) {
        char c = h->name[i];
        t[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    t[h->name_len] = 0;
    memcpy(t + h->name_len + 1, h->value, h->value_len);
    t[h->name_len + 1 + h->value_len] = 0;
    v[*n] =
        (struct fg_header){t, h->name_len, t + h->name_len + 1, h->value_len};
    (*n)++;
    *text = t + h->name_len + 1 + h->value_len + 1;
    return 0;
}

int fg_client_headers_build(const struct fg_request_head *head,
                            const struct fg_header *extra, size_t n_extra,
                            struct fg_client_headers *out, char *err,
                            size_t err_len)
{
    memset(out, 0, sizeof(*out));
    /* sized once from the input: the array, then the text, in one block */
    size_t count = n_extra, bytes = 0;
    for (size_t i = 0; i < head->n_headers; i++)
        bytes += head->headers[i].name_len + head->headers[i].value_len + 2;
    count += head->n_headers;
    for (size_t i = 0; i < n_extra; i++)
        bytes += extra[i].name_len + extra[i].value_len + 2;
    struct fg_header *v = malloc(count * sizeof(*v) + bytes + 1);
    if (!v) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    char *text = (char *)(v + count);
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < head->n_headers && rc == 0; i++)
        if (passes(head, &head->headers[i]))
            rc = add_checked(v, &n, &text, &head->headers[i], err, err_len);
    for (size_t i = 0; i < n_extra && rc == 0; i++)
        rc = add_checked(v, &n, &text, &extra[i], err, err_len);
    if (rc != 0) {
        free(v);
        return -1;
    }
    out->v = v;
    out->n = n;
    return 0;
}

void fg_client_headers_free(struct fg_client_headers *h)
{
    free(h->v);
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
