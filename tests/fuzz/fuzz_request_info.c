/* libFuzzer target for request info (core/request/request_info.c), fed as the
 * gateway feeds it: "METHOD\nTARGET" where TARGET is normalised by
 * core/request/target.c first. Every attribute must be a string, those taken
 * from path segments without '/' (a name from a field selector may hold any
 * byte), and a resource request must name its prefix (api, apis, or
 * KubeSphere's kapis) and version. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request/request_info.h"
#include "request/target.h"

/* The codecs pass only RFC 9110 tokens as methods. */
static int is_token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') ||
              (s[i] && strchr("!#$%&'*+-.^_`|~", s[i]))))
            return 0;
    return n > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    size_t mlen = (size_t)(nl - (const char *)data);
    if (!is_token((const char *)data, mlen))
        return 0;
    char *method = strndup((const char *)data, mlen);
    struct fg_target t;
    struct fg_error err;
    if (!method ||
        fg_target_parse(nl + 1, size - mlen - 1, 8192, &t, &err) != 0) {
        free(method);
        return 0;
    }
    struct fg_request_info ri;
    struct fg_arena *arena = fg_arena_new(0);
    if (!arena ||
        fg_request_info_parse(arena, method, t.rest, t.query, &ri) != 0)
        abort();
    const char *attrs[] = {ri.verb,        ri.api_prefix, ri.api_group,
                           ri.api_version, ri.namespace_, ri.resource,
                           ri.subresource};
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        if (!attrs[i] || strchr(attrs[i], '/'))
            abort();
    if (!ri.name)
        abort();
    if (ri.is_resource &&
        (!ri.api_version[0] || (strcmp(ri.api_prefix, "api") != 0 &&
                                strcmp(ri.api_prefix, "apis") != 0 &&
                                strcmp(ri.api_prefix, "kapis") != 0)))
        abort();
    if (fg_request_info_is_upgradable(&ri) &&
        (strcmp(ri.resource, "pods") != 0 && !strstr(ri.subresource, "proxy")))
        abort();
    fg_arena_free(arena);
    fg_target_free(&t);
    free(method);
    return 0;
}
