/* Tests of the log line format (core/base/log.c): timestamps on a terminal or a
 * file, syslog priorities and no timestamp when stderr is the journal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

/* Sends stderr to a fresh temporary file and sets JOURNAL_STREAM to that
 * file's DEVICE:INODE, with INO_DELTA added to the inode (NO_VARIABLE: no
 * JOURNAL_STREAM at all), as fg_log_init then sees it. Returns the saved
 * stderr. */
#define NO_VARIABLE (-1)
static int capture(FILE **f, long ino_delta)
{
    *f = tmpfile();
    assert_non_null(*f);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fileno(*f), STDERR_FILENO), STDERR_FILENO);
    if (ino_delta == NO_VARIABLE) {
        unsetenv("JOURNAL_STREAM");
    } else {
        struct stat st;
        assert_int_equal(fstat(fileno(*f), &st), 0);
        char v[64];
        snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino + (unsigned long long)ino_delta);
        assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
    }
    fg_log_init();
    return saved;
}

/* Restores stderr and returns what was written to F. */
static char *release(FILE *f, int saved)
{
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    static char buf[4096];
    rewind(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_journal_lines_carry_priorities(void **state)
{
    (void)state;
    FILE *f;
    int saved = capture(&f, 0);
    fg_warn("disk %s", "full");
    fg_error_log("bad\nline");
    fg_info("up");
    char *out = release(f, saved);
    assert_string_equal(out, "<4>warn  disk full\n<3>error bad?line\n"
                             "<6>info  up\n");
}

static void test_inherited_variable_is_ignored(void **state)
{
    (void)state;
    FILE *f;
    /* Another file's inode: stderr was redirected after systemd set it. */
    int saved = capture(&f, 1);
    fg_warn("disk full");
    char *out = release(f, saved);
    /* 2026-12-02T07:57:19.147Z warn  disk full */
    assert_int_equal(strlen(out), 24 + 1 + 15 + 1);
    assert_true(out[4] == '-' && out[10] == 'T' && out[23] == 'Z');
    assert_string_equal(out + 25, "warn  disk full\n");
}

static void test_no_variable_means_timestamps(void **state)
{
    (void)state;
    FILE *f;
    int saved = capture(&f, NO_VARIABLE);
    fg_info("up");
    char *out = release(f, saved);
    assert_string_equal(out + 25, "info  up\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_lines_carry_priorities),
        cmocka_unit_test(test_inherited_variable_is_ignored),
        cmocka_unit_test(test_no_variable_means_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
