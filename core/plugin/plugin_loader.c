/* Loads plugins and checks them before the core calls any of their code
 * beyond the entry function (see plugin_loader.h). A plugin that does not
 * pass is unloaded and named in a diagnostic: the gateway never calls into
 * a plugin it has not checked, and a bad plugin is never a crash. */
#include "plugin/plugin_loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fedgate/driver.h>
#include <fedgate/policy.h>

#include "config/ini_values.h"

/* The sizes of the structs as ABI 2.0 defined them: later minors add
 * fields at the end, so a plugin's struct must be at least this big. */
#define DESCRIPTOR_SIZE_2_0 sizeof(struct fg_plugin_descriptor)
#define DRIVER_OPS_SIZE_2_0                                                    \
    (offsetof(struct fg_driver_ops, reload) + sizeof(void (*)(void)))
#define POLICY_OPS_SIZE_2_0                                                    \
    (offsetof(struct fg_policy_ops, reload) + sizeof(void (*)(void)))
#define POLICY_PHASES_ALL                                                      \
    (FG_PHASE_AUTHENTICATE | FG_PHASE_AUTHORIZE | FG_PHASE_ADMIT |             \
     FG_PHASE_AUDIT)

#ifndef FG_PLUGIN_SUBDIR
#define FG_PLUGIN_SUBDIR "lib/fedgate/plugins" /* set by core/CMakeLists */
#endif

/* A key table without its NULL-name end would be read past its end; stop
 * somewhere rather than run off. */
#define MAX_CONFIG_KEYS 1024

static const char *kind_name(enum fg_plugin_kind kind)
{
    switch (kind) {
    case FG_PLUGIN_DRIVER:
        return "driver";
    case FG_PLUGIN_POLICY:
        return "policy";
    case FG_PLUGIN_SERVICE:
        return "service";
    }
    return "unknown";
}

static int check_driver_ops(const struct fg_driver_ops *ops, char *why,
                            size_t len)
{
    if (!ops) {
        snprintf(why, len, "driver ops are NULL");
        return -1;
    }
    if (ops->struct_size < DRIVER_OPS_SIZE_2_0) {
        snprintf(why, len,
                 "driver ops struct_size %u is smaller than ABI "
                 "2.0's %zu",
                 (unsigned)ops->struct_size, (size_t)DRIVER_OPS_SIZE_2_0);
        return -1;
    }
    if (ops->scope != FG_SCOPE_WORKER && ops->scope != FG_SCOPE_ONE_LOOP) {
        snprintf(why, len, "driver ops scope %d is unknown", (int)ops->scope);
        return -1;
    }
    const struct {
        const char *name;
        int missing;
    } mandatory[] = {
        {"instance_new", !ops->instance_new},
        {"instance_free", !ops->instance_free},
        {"stream_open", !ops->stream_open},
        {"stream_write", !ops->stream_write},
        {"stream_end", !ops->stream_end},
        {"stream_resume", !ops->stream_resume},
        {"stream_close", !ops->stream_close},
    };
    for (size_t i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++) {
        if (mandatory[i].missing) {
            snprintf(why, len, "driver op %s is NULL", mandatory[i].name);
            return -1;
        }
    }
    return 0;
}

/* A phase op is set exactly when its bit is in PHASES: a bit without its
 * op would be a call through NULL, an op without its bit a phase the
 * plugin meant to run and never would. */
static int check_policy_ops(const struct fg_policy_ops *ops, char *why,
                            size_t len)
{
    if (!ops) {
        snprintf(why, len, "policy ops are NULL");
        return -1;
    }
    if (ops->struct_size < POLICY_OPS_SIZE_2_0) {
        snprintf(why, len,
                 "policy ops struct_size %u is smaller than ABI 2.0's %zu",
                 (unsigned)ops->struct_size, (size_t)POLICY_OPS_SIZE_2_0);
        return -1;
    }
    if (ops->phases == 0 || (ops->phases & ~(uint32_t)POLICY_PHASES_ALL)) {
        snprintf(why, len, "policy ops phases 0x%x: %s", (unsigned)ops->phases,
                 ops->phases ? "unknown bits" : "no phase");
        return -1;
    }
    if (!ops->instance_new || !ops->instance_free) {
        snprintf(why, len, "policy op %s is NULL",
                 ops->instance_new ? "instance_free" : "instance_new");
        return -1;
    }
    const struct {
        const char *name;
        uint32_t bit;
        int set;
    } phase_ops[] = {
        {"authenticate", FG_PHASE_AUTHENTICATE, ops->authenticate != NULL},
        {"authorize", FG_PHASE_AUTHORIZE, ops->authorize != NULL},
        {"admit", FG_PHASE_ADMIT, ops->admit != NULL},
        {"audit", FG_PHASE_AUDIT, ops->audit != NULL},
    };
    for (size_t i = 0; i < sizeof(phase_ops) / sizeof(phase_ops[0]); i++) {
        int in_phases = (ops->phases & phase_ops[i].bit) != 0;
        if (in_phases != phase_ops[i].set) {
            snprintf(why, len,
                     in_phases ? "policy op %s is NULL but its phase is set"
                               : "policy op %s is set but not its phase",
                     phase_ops[i].name);
            return -1;
        }
    }
    if ((ops->phases & ~(uint32_t)FG_PHASE_AUDIT) && !ops->cancel) {
        snprintf(why, len, "policy op cancel is NULL (a verdict may pend)");
        return -1;
    }
    return 0;
}

static int check_keys(const struct fg_plugin_descriptor *d, char *why,
                      size_t len)
{
    const struct fg_config_key *keys = d->config_keys;
    if (!keys)
        return 0;
    for (size_t i = 0; keys[i].name; i++) {
        const struct fg_config_key *k = &keys[i];
        char err[256];
        char *norm;
        if (i == MAX_CONFIG_KEYS) {
            snprintf(why, len,
                     "config_keys: no end (NULL name) within %d "
                     "keys",
                     MAX_CONFIG_KEYS);
            return -1;
        }
        if (!fg_is_plugin_name(k->name)) {
            snprintf(why, len, "config key \"%.64s\": not [a-z0-9_-]+",
                     k->name);
            return -1;
        }
        const char *core_key = d->kind == FG_PLUGIN_DRIVER   ? "driver"
                               : d->kind == FG_PLUGIN_POLICY ? "plugin"
                                                             : NULL;
        if (core_key && strcmp(k->name, core_key) == 0) {
            snprintf(why, len, "config key \"%s\" is the core's", core_key);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(keys[j].name, k->name) == 0) {
                snprintf(why, len, "config key \"%s\" is declared twice",
                         k->name);
                return -1;
            }
        }
        if (k->type < FG_CONFIG_STRING || k->type > FG_CONFIG_FILE) {
            snprintf(why, len, "config key \"%s\": unknown type %d", k->name,
                     (int)k->type);
            return -1;
        }
        if ((k->type == FG_CONFIG_INT || k->type == FG_CONFIG_DURATION) &&
            k->min > k->max) {
            snprintf(why, len, "config key \"%s\": min is above max", k->name);
            return -1;
        }
        if (k->default_value) {
            if (fg_ini_value_check(k, NULL, k->default_value, &norm, err,
                                   sizeof(err)) != 0) {
                snprintf(why, len, "config key default: %s", err);
                return -1;
            }
            free(norm);
        }
    }
    return 0;
}

/* The plugin's build signature against the core's own (plugin.h): a
 * plugin that shares libevent or OpenSSL structs with the core must have
 * been compiled against the same majors. */
static int check_signature(const struct fg_build_signature *sig, char *why,
                           size_t len)
{
    static const struct fg_build_signature core = FG_BUILD_SIGNATURE;
    if (sig->magic != FG_SIGNATURE_MAGIC) {
        snprintf(why, len,
                 "no build signature (descriptor without "
                 "FG_BUILD_SIGNATURE)");
        return -1;
    }
    if (sig->pointer_bytes != core.pointer_bytes) {
        snprintf(why, len, "built for %u-byte pointers, this core has %u",
                 (unsigned)sig->pointer_bytes, (unsigned)core.pointer_bytes);
        return -1;
    }
    if (sig->libevent && sig->libevent != core.libevent) {
        snprintf(
            why, len,
            "built against libevent %u.%u, this core runs libevent %u.%u",
            (unsigned)(sig->libevent >> 8), (unsigned)(sig->libevent & 255),
            (unsigned)(core.libevent >> 8), (unsigned)(core.libevent & 255));
        return -1;
    }
    if (sig->openssl && sig->openssl != core.openssl) {
        snprintf(why, len,
                 "built against OpenSSL %u, this core runs OpenSSL %u",
                 (unsigned)sig->openssl, (unsigned)core.openssl);
        return -1;
    }
    return 0;
}

/* Returns 0 when D may be used, else -1 with the reason in WHY. */
static int check_descriptor(const struct fg_plugin_set *set,
                            const struct fg_plugin_descriptor *d, char *why,
                            size_t len)
{
    if (d->abi_major != FG_ABI_MAJOR || d->abi_minor > FG_ABI_MINOR) {
        snprintf(why, len, "built for ABI %u.%u, this core has %d.%d%s",
                 (unsigned)d->abi_major, (unsigned)d->abi_minor, FG_ABI_MAJOR,
                 FG_ABI_MINOR,
                 d->abi_major == FG_ABI_MAJOR ? " (plugin is newer)" : "");
        return -1;
    }
    if (d->struct_size < DESCRIPTOR_SIZE_2_0) {
        snprintf(why, len,
                 "descriptor struct_size %u is smaller than ABI "
                 "2.0's %zu",
                 (unsigned)d->struct_size, (size_t)DESCRIPTOR_SIZE_2_0);
        return -1;
    }
    if (check_signature(&d->signature, why, len) != 0)
        return -1;
    if (d->kind != FG_PLUGIN_DRIVER && d->kind != FG_PLUGIN_POLICY) {
        /* Service plugins are reserved: no ops table is defined yet. */
        snprintf(why, len, "plugin kind %d (%s) is not supported", (int)d->kind,
                 kind_name(d->kind));
        return -1;
    }
    if (!fg_is_plugin_name(d->name)) {
        snprintf(why, len, "plugin name \"%.64s\" is not [a-z0-9_-]+",
                 d->name ? d->name : "(null)");
        return -1;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->v[i].desc->name, d->name) == 0) {
            snprintf(why, len, "plugin name \"%s\" already loaded from %s",
                     d->name, set->v[i].path);
            return -1;
        }
    }
    if (d->kind == FG_PLUGIN_DRIVER ? check_driver_ops(d->ops, why, len) != 0
                                    : check_policy_ops(d->ops, why, len) != 0)
        return -1;
    return check_keys(d, why, len);
}

/* Loads PATH into SET; returns 0, or -1 after reporting the refusal. */
static int load_one(const char *path, struct fg_plugin_set *set,
                    struct fg_diag *diag)
{
    char why[512];
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        fg_diag_add(diag, NULL, 0, "%s: refused: cannot load: %s", path,
                    e ? e : "unknown error");
        return -1;
    }
    dlerror();
    void *sym = dlsym(dl, FG_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        fg_diag_add(diag, NULL, 0,
                    "%s: refused: no " FG_PLUGIN_ENTRY_SYMBOL
                    " symbol (not a fedgate plugin?)",
                    path);
        dlclose(dl);
        return -1;
    }
    /* POSIX guarantees a data pointer from dlsym can hold a function's
     * address; the copy avoids ISO C's object-to-function cast. */
    fg_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof(entry));
    const struct fg_plugin_descriptor *d = entry(FG_ABI_MAJOR, FG_ABI_MINOR);
    if (!d) {
        fg_diag_add(diag, NULL, 0,
                    "%s: refused: the plugin declined this core (ABI %d.%d)",
                    path, FG_ABI_MAJOR, FG_ABI_MINOR);
        dlclose(dl);
        return -1;
    }
    if (check_descriptor(set, d, why, sizeof(why)) != 0) {
        fg_diag_add(diag, NULL, 0, "%s: refused: %s", path, why);
        dlclose(dl);
        return -1;
    }
    struct fg_plugin *v = realloc(set->v, (set->n + 1) * sizeof(*v));
    char *p = strdup(path);
    if (!v || !p) {
        if (v)
            set->v = v;
        free(p);
        fg_diag_add(diag, NULL, 0, "%s: refused: out of memory", path);
        dlclose(dl);
        return -1;
    }
    set->v = v;
    v[set->n++] = (struct fg_plugin){.path = p, .dl = dl, .desc = d};
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *fg_plugins_default_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    char rel[PATH_MAX];
    snprintf(rel, sizeof(rel), "../%s", FG_PLUGIN_SUBDIR);
    return fg_ini_path_join(exe, rel);
}

int fg_plugins_load_dir(const char *dir, struct fg_plugin_set *set,
                        struct fg_diag *diag)
{
    char *copy = dir ? strdup(dir) : fg_plugins_default_dir();
    if (!copy) {
        fg_diag_add(diag, NULL, 0, "%s: cannot find the plugin directory",
                    dir ? dir : "built-in plugin_dir");
        return 1;
    }
    free(set->dir);
    set->dir = copy;
    dir = copy;
    DIR *d = opendir(dir);
    if (!d) {
        fg_diag_add(diag, NULL, 0, "%s: %s", dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int refused = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= 3 ||
            strcmp(e->d_name + len - 3, ".so") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **v = realloc(names, cap * sizeof(*v));
            if (!v) {
                fg_diag_add(diag, NULL, 0, "%s: out of memory", dir);
                refused++;
                break;
            }
            names = v;
        }
        if ((names[n] = strdup(e->d_name)) != NULL)
            n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        /* dlopen searches the library path for a name without '/'. */
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(len);
        if (!path || (snprintf(path, len, "%s/%s", dir, names[i]),
                      load_one(path, set, diag) != 0))
            refused++;
        free(path);
        free(names[i]);
    }
    free(names);
    return refused;
}

const struct fg_plugin *fg_plugins_find(const struct fg_plugin_set *set,
                                        enum fg_plugin_kind kind,
                                        const char *name)
{
    for (size_t i = 0; set && name && i < set->n; i++)
        if (set->v[i].desc->kind == kind &&
            strcmp(set->v[i].desc->name, name) == 0)
            return &set->v[i];
    return NULL;
}

void fg_plugins_unload(struct fg_plugin_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        dlclose(set->v[i].dl);
        free(set->v[i].path);
    }
    free(set->v);
    free(set->dir);
    set->v = NULL;
    set->dir = NULL;
    set->n = 0;
}

int fg_config_check_members(struct fg_config *cfg,
                            const struct fg_plugin_set *set,
                            struct fg_diag *diag)
{
    int problems = 0;
    for (size_t i = 0; i < cfg->n_members; i++) {
        struct fg_config_section *s = &cfg->members[i];
        const char *driver = fg_config_get(s, "driver");
        if (!driver) {
            fg_diag_add(diag, s->file, s->line,
                        "member \"%s\": missing key \"driver\"", s->name);
            problems++;
            continue;
        }
        const struct fg_plugin *p =
            fg_plugins_find(set, FG_PLUGIN_DRIVER, driver);
        if (!p) {
            int line = s->line;
            for (size_t j = 0; j < s->n_entries; j++)
                if (strcmp(s->entries[j].key, "driver") == 0)
                    line = s->entries[j].line;
            fg_diag_add(diag, s->file, line,
                        "member \"%s\": no driver plugin named \"%s\" in %s",
                        s->name, driver,
                        set && set->dir ? set->dir : "plugin_dir");
            problems++;
            continue;
        }
        problems += fg_config_check_section(cfg, s, p->desc->config_keys, diag);
    }
    return problems;
}

/* The [policy] section, for messages about the chain as a whole. */
static const struct fg_config_section *
policy_section(const struct fg_config *cfg)
{
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strcmp(cfg->sections[i].kind, "policy") == 0)
            return &cfg->sections[i];
    return NULL;
}

const struct fg_plugin *fg_config_plugin_of(const struct fg_config_section *s,
                                            const struct fg_plugin_set *set)
{
    const char *kind = fg_config_get(s, "plugin");
    return fg_plugins_find(set, FG_PLUGIN_POLICY, kind ? kind : s->name);
}

int fg_config_check_plugins(struct fg_config *cfg,
                            const struct fg_plugin_set *set,
                            struct fg_diag *diag)
{
    int problems = 0;
    uint32_t phases = 0;
    for (size_t i = 0; i < cfg->n_chain; i++) {
        struct fg_config_section *s = cfg->chain[i];
        const char *kind = fg_config_get(s, "plugin");
        int line = kind ? fg_config_line(s, "plugin") : s->line;
        if (!kind)
            kind = s->name;
        const struct fg_plugin *p = fg_config_plugin_of(s, set);
        if (!p) {
            const struct fg_plugin *other = NULL;
            for (size_t j = 0; set && j < set->n; j++)
                if (strcmp(set->v[j].desc->name, kind) == 0)
                    other = &set->v[j];
            if (other)
                fg_diag_add(diag, s->file, line,
                            "[plugin \"%s\"]: \"%s\" is a %s plugin, not a "
                            "policy plugin",
                            s->name, kind, kind_name(other->desc->kind));
            else
                fg_diag_add(diag, s->file, line,
                            "[plugin \"%s\"]: no policy plugin named \"%s\" "
                            "in %s",
                            s->name, kind,
                            set && set->dir ? set->dir : "plugin_dir");
            problems++;
            continue;
        }
        phases |= ((const struct fg_policy_ops *)p->desc->ops)->phases;
        problems += fg_config_check_section(cfg, s, p->desc->config_keys, diag);
    }
    if (problems == 0 && !(phases & FG_PHASE_AUTHENTICATE)) {
        /* Without one, every request but the probes would be a 401. */
        const struct fg_config_section *policy = policy_section(cfg);
        if (policy)
            fg_diag_add(diag, policy->file, fg_config_line(policy, "chain"),
                        "chain: no plugin in it authenticates (every request "
                        "would be refused 401)");
        else
            fg_diag_add(diag, NULL, 0,
                        "%s: no [policy] section: add one whose chain "
                        "authenticates, e.g. [policy] chain = admin_token "
                        "with [plugin \"admin_token\"]",
                        cfg->dir);
        problems++;
    }
    return problems;
}
