/* The federation service's instance: the store of federated objects, the
 * queue of objects to reconcile and the jobs doing it (reconcile.c), and
 * what plugin.c and reconcile.c share. */
#ifndef FEDERATION_H
#define FEDERATION_H

#include <stddef.h>
#include <stdint.h>

#include <fedgate/fedgate.h>
#include <fedgate/fleet_view.h>
#include <fedgate/objects.h>

#include "types.h"

/* Labels and annotations the service reads and writes. */
#define FED_MANAGED_LABEL "kubefed.io/managed"
#define FED_OWNER_ANNOTATION "fedgate.io/federated-object"
#define FED_WRITER_ANNOTATION "fedgate.io/last-spec-writer"
#define FED_ORPHAN_ANNOTATION "kubefed.io/orphan"
#define FED_CONFLICT_ANNOTATION "fedgate.io/conflict-resolution"
/* Holds a federated object until it is gone from every cluster. */
#define FED_FINALIZER "kubefed.io/sync-controller"

struct cJSON;
struct fed_job;
struct fed_key;
struct fed_watch;

struct federation {
    const struct fg_host *host;
    struct fg_objects *objects;
    struct fg_timer *kick;   /* starts queued jobs on a fresh loop turn */
    struct fg_timer *resync; /* the periodic full resync */
    struct fg_timer *retry;  /* runs the objects in LATER again */
    struct fed_key *later;   /* objects whose last job left a failure */
    uint64_t retry_ms;
    struct fed_key *queue; /* objects waiting for a job, oldest first */
    struct fed_job *jobs;  /* running */
    unsigned running;
    unsigned max_running;
    uint64_t resync_ms;
    int storing; /* the service's own status write is being stored */
    struct fed_watch *watches;   /* watch.h */
    struct fg_fleet_view *fleet; /* placement.h */
};

/* Reconciler (reconcile.c). */
int fed_reconcile_start(struct federation *f, char *err, size_t err_len);
void fed_reconcile_stop(struct federation *f);
/* Queues every federated object (placement.c). */
void fed_queue_all(struct federation *f);
/* Queues the object K/NS/NAME (a federated kind or an RSP) for a job. */
void fed_enqueue(struct federation *f, const struct fg_object_kind *k,
                 const char *ns, const char *name);

/* Admission (admit.c): the store's hooks. */
int fed_admit(void *arg, const struct fg_object_kind *k,
              const struct fg_identity *who, struct cJSON *obj,
              const struct cJSON *old, int status, char *err, size_t err_len);
void fed_changed(void *arg, const struct fg_object_kind *k,
                 enum fg_object_event ev, const struct cJSON *obj);

#endif
