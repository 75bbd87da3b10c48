/* Unit tests of the mock pods' files (plugins/drivers/mock/podfs.c) and
 * their tar archives (tar.c): path normalisation never climbs above "/",
 * the per-pod byte limit, directories made, implied or of the image, pods
 * apart by uid; an archive written and read back, names without the
 * leading "/", a long name split into ustar's prefix, and the refusals
 * (not tar, cut short, too big for the pod). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mock.h"

static void expect_join(const char *dir, const char *name, const char *want)
{
    char out[64];
    assert_int_equal(mock_path_join(dir, name, out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

static void test_paths(void **state)
{
    (void)state;
    expect_join("/tmp", "a.txt", "/tmp/a.txt");
    expect_join("tmp/", "./x//y/", "/tmp/x/y");
    expect_join("/tmp", "../../../etc/passwd", "/etc/passwd");
    expect_join("/", "..", "/");
    expect_join(NULL, "a/../b", "/b");
    expect_join("", "", "/");
    char small[8];
    assert_int_equal(mock_path_join("/tmp", "long-name", small, sizeof(small)),
                     -1);
}

static void test_tree(void **state)
{
    (void)state;
    struct mock_podfs *fs = mock_podfs_new(10);
    assert_non_null(fs);
    assert_int_equal(mock_podfs_put(fs, "u1", "/data/a/f", 0, 0644, "12345", 5),
                     0);
    assert_int_equal(mock_podfs_put(fs, "u1", "/data/g", 0, 0644, "123456", 6),
                     -2); /* 11 bytes in the pod: past 10 */
    assert_int_equal(
        mock_podfs_put(fs, "u1", "/data/a/f", 0, 0644, "1234567890", 10),
        0); /* replaces: 10 */
    assert_int_equal(mock_podfs_put(fs, "u2", "/x", 0, 0644, "123", 3), 0);
    assert_null(mock_podfs_get(fs, "u2", "/data/a/f"));
    assert_int_equal(mock_podfs_get(fs, "u1", "/data/a/f")->len, 10);
    assert_true(mock_podfs_is_dir(fs, "u1", "/data/a")); /* implied */
    assert_true(mock_podfs_is_dir(fs, "u1", "/tmp"));    /* the image's */
    assert_false(mock_podfs_is_dir(fs, "u1", "/data/a/f"));
    assert_false(mock_podfs_is_dir(fs, "u1", "/data/ab"));
    assert_int_equal(mock_podfs_put(fs, "u1", "/empty", 1, 0755, NULL, 0), 0);
    assert_true(mock_podfs_is_dir(fs, "u1", "/empty"));
    mock_podfs_free(fs);
}

static void test_tar(void **state)
{
    (void)state;
    struct mock_podfs *fs = mock_podfs_new(1 << 20);
    char long_name[200], err[512];
    snprintf(long_name, sizeof(long_name), "/data/%0120d/file.txt", 0);
    assert_int_equal(
        mock_podfs_put(fs, "u", "/data/a.txt", 0, 0600, "alpha", 5), 0);
    assert_int_equal(mock_podfs_put(fs, "u", long_name, 0, 0644, "long", 4), 0);
    struct mock_buf ar = {0};
    assert_int_equal(mock_tar_create(fs, "u", "/data", &ar, err, sizeof(err)),
                     0);
    /* /data/, a.txt (one block of data), the long one, two zero blocks */
    assert_int_equal(ar.len, 512 * 7);
    assert_string_equal(ar.p, "data/");
    assert_string_equal(ar.p + 512, "data/a.txt");
    assert_memory_equal(ar.p + 512 * 3 + 345, "data/", 5); /* the prefix */

    struct mock_podfs *back = mock_podfs_new(1 << 20);
    assert_int_equal(mock_tar_extract(back, "v", "/restore",
                                      (const uint8_t *)ar.p, ar.len, err,
                                      sizeof(err)),
                     0);
    const struct mock_file *f =
        mock_podfs_get(back, "v", "/restore/data/a.txt");
    assert_non_null(f);
    assert_int_equal(f->mode, 0600);
    assert_memory_equal(f->data, "alpha", 5);
    char where[256];
    snprintf(where, sizeof(where), "/restore%s", long_name);
    assert_non_null(mock_podfs_get(back, "v", where));

    /* refusals: not an archive, cut short, bigger than the pod's room */
    char junk[512];
    memset(junk, 'x', sizeof(junk));
    assert_int_equal(mock_tar_extract(back, "v", "/", (const uint8_t *)junk,
                                      sizeof(junk), err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "does not look like a tar archive"));
    assert_int_equal(mock_tar_extract(back, "v", "/", (const uint8_t *)ar.p,
                                      512 + 100, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "Unexpected EOF"));
    struct mock_podfs *tiny = mock_podfs_new(4);
    assert_int_equal(mock_tar_extract(tiny, "w", "/", (const uint8_t *)ar.p,
                                      ar.len, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "No space left on device"));
    assert_int_equal(mock_tar_create(fs, "u", "/nope", &ar, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "nope: Cannot stat"));
    mock_buf_free(&ar);
    mock_podfs_free(fs);
    mock_podfs_free(back);
    mock_podfs_free(tiny);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_tar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
