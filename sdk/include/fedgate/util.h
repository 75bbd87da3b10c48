/* Helpers that the core and every plugin need alike, implemented once in
 * libfedgate-sdk.a (link it with `pkg-config --libs fedgate-sdk`): JSON
 * string quoting, Kubernetes Status bodies, the headers a proxy must never
 * pass on, base64 and percent-decoding, the impersonation headers sent for
 * a user, reading a small secret file (a token) and Kubernetes protobuf
 * bodies. Each helper lives in its own object file, so a plugin links only
 * what it calls (base64 needs libcrypto, protobuf libcjson). Nothing here
 * touches the host: any thread may call these. */
#ifndef FEDGATE_UTIL_H
#define FEDGATE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "driver.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- growing text ---------------------------------------------------- */

/** Text built by appending (a YAML or JSON document, a log line): BUF is
 * NUL-terminated after every append. An append that cannot grow it sets
 * OOM and every later one does nothing: check OOM once at the end (the
 * text is then incomplete) and free BUF either way. Zero-initialise. */
struct fg_buf {
    char *buf;
    size_t len, cap;
    int oom;
};

/** Room for N more bytes and a NUL after B->len (to write in place, then
 * add to B->len): 0, or -1 when B cannot grow (OOM is set). */
int fg_buf_reserve(struct fg_buf *b, size_t n);
/** Appends N bytes of S to B. */
void fg_buf_put(struct fg_buf *b, const void *s, size_t n);
/** Appends the string S to B. */
void fg_buf_puts(struct fg_buf *b, const char *s);

/* ---- JSON strings ---------------------------------------------------- */

/** Writes S (N bytes) as a JSON string literal, quotes included, into OUT:
 * '"', '\\' and control characters are escaped, bytes that are not UTF-8
 * become U+FFFD (JSON text is UTF-8). At most CAP bytes are written,
 * always NUL-terminated when CAP > 0; OUT may be NULL when CAP is 0. Returns
 * the literal's full length (without the NUL), as snprintf does. */
size_t fg_json_quote(char *out, size_t cap, const char *s, size_t n);

/** The deepest nesting of objects and arrays in the JSON text DATA (LEN
 * bytes), counted up to LIMIT + 1 only: a caller refuses deeper documents
 * before cJSON's recursive parser sees them (it overflows a thread's stack
 * near 1000 levels). */
int fg_json_depth(const char *data, size_t len, int limit);

/* ---- Kubernetes Status ----------------------------------------------- */

/** The Status reason kube-apiserver pairs with the HTTP status CODE
 * ("NotFound" for 404), or NULL when it sends none. */
const char *fg_status_reason(int code);

/** One entry of a Status's details.causes (a field error). */
struct fg_status_cause {
    const char *reason;  /**< "FieldValueInvalid" */
    const char *message; /**< "Invalid value: ..." */
    const char *field;   /**< "metadata.name" */
};

/** What a Status body says. Strings that are NULL or empty are left out,
 * as metav1.Status's omitempty tags leave them out. */
struct fg_status {
    int code;            /**< HTTP status; 0 leaves "code" out */
    const char *status;  /**< NULL: "Failure" */
    const char *message; /**< for people */
    const char *reason;  /**< NULL: fg_status_reason(code) */
    /** "details": the object concerned and what was wrong with it. */
    const char *name, *group, *kind, *uid;
    const struct fg_status_cause *causes;
    size_t n_causes;
    /** Non-zero: "details" is written even when empty ("details":{}), as
     * apimachinery's generic errors carry it. */
    int always_details;
    /** Non-zero: the body ends with "\n", as kube-apiserver's encoder
     * ends it. */
    int newline;
};

/** A malloc'd Status body, fields in the order kube-apiserver writes them:
 * {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 *  "message":..,"reason":..,"details":{..},"code":..}. *LEN (when LEN is
 * not NULL) gets its length. NULL when out of memory. */
char *fg_status_build(const struct fg_status *st, size_t *len);

/* ---- headers a proxy must not pass on --------------------------------- */

/** Whether NAME (LEN bytes) is a hop-by-hop header (RFC 9110 7.6.1:
 * Connection, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Trailer,
 * Upgrade), a proxy's own (Proxy-Authorization, Proxy-Authenticate), or
 * one the gateway answers or recomputes itself (HTTP2-Settings, Host,
 * Content-Length, Expect), in any spelling (fg_header_name_folds_to). */
int fg_header_is_hop_by_hop(const char *name, size_t len);

/** Whether NAME carries identity (Authorization, Impersonate-*,
 * X-Remote-*): only the gateway may speak for the user. */
int fg_header_is_identity(const char *name, size_t len);

/** Whether NAME is listed in one of the Connection headers of HEADERS (N
 * of them), both spellings folded: a hop-by-hop header by declaration. */
int fg_header_named_by_connection(const struct fg_header *headers, size_t n,
                                  const char *name, size_t len);

/** Whether header H of the block HEADERS (N of them) must not cross the
 * gateway, towards a member or back from one: any of the three above. */
int fg_header_is_protected(const struct fg_header *headers, size_t n,
                           const struct fg_header *h);

/* ---- base64 (RFC 4648) ----------------------------------------------- */

/** Encoding: the URL-safe alphabet ('-', '_'). Decoding: accept it. */
#define FG_BASE64_URL 1u
/** Encoding: no '=' padding. Decoding: padding is optional. */
#define FG_BASE64_NOPAD 2u
/** Decoding: accept both alphabets, even mixed (clients re-encode). */
#define FG_BASE64_ANY_ALPHABET 4u

/** Bytes OUT needs for fg_base64_encode of N bytes, the NUL included. */
#define FG_BASE64_ENCODED_SIZE(n) (((n) + 2) / 3 * 4 + 1)

/** Writes the base64 of IN (N bytes) and a NUL into OUT, which has room
 * for FG_BASE64_ENCODED_SIZE(N) bytes. Returns the text's length. */
size_t fg_base64_encode(char *out, const void *in, size_t n, unsigned flags);

/** The same, malloc'd; NULL when out of memory. */
char *fg_base64_encode_alloc(const void *in, size_t n, unsigned flags);

/** The most bytes that LEN characters of base64 decode to. */
#define FG_BASE64_DECODED_MAX(len) (((len) + 3) / 4 * 3)

/** Decodes IN (LEN characters) into OUT (room for CAP bytes). Returns the
 * decoded length, or -1 when IN is not base64 as FLAGS say (a character
 * outside the alphabet, '=' anywhere but at the end, a length no encoding
 * has) or when the bytes do not fit in CAP. No whitespace is accepted.
 * Bits after the last byte are ignored, as most decoders ignore them. */
long fg_base64_decode(void *out, size_t cap, const char *in, size_t len,
                      unsigned flags);

/* ---- percent-encoding (RFC 3986 2.1) ---------------------------------- */

/** The value of the hexadecimal digit C (either case), or -1. */
int fg_hex_digit(int c);

/** Decoding: '+' is a space, as in query strings (form encoding). */
#define FG_PCT_PLUS_SPACE 1u
/** Decodes IN (LEN bytes) into OUT, which receives the bytes and a NUL,
 * CAP bytes at most (the NUL counted; LEN + 1 always suffices). OUT may be
 * IN: decoding never grows. A '%' not followed by two hex digits is kept
 * as it is, as Go's readers of queries and names keep it; a caller with
 * stricter rules (core/request/target.c) applies its own. Returns the
 * decoded length, or -1 when the result does not fit. */
long fg_percent_decode(char *out, size_t cap, const char *in, size_t len,
                       unsigned flags);

/* ---- impersonation (kube-apiserver's Impersonate-* headers) ---------- */

/** How many headers fg_impersonate_headers may write for ID. */
size_t fg_impersonate_max(const struct fg_identity *id);
/** Bytes of NAMES fg_impersonate_headers needs for ID's Extra names. */
size_t fg_impersonate_names_bytes(const struct fg_identity *id);
/** Writes Impersonate-User/-Uid/-Group/-Extra-KEY for ID (none when ID or
 * its user is NULL) into OUT. Values point into ID; the Extra names,
 * lower-case with what cannot stand in a header name percent-encoded as
 * kube-apiserver decodes it, are written into NAMES. Returns the number
 * written. */
size_t fg_impersonate_headers(const struct fg_identity *id,
                              struct fg_header *out, char *names);

/* ---- bearer tokens ---------------------------------------------------- */

/** The token of a request's Authorization header, read as kube-apiserver's
 * bearer authenticator reads it: the scheme "Bearer" in any case, one
 * space, the token up to the next space. Returns 1 with *TOKEN (pointing
 * into the header) and *LEN; 0 when there is no Authorization header, it
 * is not a bearer or its token is empty; -1 when there are two or more
 * Authorization headers (in any spelling): an authenticator refuses that,
 * since another could judge the other one. */
int fg_bearer_token(const struct fg_header *headers, size_t n,
                    const char **token, size_t *len);

/** As fg_bearer_token, and also the scheme "Basic" (RFC 7617) in any
 * case: one space, then the standard base64 (padded) of "USER:PASSWORD",
 * whose PASSWORD is the token and USER is ignored. That is how Helm and
 * other repository clients send a token (`--username U --password
 * TOKEN`). The decoded credentials go into BUF (CAP bytes): *TOKEN points
 * into BUF for Basic, into the header for Bearer. Basic that is not
 * base64, does not fit in CAP, has no colon, holds a NUL or has an empty
 * password gives 0 (no token). */
int fg_request_token(const struct fg_header *headers, size_t n, char *buf,
                     size_t cap, const char **token, size_t *len);

/* ---- secret files ----------------------------------------------------- */

/** The largest secret file fg_secret_read takes. */
#define FG_SECRET_MAX 16384

/** Reads the small file PATH holding a secret (a bearer token): its text
 * without surrounding white space, malloc'd. NULL with ERR naming WHAT
 * ("token_file") and PATH when it cannot be read, is empty, larger than
 * FG_SECRET_MAX, or holds control characters (it goes into a header). */
char *fg_secret_read(const char *path, const char *what, char *err,
                     size_t err_len);

/* ---- JSON merge patch (RFC 7386; link libcjson) ----------------------- */

struct cJSON;

/** Sets KEY of OBJ to V (owned; replaced when there, matched case
 * sensitively). Returns 0; -1 (V freed) when V is NULL or memory ran out. */
int fg_json_set(struct cJSON *obj, const char *key, struct cJSON *v);

/** TARGET (owned, may be NULL) merged with PATCH; NULL on memory failure
 * (TARGET freed). The caller bounds PATCH's depth (fg_json_depth). */
struct cJSON *fg_json_merge_patch(struct cJSON *target,
                                  const struct cJSON *patch);

/** The value at a dotted PATH ("status.phase") of OBJ, or NULL. A key
 * with a dot in it is written with "\." ("metadata.labels.a\.io/b"). */
const struct cJSON *fg_json_path(const struct cJSON *obj, const char *path);

/* ---- label and field selectors (link libcjson) -------------------------- */

/** A parsed ?labelSelector= or ?fieldSelector=. Label terms: k=v, k==v,
 * k!=v, k, !k, k in (a,b), k notin (a,b); field terms: path=v, path==v,
 * path!=v over a dotted path of the object. */
struct fg_selector;

/** Parses a label (FIELD 0) or field (FIELD 1) selector. Returns 0, -1 on
 * a syntax error, -2 on memory failure. An empty text matches
 * everything. */
int fg_selector_parse(const char *text, int field, struct fg_selector **out);

/** 1 when OBJ matches S (a NULL S matches everything). */
int fg_selector_match(const struct fg_selector *s, const struct cJSON *obj);

/** V as a field selector compares it: a string as is, a bool as
 * true/false, a number as an integer written into BUF of LEN; "" for
 * anything else or NULL. */
const char *fg_json_text(const struct cJSON *v, char *buf, size_t len);

/** An object as a selector reads it, for holders that keep objects in
 * another form than a cJSON tree: LABEL gives the label KEY's value or
 * NULL when it has none; FIELD gives the value at the dotted PATH as text
 * ("" when absent; numbers written into BUF of LEN), or NULL when it
 * cannot be read (out of memory). */
struct fg_selector_subject {
    const char *(*label)(void *ctx, const char *key);
    const char *(*field)(void *ctx, const char *path, char *buf, size_t len);
    void *ctx;
};

/** 1 when O matches S (a NULL S matches everything), 0 when not, -1 when
 * O's FIELD failed. */
int fg_selector_match_subject(const struct fg_selector *s,
                              const struct fg_selector_subject *o);

void fg_selector_free(struct fg_selector *s);

/* ---- Kubernetes protobuf bodies ---------------------------------------- */

/* kubectl's typed commands (`create namespace`, `auth can-i`) send
 * application/vnd.kubernetes.protobuf: "k8s\0" and a runtime.Unknown whose
 * raw bytes are the object in k8s.io/api's generated.proto wire format.
 * The caller describes the messages it reads with schema tables; fields
 * the tables do not list are skipped, as any protobuf reader skips them.
 * The result is the JSON object encoding/json would have read (cJSON;
 * link libcjson). */
struct cJSON;

enum fg_pb_type {
    FG_PB_STRING,
    FG_PB_BYTES, /**< base64 in JSON */
    FG_PB_INT32,
    FG_PB_INT64,
    FG_PB_BOOL,
    FG_PB_MESSAGE,
    FG_PB_STRINGS,       /**< repeated string */
    FG_PB_MAP_STRING,    /**< map<string, string> */
    FG_PB_MAP_BYTES,     /**< map<string, bytes> */
    FG_PB_MAP_QUANTITY,  /**< map<string, resource.Quantity> */
    FG_PB_TIME,          /**< meta/v1 Time: RFC 3339 */
    FG_PB_INT_OR_STRING, /**< util/intstr IntOrString */
    FG_PB_QUANTITY,      /**< api/resource Quantity */
};

#define FG_PB_REPEATED 1u /**< repeated message: a JSON array */
#define FG_PB_KEEP 2u     /**< a pointer in Go: zero values are kept */
#define FG_PB_INLINE 4u   /**< an embedded struct JSON inlines */

struct fg_pb_message;
/** One field of a message: its number, JSON name and type. */
struct fg_pb_field {
    uint32_t number;
    const char *json;
    enum fg_pb_type type;
    unsigned flags;                      /**< FG_PB_REPEATED|KEEP|INLINE */
    const struct fg_pb_message *message; /**< for FG_PB_MESSAGE */
};
struct fg_pb_message {
    const struct fg_pb_field *fields;
    size_t n_fields;
};
/** A top-level kind the caller accepts ("v1", "Namespace"). */
struct fg_pb_kind {
    const char *api_version, *kind;
    const struct fg_pb_message *message;
};

/** Decodes the protobuf body DATA (LEN bytes) of one of KINDS into *OUT, a
 * new cJSON object with kind and apiVersion. Returns 0; -1 malformed (a
 * 400); -2 a kind or content encoding not in KINDS (a 415); -3 out of
 * memory. ERR says why. */
int fg_pb_decode(const void *data, size_t len, const struct fg_pb_kind *kinds,
                 size_t n_kinds, struct cJSON **out, char *err, size_t err_len);

/* ---- what kube-apiserver negotiates and prints ---------------------- */

/** Which of VERSIONS (NULL-terminated) the first media range of the LEN
 * bytes of an Accept value asks for as application/json;as=AS;g=G;v=V:
 * its index + 1, or 0 when no range names AS and G with one of them
 * (e.g. AS "Table", G "meta.k8s.io", VERSIONS {"v1", "v1beta1"}). */
int fg_accept_find(const char *accept, size_t len, const char *as,
                   const char *g, const char *const *versions);

/** The percent-decoded value of KEY in the raw query Q into BUF. Returns
 * 1 when present (BUF may be empty), 0 when absent, -1 when too long. */
int fg_query_get(const char *q, const char *key, char *buf, size_t len);

/** kubectl's human duration of D_MS milliseconds ("5m", "3d4h") into BUF,
 * as apimachinery's duration.HumanDuration writes AGE. */
void fg_human_duration(int64_t d_ms, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
