/* What the files of core/fleet share beyond fleet.h: a Cluster as the
 * fleet keeps it, and the watches' registry. Nothing else includes it. */
#ifndef FG_FLEET_INTERNAL_H
#define FG_FLEET_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <fedgate/driver.h>

#include "fleet/fleet.h"

struct fg_config_section;
struct fg_fleet_watch;

/* One condition of a Cluster's status: "True", "False" or "Unknown". */
struct fg_fleet_condition {
    const char *status;
    const char *reason;
    char message[256];
    int64_t changed_ms; /* lastTransitionTime */
};

struct fg_fleet_cluster {
    struct fg_config_section *section; /* a copy of the member's */
    int is_host;
    char uid[37];
    int64_t created_ms;
    uint64_t rv;
    char connection_type[64];       /* "proxy" for tunnels, else the driver */
    struct fg_member_health health; /* the last read */
    int healthy_streak, failed_streak;
    struct fg_fleet_condition ready;
    int has_agent; /* the driver serves over tunnels the member dials */
    struct fg_fleet_condition agent;
    struct fg_fleet_condition cert; /* when health.client_cert_not_after */
};

/* The Cluster object of C (new), as kube-apiserver would serve it. */
struct cJSON *fg_fleet_cluster_object(const struct fg_fleet_cluster *c);

/* Watches, per worker: each worker's list is touched on its own loop;
 * POSTED (under LOCK) says a flush is on its way there. */
struct fg_fleet_watchers {
    struct fg_gateway *gw;
    pthread_mutex_t lock;
    struct fg_fleet_watch **heads;
    unsigned char *posted;
    unsigned n;
};

int fg_fleet_watchers_init(struct fg_fleet_watchers *w, struct fg_gateway *gw);
void fg_fleet_watchers_free(struct fg_fleet_watchers *w);
/* Something changed: every worker with a watch sends what is new. Any
 * thread. */
void fg_fleet_watchers_notify(struct fg_fleet_watchers *w);

/* The registry of F. */
struct fg_fleet_watchers *fg_fleet_watchers_of(struct fg_fleet *f);

/* What a list or watch of clusters keeps: the cluster NAME ("": any)
 * when its labels match LABELS (NULL: any). */
struct fg_selector;
struct fg_fleet_filter {
    char name[64];
    struct fg_selector *labels;
};

/* Whether OBJ (a Cluster) passes FLT and EX's caller sees it
 * (visible.c). */
int fg_fleet_shown(struct fg_exchange *ex, const struct fg_fleet_filter *flt,
                   const struct cJSON *obj);

/* Starts a watch of clusters on EX (watch.c): events after RV (0: the
 * current state first as ADDED), as Table rows when TABLE (1: v1, 2:
 * v1beta1), of the clusters FLT keeps (its selector is the watch's from
 * now on: freed with it), for at most TIMEOUT_S seconds (0: 30-60
 * min). */
void fg_fleet_watch_start(struct fg_exchange *ex, uint64_t rv, int table,
                          const char *include, struct fg_fleet_filter *flt,
                          int64_t timeout_s);

/* Whether EX's caller sees the cluster MEMBER: some right there beyond
 * what every user holds (visible.c). */
int fg_fleet_visible(struct fg_exchange *ex, const char *member);

/* Writes of clusters (write.c): one writer thread per fleet applies them
 * in order, off every loop. */
struct fg_fleet_writer;
struct fg_fleet_writer *fg_fleet_writer_new(struct fg_gateway *gw);
/* Stops the writer after the write it is applying; what is queued is
 * dropped (its requests ended with the workers). */
void fg_fleet_writer_free(struct fg_fleet_writer *wr);
struct fg_fleet_writer *fg_fleet_writer_of(struct fg_fleet *f);

/* A write of clusters on EX (create, update, patch, delete): its body
 * comes through fg_fleet_write_body and _body_end. */
struct fg_request_in;
void fg_fleet_write_start(struct fg_exchange *ex,
                          const struct fg_request_in *req);

/* The Table of ITEMS (objects) as the Accept asked (TABLE 1: v1, 2:
 * v1beta1), INCLUDE "None", "Metadata" or "Object" (fleet_table.c). */
struct cJSON *fg_fleet_table(struct cJSON *items, int table,
                             const char *include, uint64_t rv);

#endif
