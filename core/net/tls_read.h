/* Reading every TLS record a socket read brought in, in the same loop turn. */
#ifndef FG_NET_TLS_READ_H
#define FG_NET_TLS_READ_H

struct bufferevent;

/* Turns OpenSSL's read-ahead on for the TLS bufferevent BEV (socket mode):
 * one read() takes in as many records as the socket holds, where OpenSSL
 * otherwise reads each record's header and body separately. libevent 2.1
 * decides whether to read again from SSL_pending(), which does not count
 * whole records waiting in the read-ahead buffer (libevent #854): when
 * BEV's reader drains its input, or the input grows while still short of
 * a bound, a read still waiting in OpenSSL gets BEV's read event
 * activated for this loop turn. Call once, before the handshake. */
void fg_tls_read_ahead(struct bufferevent *bev);

/* Reading was enabled again on BEV (a codec attached, a paused stream
 * resumed): records OpenSSL already holds are read in this loop turn
 * instead of waiting for more bytes on the socket. */
void fg_tls_read_pending(struct bufferevent *bev);

#endif
