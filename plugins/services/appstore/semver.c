/* Strict Semantic Versioning 2.0.0: checking a chart's version text and
 * ordering versions by SemVer precedence (the index lists newest first).
 * The raw text is what the repository keeps and serves; this file only
 * reads it. */
#include <string.h>

#include "appstore.h"

/* A numeric field: digits, no leading zero unless it is "0". */
static int numeric(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n == 1 || s[0] != '0';
}

static int ident_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '-';
}

/* Dot-separated identifiers of [0-9A-Za-z-], none empty; PRE: a numeric
 * one has no leading zero. */
static int identifiers(const char *s, size_t n, int pre)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!ident_char(s[i]))
                return 0;
            continue;
        }
        size_t len = i - start;
        if (len == 0)
            return 0;
        int digits = 1;
        for (size_t k = start; k < i; k++)
            if (s[k] < '0' || s[k] > '9')
                digits = 0;
        if (pre && digits && len > 1 && s[start] == '0')
            return 0;
        start = i + 1;
    }
    return 1;
}

int appstore_semver_parse(const char *s, struct appstore_semver *v)
{
    size_t n = strlen(s);
    const char *end = s + n;
    const char *p = s;
    const char *field[3];
    size_t flen[3];
    for (int i = 0; i < 3; i++) {
        const char *q = p;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (!numeric(p, (size_t)(q - p)) || q - p > 18)
            return -1;
        field[i] = p;
        flen[i] = (size_t)(q - p);
        if (i < 2) {
            if (q == end || *q != '.')
                return -1;
            q++;
        }
        p = q;
    }
    const char *pre = NULL, *build = NULL;
    size_t pre_len = 0;
    if (p < end && *p == '-') {
        pre = ++p;
        while (p < end && *p != '+')
            p++;
        pre_len = (size_t)(p - pre);
        if (!identifiers(pre, pre_len, 1))
            return -1;
    }
    if (p < end && *p == '+') {
        build = ++p;
        if (!identifiers(build, (size_t)(end - build), 0))
            return -1;
        p = end;
    }
    if (p != end)
        return -1;
    uint64_t num[3];
    for (int i = 0; i < 3; i++) {
        num[i] = 0;
        for (size_t k = 0; k < flen[i]; k++)
            num[i] = num[i] * 10 + (uint64_t)(field[i][k] - '0');
    }
    v->major = num[0];
    v->minor = num[1];
    v->patch = num[2];
    v->pre = pre;
    v->pre_len = pre_len;
    return 0;
}

/* Compares one pre-release identifier pair as SemVer 11.4 says: numbers
 * numerically, numbers below alphanumerics, the rest in ASCII order. */
static int cmp_ident(const char *a, size_t an, const char *b, size_t bn)
{
    int ad = 1, bd = 1;
    for (size_t i = 0; i < an; i++)
        ad &= a[i] >= '0' && a[i] <= '9';
    for (size_t i = 0; i < bn; i++)
        bd &= b[i] >= '0' && b[i] <= '9';
    if (ad && bd) {
        if (an != bn)
            return an < bn ? -1 : 1;
        int c = memcmp(a, b, an);
        return c < 0 ? -1 : c > 0;
    }
    if (ad != bd)
        return ad ? -1 : 1;
    size_t m = an < bn ? an : bn;
    int c = memcmp(a, b, m);
    if (c)
        return c < 0 ? -1 : 1;
    return an == bn ? 0 : (an < bn ? -1 : 1);
}

int appstore_semver_cmp(const struct appstore_semver *a,
                        const struct appstore_semver *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    if (a->patch != b->patch)
        return a->patch < b->patch ? -1 : 1;
    if (!a->pre || !b->pre)
        return a->pre ? -1 : (b->pre ? 1 : 0);
    const char *p = a->pre, *q = b->pre;
    const char *pe = p + a->pre_len, *qe = q + b->pre_len;
    for (;;) {
        if (p >= pe || q >= qe)
            return p >= pe ? (q >= qe ? 0 : -1) : 1;
        const char *pd = memchr(p, '.', (size_t)(pe - p));
        const char *qd = memchr(q, '.', (size_t)(qe - q));
        if (!pd)
            pd = pe;
        if (!qd)
            qd = qe;
        int c = cmp_ident(p, (size_t)(pd - p), q, (size_t)(qd - q));
        if (c)
            return c;
        p = pd + 1;
        q = qd + 1;
    }
}
