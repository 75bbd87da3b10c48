/* Service-manager notifications: see notify.h. */
#include "daemon/notify.h"

#ifdef FG_HAVE_SYSTEMD
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "base/log.h"

/* A failed notification must not stop the gateway, but a unit that never
 * becomes ready should say why in its log. */
static void check(int rc)
{
    if (rc < 0)
        fg_warn("sd_notify: %s", strerror(-rc));
}

void fg_notify_ready(const char *status)
{
    check(sd_notifyf(0, "READY=1\nSTATUS=%s", status));
}

void fg_notify_reloading(void)
{
    /* systemd 253+ pairs RELOADING=1 with the time it was sent. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    check(sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
                     (unsigned long long)ts.tv_sec * 1000000ull +
                         (unsigned long long)ts.tv_nsec / 1000u));
}

void fg_notify_stopping(void)
{
    check(sd_notify(0, "STOPPING=1"));
}
#else
void fg_notify_ready(const char *status)
{
    (void)status;
}

void fg_notify_reloading(void)
{
}

void fg_notify_stopping(void)
{
}
#endif
