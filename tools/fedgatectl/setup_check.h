/* fedgatectl's look at the gateway's configuration before it hands out a
 * credential: whether the gateway will accept what it issues. */
#ifndef FG_CTL_SETUP_CHECK_H
#define FG_CTL_SETUP_CHECK_H

#include "config/config.h"

/* For a client certificate signed by the CA in CA_FILE: whether [tls]
 * client_ca_file and an authn_x509 plugin of the chain both trust it.
 * For a token appended to TOKEN_FILE (CA_FILE NULL): whether a plugin of
 * the chain reads that file. Prints a warning line on stderr for each
 * problem and returns how many there were. */
int fg_ctl_check_setup(const struct fg_config *cfg, const char *ca_file,
                       const char *token_file);

/* The file the chain's admin_token plugin reads the admin's token from
 * (its token_file, else STATE_DIR/admin.token), malloc'd; NULL when the
 * chain has no admin_token plugin or memory ran out. */
char *fg_ctl_admin_token_file(const struct fg_config *cfg);

#endif
