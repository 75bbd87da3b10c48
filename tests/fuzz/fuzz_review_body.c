/* libFuzzer target for the review bodies the gateway reads itself
 * (core/request/review_body.c). The first byte chooses the review and the
 * media type; the rest is the body, read as JSON and, behind the "k8s\0"
 * envelope prefix so that mutations need not rediscover it, as protobuf.
 * What reads must hold string attributes (an access review) or a
 * namespace (a rules review), and print as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "request/review_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_one(enum fg_review_kind kind, const char *media,
                     const void *body, size_t len)
{
    static const char *const versions[] = {"", "authorization.k8s.io/v1",
                                           "authorization.k8s.io/v1",
                                           "authentication.k8s.io/v1"};
    struct fg_review r;
    char err[256];
    if (fg_review_read(kind, versions[kind], media, body, len, &r, err,
                       sizeof(err)) != 0)
        return;
    if (kind == FG_REVIEW_ACCESS) {
        const struct fg_request_info *a = &r.attributes;
        if (!a->verb || !a->api_group || !a->resource || !a->subresource ||
            !a->namespace_ || !a->name || !a->path || !a->api_prefix)
            abort();
    }
    if (kind == FG_REVIEW_RULES && (!r.namespace_ || !*r.namespace_))
        abort();
    free(cJSON_PrintUnformatted(r.object));
    fg_review_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum fg_review_kind kind = (enum fg_review_kind)(1 + data[0] % 3);
    data++;
    size--;
    read_one(kind, "application/json", data, size);
    uint8_t *b = malloc(size + 4);
    if (!b)
        return 0;
    memcpy(b, "k8s\0", 4);
    if (size)
        memcpy(b + 4, data, size);
    read_one(kind, "application/vnd.kubernetes.protobuf", b, size + 4);
    read_one(kind, "application/vnd.kubernetes.protobuf", data, size);
    free(b);
    return 0;
}
