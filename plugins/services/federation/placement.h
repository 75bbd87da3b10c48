/* Where a federated object goes: spec.placement.clusters by name, else
 * spec.placement.clusterSelector (matchLabels, matchExpressions) over the
 * members' labels as the host's Cluster API shows them (host.h
 * fleet_members); and the fleet itself, re-read when its version moves. */
#ifndef FEDERATION_PLACEMENT_H
#define FEDERATION_PLACEMENT_H

#include <stddef.h>

struct cJSON;
struct federation;

/* Calls ADD(ARG, NAME) for each cluster FED is placed on, given MEMBERS
 * (the fleet_members array; NULL when unknown: a selector then places
 * nowhere). 0; -1 with ERR when the selector cannot be read; what ADD
 * returns when it is negative. */
int fed_placement(const struct cJSON *fed, const struct cJSON *members,
                  int (*add)(void *arg, const char *name), void *arg, char *err,
                  size_t err_len);

/* Starts the service's fleet view (fleet.c, fedgate/fleet_view.h, polled
 * every second): when a member comes or goes or its labels or readiness
 * change, every federated object is queued. 0, or -1 when out of memory. */
int fed_fleet_start(struct federation *f);
void fed_fleet_stop(struct federation *f);

#endif
