/* Tests of the merge of cross-cluster lists (core/request/fanout_merge.c):
 * order, the cluster annotation, the Cluster column of Tables, the list's
 * metadata and failedClusters, and the answers that are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "request/fanout_merge.h"

static void add_ok(struct fg_fanout_merge *m, const char *cluster,
                   const char *body, const char *want_cont)
{
    char *cont = NULL;
    struct fg_error err = {{0}};
    if (fg_fanout_merge_add(m, cluster, body, strlen(body), &cont, &err) != 0)
        fail_msg("%s: %s", cluster, err.msg);
    if (want_cont)
        assert_string_equal(cont, want_cont);
    else
        assert_null(cont);
    free(cont);
}

static cJSON *finish(struct fg_fanout_merge *m, const char *cont)
{
    size_t len = 0;
    char *json = fg_fanout_merge_finish(m, cont, &len);
    assert_non_null(json);
    assert_int_equal(len, strlen(json));
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    free(json);
    return doc;
}

static const char *str(const cJSON *o, const char *a, const char *b,
                       const char *c)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    if (c)
        x = cJSON_GetObjectItemCaseSensitive(x, c);
    assert_true(cJSON_IsString(x));
    return x->valuestring;
}

#define POD(ns, name)                                                          \
    "{\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" name "\"}}"

/* Items come out by cluster, namespace, name, whatever order the members
 * answered in, each annotated with its cluster (annotations added to,
 * made, or replaced when they are no object). */
static void test_lists(void **state)
{
    (void)state;
    struct fg_fanout_merge *m = fg_fanout_merge_new();
    add_ok(m, "zeta",
           "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{"
           "\"resourceVersion\":\"9\",\"continue\":\"abc\"},\"items\":[" POD(
               "b", "p1") "," POD("a", "p2") "]}",
           "abc");
    add_ok(m, "alpha",
           "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},"
           "\"items\":[{\"metadata\":{\"namespace\":\"a\",\"name\":\"z\","
           "\"annotations\":{\"k\":\"v\",\"fedgate.io/cluster\":\"forged\"}}},"
           "{\"metadata\":{\"namespace\":\"a\",\"name\":\"b\",\"annotations\":"
           "[1]}},{\"spec\":{}}]}",
           NULL);
    add_ok(m, "mid",
           "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},"
           "\"items\":null}",
           NULL);
    assert_int_equal(fg_fanout_merge_answers(m), 3);
    assert_int_equal(fg_fanout_merge_items(m), 5);
    assert_int_equal(fg_fanout_merge_fail(m, "down", "unreachable: refused"),
                     0);
    cJSON *doc = finish(m, "tok");
    assert_string_equal(str(doc, "kind", NULL, NULL), "PodList");
    assert_string_equal(str(doc, "metadata", "resourceVersion", NULL), "");
    assert_string_equal(str(doc, "metadata", "continue", NULL), "tok");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
    static const char *const want[][3] = {
        {"alpha", "", ""},   {"alpha", "a", "b"}, {"alpha", "a", "z"},
        {"zeta", "a", "p2"}, {"zeta", "b", "p1"},
    };
    assert_int_equal(cJSON_GetArraySize(items), 5);
    for (int i = 0; i < 5; i++) {
        const cJSON *it = cJSON_GetArrayItem(items, i);
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(it, "metadata");
        assert_string_equal(
            str(meta, "annotations", FG_FANOUT_CLUSTER_ANNOTATION, NULL),
            want[i][0]);
        if (*want[i][2]) {
            assert_string_equal(str(meta, "namespace", NULL, NULL), want[i][1]);
            assert_string_equal(str(meta, "name", NULL, NULL), want[i][2]);
        }
    }
    /* what else an item's annotations held stays */
    assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetArrayItem(items, 2), "metadata"),
                            "annotations", "k", NULL),
                        "v");
    const cJSON *failed =
        cJSON_GetObjectItemCaseSensitive(doc, "failedClusters");
    assert_int_equal(cJSON_GetArraySize(failed), 1);
    assert_string_equal(
        str(cJSON_GetArrayItem(failed, 0), "cluster", NULL, NULL), "down");
    cJSON_Delete(doc);
    fg_fanout_merge_free(m);
}

/* Tables gain the Cluster column first, a cell per row and the annotation
 * on each row's object. */
static void test_tables(void **state)
{
    (void)state;
    static const char table[] =
        "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":"
        "{},\"columnDefinitions\":[{\"name\":\"Name\",\"type\":\"string\"}],"
        "\"rows\":[{\"cells\":[\"%s\"],\"object\":{\"kind\":"
        "\"PartialObjectMetadata\",\"metadata\":{\"namespace\":\"ns\","
        "\"name\":\"%s\"}}}]}";
    char a[512], b[512];
    snprintf(a, sizeof(a), table, "p2", "p2");
    snprintf(b, sizeof(b), table, "p1", "p1");
    struct fg_fanout_merge *m = fg_fanout_merge_new();
    add_ok(m, "edge", a, NULL);
    add_ok(m, "demo", b, NULL);
    cJSON *doc = finish(m, NULL);
    assert_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "continue"));
    assert_null(cJSON_GetObjectItemCaseSensitive(doc, "failedClusters"));
    const cJSON *cols =
        cJSON_GetObjectItemCaseSensitive(doc, "columnDefinitions");
    assert_int_equal(cJSON_GetArraySize(cols), 2);
    assert_string_equal(str(cJSON_GetArrayItem(cols, 0), "name", NULL, NULL),
                        "Cluster");
    assert_string_equal(str(cJSON_GetArrayItem(cols, 1), "name", NULL, NULL),
                        "Name");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 2);
    static const char *const want[][2] = {{"demo", "p1"}, {"edge", "p2"}};
    for (int i = 0; i < 2; i++) {
        const cJSON *row = cJSON_GetArrayItem(rows, i);
        const cJSON *cells = cJSON_GetObjectItemCaseSensitive(row, "cells");
        assert_string_equal(cJSON_GetArrayItem(cells, 0)->valuestring,
                            want[i][0]);
        assert_string_equal(cJSON_GetArrayItem(cells, 1)->valuestring,
                            want[i][1]);
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(row, "object"), "metadata");
        assert_string_equal(
            str(meta, "annotations", FG_FANOUT_CLUSTER_ANNOTATION, NULL),
            want[i][0]);
    }
    cJSON_Delete(doc);
    fg_fanout_merge_free(m);
}

/* What cannot be merged is refused with a reason, and the merge goes on
 * with what can. */
static void test_refused(void **state)
{
    (void)state;
    char deep[600];
    memset(deep, '[', 300);
    memset(deep + 300, ']', 299);
    deep[599] = '\0';
    static const char list[] =
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}";
    const char *const bad[] = {
        "",
        "not json",
        "[1,2]",
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\"}",
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":{}}",
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[1]}",
        "{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\",\"items\":[]}",
        "{\"kind\":\"PodList\",\"apiVersion\":\"v2\",\"items\":[]}",
        "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"rows\":[]}",
        "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
        "\"columnDefinitions\":[],\"rows\":[{\"object\":{}}]}",
        /* merged whole or not at all: a good item before a bad one */
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[{"
        "\"metadata\":{\"name\":\"a\"}},1]}",
        /* two of a key the merge reads or writes */
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[],"
        "\"items\":[]}",
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[{"
        "\"metadata\":{},\"metadata\":{}}]}",
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[{"
        "\"metadata\":{\"annotations\":{},\"annotations\":{}}}]}",
        deep,
    };
    struct fg_fanout_merge *m = fg_fanout_merge_new();
    add_ok(m, "first", list, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *cont = NULL;
        struct fg_error err = {{0}};
        if (fg_fanout_merge_add(m, "other", bad[i], strlen(bad[i]), &cont,
                                &err) != -1)
            fail_msg("merged: %.80s", bad[i]);
        assert_true(err.msg[0] != '\0');
        assert_null(cont);
    }
    assert_int_equal(fg_fanout_merge_answers(m), 1);
    assert_int_equal(fg_fanout_merge_items(m), 0);
    fg_fanout_merge_free(m);

    /* no answer: nothing to finish */
    m = fg_fanout_merge_new();
    size_t len;
    assert_null(fg_fanout_merge_finish(m, NULL, &len));
    fg_fanout_merge_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
