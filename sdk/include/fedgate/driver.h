/* The driver ABI: how the core hands a member's requests to the plugin that
 * connects to that member, and how the answer streams back.
 *
 * Lifecycle. The core makes instances from the member's validated section
 * (see "Instance scope"). For each request it opens a stream, feeds the
 * request body (write ... end), and the driver answers through the
 * callbacks: head once, data any number of times, then end or error once.
 * The core calls stream_close exactly once per opened stream, after end or
 * error, or earlier when the client went away (a cancel); after
 * stream_close the driver must not touch the callbacks again.
 *
 * The request contract. The head, its headers, its request info and its
 * identity live in the request's arena and stay valid, unchanged, until
 * stream_close returns: a driver reads them in place and copies nothing.
 * cb->alloc gives the driver memory from the same arena (freed with it).
 *
 * Threads and re-entry. Everything happens on one loop: the loop that owns
 * the instance. The driver may call any callback from inside any of its
 * ops (stream_open included). The core never calls a driver op from inside
 * a callback the driver is running: what the core would do then (resume a
 * paused stream, close it because the client is gone or the answer ended)
 * waits until the callback has returned, and runs from the loop. So a
 * driver needs no re-entry guards.
 *
 * Instance scope. FG_SCOPE_WORKER (the default): one instance per member
 * per worker thread, each serving the requests that arrive on its worker.
 * FG_SCOPE_ONE_LOOP: one instance per member, on one owner loop (the first
 * worker's); a request arriving on another worker is delivered to the owner
 * loop through a queue, and every callback goes back to the request's own
 * loop, so the driver sees one loop and its state is never split (the
 * mock's store, an agent's tunnel). The request's memory is then shared
 * across threads: the core keeps it alive until stream_close returned.
 *
 * Backpressure. data() and data_ref() return FG_PAUSE when the client side
 * has buffered more than its high-water mark: the driver stops producing
 * until the core calls stream_resume. Likewise the driver calls body_pause
 * when it cannot take more request body, and body_resume when it can
 * again.
 *
 * Upgrades. When head->upgrade is set (an HTTP/1.1 request asking to switch
 * to "websocket" or "SPDY/3.1"; nothing else is ever offered, never h2c),
 * the driver may answer head(101, ...) with the protocol's own headers
 * (e.g. sec-websocket-accept, sec-websocket-protocol; the core writes
 * connection and upgrade itself). From then on the stream is a raw byte
 * pipe: stream_write delivers the client's bytes, data() sends bytes to the
 * client, end() closes the client connection once written, and the client
 * closing its side closes the stream (stream_close). Client bytes that
 * arrive before the 101 are discarded, never delivered. Any other answer
 * is relayed as a normal response and the client connection is closed
 * after it, so nothing the client sends next reaches the driver.
 */
#ifndef FEDGATE_DRIVER_H
#define FEDGATE_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A header field. Not NUL-terminated in general: use the lengths. */
struct fg_header {
    const char *name; /**< lower-case */
    size_t name_len;
    const char *value;
    size_t value_len;
};

/** Whether the header name NAME (LEN bytes) is LIT, a lower-case name,
 * once ASCII case is folded and '_' is read as '-'; with PREFIX, whether
 * NAME starts with LIT so read. Protected names (Authorization,
 * Impersonate-*, hop-by-hop ...) are matched this way in every spelling: a
 * proxy between the gateway and a member that folds '_' into '-' would
 * otherwise honour "Impersonate_User". */
static inline int fg_header_name_folds_to(const char *name, size_t len,
                                          const char *lit, int prefix)
{
    size_t i = 0;
    for (; lit[i]; i++) {
        if (i == len)
            return 0;
        char c = name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == '_')
            c = '-';
        if (c != lit[i])
            return 0;
    }
    return prefix || i == len;
}

/** One extra attribute of an identity (kube-apiserver's user.Info extra):
 * a key and its values, sent to members as Impersonate-Extra-KEY. */
struct fg_identity_extra {
    const char *key;
    const char *const *values;
    size_t n_values;
};

/** The authenticated caller the request runs as. */
struct fg_identity {
    const char *user;
    const char *uid;           /**< may be NULL */
    const char *const *groups; /**< n_groups entries */
    size_t n_groups;
    const struct fg_identity_extra *extra; /**< n_extra entries */
    size_t n_extra;
};

/** What a Kubernetes API request asks for, read from its method, path and
 * query exactly as kube-apiserver's RequestInfoFactory reads them, once,
 * by the core. Every string is NUL-terminated, "" when absent. */
struct fg_request_info {
    int is_resource; /**< under /api/V/... or /apis/G/V/... */
    /** get, list, watch, create, update, patch, delete, deletecollection
     * (exec, attach, portforward and proxy count as Kubernetes counts them);
     * for non-resource paths the lower-case method. */
    const char *verb;
    const char *api_prefix; /**< "api" or "apis" ("" non-resource) */
    const char *api_group;  /**< "" for the core group */
    const char *api_version;
    const char *namespace_;
    const char *resource;
    const char *subresource;
    const char *name;
    const char *path; /**< the member's path (as fg_request_head.path) */
};

/** A request as the member is to see it. The core has already stripped the
 * `/clusters/NAME` prefix, normalised the path, and removed the client's
 * Authorization, Impersonate-*, X-Remote-* and hop-by-hop headers in any
 * spelling (fg_header_name_folds_to). */
struct fg_request_head {
    const char *method; /**< upper-case, e.g. "GET" */
    const char *path;   /**< normalised, percent-encoded, starts with '/' */
    const char *query;  /**< raw query without '?', NULL when absent */
    const struct fg_header *headers;
    size_t n_headers;
    const struct fg_identity *identity;
    const struct fg_request_info *info; /**< parsed once by the core */
    /** The gateway's id for this request (logs, audit, X-Request-Id). */
    const char *request_id;
    int64_t content_length; /**< -1 when unknown (chunked / h2 without it) */
    int http_version;       /**< client's protocol: 11 or 20 */
    /** "websocket" or "SPDY/3.1" when the client asks to switch protocols
     * (see "Upgrades" above), else NULL. */
    const char *upgrade;
    /** The prefix under which the client reached this member:
     * "/clusters/NAME", or "" when served unprefixed (member role). A
     * driver that writes absolute paths into answers prefixes them. */
    const char *base_path;
};

/** data() return value asking the driver to stop until stream_resume. */
#define FG_PAUSE 1

/** Frees a buffer handed over with data_ref(). */
typedef void (*fg_buffer_free_fn)(void *arg, const void *buf, size_t len);

/** How the driver answers. CTX is the core's per-request context. */
struct fg_stream_callbacks {
    /** Response status and headers (hop-by-hop ones are dropped by the
     * core). Returns 0, or negative when the client is gone. */
    int (*head)(void *ctx, int status, const struct fg_header *headers,
                size_t n_headers);
    /** Response body bytes; the core copies them. Returns 0, FG_PAUSE, or
     * negative when the client is gone. */
    int (*data)(void *ctx, const void *buf, size_t len);
    /** The response is complete. */
    void (*end)(void *ctx);
    /** The request failed. Before head(): the client receives a Kubernetes
     * Status with CODE, REASON (e.g. "ServiceUnavailable") and MESSAGE.
     * After head(): the client's stream is reset / connection closed. */
    void (*error)(void *ctx, int code, const char *reason, const char *message);
    /** The driver cannot take more request body for now / can again. */
    void (*body_pause)(void *ctx);
    void (*body_resume)(void *ctx);
    /** Response body bytes handed over without a copy: the core owns BUF
     * from this call on and calls FREE_FN(ARG, BUF, LEN) once, on the
     * instance's loop, when the bytes are written or dropped (on any return
     * value, and also when it returns negative). Returns as data(). */
    int (*data_ref)(void *ctx, const void *buf, size_t len,
                    fg_buffer_free_fn free_fn, void *arg);
    /** LEN bytes from the request's arena, aligned for any type, valid
     * until stream_close returns; NULL when out of memory. */
    void *(*alloc)(void *ctx, size_t len);
};

/** Where a driver's instances live (see "Instance scope"). */
enum fg_instance_scope {
    FG_SCOPE_WORKER = 0,   /**< one instance per member per worker */
    FG_SCOPE_ONE_LOOP = 1, /**< one instance per member, on one owner loop */
};

/** A member's health as its driver last saw it. The core zeroes it
 * before asking, so a driver built for an older ABI leaves the newer
 * fields 0. */
struct fg_member_health {
    int ready;            /**< 1 ready, 0 not ready */
    uint64_t rtt_us;      /**< last probe round trip, 0 if unknown */
    char version[64];     /**< member's Kubernetes gitVersion or "" */
    char last_error[256]; /**< "" when the last probe succeeded */
    /** ABI 2.1: for a driver that serves the member over several
     * connections the member dialled in (tunnels): how many are live now
     * and how many the configuration expects (0: not such a driver).
     * Shown as fedgate_member_tunnels{member} and
     * fedgate_member_tunnels_expected{member}. */
    uint32_t tunnels_live;
    uint32_t tunnels_expected;
    /** ABI 2.2: what the host's Cluster objects show when the driver
     * knows it cheaply: the member's node count (when NODE_COUNT_KNOWN),
     * and the notAfter of the client certificate the driver authenticates
     * with, in seconds since the epoch (0: none), which turns the
     * KubeConfigCertExpiresInSevenDays condition True a week before. */
    uint32_t node_count;
    uint32_t node_count_known;
    int64_t client_cert_not_after;
};

struct fg_driver_ops {
    uint32_t struct_size; /**< sizeof(struct fg_driver_ops) at build */
    enum fg_instance_scope scope;

    /** Makes the instance for member section S. On failure returns NULL
     * and writes a one-line reason to ERR (the core prefixes file:line). */
    void *(*instance_new)(const struct fg_host *host,
                          const struct fg_section *s, char *err,
                          size_t err_len);
    void (*instance_free)(void *instance);

    /** Opens a stream for HEAD. Returns NULL when the driver cannot take
     * it at all (the core answers 503); otherwise the stream. */
    void *(*stream_open)(void *instance, const struct fg_request_head *head,
                         const struct fg_stream_callbacks *cb, void *ctx);
    /** Request body bytes. Returns 0, or negative to fail the stream. */
    int (*stream_write)(void *stream, const void *buf, size_t len);
    /** The request body is complete (called even when there was none). */
    void (*stream_end)(void *stream);
    /** The client side has room again after data() said FG_PAUSE. */
    void (*stream_resume)(void *stream);
    /** The core is done with STREAM: free it, stop any work for it. */
    void (*stream_close)(void *stream);

    /** Fills OUT with the member's health. Optional (NULL: always ready).*/
    void (*health)(void *instance, struct fg_member_health *out);

    /** SIGHUP: re-read what the instance keeps in files (credentials).
     * Optional. Streams in flight keep what they started with. */
    void (*reload)(void *instance);
};

#ifdef __cplusplus
}
#endif
#endif
