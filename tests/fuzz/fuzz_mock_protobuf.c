/* Fuzz target for the mock driver's protobuf body decoder: the input is
 * decoded as a whole body and, so that mutations need not rediscover the
 * "k8s\0" envelope prefix, once more behind that prefix. Whatever decodes
 * is printed as JSON, as write.c would store and answer it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const void *p, size_t n)
{
    cJSON *out = NULL;
    char err[256];
    if (mock_protobuf_decode(p, n, &out, err, sizeof(err)) == 0) {
        char *text = cJSON_PrintUnformatted(out);
        free(text);
    }
    cJSON_Delete(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode(data, size);
    uint8_t *b = malloc(size + 4);
    if (!b)
        return 0;
    memcpy(b, "k8s\0", 4);
    if (size)
        memcpy(b + 4, data, size);
    decode(b, size + 4);
    free(b);
    return 0;
}
