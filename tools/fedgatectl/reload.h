/* `fedgatectl reload`: SIGHUP to the running gateway, found by the pid
 * file in its state_dir or given. */
#ifndef FG_CTL_RELOAD_H
#define FG_CTL_RELOAD_H

#include <stdio.h>

/* ARGV[0] is "reload". Returns the exit code. */
int fg_ctl_reload(int argc, char **argv);
/* The same, saying what was sent on REPORT (join keeps standard output
 * for the manifest it prints). */
int fg_ctl_reload_to(int argc, char **argv, FILE *report);

#endif
