/* Fuzz target for the app store's chart archive reader (gzip, then tar
 * with pax and GNU headers, then Chart.yaml): whatever the bytes, it gives
 * metadata with a name and a valid SemVer version, or a one-line reason.
 * Small limits make the size checks reachable. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "appstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct appstore_limits lim = {1 << 20, 64 << 10, 1 << 20};
    char err[256];
    err[0] = 0;
    cJSON *md = appstore_chart_read(data, size, &lim, err, sizeof err);
    if (!md) {
        if (!err[0] || strchr(err, '\n'))
            abort();
        return 0;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, "version");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(md, "name");
    struct appstore_semver sv;
    if (!cJSON_IsString(v) || !cJSON_IsString(n) || !n->valuestring[0] ||
        appstore_semver_parse(v->valuestring, &sv) < 0)
        abort();
    cJSON_Delete(md);
    return 0;
}
