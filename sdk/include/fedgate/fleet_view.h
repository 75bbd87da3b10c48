/* The member clusters as a service on the host sees them: host.h's
 * fleet_members, read again whenever fleet_version moved (polled, which is
 * a mutex and a compare in the core), so a service hears when members
 * join, leave, change labels or readiness without asking each time. */
#ifndef FEDGATE_FLEET_VIEW_H
#define FEDGATE_FLEET_VIEW_H

#include "host.h"

struct cJSON;
struct fg_fleet_view;

typedef void (*fg_fleet_moved)(void *arg);

/** The fleet of H, read now; then read again every POLL_MS (0: 1000) when
 * its version moved, and MOVED(ARG) runs (from the timer, on the service's
 * loop) when what it says changed. On a core without a fleet view (before
 * ABI 2.4, or the member role) the view stays unknown and never moves.
 * NULL when out of memory. */
struct fg_fleet_view *fg_fleet_view_new(const struct fg_host *h,
                                        unsigned poll_ms, fg_fleet_moved moved,
                                        void *arg);
void fg_fleet_view_free(struct fg_fleet_view *v);

/** The members as last read: fleet_members' array of {"name", "labels",
 * "ready"}, or NULL while unknown. Valid until the next loop turn. */
const struct cJSON *fg_fleet_view_members(const struct fg_fleet_view *v);

/** The member NAME of V's last read, or NULL when it is not in it (or the
 * view is unknown: fg_fleet_view_members says which). */
const struct cJSON *fg_fleet_view_member(const struct fg_fleet_view *v,
                                         const char *name);

#endif
