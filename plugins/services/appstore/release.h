/* ApplicationRelease: the app store installs an active ApplicationVersion
 * into a member cluster (labels kubesphere.io/cluster, kubesphere.io/namespace)
 * as the user who created the release, recorded by admission in an
 * annotation no client may set or change. A plain-manifest package (no
 * template action in templates/) is applied by the host itself with
 * server-side apply and recorded as Helm's release Secret; upgrades make
 * the next revision and remove what the old one had and the new one does
 * not; a deleted release removes what its last revision made. A Helm
 * chart is installed, upgraded and uninstalled by Helm itself, in a Job
 * in the member (release_job.h), whose outcome the host reads back from
 * Helm's release Secret and the Job's conditions. */
#ifndef APPSTORE_RELEASE_H
#define APPSTORE_RELEASE_H

#include <fedgate/driver.h>
#include <fedgate/member_ask.h>

#include "appstore.h"

/* the annotation that names the creator: {"user":..,"groups":[..]} */
#define APPSTORE_CREATOR "app.fedgate.io/creator"

struct appstore_releases;
struct cJSON;

/** The identity a release's creator annotation records; WHO points into
 * DOC and GROUPS. */
struct appstore_creator {
    struct cJSON *doc;
    const char **groups;
    struct fg_identity who;
};
/** Reads RELEASE's creator into C: 0, or -1 (none, or out of memory). */
int appstore_creator_read(const struct cJSON *release,
                          struct appstore_creator *c);
void appstore_creator_free(struct appstore_creator *c);

/* the largest member answer kept (a list of release Secrets, discovery) */
#define APPSTORE_MAX_MEMBER_ANSWER (16u * 1024 * 1024)

/** What a member call's answer says (fedgate/member_ask.h's STATUS and
 * BODY): the message of a Kubernetes Status, else BODY, else the status,
 * into OUT. */
void appstore_answer_message(int status, const char *body, char *out,
                             size_t cap);

/** Starts REQ (max_answer: APPSTORE_MAX_MEMBER_ANSWER) to CLUSTER as WHO. */
struct fg_member_ask *appstore_ask(const struct fg_host *h, const char *cluster,
                                   const struct fg_identity *who,
                                   struct fg_member_ask_request req,
                                   fg_member_ask_done done, void *arg);

/** The controller of A's releases: sets the catalog's release hooks and
 * picks up releases left unfinished by an earlier run. NULL when out of
 * memory. */
struct appstore_releases *appstore_releases_new(struct appstore *a);
/** Stops every member call and timer, and frees. */
void appstore_releases_free(struct appstore_releases *r);

#endif
