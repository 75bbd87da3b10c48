/* Fuzz target for the federation service's overrides (override.h): a
 * federated object's spec.overrides as a user writes it, applied to its
 * template. Input: the template (JSON) on the first line, the overrides
 * (JSON) after it; every cluster name is tried. An override either
 * applies or is refused with a one-line reason; the result is JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#include "override.h"

#define MAX_DEPTH 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cJSON *parse(const char *s, size_t n)
{
    if (fg_json_depth(s, n, MAX_DEPTH) > MAX_DEPTH)
        return NULL;
    return cJSON_ParseWithLength(s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    if (!nl)
        return 0;
    cJSON *obj = parse(text, (size_t)(nl - text));
    cJSON *ovr = parse(nl + 1, size - (size_t)(nl + 1 - text));
    const cJSON *entry;
    cJSON_ArrayForEach(entry, ovr)
    {
        const cJSON *name =
            cJSON_GetObjectItemCaseSensitive(entry, "clusterName");
        if (!obj || !cJSON_IsString(name))
            continue;
        char err[256] = "";
        if (fed_overrides_apply(obj, ovr, name->valuestring, err, sizeof(err)) <
                0 &&
            (!err[0] || strchr(err, '\n')))
            abort();
        char *out = cJSON_PrintUnformatted(obj);
        if (!out)
            abort();
        cJSON *back = cJSON_Parse(out);
        if (!back)
            abort();
        cJSON_Delete(back);
        cJSON_free(out);
    }
    cJSON_Delete(obj);
    cJSON_Delete(ovr);
    return 0;
}
