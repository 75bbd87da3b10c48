/* TLS listeners lent to plugins: see host.h ("The listener"). */
#ifndef FG_CLIENT_LISTEN_H
#define FG_CLIENT_LISTEN_H

#include <fedgate/host.h>

/* DEFAULT_CERT and DEFAULT_KEY: the gateway's serving certificate, used
 * when CFG names none (NULL when the gateway has none to lend). */
struct fg_listener *fg_listen(const struct fg_host *h,
                              const struct fg_listen_config *cfg,
                              const char *default_cert, const char *default_key,
                              fg_accept_cb accept, void *arg, char *err,
                              size_t err_len);
void fg_listener_address(const struct fg_listener *l, char *buf, size_t len);
void fg_listener_free(struct fg_listener *l);
void fg_tls_conn_close(struct fg_tls_conn *conn);

#endif
