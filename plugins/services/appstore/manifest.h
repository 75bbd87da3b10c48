/* Plain manifests: the YAML documents of a chart's template files when
 * they hold no template action (the host renders such a package itself),
 * and Helm's manifest text, which a release Secret records and an upgrade
 * or uninstall reads back to know what the release made. */
#ifndef APPSTORE_MANIFEST_H
#define APPSTORE_MANIFEST_H

#include <stddef.h>

/* the most documents one release may hold */
#define APPSTORE_MANIFEST_MAX_DOCS 1000

/** One document: its text as written and the object it is. */
struct appstore_doc {
    char *source; /* "CHART/templates/FILE" */
    char *text;   /* NUL-terminated, LEN bytes */
    size_t len;
    char *api_version, *kind, *name;
    char *ns; /* metadata.namespace, or NULL */
};

struct appstore_manifest {
    struct appstore_doc *v;
    size_t n;
};

/** Appends the documents of TEXT (LEN bytes; the file SOURCE) to M:
 * split at "---" and "..." lines, blank or comment-only documents
 * dropped, each one an object with a valid apiVersion, kind, DNS-1123
 * metadata.name and, when set, metadata.namespace. 0, or -1 with
 * "SOURCE:LINE: why" in ERR (M keeps what it had). */
int appstore_manifest_split(struct appstore_manifest *m, const char *source,
                            const char *text, size_t len, char *err,
                            size_t err_len);
/** Helm's manifest text of M ("---\n# Source: S\n" before each document),
 * malloc'd with its length in *LEN; NULL when out of memory. */
char *appstore_manifest_text(const struct appstore_manifest *m, size_t *len);
/** Reads a manifest text back into M (as appstore_manifest_split). */
int appstore_manifest_read(struct appstore_manifest *m, const char *text,
                           size_t len, char *err, size_t err_len);
/** Whether M holds the object D is (apiVersion, kind, namespace, name). */
int appstore_manifest_has(const struct appstore_manifest *m,
                          const struct appstore_doc *d);
void appstore_manifest_free(struct appstore_manifest *m);

struct cJSON;
/** D's path on the member into OUT (CAP bytes) from DISCOVERY
 * ({"GROUP/VERSION": its APIResourceList}), in D's namespace or NS when it
 * names none: 0, or -1 when the member serves no such kind. */
int appstore_doc_path(const struct cJSON *discovery,
                      const struct appstore_doc *d, const char *ns, char *out,
                      size_t cap);

/** Whether S is a DNS-1123 label of at most MAX bytes. */
int appstore_dns_label(const char *s, size_t max);

#endif
