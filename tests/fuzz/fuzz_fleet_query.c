/* libFuzzer target for what the host's own API reads from a client beyond
 * the path: the Accept header (fg_accept_find, sdk/src/accept.c, which
 * picks Tables and aggregated discovery) and query parameters
 * (fg_query_get), and the labels of a member section (core/config/
 * labels.c). The input is split at the first NUL: Accept, then a query
 * (also read as a labels value). Every answer stays in range, a label
 * list either parses or says why, and each pair reported lies inside it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>

#include "config/labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
    const char *begin, *end;
};

static void inside(void *arg, const char *k, size_t kl, const char *v,
                   size_t vl)
{
    const struct span *s = arg;
    if (k < s->begin || k + kl > s->end || v < s->begin || v + vl > s->end ||
        kl == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const tables[] = {"v1", "v1beta1", NULL};
    static const char *const discovery[] = {"v2", "v2beta1", NULL};
    const char *accept = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t accept_len = nul ? (size_t)(nul - data) : size;
    int t = fg_accept_find(accept, accept_len, "Table", "meta.k8s.io", tables);
    int d = fg_accept_find(accept, accept_len, "APIGroupDiscoveryList",
                           "apidiscovery.k8s.io", discovery);
    if (t < 0 || t > 2 || d < 0 || d > 2)
        abort();
    size_t rest = nul ? size - accept_len - 1 : 0;
    char *q = malloc(rest + 1);
    if (!q)
        abort();
    memcpy(q, nul ? (const char *)nul + 1 : "", rest);
    q[rest] = '\0';
    char buf[64];
    int rc = fg_query_get(q, "resourceVersion", buf, sizeof(buf));
    if (rc < -1 || rc > 1 || (rc == 1 && strlen(buf) >= sizeof(buf)))
        abort();
    char err[256];
    struct span s = {q, q + strlen(q)};
    if (fg_labels_parse(q, inside, &s, err, sizeof(err)) != 0 &&
        (!err[0] || strlen(err) >= sizeof(err)))
        abort();
    free(q);
    return 0;
}
