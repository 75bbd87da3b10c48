/* Loads plugins from plugin_dir with dlopen, checks their descriptors
 * against the ABI this core was built with, and checks member and
 * [plugin] sections against the keys of the plugin they name. */
#ifndef FG_PLUGIN_LOADER_H
#define FG_PLUGIN_LOADER_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <fedgate/plugin.h>

#include "config/config.h"
#include "base/error.h"

/* What a plugin file was when it was loaded: a reload loads a file
 * whose identity changed again, and keeps the others. */
struct fg_plugin_file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

/* A loaded plugin, shared by the sets (generations) and the instances
 * that use it: dlclosed when the last of them lets go. */
struct fg_plugin {
    char *path; /* the file in plugin_dir, for messages */
    void *dl;
    const struct fg_plugin_descriptor *desc;
    atomic_uint refs;
    struct fg_plugin_file_id id;
    /* The private copy it was loaded from (a reload), or -1. Open while
     * loaded: its /proc/self/fd/N name is then unique among the loaded
     * objects, which glibc matches by name before identity. */
    int copy_fd;
};

struct fg_plugin_set {
    struct fg_plugin **v; /* each holds a reference */
    size_t n;
    char *dir; /* the directory last loaded from, for messages */
};

/* The built-in plugin directory: FG_PLUGIN_SUBDIR next to the directory of
 * the running executable (build tree and install share that layout), e.g.
 * /usr/bin/fedgate -> /usr/lib/fedgate/plugins. A heap string or NULL. */
char *fg_plugins_default_dir(void);

/* Loads every DIR/ *.so in lexical order into SET (which may already hold
 * plugins: names stay unique across it); DIR NULL: the built-in one. A plugin
 * that fails any check is refused with a line in DIAG naming its file, and
 * unloaded. Returns the number of refusals (a DIR that cannot be read counts as
 * one). */
int fg_plugins_load_dir(const char *dir, struct fg_plugin_set *set,
                        struct fg_diag *diag);

/* Loads RUNNING's directory again into NEXT (empty): a file whose
 * identity (device, inode, size, mtime) is what RUNNING's plugin of that
 * path was loaded from is that plugin, shared; any other file is loaded
 * and checked as any load, from a private copy when an object of that
 * path is still loaded (glibc's dlopen would hand it back). Returns the
 * number of refusals, as fg_plugins_load_dir. */
int fg_plugins_reload_dir(const struct fg_plugin_set *running,
                          struct fg_plugin_set *next, struct fg_diag *diag);

/* The loaded plugin of KIND named NAME, or NULL. */
struct fg_plugin *fg_plugins_find(const struct fg_plugin_set *set,
                                  enum fg_plugin_kind kind, const char *name);

/* P, with one more reference. Any thread. */
struct fg_plugin *fg_plugin_ref(struct fg_plugin *p);
/* Lets go of P: the last reference dlcloses it. Any thread. */
void fg_plugin_unref(struct fg_plugin *p);

/* Lets go of every plugin of SET and empties it. */
void fg_plugins_unload(struct fg_plugin_set *set);

/* Lets go of the plugins of SET that CFG, validated against SET, does not
 * name: each loaded plugin costs resident pages (its code, data and
 * libraries) whether used or not. A reload loads the directory again, so
 * a plugin the next configuration names is found then. */
void fg_plugins_keep_used(struct fg_plugin_set *set,
                          const struct fg_config *cfg);

/* Checks every [member "NAME"] of CFG: its driver must be a loaded driver
 * plugin, and its keys must pass that driver's config_keys (defaults are
 * filled, paths resolved). Returns the number of problems added to DIAG. */
int fg_config_check_members(struct fg_config *cfg,
                            const struct fg_plugin_set *set,
                            struct fg_diag *diag);

/* Checks the [policy] chain of CFG: each [plugin "NAME"] section's plugin
 * (its `plugin` key, else NAME) must be a loaded policy plugin and the
 * section's keys must pass its config_keys; some plugin of the chain must
 * authenticate. Every other [plugin] section must name a service plugin
 * (on the host, its routes its own): they become cfg->services. Returns
 * the number of problems added to DIAG. */
int fg_config_check_plugins(struct fg_config *cfg,
                            const struct fg_plugin_set *set,
                            struct fg_diag *diag);

/* The loaded policy plugin a [plugin "NAME"] section S names, or NULL. */
struct fg_plugin *fg_config_plugin_of(const struct fg_config_section *s,
                                      const struct fg_plugin_set *set);
/* The loaded service plugin a [plugin "NAME"] section S names, or NULL. */
struct fg_plugin *fg_config_service_of(const struct fg_config_section *s,
                                       const struct fg_plugin_set *set);

#endif
