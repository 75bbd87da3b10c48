/* What objects.c (the store), objects_http.c (serving requests) and
 * objects_table.c (Tables) share; nothing else includes it. */
#ifndef FG_OBJECTS_INTERNAL_H
#define FG_OBJECTS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include <fedgate/objects.h>

/* The events a watch may resume from (resourceVersion=N). */
#define FG_OBJECTS_RING 1024

struct fg_objects_entry {
    char *ns; /* "" for cluster-scoped */
    char *name;
    cJSON *obj;
};

struct fg_objects_kind_rt {
    const struct fg_object_kind *k;
    struct fg_objects_entry *v; /* sorted by (ns, name) */
    size_t n, cap;
};

struct fg_objects_event {
    const struct fg_object_kind *k;
    enum fg_object_event type;
    uint64_t rv;
    cJSON *obj; /* as it was then */
};

struct fg_objects {
    char *dir;
    struct fg_objects_kind_rt *kinds;
    size_t n_kinds;
    struct fg_object_hooks hooks;
    uint64_t rv;
    struct fg_objects_event ring[FG_OBJECTS_RING];
    size_t ring_start, ring_n;
    uint64_t forgotten_rv; /* the newest event no longer in the ring */
    struct fg_objects_stream *watches;
};

struct fg_objects_kind_rt *fg__objects_rt(const struct fg_objects *s,
                                          const struct fg_object_kind *k);
/* The index of (NS, NAME) in RT, or -(insertion point) - 1. */
long fg__objects_find(const struct fg_objects_kind_rt *rt, const char *ns,
                      const char *name);
/* Stores OBJ (taken over) under its metadata: a new resourceVersion, the
 * file, the watches, changed(). EV says ADDED or MODIFIED. 0 or -1. */
int fg__objects_store(struct fg_objects *s, struct fg_objects_kind_rt *rt,
                      cJSON *obj, char *err, size_t err_len);
/* Removes entry I of RT the same way. */
void fg__objects_drop(struct fg_objects *s, struct fg_objects_kind_rt *rt,
                      size_t i);

/* A new object's metadata: uid, creationTimestamp, generation 1, no
 * resourceVersion or deletionTimestamp. */
void fg__objects_stamp(cJSON *meta);
/* Now as RFC 3339 (UTC, seconds), as metav1.Time prints. */
void fg__objects_now(char out[32]);
/* Whether OBJ's deletion was asked for and no finalizer holds it any
 * more: storing it removes it instead. */
int fg__objects_finalized(const cJSON *obj);
/* N random hex digits and a NUL into OUT (N <= 64): 0, or -1. */
int fg__objects_random_hex(char *out, size_t n);

/* Watches (objects_http.c): tells every watch of S about event E. */
void fg__objects_notify(struct fg_objects *s, const struct fg_objects_event *e);
/* Ends every watch of S: the store goes away. */
void fg__objects_end_watches(struct fg_objects *s);

/* A metav1.Table (objects_table.c) of the N objects OBJS of K; LIST_RV the
 * list's resourceVersion (NULL: none, for watch events). */
cJSON *fg__objects_table(const struct fg_object_kind *k,
                         const cJSON *const *objs, size_t n,
                         const char *list_rv);

#endif
