/* The plugin ABI: the one symbol every fedgate plugin exports and the
 * descriptor it returns. The loader reads the descriptor before it calls any
 * other code of the plugin, and refuses a plugin built for another ABI.
 *
 * ABI changelog (bump FG_ABI_MINOR for additions at the end of a struct,
 * FG_ABI_MAJOR for anything else):
 *   1.0  first version: driver plugins, config keys, host API v1.
 *   1.1  fg_request_head.upgrade and the 101 byte pipe (driver.h),
 *        fg_request_head.base_path,
 *        fg_driver_ops.reload (SIGHUP), fg_host.event_base.
 *   1.2  FG_CONFIG_FILE: a path the core checks is readable, so that a
 *        missing file is reported at the line of its key.
 *   2.0  The request contract (driver.h): the head, its headers and the
 *        request info live in a per-request arena until stream_close;
 *        the core never calls a driver op from inside a callback;
 *        data_ref() hands over a buffer without a copy; stream_pause is
 *        gone (FG_PAUSE says it); instance scope (per worker or one owner
 *        loop, with cross-loop delivery by the core). Policy plugins
 *        (policy.h) and [plugin "NAME"] sections. The build signature in
 *        the descriptor. Shared helpers (util.h, libfedgate-sdk).
 *   2.1  policy.h: authorize asked about other attributes (impersonation,
 *        SelfSubjectAccessReview; fg_policy_request.review), rules() for
 *        SelfSubjectRulesReview, response_started() for audit,
 *        fg_policy_request.long_running and .impersonator.
 *        host.h: fg_host.tunnel, the [tunnel] section; client_ping
 *        (HTTP/2 keepalive with a deadline); an adopted client sends
 *        upgrades as extended CONNECT (RFC 8441). driver.h:
 *        fg_member_health.tunnels_live / tunnels_expected. util.h:
 *        fg_impersonate_headers, fg_secret_read.
 *   2.2  driver.h: fg_member_health.node_count / node_count_known and
 *        client_cert_not_after (the host's Cluster objects). util.h:
 *        fg_accept_find, fg_query_get, fg_human_duration.
 *   2.3  Service plugins (service.h): routes at the host's root, their
 *        API groups in the host's discovery, driver-shaped streams.
 *        host.h: member_call (a service calls a member as its user,
 *        through the policy chain from authorize on).
 *        util.h: fg_request_token (Basic credentials as a token).
 *        host.h: fg_client_config.connection_idle_timeout_ms (a dialled
 *        connection with no request is closed after it),
 *        fg_host.client_close_idle.
 *   2.4  host.h: fleet_members and fleet_version, the member list (names,
 *        labels, readiness) a service places objects by (federation);
 *        fg_client_config.max_connections (more HTTP/2 connections when
 *        the server's MAX_CONCURRENT_STREAMS is reached).
 */
#ifndef FEDGATE_PLUGIN_H
#define FEDGATE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FG_ABI_MAJOR 2
#define FG_ABI_MINOR 4

/** Name of the function every plugin `.so` exports (see fg_plugin_entry_fn). */
#define FG_PLUGIN_ENTRY_SYMBOL "fg_plugin_entry"

/** What a plugin is. */
enum fg_plugin_kind {
    FG_PLUGIN_DRIVER = 1,  /**< serves member clusters: ops are fg_driver_ops */
    FG_PLUGIN_POLICY = 2,  /**< authn / authz / admit / audit: fg_policy_ops */
    FG_PLUGIN_SERVICE = 3, /**< host-side API routes: fg_service_ops */
};

/* The build signature: what a plugin was compiled against beyond the ABI.
 * A plugin built against another libevent or OpenSSL major than the
 * gateway's would share their structs (event_base, SSL_CTX) with a core
 * that lays them out differently; the loader refuses it with a line that
 * names both versions, as nginx's module signature does. Computed from the
 * headers the plugin is compiled with: 0 means the plugin was built
 * without that library's headers (and so cannot touch its structs). */
#if defined(__has_include)
#if __has_include(<event2/event-config.h>)
#include <event2/event-config.h>
#define FG_SIGNATURE_LIBEVENT ((uint16_t)(EVENT__NUMERIC_VERSION >> 16))
#endif
#if __has_include(<openssl/opensslv.h>)
#include <openssl/opensslv.h>
#if defined(OPENSSL_VERSION_MAJOR)
#define FG_SIGNATURE_OPENSSL ((uint16_t)OPENSSL_VERSION_MAJOR)
#else
#define FG_SIGNATURE_OPENSSL ((uint16_t)(OPENSSL_VERSION_NUMBER >> 28))
#endif
#endif
#endif
#ifndef FG_SIGNATURE_LIBEVENT
#define FG_SIGNATURE_LIBEVENT ((uint16_t)0)
#endif
#ifndef FG_SIGNATURE_OPENSSL
#define FG_SIGNATURE_OPENSSL ((uint16_t)0)
#endif

#define FG_SIGNATURE_MAGIC 0x46475332u /* "FGS2" */

struct fg_build_signature {
    uint32_t magic;         /**< FG_SIGNATURE_MAGIC */
    uint16_t libevent;      /**< major << 8 | minor, e.g. 0x0201; 0: none */
    uint16_t openssl;       /**< major, e.g. 3; 0: none */
    uint16_t pointer_bytes; /**< sizeof(void *) */
    uint16_t reserved;      /**< 0 */
};

/** The signature of the code being compiled: put it in the descriptor. */
#define FG_BUILD_SIGNATURE                                                     \
    {                                                                          \
        FG_SIGNATURE_MAGIC, FG_SIGNATURE_LIBEVENT, FG_SIGNATURE_OPENSSL,       \
            (uint16_t)sizeof(void *), 0                                        \
    }

/** Type of a configuration value; the core checks it before a plugin sees it.
 */
enum fg_config_type {
    FG_CONFIG_STRING = 1,   /**< any non-empty text */
    FG_CONFIG_BOOL = 2,     /**< true/false, yes/no, on/off, 1/0 */
    FG_CONFIG_INT = 3,      /**< decimal integer within [min, max] */
    FG_CONFIG_PATH = 4,     /**< a file path; relative paths are resolved
                                 against the configuration directory */
    FG_CONFIG_DURATION = 5, /**< milliseconds; accepts 250ms, 10s, 5m, 1h */
    FG_CONFIG_FILE = 6,     /**< a PATH that must name a readable file when
                                 the configuration is checked (ABI 1.2) */
};

/** One configuration key a plugin accepts in its member (or plugin) section.
 * Arrays of keys end with an entry whose name is NULL. */
struct fg_config_key {
    const char *name;          /**< lower-case key name */
    enum fg_config_type type;  /**< how the core validates the value */
    const char *default_value; /**< NULL: no default */
    int required;              /**< nonzero: the section must set it */
    int64_t min, max;          /**< bounds for INT and DURATION (ms) */
    const char *help;          /**< one line of documentation */
};

/** What a plugin's entry function returns. All pointers stay valid for as
 * long as the plugin is loaded (static storage). */
struct fg_plugin_descriptor {
    uint16_t abi_major;   /**< FG_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /**< FG_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /**< sizeof(struct fg_plugin_descriptor) at build */
    enum fg_plugin_kind kind;
    const char *name;        /**< unique, [a-z0-9_-]+, what `driver =` names */
    const char *version;     /**< the plugin's own version, free text */
    const char *description; /**< one line */
    const struct fg_config_key *config_keys; /**< NULL-name terminated */
    const void *ops; /**< kind-specific table, e.g. fg_driver_ops */
    /** FG_BUILD_SIGNATURE (ABI 2.0): refused when missing or when it names
     * another libevent or OpenSSL major than the gateway's. */
    struct fg_build_signature signature;
};

/** The entry function. The core passes its own ABI version; a plugin may
 * return NULL to refuse a host it cannot work with. */
typedef const struct fg_plugin_descriptor *(*fg_plugin_entry_fn)(
    uint16_t host_abi_major, uint16_t host_abi_minor);

#if defined(__GNUC__)
#define FG_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define FG_PLUGIN_EXPORT
#endif

/** Declares the entry symbol returning DESC (a static descriptor). */
#define FG_PLUGIN_DECLARE(desc)                                                \
    FG_PLUGIN_EXPORT const struct fg_plugin_descriptor *fg_plugin_entry(       \
        uint16_t host_abi_major, uint16_t host_abi_minor);                     \
    const struct fg_plugin_descriptor *fg_plugin_entry(                        \
        uint16_t host_abi_major, uint16_t host_abi_minor)                      \
    {                                                                          \
        (void)host_abi_minor;                                                  \
        return host_abi_major == FG_ABI_MAJOR ? &(desc) : NULL;                \
    }

#ifdef __cplusplus
}
#endif
#endif
