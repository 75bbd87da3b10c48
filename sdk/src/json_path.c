/* Dotted paths into a cJSON tree (util.h): "metadata.labels" as the
 * selectors and the mock read objects. */
#include <fedgate/util.h>

#include <string.h>

#include <cjson/cJSON.h>

const struct cJSON *fg_json_path(const struct cJSON *obj, const char *path)
{
    char key[128];
    const char *p = path;
    while (obj && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (!cJSON_IsObject(obj))
            return NULL;
        obj = cJSON_GetObjectItemCaseSensitive(obj, key);
        p += n;
        if (*p == '.')
            p++;
    }
    return obj;
}
