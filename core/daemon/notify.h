/* Service-manager notifications (systemd's sd_notify protocol): readiness,
 * reload and stop, so a Type=notify unit knows when the gateway serves.
 * Without libsystemd at build time (FG_SYSTEMD=OFF) every call does nothing;
 * outside systemd ($NOTIFY_SOCKET unset) libsystemd does nothing. */
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
