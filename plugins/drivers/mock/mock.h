/* Internal interface between the files of the mock member driver: the kind
 * registry, the object store, the seed loader, the response builders and the
 * streaming producer. Not part of the SDK; only the mock's own files (and its
 * unit tests) include it. */
#ifndef FEDGATE_MOCK_H
#define FEDGATE_MOCK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include <fedgate/fedgate.h>

/* ---- kinds.c: the resource kinds the mock serves ---------------------- */

struct mock_kind {
    const char *group;    /* "" for the core group */
    const char *version;  /* "v1" */
    const char *resource; /* plural, as in URLs: "pods" */
    const char *singular; /* "pod" */
    const char *kind;     /* "Pod" */
    const char *list_kind;
    int namespaced;
    const char *short_names[3]; /* NULL-terminated */
    const char *categories[2];  /* NULL-terminated */
};

/* Number of kinds; kind indexes run 0 .. MOCK_N_KINDS - 1. */
#define MOCK_N_KINDS 11

const struct mock_kind *mock_kind_at(size_t i);
/* The kind with this group, version and resource (plural), or NULL. */
const struct mock_kind *mock_kind_by_resource(const char *group,
                                              const char *version,
                                              const char *resource);
/* The kind named by an object's apiVersion ("v1", "apps/v1") and kind. */
const struct mock_kind *mock_kind_by_kind(const char *api_version,
                                          const char *kind);
size_t mock_kind_index(const struct mock_kind *k);
/* "v1" or "apps/v1" into BUF. */
const char *mock_kind_api_version(const struct mock_kind *k, char *buf,
                                  size_t len);
/* "pods" or "deployments.apps": how kube-apiserver names a resource in
 * error messages. */
const char *mock_kind_qualified(const struct mock_kind *k, char *buf,
                                size_t len);
/* Verbs every kind supports, NULL-terminated. */
extern const char *const mock_verbs[];

/* ---- jsonutil.c: small helpers over cJSON and time -------------------- */

/* Deepest nesting of objects/arrays in DATA; stops counting past LIMIT + 1
 * so callers can refuse deep documents before handing them to cJSON. */
int mock_json_depth(const char *data, size_t len, int limit);
/* The value at a dotted PATH ("status.phase") or NULL. Keys with dots
 * cannot be reached; use mock_json_get_key for those. */
const cJSON *mock_json_path(const cJSON *obj, const char *path);
/* String at PATH or DEF. */
const char *mock_json_str(const cJSON *obj, const char *path, const char *def);
/* Integer at PATH or DEF. */
int64_t mock_json_int(const cJSON *obj, const char *path, int64_t def);
/* RFC 3339 "2024-01-02T03:04:05Z" (fraction and offset accepted) into
 * milliseconds since the epoch; -1 when malformed. */
int64_t mock_time_parse(const char *s);
/* MS since the epoch as "2024-01-02T03:04:05Z" into BUF (>= 21 bytes). */
void mock_time_format(int64_t ms, char *buf, size_t len);
/* kubectl's human duration of D milliseconds ("5m", "3d4h") into BUF. */
void mock_human_duration(int64_t d_ms, char *buf, size_t len);

/* ---- store.c: objects per kind, ordered by namespace/name ------------- */

struct mock_obj {
    char *ns; /* "" for cluster-scoped objects */
    char *name;
    uint64_t rv; /* resourceVersion of the last write */
    cJSON *json; /* the full object, owned */
};

struct mock_bucket {
    struct mock_obj **v; /* sorted by (ns, name) */
    size_t n, cap;
};

struct mock_store {
    struct mock_bucket buckets[MOCK_N_KINDS];
    uint64_t rv; /* global resourceVersion counter: the last one given */
};

struct mock_store *mock_store_new(void);
void mock_store_free(struct mock_store *s);
/* Inserts or replaces the object JSON of kind K at (NS, NAME), taking
 * ownership of JSON (freed on failure too). The object gets the next
 * resourceVersion, written into its metadata. Returns 0 or -1 (memory). */
int mock_store_put(struct mock_store *s, const struct mock_kind *k,
                   const char *ns, const char *name, cJSON *json);
struct mock_obj *mock_store_get(const struct mock_store *s,
                                const struct mock_kind *k, const char *ns,
                                const char *name);
/* Index of the first object of kind K whose key is > (NS, NAME), or >= when
 * INCLUSIVE: where a list resumes after the last key it sent. */
size_t mock_store_seek(const struct mock_store *s, const struct mock_kind *k,
                       const char *ns, const char *name, int inclusive);
const struct mock_bucket *mock_store_bucket(const struct mock_store *s,
                                            const struct mock_kind *k);

/* ---- seed.c: the seed file loader ------------------------------------- */

#define MOCK_SEED_MAX_DEPTH 64
#define MOCK_SEED_MAX_BYTES (512u << 20)

/* Loads a seed document into a new store. NAME is used in error messages
 * (the file path). NOW_MS stamps objects without creationTimestamp.
 * Returns NULL with a one-line reason in ERR. */
struct mock_store *mock_seed_load_mem(const char *data, size_t len,
                                      const char *name, int64_t now_ms,
                                      char *err, size_t err_len);
struct mock_store *mock_seed_load_file(const char *path, int64_t now_ms,
                                       char *err, size_t err_len);

/* ---- query.c: query string and Accept header -------------------------- */

/* Percent-decoded value of KEY in the raw query Q into BUF. Returns 1 when
 * present (BUF may be empty), 0 when absent, -1 when too long. */
int mock_query_get(const char *q, const char *key, char *buf, size_t len);
/* Go's strconv.ParseBool: 1 true, 0 false, -1 neither. */
int mock_parse_bool(const char *s);

enum mock_table_version {
    MOCK_TABLE_NONE = 0,
    MOCK_TABLE_V1 = 1,
    MOCK_TABLE_V1BETA1 = 2,
};
/* Which meta.k8s.io Table version, if any, the Accept header asks for. */
enum mock_table_version mock_accept_table(const char *accept);

/* ---- status.c: Kubernetes Status documents ---------------------------- */

/* A Status body (malloc'd) for a failure. NAME and K may be NULL; when
 * given they fill "details" the way kube-apiserver does. */
char *mock_status_json(int code, const char *reason, const char *message,
                       const char *name, const struct mock_kind *k);
/* The Status for an object that does not exist. */
char *mock_status_not_found(const struct mock_kind *k, const char *name);

/* ---- discovery.c: /version, /api, /apis ... --------------------------- */

/* Body (malloc'd) for a discovery PATH, or NULL when PATH is not one.
 * *FOUND is set to 1 when PATH is a discovery path. */
char *mock_discovery(const char *path, const char *git_version, int *found);

/* ---- table.c: meta.k8s.io Table output -------------------------------- */

enum mock_include {
    MOCK_INCLUDE_NONE = 0,
    MOCK_INCLUDE_METADATA = 1,
    MOCK_INCLUDE_OBJECT = 2,
};

/* The "columnDefinitions" array for kind K. */
cJSON *mock_table_columns(const struct mock_kind *k);
/* One Table row for OBJ (kind K) at NOW_MS. The row holds references into
 * OBJ: print it, then free it, before OBJ can change. */
cJSON *mock_table_row(const struct mock_kind *k, const cJSON *obj,
                      int64_t now_ms, enum mock_include inc,
                      enum mock_table_version tv);

/* ---- select.c: label and field selectors ------------------------------ */

struct mock_selector;
/* Parses a label (FIELD 0) or field (FIELD 1) selector. Returns 0, -1 on a
 * syntax error, -2 on memory failure. An empty text matches everything. */
int mock_selector_parse(const char *text, int field,
                        struct mock_selector **out);
/* 1 when OBJ matches S (a NULL S matches everything). */
int mock_selector_match(const struct mock_selector *s, const cJSON *obj);
void mock_selector_free(struct mock_selector *s);

/* ---- json_stream.c: lists and Tables produced chunk by chunk ---------- */

struct mock_list;

struct mock_list_opts {
    const struct mock_kind *kind;
    const char *ns;   /* NULL or "" : every namespace */
    const char *name; /* non-NULL: just this object (a Table of one) */
    enum mock_table_version table;
    enum mock_include include;
    int64_t now_ms;
    /* Owned by the list from mock_list_new on (freed even on failure). */
    struct mock_selector *labels, *fields;
};

/* A growable byte buffer. */
struct mock_buf {
    char *p;
    size_t len, cap;
};
int mock_buf_add(struct mock_buf *b, const char *s, size_t n);
int mock_buf_adds(struct mock_buf *b, const char *s);
void mock_buf_free(struct mock_buf *b);

/* A list document in production. It reads the store afresh at each fill and
 * remembers only the last key it sent, so writes between fills cannot leave
 * it pointing at freed objects. */
struct mock_list *mock_list_new(const struct mock_store *s,
                                const struct mock_list_opts *o);
void mock_list_free(struct mock_list *l);
/* Appends the next bytes of the document to OUT until it holds at least
 * WANT bytes or the document ends. Returns 1 while more remains, 0 when
 * the document is complete, -1 on memory failure. */
int mock_list_fill(struct mock_list *l, struct mock_buf *out, size_t want);

/* ---- watch.c: change events ------------------------------------------ */

enum mock_event {
    MOCK_EVENT_ADDED = 0,
    MOCK_EVENT_MODIFIED = 1,
    MOCK_EVENT_DELETED = 2,
};

struct mock_instance;
struct mock_watch_hub;

/* Records a change of kind K after the store made it: OBJ is the object as
 * stored (for DELETED: as it was, with the deletion's resourceVersion), RV
 * its resourceVersion. Every write path calls this exactly once per object
 * changed; watchers of the instance receive the event on the loop. */
void mock_watch_record(struct mock_instance *in, const struct mock_kind *k,
                       enum mock_event ev, const cJSON *obj, uint64_t rv);

/* ---- serve.c / plugin.c: the driver ----------------------------------- */

struct mock_instance {
    const struct fg_host *host;
    struct mock_store *store;
    struct mock_watch_hub *watch; /* watch.c: event log and watchers */
    char git_version[64];
    int64_t max_body;
};

extern const struct fg_driver_ops mock_driver_ops;

/* What serve.c decided to answer with. */
struct mock_answer {
    int status;
    const char *content_type;
    char *body; /* a complete body, or NULL */
    size_t body_len;
    struct mock_list *list; /* a streamed body, or NULL */
};

/* Decides the answer to a complete request. Returns 0 or -1 (memory). */
int mock_serve(struct mock_instance *in, const char *method, const char *path,
               const char *query, const char *accept, int body_too_large,
               struct mock_answer *a);

#endif
