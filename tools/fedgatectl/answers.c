/* The gateway's answers to fedgatectl (answers.h). A rule is one everyone
 * holds only when every verb, group, resource or URL it names is in the
 * sets of request/basic_rules.h: "*" anywhere, or any other name, makes
 * it more. */
#include "answers.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#include "config/config.h"
#include "request/basic_rules.h"

/* Deeper than any NamespaceList or review. */
#define MAX_DEPTH 32

static cJSON *parse(const char *json, size_t len)
{
    if (fg_json_depth(json, len, MAX_DEPTH) > MAX_DEPTH)
        return NULL;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static int listed(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

/* Whether the array KEY of RULE holds only strings of SET (absent or
 * empty: nothing named, so nothing more). -1 when KEY is no array of
 * strings. */
static int within(const cJSON *rule, const char *key, const char *const *set)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(rule, key);
    const cJSON *s;
    if (!arr)
        return 1;
    if (!cJSON_IsArray(arr))
        return -1;
    int ok = 1;
    cJSON_ArrayForEach(s, arr)
    {
        if (!cJSON_IsString(s))
            return -1;
        ok = ok && listed(s->valuestring, set);
    }
    return ok;
}

/* Whether every rule of the array KEY of STATUS is a basic one: 1 yes, 0
 * no, -1 unreadable. */
static int all_basic(const cJSON *status, const char *key, int resource)
{
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(status, key);
    const cJSON *rule;
    if (!rules)
        return 1;
    if (!cJSON_IsArray(rules))
        return -1;
    cJSON_ArrayForEach(rule, rules)
    {
        if (!cJSON_IsObject(rule))
            return -1;
        int a = resource ? within(rule, "verbs", fg_basic_create)
                         : within(rule, "verbs", fg_basic_get);
        int b = resource ? within(rule, "apiGroups", fg_review_groups)
                         : within(rule, "nonResourceURLs", fg_basic_urls);
        /* resourceNames only narrows a rule: not looked at */
        int c = resource ? within(rule, "resources", fg_review_resources) : 1;
        if (a < 0 || b < 0 || c < 0)
            return -1;
        if (!a || !b || !c)
            return 0;
    }
    return 1;
}

int fg_ctl_review_reaches(const char *json, size_t len)
{
    cJSON *root = parse(json, len);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    int rc = -1;
    if (cJSON_IsObject(status)) {
        int res = all_basic(status, "resourceRules", 1);
        int non = all_basic(status, "nonResourceRules", 0);
        if (res >= 0 && non >= 0)
            rc = !res || !non ||
                 cJSON_IsTrue(
                     cJSON_GetObjectItemCaseSensitive(status, "incomplete"));
    }
    cJSON_Delete(root);
    return rc;
}

int fg_ctl_namespace_names(const char *json, size_t len, char ***names)
{
    cJSON *root = parse(json, len);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
    const cJSON *item;
    int n = 0;
    *names = NULL;
    if (!cJSON_IsString(kind) ||
        strcmp(kind->valuestring, "NamespaceList") != 0 ||
        !cJSON_IsArray(items))
        goto fail;
    *names = calloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(char *));
    if (!*names)
        goto fail;
    cJSON_ArrayForEach(item, items)
    {
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
        if (!cJSON_IsString(name) ||
            !fg_is_dns1123_label(name->valuestring,
                                 strlen(name->valuestring)) ||
            !((*names)[n] = strdup(name->valuestring)))
            goto fail;
        n++;
    }
    cJSON_Delete(root);
    return n;
fail:
    fg_ctl_names_free(*names, n);
    *names = NULL;
    cJSON_Delete(root);
    return -1;
}

void fg_ctl_names_free(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}
