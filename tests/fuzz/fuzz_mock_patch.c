/* Fuzz target for the mock driver's patch formats: the input is a JSON
 * document and a patch separated by the first NUL byte (or the first
 * blank line); the patch is applied to the document as a JSON merge patch,
 * a JSON patch and a strategic merge patch, each on its own copy, the way
 * write.c applies a client's PATCH body to a stored object. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cJSON *parse(const char *p, size_t n)
{
    if (fg_json_depth(p, n, MOCK_WRITE_MAX_DEPTH) > MOCK_WRITE_MAX_DEPTH)
        return NULL;
    return cJSON_ParseWithLength(p, n);
}

static void finish(cJSON *doc)
{
    if (mock_tree_depth(doc, MOCK_WRITE_MAX_DEPTH) <= MOCK_WRITE_MAX_DEPTH) {
        char *text = cJSON_PrintUnformatted(doc);
        free(text);
    }
    cJSON_Delete(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *sep = memchr(p, '\0', size);
    size_t skip = 1;
    if (!sep) {
        for (size_t i = 0; i + 1 < size; i++) {
            if (p[i] == '\n' && p[i + 1] == '\n') {
                sep = p + i;
                skip = 2;
                break;
            }
        }
    }
    if (!sep)
        return 0;
    size_t dlen = (size_t)(sep - p);
    cJSON *doc = parse(p, dlen);
    cJSON *patch = parse(sep + skip, size - dlen - skip);
    if (doc && patch) {
        char err[512];
        finish(fg_json_merge_patch(cJSON_Duplicate(doc, 1), patch));
        cJSON *d = cJSON_Duplicate(doc, 1);
        mock_json_patch(&d, patch, err, sizeof(err));
        finish(d);
        d = cJSON_Duplicate(doc, 1);
        mock_strategic_patch(&d, patch, err, sizeof(err));
        finish(d);
    }
    cJSON_Delete(doc);
    cJSON_Delete(patch);
    return 0;
}
