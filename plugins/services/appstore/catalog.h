/* The app store's catalog: Category, Application and ApplicationVersion
 * objects in KubeSphere v4's shapes (application.kubesphere.io/v2), kept
 * by fedgate/objects.h under state_dir, with the review of versions
 * enforced: draft -> submitted -> passed -> active <-> suspended;
 * submitted -> rejected; submitted|rejected -> draft; nothing else. */
#ifndef APPSTORE_CATALOG_H
#define APPSTORE_CATALOG_H

#include <stddef.h>

#include <fedgate/objects.h>
#include <fedgate/service.h>

#define APPSTORE_GROUP "application.kubesphere.io"
#define APPSTORE_VERSION "v2"

/* The catalog's kinds, in this order, ending with resource NULL. */
enum {
    APPSTORE_CATEGORIES,
    APPSTORE_APPLICATIONS,
    APPSTORE_VERSIONS,
    APPSTORE_RELEASES,
    APPSTORE_REPOS
};
extern const struct fg_object_kind appstore_catalog_kinds[];
/* The same for discovery (service.h), with the status subresources. */
extern const struct fg_service_resource appstore_catalog_resources[];

struct appstore_catalog {
    struct fg_objects *objects;
    /* ApplicationRelease's own admission and controller (release.h),
     * asked for that kind only; unset: none */
    struct fg_object_hooks releases;
    /* the hosted repositories' names, which no Repo may take (repo.h) */
    const char *const *hosted;
    size_t n_hosted;
    /* called after a Repo changed (the sync, repo.h), when set */
    void (*repo_changed)(void *arg, int ev, const struct cJSON *obj);
    void *repo_arg;
};

/* Opens the catalog under STATE_DIR/appstore/catalog. 0, or -1 with a
 * one-line reason in ERR. */
int appstore_catalog_open(struct appstore_catalog *c, const char *state_dir,
                          char *err, size_t err_len);
void appstore_catalog_close(struct appstore_catalog *c);

/* Writes the message FMT into ERR (LEN bytes) and returns CODE: an HTTP
 * status for admission, -1 for a plain error. */
int appstore_refuse(char *err, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* NULL when a version's review may go FROM -> TO, else why it may not. */
const char *appstore_review_refusal(const char *from, const char *to);

#endif
