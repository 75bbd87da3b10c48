/* The fleet as the host's own API sees it (DESIGN.md "One request": the
 * host's own API): one Cluster object per member, a view of the running
 * configuration generation and of the members' health, with a
 * resourceVersion that moves on every change and a ring of the changes for
 * watches. The state is the gateway's, under one lock; worker 0's loop
 * keeps it (configuration changes, health reads with hysteresis), every
 * worker serves it. */
#ifndef FG_FLEET_H
#define FG_FLEET_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct fg_exchange;
struct fg_fleet;
struct fg_gateway;
struct fg_request_in;

#define FG_FLEET_GROUP "cluster.kubesphere.io"
#define FG_FLEET_VERSION "v1alpha1"

/* The fleet of GW (host role), read from worker 0's view now and kept on
 * worker 0's loop from then on; NULL when out of memory. */
struct fg_fleet *fg_fleet_new(struct fg_gateway *gw);
void fg_fleet_free(struct fg_fleet *f);

/* The configuration changed (a reload took): look again now. Worker 0's
 * loop. */
void fg_fleet_poke(struct fg_fleet *f);

/* Serves a request for the host's own API (no /clusters/ prefix) that the
 * policy chain let through. */
void fg_fleet_serve(struct fg_exchange *ex, const struct fg_request_in *req);

/* Worker WK drains (shutdown): its watches of clusters end now, as
 * kube-apiserver ends watches when it stops. */
struct fg_worker;
void fg_fleet_drain(struct fg_worker *wk);

/* Request body bytes and the end of the body of a write of clusters
 * (EX's fleet_write is set). */
void fg_fleet_write_body(struct fg_exchange *ex, const void *buf, size_t len);
void fg_fleet_write_body_end(struct fg_exchange *ex);
/* The exchange ends: its write, applied or not, answers no one. */
void fg_fleet_write_finish(struct fg_exchange *ex);

/* The exchange ends: a watch it held stops. */
void fg_fleet_finish(struct fg_exchange *ex);

/* ---- for the files of core/fleet ---------------------------------------- */

/* A snapshot of the Cluster objects (copies, in configuration order) and
 * the resourceVersion they are at. Returns 0, or -1 out of memory. */
int fg_fleet_snapshot(struct fg_fleet *f, struct cJSON **items, uint64_t *rv);

/* The Cluster NAME (a copy), or NULL when there is none (*MISSING set) or
 * out of memory. */
struct cJSON *fg_fleet_get(struct fg_fleet *f, const char *name, int *missing);

/* Copies of the changes after RV into OUT (a JSON array of
 * {"type":T,"object":O}), and the resourceVersion of the last one in
 * *LAST. Returns 0, 1 when RV is older than the ring holds (the watcher
 * must list again: 410), -1 out of memory. */
int fg_fleet_events_since(struct fg_fleet *f, uint64_t rv, struct cJSON *out,
                          uint64_t *last);

/* The resourceVersion now. */
uint64_t fg_fleet_rv(struct fg_fleet *f);

/* The members as host.h fleet_members gives them to a service: malloc'd
 * JSON text [{"name","labels","ready"}] in configuration order, and the
 * resourceVersion it was read at in *RV; NULL when out of memory. */
char *fg_fleet_members(struct fg_fleet *f, uint64_t *rv);

#endif
