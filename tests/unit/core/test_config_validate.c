/* Tests of core/plugin/config_validate.c's fg_config_restart_only: what a
 * reload refuses because only a restart applies it, each named by the
 * file and line of the change, and what it lets through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/config_validate.h"

#define BASE "[gateway]\nlisten = 127.0.0.1:7443\nstate_dir = /tmp/fg-state\n"

static struct fg_config *load_text(const char *text, char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/fg-test-validate-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/g.ini", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    struct fg_diag diag = {0};
    struct fg_config *cfg = fg_config_load(dir, &diag);
    for (size_t i = 0; i < diag.n; i++)
        print_message("diag: %s\n", diag.lines[i]);
    fg_diag_free(&diag);
    assert_non_null(cfg);
    return cfg;
}

static void drop(struct fg_config *cfg, const char *dir)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/g.ini", dir);
    unlink(path);
    rmdir(dir);
    fg_config_free(cfg);
}

/* Compares BASE with NEXT_TEXT: WANT NULL means accepted, else the one
 * refusal line must end with WANT and name g.ini:LINE. */
static void expect(const char *next_text, int line, const char *want)
{
    char dir_a[64], dir_b[64];
    struct fg_config *a = load_text(BASE, dir_a, sizeof(dir_a));
    struct fg_config *b = load_text(next_text, dir_b, sizeof(dir_b));
    struct fg_diag diag = {0};
    int n = fg_config_restart_only(a, b, &diag);
    if (!want) {
        for (size_t i = 0; i < diag.n; i++)
            print_message("unexpected: %s\n", diag.lines[i]);
        assert_int_equal(n, 0);
    } else {
        assert_int_equal(n, 1);
        assert_int_equal(diag.n, 1);
        char where[128];
        snprintf(where, sizeof(where), "%s/g.ini:%d: %s", dir_b, line, want);
        if (strncmp(diag.lines[0], where, strlen(where)) != 0)
            fail_msg("got %s, want %s...", diag.lines[0], where);
        assert_non_null(strstr(diag.lines[0], "restart the gateway"));
    }
    fg_diag_free(&diag);
    drop(a, dir_a);
    drop(b, dir_b);
}

static void test_what_a_reload_applies(void **state)
{
    (void)state;
    expect(BASE, 0, NULL);
    expect(BASE "max_connections = 10\nreload_drain = 1s\nlog_level = debug\n",
           0, NULL);
    expect(BASE "[member \"m\"]\ndriver = mock\n", 0, NULL);
    expect(BASE "[policy]\nchain = a\n[plugin \"a\"]\n", 0, NULL);
    /* a new socket, a new TLS context for new connections */
    expect("[gateway]\nlisten = 127.0.0.1:7444\nstate_dir = /tmp/fg-state\n", 0,
           NULL);
    expect("[gateway]\nlisten = [::1]:7443\nstate_dir = /tmp/fg-state\n", 0,
           NULL);
    expect(BASE "[tls]\nserver_names = a.example\n", 0, NULL);
}

static void test_what_needs_a_restart(void **state)
{
    (void)state;
    expect("[gateway]\nlisten = 127.0.0.1:7443\nstate_dir = /tmp/fg-other\n", 3,
           "gateway state_dir: changed");
    expect(BASE "role = member\n[member \"m\"]\ndriver = mock\n", 4,
           "gateway role: changed");
    expect(BASE "workers = 2\n", 4, "gateway workers: changed");
    expect(BASE "plugin_dir = /tmp\n", 4, "gateway plugin_dir: changed");
    expect(BASE "[tunnel]\nlisten = 127.0.0.1:0\n", 4, "tunnel: changed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_a_reload_applies),
        cmocka_unit_test(test_what_needs_a_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
