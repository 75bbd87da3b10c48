/* The app store service's internals: chart archives and their Chart.yaml,
 * SemVer, the repository store on disk, index.yaml, the HTTP routes and
 * multipart bodies. Names are prefixed appstore_. */
#ifndef APPSTORE_H
#define APPSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

struct cJSON;

/* ---- SemVer 2.0.0 (semver.c) ------------------------------------------ */

struct appstore_semver {
    uint64_t major, minor, patch;
    const char *pre; /* pre-release identifiers in the text, or NULL */
    size_t pre_len;
};

/** Parses S as strict SemVer 2.0.0 (no "v", no missing parts). 0 or -1.
 * V points into S. */
int appstore_semver_parse(const char *s, struct appstore_semver *v);
/** SemVer precedence: -1, 0 or 1 (build metadata ignored). */
int appstore_semver_cmp(const struct appstore_semver *a,
                        const struct appstore_semver *b);

/* ---- chart archives (archive.c, chart.c) ------------------------------- */

/** The limits an uploaded chart is read under (Helm's defaults). */
struct appstore_limits {
    uint64_t max_chart_bytes;    /* the .tgz as uploaded */
    uint64_t max_file_bytes;     /* one file in it */
    uint64_t max_expanded_bytes; /* the whole tar stream */
};
#define APPSTORE_MAX_CHART_BYTES (10u * 1024 * 1024)
#define APPSTORE_MAX_FILE_BYTES (5u * 1024 * 1024)
#define APPSTORE_MAX_EXPANDED_BYTES (100u * 1024 * 1024)

/** Reads the gzip'd tar DATA (LEN bytes) as Helm's loader does, checking
 * every entry (types, paths, one top folder, limits). Returns 0 with the
 * text of TOP/Chart.yaml (malloc'd, NUL-terminated) in *YAML and its
 * length in *YAML_LEN, or -1 with a one-line reason in ERR. */
int appstore_archive_read(const void *data, size_t len,
                          const struct appstore_limits *lim, char **yaml,
                          size_t *yaml_len, char *err, size_t err_len);

/** A file of a chart: its path below the chart's folder
 * ("templates/cm.yaml") and its bytes (NUL-terminated). */
struct appstore_file {
    char *name;
    char *data;
    size_t len;
};
struct appstore_files {
    struct appstore_file *v;
    size_t n;
};
void appstore_files_free(struct appstore_files *f);

/** As appstore_archive_read, keeping the files under templates/ (any
 * depth), sorted by name, instead of Chart.yaml. 0, or -1 with ERR. */
int appstore_archive_templates(const void *data, size_t len,
                               const struct appstore_limits *lim,
                               struct appstore_files *templates, char *err,
                               size_t err_len);

/** Checks Chart.yaml TEXT as Helm's loader and Metadata.Validate do and
 * returns its fields as the index carries them (a cJSON object holding
 * only known fields, every scalar as its raw text; "name" and "version"
 * always there), or NULL with a one-line reason in ERR. */
struct cJSON *appstore_chart_metadata(const char *text, size_t len, char *err,
                                      size_t err_len);

/** appstore_archive_read then appstore_chart_metadata. */
struct cJSON *appstore_chart_read(const void *data, size_t len,
                                  const struct appstore_limits *lim, char *err,
                                  size_t err_len);

/* ---- the repository store (store.c) ------------------------------------ */

struct fg_host;
struct appstore_releases;

/** One chart version of a repository. */
struct appstore_version {
    char *name;
    char *version; /* the raw text of Chart.yaml's version */
    struct appstore_semver sv;
    struct cJSON *meta; /* appstore_chart_metadata's fields */
    char digest[65];    /* hex SHA-256 of the .tgz: its blob */
    char prov[65];      /* the .prov's blob, "" when none */
    char created[40];   /* RFC 3339, nanoseconds, UTC */
};

struct appstore_repo {
    char *name;
    /* sorted by chart name, then newest version first */
    struct appstore_version **versions;
    size_t n;
    /* index.yaml as last rendered (index.c), NULL after a change */
    char *index;
    size_t index_len;
};

struct appstore_store;

/** Opens the store under STATE_DIR/appstore/ for the N repositories
 * REPOS, loading what an earlier run saved (an unreadable version file is
 * logged through HOST, when not NULL, and left alone) and removing blobs no
 * version uses. NULL with a one-line reason in ERR. */
struct appstore_store *appstore_store_open(const char *state_dir,
                                           const char *const *repos, size_t n,
                                           const struct fg_host *host,
                                           char *err, size_t err_len);
void appstore_store_free(struct appstore_store *s);
/** The repository NAME, added (with what an earlier run saved of it)
 * when missing: an external repository mirrored (repo.h). Pointers to
 * other repositories of S are stale after it, their names are not. NULL
 * with ERR. */
struct appstore_repo *appstore_store_add(struct appstore_store *s,
                                         const char *name,
                                         const struct fg_host *host, char *err,
                                         size_t err_len);
/** The repository NAME, or NULL. */
struct appstore_repo *appstore_store_repo(struct appstore_store *s,
                                          const char *name);
/** The version NAME VERSION of R, or NULL. */
struct appstore_version *appstore_store_find(const struct appstore_repo *r,
                                             const char *name,
                                             const char *version);
/** The version whose NAME-VERSION.tgz (or, with *PROV set, .tgz.prov) is
 * FILE, or NULL. */
struct appstore_version *appstore_store_find_file(const struct appstore_repo *r,
                                                  const char *file, int *prov);

#define APPSTORE_EXISTS 1
/** Saves the chart TGZ (LEN bytes) whose checked metadata is META (taken)
 * in R, with its provenance PROV (PROV_LEN bytes; NULL: none, or the one
 * already saved when FORCE replaces a version). Returns 0, APPSTORE_EXISTS
 * (META freed) when the version is there and FORCE is 0, or -1 with ERR
 * (a disk error: nothing is left behind). */
int appstore_store_put(struct appstore_store *s, struct appstore_repo *r,
                       const void *tgz, size_t len, struct cJSON *meta,
                       const void *prov, size_t prov_len, int force, char *err,
                       size_t err_len);
/** Saves PROV (LEN bytes) as the provenance of V in R. 0 or -1 with ERR. */
int appstore_store_put_prov(struct appstore_store *s, struct appstore_repo *r,
                            struct appstore_version *v, const void *prov,
                            size_t len, char *err, size_t err_len);
/** Deletes V from R and the blobs nothing else uses. 0 or -1 with ERR. */
int appstore_store_delete(struct appstore_store *s, struct appstore_repo *r,
                          struct appstore_version *v, char *err,
                          size_t err_len);
/** The blob HEX's bytes (malloc'd) and length, or NULL with ERR. */
void *appstore_store_blob(struct appstore_store *s, const char *hex,
                          size_t *len, char *err, size_t err_len);
/** The time now as RFC 3339 in UTC with nanoseconds, as Helm writes it. */
void appstore_now_rfc3339(char out[40]);
/** The hex SHA-256 of DATA into OUT. */
void appstore_sha256_hex(const void *data, size_t len, char out[65]);
/** Makes PATH and its parents (mode 0700). 0, or -1 with ERR. */
int appstore_mkdir_p(const char *path, char *err, size_t len);
/** Writes DATA (N bytes) as DIR/NAME atomically (a temporary file, fsync,
 * rename). 0, or -1 with ERR. */
int appstore_write_atomic(const char *dir, const char *name, const void *data,
                          size_t n, char *err, size_t len);

/* ---- index.yaml (index.c) ----------------------------------------------- */

/** R's index.yaml (Helm's repo.IndexFile) served under CONTEXT_PATH
 * ("/helm/REPO"): rendered on the first call after a change, then the
 * cached bytes (owned by R). NULL when out of memory. */
const char *appstore_index(struct appstore_repo *r, const char *context_path,
                           size_t *len);
/** V as the index lists it (Chart.yaml fields, created, digest, urls),
 * or NULL when out of memory. */
struct cJSON *appstore_version_entry(const struct appstore_version *v);
/** V's file name in R: NAME-VERSION.tgz into OUT. */
void appstore_chart_file(const struct appstore_version *v, char *out,
                         size_t cap);

/* ---- multipart/form-data (multipart.c) ---------------------------------- */

/** One form field of a multipart/form-data body. */
struct appstore_part {
    char name[64];             /* the field's name */
    const unsigned char *data; /* into the body */
    size_t len;
};

/** The most parts appstore_multipart reads. */
#define APPSTORE_MAX_PARTS 8

/** Whether CONTENT_TYPE (LEN bytes) is multipart/form-data; its boundary
 * into BOUNDARY (room for 71 bytes). 1 yes, 0 not multipart, -1 with ERR
 * for a multipart type without a valid boundary. */
int appstore_multipart_type(const char *content_type, size_t len,
                            char boundary[71], char *err, size_t err_len);
/** Splits BODY (LEN bytes; RFC 7578 with BOUNDARY) into its parts,
 * APPSTORE_MAX_PARTS at most. Returns the count, or -1 with ERR. */
int appstore_multipart(const char *boundary, const void *body, size_t len,
                       struct appstore_part *parts, char *err, size_t err_len);

/* ---- the HTTP routes (http.c) ------------------------------------------- */

enum appstore_op {
    APPSTORE_HEALTH,      /* /helm/health */
    APPSTORE_INDEX,       /* /helm/REPO/index.yaml */
    APPSTORE_FILE,        /* /helm/REPO/charts/FILE */
    APPSTORE_API_CHARTS,  /* /helm/api/REPO/charts */
    APPSTORE_API_CHART,   /* /helm/api/REPO/charts/NAME */
    APPSTORE_API_VERSION, /* /helm/api/REPO/charts/NAME/VERSION */
    APPSTORE_API_PROV,    /* /helm/api/REPO/prov */
};

/** A request path of the service, decoded. */
struct appstore_route {
    enum appstore_op op;
    char repo[64];
    char name[256]; /* chart name, or FILE */
    char version[256];
};

/** Reads PATH (percent-encoded, normalised) as one of the service's
 * routes. 0, or -1 when it is none. */
int appstore_route(const char *path, struct appstore_route *r);

/** What the service answers. */
struct appstore_answer {
    int status;
    const char *content_type;
    char *body; /* malloc'd, or NULL */
    size_t len;
};

/** The service's configuration and state. */
struct appstore {
    const struct fg_host *host;
    struct appstore_store *store;
    struct appstore_catalog catalog;    /* catalog.h */
    struct appstore_releases *releases; /* release.h */
    struct appstore_limits limits;
    uint64_t max_body; /* the upload request body (chart, prov, framing) */
    struct appstore_repos *repos; /* Repo objects' syncs (repo.h) */
    /* a Helm chart release's Job (release_job.h) */
    char *helm_image;
    int64_t helm_deadline_s, helm_ttl_s;
    uint64_t helm_poll_ms; /* how often a running Job is looked at */
};

/* ---- the catalog's view of the charts (mirror.c) ------------------------ */

/** V of REPO as the catalog's Application and ApplicationVersion: made or
 * brought up to date; a replaced archive puts the version back to draft.
 * 0, or -1 with ERR. */
int appstore_mirror_version(struct appstore_catalog *c, const char *repo,
                            const struct appstore_version *v, char *err,
                            size_t err_len);
/** V of the external repository REPO (a Repo object, repo.h) as the
 * catalog's Application and ApplicationVersion, active at once (whoever
 * made the Repo vouched for it), pulled from PULL_URL. 0, or -1 with ERR. */
int appstore_mirror_external(struct appstore_catalog *c, const char *repo,
                             const struct appstore_version *v,
                             const char *pull_url, char *err, size_t err_len);
/** The object name REPO-CHART[-VERSION] (RFC 1123: lower case, other
 * characters '-') into OUT. 0, or -1 when none can be made. */
int appstore_object_name(char *out, size_t cap, const char *repo,
                         const char *chart, const char *version);
/** V of REPO left the repository: its ApplicationVersion goes. */
void appstore_mirror_remove(struct appstore_catalog *c, const char *repo,
                            const struct appstore_version *v);
/** Every version of the N repositories REPOS, at start (a store that an
 * earlier release filled, or a catalog file lost); failures are logged. */
void appstore_mirror_all(struct appstore *a, const char *const *repos,
                         size_t n);

/** Serves METHOD PATH?QUERY with the request BODY (LEN bytes; TOO_LARGE
 * when it went past max_body) and CONTENT_TYPE (CT_LEN bytes, or NULL).
 * Fills ANS; -1 when out of memory. */
int appstore_serve(struct appstore *a, const char *method, const char *path,
                   const char *query, const char *ct, size_t ct_len,
                   const void *body, size_t len, int too_large,
                   struct appstore_answer *ans);

/* ---- provenance files (prov.c) ------------------------------------------ */

/** Reads the Helm provenance file DATA (LEN bytes): the chart's fields
 * from its signed Chart.yaml (as appstore_chart_metadata gives them) and
 * the hex SHA-256 it gives the chart's archive in DIGEST. NULL with ERR
 * when it is not one. */
struct cJSON *appstore_prov_read(const void *data, size_t len, char digest[65],
                                 char *err, size_t err_len);
/** 0 when DATA is a provenance file for the chart CHART (its fields) whose
 * archive's hex SHA-256 is CHART_DIGEST; else -1 with ERR. */
int appstore_prov_check(const void *data, size_t len, const struct cJSON *chart,
                        const char *chart_digest, char *err, size_t err_len);

#endif
