/* The byte pipe of an upgraded exchange (exec, attach, port-forward):
 * after the member's 101, bytes flow both ways untouched, each direction
 * with backpressure. Before the 101 nothing of the client's reaches the
 * member (CVE-2018-1002105): h1.c calls into here only once the member
 * switched. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/client.h"

void fg_client_upgrade_pump(struct fg_client_stream *st,
                            struct bufferevent *bev)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    while (st->state != FG_CLIENT_ST_DONE && !st->client_paused &&
           evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        int rc = fg_client_stream_data(st, v.iov_base, v.iov_len);
        evbuffer_drain(in, v.iov_len);
        if (rc < 0) {
            fg_client_stream_fail(st, 502, "BadGateway",
                                  "the client went away");
            return;
        }
    }
    if (st->state != FG_CLIENT_ST_DONE && st->client_paused)
        bufferevent_disable(bev, EV_READ);
}

int fg_client_upgrade_write(struct fg_client_stream *st, const void *buf,
                            size_t len)
{
    struct bufferevent *bev = fg_client_h1_bev(st->h1);
    if (!bev || bufferevent_write(bev, buf, len) != 0)
        return -1;
    if (!st->body_paused && evbuffer_get_length(bufferevent_get_output(bev)) >
                                FG_CLIENT_BODY_HIGH) {
        st->body_paused = 1;
        st->cb->body_pause(st->ctx);
    }
    return 0;
}

void fg_client_upgrade_drained(struct fg_client_stream *st,
                               struct bufferevent *bev)
{
    if (st->body_paused && st->state != FG_CLIENT_ST_DONE &&
        evbuffer_get_length(bufferevent_get_output(bev)) < FG_CLIENT_BODY_LOW) {
        st->body_paused = 0;
        st->cb->body_resume(st->ctx);
    }
}
