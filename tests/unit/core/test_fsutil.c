/* Tests of the state-directory file helpers (core/base/fsutil.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"

static char root[64];

static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/fg-test-fsutil-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static unsigned mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void test_path_join(void **state)
{
    (void)state;
    char *p = fg_path_join("/a/b//", "c");
    assert_string_equal(p, "/a/b/c");
    free(p);
    p = fg_path_join("/", "c");
    assert_string_equal(p, "/c");
    free(p);
}

static void test_mkdir_p(void **state)
{
    (void)state;
    struct fg_error err;
    char path[160], file[128];
    snprintf(path, sizeof(path), "%s/a/b/c/", root);
    assert_int_equal(fg_mkdir_p(path, 0700, &err), 0);
    assert_int_equal(mode_of(path), 0700);
    /* Existing directories are fine. */
    assert_int_equal(fg_mkdir_p(path, 0700, &err), 0);
    assert_int_equal(fg_mkdir_p(root, 0700, &err), 0);

    snprintf(file, sizeof(file), "%s/a/file", root);
    assert_int_equal(fg_write_file_atomic(file, "x", 1, 0644, &err), 0);
    snprintf(path, sizeof(path), "%s/sub", file);
    assert_int_equal(fg_mkdir_p(path, 0700, &err), -1);
    assert_non_null(strstr(err.msg, file));
    assert_int_equal(fg_mkdir_p(file, 0700, &err), -1);
    assert_int_equal(fg_mkdir_p("", 0700, &err), -1);
}

static void test_write_and_read(void **state)
{
    (void)state;
    struct fg_error err;
    char path[128];
    snprintf(path, sizeof(path), "%s/secret", root);
    mode_t old = umask(0);
    assert_int_equal(fg_write_file_atomic(path, "one", 3, 0600, &err), 0);
    umask(old);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(fg_write_file_atomic(path, "second", 6, 0640, &err), 0);
    assert_int_equal(mode_of(path), 0640);

    char *buf;
    size_t len;
    mode_t mode;
    assert_int_equal(fg_read_file(path, 6, &buf, &len, &mode, &err), 0);
    assert_int_equal(len, 6);
    assert_string_equal(buf, "second");
    assert_int_equal(mode, 0640);
    free(buf);
    assert_int_equal(fg_read_file(path, 5, &buf, &len, NULL, &err), -1);
    assert_null(buf);

    char missing[128];
    snprintf(missing, sizeof(missing), "%s/missing", root);
    assert_int_equal(fg_read_file(missing, 10, &buf, &len, NULL, &err), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(fg_read_file(root, 10, &buf, &len, NULL, &err), -1);

    /* Nothing but the file itself is left behind. */
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", root);
    assert_int_equal(system(cmd), 0);

    /* An empty file reads as an empty string. */
    assert_int_equal(fg_write_file_atomic(path, "", 0, 0600, &err), 0);
    assert_int_equal(fg_read_file(path, 0, &buf, &len, NULL, &err), 0);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    free(buf);
}

static void test_create_no_replace(void **state)
{
    (void)state;
    struct fg_error err;
    char path[128];
    snprintf(path, sizeof(path), "%s/token", root);
    assert_int_equal(fg_create_file_atomic(path, "first", 5, 0600, &err), 0);
    assert_int_equal(fg_create_file_atomic(path, "later", 5, 0600, &err), 1);
    char *buf;
    size_t len;
    assert_int_equal(fg_read_file(path, 100, &buf, &len, NULL, &err), 0);
    assert_string_equal(buf, "first");
    free(buf);
    assert_int_equal(mode_of(path), 0600);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", root);
    assert_int_equal(system(cmd), 0);

    char bad[128];
    snprintf(bad, sizeof(bad), "%s/no/such/dir/file", root);
    assert_int_equal(fg_create_file_atomic(bad, "x", 1, 0600, &err), -1);
    assert_int_equal(fg_write_file_atomic(bad, "x", 1, 0600, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_join),
        cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_no_replace, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
