/* Service-manager notifications (systemd's sd_notify protocol): readiness,
 * reload and stop, so a Type=notify unit knows when the gateway serves.
 * Outside systemd ($NOTIFY_SOCKET unset) every call does nothing. Called
 * from the main thread only ($NOTIFY_SOCKET is read with getenv). */
#ifndef FG_NOTIFY_H
#define FG_NOTIFY_H

/* The listeners are bound, the members instantiated and the workers run;
 * STATUS is a one-line summary systemctl status shows. */
void fg_notify_ready(const char *status);
/* A SIGHUP reload has started; fg_notify_ready ends it. */
void fg_notify_reloading(void);
/* Draining has started: no new connections are accepted. */
void fg_notify_stopping(void);

#endif
