/* Kubernetes label syntax (labels.h), as apimachinery's
 * validation.IsQualifiedName and IsValidLabelValue read it. */
#include "config/labels.h"

#include "config/config.h"

#include <stdio.h>
#include <string.h>

static int alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

int fg_label_value_ok(const char *s, size_t len)
{
    if (len == 0)
        return 1;
    if (len > 63 || !alnum((unsigned char)s[0]) ||
        !alnum((unsigned char)s[len - 1]))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!alnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
            return 0;
    return 1;
}

static int key_ok(const char *k, size_t len)
{
    const char *slash = memchr(k, '/', len);
    if (!slash)
        return len > 0 && fg_label_value_ok(k, len);
    size_t plen = (size_t)(slash - k);
    size_t nlen = len - plen - 1;
    return fg_is_dns1123_subdomain(k, plen) && nlen > 0 &&
           fg_label_value_ok(slash + 1, nlen);
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* Whether the key K (LEN) appears among the pairs of VALUE before END. */
static int seen(const char *value, const char *end, const char *k, size_t len)
{
    for (const char *p = value; p < end;) {
        size_t n = strcspn(p, ",");
        if (p + n > end)
            n = (size_t)(end - p);
        const char *eq = memchr(p, '=', n);
        const char *pk = p;
        size_t pl = eq ? (size_t)(eq - p) : n;
        trim(&pk, &pl);
        if (pl == len && memcmp(pk, k, len) == 0)
            return 1;
        p += n + 1;
    }
    return 0;
}

int fg_labels_parse(const char *value, fg_label_fn fn, void *arg, char *err,
                    size_t err_len)
{
    for (const char *p = value; *p;) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        const char *k = p, *v = eq ? eq + 1 : NULL;
        size_t kl = eq ? (size_t)(eq - p) : n;
        size_t vl = eq ? n - kl - 1 : 0;
        trim(&k, &kl);
        if (v)
            trim(&v, &vl);
        if (!eq) {
            snprintf(err, err_len, "\"%.*s\" is not KEY=VALUE", (int)kl, k);
            return -1;
        }
        if (!key_ok(k, kl)) {
            snprintf(err, err_len,
                     "\"%.*s\" is not a label key ([PREFIX/]NAME: PREFIX a "
                     "DNS subdomain, NAME at most 63 of [A-Za-z0-9._-], "
                     "alphanumeric at both ends)",
                     (int)(kl > 300 ? 300 : kl), k);
            return -1;
        }
        if (kl == strlen(FG_LABEL_HOST) && memcmp(k, FG_LABEL_HOST, kl) == 0) {
            snprintf(err, err_len,
                     "%s is set by [gateway] host_cluster, not by labels",
                     FG_LABEL_HOST);
            return -1;
        }
        if (!fg_label_value_ok(v, vl)) {
            snprintf(err, err_len,
                     "the value of %.*s, \"%.*s\", is not a label value (at "
                     "most 63 of [A-Za-z0-9._-], alphanumeric at both ends)",
                     (int)kl, k, (int)(vl > 100 ? 100 : vl), v);
            return -1;
        }
        if (seen(value, p, k, kl)) {
            snprintf(err, err_len, "%.*s is given twice", (int)kl, k);
            return -1;
        }
        if (fn)
            fn(arg, k, kl, v, vl);
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}
