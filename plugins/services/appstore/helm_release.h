/* Helm 3's release records: the release JSON, its storage encoding
 * (base64 of gzip) and the Secret sh.helm.release.v1.NAME.vN that holds
 * it in the release's namespace (type helm.sh/release.v1, labels
 * owner=helm, name, status, version). */
#ifndef APPSTORE_HELM_RELEASE_H
#define APPSTORE_HELM_RELEASE_H

#include <stddef.h>

#include "appstore.h"

struct cJSON;

/* the largest release JSON read back from a member */
#define APPSTORE_MAX_RELEASE_JSON (32u * 1024 * 1024)

/** What a release record says. */
struct appstore_helm_info {
    const char *name, *ns;
    int version;                            /* 1, 2, ... */
    const char *status;                     /* "deployed", "superseded" */
    const char *first_deployed;             /* RFC 3339 */
    const char *last_deployed;              /* RFC 3339 */
    const char *description;                /* "Install complete" */
    const struct cJSON *chart;              /* Chart.yaml's fields, or NULL */
    const struct appstore_files *templates; /* or NULL */
    const char *manifest;
};

/** Helm's release JSON for IN; NULL when out of memory. */
struct cJSON *appstore_helm_release(const struct appstore_helm_info *in);
/** base64(gzip(JSON of RELEASE)), malloc'd; NULL when out of memory. */
char *appstore_helm_encode(const struct cJSON *release);
/** The release in TEXT (LEN bytes, as appstore_helm_encode writes it, or
 * base64 of plain JSON, which Helm reads too) of at most MAX bytes of
 * JSON, or NULL with ERR. */
struct cJSON *appstore_helm_decode(const char *text, size_t len, size_t max,
                                   char *err, size_t err_len);
/** The Secret object holding RELEASE (its name, namespace, version and
 * info.status give the Secret's name and labels), or NULL. */
struct cJSON *appstore_helm_secret(const struct cJSON *release);
/** The release a Helm release Secret (as the member answers it) holds, of
 * at most MAX bytes of JSON, or NULL. */
struct cJSON *appstore_helm_secret_release(const struct cJSON *secret,
                                           size_t max);
/** "sh.helm.release.v1.RELEASE.vVERSION" into OUT. */
void appstore_helm_secret_name(const char *release, int version, char *out,
                               size_t cap);

#endif
