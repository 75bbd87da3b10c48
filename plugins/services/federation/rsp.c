/* Replica scheduling (rsp.h). */
#include "rsp.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Whether A's claim on the next replica beats B's: WA / (2 SA + 1) >
 * WB / (2 SB + 1), compared without division; a tie goes by name. */
static int beats(const struct fed_share *a, long sa, const struct fed_share *b,
                 long sb)
{
    long long l = (long long)a->weight * (2 * sb + 1);
    long long r = (long long)b->weight * (2 * sa + 1);
    if (l != r)
        return l > r;
    return strcmp(a->name, b->name) < 0;
}

void fed_webster(const struct fed_share *s, size_t n, long total, long *out)
{
    long left = total;
    for (size_t i = 0; i < n; i++) {
        long m = s[i].min;
        if (s[i].max >= 0 && m > s[i].max)
            m = s[i].max;
        if (m > left)
            m = left;
        out[i] = m;
        left -= m;
    }
    for (; left > 0; left--) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (s[i].weight <= 0 || (s[i].max >= 0 && out[i] >= s[i].max))
                continue;
            if (best == n || beats(&s[i], out[i], &s[best], out[best]))
                best = i;
        }
        if (best == n)
            return;
        out[best]++;
    }
}

static long number(const cJSON *o, const char *key, long def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e9
               ? (long)v->valuedouble
               : def;
}

int fed_rsp_split(const cJSON *rsp, const char *const *clusters, size_t n,
                  long *out)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(rsp, "spec");
    long total = number(spec, "totalReplicas", -1);
    if (total < 0)
        return -1;
    const cJSON *prefs = cJSON_GetObjectItemCaseSensitive(spec, "clusters");
    const cJSON *any = cJSON_GetObjectItemCaseSensitive(prefs, "*");
    struct fed_share *s = calloc(n ? n : 1, sizeof(*s));
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(prefs, clusters[i]);
        if (!p)
            p = any;
        s[i].name = clusters[i];
        /* no preferences at all: every cluster weighs the same */
        s[i].weight = p ? number(p, "weight", 0) : !cJSON_GetArraySize(prefs);
        s[i].min = p ? number(p, "minReplicas", 0) : 0;
        s[i].max = p ? number(p, "maxReplicas", -1) : -1;
    }
    fed_webster(s, n, total, out);
    free(s);
    return 0;
}
