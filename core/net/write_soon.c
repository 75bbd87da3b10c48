/* Writing a TLS bufferevent's output in the loop turn that filled it
 * (write_soon.h). libevent 2.1's OpenSSL bufferevent writes only from its
 * write event; activating that event runs its writer (SSL_write of what
 * is queued) later in this turn. Activating it again in the same turn
 * does nothing more, so every producer of the turn shares one pass. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include "net/write_soon.h"

void fg_write_soon(struct bufferevent *bev)
{
    if ((bufferevent_get_enabled(bev) & EV_WRITE) &&
        evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        event_active(&bev->ev_write, EV_WRITE, 1);
}
