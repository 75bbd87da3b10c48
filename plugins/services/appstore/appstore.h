/* The app store service's internals: chart archives and their Chart.yaml,
 * SemVer, the repository store on disk, index.yaml, the HTTP routes and
 * multipart bodies. Names are prefixed appstore_. */
#ifndef APPSTORE_H
#define APPSTORE_H

#include <stddef.h>
#include <stdint.h>

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

#endif
