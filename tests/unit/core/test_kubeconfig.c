/* Tests of the admin token and kubeconfig writer (core/config/kubeconfig.c);
 * the kubeconfig is also read back by kubectl when it is installed. */
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

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "config/kubeconfig.h"

#define CA_PEM                                                                 \
    "-----BEGIN CERTIFICATE-----\n"                                            \
    "MIIBdzCCAR2gAwIBAgIRAJ5v\n"                                               \
    "-----END CERTIFICATE-----\n"

struct fixture {
    char dir[64];
    char state[96];
    char ca[96];
    char kc[96];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/fg-test-kubeconfig-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
    snprintf(f->ca, sizeof(f->ca), "%s/ca.crt", f->dir);
    snprintf(f->kc, sizeof(f->kc), "%s/kubeconfig", f->dir);
    FILE *fp = fopen(f->ca, "w");
    fputs(CA_PEM, fp);
    fclose(fp);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static unsigned mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
}

static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_token_created_and_reused(void **state)
{
    struct fixture *f = *state;
    char tok[65], again[65];
    struct fg_error err = {{0}};
    assert_int_equal(fg_admin_token_ensure(f->state, tok, &err), 0);
    assert_int_equal(strlen(tok), 64);
    assert_int_equal(strspn(tok, "0123456789abcdef"), 64);

    char path[128];
    snprintf(path, sizeof(path), "%s/admin.token", f->state);
    assert_int_equal(mode_of(f->state), 0700);
    assert_int_equal(mode_of(path), 0600);
    char *text = read_text(path);
    assert_int_equal(strlen(text), 65);
    assert_memory_equal(text, tok, 64);
    assert_int_equal(text[64], '\n');

    assert_int_equal(fg_admin_token_ensure(f->state, again, &err), 0);
    assert_string_equal(tok, again);

    /* Two fresh state directories get different tokens. */
    char other[128];
    snprintf(other, sizeof(other), "%s/other", f->dir);
    assert_int_equal(fg_admin_token_ensure(other, again, &err), 0);
    assert_string_not_equal(tok, again);

    /* Without the newline it is still the token. */
    char bare[65];
    memcpy(bare, tok, 65);
    write_text(path, bare, 0600);
    assert_int_equal(fg_admin_token_ensure(f->state, again, &err), 0);
    assert_string_equal(tok, again);
}

static void test_token_refused(void **state)
{
    struct fixture *f = *state;
    char tok[65];
    struct fg_error err = {{0}};
    assert_int_equal(fg_admin_token_ensure(f->state, tok, &err), 0);
    char path[128];
    snprintf(path, sizeof(path), "%s/admin.token", f->state);

    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(fg_admin_token_ensure(f->state, tok, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "0640"));
    assert_string_equal(tok, "");
    assert_int_equal(chmod(path, 0604), 0);
    assert_int_equal(fg_admin_token_ensure(f->state, tok, &err), -1);

    static const char *const bad[] = {
        "",
        "\n",
        "abc\n",
        /* upper case */
        "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n",
        /* 63 and 65 digits */
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0\n",
        /* two newlines, a space */
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n\n",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_text(path, bad[i], 0600);
        err.msg[0] = '\0';
        assert_int_equal(fg_admin_token_ensure(f->state, tok, &err), -1);
        assert_non_null(strstr(err.msg, "64 lower-case hex"));
    }
    /* Far too long a file is refused too. */
    char big[4096];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_text(path, big, 0600);
    assert_int_equal(fg_admin_token_ensure(f->state, tok, &err), -1);
}

static const char *str_at(cJSON *obj, const char *a, const char *b)
{
    cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    assert_true(cJSON_IsString(x));
    return x->valuestring;
}

static void test_kubeconfig_content(void **state)
{
    struct fixture *f = *state;
    const char *members[] = {"host", "demo", "edge-1"};
    struct fg_error err = {{0}};
    const char *token =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    if (fg_kubeconfig_write(f->kc, "https://127.0.0.1:6443/", f->ca, token,
                            members, 3, "demo", 0, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(mode_of(f->kc), 0600);

    cJSON *root = cJSON_Parse(read_text(f->kc));
    assert_non_null(root);
    assert_string_equal(str_at(root, "apiVersion", NULL), "v1");
    assert_string_equal(str_at(root, "kind", NULL), "Config");
    assert_string_equal(str_at(root, "current-context", NULL), "demo");

    cJSON *clusters = cJSON_GetObjectItemCaseSensitive(root, "clusters");
    cJSON *contexts = cJSON_GetObjectItemCaseSensitive(root, "contexts");
    cJSON *users = cJSON_GetObjectItemCaseSensitive(root, "users");
    assert_int_equal(cJSON_GetArraySize(clusters), 4);
    assert_int_equal(cJSON_GetArraySize(contexts), 4);
    assert_int_equal(cJSON_GetArraySize(users), 1);

    cJSON *u = cJSON_GetArrayItem(users, 0);
    assert_string_equal(str_at(u, "name", NULL), "fedgate-admin");
    assert_string_equal(str_at(u, "user", "token"), token);

    unsigned char pem[256];
    for (int i = 0; i < 3; i++) {
        cJSON *c = cJSON_GetArrayItem(clusters, i);
        cJSON *x = cJSON_GetArrayItem(contexts, i);
        char want[128];
        snprintf(want, sizeof(want), "https://127.0.0.1:6443/clusters/%s",
                 members[i]);
        assert_string_equal(str_at(c, "name", NULL), members[i]);
        assert_string_equal(str_at(c, "cluster", "server"), want);
        const char *b64 = str_at(c, "cluster", "certificate-authority-data");
        int n =
            EVP_DecodeBlock(pem, (const unsigned char *)b64, (int)strlen(b64));
        assert_true(n >= (int)strlen(CA_PEM));
        assert_memory_equal(pem, CA_PEM, strlen(CA_PEM));
        assert_string_equal(str_at(x, "name", NULL), members[i]);
        assert_string_equal(str_at(x, "context", "cluster"), members[i]);
        assert_string_equal(str_at(x, "context", "user"), "fedgate-admin");
    }
    /* the context for every member at once, named like no member */
    cJSON *all = cJSON_GetArrayItem(contexts, 3);
    assert_string_equal(str_at(all, "name", NULL), "_all");
    assert_string_equal(str_at(all, "context", "cluster"), "_all");
    assert_string_equal(
        str_at(cJSON_GetArrayItem(clusters, 3), "cluster", "server"),
        "https://127.0.0.1:6443/clusters/*");
    cJSON_Delete(root);

    /* Rewriting replaces the file; NULL current means the first member. */
    if (fg_kubeconfig_write(f->kc, "https://gw.example.com", f->ca, token,
                            members + 1, 2, NULL, 0, &err) != 0)
        fail_msg("%s", err.msg);
    root = cJSON_Parse(read_text(f->kc));
    assert_string_equal(str_at(root, "current-context", NULL), "demo");
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "contexts")),
        3);
    assert_string_equal(
        str_at(cJSON_GetArrayItem(
                   cJSON_GetObjectItemCaseSensitive(root, "clusters"), 1),
               "cluster", "server"),
        "https://gw.example.com/clusters/edge-1");
    cJSON_Delete(root);
    assert_int_equal(mode_of(f->kc), 0600);
}

static void test_kubeconfig_refused(void **state)
{
    struct fixture *f = *state;
    struct fg_error err;
    const char *ok[] = {"demo"};
    const char *bad_name[] = {"demo", "Bad"};
    const char *slashy[] = {"a/b"};
    assert_int_equal(fg_kubeconfig_write(f->kc, "http://127.0.0.1:6443", f->ca,
                                         "t", ok, 1, NULL, 0, &err),
                     -1);
    assert_int_equal(fg_kubeconfig_write(f->kc, "https://x", f->ca, "", ok, 1,
                                         NULL, 0, &err),
                     -1);
    assert_int_equal(fg_kubeconfig_write(f->kc, "https://x", f->ca, "t",
                                         bad_name, 2, NULL, 0, &err),
                     -1);
    assert_non_null(strstr(err.msg, "Bad"));
    assert_int_equal(fg_kubeconfig_write(f->kc, "https://x", f->ca, "t", slashy,
                                         1, NULL, 0, &err),
                     -1);
    assert_int_equal(fg_kubeconfig_write(f->kc, "https://x", f->ca, "t", ok, 1,
                                         "other", 0, &err),
                     -1);
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/missing.crt", f->dir);
    assert_int_equal(fg_kubeconfig_write(f->kc, "https://x", missing, "t", ok,
                                         1, NULL, 0, &err),
                     -1);
    assert_non_null(strstr(err.msg, missing));
    assert_int_equal(access(f->kc, F_OK), -1);
}

/* A user's contexts default to the namespaces given beside the members;
 * a name that is no namespace is refused. */
static void test_context_namespaces(void **state)
{
    struct fixture *f = *state;
    const char *members[] = {"host", "demo", "edge"};
    const char *ns[] = {NULL, "shop", "kube-system"};
    const char *bad[][3] = {
        {NULL, "Shop", NULL}, {"", NULL, NULL}, {NULL, NULL, "a.b"}};
    struct fg_kubeconfig_user user = {
        .name = "nia", .token = "t", .namespaces = ns};
    struct fg_error err = {{0}};
    char *text = fg_kubeconfig_text("kc", "https://x", f->ca, &user, members, 3,
                                    NULL, &err);
    if (!text)
        fail_msg("%s", err.msg);
    cJSON *root = cJSON_Parse(text);
    cJSON *contexts = cJSON_GetObjectItemCaseSensitive(root, "contexts");
    for (int i = 0; i < 3; i++) {
        cJSON *x = cJSON_GetArrayItem(contexts, i);
        if (ns[i])
            assert_string_equal(str_at(x, "context", "namespace"), ns[i]);
        else
            assert_null(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(x, "context"), "namespace"));
    }
    cJSON_Delete(root);
    free(text);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        user.namespaces = bad[i];
        assert_null(fg_kubeconfig_text("kc", "https://x", f->ca, &user, members,
                                       3, NULL, &err));
        assert_non_null(strstr(err.msg, "invalid namespace"));
    }
}

/* Runs kubectl on the kubeconfig and returns its output (static). */
static const char *kubectl(const char *kc, const char *jsonpath)
{
    static char out[4096];
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "kubectl config view --raw --kubeconfig '%s' -o "
             "jsonpath='%s' 2>&1",
             kc, jsonpath);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    return out;
}

static void test_kubectl_reads_it(void **state)
{
    struct fixture *f = *state;
    if (system("command -v kubectl >/dev/null 2>&1") != 0)
        skip();
    const char *members[] = {"host", "demo"};
    struct fg_error err;
    char tok[65];
    assert_int_equal(fg_admin_token_ensure(f->state, tok, &err), 0);
    assert_int_equal(fg_kubeconfig_write(f->kc, "https://127.0.0.1:6443", f->ca,
                                         tok, members, 2, "demo", 0, &err),
                     0);
    assert_string_equal(kubectl(f->kc, "{.current-context}"), "demo");
    assert_string_equal(
        kubectl(f->kc, "{.clusters[?(@.name==\"host\")].cluster.server}"),
        "https://127.0.0.1:6443/clusters/host");
    assert_string_equal(
        kubectl(f->kc, "{.contexts[?(@.name==\"demo\")].context.user}"),
        "fedgate-admin");
    assert_string_equal(kubectl(f->kc, "{.users[0].user.token}"), tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token_created_and_reused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig_content, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kubectl_reads_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_namespaces, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
