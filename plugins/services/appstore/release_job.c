/* The objects of a Helm chart release's Job (release_job.h), built as the
 * member should hold them; release.c applies them with server-side apply
 * as the release's creator. */
#include "release_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/driver.h>
#include <fedgate/util.h>

#define SA_PREFIX "fedgate-helm-"
/* Helm writes its caches and config under HOME; the root file system is
 * read-only, so they go to an emptyDir */
#define WORK_DIR "/tmp"
/* an unprivileged uid (nobody): runAsNonRoot needs a numeric one, since
 * Helm's image runs as root unless told */
#define RUN_AS 65534

int appstore_job_name(const struct appstore_job_in *in, char *out, size_t cap)
{
    int n = snprintf(out, cap, SA_PREFIX "%s-%sv%d", in->name,
                     in->uninstall ? "rm-" : "", in->revision);
    /* the uninstall's name bounds both: a release installed must be able
     * to go */
    int worst =
        snprintf(NULL, 0, SA_PREFIX "%s-rm-v%d", in->name, in->revision);
    return n > 0 && (size_t)n < cap && worst <= 63 ? 0 : -1;
}

static cJSON *meta(cJSON *obj, const char *api_version, const char *kind,
                   const char *name, const char *ns,
                   const struct appstore_job_in *in)
{
    cJSON_AddStringToObject(obj, "apiVersion", api_version);
    cJSON_AddStringToObject(obj, "kind", kind);
    cJSON *m = cJSON_AddObjectToObject(obj, "metadata");
    cJSON_AddStringToObject(m, "name", name);
    if (ns)
        cJSON_AddStringToObject(m, "namespace", ns);
    cJSON *l = cJSON_AddObjectToObject(m, "labels");
    cJSON_AddStringToObject(l, APPSTORE_JOB_RELEASE_LABEL, in->name);
    char rev[16];
    snprintf(rev, sizeof(rev), "%d", in->revision);
    cJSON_AddStringToObject(l, APPSTORE_JOB_REVISION_LABEL, rev);
    return m;
}

/* A new object of KIND (resource PLURAL) in the array OUT, with its path
 * on the member. */
static cJSON *add(cJSON *out, const char *api_version, const char *kind,
                  const char *plural, const char *name, const char *ns,
                  const struct appstore_job_in *in)
{
    char path[512];
    snprintf(path, sizeof(path), "%s%s%s%s/%s/%s",
             strchr(api_version, '/') ? "/apis/" : "/api/", api_version,
             ns ? "/namespaces/" : "", ns ? ns : "", plural, name);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToArray(out, e);
    cJSON_AddStringToObject(e, "path", path);
    cJSON *obj = cJSON_AddObjectToObject(e, "object");
    if (obj)
        meta(obj, api_version, kind, name, ns, in);
    return obj;
}

static cJSON *strings(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

/* The one thing the service account may do: impersonate the creator. */
static void impersonate_rule(cJSON *rules, const char *resource,
                             const char *const *names, size_t n)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToArray(rules, r);
    const char *core = "";
    const char *verb = "impersonate";
    cJSON_AddItemToObject(r, "apiGroups", strings(&core, 1));
    cJSON_AddItemToObject(r, "resources", strings(&resource, 1));
    cJSON_AddItemToObject(r, "verbs", strings(&verb, 1));
    cJSON_AddItemToObject(r, "resourceNames", strings(names, n));
}

static void add_rbac(cJSON *out, const struct appstore_job_in *in,
                     const char *sa)
{
    add(out, "v1", "ServiceAccount", "serviceaccounts", sa, APPSTORE_JOB_NS,
        in);
    cJSON *role = add(out, "rbac.authorization.k8s.io/v1", "ClusterRole",
                      "clusterroles", sa, NULL, in);
    cJSON *rules = cJSON_AddArrayToObject(role, "rules");
    impersonate_rule(rules, "users", &in->who->user, 1);
    if (in->who->n_groups)
        impersonate_rule(rules, "groups", in->who->groups, in->who->n_groups);
    cJSON *bind = add(out, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding",
                      "clusterrolebindings", sa, NULL, in);
    cJSON *ref = cJSON_AddObjectToObject(bind, "roleRef");
    cJSON_AddStringToObject(ref, "apiGroup", "rbac.authorization.k8s.io");
    cJSON_AddStringToObject(ref, "kind", "ClusterRole");
    cJSON_AddStringToObject(ref, "name", sa);
    cJSON *subj = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(bind, "subjects"), subj);
    cJSON_AddStringToObject(subj, "kind", "ServiceAccount");
    cJSON_AddStringToObject(subj, "name", sa);
    cJSON_AddStringToObject(subj, "namespace", APPSTORE_JOB_NS);
}

/* Helm's command line: the creator's identity on every call it makes. */
static cJSON *helm_args(const struct appstore_job_in *in)
{
    cJSON *a = cJSON_CreateArray();
    char chart[300];
    snprintf(chart, sizeof(chart), "/chart/%s.tgz", in->chart);
    const char *install[] = {"upgrade",
                             "--install",
                             in->name,
                             chart,
                             "-n",
                             in->ns,
                             "--create-namespace",
                             "-f",
                             "/values/values.yaml"};
    const char *uninstall[] = {"uninstall", in->name, "-n", in->ns};
    const char *const *v = in->uninstall ? uninstall : install;
    size_t n = in->uninstall ? sizeof(uninstall) / sizeof(uninstall[0])
                             : sizeof(install) / sizeof(install[0]);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    cJSON_AddItemToArray(a, cJSON_CreateString("--kube-as-user"));
    cJSON_AddItemToArray(a, cJSON_CreateString(in->who->user));
    for (size_t i = 0; i < in->who->n_groups; i++) {
        cJSON_AddItemToArray(a, cJSON_CreateString("--kube-as-group"));
        cJSON_AddItemToArray(a, cJSON_CreateString(in->who->groups[i]));
    }
    return a;
}

static void add_secret_volume(cJSON *vols, cJSON *mounts, const char *vol,
                              const char *secret, const char *key,
                              const char *file, const char *dir)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddItemToArray(vols, v);
    cJSON_AddStringToObject(v, "name", vol);
    cJSON *s = cJSON_AddObjectToObject(v, "secret");
    cJSON_AddStringToObject(s, "secretName", secret);
    cJSON *item = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(s, "items"), item);
    cJSON_AddStringToObject(item, "key", key);
    cJSON_AddStringToObject(item, "path", file);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddItemToArray(mounts, m);
    cJSON_AddStringToObject(m, "name", vol);
    cJSON_AddStringToObject(m, "mountPath", dir);
    cJSON_AddBoolToObject(m, "readOnly", 1);
}

static void add_env(cJSON *env, const char *name, const char *value)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToArray(env, e);
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "value", value);
}

static void pod_spec(cJSON *spec, const struct appstore_job_in *in,
                     const char *sa, const char *job)
{
    cJSON_AddStringToObject(spec, "serviceAccountName", sa);
    cJSON_AddStringToObject(spec, "restartPolicy", "Never");
    cJSON_AddBoolToObject(spec, "automountServiceAccountToken", 1);
    cJSON *psc = cJSON_AddObjectToObject(spec, "securityContext");
    cJSON_AddBoolToObject(psc, "runAsNonRoot", 1);
    cJSON_AddNumberToObject(psc, "runAsUser", RUN_AS);
    cJSON_AddNumberToObject(psc, "runAsGroup", RUN_AS);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(psc, "seccompProfile"),
                            "type", "RuntimeDefault");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "containers"), c);
    cJSON_AddStringToObject(c, "name", "helm");
    cJSON_AddStringToObject(c, "image", in->image);
    cJSON_AddItemToObject(c, "args", helm_args(in));
    cJSON *env = cJSON_AddArrayToObject(c, "env");
    add_env(env, "HOME", WORK_DIR);
    add_env(env, "HELM_CACHE_HOME", WORK_DIR "/cache");
    add_env(env, "HELM_CONFIG_HOME", WORK_DIR "/config");
    add_env(env, "HELM_DATA_HOME", WORK_DIR "/data");
    cJSON *sc = cJSON_AddObjectToObject(c, "securityContext");
    cJSON_AddBoolToObject(sc, "runAsNonRoot", 1);
    cJSON_AddBoolToObject(sc, "readOnlyRootFilesystem", 1);
    cJSON_AddBoolToObject(sc, "allowPrivilegeEscalation", 0);
    const char *all = "ALL";
    cJSON_AddItemToObject(cJSON_AddObjectToObject(sc, "capabilities"), "drop",
                          strings(&all, 1));
    cJSON_AddStringToObject(cJSON_AddObjectToObject(sc, "seccompProfile"),
                            "type", "RuntimeDefault");
    cJSON *vols = cJSON_AddArrayToObject(spec, "volumes");
    cJSON *mounts = cJSON_AddArrayToObject(c, "volumeMounts");
    cJSON *work = cJSON_CreateObject();
    cJSON_AddItemToArray(vols, work);
    cJSON_AddStringToObject(work, "name", "work");
    cJSON_AddObjectToObject(work, "emptyDir");
    cJSON *wm = cJSON_CreateObject();
    cJSON_AddItemToArray(mounts, wm);
    cJSON_AddStringToObject(wm, "name", "work");
    cJSON_AddStringToObject(wm, "mountPath", WORK_DIR);
    if (in->uninstall)
        return;
    char file[300];
    snprintf(file, sizeof(file), "%s.tgz", in->chart);
    add_secret_volume(vols, mounts, "chart", job, "chart.tgz", file, "/chart");
    add_secret_volume(vols, mounts, "values", job, "values.yaml", "values.yaml",
                      "/values");
}

cJSON *appstore_job_objects(const struct appstore_job_in *in, const void *tgz,
                            size_t len, const char *values, char *err,
                            size_t err_len)
{
    char job[80], sa[300];
    if (appstore_job_name(in, job, sizeof(job)) < 0) {
        snprintf(err, err_len,
                 "the release name \"%s\" is too long for its Job's name "
                 "(fedgate-helm-NAME-rm-vN must fit 63 characters)",
                 in->name);
        return NULL;
    }
    snprintf(sa, sizeof(sa), SA_PREFIX "%s", in->name);
    cJSON *out = cJSON_CreateArray();
    if (!out) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    add_rbac(out, in, sa);
    if (!in->uninstall) {
        cJSON *secret =
            add(out, "v1", "Secret", "secrets", job, APPSTORE_JOB_NS, in);
        cJSON_AddStringToObject(secret, "type", "Opaque");
        cJSON *data = cJSON_AddObjectToObject(secret, "data");
        char *b64 = fg_base64_encode_alloc(tgz, len, 0);
        char *v64 = fg_base64_encode_alloc(values ? values : "",
                                           values ? strlen(values) : 0, 0);
        int ok = b64 && v64 &&
                 cJSON_AddStringToObject(data, "chart.tgz", b64) &&
                 cJSON_AddStringToObject(data, "values.yaml", v64);
        free(b64);
        free(v64);
        if (!ok) {
            cJSON_Delete(out);
            snprintf(err, err_len, "out of memory");
            return NULL;
        }
    }
    cJSON *j = add(out, "batch/v1", "Job", "jobs", job, APPSTORE_JOB_NS, in);
    cJSON *spec = cJSON_AddObjectToObject(j, "spec");
    cJSON_AddNumberToObject(spec, "backoffLimit", 0);
    cJSON_AddNumberToObject(spec, "activeDeadlineSeconds",
                            (double)in->deadline_s);
    cJSON_AddNumberToObject(spec, "ttlSecondsAfterFinished", (double)in->ttl_s);
    cJSON *tmpl = cJSON_AddObjectToObject(spec, "template");
    cJSON *tl = cJSON_AddObjectToObject(
        cJSON_AddObjectToObject(tmpl, "metadata"), "labels");
    cJSON_AddStringToObject(tl, APPSTORE_JOB_RELEASE_LABEL, in->name);
    pod_spec(cJSON_AddObjectToObject(tmpl, "spec"), in, sa, job);
    return out;
}
