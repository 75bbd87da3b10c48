/* Unit tests of the app store's repository store (versions on disk,
 * atomic records, blobs by hash and their collection, reload) and of
 * index.yaml (Helm's shape, order, digests, quoting, the cache). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <fedgate/yaml.h>

#include "appstore.h"
#include "tgz.h"

static const struct appstore_limits limits = {APPSTORE_MAX_CHART_BYTES,
                                              APPSTORE_MAX_FILE_BYTES,
                                              APPSTORE_MAX_EXPANDED_BYTES};
static const char *const repos[] = {"main", "team"};

struct fx {
    char dir[64];
    struct appstore_store *s;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/appstore-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char err[256];
    f->s = appstore_store_open(f->dir, repos, 2, NULL, err, sizeof err);
    assert_non_null(f->s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    appstore_store_free(f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void reopen(struct fx *f)
{
    char err[256];
    appstore_store_free(f->s);
    f->s = appstore_store_open(f->dir, repos, 2, NULL, err, sizeof err);
    if (!f->s)
        fail_msg("%s", err);
}

/* Pushes chart NAME at VERSION (with APP as appVersion) into REPO. */
static int push(struct fx *f, const char *repo, const char *name,
                const char *version, const char *app, int force,
                char digest[65])
{
    char yaml[256], err[256];
    snprintf(yaml, sizeof yaml,
             "apiVersion: v2\nname: %s\nversion: %s\nappVersion: %s\n"
             "description: \"say \\\"hi\\\"\\n# not a comment\"\n",
             name, version, app);
    size_t len;
    unsigned char *a = tgz_chart(name, yaml, &len);
    cJSON *md = appstore_chart_read(a, len, &limits, err, sizeof err);
    assert_non_null(md);
    if (digest)
        appstore_sha256_hex(a, len, digest);
    int rc = appstore_store_put(f->s, appstore_store_repo(f->s, repo), a, len,
                                md, NULL, 0, force, err, sizeof err);
    free(a);
    return rc;
}

static int count_blobs(struct fx *f)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "test $(ls %s/appstore/blobs | wc -l) -eq",
             f->dir);
    for (int n = 0; n < 10; n++) {
        char c[200];
        snprintf(c, sizeof c, "%s %d", cmd, n);
        if (system(c) == 0)
            return n;
    }
    return -1;
}

static void test_put_find_delete(void **state)
{
    struct fx *f = *state;
    char d1[65], d2[65];
    assert_int_equal(push(f, "main", "web", "1.0.0", "1", 0, d1), 0);
    assert_int_equal(push(f, "main", "web", "1.0.0", "2", 0, NULL),
                     APPSTORE_EXISTS);
    struct appstore_repo *r = appstore_store_repo(f->s, "main");
    assert_null(appstore_store_repo(f->s, "other"));
    struct appstore_version *v = appstore_store_find(r, "web", "1.0.0");
    assert_non_null(v);
    assert_string_equal(v->digest, d1);
    assert_int_equal(count_blobs(f), 1);
    /* force replaces it, and the old blob goes */
    assert_int_equal(push(f, "main", "web", "1.0.0", "2", 1, d2), 0);
    assert_string_not_equal(d1, d2);
    v = appstore_store_find(r, "web", "1.0.0");
    assert_string_equal(v->digest, d2);
    assert_int_equal(r->n, 1);
    assert_int_equal(count_blobs(f), 1);
    /* the same chart in two repositories: one blob */
    assert_int_equal(push(f, "team", "web", "1.0.0", "2", 0, NULL), 0);
    assert_int_equal(count_blobs(f), 1);
    /* provenance, found by file name */
    char err[256];
    assert_int_equal(
        appstore_store_put_prov(f->s, r, v, "sig", 3, err, sizeof err), 0);
    assert_int_equal(count_blobs(f), 2);
    int prov;
    assert_ptr_equal(appstore_store_find_file(r, "web-1.0.0.tgz", &prov), v);
    assert_int_equal(prov, 0);
    assert_ptr_equal(appstore_store_find_file(r, "web-1.0.0.tgz.prov", &prov),
                     v);
    assert_int_equal(prov, 1);
    assert_null(appstore_store_find_file(r, "web-1.0.0.tar", &prov));
    assert_null(appstore_store_find_file(r, "web-1.0.1.tgz", &prov));
    assert_null(appstore_store_find_file(r, "web.tgz", &prov));
    size_t len;
    char *blob = appstore_store_blob(f->s, v->prov, &len, err, sizeof err);
    assert_non_null(blob);
    assert_memory_equal(blob, "sig", 3);
    free(blob);
    /* delete: the prov blob goes, the chart blob stays for "team" */
    assert_int_equal(appstore_store_delete(f->s, r, v, err, sizeof err), 0);
    assert_int_equal(r->n, 0);
    assert_int_equal(count_blobs(f), 1);
    r = appstore_store_repo(f->s, "team");
    assert_int_equal(
        appstore_store_delete(f->s, r, r->versions[0], err, sizeof err), 0);
    assert_int_equal(count_blobs(f), 0);
}

static void test_reload(void **state)
{
    struct fx *f = *state;
    char d[65];
    assert_int_equal(push(f, "main", "web", "1.0.0", "1", 0, d), 0);
    assert_int_equal(push(f, "main", "web", "2.0.0-rc.1", "1", 0, NULL), 0);
    assert_int_equal(push(f, "main", "api", "0.1.0", "1", 0, NULL), 0);
    char created[40];
    strcpy(created, appstore_store_find(appstore_store_repo(f->s, "main"),
                                        "web", "1.0.0")
                        ->created);
    /* what a crash can leave: a temporary file, an unused blob; and a
     * record that is not one */
    char p[256];
    snprintf(p, sizeof p, "%s/appstore/blobs/.tmp-abc", f->dir);
    fclose(fopen(p, "w"));
    snprintf(p, sizeof p, "%s/appstore/blobs/%064d", f->dir, 0);
    fclose(fopen(p, "w"));
    snprintf(p, sizeof p, "%s/appstore/repos/main/web/9.9.9.json", f->dir);
    FILE *bad = fopen(p, "w");
    fputs("{\"name\":", bad);
    fclose(bad);
    reopen(f);
    struct appstore_repo *r = appstore_store_repo(f->s, "main");
    assert_int_equal(r->n, 3);
    /* name order, newest first */
    assert_string_equal(r->versions[0]->name, "api");
    assert_string_equal(r->versions[1]->version, "2.0.0-rc.1");
    assert_string_equal(r->versions[2]->version, "1.0.0");
    assert_string_equal(r->versions[2]->digest, d);
    assert_string_equal(r->versions[2]->created, created);
    assert_int_equal(count_blobs(f), 3);
    assert_int_equal(access(p, F_OK), 0); /* left for its owner to see */
}

/* The value of KEY in map M, which must be a scalar. */
static const char *scalar(const struct fg_yaml_node *m, const char *key)
{
    const struct fg_yaml_node *n = fg_yaml_get(m, key);
    assert_non_null(n);
    assert_int_equal(n->type, FG_YAML_SCALAR);
    return n->text;
}

static void test_index(void **state)
{
    struct fx *f = *state;
    struct appstore_repo *r = appstore_store_repo(f->s, "main");
    size_t len;
    const char *y = appstore_index(r, "/helm/main", &len);
    assert_non_null(strstr(y, "entries: {}\n"));
    char d10[65], d9[65];
    assert_int_equal(push(f, "main", "web", "1.10.0", "1.10", 0, d10), 0);
    assert_int_equal(push(f, "main", "web", "1.9.0", "1.9", 0, d9), 0);
    assert_int_equal(push(f, "main", "web", "1.10.0-rc.1", "true", 0, NULL), 0);
    assert_int_equal(push(f, "main", "api", "0.1.0", "0.1", 0, NULL), 0);
    y = appstore_index(r, "/helm/main", &len);
    assert_int_equal(strlen(y), len);
    struct fg_yaml_node **docs;
    char err[256];
    long nd =
        fg_yaml_parse(y, len, "index.yaml", 32, 100000, &docs, err, sizeof err);
    if (nd != 1)
        fail_msg("%s\n%s", err, y);
    const struct fg_yaml_node *root = docs[0];
    assert_string_equal(scalar(root, "apiVersion"), "v1");
    assert_non_null(scalar(root, "generated"));
    assert_string_equal(scalar(fg_yaml_get(root, "serverInfo"), "contextPath"),
                        "/helm/main");
    const struct fg_yaml_node *entries = fg_yaml_get(root, "entries");
    assert_int_equal(entries->n, 4);
    assert_string_equal(entries->items[0]->text, "api");
    const struct fg_yaml_node *web = fg_yaml_get(entries, "web");
    assert_int_equal(web->n, 3);
    const char *order[] = {"1.10.0", "1.10.0-rc.1", "1.9.0"};
    for (size_t i = 0; i < 3; i++) {
        const struct fg_yaml_node *e = web->items[i];
        assert_string_equal(scalar(e, "version"), order[i]);
        assert_int_equal(fg_yaml_get(e, "version")->plain, 0);
        assert_int_equal(fg_yaml_get(e, "appVersion")->plain, 0);
        assert_string_equal(scalar(e, "name"), "web");
        assert_string_equal(scalar(e, "apiVersion"), "v2");
        assert_string_equal(scalar(e, "description"),
                            "say \"hi\" # not a comment");
        const struct fg_yaml_node *urls = fg_yaml_get(e, "urls");
        assert_int_equal(urls->type, FG_YAML_SEQ);
        char want[64];
        snprintf(want, sizeof want, "charts/web-%s.tgz", order[i]);
        assert_string_equal(urls->items[0]->text, want);
        /* Helm's ChartVersion fields and no other */
        for (size_t k = 0; k < e->n; k += 2) {
            static const char *known =
                " apiVersion appVersion created description digest name "
                "urls version ";
            char key[64];
            snprintf(key, sizeof key, " %s ", e->items[k]->text);
            if (!strstr(known, key))
                fail_msg("unexpected field %s", key);
            /* sorted as sigs.k8s.io/yaml writes them */
            if (k >= 2)
                assert_true(strcmp(e->items[k - 2]->text, e->items[k]->text) <
                            0);
        }
    }
    assert_string_equal(scalar(web->items[0], "appVersion"), "1.10");
    assert_string_equal(scalar(web->items[0], "digest"), d10);
    assert_string_equal(scalar(web->items[2], "digest"), d9);
    assert_string_equal(scalar(web->items[1], "appVersion"), "true");
    fg_yaml_free_docs(docs, 1);
    /* cached until a change */
    const char *again = appstore_index(r, "/helm/main", &len);
    assert_ptr_equal(again, y);
    assert_int_equal(push(f, "main", "web", "2.0.0", "2", 0, NULL), 0);
    assert_null(r->index);
    again = appstore_index(r, "/helm/main", &len);
    assert_non_null(strstr(again, "\"2.0.0\""));
}

/* Text that would break out of a scalar stays in it. */
static void test_index_quoting(void **state)
{
    struct fx *f = *state;
    char err[256];
    static const char yaml[] =
        "apiVersion: v2\nname: q\nversion: 1.0.0\n"
        "description: \"a\\\\b \\u0085 \\u2028 \\ufeff: {x} [y] &z *w !t "
        "'q' %p @a `b` |c >d\"\n"
        "annotations:\n  \"k\\\"ey\": \"v\\\\\"\n  \"- a\": \"#x\"\n"
        "maintainers:\n- name: \"N: x\"\n  url: \"http://x/?a=1&b=2\"\n";
    cJSON *md = appstore_chart_metadata(yaml, sizeof yaml - 1, err, sizeof err);
    assert_non_null(md);
    size_t len;
    unsigned char *a = tgz_chart("q", yaml, &len);
    struct appstore_repo *r = appstore_store_repo(f->s, "main");
    assert_int_equal(
        appstore_store_put(f->s, r, a, len, md, NULL, 0, 0, err, sizeof err),
        0);
    free(a);
    const char *y = appstore_index(r, "/helm/main", &len);
    struct fg_yaml_node **docs;
    assert_int_equal(
        fg_yaml_parse(y, len, "index.yaml", 32, 100000, &docs, err, sizeof err),
        1);
    const struct fg_yaml_node *e =
        fg_yaml_get(fg_yaml_get(docs[0], "entries"), "q")->items[0];
    assert_string_equal(scalar(e, "description"),
                        "a\\b \xc2\x85 \xe2\x80\xa8 \xef\xbb\xbf: {x} [y] &z "
                        "*w !t 'q' %p @a `b` |c >d");
    const struct fg_yaml_node *ann = fg_yaml_get(e, "annotations");
    assert_string_equal(scalar(ann, "k\"ey"), "v\\");
    assert_string_equal(scalar(ann, "- a"), "#x");
    const struct fg_yaml_node *m = fg_yaml_get(e, "maintainers")->items[0];
    assert_string_equal(scalar(m, "name"), "N: x");
    assert_string_equal(scalar(m, "url"), "http://x/?a=1&b=2");
    fg_yaml_free_docs(docs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_find_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_quoting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
