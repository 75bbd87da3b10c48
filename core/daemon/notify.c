/* Service-manager notifications: see notify.h. The protocol is one
 * datagram of NEWLINE-separated assignments to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or '@' for the abstract namespace), which
 * systemd documents as stable for services to speak without libsystemd;
 * writing it here saves the gateway libsystemd and the six libraries it
 * pulls in (about 1 MiB of every process's resident pages). */
#include "daemon/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

/* A failed notification must not stop the gateway, but a unit that never
 * becomes ready should say why in its log. */
static void notify(const char *text)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !*name)
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || n >= sizeof(sa.sun_path)) {
        fg_warn("sd_notify: NOTIFY_SOCKET=%s is not an AF_UNIX socket", name);
        return;
    }
    memcpy(sa.sun_path, name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if (name[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract: the length says where it ends */
    else
        len++;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    size_t size = strlen(text);
    if (fd < 0 || sendto(fd, text, size, MSG_NOSIGNAL, (struct sockaddr *)&sa,
                         len) != (ssize_t)size)
        fg_warn("sd_notify: %s: %s", name, strerror(errno));
    if (fd >= 0)
        close(fd);
}

void fg_notify_ready(const char *status)
{
    char text[512];
    snprintf(text, sizeof(text), "READY=1\nSTATUS=%s", status);
    notify(text);
}

void fg_notify_reloading(void)
{
    /* systemd 253+ pairs RELOADING=1 with the time it was sent. */
    struct timespec ts;
    char text[96];
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(text, sizeof(text), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ull +
                 (unsigned long long)ts.tv_nsec / 1000u);
    notify(text);
}

void fg_notify_stopping(void)
{
    notify("STOPPING=1");
}
