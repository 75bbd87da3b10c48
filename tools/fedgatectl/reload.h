/* `fedgatectl reload`: SIGHUP to the running gateway, found by the pid
 * file in its state_dir or given. */
#ifndef FG_CTL_RELOAD_H
#define FG_CTL_RELOAD_H

/* ARGV[0] is "reload". Returns the exit code. */
int fg_ctl_reload(int argc, char **argv);

#endif
