/* Request-target normalisation and member routing: see target.h.
 *
 * Security: the decoded segments are the truth. Escapes that would change
 * the segment structure after decoding (%2F, %5C, %00, controls) are
 * refused rather than passed on, because a member (or a proxy in front of
 * it) could decode them and see a different path than the one routed. */
#include "target.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Bytes kept literal in the canonical form: RFC 3986 unreserved plus the
 * sub-delims, ':' and '@' (all allowed in a path segment). */
static bool is_canonical_literal(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One decoded segment: a slice of the decode buffer. */
struct seg {
    size_t off, len;
};

static bool seg_is(const char *buf, const struct seg *s, const char *lit)
{
    size_t n = strlen(lit);
    return s->len == n && memcmp(buf + s->off, lit, n) == 0;
}

static int fail(struct fg_error *err, int status, const char *msg)
{
    fg_error_set(err, "%s", msg);
    return status;
}

/* Decodes RAW[0..LEN) into DST; returns the decoded length, or -1 (with
 * ERR set) for a malformed escape or a byte no segment may contain. */
static long decode_segment(const char *raw, size_t len, char *dst,
                           struct fg_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_value((unsigned char)raw[i + 1]) : -1;
            int lo = hi < 0 ? -1 : hex_value((unsigned char)raw[i + 2]);
            if (hi < 0 || lo < 0) {
                fail(err, 400, "malformed percent-encoding in path");
                return -1;
            }
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '/' || c == '\\' || c < 0x20 || c > 0x7e) {
            fail(err, 400,
                 "path contains an encoded slash, backslash or control "
                 "character");
            return -1;
        }
        dst[n++] = (char)c;
    }
    return (long)n;
}

int fg_target_parse(const char *target, size_t len, size_t max_len,
                    struct fg_target *out, struct fg_error *err)
{
    static const char hex[] = "0123456789ABCDEF";

    memset(out, 0, sizeof(*out));
    if (!target || len == 0 || target[0] != '/')
        return fail(err, 400, "request target must be an absolute path");
    if (len > max_len) {
        fg_error_set(err, "request target longer than %zu bytes", max_len);
        return 414;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c < 0x21 || c > 0x7e)
            return fail(err, 400,
                        "request target contains a control, space or "
                        "non-ASCII byte");
        if (c == '#')
            return fail(err, 400, "request target contains a fragment");
    }

    const char *q = memchr(target, '?', len);
    size_t path_len = q ? (size_t)(q - target) : len;

    /* Decoding never grows a segment, so PATH_LEN bytes hold them all; at
     * most one segment per two input bytes (a '/' and one byte). */
    char *dec = malloc(path_len + 1);
    struct seg *segs = malloc((path_len / 2 + 1) * sizeof(*segs));
    if (!dec || !segs) {
        free(dec);
        free(segs);
        return fail(err, 500, "out of memory");
    }
    size_t nseg = 0, used = 0;
    for (size_t i = 0; i < path_len;) {
        /* target[i] is '/': the segment runs to the next '/'. */
        size_t start = ++i;
        while (i < path_len && target[i] != '/')
            i++;
        long n = decode_segment(target + start, i - start, dec + used, err);
        if (n < 0) {
            free(dec);
            free(segs);
            return 400;
        }
        struct seg s = {used, (size_t)n};
        if (s.len == 0 || seg_is(dec, &s, "."))
            continue;
        if (seg_is(dec, &s, "..")) {
            if (nseg == 0) {
                free(dec);
                free(segs);
                return fail(err, 400, "path climbs above the root");
            }
            /* Segments are stored in order, so the space of the popped one
             * can be reused. */
            used = segs[--nseg].off;
            continue;
        }
        segs[nseg++] = s;
        used += s.len;
    }

    /* Each decoded byte becomes at most three; two more bytes after the
     * terminating NUL hold the "/" that REST points to when nothing follows
     * the member name, so REST always lives as long as PATH. */
    char *path = malloc(used * 3 + nseg + 4);
    if (!path) {
        free(dec);
        free(segs);
        return fail(err, 500, "out of memory");
    }
    size_t p = 0, member_end = 0;
    for (size_t k = 0; k < nseg; k++) {
        path[p++] = '/';
        for (size_t j = 0; j < segs[k].len; j++) {
            unsigned char c = (unsigned char)dec[segs[k].off + j];
            if (is_canonical_literal(c)) {
                path[p++] = (char)c;
            } else {
                path[p++] = '%';
                path[p++] = hex[c >> 4];
                path[p++] = hex[c & 15];
            }
        }
        if (k == 1)
            member_end = p;
    }
    if (p == 0)
        path[p++] = '/';
    path[p] = '\0';

    out->path = path;
    out->rest = path;
    out->member_ref = FG_MEMBER_NONE;
    if (nseg >= 2 && seg_is(dec, &segs[0], "clusters")) {
        const char *name = dec + segs[1].off;
        size_t name_len = segs[1].len;
        size_t keep = name_len < sizeof(out->member) - 1
                          ? name_len
                          : sizeof(out->member) - 1;
        memcpy(out->member, name, keep);
        out->member[keep] = '\0';
        out->member_ref = fg_is_dns1123_label(name, name_len)
                              ? FG_MEMBER_NAMED
                              : FG_MEMBER_INVALID;
        if (path[member_end]) {
            out->rest = path + member_end;
        } else {
            path[p + 1] = '/';
            path[p + 2] = '\0';
            out->rest = path + p + 1;
        }
    }
    free(dec);
    free(segs);

    if (q && (size_t)(q - target) + 1 < len) {
        size_t qlen = len - (size_t)(q - target) - 1;
        out->query = malloc(qlen + 1);
        if (!out->query) {
            fg_target_free(out);
            return fail(err, 500, "out of memory");
        }
        memcpy(out->query, q + 1, qlen);
        out->query[qlen] = '\0';
    }
    return 0;
}

void fg_target_free(struct fg_target *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->query);
    memset(t, 0, sizeof(*t));
}
