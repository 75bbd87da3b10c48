/* Where a request may switch protocols (see upgrade.h). The path is read
 * segment by segment, never searched for a substring: "/exec" inside a
 * name or a query must not make a pods list upgradable. */
#include "upgrade.h"

#include <string.h>

#include "target.h"

/* Longest path that still matters: api/v1/namespaces/NS/pods/NAME/SUB. */
#define UPGRADE_SEGMENTS 7

struct segment {
    const char *s;
    size_t len;
};

static int seg_is(const struct segment *g, const char *lit)
{
    return g->len == strlen(lit) && memcmp(g->s, lit, g->len) == 0;
}

int fg_upgrade_path(const char *path)
{
    struct segment g[UPGRADE_SEGMENTS];
    size_t n = 0; /* segments read, at most UPGRADE_SEGMENTS */
    int more = 0; /* segments follow the last one read */
    for (const char *p = path; *p == '/' && p[1];) {
        if (n == UPGRADE_SEGMENTS) {
            more = 1;
            break;
        }
        const char *s = p + 1;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        g[n++] = (struct segment){s, len};
        p = s + len;
    }
    if (n < 5 || !seg_is(&g[0], "api") || !seg_is(&g[1], "v1"))
        return 0;
    /* /api/v1/nodes/NAME/proxy[/...] */
    if (seg_is(&g[2], "nodes"))
        return seg_is(&g[4], "proxy");
    if (n < 7 || !seg_is(&g[2], "namespaces"))
        return 0;
    /* /api/v1/namespaces/NS/{pods,services}/NAME/proxy[/...] */
    if ((seg_is(&g[4], "pods") || seg_is(&g[4], "services")) &&
        seg_is(&g[6], "proxy"))
        return 1;
    /* /api/v1/namespaces/NS/pods/NAME/{exec,attach,portforward} */
    return !more && seg_is(&g[4], "pods") &&
           (seg_is(&g[6], "exec") || seg_is(&g[6], "attach") ||
            seg_is(&g[6], "portforward"));
}

int fg_upgrade_target(const char *target, size_t len, size_t max_len)
{
    struct fg_target t;
    struct fg_error err;
    if (fg_target_parse(target, len, max_len, &t, &err) != 0)
        return 0;
    int ok = fg_upgrade_path(t.rest);
    fg_target_free(&t);
    return ok;
}
