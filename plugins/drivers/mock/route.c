/* What a resource request addresses, for the mock's router: read from the
 * request info the core parsed once (kube-apiserver's RequestInfo), plus
 * what that info leaves out: the path's shape (its number of segments, and
 * whether the one after the version is "watch").
 *
 * RequestInfo is made for authorization, not routing: it ignores segments
 * past NAME/SUBRESOURCE, takes a list's name from a metadata.name field
 * selector, says "watch" both for the legacy /watch/ segment and for
 * ?watch=true, and gives a namespace's own path (namespaces/NAME) the
 * namespace NAME. kube-apiserver's router, which the mock imitates, tells
 * these apart by the path's shape: so does the mock. */
#include <string.h>

#include "mock.h"

/* Segments of PATH, or -1 when one is empty ("//", a trailing '/'): the
 * request info skips those, kube-apiserver's router serves no resource
 * there. (The core's normalised paths have none.) *WATCH tells whether
 * segment number AT (from 0) is "watch". */
static long count_segments(const char *path, long at, int *watch)
{
    long n = 0;
    *watch = 0;
    for (const char *p = path; *p; p++) {
        if (*p != '/')
            continue;
        if (p[1] == '/' || p[1] == '\0')
            return -1;
        if (n++ == at)
            *watch = strncmp(p + 1, "watch", 5) == 0 &&
                     (p[6] == '/' || p[6] == '\0');
    }
    return n;
}

int mock_route_of(const struct fg_request_info *ri, struct mock_route *r)
{
    memset(r, 0, sizeof(*r));
    /* proxy is a verb only as the segment after the version, which the
     * mock has no resource for. */
    if (!ri->is_resource || !ri->resource[0] || strcmp(ri->verb, "proxy") == 0)
        return -1;
    r->group = ri->api_group;
    r->version = ri->api_version;
    r->resource = ri->resource;
    /* Namespaces are cluster-scoped: a namespaces/NS/ prefix before them
     * is counted as two surplus segments below, and so refused. */
    r->ns = strcmp(ri->resource, "namespaces") == 0 ? "" : ri->namespace_;
    r->sub = ri->subresource[0] ? ri->subresource : NULL;

    /* api/V or apis/G/V, [watch], [namespaces/NS], RESOURCE, [NAME], [SUB]:
     * the verb "watch" may come from the query, so the segment after the
     * version is read; what the count leaves after the parts the info
     * shows is a name given in the path. */
    long head = strcmp(ri->api_prefix, "apis") == 0 ? 3 : 2;
    long n = count_segments(ri->path, head, &r->watch);
    if (n < 0)
        return -1;
    long named =
        n - head - r->watch - 1 - (r->sub ? 1 : 0) - (r->ns[0] ? 2 : 0);
    if (named < 0 || named > 1 || (named && !ri->name[0]))
        return -1;
    r->name = named ? ri->name : NULL;
    /* kube-apiserver serves no watch of a subresource. */
    return r->watch && r->sub ? -1 : 0;
}
