/* The one place the gateway edits a proxied body: the OpenAPI v3 index
 * (GET /openapi/v3). A member lists its per group-version documents as
 * "serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=...", relative to
 * the member's root; the client reached the member under /clusters/NAME,
 * and a client that resolves those URLs against the server root (as
 * older client-go does) would miss the prefix. The URLs are prefixed with
 * the stream's base path. The index is small: it is buffered up to
 * DIRECT_OPENAPI_MAX_BODY, larger answers are relayed unchanged. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
