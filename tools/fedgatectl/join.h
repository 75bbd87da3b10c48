/* `fedgatectl join NAME --direct ...` and `fedgatectl unjoin NAME`: a
 * member added to or removed from conf.d (the source of truth) in one
 * command, checked against the member first and confirmed on the host's
 * own API after the reload. */
#ifndef FG_CTL_JOIN_H
#define FG_CTL_JOIN_H

/* ARGV[0] is "join" / "unjoin". Return the exit code (clusters.h). */
int fg_ctl_join(int argc, char **argv);
int fg_ctl_unjoin(int argc, char **argv);

#endif
