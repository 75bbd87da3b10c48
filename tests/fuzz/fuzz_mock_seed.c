/* Fuzz target for the mock driver's seed loader: arbitrary bytes go
 * through the same entry point a seed file does (depth pre-scan, cJSON,
 * shape checks, store insertion); every loaded store is then listed as
 * JSON and as a Table to exercise the row printers on odd shapes. The
 * same bytes are also parsed as label and field selectors (query text the
 * mock reads from clients) and matched against a small object. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_selectors(const uint8_t *data, size_t size)
{
    char text[1024];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    cJSON *obj = cJSON_Parse("{\"metadata\":{\"name\":\"a\",\"labels\":"
                             "{\"app\":\"x\",\"tier\":\"web\"}},"
                             "\"spec\":{\"n\":3,\"b\":true}}");
    for (int field = 0; field < 2; field++) {
        struct fg_selector *sel = NULL;
        if (fg_selector_parse(text, field, &sel) == 0) {
            fg_selector_match(sel, obj);
            fg_selector_free(sel);
        }
    }
    cJSON_Delete(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    fuzz_selectors(data, size);
    struct mock_store *s = mock_seed_load_mem(
        (const char *)data, size, "fuzz", 1795564800000LL, err, sizeof(err));
    if (!s)
        return 0;
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        for (int table = 0; table < 2; table++) {
            struct mock_list_opts o = {
                .kind = mock_kind_at(i),
                .table = table ? MOCK_TABLE_V1 : MOCK_TABLE_NONE,
                .include = MOCK_INCLUDE_METADATA,
                .now_ms = 1795564800000LL,
            };
            struct mock_list *l = mock_list_new(s, &o);
            struct mock_buf b = {0};
            while (l && mock_list_fill(l, &b, 4096) > 0)
                b.len = 0;
            mock_buf_free(&b);
            mock_list_free(l);
        }
    }
    mock_store_free(s);
    return 0;
}
