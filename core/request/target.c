/* Request-target normalisation and member routing: see target.h.
 *
 * Security: the member is the segment after /clusters/ exactly as the
 * client sent it, and the rest is normalised on its own: a front proxy
 * that allows /clusters/m1/ for a user can trust that nothing ("..",
 * "%2e%2e", "//", an encoded or look-alike name) reaches another member.
 * Within a path the decoded segments are the truth. Escapes that would
 * change the segment structure after decoding (%2F, %5C, %00, controls)
 * are refused rather than passed on, because a member (or a proxy in
 * front of it) could decode them and see a different path than the one
 * routed. */
#include "request/target.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>

#include "config/config.h"

#define FG_CLUSTERS_PREFIX "/clusters/"
#define FG_CLUSTERS_PREFIX_LEN 10

/* Bytes kept literal in the canonical form: RFC 3986 unreserved plus the
 * sub-delims, ':' and '@' (all allowed in a path segment). */
static bool is_canonical_literal(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL;
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
            int hi = i + 2 < len ? fg_hex_digit((unsigned char)raw[i + 1]) : -1;
            int lo = hi < 0 ? -1 : fg_hex_digit((unsigned char)raw[i + 2]);
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

/* Normalises the rooted path RAW[0..LEN) (empty or starting with '/'):
 * segments decoded, ".", ".." and empty ones resolved, each byte put back
 * in its canonical form. Returns 0 and a malloc'd path ("/" at least) in
 * *OUT, or 400/500 with ERR set; CLIMB is the message for a ".." above
 * the root. */
static int normalise(const char *raw, size_t len, const char *climb, char **out,
                     struct fg_error *err)
{
    static const char hex[] = "0123456789ABCDEF";

    /* Decoding never grows a segment, so LEN bytes hold them all; at most
     * one segment per two input bytes (a '/' and one byte). */
    char *dec = malloc(len + 1);
    struct seg *segs = malloc((len / 2 + 1) * sizeof(*segs));
    if (!dec || !segs) {
        free(dec);
        free(segs);
        return fail(err, 500, "out of memory");
    }
    size_t nseg = 0, used = 0;
    for (size_t i = 0; i < len;) {
        /* raw[i] is '/': the segment runs to the next '/'. */
        size_t start = ++i;
        while (i < len && raw[i] != '/')
            i++;
        long n = decode_segment(raw + start, i - start, dec + used, err);
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
                return fail(err, 400, climb);
            }
            /* Segments are stored in order, so the space of the popped one
             * can be reused. */
            used = segs[--nseg].off;
            continue;
        }
        segs[nseg++] = s;
        used += s.len;
    }

    /* Each decoded byte becomes at most three. */
    char *path = malloc(used * 3 + nseg + 2);
    if (!path) {
        free(dec);
        free(segs);
        return fail(err, 500, "out of memory");
    }
    size_t p = 0;
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
    }
    if (p == 0)
        path[p++] = '/';
    path[p] = '\0';
    free(dec);
    free(segs);
    *out = path;
    return 0;
}

/* RFC 3986 unreserved: the bytes a member name that is no DNS-1123 label
 * may still consist of to be answered "not found" rather than refused. */
static bool is_unreserved(unsigned char c)
{
    return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~');
}

/* A path under /clusters/: the member is the segment as sent, and what
 * follows it is normalised on its own, so that no dot segment in any
 * encoding can carry the request to another member. */
static int parse_member_path(const char *raw, size_t len, struct fg_target *out,
                             struct fg_error *err)
{
    const char *name = raw + FG_CLUSTERS_PREFIX_LEN;
    size_t name_len = 0;
    while (FG_CLUSTERS_PREFIX_LEN + name_len < len && name[name_len] != '/')
        name_len++;
    /* Every cluster at once: "*" as sent, or "%2A" as Go's url package
     * (kubectl, client-go) escapes it. No member name can be either, and
     * no other spelling means it. */
    int all = (name_len == 1 && name[0] == '*') ||
              (name_len == 3 && name[0] == '%' && name[1] == '2' &&
               (name[2] == 'A' || name[2] == 'a'));
    bool unreserved = name_len > 0;
    for (size_t i = 0; i < name_len; i++)
        unreserved = unreserved && is_unreserved((unsigned char)name[i]);
    if (all) {
        unreserved = true;
        name = "*";
    }
    if (!unreserved || (name_len == 1 && name[0] == '.') ||
        (name_len == 2 && name[0] == '.' && name[1] == '.'))
        return fail(err, 400,
                    "the member name after /clusters/ must be sent as a "
                    "DNS-1123 label, without encoding or dot segments");

    char *rest = NULL;
    size_t rest_off = FG_CLUSTERS_PREFIX_LEN + name_len;
    int code =
        normalise(raw + rest_off, len - rest_off,
                  "the path leaves /clusters/NAME/ with \"..\"", &rest, err);
    if (code != 0)
        return code;
    /* PATH is /clusters/NAME followed by the rest, unless the rest is just
     * "/": then REST is a "/" kept after PATH's NUL, in the same
     * allocation, so it lives as long as PATH. */
    size_t rest_len = strlen(rest);
    char *path = malloc(rest_off + rest_len + 3);
    if (!path) {
        free(rest);
        return fail(err, 500, "out of memory");
    }
    /* The path names the cluster segment canonically ("*" for both). */
    memcpy(path, raw, FG_CLUSTERS_PREFIX_LEN);
    memcpy(path + FG_CLUSTERS_PREFIX_LEN, name, all ? 1 : name_len);
    if (all) {
        rest_off = FG_CLUSTERS_PREFIX_LEN + 1;
        name_len = 1;
    }
    if (strcmp(rest, "/") == 0) {
        memcpy(path + rest_off, "\0/", 3);
        out->rest = path + rest_off + 1;
    } else {
        memcpy(path + rest_off, rest, rest_len + 1);
        out->rest = path + rest_off;
    }
    free(rest);
    out->path = path;
    size_t keep =
        name_len < sizeof(out->member) - 1 ? name_len : sizeof(out->member) - 1;
    memcpy(out->member, name, keep);
    out->member[keep] = '\0';
    out->member_ref = all                                   ? FG_MEMBER_ALL
                      : fg_is_dns1123_label(name, name_len) ? FG_MEMBER_NAMED
                                                            : FG_MEMBER_INVALID;
    return 0;
}

int fg_target_parse(const char *target, size_t len, size_t max_len,
                    struct fg_target *out, struct fg_error *err)
{
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

    int code;
    if (path_len > FG_CLUSTERS_PREFIX_LEN &&
        memcmp(target, FG_CLUSTERS_PREFIX, FG_CLUSTERS_PREFIX_LEN) == 0) {
        code = parse_member_path(target, path_len, out, err);
    } else {
        code = normalise(target, path_len, "path climbs above the root",
                         &out->path, err);
        out->rest = out->path;
        out->member_ref = FG_MEMBER_NONE;
        /* Only a path sent as /clusters/NAME/ reaches a member: one that
         * becomes such a path by normalisation was aimed elsewhere. */
        if (code == 0 && strncmp(out->path, FG_CLUSTERS_PREFIX,
                                 FG_CLUSTERS_PREFIX_LEN) == 0) {
            fg_target_free(out);
            return fail(err, 400,
                        "a path to a member cluster must start with "
                        "/clusters/NAME/ as sent, without dot segments, "
                        "empty segments or encoding before NAME");
        }
    }
    if (code != 0) {
        fg_target_free(out);
        return code;
    }

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
