/* The member clusters as the app store's releases see them: host.h
 * fleet_members, read again whenever fleet_version moved (polled each
 * second, as the federation service does), so that a release knows when
 * its member left the fleet, joined it again or became ready. */
#ifndef APPSTORE_FLEET_H
#define APPSTORE_FLEET_H

struct fg_host;
struct appstore_fleet;

enum appstore_member {
    APPSTORE_MEMBER_UNKNOWN, /* no fleet view (a core before ABI 2.4) */
    APPSTORE_MEMBER_ABSENT,  /* not in the fleet */
    APPSTORE_MEMBER_NOT_READY,
    APPSTORE_MEMBER_READY,
};

typedef void (*appstore_fleet_moved)(void *arg);

/** The fleet of H, read now; MOVED(ARG) runs from a timer each time the
 * members' names or readiness changed after that. NULL when out of
 * memory. */
struct appstore_fleet *appstore_fleet_new(const struct fg_host *h,
                                          appstore_fleet_moved moved,
                                          void *arg);
void appstore_fleet_free(struct appstore_fleet *f);
/** What the fleet last read says of the member NAME. */
enum appstore_member appstore_fleet_member(const struct appstore_fleet *f,
                                           const char *name);

#endif
