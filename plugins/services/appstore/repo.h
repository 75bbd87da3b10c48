/* External chart repositories: the Repo kind (repo.c), the reader of a
 * remote repository's index.yaml (index_read.c) and the sync that turns it
 * into the catalog's objects (repo_sync.c). Names are prefixed appstore_. */
#ifndef APPSTORE_REPO_H
#define APPSTORE_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "appstore.h"

struct cJSON;

/* ---- the Repo kind (repo.c) --------------------------------------------- */

/** The label of every object a Repo's sync made, and of pushed charts. */
#define APPSTORE_REPO_LABEL "application.kubesphere.io/repo-name"
/** Changing this annotation's value asks for a sync now (kubectl annotate
 * --overwrite); any change of the spec does too. */
#define APPSTORE_SYNC_ANNOTATION "application.kubesphere.io/sync-requested"
/** The shortest sync period but 0 (manual), in seconds, as KubeSphere's. */
#define APPSTORE_MIN_SYNC_PERIOD 180

extern const struct fg_object_column appstore_repo_columns[];
extern const char appstore_repo_schema[];

/** Admission of a client's write of the Repo OBJ (OLD: what was there, or
 * NULL; STATUS: a status subresource write) for catalog C, whose hosted
 * repositories' names it may not take: 0, or an HTTP status with ERR. */
int appstore_repo_admit(const struct appstore_catalog *c, struct cJSON *obj,
                        const struct cJSON *old, int status, char *err,
                        size_t err_len);

/* ---- a remote index.yaml (index_read.c) --------------------------------- */

/** One chart version a remote index lists. V's meta holds the entry's
 * other fields (their text; maintainers as objects); V's digest is "" when
 * the index gives none (or not a SHA-256). */
struct appstore_remote_version {
    struct appstore_version v;
    char *url;  /* the entry's first url, as written */
    size_t pos; /* its place in the index: the first of a version listed
                   twice is kept, as Helm keeps it */
};

struct appstore_remote_index {
    /* by chart name, then newest version first; at most the cap per chart */
    struct appstore_remote_version *versions;
    size_t n;
    size_t charts;  /* distinct chart names kept */
    size_t dropped; /* versions past the cap per chart */
    size_t skipped; /* entries without a usable name, version or url */
};

/** Reads Helm's index.yaml TEXT (LEN bytes; repo.IndexFile: apiVersion v1,
 * entries NAME: [ChartVersion...]) keeping the MAX_VERSIONS newest
 * versions (SemVer precedence; versions that are not SemVer after them) of
 * each chart. 0, or -1 with a one-line reason in ERR. */
int appstore_index_read(const char *text, size_t len, size_t max_versions,
                        struct appstore_remote_index *out, char *err,
                        size_t err_len);
void appstore_remote_index_free(struct appstore_remote_index *idx);

/* ---- the sync (repo_sync.c) --------------------------------------------- */

/** How syncs run (the plugin's keys). */
struct appstore_sync_limits {
    uint64_t max_index_bytes;
    size_t max_versions; /* per chart */
    uint64_t connect_timeout_ms, request_timeout_ms;
    const char *system_ca_file; /* when a Repo gives no caData */
};

struct appstore_repos;

/** Starts syncing the Repo objects of A's catalog on the calling loop: a
 * Repo left syncing (a restart cut it short) or never synced now, the
 * others when their period comes. NULL when out of memory. */
struct appstore_repos *appstore_repos_new(struct appstore *a,
                                          const struct appstore_sync_limits *l);
/** Stops every sync and frees RS. */
void appstore_repos_free(struct appstore_repos *rs);
/** The catalog's change hook for Repos (catalog.h repo_changed). */
void appstore_repos_changed(void *rs, int ev, const struct cJSON *obj);

#endif
