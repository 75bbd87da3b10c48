/* Typed values of ini keys: see ini_values.h. Values are stored in their
 * normal form so that readers (the core, plugins through fg_section) never
 * parse "10s" or "yes" themselves. */
#include "config/ini_values.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int fg_ini_parse_int64(const char *s, int64_t *out)
{
    const char *p = s;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (!isdigit((unsigned char)*p))
        return -1;
    /* Accumulate negatively so that INT64_MIN parses too. */
    int64_t v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        int d = *p - '0';
        if (v < (INT64_MIN + d) / 10)
            return -1;
        v = v * 10 - d;
    }
    if (*p != '\0')
        return -1;
    if (!neg) {
        if (v == INT64_MIN)
            return -1;
        v = -v;
    }
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* "250ms", "10s", "5m", "1h", or a bare "0". */
static int parse_duration_ms(const char *s, int64_t *out)
{
    int64_t v = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    int64_t mult;
    if (strcmp(p, "ms") == 0)
        mult = 1;
    else if (strcmp(p, "s") == 0)
        mult = 1000;
    else if (strcmp(p, "m") == 0)
        mult = 60 * 1000;
    else if (strcmp(p, "h") == 0)
        mult = 60 * 60 * 1000;
    else if (*p == '\0' && v == 0)
        mult = 1;
    else
        return -1;
    if (v > INT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

static int in_bounds(const struct fg_config_key *k, int64_t v)
{
    if (k->min == 0 && k->max == 0)
        return 1;
    return v >= k->min && v <= k->max;
}

char *fg_ini_path_join(const char *base, const char *path)
{
    size_t blen = base ? strlen(base) : 0, plen = strlen(path);
    size_t cap = blen + plen + 2;
    char *joined = malloc(cap);
    char *out = malloc(cap + 1);
    /* Every component takes at least one byte and one separator. */
    struct comp {
        const char *s;
        size_t n;
    } *comps = malloc((cap / 2 + 1) * sizeof(*comps));
    if (!joined || !out || !comps) {
        free(joined);
        free(out);
        free(comps);
        return NULL;
    }
    if (path[0] == '/' || !base)
        memcpy(joined, path, plen + 1);
    else
        snprintf(joined, cap, "%s/%s", base, path);
    int absolute = joined[0] == '/';

    size_t n = 0;
    for (const char *p = joined; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        int dotdot = len == 2 && p[0] == '.' && p[1] == '.';
        if (len == 0 || (len == 1 && p[0] == '.')) {
            /* empty or ".": nothing to keep */
        } else if (dotdot && n > 0 &&
                   !(comps[n - 1].n == 2 &&
                     memcmp(comps[n - 1].s, "..", 2) == 0)) {
            n--;
        } else if (dotdot && absolute) {
            /* "/.." is "/" */
        } else {
            comps[n].s = p;
            comps[n].n = len;
            n++;
        }
        p += len;
        if (*p == '/')
            p++;
    }

    size_t olen = 0;
    if (absolute)
        out[olen++] = '/';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            out[olen++] = '/';
        memcpy(out + olen, comps[i].s, comps[i].n);
        olen += comps[i].n;
    }
    if (olen == 0)
        out[olen++] = '.';
    out[olen] = '\0';
    free(comps);
    free(joined);
    return out;
}

int fg_ini_value_check(const struct fg_config_key *k, const char *base_dir,
                       const char *value, char **out, char *err, size_t err_len)
{
    char buf[32];
    int64_t v;
    int b;
    *out = NULL;
    if (!value || !*value) {
        snprintf(err, err_len, "%s: empty value", k->name);
        return -1;
    }
    switch (k->type) {
    case FG_CONFIG_STRING:
        *out = strdup(value);
        break;
    case FG_CONFIG_BOOL:
        if (parse_bool(value, &b) != 0) {
            snprintf(err, err_len,
                     "%s: \"%s\" is not a boolean (true/false, yes/no, "
                     "on/off, 1/0)",
                     k->name, value);
            return -1;
        }
        *out = strdup(b ? "1" : "0");
        break;
    case FG_CONFIG_INT:
        if (fg_ini_parse_int64(value, &v) != 0) {
            snprintf(err, err_len, "%s: \"%s\" is not a decimal integer",
                     k->name, value);
            return -1;
        }
        if (!in_bounds(k, v)) {
            snprintf(err, err_len,
                     "%s: %" PRId64 " is out of range %" PRId64 "..%" PRId64,
                     k->name, v, k->min, k->max);
            return -1;
        }
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        *out = strdup(buf);
        break;
    case FG_CONFIG_DURATION:
        if (parse_duration_ms(value, &v) != 0) {
            snprintf(err, err_len,
                     "%s: \"%s\" is not a duration (e.g. 250ms, 10s, 5m, "
                     "1h)",
                     k->name, value);
            return -1;
        }
        if (!in_bounds(k, v)) {
            snprintf(err, err_len,
                     "%s: %s is out of range %" PRId64 "ms..%" PRId64 "ms",
                     k->name, value, k->min, k->max);
            return -1;
        }
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        *out = strdup(buf);
        break;
    case FG_CONFIG_PATH:
    case FG_CONFIG_FILE:
        *out = fg_ini_path_join(base_dir, value);
        break;
    default:
        snprintf(err, err_len, "%s: unknown value type %d", k->name,
                 (int)k->type);
        return -1;
    }
    if (!*out) {
        snprintf(err, err_len, "%s: out of memory", k->name);
        return -1;
    }
    return 0;
}
