/* SIGHUP (and `fedgatectl reload`): the configuration directory read
 * again into a new generation, checked as --check and a start check it,
 * and put in place on every worker only when whole and valid. */
#ifndef FG_RELOAD_H
#define FG_RELOAD_H

#include <event2/util.h>

/* The SIGHUP event's callback, on the first worker's loop; ARG is the
 * struct fg_gateway. */
void fg_reload_signal(evutil_socket_t sig, short what, void *arg);

#endif
