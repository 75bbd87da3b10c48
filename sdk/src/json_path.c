/* Dotted paths into a cJSON tree (util.h): "metadata.labels" as the
 * selectors and the mock read objects; "\." is a dot inside a key, as in
 * kubectl's JSONPath (metadata.labels.app\.kubernetes\.io/name). */
#include <fedgate/util.h>

#include <string.h>

#include <cjson/cJSON.h>

const struct cJSON *fg_json_path(const struct cJSON *obj, const char *path)
{
    char key[256];
    const char *p = path;
    while (obj && *p) {
        size_t n = 0;
        for (; *p && *p != '.'; p++) {
            if (p[0] == '\\' && p[1] == '.')
                p++;
            if (n + 1 >= sizeof(key))
                return NULL;
            key[n++] = *p;
        }
        key[n] = '\0';
        if (!cJSON_IsObject(obj))
            return NULL;
        obj = cJSON_GetObjectItemCaseSensitive(obj, key);
        if (*p == '.')
            p++;
    }
    return obj;
}
