/* Reading every TLS record a socket read brought in, in the same loop
 * turn (tls_read.h). Without it a connection yields one or two records
 * per loop turn (libevent's SSL_read loop ends when SSL_pending() is 0),
 * so a burst of requests or answers costs a turn, an epoll_wait and a
 * write per record instead of one for the burst. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "net/tls_read.h"

/* Input not yet taken by the connection's reader past which records wait
 * in OpenSSL until the reader drains some: libevent may run the reader's
 * callback only in the next loop turn (it defers past 32 callbacks a
 * turn), and a paused reader must not have its peer's stream read behind
 * its back. Four records. */
#define TLS_READ_AHEAD_INPUT_MAX (64 * 1024)

/* OpenSSL's read buffer: one read() takes up to three whole records (a
 * member's list arrives in 16 KiB records). SSL_MODE_RELEASE_BUFFERS
 * frees it whenever it is empty, so an idle connection does not keep it;
 * it stays under glibc's 64 KiB, past which each free() consolidates the
 * heap (64 KiB cost 20% more CPU per 20 KB list than 51 KiB). */
#define TLS_READ_BUFFER (3 * 17 * 1024)

void fg_tls_read_pending(struct bufferevent *bev)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    if (ssl && (bufferevent_get_enabled(bev) & EV_READ) && SSL_has_pending(ssl))
        event_active(&bev->ev_read, EV_READ, 1);
}

/* Input drained by the reader (a read watermark may lift too) or added
 * while the reader is not behind: when libevent would otherwise wait for
 * the socket. */
static void input_changed(struct evbuffer *buf,
                          const struct evbuffer_cb_info *info, void *arg)
{
    if (info->n_deleted ||
        (info->n_added && evbuffer_get_length(buf) < TLS_READ_AHEAD_INPUT_MAX))
        fg_tls_read_pending(arg);
}

void fg_tls_read_ahead(struct bufferevent *bev)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    if (!ssl)
        return;
    SSL_set_read_ahead(ssl, 1);
    SSL_set_default_read_buffer_len(ssl, TLS_READ_BUFFER);
    evbuffer_add_cb(bufferevent_get_input(bev), input_changed, bev);
}
