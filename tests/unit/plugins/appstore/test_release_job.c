/* Tests of release_job.c: the objects a Helm chart release's Job needs in
 * the member, as they are applied there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/driver.h>
#include <fedgate/util.h>

#include "release_job.h"

static const char *const groups[] = {"app-operators", "system:authenticated"};
static const struct fg_identity who = {
    .user = "ops", .groups = groups, .n_groups = 2};

static struct appstore_job_in input(int uninstall)
{
    return (struct appstore_job_in){.name = "web",
                                    .ns = "shop",
                                    .revision = 3,
                                    .uninstall = uninstall,
                                    .chart = "nginx",
                                    .who = &who,
                                    .image = APPSTORE_HELM_IMAGE,
                                    .deadline_s = 600,
                                    .ttl_s = 3600};
}

static const char *str(const cJSON *o, const char *path)
{
    const char *s = cJSON_GetStringValue(fg_json_path(o, path));
    return s ? s : "";
}

/* The entry of OUT whose object is KIND. */
static const cJSON *entry(const cJSON *out, const char *kind)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, out)
    {
        if (strcmp(str(e, "object.kind"), kind) == 0)
            return e;
    }
    return NULL;
}

/* The strings of array A joined by spaces into BUF. */
static const char *joined(const cJSON *a, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    const cJSON *s;
    cJSON_ArrayForEach(s, a)
    {
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "",
                              cJSON_GetStringValue(s));
    }
    return buf;
}

static void test_install_objects(void **state)
{
    (void)state;
    struct appstore_job_in in = input(0);
    char err[200];
    cJSON *out =
        appstore_job_objects(&in, "TGZ", 3, "replicas: 2\n", err, sizeof(err));
    assert_non_null(out);
    const char *order[] = {"ServiceAccount", "ClusterRole",
                           "ClusterRoleBinding", "Secret", "Job"};
    assert_int_equal(cJSON_GetArraySize(out), 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(str(cJSON_GetArrayItem(out, i), "object.kind"),
                            order[i]);
    const cJSON *sa = entry(out, "ServiceAccount");
    assert_string_equal(
        str(sa, "path"),
        "/api/v1/namespaces/fedgate-system/serviceaccounts/fedgate-helm-web");
    /* the role may only impersonate the creator's user and groups */
    const cJSON *role = entry(out, "ClusterRole");
    assert_string_equal(str(role, "path"),
                        "/apis/rbac.authorization.k8s.io/v1/clusterroles/"
                        "fedgate-helm-web");
    const cJSON *rules = fg_json_path(role, "object.rules");
    assert_int_equal(cJSON_GetArraySize(rules), 2);
    char buf[512];
    const cJSON *r = cJSON_GetArrayItem(rules, 0);
    assert_string_equal(joined(cJSON_GetObjectItem(r, "verbs"), buf, 512),
                        "impersonate");
    assert_string_equal(joined(cJSON_GetObjectItem(r, "resources"), buf, 512),
                        "users");
    assert_string_equal(
        joined(cJSON_GetObjectItem(r, "resourceNames"), buf, 512), "ops");
    r = cJSON_GetArrayItem(rules, 1);
    assert_string_equal(joined(cJSON_GetObjectItem(r, "verbs"), buf, 512),
                        "impersonate");
    assert_string_equal(joined(cJSON_GetObjectItem(r, "resources"), buf, 512),
                        "groups");
    assert_string_equal(
        joined(cJSON_GetObjectItem(r, "resourceNames"), buf, 512),
        "app-operators system:authenticated");
    const cJSON *bind = entry(out, "ClusterRoleBinding");
    assert_string_equal(str(bind, "object.roleRef.name"), "fedgate-helm-web");
    const cJSON *subj =
        cJSON_GetArrayItem(fg_json_path(bind, "object.subjects"), 0);
    assert_string_equal(str(subj, "kind"), "ServiceAccount");
    assert_string_equal(str(subj, "namespace"), "fedgate-system");
    /* the chart and values, base64 */
    const cJSON *secret = entry(out, "Secret");
    assert_string_equal(str(secret, "object.metadata.name"),
                        "fedgate-helm-web-v3");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            fg_json_path(secret, "object.data"), "chart.tgz")),
                        "VEda");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(
            fg_json_path(secret, "object.data"), "values.yaml")),
        "cmVwbGljYXM6IDIK");
    /* the Job */
    const cJSON *job = entry(out, "Job");
    assert_string_equal(str(job, "path"),
                        "/apis/batch/v1/namespaces/fedgate-system/jobs/"
                        "fedgate-helm-web-v3");
    const cJSON *labels = fg_json_path(job, "object.metadata.labels");
    assert_string_equal(str(labels, "app\\.fedgate\\.io/release"), "web");
    assert_string_equal(str(labels, "app\\.fedgate\\.io/revision"), "3");
    const cJSON *spec = fg_json_path(job, "object.spec");
    assert_int_equal(fg_json_path(spec, "backoffLimit")->valueint, 0);
    assert_int_equal(fg_json_path(spec, "activeDeadlineSeconds")->valueint,
                     600);
    assert_int_equal(fg_json_path(spec, "ttlSecondsAfterFinished")->valueint,
                     3600);
    const cJSON *pod = fg_json_path(spec, "template.spec");
    assert_string_equal(str(pod, "serviceAccountName"), "fedgate-helm-web");
    assert_string_equal(str(pod, "restartPolicy"), "Never");
    assert_true(
        cJSON_IsTrue(fg_json_path(pod, "securityContext.runAsNonRoot")));
    const cJSON *c = cJSON_GetArrayItem(fg_json_path(pod, "containers"), 0);
    assert_string_equal(str(c, "image"), "docker.io/alpine/helm:3.14.4");
    assert_string_equal(
        joined(cJSON_GetObjectItem(c, "args"), buf, 512),
        "upgrade --install web /chart/nginx.tgz -n shop --create-namespace "
        "-f /values/values.yaml --kube-as-user ops --kube-as-group "
        "app-operators --kube-as-group system:authenticated");
    const cJSON *sc = cJSON_GetObjectItem(c, "securityContext");
    assert_true(cJSON_IsTrue(fg_json_path(sc, "runAsNonRoot")));
    assert_true(cJSON_IsTrue(fg_json_path(sc, "readOnlyRootFilesystem")));
    assert_true(cJSON_IsFalse(fg_json_path(sc, "allowPrivilegeEscalation")));
    assert_string_equal(joined(fg_json_path(sc, "capabilities.drop"), buf, 512),
                        "ALL");
    assert_string_equal(str(sc, "seccompProfile.type"), "RuntimeDefault");
    /* the chart and values come from the Secret; nothing is a kubeconfig */
    char *text = cJSON_PrintUnformatted(out);
    assert_null(strstr(text, "kubeconfig"));
    free(text);
    const cJSON *v;
    int from_secret = 0;
    cJSON_ArrayForEach(v, fg_json_path(pod, "volumes"))
    {
        from_secret +=
            strcmp(str(v, "secret.secretName"), "fedgate-helm-web-v3") == 0;
    }
    assert_int_equal(from_secret, 2);
    cJSON_Delete(out);
}

static void test_uninstall_objects(void **state)
{
    (void)state;
    struct appstore_job_in in = input(1);
    static const struct fg_identity alone = {.user = "ops"};
    in.who = &alone;
    char err[200], buf[512];
    cJSON *out = appstore_job_objects(&in, NULL, 0, NULL, err, sizeof(err));
    assert_non_null(out);
    assert_null(entry(out, "Secret")); /* no chart to give */
    assert_int_equal(cJSON_GetArraySize(fg_json_path(entry(out, "ClusterRole"),
                                                     "object.rules")),
                     1);
    const cJSON *job = entry(out, "Job");
    assert_string_equal(str(job, "object.metadata.name"),
                        "fedgate-helm-web-rm-v3");
    const cJSON *c = cJSON_GetArrayItem(
        fg_json_path(job, "object.spec.template.spec.containers"), 0);
    assert_string_equal(joined(cJSON_GetObjectItem(c, "args"), buf, 512),
                        "uninstall web -n shop --kube-as-user ops");
    cJSON_Delete(out);
}

static void test_name_too_long(void **state)
{
    (void)state;
    struct appstore_job_in in = input(1);
    char name[64], job[80], err[200];
    memset(name, 'a', 44);
    name[44] = '\0'; /* fedgate-helm- 13 + 44 + -rm-v3 6 = 63 */
    in.name = name;
    assert_int_equal(appstore_job_name(&in, job, sizeof(job)), 0);
    assert_int_equal(strlen(job), 63);
    name[44] = 'a';
    name[45] = '\0';
    assert_int_equal(appstore_job_name(&in, job, sizeof(job)), -1);
    in.uninstall = 0; /* its install could not be uninstalled */
    assert_int_equal(appstore_job_name(&in, job, sizeof(job)), -1);
    assert_null(appstore_job_objects(&in, NULL, 0, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "too long"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_objects),
        cmocka_unit_test(test_uninstall_objects),
        cmocka_unit_test(test_name_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
