/* Fuzz target for the app store's provenance file reader (the signed
 * message's Chart.yaml and its files document): chart fields with a name
 * and a SemVer version and a 64-character digest, or a one-line reason. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "appstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256], digest[65];
    err[0] = 0;
    cJSON *md = appstore_prov_read(data, size, digest, err, sizeof err);
    if (!md) {
        if (!err[0] || strchr(err, '\n'))
            abort();
        return 0;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, "version");
    struct appstore_semver sv;
    if (!cJSON_IsString(v) || appstore_semver_parse(v->valuestring, &sv) < 0 ||
        strlen(digest) != 64)
        abort();
    cJSON_Delete(md);
    return 0;
}
