/* The whole check of a configuration against the loaded plugins, one code
 * path for `fedgate --check`, the start and a reload (SIGHUP), and what a
 * reload cannot apply to a running gateway. */
#ifndef FG_CONFIG_VALIDATE_H
#define FG_CONFIG_VALIDATE_H

#include "base/error.h"
#include "config/config.h"
#include "plugin/plugin_loader.h"

/* Checks the [tls] files, every member section against its driver and the
 * [policy] chain against its plugins (defaults filled, paths resolved in
 * CFG). Returns the number of problems added to DIAG as FILE:LINE lines. */
int fg_config_validate(struct fg_config *cfg, const struct fg_plugin_set *set,
                       struct fg_diag *diag);

/* What NEXT changes that only a restart applies (role, state_dir,
 * plugin_dir, workers, [tunnel]), each a FILE:LINE line in DIAG. Returns
 * their number. */
int fg_config_restart_only(const struct fg_config *running,
                           const struct fg_config *next, struct fg_diag *diag);

#endif
