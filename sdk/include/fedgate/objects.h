/* Kubernetes-style objects that a service plugin (service.h) owns and
 * serves the way kube-apiserver serves a custom resource: get, list and
 * watch (selectors, resourceVersion, Tables for kubectl get), create,
 * update, JSON merge patch and delete, a status subresource, each object
 * kept as one JSON file under a directory (written atomically), so that
 * they survive restarts. The service decides what may be stored (admit)
 * and reacts to what was (changed). Finalizers work as kube-apiserver's:
 * a DELETE of an object with metadata.finalizers only sets its
 * deletionTimestamp (changed() sees it MODIFIED); the update, patch or
 * fg_objects_put that leaves the list empty removes it (DELETED), and a
 * deletion under way takes no new finalizer. Part of libfedgate-sdk (links
 * libcjson and libcrypto). Everything of one store runs on one loop: the
 * service's. */
#ifndef FEDGATE_OBJECTS_H
#define FEDGATE_OBJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "driver.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cJSON;

/** A Table column between NAME and AGE (kubectl get). Arrays end with
 * name NULL. */
struct fg_object_column {
    const char *name; /**< "Status" */
    const char *type; /**< "string", "integer", "date" */
    const char *path; /**< dotted path into the object: "status.state" */
    int priority;     /**< 0: always shown; 1: with -o wide only */
};

/** One resource the store serves. Arrays end with resource NULL. */
struct fg_object_kind {
    const char *group;    /**< "application.kubesphere.io" */
    const char *version;  /**< "v2" */
    const char *resource; /**< plural: "repos" */
    const char *kind;     /**< "Repo" */
    int namespaced;
    const struct fg_object_column *columns; /**< may be NULL */
    uint32_t max_objects;                   /**< 0: 10000 */
    /** The object's OpenAPI v3 schema as JSON text (what kubectl explain
     * shows and apply validates with), or NULL: any object. */
    const char *schema;
};

enum fg_object_event {
    FG_OBJECT_ADDED = 1,
    FG_OBJECT_MODIFIED = 2,
    FG_OBJECT_DELETED = 3,
};

struct fg_object_hooks {
    /** Before a client's create (OLD NULL), update or patch (both set;
     * for the status subresource STATUS is 1) or delete (OBJ NULL) is
     * stored. Returns 0 to store it, or an HTTP status (400, 403, 409,
     * 422) with a one-line message in ERR. May change OBJ (defaults,
     * fields the service owns). WHO is the caller. Optional. */
    int (*admit)(void *arg, const struct fg_object_kind *k,
                 const struct fg_identity *who, struct cJSON *obj,
                 const struct cJSON *old, int status, char *err,
                 size_t err_len);
    /** After any change was stored (a client's or the service's own
     * fg_objects_put / fg_objects_remove). Optional. */
    void (*changed)(void *arg, const struct fg_object_kind *k,
                    enum fg_object_event ev, const struct cJSON *obj);
    void *arg;
};

struct fg_objects;
struct fg_objects_stream;

/** Opens the store of KINDS under DIR (made, with its parents, when missing;
 * one subdirectory per resource, and per namespace for namespaced ones) and
 * loads what is there. NULL with a one-line reason in ERR (a file that is
 * not one object of its kind names the file). */
struct fg_objects *fg_objects_new(const char *dir,
                                  const struct fg_object_kind *kinds,
                                  const struct fg_object_hooks *hooks,
                                  char *err, size_t err_len);
/** Ends every watch (the streams stay the caller's to close) and frees. */
void fg_objects_free(struct fg_objects *s);

/** The kind of S a request is for (its group, version, resource), or
 * NULL. */
const struct fg_object_kind *
fg_objects_kind_of(const struct fg_objects *s,
                   const struct fg_request_info *info);

/* Serving a request, with the shape of a driver's stream (driver.h):
 * open with its head (for one of S's kinds), write the body, end it; the
 * answer comes through CB/CTX, at once or, for a watch, as events arrive
 * until the client goes or the store is freed. Close exactly once. */
struct fg_objects_stream *fg_objects_open(struct fg_objects *s,
                                          const struct fg_request_head *head,
                                          const struct fg_stream_callbacks *cb,
                                          void *ctx);
int fg_objects_write(struct fg_objects_stream *st, const void *buf, size_t len);
void fg_objects_end(struct fg_objects_stream *st);
void fg_objects_resume(struct fg_objects_stream *st);
void fg_objects_close(struct fg_objects_stream *st);

/** The OpenAPI v3 document of S's kinds in GROUP/VERSION (what
 * /openapi/v3/apis/GROUP/VERSION serves): each kind's schema tagged with
 * its group, version and kind, as kubectl looks them up before apply.
 * Malloc'd JSON text, or NULL when out of memory (or a schema is not
 * JSON). */
char *fg_objects_openapi(const struct fg_objects *s, const char *group,
                         const char *version);

/* The service's own access (controllers). */

/** The object NAME (in namespace NS; NULL or "" for cluster-scoped), or
 * NULL. Valid until the next change of the store. */
const struct cJSON *fg_objects_get(const struct fg_objects *s,
                                   const struct fg_object_kind *k,
                                   const char *ns, const char *name);
/** Stores OBJ (taken over) as its object's new state, created when
 * missing (then with a uid and creationTimestamp), without asking admit:
 * a new resourceVersion, the file, the watches, changed(). When OBJ's
 * deletion was asked for and it has no finalizers left, it is removed
 * instead. 0, or -1 with ERR. */
int fg_objects_put(struct fg_objects *s, const struct fg_object_kind *k,
                   struct cJSON *obj, char *err, size_t err_len);
/** Removes the object: 0, or -1 when there is none. */
int fg_objects_remove(struct fg_objects *s, const struct fg_object_kind *k,
                      const char *ns, const char *name);
/** Calls FN for each object of K, in namespace and name order, until it
 * returns nonzero. FN must not change the store. */
void fg_objects_each(const struct fg_objects *s, const struct fg_object_kind *k,
                     int (*fn)(void *arg, const struct cJSON *obj), void *arg);

#ifdef __cplusplus
}
#endif
#endif
