/* Loads the configuration directory into a struct fg_config (see config.h):
 * finds the *.ini files, collects their sections through the ini reader,
 * checks every section against its key table, and fills the core's fields.
 *
 * Every problem is collected, never only the first, so that one run of
 * `fedgate --check` shows an operator everything to fix. An inline
 * "key = value ; comment" is allowed (inih strips the comment), which also
 * means a value cannot contain " ;". */
#include "config/config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/certs.h"
#include "config/ini_reader.h"
#include "config/ini_values.h"
#include "config/labels.h"

/* Configuration files are written by people and by fedgatectl: anything
 * bigger is a mistake, and reading it whole would cost memory for nothing.*/
#define MAX_FILE_BYTES (1024 * 1024)
/* conf.d/members/NAME.ini is one level down; leave room, stop loops. */
#define MAX_DIR_DEPTH 8

static const struct fg_config_key gateway_keys[] = {
    {"role", FG_CONFIG_STRING, "host", 0, 0, 0, "host | member"},
    {"listen", FG_CONFIG_STRING, "127.0.0.1:6443", 0, 0, 0,
     "HOST:PORT or [IPV6]:PORT"},
    {"state_dir", FG_CONFIG_PATH, "../state", 0, 0, 0, "state directory"},
    {"plugin_dir", FG_CONFIG_PATH, NULL, 0, 0, 0, "plugin directory"},
    {"workers", FG_CONFIG_INT, "1", 0, 1, 64, "worker threads"},
    {"log_level", FG_CONFIG_STRING, "info", 0, 0, 0,
     "error | warn | info | debug"},
    {"max_connections", FG_CONFIG_INT, "1024", 0, 1, 1000000, NULL},
    {"max_connections_per_source", FG_CONFIG_INT, "256", 0, 0, 1000000, NULL},
    {"max_header_bytes", FG_CONFIG_INT, "65536", 0, 1024, 81920, NULL},
    {"max_headers", FG_CONFIG_INT, "100", 0, 8, 10000, NULL},
    {"max_uri_bytes", FG_CONFIG_INT, "8192", 0, 256, 1048576, NULL},
    {"max_request_body_bytes", FG_CONFIG_INT, "3145728", 0, 0, INT64_C(1) << 40,
     NULL},
    {"max_review_body_bytes", FG_CONFIG_INT, "65536", 0, 1024, 1048576,
     "SelfSubject*Review bodies the gateway answers itself"},
    {"max_fanout_bytes", FG_CONFIG_INT, "67108864", 0, 65536, INT64_C(1) << 34,
     "member answers a cross-cluster read holds at once"},
    {"fanout_timeout", FG_CONFIG_DURATION, "30s", 0, 100, 600000,
     "how long a cross-cluster read waits for each member"},
    {"max_streams_per_connection", FG_CONFIG_INT, "128", 0, 1, 100000, NULL},
    {"stream_buffer_bytes", FG_CONFIG_INT, "262144", 0, 4096, 1 << 30, NULL},
    {"h2_max_control_frames", FG_CONFIG_INT, "1000", 0, 10, 1000000, NULL},
    {"header_timeout", FG_CONFIG_DURATION, "10s", 0, 100, 3600000, NULL},
    {"idle_timeout", FG_CONFIG_DURATION, "120s", 0, 1000, 86400000, NULL},
    {"unauthenticated_idle_timeout", FG_CONFIG_DURATION, "10s", 0, 100,
     86400000, NULL},
    {"body_idle_timeout", FG_CONFIG_DURATION, "60s", 0, 100, 86400000, NULL},
    {"body_timeout", FG_CONFIG_DURATION, "60s", 0, 0, 86400000, NULL},
    {"shutdown_grace", FG_CONFIG_DURATION, "30s", 0, 0, 3600000, NULL},
    {"reload_drain", FG_CONFIG_DURATION, "300s", 0, 0, 86400000,
     "how long requests may go on with a replaced configuration"},
    {"host_cluster", FG_CONFIG_STRING, NULL, 0, 0, 0,
     "the member that is the host's own cluster (labelled "
     "cluster-role.kubesphere.io/host)"},
    {"health_interval", FG_CONFIG_DURATION, "5s", 0, 100, 3600000,
     "how often each member's health is read for its Cluster's status"},
    {"health_failures", FG_CONFIG_INT, "0", 0, 0, 10000,
     "failed reads in a row before Ready turns False (0: 30 s worth)"},
    {"health_successes", FG_CONFIG_INT, "2", 0, 1, 10000,
     "good reads in a row before Ready turns True again"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_config_key policy_keys[] = {
    {"chain", FG_CONFIG_STRING, NULL, 1, 0, 0,
     "[plugin \"NAME\"] sections, in the order their phases run"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_config_key tls_keys[] = {
    {"cert_file", FG_CONFIG_FILE, NULL, 0, 0, 0, "server certificate (PEM)"},
    {"key_file", FG_CONFIG_FILE, NULL, 0, 0, 0, "its private key (PEM)"},
    {"client_ca_file", FG_CONFIG_FILE, NULL, 0, 0, 0,
     "CA for client certificates (PEM)"},
    {"server_names", FG_CONFIG_STRING, NULL, 0, 0, 0,
     "more names and addresses the generated serving certificate covers"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

/* [tunnel]: the listener that agent-connected members dial (a driver
 * plugin serves it through host.h listen; the core only checks the keys). */
static const struct fg_config_key tunnel_keys[] = {
    {"listen", FG_CONFIG_STRING, NULL, 0, 0, 0,
     "ADDR:PORT agents connect to (an IP address; port 0 picks one)"},
    {"handshake_timeout", FG_CONFIG_DURATION, "10s", 0, 100, 600000,
     "time from accept to a tunnel joined or refused"},
    {"max_connections", FG_CONFIG_INT, "1024", 0, 1, 1000000,
     "tunnels, handshaking or joined"},
    {"client_ca_file", FG_CONFIG_FILE, NULL, 0, 0, 0,
     "CA of agents' client certificates: every agent must present one, and "
     "its CN is the member name it may join as (no token needed then)"},
    {"handshake_rate", FG_CONFIG_INT, "100", 0, 1, 100000,
     "new tunnels accepted per second (as many at once); more are closed "
     "at once and their agents back off"},
    {"ping_interval", FG_CONFIG_DURATION, "10s", 0, 100, 3600000,
     "PING on every tunnel this often; one silent for 3 intervals is dead"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

int fg_is_plugin_name(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > 63)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

const char *fg_config_section_label(const struct fg_config_section *s,
                                    char *buf, size_t len)
{
    if (s->name)
        snprintf(buf, len, "[%s \"%s\"]", s->kind, s->name);
    else
        snprintf(buf, len, "[%s]", s->kind);
    return buf;
}

static struct fg_config_entry *find_entry(const struct fg_config_section *s,
                                          const char *key)
{
    for (size_t i = 0; i < s->n_entries; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}

const char *fg_config_get(const struct fg_config_section *s, const char *key)
{
    const struct fg_config_entry *e = s && key ? find_entry(s, key) : NULL;
    return e ? e->value : NULL;
}

/* Takes VALUE (heap). Returns 0, or -1 (VALUE freed) when out of memory. */
static int add_entry(struct fg_config_section *s, const char *key, char *value,
                     int line, int normalised)
{
    char *k = strdup(key);
    struct fg_config_entry *v =
        k ? realloc(s->entries, (s->n_entries + 1) * sizeof(*v)) : NULL;
    if (!v) {
        free(k);
        free(value);
        return -1;
    }
    s->entries = v;
    v[s->n_entries++] = (struct fg_config_entry){
        .key = k, .value = value, .line = line, .normalised = normalised};
    return 0;
}

static const struct fg_config_key *find_key(const struct fg_config_key *keys,
                                            const char *name)
{
    for (; keys && keys->name; keys++)
        if (strcmp(keys->name, name) == 0)
            return keys;
    return NULL;
}

/* Opens PATH for reading as the gateway will (with its own rights, which
 * access() would not use under a set-uid). */
static int check_readable(const char *key, const char *path, char *err,
                          size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0) {
        snprintf(err, err_len, "%s: cannot read \"%s\": %s", key, path,
                 strerror(errno));
        return -1;
    }
    int rc = fstat(fd, &st);
    close(fd);
    if (rc != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: \"%s\" is not a regular file", key, path);
        return -1;
    }
    return 0;
}

int fg_config_is_core_key(const struct fg_config_section *s, const char *key)
{
    const char *core_key = fg_config_core_key(s);
    if (core_key && strcmp(key, core_key) == 0)
        return 1;
    return strcmp(s->kind, "member") == 0 &&
           (strcmp(key, "labels") == 0 || strcmp(key, "provider") == 0);
}

const char *fg_config_core_key(const struct fg_config_section *s)
{
    if (strcmp(s->kind, "member") == 0)
        return "driver";
    if (strcmp(s->kind, "plugin") == 0)
        return "plugin";
    return NULL;
}

int fg_config_check_section(struct fg_config *cfg, struct fg_config_section *s,
                            const struct fg_config_key *keys,
                            struct fg_diag *diag)
{
    const char *base = cfg ? cfg->dir : NULL;
    int problems = 0;
    char label[96], err[512];
    fg_config_section_label(s, label, sizeof(label));

    for (size_t i = 0; i < s->n_entries; i++) {
        struct fg_config_entry *e = &s->entries[i];
        if (fg_config_is_core_key(s, e->key))
            continue;
        const struct fg_config_key *k = find_key(keys, e->key);
        if (!k) {
            fg_diag_add(diag, s->file, e->line, "unknown key \"%s\" in %s",
                        e->key, label);
            problems++;
            continue;
        }
        if (e->normalised)
            continue;
        char *norm;
        if (fg_ini_value_check(k, base, e->value, &norm, err, sizeof(err))) {
            fg_diag_add(diag, s->file, e->line, "%s", err);
            problems++;
            continue;
        }
        free(e->value);
        e->value = norm;
        e->normalised = 1;
        if (k->type == FG_CONFIG_FILE &&
            check_readable(k->name, norm, err, sizeof(err)) != 0) {
            fg_diag_add(diag, s->file, e->line, "%s", err);
            problems++;
        }
    }

    for (const struct fg_config_key *k = keys; k && k->name; k++) {
        if (find_entry(s, k->name) || fg_config_is_core_key(s, k->name))
            continue;
        if (k->required) {
            fg_diag_add(diag, s->file, s->line,
                        "%s: missing required key \"%s\"", label, k->name);
            problems++;
            continue;
        }
        if (!k->default_value)
            continue;
        char *norm;
        if (fg_ini_value_check(k, base, k->default_value, &norm, err,
                               sizeof(err)) != 0 ||
            add_entry(s, k->name, norm, 0, 1) != 0) {
            fg_diag_add(diag, s->file, s->line, "%s: default of %s", label,
                        err);
            problems++;
        }
    }
    return problems;
}

/* ---- the SDK's view of a section ---- */

static const char *view_get(const struct fg_section *v, const char *key)
{
    return fg_config_get(v->core, key);
}

static int64_t view_get_int(const struct fg_section *v, const char *key,
                            int64_t def)
{
    const char *s = fg_config_get(v->core, key);
    int64_t x;
    return s && fg_ini_parse_int64(s, &x) == 0 ? x : def;
}

static void set_view(struct fg_config_section *s)
{
    s->view = (struct fg_section){
        .name = s->name ? s->name : s->kind,
        .file = s->file,
        .line = s->line,
        .core = s,
        .get = view_get,
        .get_int = view_get_int,
    };
}

static void section_free(struct fg_config_section *s)
{
    for (size_t i = 0; i < s->n_entries; i++) {
        free(s->entries[i].key);
        free(s->entries[i].value);
    }
    free(s->entries);
    free(s->kind);
    free(s->name);
    free(s->file);
}

static char *dup_or_null(const char *s, int *failed)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *failed = 1;
    return d;
}

struct fg_config_section *
fg_config_section_dup(const struct fg_config_section *s)
{
    struct fg_config_section *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    int failed = 0;
    d->kind = dup_or_null(s->kind, &failed);
    d->name = dup_or_null(s->name, &failed);
    d->file = dup_or_null(s->file, &failed);
    d->line = s->line;
    d->entries = calloc(s->n_entries ? s->n_entries : 1, sizeof(*d->entries));
    failed |= !d->entries;
    for (size_t i = 0; !failed && i < s->n_entries; i++) {
        struct fg_config_entry *e = &d->entries[d->n_entries++];
        *e = s->entries[i];
        e->key = dup_or_null(s->entries[i].key, &failed);
        e->value = dup_or_null(s->entries[i].value, &failed);
    }
    if (failed) {
        fg_config_section_destroy(d);
        return NULL;
    }
    set_view(d);
    return d;
}

void fg_config_section_destroy(struct fg_config_section *s)
{
    if (!s)
        return;
    section_free(s);
    free(s);
}

static int same_string(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

int fg_config_section_equal(const struct fg_config_section *a,
                            const struct fg_config_section *b)
{
    if (!same_string(a->kind, b->kind) || !same_string(a->name, b->name) ||
        a->n_entries != b->n_entries)
        return 0;
    for (size_t i = 0; i < a->n_entries; i++)
        if (!same_string(a->entries[i].key, b->entries[i].key) ||
            !same_string(a->entries[i].value, b->entries[i].value))
            return 0;
    return 1;
}

void fg_config_free(struct fg_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_sections; i++)
        section_free(&cfg->sections[i]);
    free(cfg->sections);
    free(cfg->dir);
    free(cfg->listen_host);
    free(cfg->state_dir);
    free(cfg->host_cluster);
    free(cfg->plugin_dir);
    free(cfg->log_level);
    free(cfg->cert_file);
    free(cfg->key_file);
    free(cfg->client_ca_file);
    for (size_t i = 0; i < cfg->n_server_names; i++)
        free(cfg->server_names[i]);
    free(cfg->server_names);
    free(cfg->chain);
    free(cfg->services);
    free(cfg);
}

/* ---- reading the files ---- */

struct load {
    struct fg_config *cfg;
    struct fg_diag *diag;
    const char *file; /* the file being read, as messages name it */
    /* sections in file order while reading; the current one or none */
    struct fg_config_section *secs;
    size_t n, cap;
    enum { IN_NONE, IN_SECTION, IN_SKIP } state;
};

static void on_error(void *user, int line, const char *msg)
{
    struct load *l = user;
    fg_diag_add(l->diag, l->file, line, "%s", msg);
}

static void on_section(void *user, int line, const char *text, size_t len)
{
    struct load *l = user;
    static const char member_open[] = "member \"";
    static const char plugin_open[] = "plugin \"";
    size_t mo = sizeof(member_open) - 1, po = sizeof(plugin_open) - 1;
    const char *kind = NULL;
    const char *name = NULL;
    size_t name_len = 0;

    l->state = IN_SKIP;
    if (!text)
        return;
    if (len == 7 && memcmp(text, "gateway", 7) == 0) {
        kind = "gateway";
    } else if (len == 3 && memcmp(text, "tls", 3) == 0) {
        kind = "tls";
    } else if (len == 6 && memcmp(text, "policy", 6) == 0) {
        kind = "policy";
    } else if (len == 6 && memcmp(text, "tunnel", 6) == 0) {
        kind = "tunnel";
    } else if (len > po + 1 && memcmp(text, plugin_open, po) == 0 &&
               text[len - 1] == '"') {
        kind = "plugin";
        name = text + po;
        name_len = len - po - 1;
        char buf[65];
        if (name_len >= sizeof(buf) ||
            (memcpy(buf, name, name_len), buf[name_len] = '\0',
             !fg_is_plugin_name(buf))) {
            fg_diag_add(l->diag, l->file, line,
                        "invalid plugin section name \"%.*s\": must be "
                        "[a-z0-9_-]+, at most 63 characters",
                        (int)name_len, name);
            return;
        }
    } else if (len > mo + 1 && memcmp(text, member_open, mo) == 0 &&
               text[len - 1] == '"') {
        kind = "member";
        name = text + mo;
        name_len = len - mo - 1;
        if (!fg_is_dns1123_label(name, name_len)) {
            fg_diag_add(l->diag, l->file, line,
                        "invalid member name \"%.*s\": must be a DNS-1123 "
                        "label (a-z, 0-9 and '-', at most 63 characters)",
                        (int)name_len, name);
            return;
        }
    } else {
        fg_diag_add(l->diag, l->file, line, "unknown section [%.*s]", (int)len,
                    text);
        return;
    }

    for (size_t i = 0; i < l->n; i++) {
        const struct fg_config_section *o = &l->secs[i];
        if (strcmp(o->kind, kind) != 0 ||
            (name && (strlen(o->name) != name_len ||
                      memcmp(o->name, name, name_len) != 0)))
            continue;
        fg_diag_add(l->diag, l->file, line,
                    "section [%.*s] already defined at %s:%d", (int)len, text,
                    o->file, o->line);
        return;
    }

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct fg_config_section *v = realloc(l->secs, cap * sizeof(*v));
        if (!v)
            goto oom;
        l->secs = v;
        l->cap = cap;
    }
    struct fg_config_section s = {.line = line};
    s.kind = strdup(kind);
    s.name = name ? strndup(name, name_len) : NULL;
    s.file = strdup(l->file);
    if (!s.kind || (name && !s.name) || !s.file) {
        section_free(&s);
        goto oom;
    }
    l->secs[l->n++] = s;
    l->state = IN_SECTION;
    return;
oom:
    fg_diag_add(l->diag, l->file, line, "out of memory");
}

static void on_entry(void *user, int line, const char *key, const char *value)
{
    struct load *l = user;
    if (l->state == IN_SKIP)
        return; /* the section header was refused: said once is enough */
    if (l->state == IN_NONE) {
        fg_diag_add(l->diag, l->file, line, "key \"%s\" outside of any section",
                    key);
        return;
    }
    struct fg_config_section *s = &l->secs[l->n - 1];
    char label[96];
    if (!*key) {
        fg_diag_add(l->diag, l->file, line, "empty key");
        return;
    }
    if (!*value) {
        fg_diag_add(l->diag, l->file, line, "empty value for key \"%s\"", key);
        return;
    }
    const struct fg_config_entry *first = find_entry(s, key);
    if (first) {
        fg_diag_add(l->diag, l->file, line,
                    "duplicate key \"%s\" in %s (first at line %d)", key,
                    fg_config_section_label(s, label, sizeof(label)),
                    first->line);
        return;
    }
    char *v = strdup(value);
    if (!v || add_entry(s, key, v, line, 0) != 0)
        fg_diag_add(l->diag, l->file, line, "out of memory");
}

static void read_file(struct load *l, const char *path)
{
    static const struct fg_ini_callbacks cb = {
        .section = on_section, .entry = on_entry, .error = on_error};
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        fg_diag_add(l->diag, NULL, 0, "%s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES) {
        fg_diag_add(l->diag, NULL, 0, "%s: %s", path,
                    S_ISREG(st.st_mode) ? "larger than 1 MiB"
                                        : "not a regular file");
        fclose(f);
        return;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    size_t got = buf ? fread(buf, 1, size, f) : 0;
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed) {
        fg_diag_add(l->diag, NULL, 0, "%s: cannot read", path);
        free(buf);
        return;
    }
    l->file = path;
    l->state = IN_NONE; /* a section never goes on into the next file */
    fg_ini_parse_buffer(buf, got, &cb, l);
    l->state = IN_NONE;
    free(buf);
}

struct names {
    char **v;
    size_t n, cap;
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with_ini(const char *name)
{
    size_t len = strlen(name);
    return len > 4 && strcmp(name + len - 4, ".ini") == 0;
}

/* Collects "REL/name.ini" paths under DIR/REL (REL "" at the top). */
static void list_ini(const char *dir, const char *rel, int depth,
                     struct names *out, struct fg_diag *diag)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s%s%s", dir, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d) {
        fg_diag_add(diag, NULL, 0, "%s: %s", path, strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", and editors' hidden files */
        char sub[PATH_MAX];
        int n = snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
                         e->d_name);
        if (n < 0 || (size_t)n >= sizeof(sub))
            continue;
        int is_ini = ends_with_ini(e->d_name);
        if (!is_ini) {
            char full[PATH_MAX * 2];
            struct stat st;
            snprintf(full, sizeof(full), "%s/%s", dir, sub);
            if (depth < MAX_DIR_DEPTH && stat(full, &st) == 0 &&
                S_ISDIR(st.st_mode))
                list_ini(dir, sub, depth + 1, out, diag);
            continue;
        }
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 16;
            char **v = realloc(out->v, cap * sizeof(*v));
            if (!v)
                break;
            out->v = v;
            out->cap = cap;
        }
        if ((out->v[out->n] = strdup(sub)) != NULL)
            out->n++;
    }
    closedir(d);
}

/* ---- the core's sections ---- */

static int64_t get_int(const struct fg_config_section *s, const char *key)
{
    const char *v = fg_config_get(s, key);
    int64_t x;
    return v && fg_ini_parse_int64(v, &x) == 0 ? x : 0;
}

/* LINE of KEY in S for messages (its header when the key was defaulted). */
static int line_of(const struct fg_config_section *s, const char *key)
{
    const struct fg_config_entry *e = find_entry(s, key);
    return e && e->line ? e->line : s->line;
}

int fg_config_line(const struct fg_config_section *s, const char *key)
{
    return line_of(s, key);
}

static int one_of(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return 1;
    return 0;
}

/* HOST:PORT, [IPV6]:PORT. Sets HOST (heap, without brackets) and PORT. */
static int parse_listen(const char *v, char **host, uint16_t *port)
{
    const char *colon = strrchr(v, ':');
    const char *h = v;
    size_t hlen;
    int64_t p;
    if (!colon || fg_ini_parse_int64(colon + 1, &p) != 0 || p < 1 ||
        p > 65535 || colon[1] == '-')
        return -1;
    char buf[INET6_ADDRSTRLEN + 1];
    if (v[0] == '[') {
        if (colon == v || colon[-1] != ']')
            return -1;
        h = v + 1;
        hlen = (size_t)(colon - 1 - h);
        struct in6_addr a6;
        if (hlen == 0 || hlen >= sizeof(buf))
            return -1;
        memcpy(buf, h, hlen);
        buf[hlen] = '\0';
        if (inet_pton(AF_INET6, buf, &a6) != 1)
            return -1;
    } else {
        hlen = (size_t)(colon - v);
        if (hlen == 0 || hlen > 253)
            return -1;
        int digits_only = 1;
        for (size_t i = 0; i < hlen; i++) {
            char c = h[i];
            int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || c == '-' || c == '.';
            if (!ok)
                return -1;
            if (!(c >= '0' && c <= '9') && c != '.')
                digits_only = 0;
        }
        if (digits_only) {
            struct in_addr a4;
            if (hlen >= sizeof(buf))
                return -1;
            memcpy(buf, h, hlen);
            buf[hlen] = '\0';
            if (inet_pton(AF_INET, buf, &a4) != 1)
                return -1;
        }
    }
    *host = strndup(h, hlen);
    *port = (uint16_t)p;
    return *host ? 0 : -1;
}

static void apply_gateway(struct fg_config *cfg, struct fg_config_section *s,
                          struct fg_diag *diag)
{
    static const char *const roles[] = {"host", "member", NULL};
    static const char *const levels[] = {"error", "warn", "info", "debug",
                                         NULL};
    /* Go on after a bad value: the other keys' problems are wanted too. */
    fg_config_check_section(cfg, s, gateway_keys, diag);

    const char *role = fg_config_get(s, "role");
    const char *listen = fg_config_get(s, "listen");
    const char *level = fg_config_get(s, "log_level");
    const char *state_dir = fg_config_get(s, "state_dir");
    if (!role || !listen || !level || !state_dir)
        return; /* only when out of memory: already reported */
    if (!one_of(role, roles))
        fg_diag_add(diag, s->file, line_of(s, "role"),
                    "role: \"%s\" is not one of host, member", role);
    cfg->role = strcmp(role, "member") == 0 ? FG_ROLE_MEMBER : FG_ROLE_HOST;

    if (parse_listen(listen, &cfg->listen_host, &cfg->listen_port) != 0)
        fg_diag_add(diag, s->file, line_of(s, "listen"),
                    "listen: \"%s\" is not HOST:PORT or [IPV6]:PORT with "
                    "PORT 1-65535",
                    listen);

    if (!one_of(level, levels))
        fg_diag_add(diag, s->file, line_of(s, "log_level"),
                    "log_level: \"%s\" is not one of error, warn, info, "
                    "debug",
                    level);
    cfg->log_level = strdup(level);

    cfg->state_dir = strdup(state_dir);
    const char *plugin_dir = fg_config_get(s, "plugin_dir");
    if (plugin_dir) {
        struct stat st;
        if (stat(plugin_dir, &st) != 0)
            fg_diag_add(diag, s->file, line_of(s, "plugin_dir"),
                        "plugin_dir: \"%s\": %s", plugin_dir, strerror(errno));
        else if (!S_ISDIR(st.st_mode))
            fg_diag_add(diag, s->file, line_of(s, "plugin_dir"),
                        "plugin_dir: \"%s\": not a directory", plugin_dir);
        cfg->plugin_dir = strdup(plugin_dir);
    }
    cfg->workers = (uint32_t)get_int(s, "workers");

    struct fg_limits *lim = &cfg->limits;
    lim->max_connections = (uint32_t)get_int(s, "max_connections");
    lim->max_connections_per_source =
        (uint32_t)get_int(s, "max_connections_per_source");
    lim->max_header_bytes = (uint32_t)get_int(s, "max_header_bytes");
    lim->max_headers = (uint32_t)get_int(s, "max_headers");
    lim->max_uri_bytes = (uint32_t)get_int(s, "max_uri_bytes");
    lim->max_request_body_bytes = get_int(s, "max_request_body_bytes");
    lim->max_review_body_bytes = get_int(s, "max_review_body_bytes");
    lim->max_fanout_bytes = get_int(s, "max_fanout_bytes");
    lim->fanout_timeout_ms = (uint64_t)get_int(s, "fanout_timeout");
    lim->max_streams_per_connection =
        (uint32_t)get_int(s, "max_streams_per_connection");
    lim->stream_buffer_bytes = (uint32_t)get_int(s, "stream_buffer_bytes");
    lim->h2_max_control_frames = (uint32_t)get_int(s, "h2_max_control_frames");
    lim->header_timeout_ms = (uint64_t)get_int(s, "header_timeout");
    lim->idle_timeout_ms = (uint64_t)get_int(s, "idle_timeout");
    lim->unauthenticated_idle_timeout_ms =
        (uint64_t)get_int(s, "unauthenticated_idle_timeout");
    lim->body_idle_timeout_ms = (uint64_t)get_int(s, "body_idle_timeout");
    lim->body_timeout_ms = (uint64_t)get_int(s, "body_timeout");
    lim->shutdown_grace_ms = (uint64_t)get_int(s, "shutdown_grace");
    lim->reload_drain_ms = (uint64_t)get_int(s, "reload_drain");

    const char *host = fg_config_get(s, "host_cluster");
    cfg->host_cluster = host ? strdup(host) : NULL;
    cfg->health.interval_ms = (uint64_t)get_int(s, "health_interval");
    cfg->health.failures = (uint32_t)get_int(s, "health_failures");
    if (cfg->health.failures == 0 && cfg->health.interval_ms)
        cfg->health.failures =
            (uint32_t)((30000 + cfg->health.interval_ms - 1) /
                       cfg->health.interval_ms);
    cfg->health.successes = (uint32_t)get_int(s, "health_successes");
}

/* server_names = NAME[, NAME ...] (commas and/or spaces). */
static void parse_server_names(struct fg_config *cfg,
                               const struct fg_config_section *s,
                               const char *value, struct fg_diag *diag)
{
    size_t max = strlen(value) / 2 + 1;
    cfg->server_names = calloc(max, sizeof(*cfg->server_names));
    if (!cfg->server_names)
        return;
    for (const char *p = value; *p;) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            break;
        char *name = strndup(p, len);
        p += len;
        if (!name)
            return;
        if (!fg_certs_name_ok(name)) {
            fg_diag_add(diag, s->file, line_of(s, "server_names"),
                        "server_names: \"%s\" is neither an IP address nor "
                        "a DNS name",
                        name);
            free(name);
            continue;
        }
        cfg->server_names[cfg->n_server_names++] = name;
    }
}

static void apply_tls(struct fg_config *cfg, struct fg_config_section *s,
                      struct fg_diag *diag)
{
    fg_config_check_section(cfg, s, tls_keys, diag);
    const char *cert = fg_config_get(s, "cert_file");
    const char *key = fg_config_get(s, "key_file");
    const char *ca = fg_config_get(s, "client_ca_file");
    /* client_ca_file alone asks for client certificates with the
     * generated serving certificate: state_dir/ca.crt then names both
     * (fedgatectl issues client certificates from it). */
    if (!cert != !key)
        fg_diag_add(diag, s->file, s->line,
                    "[tls]: cert_file and key_file must be set together");
    cfg->cert_file = cert ? strdup(cert) : NULL;
    cfg->key_file = key ? strdup(key) : NULL;
    cfg->client_ca_file = ca ? strdup(ca) : NULL;
    const char *names = fg_config_get(s, "server_names");
    if (names && cert)
        fg_diag_add(diag, s->file, line_of(s, "server_names"),
                    "server_names: names only the generated certificate; "
                    "cert_file is your own");
    else if (names)
        parse_server_names(cfg, s, names, diag);
}

static void check_member(const struct fg_config_section *s,
                         struct fg_diag *diag)
{
    const char *driver = fg_config_get(s, "driver");
    const char *labels = fg_config_get(s, "labels");
    const char *provider = fg_config_get(s, "provider");
    char label[96], err[256];
    if (labels && fg_labels_parse(labels, NULL, NULL, err, sizeof(err)) != 0)
        fg_diag_add(diag, s->file, line_of(s, "labels"), "labels: %s", err);
    if (provider && !fg_label_value_ok(provider, strlen(provider)))
        fg_diag_add(diag, s->file, line_of(s, "provider"),
                    "provider: \"%s\" is not a label value (at most 63 of "
                    "[A-Za-z0-9._-], alphanumeric at both ends)",
                    provider);
    if (!driver)
        fg_diag_add(diag, s->file, s->line, "%s: missing key \"driver\"",
                    fg_config_section_label(s, label, sizeof(label)));
    else if (!fg_is_plugin_name(driver))
        fg_diag_add(diag, s->file, line_of(s, "driver"),
                    "driver: \"%s\" is not a plugin name ([a-z0-9_-]+)",
                    driver);
}

static struct fg_config_section *find_plugin(struct fg_config *cfg,
                                             const char *name, size_t len)
{
    for (size_t i = 0; i < cfg->n_sections; i++) {
        struct fg_config_section *o = &cfg->sections[i];
        if (strcmp(o->kind, "plugin") == 0 && strlen(o->name) == len &&
            memcmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

/* [policy] chain = NAME[, NAME ...] (commas and/or spaces): each a
 * [plugin "NAME"] section, once. A [plugin] section outside the chain
 * must name a service plugin (service.h), else it would be configured and
 * never run: checked, with whether the chain can authenticate, once the
 * plugins are loaded. */
static void apply_policy(struct fg_config *cfg, struct fg_config_section *s,
                         struct fg_diag *diag)
{
    fg_config_check_section(cfg, s, policy_keys, diag);
    const char *chain = fg_config_get(s, "chain");
    if (!chain)
        return; /* missing: reported by the key check */
    int line = line_of(s, "chain");
    size_t max = strlen(chain) / 2 + 1;
    cfg->chain = calloc(max, sizeof(*cfg->chain));
    if (!cfg->chain) {
        fg_diag_add(diag, s->file, line, "out of memory");
        return;
    }
    for (const char *p = chain; *p;) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            break;
        struct fg_config_section *plugin = find_plugin(cfg, p, len);
        int twice = 0;
        for (size_t i = 0; plugin && i < cfg->n_chain; i++)
            twice |= cfg->chain[i] == plugin;
        if (!plugin)
            fg_diag_add(diag, s->file, line,
                        "chain: no [plugin \"%.*s\"] section", (int)len, p);
        else if (twice)
            fg_diag_add(diag, s->file, line, "chain: \"%.*s\" is named twice",
                        (int)len, p);
        else
            cfg->chain[cfg->n_chain++] = plugin;
        p += len;
    }
}

/* [plugin "NAME"]: `plugin = KIND` names the .so (NAME when absent). */
static void check_plugin(const struct fg_config_section *s,
                         struct fg_diag *diag)
{
    const char *kind = fg_config_get(s, "plugin");
    if (kind && !fg_is_plugin_name(kind))
        fg_diag_add(diag, s->file, line_of(s, "plugin"),
                    "plugin: \"%s\" is not a plugin name ([a-z0-9_-]+)", kind);
}

/* Core sections first, then members, each in file order (see config.h). */
static int arrange(struct fg_config *cfg, struct load *l)
{
    size_t n_members = 0;
    for (size_t i = 0; i < l->n; i++)
        n_members += strcmp(l->secs[i].kind, "member") == 0;
    cfg->sections = malloc((l->n ? l->n : 1) * sizeof(*cfg->sections));
    if (!cfg->sections)
        return -1;
    size_t core = 0, mem = l->n - n_members;
    for (size_t i = 0; i < l->n; i++) {
        int is_member = strcmp(l->secs[i].kind, "member") == 0;
        cfg->sections[is_member ? mem++ : core++] = l->secs[i];
    }
    cfg->n_sections = l->n;
    cfg->members = n_members ? cfg->sections + (l->n - n_members) : NULL;
    cfg->n_members = n_members;
    for (size_t i = 0; i < cfg->n_sections; i++)
        set_view(&cfg->sections[i]);
    free(l->secs);
    l->secs = NULL;
    l->n = l->cap = 0;
    return 0;
}

static void check_all(struct fg_config *cfg, struct fg_diag *diag,
                      const char *dir)
{
    struct fg_config_section *gateway = NULL;
    for (size_t i = 0; i < cfg->n_sections; i++) {
        struct fg_config_section *s = &cfg->sections[i];
        if (strcmp(s->kind, "gateway") == 0)
            gateway = s;
        if (strcmp(s->kind, "member") == 0)
            check_member(s, diag);
        else if (strcmp(s->kind, "tls") == 0)
            apply_tls(cfg, s, diag);
        else if (strcmp(s->kind, "policy") == 0)
            apply_policy(cfg, s, diag);
        else if (strcmp(s->kind, "tunnel") == 0 &&
                 fg_config_check_section(cfg, s, tunnel_keys, diag) == 0)
            cfg->tunnel = s;
    }
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strcmp(cfg->sections[i].kind, "plugin") == 0)
            check_plugin(&cfg->sections[i], diag);
    if (gateway) {
        apply_gateway(cfg, gateway, diag);
    } else {
        /* No [gateway]: the defaults, through the same code. */
        struct fg_config_section s = {
            .kind = strdup("gateway"), .file = strdup(dir), .line = 0};
        if (s.kind && s.file)
            apply_gateway(cfg, &s, diag);
        else
            fg_diag_add(diag, NULL, 0, "out of memory");
        section_free(&s);
    }
    if (gateway && cfg->host_cluster) {
        int found = 0;
        for (size_t i = 0; i < cfg->n_members; i++)
            found |= strcmp(cfg->members[i].name, cfg->host_cluster) == 0;
        if (!found || cfg->role != FG_ROLE_HOST)
            fg_diag_add(diag, gateway->file, line_of(gateway, "host_cluster"),
                        "host_cluster: %s",
                        !found ? "names no [member] section"
                               : "only a gateway with role = host has one");
    }
    if (gateway && cfg->role == FG_ROLE_MEMBER && cfg->n_members != 1)
        fg_diag_add(diag, gateway->file, line_of(gateway, "role"),
                    "role = member needs exactly one [member \"NAME\"] "
                    "section, found %zu",
                    cfg->n_members);
}

int fg_config_override(struct fg_config *cfg, const char *state_dir,
                       const char *listen, struct fg_diag *diag)
{
    int problems = 0;
    if (state_dir) {
        /* A command-line path is relative to where the command runs. */
        char *cwd = state_dir[0] == '/' ? NULL : getcwd(NULL, 0);
        char *abs = fg_ini_path_join(cwd, state_dir);
        free(cwd);
        if (!abs || !*state_dir) {
            fg_diag_add(diag, NULL, 0, "--state-dir: \"%s\": %s", state_dir,
                        abs ? "empty path" : "out of memory");
            free(abs);
            problems++;
        } else {
            free(cfg->state_dir);
            cfg->state_dir = abs;
        }
    }
    if (listen) {
        char *host = NULL;
        uint16_t port;
        if (parse_listen(listen, &host, &port) != 0) {
            fg_diag_add(diag, NULL, 0,
                        "--listen: \"%s\" is not HOST:PORT or [IPV6]:PORT "
                        "with PORT 1-65535",
                        listen);
            problems++;
        } else {
            free(cfg->listen_host);
            cfg->listen_host = host;
            cfg->listen_port = port;
        }
    }
    return problems;
}

struct fg_config *fg_config_load(const char *dir, struct fg_diag *diag)
{
    size_t before = diag->n;
    struct fg_config *cfg = calloc(1, sizeof(*cfg));
    struct names files = {0};
    struct load l = {.cfg = cfg, .diag = diag};
    char *abs = realpath(dir, NULL);
    if (!cfg || !abs) {
        fg_diag_add(diag, NULL, 0, "%s: %s", dir,
                    cfg ? strerror(errno) : "out of memory");
        free(abs);
        free(cfg);
        return NULL;
    }
    cfg->dir = abs;

    list_ini(dir, "", 0, &files, diag);
    if (files.n == 0 && diag->n == before)
        fg_diag_add(diag, NULL, 0, "%s: no *.ini files", dir);
    if (files.n > 1)
        qsort(files.v, files.n, sizeof(*files.v), cmp_names);
    for (size_t i = 0; i < files.n; i++) {
        char path[PATH_MAX * 2];
        snprintf(path, sizeof(path), "%s/%s", dir, files.v[i]);
        read_file(&l, path);
        free(files.v[i]);
    }
    free(files.v);

    if (arrange(cfg, &l) != 0) {
        fg_diag_add(diag, NULL, 0, "out of memory");
        for (size_t i = 0; i < l.n; i++)
            section_free(&l.secs[i]);
        free(l.secs);
    } else {
        check_all(cfg, diag, dir);
    }
    if (diag->n != before) {
        fg_config_free(cfg);
        return NULL;
    }
    return cfg;
}
