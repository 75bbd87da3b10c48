/* libFuzzer target for the merge of member answers in cross-cluster lists
 * (core/request/fanout_merge.c): the input is split at NUL bytes into the
 * answers of members m0, m1, ...; whatever they hold, each is merged or
 * refused with a message, and the merged list is JSON whose every item
 * (or row) names its cluster. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "request/fanout_merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_named(const cJSON *list)
{
    int table =
        cJSON_IsString(cJSON_GetObjectItemCaseSensitive(list, "kind")) &&
        strcmp(cJSON_GetObjectItemCaseSensitive(list, "kind")->valuestring,
               "Table") == 0;
    const cJSON *items =
        cJSON_GetObjectItemCaseSensitive(list, table ? "rows" : "items");
    if (!cJSON_IsArray(items))
        abort();
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *obj =
            table ? cJSON_GetObjectItemCaseSensitive(it, "object") : it;
        if (table && !cJSON_IsString(cJSON_GetArrayItem(
                         cJSON_GetObjectItemCaseSensitive(it, "cells"), 0)))
            abort();
        if (obj && !cJSON_IsNull(obj) &&
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
                    "annotations"),
                FG_FANOUT_CLUSTER_ANNOTATION)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_fanout_merge *m = fg_fanout_merge_new();
    if (!m)
        return 0;
    const char *p = (const char *)data, *end = p + size;
    for (int i = 0; p < end && i < 8; i++) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
        char name[8];
        snprintf(name, sizeof(name), "m%d", i);
        char *cont = NULL;
        struct fg_error err = {{0}};
        if (fg_fanout_merge_add(m, name, p, len, &cont, &err) != 0) {
            if (!err.msg[0] || cont)
                abort();
            fg_fanout_merge_fail(m, name, err.msg);
        }
        free(cont);
        p += len + 1;
    }
    size_t len = 0;
    char *json = fg_fanout_merge_finish(m, "next", &len);
    if (json) {
        cJSON *list = cJSON_ParseWithLength(json, len);
        if (!list)
            abort();
        check_named(list);
        cJSON_Delete(list);
    } else if (fg_fanout_merge_answers(m)) {
        abort();
    }
    free(json);
    fg_fanout_merge_free(m);
    return 0;
}
