/* Fuzz target for the mock's tar reader (plugins/drivers/mock/tar.c),
 * which reads what `kubectl cp` pipes into a pod: any bytes extract into
 * a pod's tree or fail with tar's message, within the tree's byte limit.
 * What did extract is archived again (`tar cf - /`; a name too long for
 * ustar fails it whole), and that archive
 * extracted into a fresh tree archives to the same bytes: the writer and
 * the reader agree. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "mock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct mock_podfs *a = mock_podfs_new(65536), *b = mock_podfs_new(65536);
    if (!a || !b)
        abort();
    if (mock_tar_extract(a, "u", "/tmp", data, size, err, sizeof(err)) != 0)
        CHECK(err[0] && strlen(err) < sizeof(err));
    struct mock_buf one = {0}, two = {0};
    /* "/" is a directory of every tree */
    if (mock_tar_create(a, "u", "/", &one, err, sizeof(err)) != 0)
        CHECK(strstr(err, "too long") && one.len == 0); /* nothing half */
    if (one.len) {
        CHECK(one.len % 512 == 0);
        CHECK(mock_tar_extract(b, "u", "/", (const uint8_t *)one.p, one.len,
                               err, sizeof(err)) == 0);
        CHECK(mock_tar_create(b, "u", "/", &two, err, sizeof(err)) == 0);
        CHECK(two.len == one.len && memcmp(one.p, two.p, one.len) == 0);
    }
    mock_buf_free(&one);
    mock_buf_free(&two);
    mock_podfs_free(a);
    mock_podfs_free(b);
    return 0;
}
