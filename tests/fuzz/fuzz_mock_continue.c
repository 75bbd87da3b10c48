/* libFuzzer target for the mock driver's continue-token decoder
 * (plugins/drivers/mock/json_stream.c): any bytes as a ?continue= value
 * must decode or be refused without a crash, and a decoded token must
 * encode and decode back to the same key and revision. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *token = malloc(size + 1);
    if (!token)
        return 0;
    memcpy(token, data, size);
    token[size] = '\0';
    struct mock_continue c;
    if (mock_continue_decode(token, &c) == 0) {
        char *again = mock_continue_encode(&c);
        struct mock_continue back;
        if (!again || mock_continue_decode(again, &back) != 0 ||
            back.rv != c.rv || strcmp(back.ns, c.ns) != 0 ||
            strcmp(back.name, c.name) != 0)
            abort();
        free(again);
    }
    free(token);
    return 0;
}
