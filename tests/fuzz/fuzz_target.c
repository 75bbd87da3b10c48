/* libFuzzer target for request-target normalisation (core/request/target.c):
 * any input either fails cleanly or yields a canonical, idempotent path whose
 * member name, if any, is a valid DNS-1123 label sent as such right after
 * /clusters/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "request/target.h"

static int is_literal(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

static int upper_hex(unsigned char c, int *v)
{
    if (c >= '0' && c <= '9')
        *v = c - '0';
    else if (c >= 'A' && c <= 'F')
        *v = c - 'A' + 10;
    else
        return 0;
    return 1;
}

/* Aborts unless PATH is in the canonical form target.h promises. */
static void check_canonical(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || path[0] != '/')
        abort();
    if (n > 1 && path[n - 1] == '/')
        abort();
    if (strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../"))
        abort();
    if ((n >= 2 && strcmp(path + n - 2, "/.") == 0) ||
        (n >= 3 && strcmp(path + n - 3, "/..") == 0))
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '/' || is_literal(c))
            continue;
        int hi, lo;
        if (c != '%' || i + 2 >= n ||
            !upper_hex((unsigned char)path[i + 1], &hi) ||
            !upper_hex((unsigned char)path[i + 2], &lo))
            abort();
        unsigned char d = (unsigned char)(hi << 4 | lo);
        /* An escape of a byte that has a literal form, or of one that the
         * parser must refuse, is not canonical. */
        if (is_literal(d) || d == '/' || d == '\\' || d < 0x20 || d > 0x7e)
            abort();
        i += 2;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_target t, again;
    struct fg_error err;
    int rc = fg_target_parse((const char *)data, size, 4096, &t, &err);
    if (rc != 0) {
        if ((rc != 400 && rc != 414) || t.path || t.query)
            abort();
        return 0;
    }
    check_canonical(t.path);
    if (!t.rest || t.rest[0] != '/')
        abort();
    switch (t.member_ref) {
    case FG_MEMBER_NONE:
        /* nothing becomes a member path by normalisation */
        if (t.rest != t.path || strncmp(t.path, "/clusters/", 10) == 0)
            abort();
        break;
    case FG_MEMBER_NAMED:
        if (!fg_is_dns1123_label(t.member, strlen(t.member)))
            abort();
        /* The routed name is exactly what the path says, and what the
         * client sent: /clusters/NAME followed by '/', '?' or the end. */
        if (strncmp(t.path, "/clusters/", 10) != 0 ||
            strncmp(t.path + 10, t.member, strlen(t.member)) != 0 ||
            size < 10 + strlen(t.member) ||
            memcmp(data, t.path, 10 + strlen(t.member)) != 0 ||
            (size > 10 + strlen(t.member) &&
             data[10 + strlen(t.member)] != '/' &&
             data[10 + strlen(t.member)] != '?'))
            abort();
        break;
    case FG_MEMBER_ALL:
        /* every member: only "*" or "%2A" as sent, spelled "*" */
        if (strcmp(t.member, "*") != 0 ||
            strncmp(t.path, "/clusters/*", 11) != 0 ||
            (t.path[11] != '/' && t.path[11] != '\0') ||
            !((size >= 11 && memcmp(data, "/clusters/*", 11) == 0 &&
               (size == 11 || data[11] == '/' || data[11] == '?')) ||
              (size >= 13 &&
               strncasecmp((const char *)data, "/clusters/%2A", 13) == 0 &&
               (size == 13 || data[13] == '/' || data[13] == '?'))))
            abort();
        break;
    case FG_MEMBER_INVALID:
        if (strlen(t.member) > 63 || strncmp(t.path, "/clusters/", 10) != 0)
            abort();
        break;
    default:
        abort();
    }
    if (t.query) {
        for (const char *q = t.query; *q; q++)
            if ((unsigned char)*q < 0x21 || (unsigned char)*q > 0x7e ||
                *q == '#')
                abort();
    }

    /* Parsing the result again changes nothing. Its length may exceed the
     * input's limit, since escaping grows a path, so no limit here. */
    if (fg_target_parse(t.path, strlen(t.path), SIZE_MAX, &again, &err) != 0)
        abort();
    if (strcmp(again.path, t.path) != 0 || again.member_ref != t.member_ref ||
        strcmp(again.member, t.member) != 0 || strcmp(again.rest, t.rest) != 0)
        abort();
    fg_target_free(&again);
    fg_target_free(&t);
    return 0;
}
