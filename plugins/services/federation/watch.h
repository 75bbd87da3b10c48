/* Drift: one watch per (member, member kind) in use, selected by the
 * managed label, so that a member object someone changed or deleted is
 * queued for its federated object at once, and a member that comes back
 * has every object of that kind queued (it may have missed them). */
#ifndef FEDERATION_WATCH_H
#define FEDERATION_WATCH_H

#include <stddef.h>

#include <fedgate/fedgate.h>

struct federation;

/* Makes sure a watch of fed_targets[KIND] runs on MEMBER, opened as WHO
 * (a user placing such an object there: the watch sees what that user may
 * see). 0, or -1 when out of memory. */
int fed_watch_ensure(struct federation *f, const char *member, size_t kind,
                     const struct fg_identity *who);

/* Whether a member object event at resource version RV of OWNER in MEMBER
 * is the answer to the service's own apply (so not drift); records RV as
 * the service's when MINE is set. */
int fed_watch_own_version(struct federation *f, const char *member,
                          const char *owner, const char *rv, int mine);

/* The object of OWNER is gone from MEMBER: its version is kept no more. */
void fed_watch_forget(struct federation *f, const char *member,
                      const char *owner);

/* Stops and frees every watch. */
void fed_watch_stop_all(struct federation *f);

#endif
