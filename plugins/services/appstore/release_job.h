/* The member objects of a Helm chart release: a short-lived Job in the
 * member's fedgate-system namespace runs the Helm CLI with the chart and
 * values from a Secret, as the release's creator (--kube-as-user and
 * --kube-as-group), under a service account that may do nothing but
 * impersonate that creator. No kubeconfig: Helm in the pod uses its
 * in-cluster service account. */
#ifndef APPSTORE_RELEASE_JOB_H
#define APPSTORE_RELEASE_JOB_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct fg_identity;

/* the member namespace the Jobs run in */
#define APPSTORE_JOB_NS "fedgate-system"
/* the image that runs Helm unless the plugin key helm_image says */
#define APPSTORE_HELM_IMAGE "docker.io/alpine/helm:3.14.4"
/* labels naming the release and revision on every object made */
#define APPSTORE_JOB_RELEASE_LABEL "app.fedgate.io/release"
#define APPSTORE_JOB_REVISION_LABEL "app.fedgate.io/revision"

struct appstore_job_in {
    const char *name;  /* the release (Helm's release name) */
    const char *ns;    /* the namespace it installs into */
    int revision;      /* what an install makes; an uninstall's last one */
    int uninstall;     /* helm uninstall instead of upgrade --install */
    const char *chart; /* the chart's name: /chart/CHART.tgz */
    const struct fg_identity *who;
    const char *image;
    int64_t deadline_s; /* the Job's activeDeadlineSeconds */
    int64_t ttl_s;      /* its ttlSecondsAfterFinished */
};

/** The Job's name for IN into OUT: "fedgate-helm-NAME-vN" (an uninstall's
 * "fedgate-helm-NAME-rm-vN"). 0, or -1 when the uninstall's name would be
 * longer than a DNS label (63), which a Job's name must fit for its pods'
 * job-name label. */
int appstore_job_name(const struct appstore_job_in *in, char *out, size_t cap);

/** What the member needs for IN, in the order to apply them, as an array
 * of {"path": the object's path on the member, "object": it}: the
 * ServiceAccount, the ClusterRole that may only impersonate IN's user and
 * groups, its ClusterRoleBinding, the Secret holding TGZ (LEN bytes) and
 * VALUES (YAML text; NULL for none) unless uninstalling, and the Job. NULL
 * with ERR. */
struct cJSON *appstore_job_objects(const struct appstore_job_in *in,
                                   const void *tgz, size_t len,
                                   const char *values, char *err,
                                   size_t err_len);

#endif
