/* fg_is_dns1123_label and _subdomain (declared in config.h): the one definition
 * of what a member name may be, shared by the configuration checks, the router
 * and the kubeconfig writer so that they can never disagree. */
#include "config/config.h"

#include <stdbool.h>

static bool is_lower_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int fg_is_dns1123_label(const char *s, size_t len)
{
    if (!s || len == 0 || len > 63)
        return 0;
    if (!is_lower_alnum((unsigned char)s[0]) ||
        !is_lower_alnum((unsigned char)s[len - 1]))
        return 0;
    for (size_t i = 1; i + 1 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_lower_alnum(c) && c != '-')
            return 0;
    }
    return 1;
}

int fg_is_dns1123_subdomain(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (!fg_is_dns1123_label(s + start, i - start))
            return 0;
        start = i + 1;
    }
    return 1;
}
