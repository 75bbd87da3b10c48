/* Tests of core/config/config.c and the ini reader and value checks under it:
 * each test writes ini files into a fresh temporary directory, loads it,
 * and asserts on the config or on the exact "FILE:LINE: message" lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/ini_values.h"

struct fx {
    char root[64]; /* mkdtemp: holds conf/ and whatever tests add */
    char dir[128]; /* root/conf: the configuration directory */
    struct fg_diag diag;
    struct fg_config *cfg;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->root, "/tmp/fg-test-config-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof(f->dir), "%s/conf", f->root);
    assert_int_equal(mkdir(f->dir, 0700), 0);
    *state = f;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fg_config_free(f->cfg);
    fg_diag_free(&f->diag);
    nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Writes DIR/NAME (NAME may contain one '/': the subdirectory is made). */
static void write_bytes(struct fx *f, const char *name, const char *data,
                        size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static void write_ini(struct fx *f, const char *name, const char *text)
{
    write_bytes(f, name, text, strlen(text));
}

static struct fg_config *load(struct fx *f)
{
    fg_config_free(f->cfg);
    fg_diag_free(&f->diag);
    f->cfg = fg_config_load(f->dir, &f->diag);
    return f->cfg;
}

static void dump(const struct fx *f)
{
    for (size_t i = 0; i < f->diag.n; i++)
        print_message("diag: %s\n", f->diag.lines[i]);
}

/* Asserts DIAG has exactly the line "DIR/FILE:LINE: MESSAGE" (FILE NULL:
 * just MESSAGE). */
static void expect_line(const struct fx *f, const char *file, int line,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void expect_line(const struct fx *f, const char *file, int line,
                        const char *fmt, ...)
{
    char msg[1024], want[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (file)
        snprintf(want, sizeof(want), "%s/%s:%d: %s", f->dir, file, line, msg);
    else
        snprintf(want, sizeof(want), "%s", msg);
    for (size_t i = 0; i < f->diag.n; i++)
        if (strcmp(f->diag.lines[i], want) == 0)
            return;
    dump(f);
    fail_msg("missing diagnostic: %s", want);
}

static void expect_ok(struct fx *f)
{
    if (!load(f)) {
        dump(f);
        fail_msg("configuration refused");
    }
    assert_int_equal(f->diag.n, 0);
}

static void expect_refused(struct fx *f)
{
    assert_null(load(f));
    assert_true(f->diag.n > 0);
}

static const struct fg_config_section *section(const struct fg_config *cfg,
                                               const char *kind)
{
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strcmp(cfg->sections[i].kind, kind) == 0)
            return &cfg->sections[i];
    return NULL;
}

/* ---- defaults, happy paths ---- */

static void test_defaults(void **state)
{
    struct fx *f = *state;
    write_ini(f, "gateway.ini", "[gateway]\n");
    expect_ok(f);
    struct fg_config *c = f->cfg;
    char want[256];
    assert_int_equal(c->role, FG_ROLE_HOST);
    assert_string_equal(c->listen_host, "127.0.0.1");
    assert_int_equal(c->listen_port, 6443);
    snprintf(want, sizeof(want), "%s/state", f->root);
    assert_string_equal(c->state_dir, want);
    assert_null(c->plugin_dir);
    assert_int_equal(c->workers, 1);
    assert_string_equal(c->log_level, "info");
    assert_int_equal(c->limits.max_connections, 1024);
    assert_int_equal(c->limits.max_header_bytes, 65536);
    assert_int_equal(c->limits.max_headers, 100);
    assert_int_equal(c->limits.max_uri_bytes, 8192);
    assert_int_equal(c->limits.max_request_body_bytes, 3145728);
    assert_int_equal(c->limits.max_streams_per_connection, 128);
    assert_int_equal(c->limits.stream_buffer_bytes, 262144);
    assert_int_equal(c->limits.h2_max_control_frames, 1000);
    assert_int_equal(c->limits.header_timeout_ms, 10000);
    assert_int_equal(c->limits.idle_timeout_ms, 120000);
    assert_int_equal(c->limits.shutdown_grace_ms, 30000);
    assert_null(c->cert_file);
    assert_int_equal(c->n_members, 0);
    assert_null(c->members);

    const struct fg_section *v = &section(c, "gateway")->view;
    assert_string_equal(v->name, "gateway");
    snprintf(want, sizeof(want), "%s/gateway.ini", f->dir);
    assert_string_equal(v->file, want);
    assert_int_equal(v->line, 1);
    assert_string_equal(v->get(v, "role"), "host");
    assert_null(v->get(v, "plugin_dir"));
    assert_null(v->get(v, "nonsense"));
    assert_int_equal(v->get_int(v, "header_timeout", -1), 10000);
    assert_int_equal(v->get_int(v, "nonsense", -7), -7);
    assert_int_equal(v->get_int(v, "role", -3), -3);
}

static void test_no_gateway_section_uses_defaults(void **state)
{
    struct fx *f = *state;
    write_ini(f, "m.ini", "[member \"alpha\"]\ndriver = mock\n");
    expect_ok(f);
    assert_int_equal(f->cfg->role, FG_ROLE_HOST);
    assert_int_equal(f->cfg->listen_port, 6443);
    assert_int_equal(f->cfg->limits.idle_timeout_ms, 120000);
    assert_int_equal(f->cfg->n_members, 1);
    assert_string_equal(f->cfg->members[0].name, "alpha");
    assert_string_equal(fg_config_get(&f->cfg->members[0], "driver"), "mock");
}

static void test_full_gateway(void **state)
{
    struct fx *f = *state;
    write_ini(f, "00-gateway.ini",
              "; the gateway\n"
              "# both comment styles\n"
              "[gateway] ; trailing comment\n"
              "role = host ; inline comments are allowed\n"
              "listen = [::1]:8443\n"
              "workers = 4\n"
              "log_level = debug\n"
              "state_dir = /var/lib/fedgate\n"
              "max_connections = 10\n"
              "max_request_body_bytes = 0\n"
              "header_timeout = 250ms\n"
              "idle_timeout = 5m\n"
              "shutdown_grace = 0\n"
              "\n");
    expect_ok(f);
    struct fg_config *c = f->cfg;
    assert_string_equal(c->listen_host, "::1");
    assert_int_equal(c->listen_port, 8443);
    assert_int_equal(c->workers, 4);
    assert_string_equal(c->log_level, "debug");
    assert_string_equal(c->state_dir, "/var/lib/fedgate");
    assert_int_equal(c->limits.max_connections, 10);
    assert_int_equal(c->limits.max_request_body_bytes, 0);
    assert_int_equal(c->limits.header_timeout_ms, 250);
    assert_int_equal(c->limits.idle_timeout_ms, 300000);
    assert_int_equal(c->limits.shutdown_grace_ms, 0);
    const struct fg_section *v = &section(c, "gateway")->view;
    assert_int_equal(v->line, 3);
    assert_string_equal(v->get(v, "role"), "host");
}

static void test_listen_forms(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *listen, *host;
        int port;
    } good[] = {
        {"0.0.0.0:80", "0.0.0.0", 80},
        {"example.com:443", "example.com", 443},
        {"localhost:65535", "localhost", 65535},
        {"[::]:1", "::", 1},
        {"[fe80::1]:6443", "fe80::1", 6443},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "[gateway]\nlisten = %s\n",
                 good[i].listen);
        write_ini(f, "g.ini", text);
        expect_ok(f);
        assert_string_equal(f->cfg->listen_host, good[i].host);
        assert_int_equal(f->cfg->listen_port, good[i].port);
    }
    static const char *const bad[] = {
        "localhost", "1.2.3.4:0",    ":80",       "[::1:80",    "host:80x",
        "[zz]:80",   "999.1.1.1:80", "::1:80",    "1.2.3.4:-1", "a b:80",
        "[]:80",     "host:65536",   "[::1]x:80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "[gateway]\nlisten = %s\n", bad[i]);
        write_ini(f, "g.ini", text);
        expect_refused(f);
        expect_line(f, "g.ini", 2,
                    "listen: \"%s\" is not HOST:PORT or [IPV6]:PORT with "
                    "PORT 1-65535",
                    bad[i]);
    }
}

/* ---- directory and files ---- */

static void test_empty_dir(void **state)
{
    struct fx *f = *state;
    expect_refused(f);
    expect_line(f, NULL, 0, "%s: no *.ini files", f->dir);
    write_ini(f, "README", "[gateway]\n");
    write_ini(f, "gateway.ini~", "[gateway]\n");
    write_ini(f, ".hidden.ini", "[gateway]\n");
    expect_refused(f);
    assert_int_equal(f->diag.n, 1);
    expect_line(f, NULL, 0, "%s: no *.ini files", f->dir);
}

static void test_missing_dir(void **state)
{
    struct fx *f = *state;
    char dir[256];
    struct fg_diag d = {0};
    snprintf(dir, sizeof(dir), "%s/nope", f->root);
    assert_null(fg_config_load(dir, &d));
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.lines[0], dir));
    fg_diag_free(&d);
}

static void test_not_regular_file(void **state)
{
    struct fx *f = *state;
    char path[256];
    write_ini(f, "a.ini", "[gateway]\n");
    snprintf(path, sizeof(path), "%s/dir.ini", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    expect_refused(f);
    expect_line(f, NULL, 0, "%s: not a regular file", path);
}

static void test_lexical_order_and_subdirs(void **state)
{
    struct fx *f = *state;
    write_ini(f, "b.ini", "[member \"from-b\"]\ndriver = mock\n");
    write_ini(f, "10.ini", "[member \"from-10\"]\ndriver = mock\n");
    write_ini(f, "a.ini", "[member \"from-a\"]\ndriver = mock\n");
    write_ini(f, "members/x.ini", "[member \"from-members\"]\ndriver = m\n");
    write_ini(f, "gateway.ini", "[gateway]\n[tls]\n");
    expect_ok(f);
    struct fg_config *c = f->cfg;
    assert_int_equal(c->n_members, 4);
    assert_int_equal(c->n_sections, 6);
    assert_string_equal(c->members[0].name, "from-10");
    assert_string_equal(c->members[1].name, "from-a");
    assert_string_equal(c->members[2].name, "from-b");
    assert_string_equal(c->members[3].name, "from-members");
    /* core sections first, members after, each in file order */
    assert_string_equal(c->sections[0].kind, "gateway");
    assert_string_equal(c->sections[1].kind, "tls");
    assert_ptr_equal(c->members, &c->sections[2]);
    assert_string_equal(c->members[3].view.name, "from-members");
    char want[256];
    snprintf(want, sizeof(want), "%s/members/x.ini", f->dir);
    assert_string_equal(c->members[3].file, want);
}

static void test_duplicate_sections_across_files(void **state)
{
    struct fx *f = *state;
    write_ini(f, "20-b.ini",
              "[gateway]\n[member \"a\"]\ndriver = y\nurl = dropped\n");
    write_ini(f, "10-a.ini", "\n[member \"a\"]\ndriver = x\n[gateway]\n");
    expect_refused(f);
    char first[256];
    snprintf(first, sizeof(first), "%s/10-a.ini", f->dir);
    expect_line(f, "20-b.ini", 1, "section [gateway] already defined at %s:4",
                first);
    expect_line(f, "20-b.ini", 2,
                "section [member \"a\"] already defined at %s:2", first);
    /* the keys of a refused section are not reported again */
    assert_int_equal(f->diag.n, 2);
}

static void test_duplicate_key(void **state)
{
    struct fx *f = *state;
    write_ini(f, "g.ini", "[gateway]\nworkers = 2\nrole = host\nworkers = 3\n");
    expect_refused(f);
    expect_line(f, "g.ini", 4,
                "duplicate key \"workers\" in [gateway] (first at line 2)");
    write_ini(f, "g.ini", "[member \"m\"]\ndriver = a\ndriver = b\n");
    expect_refused(f);
    expect_line(f, "g.ini", 3,
                "duplicate key \"driver\" in [member \"m\"] (first at line 2)");
}

/* ---- sections ---- */

static void test_unknown_sections(void **state)
{
    struct fx *f = *state;
    write_ini(f, "s.ini",
              "[x]\n"
              "key = ignored\n"
              "[Gateway]\n"
              "[member  \"a\"]\n"
              "[member 'a']\n"
              "[member \"a\" ]\n"
              "[member a]\n"
              "[member \"\"]\n"
              "[ tls ]\n"
              "[]\n");
    expect_refused(f);
    expect_line(f, "s.ini", 1, "unknown section [x]");
    expect_line(f, "s.ini", 3, "unknown section [Gateway]");
    expect_line(f, "s.ini", 4, "unknown section [member  \"a\"]");
    expect_line(f, "s.ini", 5, "unknown section [member 'a']");
    expect_line(f, "s.ini", 6, "unknown section [member \"a\" ]");
    expect_line(f, "s.ini", 7, "unknown section [member a]");
    expect_line(f, "s.ini", 8, "unknown section [member \"\"]");
    expect_line(f, "s.ini", 9, "unknown section [ tls ]");
    expect_line(f, "s.ini", 10, "unknown section []");
    assert_int_equal(f->diag.n, 9);
}

/* [policy] chain names [plugin "NAME"] sections, in order, each once; every
 * [plugin] section is in the chain. */
static void test_policy_chain(void **state)
{
    struct fx *f = *state;
    write_ini(f, "p.ini",
              "[policy]\n"
              "chain = b, a\n"
              "[plugin \"a\"]\n"
              "key = kept for the plugin's check\n"
              "[plugin \"b\"]\n"
              "plugin = some_kind\n");
    expect_ok(f);
    assert_int_equal(f->cfg->n_chain, 2);
    assert_string_equal(f->cfg->chain[0]->name, "b");
    assert_string_equal(f->cfg->chain[1]->name, "a");
    assert_string_equal(fg_config_core_key(f->cfg->chain[0]), "plugin");
    assert_string_equal(fg_config_get(f->cfg->chain[0], "plugin"), "some_kind");

    write_ini(f, "p.ini",
              "[policy]\n"
              "chain = a, ghost, a\n" /* 2 */
              "[plugin \"a\"]\n"
              "[plugin \"unused\"]\n" /* 4 */
              "plugin = Bad\n"        /* 5 */
              "[plugin \"Caps\"]\n"   /* 6 */
              "[plugin \"a\"]\n");    /* 7 */
    expect_refused(f);
    expect_line(f, "p.ini", 2, "chain: no [plugin \"ghost\"] section");
    expect_line(f, "p.ini", 2, "chain: \"a\" is named twice");
    /* [plugin "unused"] (4) may be a service's: known once the plugins
     * are loaded (test_plugin_loader) */
    expect_line(f, "p.ini", 5,
                "plugin: \"Bad\" is not a plugin name ([a-z0-9_-]+)");
    expect_line(f, "p.ini", 6,
                "invalid plugin section name \"Caps\": must be [a-z0-9_-]+, "
                "at most 63 characters");
    expect_line(f, "p.ini", 7,
                "section [plugin \"a\"] already defined at %s/p.ini:3", f->dir);
    assert_int_equal(f->diag.n, 5);

    write_ini(f, "p.ini", "[policy]\n");
    expect_refused(f);
    expect_line(f, "p.ini", 1, "[policy]: missing required key \"chain\"");
}

static void test_malformed_headers(void **state)
{
    struct fx *f = *state;
    write_ini(f, "s.ini",
              "[member \"ok\"]\n"
              "driver = d\n"
              "[gateway] junk\n"
              "workers = not-checked\n"
              "[tls\n"
              "cert_file = nope\n");
    expect_refused(f);
    expect_line(f, "s.ini", 3, "unexpected text after section header");
    expect_line(f, "s.ini", 5, "section header without closing ']'");
    /* keys after a refused header belong to no section: no more noise,
     * and they do not land in the section before it */
    assert_int_equal(f->diag.n, 2);
}

static void test_key_outside_section(void **state)
{
    struct fx *f = *state;
    write_ini(f, "a.ini", "[gateway]\n");
    write_ini(f, "b.ini", "workers = 2\n");
    expect_refused(f);
    /* a section does not go on into the next file */
    expect_line(f, "b.ini", 1, "key \"workers\" outside of any section");
}

static void test_member_name_lengths(void **state)
{
    struct fx *f = *state;
    char name63[64], name64[65], text[256];
    memset(name63, 'a', 63);
    name63[63] = '\0';
    name63[30] = '-';
    memset(name64, 'b', 64);
    name64[64] = '\0';

    /* longer than inih's 49-byte section names: must arrive whole */
    snprintf(text, sizeof(text), "[member \"%s\"]\ndriver = mock\n", name63);
    write_ini(f, "m.ini", text);
    expect_ok(f);
    assert_int_equal(f->cfg->n_members, 1);
    assert_string_equal(f->cfg->members[0].name, name63);
    assert_string_equal(f->cfg->members[0].view.name, name63);
    assert_string_equal(fg_config_get(&f->cfg->members[0], "driver"), "mock");

    snprintf(text, sizeof(text), "[member \"%s\"]\ndriver = mock\n", name64);
    write_ini(f, "m.ini", text);
    expect_refused(f);
    expect_line(f, "m.ini", 1,
                "invalid member name \"%s\": must be a DNS-1123 label (a-z, "
                "0-9 and '-', at most 63 characters)",
                name64);
    assert_int_equal(f->diag.n, 1);

    static const char *const bad[] = {"-a", "a-", "A", "a_b", "a.b", "a b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "[member \"%s\"]\ndriver = m\n", bad[i]);
        write_ini(f, "m.ini", text);
        expect_refused(f);
        assert_non_null(strstr(f->diag.lines[0], "invalid member name"));
    }
}

static void test_dns1123_label(void **state)
{
    (void)state;
    char s[70];
    assert_true(fg_is_dns1123_label("a", 1));
    assert_true(fg_is_dns1123_label("a-b-0", 5));
    assert_true(fg_is_dns1123_label("0", 1));
    assert_true(fg_is_dns1123_label("ab", 1)); /* only LEN bytes count */
    assert_false(fg_is_dns1123_label("", 0));
    assert_false(fg_is_dns1123_label("-a", 2));
    assert_false(fg_is_dns1123_label("a-", 2));
    assert_false(fg_is_dns1123_label("aB", 2));
    memset(s, 'x', sizeof(s));
    assert_true(fg_is_dns1123_label(s, 63));
    assert_false(fg_is_dns1123_label(s, 64));
    assert_true(fg_is_plugin_name("direct"));
    assert_true(fg_is_plugin_name("my_driver-2"));
    assert_false(fg_is_plugin_name(""));
    assert_false(fg_is_plugin_name(NULL));
    assert_false(fg_is_plugin_name("Direct"));
    assert_false(fg_is_plugin_name("a/b"));
}

/* ---- lines that inih would mangle ---- */

static void test_long_line(void **state)
{
    struct fx *f = *state;
    char line[512];
    /* "k = " + 194 bytes: 198, the longest inih takes whole */
    memset(line, 0, sizeof(line));
    strcpy(line, "[member \"m\"]\ndriver = d\nk = ");
    size_t head = strlen(line);
    memset(line + head, 'v', 194);
    strcat(line, "\n");
    write_ini(f, "m.ini", line);
    expect_ok(f);
    const char *v = fg_config_get(&f->cfg->members[0], "k");
    assert_non_null(v);
    assert_int_equal(strlen(v), 194);

    /* one more byte: refused, and nothing of it leaks into the config */
    line[head + 194] = 'v';
    strcat(line, "\n");
    write_ini(f, "m.ini", line);
    expect_refused(f);
    expect_line(f, "m.ini", 3, "line too long (max 198 bytes)");
    assert_int_equal(f->diag.n, 1);

    /* the cut-off tail of a long comment must not become a key */
    memset(line, 0, sizeof(line));
    strcpy(line, "[gateway]\n; ");
    memset(line + strlen(line), 'c', 250);
    strcat(line, "workers = 2\n");
    write_ini(f, "m.ini", line);
    expect_refused(f);
    expect_line(f, "m.ini", 2, "line too long (max 198 bytes)");
    assert_int_equal(f->diag.n, 1);
}

static void test_indented_line(void **state)
{
    struct fx *f = *state;
    write_ini(f, "g.ini",
              "[gateway]\nlog_level = info\n  debug\n\t; comment\n   \n");
    expect_refused(f);
    expect_line(f, "g.ini", 3, "indented lines are not allowed");
    expect_line(f, "g.ini", 4, "indented lines are not allowed");
    assert_int_equal(f->diag.n, 2);
}

static void test_nul_byte_and_syntax(void **state)
{
    struct fx *f = *state;
    static const char data[] = "[gateway]\nrole = ho\0st\nworkers\n"
                               "workers: 2\n= 3\nlog_level =\n"
                               "log_level = ;\n";
    write_bytes(f, "g.ini", data, sizeof(data) - 1);
    expect_refused(f);
    expect_line(f, "g.ini", 2, "NUL byte in line");
    expect_line(f, "g.ini", 3, "expected KEY = VALUE");
    expect_line(f, "g.ini", 4, "expected KEY = VALUE");
    expect_line(f, "g.ini", 5, "empty key");
    expect_line(f, "g.ini", 6, "empty value for key \"log_level\"");
    expect_line(f, "g.ini", 7, "empty value for key \"log_level\"");
    assert_int_equal(f->diag.n, 6);
}

static void test_bom_crlf_and_no_final_newline(void **state)
{
    struct fx *f = *state;
    write_ini(f, "g.ini",
              "\xEF\xBB\xBF[gateway]\r\nworkers = 3\r\nlog_level = warn");
    expect_ok(f);
    assert_int_equal(f->cfg->workers, 3);
    assert_string_equal(f->cfg->log_level, "warn");
}

static void test_inline_comment_and_semicolon(void **state)
{
    struct fx *f = *state;
    write_ini(f, "m.ini",
              "[member \"m\"]\ndriver = d ; the driver\n"
              "a = x;y\nb = x ;y\nc = \"quoted\"\nd = a=b\n");
    expect_ok(f);
    const struct fg_config_section *s = &f->cfg->members[0];
    assert_string_equal(fg_config_get(s, "driver"), "d");
    assert_string_equal(fg_config_get(s, "a"), "x;y");
    assert_string_equal(fg_config_get(s, "b"), "x");
    assert_string_equal(fg_config_get(s, "c"), "\"quoted\"");
    assert_string_equal(fg_config_get(s, "d"), "a=b");
}

/* ---- keys and values ---- */

static void test_unknown_keys(void **state)
{
    struct fx *f = *state;
    write_ini(f, "g.ini", "[gateway]\nbogus = 1\n[tls]\nwhat = 2\n");
    expect_refused(f);
    expect_line(f, "g.ini", 2, "unknown key \"bogus\" in [gateway]");
    expect_line(f, "g.ini", 4, "unknown key \"what\" in [tls]");
}

static void test_bad_values_all_reported(void **state)
{
    struct fx *f = *state;
    write_ini(f, "g.ini",
              "[gateway]\n"
              "workers = abc\n"                        /* 2 */
              "max_connections = 0\n"                  /* 3 */
              "max_headers = 12x\n"                    /* 4 */
              "max_uri_bytes = 99999999999999999999\n" /* 5 */
              "header_timeout = 10\n"                  /* 6 */
              "idle_timeout = 10x\n"                   /* 7 */
              "shutdown_grace = 2h\n"                  /* 8 */
              "role = boss\n"                          /* 9 */
              "log_level = loud\n"                     /* 10 */
              "max_header_bytes = -5\n"                /* 11 */
              "stream_buffer_bytes = +5\n");           /* 12 */
    expect_refused(f);
    expect_line(f, "g.ini", 2, "workers: \"abc\" is not a decimal integer");
    expect_line(f, "g.ini", 3, "max_connections: 0 is out of range 1..1000000");
    expect_line(f, "g.ini", 4, "max_headers: \"12x\" is not a decimal integer");
    expect_line(f, "g.ini", 5,
                "max_uri_bytes: \"99999999999999999999\" is not a decimal "
                "integer");
    expect_line(f, "g.ini", 6,
                "header_timeout: \"10\" is not a duration (e.g. 250ms, 10s, "
                "5m, 1h)");
    expect_line(f, "g.ini", 7,
                "idle_timeout: \"10x\" is not a duration (e.g. 250ms, 10s, "
                "5m, 1h)");
    expect_line(f, "g.ini", 8,
                "shutdown_grace: 2h is out of range 0ms..3600000ms");
    expect_line(f, "g.ini", 9, "role: \"boss\" is not one of host, member");
    expect_line(f, "g.ini", 10,
                "log_level: \"loud\" is not one of error, warn, info, debug");
    expect_line(f, "g.ini", 11,
                "max_header_bytes: -5 is out of range 1024..81920");
    expect_line(f, "g.ini", 12,
                "stream_buffer_bytes: \"+5\" is not a decimal integer");
    assert_int_equal(f->diag.n, 11);
}

static void test_durations(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *text;
        uint64_t ms;
    } cases[] = {{"250ms", 250},  {"10s", 10000}, {"5m", 300000},
                 {"1h", 3600000}, {"0", 0},       {"0s", 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "[gateway]\nshutdown_grace = %s\n",
                 cases[i].text);
        write_ini(f, "g.ini", text);
        expect_ok(f);
        assert_int_equal(f->cfg->limits.shutdown_grace_ms, cases[i].ms);
        const struct fg_section *v = &section(f->cfg, "gateway")->view;
        assert_int_equal(v->get_int(v, "shutdown_grace", -1), cases[i].ms);
    }
    static const char *const bad[] = {"1.5s",
                                      "-1s",
                                      "s",
                                      "10 s",
                                      "1d",
                                      "10S",
                                      "99999999999999999999ms",
                                      "9999999999999999h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "[gateway]\nshutdown_grace = %s\n",
                 bad[i]);
        write_ini(f, "g.ini", text);
        expect_refused(f);
        expect_line(f, "g.ini", 2,
                    "shutdown_grace: \"%s\" is not a duration (e.g. 250ms, "
                    "10s, 5m, 1h)",
                    bad[i]);
    }
}

static void test_relative_paths(void **state)
{
    struct fx *f = *state;
    char want[512], plugins[256];
    snprintf(plugins, sizeof(plugins), "%s/plugins", f->root);
    assert_int_equal(mkdir(plugins, 0700), 0);
    write_ini(f, "g.ini",
              "[gateway]\nstate_dir = data/./x//y/../z\n"
              "plugin_dir = ../plugins\n");
    expect_ok(f);
    snprintf(want, sizeof(want), "%s/data/x/z", f->dir);
    assert_string_equal(f->cfg->state_dir, want);
    assert_string_equal(f->cfg->plugin_dir, plugins);
    const struct fg_section *v = &section(f->cfg, "gateway")->view;
    assert_string_equal(v->get(v, "state_dir"), want);

    write_ini(f, "g.ini", "[gateway]\nstate_dir = /abs/../state/\n");
    expect_ok(f);
    assert_string_equal(f->cfg->state_dir, "/state");

    write_ini(f, "g.ini", "[gateway]\nplugin_dir = missing\n");
    expect_refused(f);
    snprintf(want, sizeof(want),
             "plugin_dir: \"%s/missing\": No such file or directory", f->dir);
    expect_line(f, "g.ini", 2, "%s", want);

    write_ini(f, "g.ini", "[gateway]\nplugin_dir = g.ini\n");
    expect_refused(f);
    snprintf(want, sizeof(want), "plugin_dir: \"%s/g.ini\": not a directory",
             f->dir);
    expect_line(f, "g.ini", 2, "%s", want);
}

static void test_path_join(void **state)
{
    (void)state;
    static const struct {
        const char *base, *path, *want;
    } cases[] = {
        {"/etc/fg", "a", "/etc/fg/a"},
        {"/etc/fg", "../state", "/etc/state"},
        {"/etc/fg", "/abs//x/./y/", "/abs/x/y"},
        {"/", "../../a", "/a"},
        {"/a", "..", "/"},
        {NULL, "x/../..", ".."},
        {NULL, "./", "."},
        {"/etc", "a/../../../b", "/b"},
        {"rel", "../../x", "../x"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = fg_ini_path_join(cases[i].base, cases[i].path);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

/* ---- [tls] ---- */

static void test_tls_server_names(void **state)
{
    struct fx *f = *state;
    write_ini(f, "tls.ini",
              "[tls]\nserver_names = fedgate.fedgate.svc, 10.0.0.7 ::2,"
              "*.example.org\n");
    expect_ok(f);
    assert_int_equal(f->cfg->n_server_names, 4);
    assert_string_equal(f->cfg->server_names[0], "fedgate.fedgate.svc");
    assert_string_equal(f->cfg->server_names[1], "10.0.0.7");
    assert_string_equal(f->cfg->server_names[2], "::2");
    assert_string_equal(f->cfg->server_names[3], "*.example.org");

    write_ini(f, "tls.ini", "[tls]\n; names\nserver_names = ok.svc, b@d\n");
    expect_refused(f);
    expect_line(f, "tls.ini", 3,
                "server_names: \"b@d\" is neither an IP address nor a DNS "
                "name");

    write_ini(f, "cert.pem", "x\n");
    write_ini(f, "key.pem", "x\n");
    write_ini(f, "tls.ini",
              "[tls]\ncert_file = cert.pem\nkey_file = key.pem\n"
              "server_names = a.svc\n");
    expect_refused(f);
    expect_line(f, "tls.ini", 4,
                "server_names: names only the generated certificate; "
                "cert_file is your own");
}

static void test_tls(void **state)
{
    struct fx *f = *state;
    char want[512];
    write_ini(f, "cert.pem", "not really a certificate\n");
    write_ini(f, "key.pem", "not really a key\n");

    write_ini(f, "tls.ini", "[tls]\ncert_file = cert.pem\n");
    expect_refused(f);
    expect_line(f, "tls.ini", 1,
                "[tls]: cert_file and key_file must be set together");

    write_ini(f, "tls.ini", "[tls]\nkey_file = key.pem\n");
    expect_refused(f);
    expect_line(f, "tls.ini", 1,
                "[tls]: cert_file and key_file must be set together");

    write_ini(f, "tls.ini",
              "[tls]\ncert_file = cert.pem\nkey_file = key.pem\n"
              "client_ca_file = ca.pem\n");
    expect_refused(f);
    snprintf(want, sizeof(want),
             "client_ca_file: cannot read \"%s/ca.pem\": No such file or "
             "directory",
             f->dir);
    expect_line(f, "tls.ini", 4, "%s", want);

    /* With the generated serving certificate (fedgatectl's CA). */
    write_ini(f, "tls.ini", "[tls]\nclient_ca_file = cert.pem\n");
    expect_ok(f);
    assert_null(f->cfg->cert_file);
    snprintf(want, sizeof(want), "%s/cert.pem", f->dir);
    assert_string_equal(f->cfg->client_ca_file, want);

    write_ini(f, "tls.ini",
              "[tls]\ncert_file = cert.pem\nkey_file = key.pem\n"
              "client_ca_file = cert.pem\n");
    expect_ok(f);
    snprintf(want, sizeof(want), "%s/cert.pem", f->dir);
    assert_string_equal(f->cfg->cert_file, want);
    assert_string_equal(f->cfg->client_ca_file, want);
    snprintf(want, sizeof(want), "%s/key.pem", f->dir);
    assert_string_equal(f->cfg->key_file, want);

    write_ini(f, "tls.ini", "[tls]\ncert_file = .\nkey_file = key.pem\n");
    expect_refused(f);
    snprintf(want, sizeof(want), "cert_file: \"%s\" is not a regular file",
             f->dir);
    expect_line(f, "tls.ini", 2, "%s", want);
}

/* ---- members and roles ---- */

static void test_member_driver(void **state)
{
    struct fx *f = *state;
    write_ini(f, "m.ini",
              "[member \"a\"]\nurl = x\n[member \"b\"]\ndriver = Bad!\n");
    expect_refused(f);
    expect_line(f, "m.ini", 1, "[member \"a\"]: missing key \"driver\"");
    expect_line(f, "m.ini", 4,
                "driver: \"Bad!\" is not a plugin name ([a-z0-9_-]+)");
    assert_int_equal(f->diag.n, 2);
}

static void test_member_role(void **state)
{
    struct fx *f = *state;
    write_ini(f, "g.ini", "[gateway]\nrole = member\n");
    write_ini(f, "m1.ini", "[member \"one\"]\ndriver = mock\n");
    expect_ok(f);
    assert_int_equal(f->cfg->role, FG_ROLE_MEMBER);

    write_ini(f, "m2.ini", "[member \"two\"]\ndriver = mock\n");
    expect_refused(f);
    expect_line(f, "g.ini", 2,
                "role = member needs exactly one [member \"NAME\"] section, "
                "found 2");

    write_ini(f, "m1.ini", "; none here\n");
    write_ini(f, "m2.ini", "; nor here\n");
    expect_refused(f);
    expect_line(f, "g.ini", 2,
                "role = member needs exactly one [member \"NAME\"] section, "
                "found 0");

    /* a host without members is fine */
    write_ini(f, "g.ini", "[gateway]\nrole = host\n");
    expect_ok(f);
}

/* ---- fg_config_check_section: the validator plugins' keys go through ---- */

static const struct fg_config_key plugin_keys[] = {
    {"url", FG_CONFIG_STRING, NULL, 1, 0, 0, NULL},
    {"insecure", FG_CONFIG_BOOL, "no", 0, 0, 0, NULL},
    {"retries", FG_CONFIG_INT, "3", 0, 0, 10, NULL},
    {"offset", FG_CONFIG_INT, NULL, 0, 0, 0, NULL}, /* unbounded */
    {"timeout", FG_CONFIG_DURATION, "5s", 0, 1, 60000, NULL},
    {"ca_file", FG_CONFIG_PATH, NULL, 0, 0, 0, NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static void test_check_section_plugin_keys(void **state)
{
    struct fx *f = *state;
    write_ini(f, "m.ini",
              "[member \"m\"]\ndriver = d\nurl = https://x:6443\n"
              "insecure = On\noffset = -9223372036854775808\n"
              "ca_file = ca.pem\n");
    expect_ok(f);
    struct fg_config_section *s = &f->cfg->members[0];
    struct fg_diag d = {0};
    assert_int_equal(fg_config_check_section(f->cfg, s, plugin_keys, &d), 0);
    assert_int_equal(d.n, 0);
    const struct fg_section *v = &s->view;
    assert_string_equal(v->name, "m");
    assert_string_equal(v->get(v, "driver"), "d");
    assert_string_equal(v->get(v, "url"), "https://x:6443");
    assert_string_equal(v->get(v, "insecure"), "1");
    assert_int_equal(v->get_int(v, "insecure", -1), 1);
    assert_int_equal(v->get_int(v, "retries", -1), 3);
    assert_int_equal(v->get_int(v, "timeout", -1), 5000);
    assert_int_equal(v->get_int(v, "offset", 0), INT64_MIN);
    char want[256];
    snprintf(want, sizeof(want), "%s/ca.pem", f->dir);
    assert_string_equal(v->get(v, "ca_file"), want);
    /* a second check finds the normal forms fine */
    assert_int_equal(fg_config_check_section(f->cfg, s, plugin_keys, &d), 0);
    assert_int_equal(v->get_int(v, "timeout", -1), 5000);
    assert_string_equal(v->get(v, "ca_file"), want);
    fg_diag_free(&d);
}

static void test_check_section_files(void **state)
{
    static const struct fg_config_key keys[] = {
        {"token_file", FG_CONFIG_FILE, NULL, 0, 0, 0, NULL},
        {"ca_file", FG_CONFIG_FILE, NULL, 0, 0, 0, NULL},
        {"seed", FG_CONFIG_FILE, NULL, 0, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, 0, NULL},
    };
    struct fx *f = *state;
    write_ini(f, "present.txt", "x\n");
    write_ini(f, "m.ini",
              "[member \"m\"]\ndriver = d\n; comment\n"
              "token_file = absent.txt\nca_file = .\nseed = present.txt\n");
    expect_ok(f);
    struct fg_config_section *s = &f->cfg->members[0];
    assert_int_equal(fg_config_check_section(f->cfg, s, keys, &f->diag), 2);
    expect_line(f, "m.ini", 4,
                "token_file: cannot read \"%s/absent.txt\": No such file or "
                "directory",
                f->dir);
    expect_line(f, "m.ini", 5, "ca_file: \"%s\" is not a regular file", f->dir);
}

static void test_check_section_bools(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *text;
        int value;
    } cases[] = {{"true", 1}, {"yes", 1}, {"on", 1}, {"1", 1},    {"false", 0},
                 {"no", 0},   {"off", 0}, {"0", 0},  {"TRUE", 1}, {"Off", 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text),
                 "[member \"m\"]\ndriver = d\nurl = u\ninsecure = %s\n",
                 cases[i].text);
        write_ini(f, "m.ini", text);
        expect_ok(f);
        struct fg_diag d = {0};
        struct fg_config_section *s = &f->cfg->members[0];
        assert_int_equal(fg_config_check_section(f->cfg, s, plugin_keys, &d),
                         0);
        assert_int_equal(s->view.get_int(&s->view, "insecure", -1),
                         cases[i].value);
        assert_string_equal(fg_config_get(s, "insecure"),
                            cases[i].value ? "1" : "0");
        fg_diag_free(&d);
    }
}

static void test_check_section_problems(void **state)
{
    struct fx *f = *state;
    write_ini(f, "m.ini",
              "[member \"m\"]\ndriver = d\ninsecure = maybe\nretries = 11\n"
              "timeout = 0\nextra = 1\noffset = 1e3\n");
    expect_ok(f);
    struct fg_config_section *s = &f->cfg->members[0];
    assert_int_equal(fg_config_check_section(f->cfg, s, plugin_keys, &f->diag),
                     6);
    expect_line(f, "m.ini", 1, "[member \"m\"]: missing required key \"url\"");
    expect_line(f, "m.ini", 3,
                "insecure: \"maybe\" is not a boolean (true/false, yes/no, "
                "on/off, 1/0)");
    expect_line(f, "m.ini", 4, "retries: 11 is out of range 0..10");
    expect_line(f, "m.ini", 5, "timeout: 0 is out of range 1ms..60000ms");
    expect_line(f, "m.ini", 6, "unknown key \"extra\" in [member \"m\"]");
    expect_line(f, "m.ini", 7, "offset: \"1e3\" is not a decimal integer");
    assert_int_equal(f->diag.n, 6);
}

static void test_override(void **state)
{
    struct fx *f = *state;
    char cwd[512], want[600];
    write_ini(f, "g.ini", "[gateway]\nlisten = 127.0.0.1:1\n");
    expect_ok(f);
    assert_int_equal(fg_config_override(f->cfg, NULL, NULL, &f->diag), 0);
    assert_int_equal(f->cfg->listen_port, 1);
    assert_int_equal(
        fg_config_override(f->cfg, "/srv/state/", "[::1]:2", &f->diag), 0);
    assert_string_equal(f->cfg->state_dir, "/srv/state");
    assert_string_equal(f->cfg->listen_host, "::1");
    assert_int_equal(f->cfg->listen_port, 2);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(fg_config_override(f->cfg, "rel", NULL, &f->diag), 0);
    snprintf(want, sizeof(want), "%s/rel", strcmp(cwd, "/") ? cwd : "");
    assert_string_equal(f->cfg->state_dir, want);
    assert_int_equal(fg_config_override(f->cfg, NULL, "nope", &f->diag), 1);
    expect_line(f, NULL, 0,
                "--listen: \"nope\" is not HOST:PORT or [IPV6]:PORT with "
                "PORT 1-65535");
    assert_int_equal(f->cfg->listen_port, 2);
}

/* What a reload compares: a copy says what its original says and reads
 * the same through its own view; any difference in kind, name, key or
 * value (or their order) makes two sections differ, where they were read
 * from does not. */
static void test_section_dup_and_equal(void **state)
{
    struct fx *f = *state;
    write_ini(f, "a.ini",
              "[member \"a\"]\ndriver = mock\nseed = x\n"
              "[member \"b\"]\ndriver = mock\nseed = x\n"
              "[member \"c\"]\ndriver = mock\nseed = y\n"
              "[member \"d\"]\nseed = x\ndriver = mock\n"
              "[member \"e\"]\ndriver = mock\nseed = x\nextra = 1\n");
    expect_ok(f);
    assert_int_equal(f->cfg->n_members, 5);
    const struct fg_config_section *m = f->cfg->members;
    struct fg_config_section *copy = fg_config_section_dup(&m[0]);
    assert_non_null(copy);
    assert_true(fg_config_section_equal(copy, &m[0]));
    assert_ptr_equal(copy->view.core, copy);
    assert_string_equal(copy->view.get(&copy->view, "seed"), "x");
    assert_string_equal(copy->view.name, "a");
    assert_string_equal(copy->file, m[0].file);
    /* another name; another value; another order; one key more */
    for (size_t i = 1; i < 5; i++) {
        assert_false(fg_config_section_equal(&m[0], &m[i]));
        assert_false(fg_config_section_equal(&m[i], &m[0]));
    }
    /* the same text read from another file at another line */
    write_ini(f, "b.ini", "\n\n[member \"a\"]\ndriver = mock\nseed = x\n");
    unlink(m[0].file);
    expect_ok(f);
    assert_int_equal(f->cfg->n_members, 1);
    assert_int_not_equal(f->cfg->members[0].line, copy->line);
    assert_true(fg_config_section_equal(copy, &f->cfg->members[0]));
    fg_config_section_destroy(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_defaults),
        T(test_no_gateway_section_uses_defaults),
        T(test_full_gateway),
        T(test_listen_forms),
        T(test_empty_dir),
        T(test_missing_dir),
        T(test_not_regular_file),
        T(test_lexical_order_and_subdirs),
        T(test_duplicate_sections_across_files),
        T(test_duplicate_key),
        T(test_unknown_sections),
        T(test_malformed_headers),
        T(test_policy_chain),
        T(test_key_outside_section),
        T(test_member_name_lengths),
        T(test_dns1123_label),
        T(test_long_line),
        T(test_indented_line),
        T(test_nul_byte_and_syntax),
        T(test_bom_crlf_and_no_final_newline),
        T(test_inline_comment_and_semicolon),
        T(test_unknown_keys),
        T(test_bad_values_all_reported),
        T(test_durations),
        T(test_relative_paths),
        T(test_path_join),
        T(test_tls),
        T(test_tls_server_names),
        T(test_member_driver),
        T(test_member_role),
        T(test_check_section_plugin_keys),
        T(test_check_section_files),
        T(test_check_section_bools),
        T(test_check_section_problems),
        T(test_override),
        T(test_section_dup_and_equal),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
