/* Requests for a member whose driver has one instance on one owner loop
 * (FG_SCOPE_ONE_LOOP, driver.h): on every other worker the member's ops
 * are this proxy's, which delivers the stream to the owner's loop and every
 * callback back to the request's own loop, through the workers' job
 * queues. The driver sees one loop; the exchange sees a driver. */
#ifndef FG_CROSS_LOOP_H
#define FG_CROSS_LOOP_H

#include <fedgate/driver.h>

struct fg_member_rt;

/* The ops a non-owner worker uses for a one-loop member; their instance is
 * that worker's own fg_member_rt, whose owner field names the owner
 * worker's fg_member_rt of the same member. */
extern const struct fg_driver_ops fg_cross_loop_ops;

/* On the owner loop: keeps a copy of the member's health that other
 * workers read (metrics), refreshed from the driver every second. OWNER is
 * the owner worker's fg_member_rt. Returns 0 or -1 (out of memory). */
int fg_cross_loop_health_start(struct fg_member_rt *owner);
void fg_cross_loop_health_stop(struct fg_member_rt *owner);

#endif
