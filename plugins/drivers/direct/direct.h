/* The direct driver's internal interface: the gateway calls a member's
 * kube-apiserver through the core's client (host.h), adding the member's
 * credentials and the impersonation of the caller. One instance per member
 * per worker loop. */
#ifndef FG_DIRECT_H
#define FG_DIRECT_H

#include <stddef.h>
#include <stdint.h>

#include <fedgate/fedgate.h>

/* Health probe period. */
#define DIRECT_PROBE_MS 10000
/* Largest OpenAPI v3 index rewritten (openapi.c); larger ones pass as is. */
#define DIRECT_OPENAPI_MAX_BODY (1024 * 1024)

/* ---- configuration (config.c) ------------------------------------------ */

struct direct_config {
    /* what the core's client takes; strings point into the section */
    struct fg_client_config client;
    char *token_file; /* NULL when a client certificate is used */
    int impersonate;
};

/* Reads the member section S into CFG; 0 or -1 with ERR. */
int direct_config_load(struct direct_config *cfg, const struct fg_section *s,
                       char *err, size_t err_len);
void direct_config_free(struct direct_config *cfg);

/* The Authorization value "Bearer TOKEN" from CFG's token_file into *OUT
 * (malloc'd; NULL without a token file). 0, or -1 with ERR. */
int direct_authorization_load(const struct direct_config *cfg, char **out,
                              char *err, size_t err_len);

/* ---- the headers direct adds (headers.c) ------------------------------- */

/* How many headers direct_extra_headers may write for ID, and how many
 * bytes of NAMES it needs for the Impersonate-Extra-* names. */
size_t direct_extra_max(const struct fg_identity *id);
size_t direct_extra_names_bytes(const struct fg_identity *id);
/* Writes the member's credentials (AUTHORIZATION, when set) and, with
 * IMPERSONATE, Impersonate-User/-Uid/-Group/-Extra-KEY for ID into OUT.
 * Values point into the arguments; the Extra names are written into NAMES
 * (direct_extra_names_bytes of them). Returns the number written. */
size_t direct_extra_headers(const char *authorization, int impersonate,
                            const struct fg_identity *id, struct fg_header *out,
                            char *names);

/* ---- the instance (plugin.c) ------------------------------------------- */

struct direct_health;

struct direct_instance {
    const struct fg_host *host;
    char name[128];
    struct direct_config cfg;
    char *authorization; /* "Bearer TOKEN", or NULL */
    struct fg_client *client;
    struct direct_health *health;
    int64_t cert_not_after; /* the client certificate's, 0 without one */
    size_t user_streams;    /* requests of clients in flight */
    uint64_t user_last_ms;  /* when the last of them closed (now_ms) */
};

/* The notAfter of the PEM certificate at PATH in seconds since the epoch,
 * or 0 when it cannot be read (cert_expiry.c). */
int64_t direct_cert_not_after(const char *path);

/* ---- health (health.c) ------------------------------------------------- */

struct direct_health *direct_health_new(struct direct_instance *in);
void direct_health_free(struct direct_health *h);
void direct_health_get(struct direct_health *h, struct fg_member_health *out);

/* ---- the OpenAPI v3 index (openapi.c) ---------------------------------- */

/* Whether HEAD asks for the OpenAPI v3 index under a prefix. */
int direct_openapi_wanted(const struct fg_request_head *head);
/* Whether the member's answer is one to rewrite: a 200 JSON document,
 * not compressed, not announced larger than DIRECT_OPENAPI_MAX_BODY. */
int direct_openapi_answer_ok(int status, const struct fg_header *h, size_t n);
/* Prefixes with BASE every "serverRelativeURL" value of BODY that starts
 * with "/openapi/". Returns 0 with a malloc'd, NUL-terminated *OUT, or -1
 * when BODY is not a document to edit (unterminated string, BASE not
 * plain) or memory ran out: relay BODY unchanged. */
int direct_openapi_rewrite(const char *body, size_t len, const char *base,
                           char **out, size_t *out_len);

/* An answer on its way to CB/CTX that is rewritten when it is the index:
 * the client answers to direct_rewrite_callbacks with the rewrite as
 * context, which holds the head until the body is whole. NULL when out of
 * memory. */
struct direct_rewrite;
struct direct_rewrite *direct_rewrite_new(const char *base,
                                          const struct fg_stream_callbacks *cb,
                                          void *ctx);
void direct_rewrite_free(struct direct_rewrite *rw);
extern const struct fg_stream_callbacks direct_rewrite_callbacks;

extern const struct fg_driver_ops direct_driver_ops;

#endif
