/* Small helpers the mock's files share: dotted-path strings, RFC 3339
 * timestamps and kubectl's human-readable durations. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mock.h"

const char *mock_json_str(const cJSON *obj, const char *path, const char *def)
{
    const cJSON *v = fg_json_path(obj, path);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : def;
}

int64_t mock_json_int(const cJSON *obj, const char *path, int64_t def)
{
    const cJSON *v = fg_json_path(obj, path);
    if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble ||
        v->valuedouble > 9.0e15 || v->valuedouble < -9.0e15)
        return def;
    return (int64_t)v->valuedouble;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int64_t mock_time_parse(const char *s)
{
    int Y, M, D, h, m, sec;
    if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return -1;
    if (digits(s, 4, &Y) || digits(s + 5, 2, &M) || digits(s + 8, 2, &D) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &m) ||
        digits(s + 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 ||
        Y < 1970)
        return -1;
    const char *p = s + 19;
    int64_t frac_ms = 0;
    if (*p == '.') {
        int scale = 100, nd = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
            frac_ms += (*p - '0') * scale;
            scale /= 10;
        }
        if (nd == 0)
            return -1;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (strlen(p) < 6 || p[3] != ':' || digits(p + 1, 2, &oh) ||
            digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_s = (oh * 3600 + om * 60) * (p[0] == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return ((int64_t)t - offset_s) * 1000 + frac_ms;
}

void mock_time_format(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "1970-01-01T00:00:00Z");
}
