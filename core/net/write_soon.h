/* Writing a TLS bufferevent's output in the loop turn that filled it. */
#ifndef FG_NET_WRITE_SOON_H
#define FG_NET_WRITE_SOON_H

struct bufferevent;

/* Bytes were added to BEV's output: have them written once the current
 * callbacks of this loop turn are done, instead of after the next
 * epoll_wait reports the socket writable. Everything queued in the turn
 * goes in one pass, and the write event that libevent arms for the
 * output and disarms once it is empty never reaches epoll (the changelist
 * cancels the pair): no epoll_ctl and no extra wake-up per burst. */
void fg_write_soon(struct bufferevent *bev);

#endif
