/* The gateway's configuration: every *.ini under the config directory, read
 * in lexical order with inih, checked strictly, and turned into one
 * immutable struct fg_config. Member sections are checked against their
 * driver's declared keys once the plugins are loaded. */
#ifndef FG_CONFIG_H
#define FG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <fedgate/host.h>
#include <fedgate/plugin.h>

#include "base/error.h"

enum fg_role { FG_ROLE_HOST = 0, FG_ROLE_MEMBER = 1 };

/* Every limit is a key of [gateway] with a safe default. */
struct fg_limits {
    uint32_t max_connections;            /* max_connections = 1024 */
    uint32_t max_connections_per_source; /* = 256 per address (IPv6: /64)
                                            and worker; 0: no cap */
    uint32_t max_header_bytes;           /* max_header_bytes = 65536 */
    uint32_t max_headers;                /* max_headers = 100 */
    uint32_t max_uri_bytes;              /* max_uri_bytes = 8192 */
    int64_t max_request_body_bytes;      /* max_request_body_bytes = 3145728 */
    int64_t max_review_body_bytes;       /* = 65536: the SelfSubject*Review
                                            bodies the gateway reads itself */
    int64_t max_fanout_bytes;            /* = 64 MiB: the member answers of
                                            one cross-cluster list, in all */
    uint64_t fanout_timeout_ms;          /* fanout_timeout = 30s: per member
                                            of such a list */
    uint32_t max_streams_per_connection; /* max_streams_per_connection = 128 */
    uint32_t stream_buffer_bytes;        /* stream_buffer_bytes = 262144 */
    uint32_t h2_max_control_frames;      /* h2_max_control_frames = 1000 per
                                            10 s before GOAWAY */
    uint64_t header_timeout_ms;          /* header_timeout = 10s */
    uint64_t idle_timeout_ms;            /* idle_timeout = 120s */
    uint64_t unauthenticated_idle_timeout_ms; /* = 10s: keep-alive of a
                                                 connection no request on
                                                 which was authenticated */
    uint64_t body_idle_timeout_ms;            /* body_idle_timeout = 60s */
    uint64_t body_timeout_ms;   /* body_timeout = 60s for a whole request
                                   body (kube-apiserver's request timeout);
                                   0: none */
    uint64_t shutdown_grace_ms; /* shutdown_grace = 30s */
    uint64_t reload_drain_ms;   /* reload_drain = 300s: after a reload,
                                   requests on the replaced generation
                                   end by then */
};

/* One key = value of a section, as written. */
struct fg_config_entry {
    char *key;
    char *value; /* after the type check: paths absolute, defaults applied */
    int line;
    int normalised; /* value already checked and in its normal form */
};

/* A raw section: [gateway], [tls], [policy], [tunnel], [member "NAME"],
 * [plugin "NAME"] */
struct fg_config_section {
    char *kind; /* "gateway", "tls", "policy", "tunnel", "member", "plugin" */
    char *name; /* the quoted name of [member|plugin "NAME"], else NULL */
    char *file; /* path of the ini file, as given on the command line */
    int line;   /* line of the [header] */
    struct fg_config_entry *entries;
    size_t n_entries;
    struct fg_section view; /* the SDK's read-only view of this section */
};

struct fg_config {
    char *dir;         /* the configuration directory */
    enum fg_role role; /* role = host | member */
    char *listen_host; /* listen = HOST:PORT (default 127.0.0.1:6443) */
    uint16_t listen_port;
    char *state_dir;  /* state_dir, absolute (default DIR/../state) */
    char *plugin_dir; /* plugin_dir, absolute (default: built-in) */
    uint32_t workers; /* workers = 1 */
    char *log_level;  /* log_level = info */
    struct fg_limits limits;
    /* [gateway] host_cluster: the member that is the host's own cluster
     * (NULL: none), and how its Clusters' Ready condition is read. */
    char *host_cluster;
    struct {
        uint64_t interval_ms; /* health_interval = 5s (with jitter) */
        uint32_t failures;    /* health_failures: 0 means 30 s worth */
        uint32_t successes;   /* health_successes = 2 */
    } health;

    char *cert_file; /* [tls] cert_file, key_file: both or neither */
    char *key_file;
    char *client_ca_file; /* optional */
    /* [tls] server_names: names and addresses the generated serving
     * certificate covers besides localhost, loopback and the host name. */
    char **server_names;
    size_t n_server_names;

    struct fg_config_section *members; /* [member "NAME"], in file order */
    size_t n_members;

    /* [policy] chain: the [plugin "NAME"] sections (in `sections`) in the
     * order their phases run; empty without a [policy] section. */
    struct fg_config_section **chain;
    size_t n_chain;

    /* The [plugin "NAME"] sections outside the chain, each a service
     * (service.h) on the host: filled when the plugins are checked
     * (fg_config_check_plugins), in file order. */
    struct fg_config_section **services;
    size_t n_services;

    /* [tunnel] (in `sections`), checked; NULL without one. */
    struct fg_config_section *tunnel;

    struct fg_config_section *sections; /* every section, in file order */
    size_t n_sections;
    /* Sections are stored core ones first, then members (each group in
     * file order), so that `members` points into `sections`: one owner,
     * and a check through either pointer is seen through both. */
};

/* Reads DIR/ *.ini. Every problem found is added to DIAG as
 * "FILE:LINE: message"; returns NULL when there was any. */
struct fg_config *fg_config_load(const char *dir, struct fg_diag *diag);

/* Checks section S's entries against KEYS (NULL-name terminated): unknown
 * keys, missing required keys, bad values. Fills defaults and resolves
 * paths in place. Returns the number of problems added to DIAG. The
 * core's key of S (fg_config_core_key) is always accepted. */
int fg_config_check_section(struct fg_config *cfg, struct fg_config_section *s,
                            const struct fg_config_key *keys,
                            struct fg_diag *diag);

/* The key the core reads in S itself, beside the plugin's keys: "driver"
 * in [member] sections, "plugin" in [plugin] sections, else NULL. */
const char *fg_config_core_key(const struct fg_config_section *s);

/* Whether KEY in S is read by the core rather than S's plugin: the core
 * key, and a member's "labels" and "provider" (its Cluster object). */
int fg_config_is_core_key(const struct fg_config_section *s, const char *key);

/* The value of KEY in S, or NULL. */
const char *fg_config_get(const struct fg_config_section *s, const char *key);
/* The line KEY is on in S's file (S's header line when it was defaulted). */
int fg_config_line(const struct fg_config_section *s, const char *key);

void fg_config_free(struct fg_config *cfg);

/* A heap copy of S with its own view, for an instance that outlives the
 * configuration it was made from (a generation that carries it over); NULL
 * when out of memory. fg_config_section_destroy frees it. */
struct fg_config_section *
fg_config_section_dup(const struct fg_config_section *s);
void fg_config_section_destroy(struct fg_config_section *s);

/* Whether A and B say the same: kind, name and every key = value in order
 * (the file and line they were read from do not count). */
int fg_config_section_equal(const struct fg_config_section *a,
                            const struct fg_config_section *b);

/* Command-line overrides of [gateway] state_dir and listen (NULL: keep).
 * A relative STATE_DIR is taken from the current directory. Returns the
 * number of problems added to DIAG (CFG unchanged for a refused one). */
int fg_config_override(struct fg_config *cfg, const char *state_dir,
                       const char *listen, struct fg_diag *diag);

/* Member names are DNS-1123 labels: [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 63. */
int fg_is_dns1123_label(const char *s, size_t len); /* in dns1123.c */
/* Dot-separated DNS-1123 labels, at most 253 bytes (a label key's prefix,
 * a service account's name). */
int fg_is_dns1123_subdomain(const char *s, size_t len);

/* Plugin names (what `driver =` names): [a-z0-9_-]+, at most 63 bytes. */
int fg_is_plugin_name(const char *s);

/* "[gateway]", "[member \"a\"]": how messages name section S. */
const char *fg_config_section_label(const struct fg_config_section *s,
                                    char *buf, size_t len);

#endif
