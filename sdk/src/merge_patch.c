/* JSON merge patch (RFC 7386, util.h): what `kubectl patch --type=merge`,
 * `kubectl scale` and many controllers send, applied by the mock and by
 * the host's own API (writes of clusters). */
#include <fedgate/util.h>

#include <cjson/cJSON.h>

static int merge_into(cJSON *target, const cJSON *patch);

/* The value to store for patch value P: objects are merged into an empty
 * object so that their nulls disappear, other values are copied. */
static cJSON *merged_value(const cJSON *p)
{
    if (!cJSON_IsObject(p))
        return cJSON_Duplicate(p, 1);
    cJSON *o = cJSON_CreateObject();
    if (o && merge_into(o, p) != 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int fg_json_set(cJSON *obj, const char *key, cJSON *v)
{
    if (!v)
        return -1;
    /* cJSON_HasObjectItem ignores case; keys here must match exactly. */
    if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
        if (cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v))
            return 0;
    } else if (cJSON_AddItemToObject(obj, key, v)) {
        return 0;
    }
    cJSON_Delete(v);
    return -1;
}

static int merge_into(cJSON *target, const cJSON *patch)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, patch)
    {
        if (!p->string)
            return -1;
        cJSON *old = cJSON_GetObjectItemCaseSensitive(target, p->string);
        if (cJSON_IsNull(p)) {
            if (old)
                cJSON_Delete(cJSON_DetachItemViaPointer(target, old));
            continue;
        }
        if (cJSON_IsObject(p) && cJSON_IsObject(old)) {
            if (merge_into(old, p) != 0)
                return -1;
            continue;
        }
        if (fg_json_set(target, p->string, merged_value(p)) != 0)
            return -1;
    }
    return 0;
}

cJSON *fg_json_merge_patch(cJSON *target, const cJSON *patch)
{
    if (!cJSON_IsObject(patch)) {
        cJSON_Delete(target);
        return cJSON_Duplicate(patch, 1);
    }
    if (!cJSON_IsObject(target)) {
        cJSON_Delete(target);
        target = cJSON_CreateObject();
        if (!target)
            return NULL;
    }
    if (merge_into(target, patch) != 0) {
        cJSON_Delete(target);
        return NULL;
    }
    return target;
}
