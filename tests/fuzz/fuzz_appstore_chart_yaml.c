/* Fuzz target for Chart.yaml's reader (libyaml via the SDK, then Helm's
 * metadata checks): metadata with a name and a valid SemVer version and
 * only strings, booleans, lists and maps in it, or a "Chart.yaml:" reason
 * on one line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "appstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int only_text(const cJSON *j)
{
    if (cJSON_IsString(j) || cJSON_IsBool(j))
        return 1;
    if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
        return 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, j)
    {
        if (!only_text(c))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    err[0] = 0;
    cJSON *md =
        appstore_chart_metadata((const char *)data, size, err, sizeof err);
    if (!md) {
        if (strncmp(err, "Chart.yaml:", 11) != 0 || strchr(err, '\n'))
            abort();
        return 0;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, "version");
    struct appstore_semver sv;
    if (!cJSON_IsString(v) || appstore_semver_parse(v->valuestring, &sv) < 0 ||
        !only_text(md))
        abort();
    cJSON_Delete(md);
    return 0;
}
