/* Drift: one watch per (member, member kind) in use, selected by the
 * managed label, so that a member object someone changed or deleted is
 * queued for its federated object at once, and a member that comes back
 * has every object of that kind queued (it may have missed them). */
#ifndef FEDERATION_WATCH_H
#define FEDERATION_WATCH_H

#include <stddef.h>

#include <fedgate/fedgate.h>

struct federation;

/* OWNER ("resource/ns/name" of a federated object of fed_targets[KIND])
 * is placed in MEMBER: a watch of that kind runs there while some object
 * is, opened as WHO (a user placing such an object there: the watch sees
 * what that user may see). 0, or -1 when out of memory. */
int fed_watch_use(struct federation *f, const char *member, size_t kind,
                  const char *owner, const struct fg_identity *who);

/* The service's apply of OWNER in MEMBER answered with resource version
 * RV: the watch event of that version is no drift. */
void fed_watch_applied(struct federation *f, const char *member, size_t kind,
                       const char *owner, const char *rv);

/* OWNER is gone from MEMBER (or left there, or the member is gone): the
 * watch stops when no other object uses it. */
void fed_watch_forget(struct federation *f, const char *member, size_t kind,
                      const char *owner);

/* Stops and frees every watch. */
void fed_watch_stop_all(struct federation *f);

#endif
