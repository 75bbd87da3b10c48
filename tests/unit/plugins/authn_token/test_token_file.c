/* The static token file: the grammar kube-apiserver's CSV reader accepts
 * (quotes, "" escapes, CRLF, empty lines, extra columns), our comments,
 * the lines it refuses with their file:line, duplicates (the later line
 * wins, with a warning), and the lookup of every token in a large table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "token_file.h"

static char warnings[4096];

static void warn(void *arg, const char *message)
{
    (void)arg;
    strncat(warnings, message, sizeof(warnings) - strlen(warnings) - 2);
    strcat(warnings, "\n");
}

static struct token_table *parse(const char *text, char *err, size_t len)
{
    warnings[0] = '\0';
    return token_table_parse(text, strlen(text), "tokens.csv", warn, NULL, err,
                             len);
}

static const struct fg_identity *find(const struct token_table *t,
                                      const char *token)
{
    return token_table_lookup(t, token, strlen(token));
}

static void assert_groups(const struct fg_identity *id, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    assert_int_equal(id->n_groups, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(id->groups[i], va_arg(ap, const char *));
    va_end(ap);
}

/* Lines kube-apiserver reads, each read as it reads them. */
static void test_accepted_grammar(void **state)
{
    (void)state;
    char err[256];
    struct token_table *t =
        parse("# a comment\n"
              "\n"
              "tok-plain,alice,1001,\"dev,ops\"\n"
              "tok-three,bob,1002\r\n"
              "\r\n"
              "\"tok\"\"quote\",\"carol, jr\",\"\",admins\n"
              "tok-extra,dave,1004,\"a,,b,a\",ignored,also ignored\n"
              "tok-auth,erin,1005,system:authenticated\n"
              "tok-empty-groups,frank,1006,\n"
              "tok-last,gina,1007",
              err, sizeof(err));
    assert_non_null(t);
    assert_int_equal(token_table_size(t), 7);
    const struct fg_identity *id = find(t, "tok-plain");
    assert_non_null(id);
    assert_string_equal(id->user, "alice");
    assert_string_equal(id->uid, "1001");
    assert_groups(id, 3, "dev", "ops", "system:authenticated");
    id = find(t, "tok-three");
    assert_string_equal(id->user, "bob");
    assert_groups(id, 1, "system:authenticated");
    id = find(t, "tok\"quote");
    assert_non_null(id);
    assert_string_equal(id->user, "carol, jr");
    assert_null(id->uid);
    assert_groups(id, 2, "admins", "system:authenticated");
    assert_groups(find(t, "tok-extra"), 3, "a", "b", "system:authenticated");
    assert_groups(find(t, "tok-auth"), 1, "system:authenticated");
    assert_groups(find(t, "tok-empty-groups"), 1, "system:authenticated");
    assert_string_equal(find(t, "tok-last")->user, "gina");
    assert_string_equal(warnings, "");
    token_table_free(t);
}

/* Only the whole token, byte for byte. */
static void test_lookup_is_exact(void **state)
{
    (void)state;
    char err[256];
    struct token_table *t = parse("secret-token,alice,1\n", err, sizeof(err));
    assert_non_null(t);
    assert_non_null(find(t, "secret-token"));
    static const char *const misses[] = {"secret-toke",
                                         "secret-token ",
                                         "secret-tokenx",
                                         "Secret-token",
                                         "",
                                         "\"secret-token\"",
                                         "alice"};
    for (size_t i = 0; i < sizeof(misses) / sizeof(*misses); i++)
        assert_null(find(t, misses[i]));
    token_table_free(t);
}

/* Lines refused: the error names the file and the line. */
static void test_refused_lines(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"a,b,c\nonly,two\n", "tokens.csv:2: must have at least 3 columns "
                              "(token, user name, user uid), found 2"},
        {"\n\nalone\n", "tokens.csv:3: must have at least 3 columns"},
        {"a,b,c\n,", "tokens.csv:2: must have at least 3 columns (token, "
                     "user name, user uid), found 2"},
        {"tok,us\"er,1\n", "tokens.csv:1: bare \" in non-quoted-field"},
        {"a,b,c\ntok,bob, \"g\"\n", "tokens.csv:2: bare \""},
        {"tok,\"bob,1\n", "tokens.csv:1: a quoted field is not closed"},
        {"tok,\"bob\"x,1\n", "tokens.csv:1: extraneous or missing \" in "
                             "quoted-field"},
        {"tok,,1\n", "tokens.csv:1: the user name is empty"},
        {"a,b,c\ntok,\"two\nlines\",1\n",
         "tokens.csv:2: column 2 holds a control character"},
        {"tok,bob\t,1\n", "tokens.csv:1: column 2 holds a control character"},
        {"tok,bob,1,\"g\x7f\"\n", "tokens.csv:1: column 4 holds a control"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char err[256] = "";
        struct token_table *t = parse(cases[i].text, err, sizeof(err));
        assert_null(t);
        if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s...\"", i, err,
                     cases[i].want);
    }
    /* a NUL byte is a control character too */
    char err[256];
    static const char nul[] = "tok,b\0b,1\n";
    assert_null(token_table_parse(nul, sizeof(nul) - 1, "tokens.csv", warn,
                                  NULL, err, sizeof(err)));
    assert_string_equal(err, "tokens.csv:1: column 2 holds a control "
                             "character");
}

/* kube-apiserver warns about these and goes on. */
static void test_duplicates_and_empty_tokens(void **state)
{
    (void)state;
    char err[256];
    struct token_table *t = parse("dup,first,1\n"
                                  ",nobody,2\n"
                                  "other,x,3\n"
                                  "dup,second,4\n",
                                  err, sizeof(err));
    assert_non_null(t);
    assert_int_equal(token_table_size(t), 2);
    assert_string_equal(find(t, "dup")->user, "second");
    assert_string_equal(warnings,
                        "tokens.csv:2: empty token, line skipped\n"
                        "tokens.csv:4: the token of line 1 is given again; "
                        "this line wins\n");
    token_table_free(t);
}

/* Enough tokens that the table probes past collisions. */
static void test_many_tokens(void **state)
{
    (void)state;
    enum { N = 5000 };
    size_t cap = N * 40;
    char *text = malloc(cap), *p = text;
    for (int i = 0; i < N; i++)
        p += snprintf(p, cap - (size_t)(p - text), "token-%d,user-%d,%d\n", i,
                      i, i);
    char err[256];
    struct token_table *t = parse(text, err, sizeof(err));
    assert_non_null(t);
    assert_int_equal(token_table_size(t), N);
    for (int i = 0; i < N; i++) {
        char tok[32], user[32];
        snprintf(tok, sizeof(tok), "token-%d", i);
        snprintf(user, sizeof(user), "user-%d", i);
        assert_string_equal(find(t, tok)->user, user);
    }
    assert_null(find(t, "token-5000"));
    token_table_free(t);
    free(text);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* The file: its size limit, its kind, and who else may read it. */
static void test_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/fg-token-file-XXXXXX", path[256], err[512];
    int shared = -1;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/tokens.csv", dir);
    write_file(path, "tok,alice,1\n", 0600);
    struct token_table *t =
        token_table_load(path, 1024, warn, NULL, &shared, err, sizeof(err));
    assert_non_null(t);
    assert_int_equal(shared, 0);
    token_table_free(t);
    write_file(path, "tok,alice,1\n", 0644);
    t = token_table_load(path, 1024, warn, NULL, &shared, err, sizeof(err));
    assert_non_null(t);
    assert_int_equal(shared, 1);
    token_table_free(t);
    write_file(path, "# no tokens yet\n", 0644);
    t = token_table_load(path, 1024, warn, NULL, &shared, err, sizeof(err));
    assert_non_null(t);
    assert_int_equal(shared, 0);
    token_table_free(t);
    assert_null(
        token_table_load(path, 8, warn, NULL, &shared, err, sizeof(err)));
    assert_non_null(strstr(err, "at most 8 bytes"));
    assert_null(
        token_table_load(dir, 1024, warn, NULL, &shared, err, sizeof(err)));
    assert_non_null(strstr(err, "must be a regular file"));
    write_file(path, "tok,alice\n", 0600);
    assert_null(
        token_table_load(path, 1024, warn, NULL, &shared, err, sizeof(err)));
    char want[300];
    snprintf(want, sizeof(want), "%s:1: must have at least 3", path);
    assert_true(strncmp(err, want, strlen(want)) == 0);
    unlink(path);
    assert_null(
        token_table_load(path, 1024, warn, NULL, &shared, err, sizeof(err)));
    assert_non_null(strstr(err, "No such file"));
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_grammar),
        cmocka_unit_test(test_lookup_is_exact),
        cmocka_unit_test(test_refused_lines),
        cmocka_unit_test(test_duplicates_and_empty_tokens),
        cmocka_unit_test(test_many_tokens),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
