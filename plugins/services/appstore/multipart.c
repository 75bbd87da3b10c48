/* multipart/form-data (RFC 7578 over RFC 2046) as ChartMuseum's upload
 * API takes it: the fields `chart` and `prov`. The body is in memory
 * already (bounded by the upload limit); parts point into it. Strict where
 * it costs nothing: CRLF line ends, the boundary's grammar, each part's
 * headers within a fixed size with a form-data Content-Disposition naming
 * the field, the close delimiter required. A preamble and an epilogue are
 * skipped as RFC 2046 says. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "appstore.h"

#define HEADERS_MAX 8192

static int bchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || strchr("'()+_,-./:=? ", c) != NULL;
}

/* Skips optional white space. */
static const char *ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static int tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A parameter value (token or quoted-string) at P into OUT (CAP bytes,
 * NUL-terminated). Returns the end, or NULL. */
static const char *param_value(const char *p, const char *end, char *out,
                               size_t cap)
{
    size_t n = 0;
    if (p < end && *p == '"') {
        for (p++; p < end && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < end)
                p++;
            if ((unsigned char)*p < 0x20 || *p == 0x7f || n + 1 >= cap)
                return NULL;
            out[n++] = *p;
        }
        if (p >= end)
            return NULL;
        p++;
    } else {
        for (; p < end && tchar(*p); p++) {
            if (n + 1 >= cap)
                return NULL;
            out[n++] = *p;
        }
        if (n == 0)
            return NULL;
    }
    out[n] = 0;
    return p;
}

/* The value of parameter KEY in the "; k=v" list from P to END into OUT.
 * 1 found, 0 not there, -1 malformed. */
static int param(const char *p, const char *end, const char *key, char *out,
                 size_t cap)
{
    int found = 0;
    char tmp[256];
    while ((p = ows(p, end)) < end) {
        if (*p != ';')
            return -1;
        p = ows(p + 1, end);
        const char *k = p;
        while (p < end && tchar(*p))
            p++;
        size_t kl = (size_t)(p - k);
        if (kl == 0 || p >= end || *p != '=')
            return -1;
        int want = kl == strlen(key) && strncasecmp(k, key, kl) == 0;
        if (want && found)
            return -1;
        p = param_value(p + 1, end, want ? out : tmp, want ? cap : sizeof tmp);
        if (!p)
            return -1;
        found |= want;
    }
    return found;
}

int appstore_multipart_type(const char *ct, size_t len, char boundary[71],
                            char *err, size_t err_len)
{
    static const char mt[] = "multipart/form-data";
    const char *end = ct + len;
    const char *p = ows(ct, end);
    if ((size_t)(end - p) < sizeof mt - 1 ||
        strncasecmp(p, mt, sizeof mt - 1) != 0)
        return 0;
    p = ows(p + sizeof mt - 1, end);
    if (p < end && *p != ';')
        return 0;
    int got = param(p, end, "boundary", boundary, 71);
    size_t bl = got == 1 ? strlen(boundary) : 0;
    int ok = bl > 0 && boundary[bl - 1] != ' ';
    for (size_t i = 0; ok && i < bl; i++)
        ok = bchar(boundary[i]);
    if (!ok) {
        snprintf(err, err_len,
                 "multipart/form-data needs a boundary of 1 to 70 "
                 "characters (RFC 2046)");
        return -1;
    }
    return 1;
}

/* The field name a part's headers (P, N bytes, each line ending CRLF)
 * give. 0, or -1 with ERR. */
static int part_name(const char *p, size_t n, char name[64], char *err,
                     size_t err_len)
{
    const char *end = p + n;
    int found = 0;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon) {
            snprintf(err, err_len, "multipart: a part header has no colon");
            return -1;
        }
        for (const char *q = colon + 1; q < eol; q++)
            if ((unsigned char)*q < 0x20 && *q != '\t') {
                snprintf(err, err_len,
                         "multipart: control character in a part header");
                return -1;
            }
        static const char cd[] = "content-disposition";
        if ((size_t)(colon - p) == sizeof cd - 1 &&
            strncasecmp(p, cd, sizeof cd - 1) == 0) {
            const char *v = ows(colon + 1, eol);
            if (found || (size_t)(eol - v) < 9 ||
                strncasecmp(v, "form-data", 9) != 0 ||
                param(v + 9, eol, "name", name, 64) != 1) {
                snprintf(err, err_len,
                         "multipart: a part needs one Content-Disposition: "
                         "form-data; name=\"...\"");
                return -1;
            }
            found = 1;
        }
        p = eol + 2;
    }
    if (!found) {
        snprintf(err, err_len,
                 "multipart: a part has no Content-Disposition header");
        return -1;
    }
    return 0;
}

int appstore_multipart(const char *boundary, const void *body, size_t len,
                       struct appstore_part *parts, char *err, size_t err_len)
{
    char delim[76]; /* CRLF "--" boundary */
    int dl = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    const unsigned char *b = body, *end = b + len;
    /* the first delimiter may open the body, without its CRLF */
    const unsigned char *p;
    if (len >= (size_t)dl - 2 && memcmp(b, delim + 2, (size_t)dl - 2) == 0)
        p = b + dl - 2;
    else if ((p = memmem(b, len, delim, (size_t)dl)))
        p += dl;
    else {
        snprintf(err, err_len, "multipart: the boundary never appears");
        return -1;
    }
    int n = 0;
    for (;;) {
        /* after a delimiter: "--" closes, else padding and CRLF */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return n;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            snprintf(err, err_len,
                     "multipart: a delimiter line does not "
                     "end with CRLF");
            return -1;
        }
        p += 2;
        if (n == APPSTORE_MAX_PARTS) {
            snprintf(err, err_len, "multipart: more than %d parts",
                     APPSTORE_MAX_PARTS);
            return -1;
        }
        const unsigned char *hend;
        size_t hn;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p; /* no headers */
            hn = 0;
        } else {
            size_t room = (size_t)(end - p);
            hend = memmem(p, room < HEADERS_MAX ? room : HEADERS_MAX,
                          "\r\n\r\n", 4);
            if (!hend) {
                snprintf(err, err_len,
                         "multipart: a part's headers do not end within "
                         "%d bytes",
                         HEADERS_MAX);
                return -1;
            }
            hn = (size_t)(hend - p) + 2;
        }
        if (part_name((const char *)p, hn, parts[n].name, err, err_len) < 0)
            return -1;
        const unsigned char *data = hend + (hn ? 4 : 2);
        const unsigned char *next =
            memmem(data, (size_t)(end - data), delim, (size_t)dl);
        if (!next) {
            snprintf(err, err_len,
                     "multipart: a part is not closed by the "
                     "boundary");
            return -1;
        }
        parts[n].data = data;
        parts[n].len = (size_t)(next - data);
        n++;
        p = next + dl;
    }
}
