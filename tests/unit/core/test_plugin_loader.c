/* Tests of core/plugin/plugin_loader.c: the fixture plugins under
 * FG_TEST_FIXTURE_DIR/plugin_loader/CASE (built from
 * fixtures/fixture_plugin.c) each break one rule the loader must refuse,
 * without crashing and naming the file; and member and [plugin] sections
 * are checked against the keys of their plugin. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fedgate/driver.h>
#include <fedgate/policy.h>
#include <fedgate/service.h>

#include "config/config.h"
#include "plugin/plugin_loader.h"

#ifndef FG_TEST_FIXTURE_DIR
#error "FG_TEST_FIXTURE_DIR must name the built fixtures"
#endif

static void fixture_dir(char *buf, size_t len, const char *which)
{
    snprintf(buf, len, "%s/plugin_loader/%s", FG_TEST_FIXTURE_DIR, which);
}

static void dump(const struct fg_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        print_message("diag: %s\n", d->lines[i]);
}

/* Loads fixture case WHICH; expects one refusal whose line is
 * "DIR/FILE.so: refused: WHY". */
static void expect_refusal(const char *which, const char *file, const char *why)
{
    char dir[512], want[1024];
    struct fg_plugin_set set = {0};
    struct fg_diag d = {0};
    fixture_dir(dir, sizeof(dir), which);
    int refused = fg_plugins_load_dir(dir, &set, &d);
    snprintf(want, sizeof(want), "%s/%s.so: refused: %s", dir, file, why);
    if (refused != 1 || d.n != 1 || strcmp(d.lines[0], want) != 0) {
        dump(&d);
        fail_msg("case %s: want exactly: %s", which, want);
    }
    assert_int_equal(set.n, 0);
    fg_plugins_unload(&set);
    fg_diag_free(&d);
}

static void test_good_plugins(void **state)
{
    (void)state;
    char dir[512];
    struct fg_plugin_set set = {0};
    struct fg_diag d = {0};
    fixture_dir(dir, sizeof(dir), "good");
    assert_int_equal(fg_plugins_load_dir(dir, &set, &d), 0);
    assert_int_equal(d.n, 0);
    assert_int_equal(set.n, 2);
    /* lexical order: good.so, other.so */
    assert_string_equal(set.v[0]->desc->name, "good");
    assert_string_equal(set.v[1]->desc->name, "other");
    char want[600];
    snprintf(want, sizeof(want), "%s/good.so", dir);
    assert_string_equal(set.v[0]->path, want);

    const struct fg_plugin *p = fg_plugins_find(&set, FG_PLUGIN_DRIVER, "good");
    assert_ptr_equal(p, set.v[0]);
    assert_null(fg_plugins_find(&set, FG_PLUGIN_POLICY, "good"));
    assert_null(fg_plugins_find(&set, FG_PLUGIN_DRIVER, "nope"));
    assert_null(fg_plugins_find(&set, FG_PLUGIN_DRIVER, NULL));

    /* the ops are callable once checked */
    const struct fg_driver_ops *ops = p->desc->ops;
    char err[64] = "";
    void *inst = ops->instance_new(NULL, NULL, err, sizeof(err));
    assert_non_null(inst);
    ops->instance_free(inst);

    /* loading the same plugins again: names stay unique in the set */
    assert_int_equal(fg_plugins_load_dir(dir, &set, &d), 2);
    assert_int_equal(set.n, 2);
    char line[1400];
    snprintf(line, sizeof(line),
             "%s/good.so: refused: plugin name \"good\" already loaded from "
             "%s/good.so",
             dir, dir);
    assert_string_equal(d.lines[0], line);

    fg_plugins_unload(&set);
    assert_int_equal(set.n, 0);
    assert_null(set.v);
    fg_diag_free(&d);
}

static void test_duplicate_name(void **state)
{
    (void)state;
    char dir[512], want[1400];
    struct fg_plugin_set set = {0};
    struct fg_diag d = {0};
    fixture_dir(dir, sizeof(dir), "dup");
    assert_int_equal(fg_plugins_load_dir(dir, &set, &d), 1);
    assert_int_equal(set.n, 1);
    snprintf(want, sizeof(want), "%s/a.so", dir);
    assert_string_equal(set.v[0]->path, want);
    snprintf(want, sizeof(want),
             "%s/b.so: refused: plugin name \"same\" already loaded from "
             "%s/a.so",
             dir, dir);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.lines[0], want);
    fg_plugins_unload(&set);
    fg_diag_free(&d);
}

static void test_abi_refusals(void **state)
{
    (void)state;
    /* The fixtures take this core's minor (major fixture) and declare 7. */
    char why[128];
    snprintf(why, sizeof(why), "built for ABI %d.%d, this core has %d.%d",
             FG_ABI_MAJOR + 1, FG_ABI_MINOR, FG_ABI_MAJOR, FG_ABI_MINOR);
    expect_refusal("major", "plugin", why);
    snprintf(why, sizeof(why),
             "built for ABI %d.7, this core has %d.%d (plugin is newer)",
             FG_ABI_MAJOR, FG_ABI_MAJOR, FG_ABI_MINOR);
    expect_refusal("minor", "plugin", why);
    /* ABI 2.0's descriptor size is today's */
    snprintf(why, sizeof(why),
             "descriptor struct_size 8 is smaller than ABI 2.0's %zu",
             sizeof(struct fg_plugin_descriptor));
    expect_refusal("small_struct", "plugin", why);
    snprintf(why, sizeof(why), "the plugin declined this core (ABI %d.%d)",
             FG_ABI_MAJOR, FG_ABI_MINOR);
    expect_refusal("entry_null", "plugin", why);
    expect_refusal("no_entry", "plugin",
                   "no fg_plugin_entry symbol (not a fedgate plugin?)");
}

static void test_descriptor_refusals(void **state)
{
    (void)state;
    expect_refusal("kind", "plugin",
                   "plugin kind 99 (unknown) is not supported");
    expect_refusal("no_name", "plugin",
                   "plugin name \"(null)\" is not [a-z0-9_-]+");
    expect_refusal("bad_name", "plugin",
                   "plugin name \"Bad\" is not [a-z0-9_-]+");
    expect_refusal("null_ops", "plugin", "driver ops are NULL");
    char why[128];
    snprintf(why, sizeof(why),
             "driver ops struct_size 16 is smaller than ABI 2.0's %zu",
             sizeof(struct fg_driver_ops));
    expect_refusal("small_ops", "plugin", why);
    expect_refusal("missing_op", "plugin", "driver op stream_close is NULL");
    expect_refusal("bad_default", "plugin",
                   "config key default: retries: \"many\" is not a decimal "
                   "integer");
    expect_refusal("dup_key", "plugin", "config key \"url\" is declared twice");
    expect_refusal("bad_scope", "plugin", "driver ops scope 7 is unknown");
}

/* Policy plugins' ops (policy.h): a phase op exactly when its phase bit. */
static void test_policy_refusals(void **state)
{
    (void)state;
    char why[128];
    expect_refusal("policy_null_ops", "plugin", "policy ops are NULL");
    snprintf(why, sizeof(why),
             "policy ops struct_size 16 is smaller than ABI 2.0's %zu",
             offsetof(struct fg_policy_ops, rules));
    expect_refusal("policy_small_ops", "plugin", why);
    expect_refusal("policy_no_phase", "plugin",
                   "policy ops phases 0x0: no phase");
    expect_refusal("policy_unknown_phase", "plugin",
                   "policy ops phases 0x41: unknown bits");
    expect_refusal("policy_phase_without_op", "plugin",
                   "policy op audit is NULL but its phase is set");
    expect_refusal("policy_op_without_phase", "plugin",
                   "policy op authorize is set but not its phase");
    expect_refusal("policy_no_cancel", "plugin",
                   "policy op cancel is NULL (a verdict may pend)");
    expect_refusal("policy_plugin_key", "plugin",
                   "config key \"plugin\" is the core's");
}

/* Service plugins' ops (service.h): size, one-loop streams, routes that
 * are clean paths of their own, API groups that are DNS names. */
static void test_service_refusals(void **state)
{
    (void)state;
    char why[160];
    snprintf(why, sizeof(why),
             "service ops struct_size %zu is smaller than ABI 2.3's %zu",
             sizeof(struct fg_driver_ops), sizeof(struct fg_service_ops));
    expect_refusal("service_driver_ops", "plugin", why);
    expect_refusal("service_core_prefix", "plugin",
                   "service prefix \"/apis/x/\" overlaps the core's /apis/");
    expect_refusal("service_bad_prefix", "plugin",
                   "service prefix \"/a/../b/\" is not /SEGMENT/.../ of "
                   "[a-z0-9._-]");
    expect_refusal("service_bad_group", "plugin",
                   "service api 0: a group needs a DNS name with a dot, a "
                   "version and resources");
    expect_refusal("service_worker_scope", "plugin",
                   "service ops: streams.scope must be one loop");
}

/* The build signature (plugin.h): what the plugin was compiled against. */
static void test_signature_refusals(void **state)
{
    (void)state;
    static const struct fg_build_signature core = FG_BUILD_SIGNATURE;
    char why[160];
    expect_refusal("no_signature", "plugin",
                   "no build signature (descriptor without "
                   "FG_BUILD_SIGNATURE)");
    snprintf(why, sizeof(why),
             "built against libevent 2.0, this core runs libevent %u.%u",
             (unsigned)(core.libevent >> 8), (unsigned)(core.libevent & 255));
    expect_refusal("old_libevent", "plugin", why);
    snprintf(why, sizeof(why),
             "built against OpenSSL 1, this core runs OpenSSL %u",
             (unsigned)core.openssl);
    expect_refusal("old_openssl", "plugin", why);
    snprintf(why, sizeof(why), "built for 4-byte pointers, this core has %u",
             (unsigned)sizeof(void *));
    expect_refusal("pointer_size", "plugin", why);
    /* the core itself is built against both */
    assert_true(core.libevent >= 0x0201);
    assert_true(core.openssl >= 3);
}

/* ---- directories made by the tests ---- */

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

struct tmp {
    char root[64];
};

static int setup(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    strcpy(t->root, "/tmp/fg-test-loader-XXXXXX");
    assert_non_null(mkdtemp(t->root));
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tmp *t = *state;
    nftw(t->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_not_a_shared_object(void **state)
{
    struct tmp *t = *state;
    struct fg_plugin_set set = {0};
    struct fg_diag d = {0};
    write_file(t->root, "junk.so", "this is not ELF\n");
    write_file(t->root, "README", "ignored\n");
    write_file(t->root, ".hidden.so", "ignored\n");
    assert_int_equal(fg_plugins_load_dir(t->root, &set, &d), 1);
    assert_int_equal(set.n, 0);
    assert_int_equal(d.n, 1);
    char want[256];
    snprintf(want, sizeof(want), "%s/junk.so: refused: cannot load: ", t->root);
    assert_memory_equal(d.lines[0], want, strlen(want));
    fg_plugins_unload(&set);
    fg_diag_free(&d);
}

/* Copies fixture FILE of CASE to DIR/NAME by a rename, as an upgrade
 * replaces a plugin (a new inode). */
static void install_fixture(const char *dir, const char *fixture_case,
                            const char *file, const char *name)
{
    char from[600], tmp[600], to[600], buf[4096];
    fixture_dir(from, sizeof(from), fixture_case);
    snprintf(from + strlen(from), sizeof(from) - strlen(from), "/%s.so", file);
    snprintf(tmp, sizeof(tmp), "%s/.%s.new", dir, name);
    snprintf(to, sizeof(to), "%s/%s", dir, name);
    FILE *in = fopen(from, "rb"), *out = fopen(tmp, "wb");
    assert_non_null(in);
    assert_non_null(out);
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    assert_int_equal(rename(tmp, to), 0);
}

/* A reload shares the plugins whose files did not change and loads a
 * replaced file afresh, beside the old object, from a private copy. */
static void test_reload_dir(void **state)
{
    struct tmp *t = *state;
    struct fg_plugin_set first = {0}, same = {0}, next = {0}, gone = {0};
    struct fg_diag d = {0};
    install_fixture(t->root, "good", "good", "good.so");
    install_fixture(t->root, "good", "other", "other.so");
    assert_int_equal(fg_plugins_load_dir(t->root, &first, &d), 0);
    assert_int_equal(first.n, 2);
    assert_int_equal(first.v[0]->copy_fd, -1);

    assert_int_equal(fg_plugins_reload_dir(&first, &same, &d), 0);
    assert_int_equal(same.n, 2);
    assert_ptr_equal(same.v[0], first.v[0]);
    assert_ptr_equal(same.v[1], first.v[1]);
    assert_int_equal(atomic_load(&first.v[0]->refs), 2);
    assert_string_equal(same.dir, first.dir);

    /* good.so replaced by a build of the same plugin: a new object */
    install_fixture(t->root, "good", "good", "good.so");
    assert_int_equal(fg_plugins_reload_dir(&same, &next, &d), 0);
    assert_int_equal(d.n, 0);
    assert_int_equal(next.n, 2);
    assert_ptr_not_equal(next.v[0], first.v[0]);
    assert_ptr_not_equal(next.v[0]->dl, first.v[0]->dl);
    assert_ptr_not_equal(next.v[0]->desc, first.v[0]->desc);
    assert_true(next.v[0]->copy_fd >= 0);
    assert_string_equal(next.v[0]->path, first.v[0]->path);
    assert_string_equal(next.v[0]->desc->name, "good");
    assert_ptr_equal(next.v[1], first.v[1]);
    const struct fg_driver_ops *ops = next.v[0]->desc->ops;
    char err[64] = "";
    void *inst = ops->instance_new(NULL, NULL, err, sizeof(err));
    assert_non_null(inst);
    ops->instance_free(inst);
    fg_plugins_unload(&first);
    fg_plugins_unload(&same);
    assert_int_equal(atomic_load(&next.v[1]->refs), 1);

    /* a replacement that is refused is named; a removed file is gone */
    char path[600], junk[600];
    write_file(t->root, ".junk", "this is not ELF\n");
    snprintf(junk, sizeof(junk), "%s/.junk", t->root);
    snprintf(path, sizeof(path), "%s/other.so", t->root);
    assert_int_equal(rename(junk, path), 0);
    snprintf(path, sizeof(path), "%s/good.so", t->root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(fg_plugins_reload_dir(&next, &gone, &d), 1);
    assert_int_equal(gone.n, 0);
    assert_int_equal(d.n, 1);
    char want[700];
    snprintf(want, sizeof(want),
             "%s/other.so: refused: cannot load: ", t->root);
    assert_memory_equal(d.lines[0], want, strlen(want));
    fg_plugins_unload(&gone);
    fg_plugins_unload(&next);
    fg_diag_free(&d);
}

static void test_missing_and_empty_dir(void **state)
{
    struct tmp *t = *state;
    struct fg_plugin_set set = {0};
    struct fg_diag d = {0};
    char dir[256];
    assert_int_equal(fg_plugins_load_dir(t->root, &set, &d), 0);
    assert_int_equal(d.n, 0);
    snprintf(dir, sizeof(dir), "%s/nope", t->root);
    assert_int_equal(fg_plugins_load_dir(dir, &set, &d), 1);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.lines[0], dir));
    fg_plugins_unload(&set);
    fg_diag_free(&d);
}

static void test_default_dir(void **state)
{
    (void)state;
    char *dir = fg_plugins_default_dir();
    assert_non_null(dir);
    assert_true(dir[0] == '/');
    size_t n = strlen(dir), m = strlen("/fedgate/plugins");
    assert_true(n > m);
    assert_string_equal(dir + n - m, "/fedgate/plugins");
    /* NULL loads from there: it may hold plugins or not exist at all */
    struct fg_plugin_set set = {0};
    struct fg_diag d = {0};
    fg_plugins_load_dir(NULL, &set, &d);
    assert_string_equal(set.dir, dir);
    fg_plugins_unload(&set);
    fg_diag_free(&d);
    free(dir);
}

/* ---- member sections against driver keys ---- */

static void test_check_members(void **state)
{
    struct tmp *t = *state;
    char dir[512], conf[256];
    struct fg_plugin_set set = {0};
    struct fg_diag d = {0};
    fixture_dir(dir, sizeof(dir), "good");
    assert_int_equal(fg_plugins_load_dir(dir, &set, &d), 0);

    snprintf(conf, sizeof(conf), "%s/conf", t->root);
    assert_int_equal(mkdir(conf, 0700), 0);
    write_file(conf, "m.ini",
               "[member \"ok\"]\n"             /* 1 */
               "driver = good\n"               /* 2 */
               "url = https://10.0.0.1:6443\n" /* 3 */
               "ca_file = ca.pem\n"            /* 4 */
               "[member \"ghost\"]\n"          /* 5 */
               "driver = nope\n"               /* 6 */
               "[member \"broken\"]\n"         /* 7 */
               "driver = other\n"              /* 8 */
               "timeout = soon\n"              /* 9 */
               "colour = blue\n");             /* 10 */
    struct fg_config *cfg = fg_config_load(conf, &d);
    if (!cfg)
        dump(&d);
    assert_non_null(cfg);

    assert_int_equal(fg_config_check_members(cfg, &set, &d), 4);
    char want[4][1024];
    snprintf(want[0], sizeof(want[0]),
             "%s/m.ini:6: member \"ghost\": no driver plugin named \"nope\" "
             "in %s",
             conf, dir);
    snprintf(want[1], sizeof(want[1]),
             "%s/m.ini:9: timeout: \"soon\" is not a duration (e.g. 250ms, "
             "10s, 5m, 1h)",
             conf);
    snprintf(want[2], sizeof(want[2]),
             "%s/m.ini:10: unknown key \"colour\" in [member \"broken\"]",
             conf);
    snprintf(want[3], sizeof(want[3]),
             "%s/m.ini:7: [member \"broken\"]: missing required key \"url\"",
             conf);
    if (d.n != 4)
        dump(&d);
    assert_int_equal(d.n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(d.lines[i], want[i]);

    const struct fg_section *v = &cfg->members[0].view;
    char ca[512];
    snprintf(ca, sizeof(ca), "%s/ca.pem", conf);
    assert_string_equal(v->get(v, "ca_file"), ca);
    assert_string_equal(v->get(v, "insecure"), "0");
    assert_int_equal(v->get_int(v, "timeout", 0), 5000);
    assert_int_equal(v->get_int(v, "retries", 0), 3);

    fg_config_free(cfg);
    fg_plugins_unload(&set);
    fg_diag_free(&d);
}

/* ---- the [policy] chain against policy plugins ---- */

/* Loads "good_policy" (authn: a policy plugin, member: a driver) and the
 * configuration TEXT; returns fg_config_check_plugins' count, DIAG filled. */
static int check_chain(struct tmp *t, const char *text, struct fg_diag *d,
                       char *conf, size_t conf_len)
{
    char dir[512];
    struct fg_plugin_set set = {0};
    fixture_dir(dir, sizeof(dir), "good_policy");
    assert_int_equal(fg_plugins_load_dir(dir, &set, d), 0);
    snprintf(conf, conf_len, "%s/conf", t->root);
    mkdir(conf, 0700);
    write_file(conf, "p.ini", text);
    struct fg_config *cfg = fg_config_load(conf, d);
    if (!cfg)
        dump(d);
    assert_non_null(cfg);
    int n = fg_config_check_plugins(cfg, &set, d);
    fg_config_free(cfg);
    fg_plugins_unload(&set);
    return n;
}

static void test_check_plugins(void **state)
{
    struct tmp *t = *state;
    char conf[256], want[1024];
    struct fg_diag d = {0};

    assert_int_equal(check_chain(t,
                                 "[policy]\n"
                                 "chain = a, b\n"
                                 "[plugin \"a\"]\n"
                                 "plugin = authn\n"
                                 "url = x\n"
                                 "[plugin \"b\"]\n" /* 6 */
                                 "plugin = authn\n"
                                 "colour = blue\n", /* 8 */
                                 &d, conf, sizeof(conf)),
                     2);
    snprintf(want, sizeof(want),
             "%s/p.ini:8: unknown key \"colour\" in [plugin \"b\"]", conf);
    assert_string_equal(d.lines[0], want);
    snprintf(want, sizeof(want),
             "%s/p.ini:6: [plugin \"b\"]: missing required key \"url\"", conf);
    assert_string_equal(d.lines[1], want);
    fg_diag_free(&d);

    /* the section's name is the plugin's when `plugin` is left out; a
     * driver is no policy plugin */
    assert_int_equal(check_chain(t,
                                 "[policy]\n"
                                 "chain = authn member\n"
                                 "[plugin \"authn\"]\n"
                                 "url = x\n"
                                 "[plugin \"member\"]\n", /* 5 */
                                 &d, conf, sizeof(conf)),
                     1);
    snprintf(want, sizeof(want),
             "%s/p.ini:5: [plugin \"member\"]: \"member\" is a driver "
             "plugin, not a policy plugin",
             conf);
    assert_string_equal(d.lines[0], want);
    fg_diag_free(&d);

    assert_int_equal(check_chain(t,
                                 "[policy]\n"
                                 "chain = x\n"
                                 "[plugin \"x\"]\n"
                                 "plugin = nosuch\n", /* 4 */
                                 &d, conf, sizeof(conf)),
                     1);
    snprintf(want, sizeof(want),
             "%s/p.ini:4: [plugin \"x\"]: no policy plugin named \"nosuch\" "
             "in ",
             conf);
    assert_memory_equal(d.lines[0], want, strlen(want));
    fg_diag_free(&d);

    /* a [plugin] section outside the chain is a service's: its keys are
     * checked; a policy plugin's must be in the chain; services may not
     * share a route, and run on the host only */
    assert_int_equal(check_chain(t,
                                 "[policy]\n"
                                 "chain = authn\n"
                                 "[plugin \"authn\"]\n"
                                 "url = x\n"
                                 "[plugin \"store\"]\n" /* 5 */
                                 "plugin = svc\n"
                                 "url = y\n"
                                 "[plugin \"loose\"]\n" /* 8 */
                                 "plugin = authn\n"
                                 "url = z\n"
                                 "[plugin \"svc2\"]\n" /* 11 */
                                 "url = w\n"
                                 "[plugin \"svc\"]\n" /* 13 */
                                 "colour = red\n",
                                 &d, conf, sizeof(conf)),
                     6);
    snprintf(want, sizeof(want),
             "%s/p.ini:8: [plugin \"loose\"] is not in the [policy] chain",
             conf);
    assert_string_equal(d.lines[0], want);
    snprintf(want, sizeof(want),
             "%s/p.ini:11: [plugin \"svc2\"]: /fx/deeper/ is served by "
             "[plugin \"store\"] already",
             conf);
    assert_string_equal(d.lines[1], want);
    snprintf(want, sizeof(want),
             "%s/p.ini:13: [plugin \"svc\"]: /fx/ is served by [plugin "
             "\"store\"] already",
             conf);
    assert_string_equal(d.lines[2], want);
    snprintf(want, sizeof(want),
             "%s/p.ini:13: [plugin \"svc\"]: /fx/ is served by [plugin "
             "\"svc2\"] already",
             conf);
    assert_string_equal(d.lines[3], want);
    snprintf(want, sizeof(want),
             "%s/p.ini:14: unknown key \"colour\" in [plugin \"svc\"]", conf);
    assert_string_equal(d.lines[4], want);
    fg_diag_free(&d);

    assert_int_equal(check_chain(t,
                                 "[gateway]\n"
                                 "role = member\n"
                                 "[policy]\n"
                                 "chain = authn\n"
                                 "[plugin \"authn\"]\n"
                                 "url = x\n"
                                 "[plugin \"svc\"]\n" /* 7 */
                                 "url = y\n"
                                 "[member \"m\"]\n"
                                 "driver = member\n"
                                 "url = z\n",
                                 &d, conf, sizeof(conf)),
                     1);
    snprintf(want, sizeof(want),
             "%s/p.ini:7: [plugin \"svc\"]: the service \"svc\" runs on the "
             "host only (role = member)",
             conf);
    assert_string_equal(d.lines[0], want);
    fg_diag_free(&d);

    /* no [policy] at all: nothing would authenticate */
    assert_int_equal(check_chain(t, "[gateway]\n", &d, conf, sizeof(conf)), 1);
    snprintf(want, sizeof(want), "%s: no [policy] section", conf);
    assert_memory_equal(d.lines[0], want, strlen(want));
    fg_diag_free(&d);
}

/* Loads "good_policy", checks TEXT against it and keeps what it names;
 * returns the kept plugins' names, space-separated, in BUF. */
static const char *kept_for(struct tmp *t, const char *text, char *buf,
                            size_t len)
{
    char dir[512], conf[256];
    struct fg_plugin_set set = {0};
    struct fg_diag d = {0};
    fixture_dir(dir, sizeof(dir), "good_policy");
    assert_int_equal(fg_plugins_load_dir(dir, &set, &d), 0);
    assert_int_equal(set.n, 4);
    snprintf(conf, sizeof(conf), "%s/conf", t->root);
    mkdir(conf, 0700);
    write_file(conf, "p.ini", text);
    struct fg_config *cfg = fg_config_load(conf, &d);
    assert_non_null(cfg);
    int problems = fg_config_check_members(cfg, &set, &d) +
                   fg_config_check_plugins(cfg, &set, &d);
    if (problems)
        dump(&d);
    assert_int_equal(problems, 0);
    fg_plugins_keep_used(&set, cfg);
    buf[0] = '\0';
    for (size_t i = 0; i < set.n; i++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? " " : "",
                 set.v[i]->desc->name);
    /* what is kept still resolves */
    for (size_t i = 0; i < cfg->n_chain; i++)
        assert_non_null(fg_config_plugin_of(cfg->chain[i], &set));
    fg_config_free(cfg);
    fg_plugins_unload(&set);
    fg_diag_free(&d);
    return buf;
}

static void test_keep_used(void **state)
{
    struct tmp *t = *state;
    char names[256];
    /* a driver by a member, a policy plugin by the chain, a service by
     * its section (under another name); svc2 is named by nothing */
    assert_string_equal(kept_for(t,
                                 "[policy]\n"
                                 "chain = a\n"
                                 "[plugin \"a\"]\n"
                                 "plugin = authn\n"
                                 "url = x\n"
                                 "[plugin \"store\"]\n"
                                 "plugin = svc\n"
                                 "url = y\n"
                                 "[member \"m\"]\n"
                                 "driver = member\n"
                                 "url = z\n",
                                 names, sizeof(names)),
                        "authn member svc");
    assert_string_equal(kept_for(t,
                                 "[policy]\n"
                                 "chain = authn\n"
                                 "[plugin \"authn\"]\n"
                                 "url = x\n",
                                 names, sizeof(names)),
                        "authn");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_plugins),
        cmocka_unit_test(test_duplicate_name),
        cmocka_unit_test(test_abi_refusals),
        cmocka_unit_test(test_descriptor_refusals),
        cmocka_unit_test(test_policy_refusals),
        cmocka_unit_test(test_service_refusals),
        cmocka_unit_test(test_signature_refusals),
        cmocka_unit_test_setup_teardown(test_not_a_shared_object, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reload_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_empty_dir, setup,
                                        teardown),
        cmocka_unit_test(test_default_dir),
        cmocka_unit_test_setup_teardown(test_check_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_plugins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_used, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
