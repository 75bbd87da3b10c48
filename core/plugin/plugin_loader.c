/* Loads plugins and checks them before the core calls any of their code
 * beyond the entry function (see plugin_loader.h). A plugin that does not
 * pass is unloaded and named in a diagnostic: the gateway never calls into
 * a plugin it has not checked, and a bad plugin is never a crash. */
#include "plugin/plugin_loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fedgate/driver.h>
#include <fedgate/policy.h>
#include <fedgate/service.h>

#include "config/ini_values.h"

/* The sizes of the structs as ABI 2.0 defined them: later minors add
 * fields at the end, so a plugin's struct must be at least this big. */
#define DESCRIPTOR_SIZE_2_0 sizeof(struct fg_plugin_descriptor)
#define DRIVER_OPS_SIZE_2_0                                                    \
    (offsetof(struct fg_driver_ops, reload) + sizeof(void (*)(void)))
#define POLICY_OPS_SIZE_2_0                                                    \
    (offsetof(struct fg_policy_ops, reload) + sizeof(void (*)(void)))
#define SERVICE_OPS_SIZE_2_3                                                   \
    (offsetof(struct fg_service_ops, max_request_body_bytes) + sizeof(int64_t))
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

/* A route prefix is an absolute path of clean segments ending in '/', and
 * none of the core's own: a service must not shadow the Kubernetes API, a
 * member, OpenAPI, or the probes. */
static int check_prefix(const char *p, char *why, size_t len)
{
    static const char *const core_paths[] = {
        "/api/",     "/apis/",  "/clusters/", "/openapi/", "/version/",
        "/healthz/", "/livez/", "/readyz/",   "/metrics/", NULL};
    size_t n = p ? strlen(p) : 0;
    int clean = n >= 3 && n < 128 && p[0] == '/' && p[n - 1] == '/' &&
                !strstr(p, "//") && !strstr(p, "/./") && !strstr(p, "/../");
    for (size_t i = 1; clean && i + 1 < n; i++)
        clean = p[i] == '/' || p[i] == '.' || p[i] == '-' || p[i] == '_' ||
                (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9');
    if (!clean) {
        snprintf(why, len,
                 "service prefix \"%.64s\" is not /SEGMENT/.../ of "
                 "[a-z0-9._-]",
                 p ? p : "(null)");
        return -1;
    }
    for (size_t i = 0; core_paths[i]; i++) {
        size_t c = strlen(core_paths[i]);
        if (strncmp(p, core_paths[i], n < c ? n : c) == 0) {
            snprintf(why, len, "service prefix \"%s\" overlaps the core's %s",
                     p, core_paths[i]);
            return -1;
        }
    }
    return 0;
}

static int check_service_ops(const struct fg_service_ops *ops, char *why,
                             size_t len)
{
    if (!ops) {
        snprintf(why, len, "service ops are NULL");
        return -1;
    }
    if (ops->struct_size < SERVICE_OPS_SIZE_2_3) {
        snprintf(why, len,
                 "service ops struct_size %u is smaller than ABI 2.3's %zu",
                 (unsigned)ops->struct_size, (size_t)SERVICE_OPS_SIZE_2_3);
        return -1;
    }
    if (check_driver_ops(&ops->streams, why, len) != 0)
        return -1;
    if (ops->max_request_body_bytes < 0) {
        snprintf(why, len, "service ops: max_request_body_bytes is negative");
        return -1;
    }
    if (ops->streams.scope != FG_SCOPE_ONE_LOOP) {
        snprintf(why, len, "service ops: streams.scope must be one loop");
        return -1;
    }
    for (size_t i = 0; ops->prefixes && ops->prefixes[i]; i++)
        if (i == MAX_CONFIG_KEYS || check_prefix(ops->prefixes[i], why, len))
            return -1;
    for (size_t i = 0; ops->apis && ops->apis[i].group; i++) {
        const struct fg_service_api *api = &ops->apis[i];
        if (i == MAX_CONFIG_KEYS || !strchr(api->group, '.') ||
            !fg_is_dns1123_subdomain(api->group, strlen(api->group)) ||
            !api->version ||
            !fg_is_dns1123_label(api->version, strlen(api->version)) ||
            !api->resources) {
            snprintf(why, len,
                     "service api %zu: a group needs a DNS name "
                     "with a dot, a version and resources",
                     i);
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
        const char *core_key =
            d->kind == FG_PLUGIN_DRIVER ? "driver" : "plugin";
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
    if (d->kind != FG_PLUGIN_DRIVER && d->kind != FG_PLUGIN_POLICY &&
        d->kind != FG_PLUGIN_SERVICE) {
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
        if (strcmp(set->v[i]->desc->name, d->name) == 0) {
            snprintf(why, len, "plugin name \"%s\" already loaded from %s",
                     d->name, set->v[i]->path);
            return -1;
        }
    }
    int bad = d->kind == FG_PLUGIN_DRIVER ? check_driver_ops(d->ops, why, len)
              : d->kind == FG_PLUGIN_POLICY
                  ? check_policy_ops(d->ops, why, len)
                  : check_service_ops(d->ops, why, len);
    if (bad)
        return -1;
    return check_keys(d, why, len);
}

static void close_object(void *dl, int copy_fd)
{
    dlclose(dl);
    if (copy_fd >= 0)
        close(copy_fd);
}

static void file_id_of(const struct stat *st, struct fg_plugin_file_id *id)
{
    *id = (struct fg_plugin_file_id){.dev = st->st_dev,
                                     .ino = st->st_ino,
                                     .size = st->st_size,
                                     .mtime = st->st_mtim};
}

static int same_file_id(const struct fg_plugin_file_id *a,
                        const struct fg_plugin_file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Copies the plugin file open on FD into a new memory file; returns its
 * descriptor, or -1 with errno set. */
static int private_copy(int fd, const char *path, off_t size)
{
    const char *base = strrchr(path, '/');
    int copy = memfd_create(base ? base + 1 : path, MFD_CLOEXEC);
    if (copy < 0)
        return -1;
    off_t done = 0;
    while (done < size) {
        ssize_t n = sendfile(copy, fd, NULL, (size_t)(size - done));
        if (n <= 0) {
            int e = n == 0 ? EIO : errno; /* shorter than it was */
            close(copy);
            errno = e;
            return -1;
        }
        done += n;
    }
    return copy;
}

/* dlopens PATH, or (COPY) a private copy of it whose descriptor goes to
 * *COPY_FD; the file's identity at that moment goes to ID. NULL with the
 * reason in WHY. */
static void *open_object(const char *path, int copy,
                         struct fg_plugin_file_id *id, int *copy_fd, char *why,
                         size_t len)
{
    struct stat st;
    *copy_fd = -1;
    if (!copy) {
        if (stat(path, &st) != 0) {
            snprintf(why, len, "%s", strerror(errno));
            return NULL;
        }
        file_id_of(&st, id);
        void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        const char *e = dl ? NULL : dlerror();
        if (!dl)
            snprintf(why, len, "%s", e ? e : "unknown error");
        return dl;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, len, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    file_id_of(&st, id);
    *copy_fd = private_copy(fd, path, st.st_size);
    close(fd);
    if (*copy_fd < 0) {
        snprintf(why, len, "a private copy: %s", strerror(errno));
        return NULL;
    }
    char name[64];
    snprintf(name, sizeof(name), "/proc/self/fd/%d", *copy_fd);
    void *dl = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        snprintf(why, len, "%s", e ? e : "unknown error");
        close(*copy_fd);
        *copy_fd = -1;
    }
    return dl;
}

static int append(struct fg_plugin_set *set, struct fg_plugin *p)
{
    struct fg_plugin **v = realloc(set->v, (set->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    set->v = v;
    v[set->n++] = p;
    return 0;
}

/* Loads PATH (COPY: from a private copy) into SET; returns 0, or -1 after
 * reporting the refusal. */
static int load_one(const char *path, int copy, struct fg_plugin_set *set,
                    struct fg_diag *diag)
{
    char why[512];
    struct fg_plugin_file_id id;
    int copy_fd;
    void *dl = open_object(path, copy, &id, &copy_fd, why, sizeof(why));
    if (!dl) {
        fg_diag_add(diag, NULL, 0, "%s: refused: cannot load: %s", path, why);
        return -1;
    }
    dlerror();
    void *sym = dlsym(dl, FG_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        fg_diag_add(diag, NULL, 0,
                    "%s: refused: no " FG_PLUGIN_ENTRY_SYMBOL
                    " symbol (not a fedgate plugin?)",
                    path);
        close_object(dl, copy_fd);
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
        close_object(dl, copy_fd);
        return -1;
    }
    if (check_descriptor(set, d, why, sizeof(why)) != 0) {
        fg_diag_add(diag, NULL, 0, "%s: refused: %s", path, why);
        close_object(dl, copy_fd);
        return -1;
    }
    struct fg_plugin *p = calloc(1, sizeof(*p));
    if (!p || !(p->path = strdup(path)) || append(set, p) != 0) {
        if (p)
            free(p->path);
        free(p);
        fg_diag_add(diag, NULL, 0, "%s: refused: out of memory", path);
        close_object(dl, copy_fd);
        return -1;
    }
    p->dl = dl;
    p->desc = d;
    p->id = id;
    p->copy_fd = copy_fd;
    atomic_init(&p->refs, 1);
    return 0;
}

/* Whether an object of PATH's name (or file) is loaded, by a running or a
 * draining generation: glibc's dlopen would hand that one back. */
static int loaded_by_name(const char *path)
{
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    if (!dl)
        return 0;
    dlclose(dl);
    return 1;
}

/* Puts PATH into SET: RUNNING's plugin of that path when the file is the
 * one it was loaded from, else the file loaded: from a private copy when
 * an object of that name is loaded, else from PATH (a plugin no
 * generation uses is not loaded: fg_plugins_keep_used). Returns 0, or -1
 * after reporting the refusal. */
static int take_one(const char *path, const struct fg_plugin_set *running,
                    struct fg_plugin_set *set, struct fg_diag *diag)
{
    struct stat st;
    for (size_t i = 0; running && i < running->n; i++) {
        struct fg_plugin *p = running->v[i];
        if (strcmp(p->path, path) != 0)
            continue;
        struct fg_plugin_file_id now;
        if (stat(path, &st) != 0)
            break;
        file_id_of(&st, &now);
        if (!same_file_id(&p->id, &now))
            break;
        if (append(set, p) != 0) {
            fg_diag_add(diag, NULL, 0, "%s: refused: out of memory", path);
            return -1;
        }
        fg_plugin_ref(p);
        return 0;
    }
    return load_one(path, running != NULL && loaded_by_name(path), set, diag);
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

/* Every SET->dir/ *.so in lexical order into SET, through take_one. */
static int load_names(const struct fg_plugin_set *running,
                      struct fg_plugin_set *set, struct fg_diag *diag)
{
    const char *dir = set->dir;
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
                      take_one(path, running, set, diag) != 0))
            refused++;
        free(path);
        free(names[i]);
    }
    free(names);
    return refused;
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
    return load_names(NULL, set, diag);
}

int fg_plugins_reload_dir(const struct fg_plugin_set *running,
                          struct fg_plugin_set *next, struct fg_diag *diag)
{
    if (!(next->dir = strdup(running->dir))) {
        fg_diag_add(diag, NULL, 0, "%s: out of memory", running->dir);
        return 1;
    }
    return load_names(running, next, diag);
}

struct fg_plugin *fg_plugins_find(const struct fg_plugin_set *set,
                                  enum fg_plugin_kind kind, const char *name)
{
    for (size_t i = 0; set && name && i < set->n; i++)
        if (set->v[i]->desc->kind == kind &&
            strcmp(set->v[i]->desc->name, name) == 0)
            return set->v[i];
    return NULL;
}

struct fg_plugin *fg_plugin_ref(struct fg_plugin *p)
{
    atomic_fetch_add(&p->refs, 1);
    return p;
}

void fg_plugin_unref(struct fg_plugin *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    close_object(p->dl, p->copy_fd);
    free(p->path);
    free(p);
}

void fg_plugins_unload(struct fg_plugin_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        fg_plugin_unref(set->v[i]);
    free(set->v);
    free(set->dir);
    set->v = NULL;
    set->dir = NULL;
    set->n = 0;
}

/* Whether CFG names P: a member's driver, a plugin of the chain, a
 * service. */
static int used_by(const struct fg_plugin *p, const struct fg_config *cfg,
                   const struct fg_plugin_set *set)
{
    for (size_t i = 0; i < cfg->n_members; i++)
        if (fg_plugins_find(set, FG_PLUGIN_DRIVER,
                            fg_config_get(&cfg->members[i], "driver")) == p)
            return 1;
    for (size_t i = 0; i < cfg->n_chain; i++)
        if (fg_config_plugin_of(cfg->chain[i], set) == p)
            return 1;
    for (size_t i = 0; i < cfg->n_services; i++)
        if (fg_config_service_of(cfg->services[i], set) == p)
            return 1;
    return 0;
}

void fg_plugins_keep_used(struct fg_plugin_set *set,
                          const struct fg_config *cfg)
{
    /* All sorted out first: the look-ups read the whole set. */
    unsigned char *keep = calloc(set->n ? set->n : 1, 1);
    if (!keep)
        return; /* all stay loaded: memory, not a fault */
    for (size_t i = 0; i < set->n; i++)
        keep[i] = (unsigned char)used_by(set->v[i], cfg, set);
    size_t kept = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (keep[i])
            set->v[kept++] = set->v[i];
        else
            fg_plugin_unref(set->v[i]);
    }
    set->n = kept;
    free(keep);
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

struct fg_plugin *fg_config_plugin_of(const struct fg_config_section *s,
                                      const struct fg_plugin_set *set)
{
    const char *kind = fg_config_get(s, "plugin");
    return fg_plugins_find(set, FG_PLUGIN_POLICY, kind ? kind : s->name);
}

struct fg_plugin *fg_config_service_of(const struct fg_config_section *s,
                                       const struct fg_plugin_set *set)
{
    const char *kind = fg_config_get(s, "plugin");
    return fg_plugins_find(set, FG_PLUGIN_SERVICE, kind ? kind : s->name);
}

static int in_chain(const struct fg_config *cfg,
                    const struct fg_config_section *s)
{
    for (size_t i = 0; i < cfg->n_chain; i++)
        if (cfg->chain[i] == s)
            return 1;
    return 0;
}

/* Whether two services' routes meet: a prefix of one is a prefix of the
 * other's, or both serve an API group. */
static const char *routes_meet(const struct fg_service_ops *a,
                               const struct fg_service_ops *b)
{
    for (size_t i = 0; a->prefixes && a->prefixes[i]; i++)
        for (size_t j = 0; b->prefixes && b->prefixes[j]; j++) {
            size_t la = strlen(a->prefixes[i]), lb = strlen(b->prefixes[j]);
            if (strncmp(a->prefixes[i], b->prefixes[j], la < lb ? la : lb) == 0)
                return a->prefixes[i];
        }
    for (size_t i = 0; a->apis && a->apis[i].group; i++)
        for (size_t j = 0; b->apis && b->apis[j].group; j++)
            if (strcmp(a->apis[i].group, b->apis[j].group) == 0)
                return a->apis[i].group;
    return NULL;
}

/* The [plugin] sections outside the chain: each must be a service plugin
 * on the host, whose routes no other service claims; they become
 * cfg->services. */
static int check_services(struct fg_config *cfg,
                          const struct fg_plugin_set *set, struct fg_diag *diag)
{
    int problems = 0;
    free(cfg->services);
    cfg->n_services = 0;
    if (!(cfg->services = calloc(cfg->n_sections + 1, sizeof(*cfg->services))))
        return 1;
    for (size_t i = 0; i < cfg->n_sections; i++) {
        struct fg_config_section *s = &cfg->sections[i];
        if (strcmp(s->kind, "plugin") != 0 || in_chain(cfg, s))
            continue;
        const struct fg_plugin *p = fg_config_service_of(s, set);
        const char *kind = fg_config_get(s, "plugin");
        int line = kind ? fg_config_line(s, "plugin") : s->line;
        problems++;
        if (!p && fg_config_plugin_of(s, set))
            fg_diag_add(diag, s->file, s->line,
                        "[plugin \"%s\"] is not in the [policy] chain",
                        s->name);
        else if (!p)
            fg_diag_add(diag, s->file, line,
                        "[plugin \"%s\"]: no service plugin named \"%s\" "
                        "in %s (a policy plugin's section must be in the "
                        "[policy] chain)",
                        s->name, kind ? kind : s->name,
                        set && set->dir ? set->dir : "plugin_dir");
        else if (cfg->role != FG_ROLE_HOST)
            fg_diag_add(diag, s->file, s->line,
                        "[plugin \"%s\"]: the service \"%s\" runs on the "
                        "host only (role = member)",
                        s->name, p->desc->name);
        else
            problems--;
        if (!p || cfg->role != FG_ROLE_HOST)
            continue;
        for (size_t j = 0; j < cfg->n_services; j++) {
            const struct fg_plugin *q =
                fg_config_service_of(cfg->services[j], set);
            const char *route = routes_meet(p->desc->ops, q->desc->ops);
            if (route) {
                fg_diag_add(diag, s->file, s->line,
                            "[plugin \"%s\"]: %s is served by [plugin "
                            "\"%s\"] already",
                            s->name, route, cfg->services[j]->name);
                problems++;
            }
        }
        problems += fg_config_check_section(cfg, s, p->desc->config_keys, diag);
        cfg->services[cfg->n_services++] = s;
    }
    return problems;
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
                if (strcmp(set->v[j]->desc->name, kind) == 0)
                    other = set->v[j];
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
    problems += check_services(cfg, set, diag);
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
